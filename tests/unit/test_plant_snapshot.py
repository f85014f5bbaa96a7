"""Plant snapshots: frozen, picklable values that restore a plant to continue exactly as it would
have; what the timeline changes (device settings, faults, weak cells) is part of them; and each
device's discrete state shows its latches."""

import dataclasses
import enum
import math
import pickle
from collections.abc import Callable

import pytest

from smartbms.core import constants as c
from smartbms.core.fuses import FuseType
from smartbms.core.signals import ALL_OPEN, Inputs, Level, Outputs
from smartbms.plant.battery import BatteryOptions, LithiumBattery
from smartbms.plant.devices import (
    Alarm,
    BatteryProtect,
    Charger,
    Connection,
    Control,
    CyrixLiCharge,
    CyrixLiLoad,
    DcLoad,
    Device,
    DeviceContext,
    Inverter,
    InverterCharger,
    ResidualLoad,
    SolarCharger,
)
from smartbms.plant.params import battery_model
from smartbms.plant.system import OperatingPoint, SystemState, TwelveVoltSystem
from smartbms.plant.vehicle import Alternator, StarterBattery

H, F = Level.HIGH, Level.FLOATING
RUNNING = dataclasses.replace(
    ALL_OPEN,
    ab_enabled=True,
    ab_fuse_drop_setpoint_v=c.FUSE_SENSE_REF_V,
    system_plus_charge_allowed=True,
    system_plus_discharge_allowed=True,
    load_disconnect=H,
    charge_disconnect=H,
    prealarm=H,
    system_on=True,
    bms_active=True,
    supply_current_a=c.SUPPLY_ON_A,
)
"""A BMS with everything allowed and the pre-alarm sounding (so the alarm draws too)."""
DT_S = 7.0


def every_device() -> list[Device]:
    """One device of each type, wired so that each one acts."""
    return [
        DcLoad(name="fridge", power_w=45.0),
        Inverter(name="inverter", connection=Connection.BANK, ac_load_w=300.0),
        InverterCharger(name="multiplus", charge_current_a=40.0),
        Charger(name="charger", connection=Connection.BANK, control=Control.CHARGE_DISCONNECT),
        SolarCharger(name="mppt", pv_peak_w=220.0),
        BatteryProtect(name="bp", load_w=60.0),
        CyrixLiLoad(name="cyrix-load", load_w=30.0),
        CyrixLiCharge(name="cyrix-charge", charge_current_a=20.0, source="always"),
        ResidualLoad(name="residual"),
        Alarm(name="buzzer"),
    ]


def build() -> TwelveVoltSystem:
    """Two batteries, an alternator with its starter battery and every device type."""
    model = battery_model("LFP-Smart 12.8/200")
    system = TwelveVoltSystem(
        batteries=[
            LithiumBattery(model, BatteryOptions(soc_pct=60.0)),
            LithiumBattery(model, BatteryOptions(soc_pct=55.0, temperature_c=15.0)),
        ],
        devices=every_device(),
        installed_fuse=FuseType.MEGA_100A,
        alternator=Alternator(rated_current_a=150.0, running=True),
        starter=StarterBattery(soc_pct=80.0),
    )
    system.surroundings.shore_power = True
    system.surroundings.solar_fraction = 0.6
    return system


def go_on(
    system: TwelveVoltSystem, t_s: float, steps: int, out: Outputs = RUNNING
) -> list[tuple[OperatingPoint, Inputs, tuple[object, ...]]]:
    """Advance in fixed steps; every operating point, BMS input and discrete state on the way."""
    seen = []
    for _ in range(steps):
        op = system.solve(t_s, out)
        seen.append((op, system.measure(op, out), system.discrete_state(t_s, op, out)))
        system.advance(t_s, DT_S, op, out)
        t_s += DT_S
    return seen


def assert_frozen_value(value: object, where: str = "state") -> None:
    """Only plain values, enums, tuples and frozen dataclasses of them: no live object."""
    if value is None or isinstance(value, bool | int | float | str | enum.Enum):
        return
    if isinstance(value, tuple):
        for index, item in enumerate(value):
            assert_frozen_value(item, f"{where}[{index}]")
        return
    assert dataclasses.is_dataclass(value), f"{where}: {type(value).__name__} is not a value"
    assert not isinstance(value, type)
    assert type(value).__dataclass_params__.frozen, f"{where}: {type(value).__name__} is mutable"  # type: ignore[attr-defined]
    for field in dataclasses.fields(value):
        assert_frozen_value(getattr(value, field.name), f"{where}.{field.name}")


