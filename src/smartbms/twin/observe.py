"""Reading the plant and the BMS into one frozen `TwinState` (the only way out of the twin).

Everything a state holds is copied out as plain values at the instant it is read, so the plant
can move on while a reader keeps the state.
"""

from smartbms.core.controller import Controller
from smartbms.core.signals import Outputs, Readings
from smartbms.plant.battery import CELLS_IN_SERIES, LithiumBattery
from smartbms.plant.devices import Connection
from smartbms.plant.system import OperatingPoint, TwelveVoltSystem
from smartbms.twin.execute import World
from smartbms.twin.state import (
    AlternatorState,
    BatteryState,
    DeviceState,
    EnergyState,
    FuseState,
    StarterState,
    TwinState,
)

_FAULT_FLAGS = (
    ("chain_unplugged", "bms-cable-unplugged"),
    ("fuse_blown", "fuse-blown"),
    ("calibration_lost", "calibration-lost"),
    ("reference_failed", "reference-failed"),
    ("remote_plug_removed", "remote-plug-removed"),
    ("bms_power_off", "bms-power-off"),
)


def twin_state(
    t: float,
    system: TwelveVoltSystem,
    controller: Controller,
    world: World,
    *,
    op: OperatingPoint,
    outputs: Outputs,
    readings: Readings,
) -> TwinState:
    """The twin at `t`, with the plant at operating point `op` and the BMS's last decision."""
    batteries = tuple(
        _battery(index + 1, battery, current)
        for index, (battery, current) in enumerate(
            zip(system.batteries, op.battery_currents_a, strict=True)
        )
    )
    capacities = [b.capacity_ah for b in batteries]
    bank_soc = sum(b.soc_pct * c for b, c in zip(batteries, capacities, strict=True)) / sum(
        capacities
    )
    devices = _devices(t, system, outputs, op)
    energy = system.energy
    return TwinState(
        t_s=t,
        outputs=outputs,
        readings=readings,
        settings=controller.settings,
        config_fault=controller.config_fault,
        bms_temperature_c=system.bms_thermal.temperature_c,
        bms_draw_a=op.bms_draw_a,
        bank_voltage_v=op.bank_voltage_v,
        bank_current_a=op.bank_current_a,
        bank_soc_pct=bank_soc,
        ab_voltage_v=op.ab_voltage_v,
        ab_current_a=op.ab_current_a,
        ab_limit_a=op.ab_limit_a,
        system_plus_voltage_v=op.system_plus_voltage_v,
        system_plus_current_a=op.system_plus_current_a,
        bank_devices_current_a=sum(d.current_a for d in devices if d.connection == "bank"),
        batteries=batteries,
        alternator=_alternator(system, op),
        starter=_starter(system, op),
        devices=devices,
        fuse=FuseState(
            installed=system.installed_fuse.value,
            setting=controller.settings.fuse_type.value,
            blown=system.faults.fuse_blown,
            limit_a=op.ab_limit_a,
        ),
        faults=_faults(system, controller, world),
        ambient_c=system.surroundings.ambient_c,
        solar_fraction=system.surroundings.solar_fraction,
        shore_power=system.surroundings.shore_power,
        energy=EnergyState(
            ab_in_wh=energy.ab_in_wh,
            system_plus_in_wh=energy.system_plus_in_wh,
            system_plus_out_wh=energy.system_plus_out_wh,
            bank_devices_in_wh=energy.bank_devices_in_wh,
            bank_devices_out_wh=energy.bank_devices_out_wh,
            bms_consumption_wh=energy.bms_consumption_wh,
            bms_heat_wh=energy.bms_heat_wh,
            batteries_in_wh=energy.batteries_in_wh,
            batteries_out_wh=energy.batteries_out_wh,
        ),
    )


def _battery(number: int, battery: LithiumBattery, current_a: float) -> BatteryState:
    return BatteryState(
        number=number,
        model=battery.model.name,
        capacity_ah=battery.model.capacity_ah,
        soc_pct=battery.soc_pct,
        current_a=current_a,
        cell_voltages_v=battery.cell_voltages_v(current_a),
        temperature_c=battery.temperature_c,
        allowed_to_charge=battery.allowed_to_charge,
        allowed_to_discharge=battery.allowed_to_discharge,
        prealarm=battery.prealarm_line,
        balancer=battery.balancer_status.value,
        damaged=battery.damaged,
        damaged_at_s=battery.damaged_at_s,
    )


def _alternator(system: TwelveVoltSystem, op: OperatingPoint) -> AlternatorState | None:
    alternator = system.alternator
    if alternator is None:
        return None
    return AlternatorState(
        running=alternator.running,
        smart_mode=alternator.smart_mode,
        set_point_v=alternator.set_point_v,
        current_a=op.alternator_current_a,
        rated_current_a=alternator.rated_current_a,
        at_max_total_s=alternator.at_max_total_s,
        at_max_since_s=alternator.at_max_since_s,
        overheat_risk_at_s=alternator.overheat_risk_at_s,
    )


def _starter(system: TwelveVoltSystem, op: OperatingPoint) -> StarterState | None:
    starter = system.starter
    if starter is None:
        return None
    return StarterState(
        soc_pct=starter.soc_pct,
        current_a=op.starter_current_a,
        lowest_voltage_v=starter.lowest_voltage_v,
    )


def _devices(
    t: float, system: TwelveVoltSystem, outputs: Outputs, op: OperatingPoint
) -> tuple[DeviceState, ...]:
    if not system.devices:
        return ()
    ctx = system.context(t, outputs, op.bank_voltage_v, look_only=True)
    return tuple(
        DeviceState(
            name=device.name,
            type=device.TYPE_NAME,
            connection="bank" if device.connection is Connection.BANK else "system+",
            on=device.is_on(ctx),
            current_a=current_a,
            stage=device.stage,
        )
        for device, current_a in zip(system.devices, op.device_currents_a, strict=True)
    )


def _faults(system: TwelveVoltSystem, controller: Controller, world: World) -> tuple[str, ...]:
    faults = system.faults
    present = [name for flag, name in _FAULT_FLAGS if getattr(faults, flag)]
    if faults.system_plus_short_ohm is not None:
        present.append("system-plus-short")
    if faults.bms_extra_c > 0.0:
        present.append("heat")
    if faults.prealarm_overload_a > 0.0:
        present.append("prealarm-output-overload")
    if controller.config_fault:
        present.append("config-corrupted")
    for index, battery in enumerate(system.batteries):
        options, model = battery.options, battery.model
        if options.connection_resistance_ohm > world.built_connection_ohm[index]:
            present.append("loose-connection")
        r0 = model.internal_resistance_ohm / CELLS_IN_SERIES
        for cell, cap_f, r_f in zip(
            battery.cells,
            options.cell_capacity_factors,
            options.cell_resistance_factors,
            strict=True,
        ):
            if cell.capacity_ah < model.capacity_ah * cap_f * (1.0 - 1e-12):
                present.append("weak-cell")
            if cell.r0_ohm > r0 * r_f * (1.0 + 1e-12):
                present.append("cell-resistance")
    return tuple(dict.fromkeys(present))