def test_a_snapshot_is_a_frozen_value_without_references_to_the_plant() -> None:
    system = build()
    go_on(system, 0.0, 5)
    state = system.snapshot()
    assert isinstance(state, SystemState)
    assert_frozen_value(state)
    hash(state)  # frozen all the way down


def test_a_pickled_snapshot_restores_a_plant_that_continues_identically() -> None:
    system = build()
    go_on(system, 0.0, 20)
    state = system.snapshot()
    copied = pickle.loads(pickle.dumps(state))  # noqa: S301 - bytes it just made
    assert copied == state
    expected = go_on(system, 20 * DT_S, 30)
    assert system.snapshot() != state  # the plant moved on

    system.restore(copied)
    assert system.snapshot() == state
    assert go_on(system, 20 * DT_S, 30) == expected

    fresh = build()  # a plant built alike takes the snapshot too: it refers to nothing
    fresh.restore(copied)
    assert go_on(fresh, 20 * DT_S, 30) == expected


def test_timeline_commands_and_faults_are_part_of_the_snapshot() -> None:
    system = build()
    go_on(system, 0.0, 10)
    before = system.snapshot()
    # what a timeline applies: a device setting, a weak cell, a resistive cell, a loose
    # connection, faults, the engine's mode, the remote switch, the world
    fridge, bp = system.devices[0], system.devices[5]
    assert isinstance(fridge, DcLoad)
    fridge.set(power_w=400.0)
    bp.set(on=False)
    cell = system.batteries[0].cells[2]
    cell.charge_ah *= 0.5
    cell.capacity_ah *= 0.5
    system.batteries[1].cells[0].r0_ohm *= 4.0
    battery = system.batteries[1]
    battery.options = dataclasses.replace(battery.options, connection_resistance_ohm=0.01)
    system.faults.bms_extra_c = 15.0
    system.faults.system_plus_short_ohm = 5.0
    system.faults.calibration_lost = True
    assert system.alternator is not None
    system.alternator.smart_mode = True
    system.remote.closed = False
    system.surroundings.shore_power = False
    after = system.snapshot()
    expected = go_on(system, 10 * DT_S, 20)

    system.restore(before)  # takes every command back
    assert system.snapshot() == before
    assert (fridge.power_w, bp.on) == (45.0, True)
    assert cell.capacity_ah == before.batteries[0].cells[2].capacity_ah
    assert system.batteries[1].cells[0].r0_ohm == before.batteries[1].cells[0].r0_ohm
    assert system.batteries[1].options.connection_resistance_ohm == 0.0
    faults = system.faults
    assert (faults.bms_extra_c, faults.system_plus_short_ohm) == (0.0, None)
    world = (system.alternator.smart_mode, system.remote.closed, system.surroundings.shore_power)
    assert world == (False, True, True)
    assert go_on(system, 10 * DT_S, 20) != expected

    system.restore(after)
    assert go_on(system, 10 * DT_S, 20) == expected


# --- each device's latches ------------------------------------------------------------------


def ctx(
    *,
    ld: Level = H,
    cd: Level = H,
    shore: bool = False,
    sun: float = 0.0,
    now_s: float = 0.0,
) -> DeviceContext:
    return DeviceContext(
        now_s=now_s,
        shore_power=shore,
        solar_fraction=sun,
        ambient_c=20.0,
        load_disconnect=ld,
        charge_disconnect=cd,
        prealarm=F,
    )


def switched_off(device: Device) -> None:
    device.set(on=False)


def inverter_low_battery(device: Device) -> None:
    device.advance(ctx(), 9.0, 1.0)  # below Victron's 9.3 V shutdown
    assert isinstance(device, Inverter)
    assert device.low_battery


def absorbing(context: DeviceContext, volts: float = 14.3) -> Callable[[Device], None]:
    def act(device: Device) -> None:
        assert device.stage == "bulk"
        device.advance(context, volts, 1.0)
        assert device.stage == "absorption"

    return act


def protect_remote_off(device: Device) -> None:
    device.advance(ctx(ld=F), 13.0, 1.0)
    assert isinstance(device, BatteryProtect)
    assert not device.engaged


def protect_under_voltage(device: Device) -> None:
    assert isinstance(device, BatteryProtect)
    device.advance(ctx(), 10.0, 1.0)  # the 12 s start: a timer running is a latch too
    timing = device.discrete_state()
    device.advance(ctx(now_s=1.0), 10.0, 101.0)
    assert device.error_code == "E3"
    assert device.discrete_state() != timing


def cyrix_engages(device: Device) -> None:
    assert isinstance(device, CyrixLiCharge)
    device.advance(ctx(shore=True), 13.0, 0.0)  # ready: the engage delay runs
    timing = device.discrete_state()
    device.advance(ctx(shore=True), 13.0, 3.0)
    assert device.engaged
    assert device.discrete_state() != timing


LATCHES: dict[str, tuple[Callable[[], Device], Callable[[Device], None]]] = {
    "dc-load": (lambda: DcLoad(power_w=10.0), switched_off),
    "residual-load": (ResidualLoad, switched_off),
    "alarm": (Alarm, switched_off),
    "cyrix-li-load": (CyrixLiLoad, switched_off),
    "inverter": (Inverter, inverter_low_battery),
    "inverter-charger": (InverterCharger, absorbing(ctx(shore=True))),
    "charger": (Charger, absorbing(ctx(shore=True))),
    # 7.5 A: above the MPPT's 1 A tail current, which would end absorption at once
    "solar-charger": (SolarCharger, absorbing(ctx(sun=1.0), 14.175)),
    "battery-protect remote": (BatteryProtect, protect_remote_off),
    "battery-protect E3": (BatteryProtect, protect_under_voltage),
    "cyrix-li-charge": (CyrixLiCharge, cyrix_engages),
}


@pytest.mark.parametrize("case", sorted(LATCHES))
def test_every_device_types_discrete_state_changes_with_its_latch(case: str) -> None:
    make, act = LATCHES[case]
    device = make()
    before, saved = device.discrete_state(), device.save_state()
    act(device)
    assert device.discrete_state() != before
    assert_frozen_value(device.save_state())
    device.load_state(saved)  # and its snapshot takes the latch back
    assert device.discrete_state() == before
    assert device.save_state() == saved


@pytest.mark.parametrize(
    ("make", "context", "volts"),
    [
        (Inverter, ctx(), 9.0),
        (Charger, ctx(shore=True), 14.3),
        (lambda: BatteryProtect(engage_delay_s=0.0), ctx(ld=F), 13.0),
        (CyrixLiCharge, ctx(shore=True), 13.0),
    ],
)
def test_pending_state_shows_the_step_to_come_and_leaves_the_device_alone(
    make: Callable[[], Device], context: DeviceContext, volts: float
) -> None:
    device = make()
    saved = device.save_state()
    pending = device.pending_state(context, volts)
    assert pending != device.discrete_state()
    assert device.save_state() == saved
    device.advance(context, volts, 0.0)
    assert device.discrete_state() == pending


def test_stage_is_the_charge_stage_of_a_charger_and_none_for_the_others() -> None:
    for device in every_device():
        if isinstance(device, InverterCharger | Charger | SolarCharger | CyrixLiCharge):
            assert device.stage == "bulk"
        else:
            assert device.stage is None
    charger = Charger(absorption_time_h=0.0)
    charger.advance(ctx(shore=True), 14.3, 1.0)
    assert charger.stage == "float"


def test_hold_timers_keep_the_battery_protects_deadlines_exact() -> None:
    bp = BatteryProtect()
    bp.advance(ctx(now_s=100.0), 10.0, 0.25)
    assert bp.next_change_s(ctx(now_s=100.25)) == 100.0 + 12.0
    bp.advance(ctx(now_s=100.25), 10.0, 11.75)
    assert bp.alarm
    assert bp.next_change_s(ctx(now_s=112.0)) == 100.0 + 12.0 + 90.0
    bp.advance(ctx(now_s=112.0), 10.0, 90.0 - 2e-9)  # short of it by more than the slack
    assert not bp.under_voltage
    bp.advance(ctx(now_s=202.0 - 2e-9), 10.0, 2e-9)
    assert bp.error_code == "E3"
    assert bp.next_change_s(ctx(now_s=202.0)) == math.inf  # its timer stopped when it fired


def test_a_snapshot_fits_only_a_system_built_alike() -> None:
    state = build().snapshot()
    model = battery_model("LFP-Smart 12.8/200")
    other = TwelveVoltSystem(
        batteries=[
            LithiumBattery(model, BatteryOptions()),
            LithiumBattery(model, BatteryOptions()),
        ],
        devices=every_device(),
        installed_fuse=FuseType.MEGA_100A,
    )
    with pytest.raises(ValueError, match="built otherwise"):
        other.restore(state)
