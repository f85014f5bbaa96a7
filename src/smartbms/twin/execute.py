"""Carrying out a command: what it changes in the plant and the BMS, and the event it logs.

The only place where a command touches the plant's objects. Every command is checked against
the installation before anything changes (a device that does not exist, a battery beyond the
bank), so a refused command leaves the twin exactly as it was.
"""

import dataclasses
from collections.abc import Callable
from typing import Any

from smartbms.core.controller import Controller
from smartbms.core.events import Event
from smartbms.core.settings import PairingError, SettingsError
from smartbms.plant.battery import CELLS_IN_SERIES
from smartbms.plant.events import FaultInjected, TimelineApplied
from smartbms.plant.system import TwelveVoltSystem
from smartbms.twin import commands as cmd


@dataclasses.dataclass(slots=True)
class World:
    """What commands set beyond the plant: weather overrides and the ends they scheduled."""

    ambient_c: float | None = None
    """The mean ambient temperature a command set (None: the scenario's)."""
    clear_sky: float | None = None
    """The clear-sky fraction a command set (None: the scenario's)."""
    pending_ends: list[tuple[float, str]] = dataclasses.field(default_factory=list)
    """(time, what) of things a command started that end by themselves (a crank, a short)."""
    built_connection_ohm: tuple[float, ...] = ()
    """Each battery's connection resistance as installed (what clearing a loose one restores)."""


@dataclasses.dataclass(frozen=True, slots=True)
class Target:
    """What a command acts on."""

    system: TwelveVoltSystem
    controller: Controller
    world: World


def execute(command: cmd.Command, target: Target, t: float) -> list[Event]:
    """Carry out `command` at `t`; the events it caused, its own log entry last."""
    handler = _HANDLERS.get(type(command))
    if handler is None:
        msg = f"the twin does not know the command {type(command).__name__}"
        raise cmd.CommandError(msg)
    events: list[Event] = []
    detail = handler(command, target, t, events)
    if command.FAULT:
        events.append(FaultInjected(t, command.TYPE, detail))
    else:
        events.append(TimelineApplied(t, command.TYPE, detail))
    return events


def check(command: cmd.Command, target: Target) -> None:
    """Refuse (`CommandError`, or `PairingError` for a wrong PIN) what `execute` could not do.

    Called before anything moves, so a refused command leaves the twin exactly as it was.
    """
    if type(command) not in _HANDLERS:
        msg = f"the twin does not know the command {type(command).__name__}"
        raise cmd.CommandError(msg)
    checker = _CHECKS.get(type(command))
    if checker is not None:
        checker(command, target)


def _check_device(command: cmd.SetDevice, target: Target) -> None:
    devices = [d for d in target.system.devices if d.name == command.device]
    if not devices:
        names = ", ".join(d.name for d in target.system.devices) or "none"
        msg = f"set: no device named {command.device!r}; devices: {names}"
        raise cmd.CommandError(msg)
    changes = command.changes()
    for device in devices:
        unknown = sorted(changes.keys() - device.SETTABLE.keys())
        if unknown:
            allowed = ", ".join(sorted(device.SETTABLE))
            msg = f"set: {device.name} has no {', '.join(unknown)}; allowed: {allowed}"
            raise cmd.CommandError(msg)


def _check_settings(changes: dict[str, object], pin: str | None, target: Target) -> None:
    controller = target.controller
    if pin is not None and not controller.check_pin(pin):
        msg = "wrong PIN: pair with the device's PIN before changing settings"
        raise PairingError(msg)
    try:
        controller.settings.changed(**changes)
    except SettingsError as error:
        raise cmd.CommandError(str(error)) from None


def _check_change_settings(command: cmd.ChangeSettings, target: Target) -> None:
    if any(name == "pin" for name, _ in command.values):
        msg = "setting: the PIN is changed with the 'pin' command (it needs the old PIN)"
        raise cmd.CommandError(msg)
    _check_settings(dict(command.values), command.pin, target)


def _check_battery(command: cmd.Command, target: Target) -> None:
    number = getattr(command, "battery", None)
    if number is not None:
        _battery(target, command.TYPE, number)


def _check_pin_change(command: cmd.ChangePin, target: Target) -> None:
    _check_settings({"pin": command.new_pin}, command.old_pin, target)


def _check_reset(command: cmd.FactoryReset, target: Target) -> None:
    if command.pin is not None and not target.controller.check_pin(command.pin):
        msg = "wrong PIN: pair with the device's PIN before a factory reset"
        raise PairingError(msg)


def end_of(what: str, target: Target, t: float) -> list[Event]:
    """Something a command started ends by itself now (a short is gone; a crank just ends)."""
    if what == "short":
        target.system.faults.system_plus_short_ohm = None
        return [FaultInjected(t, "system-plus-short", "the short is gone")]
    return []  # a crank ends by itself (StarterBattery.load_a); nothing to undo


Handler = Callable[[Any, Target, float, list[Event]], str]


def _engine_start(command: cmd.EngineStart, target: Target, t: float, _: list[Event]) -> str:
    system = target.system
    if system.alternator is not None:
        system.alternator.running = True
    if command.crank and system.starter is not None:
        system.starter.crank_until_s = t + system.starter.crank_duration_s
        target.world.pending_ends.append((system.starter.crank_until_s, "crank"))
        return "cranking"
    return ""


def _engine_stop(_command: cmd.EngineStop, target: Target, _t: float, _: list[Event]) -> str:
    if target.system.alternator is not None:
        target.system.alternator.running = False
    return ""


def _alternator_mode(command: cmd.AlternatorMode, target: Target, _t: float, _: list[Event]) -> str:
    if target.system.alternator is not None:
        target.system.alternator.smart_mode = command.mode == "smart"
    return command.mode


def _shore_power(command: cmd.ShorePower, target: Target, _t: float, _: list[Event]) -> str:
    target.system.surroundings.shore_power = command.on
    return "on" if command.on else "off"


def _set_device(command: cmd.SetDevice, target: Target, _t: float, _: list[Event]) -> str:
    changes = command.changes()
    for device in target.system.devices:
        if device.name == command.device:
            device.set(**changes)
    return f"{command.device}: " + ", ".join(f"{k}={v}" for k, v in changes.items())


def _remote(command: cmd.RemoteSwitch, target: Target, _t: float, _: list[Event]) -> str:
    target.system.remote.closed = command.closed
    return "closed" if command.closed else "open"


def _settings(
    changes: dict[str, object], pin: str | None, target: Target, t: float, events: list[Event]
) -> None:
    controller = target.controller
    pin = controller.settings.pin if pin is None else pin
    events.extend(controller.change_settings(changes, pin=pin, now_s=t))


def _soft_switch(command: cmd.SoftSwitch, target: Target, t: float, events: list[Event]) -> str:
    _settings({"soft_switch_on": command.on}, None, target, t, events)
    return "on" if command.on else "off"


def _change_settings(
    command: cmd.ChangeSettings, target: Target, t: float, events: list[Event]
) -> str:
    _settings(dict(command.values), command.pin, target, t, events)
    return ", ".join(f"{name}={value}" for name, value in command.values)


def _change_pin(command: cmd.ChangePin, target: Target, t: float, events: list[Event]) -> str:
    _settings({"pin": command.new_pin}, command.old_pin, target, t, events)
    return "changed"


def _factory_reset(command: cmd.FactoryReset, target: Target, t: float, events: list[Event]) -> str:
    controller = target.controller
    pin = controller.settings.pin if command.pin is None else command.pin
    events.extend(controller.factory_reset(pin=pin, now_s=t))
    return ""


def _bms_power(command: cmd.BmsPower, target: Target, _t: float, _: list[Event]) -> str:
    target.system.faults.bms_power_off = not command.on
    return "on" if command.on else "off"


def _app_connection(command: cmd.AppConnection, target: Target, _t: float, _: list[Event]) -> str:
    target.system.app_connected = command.connected
    return "connected" if command.connected else "disconnected"


def _ambient(command: cmd.Ambient, target: Target, _t: float, _: list[Event]) -> str:
    target.world.ambient_c = command.ambient_c
    return f"{command.ambient_c:g} °C"


def _solar(command: cmd.Solar, target: Target, _t: float, _: list[Event]) -> str:
    target.world.clear_sky = command.clear_sky_fraction
    return f"clear sky {command.clear_sky_fraction:g}"


def _note(command: cmd.Note, _target: Target, _t: float, _: list[Event]) -> str:
    return command.text


# --- faults --------------------------------------------------------------------------------------


def _battery(target: Target, command: str, number: int) -> Any:
    batteries = target.system.batteries
    if number > len(batteries):
        msg = f"{command}: battery {number} does not exist; the bank has {len(batteries)}"
        raise cmd.CommandError(msg)
    return batteries[number - 1]


def _weak_cell(command: cmd.WeakCell, target: Target, _t: float, _: list[Event]) -> str:
    cell = _battery(target, command.TYPE, command.battery).cells[command.cell - 1]
    cell.charge_ah *= command.capacity_factor
    cell.capacity_ah *= command.capacity_factor
    return f"battery {command.battery} cell {command.cell} at {command.capacity_factor:.0%}"


def _cell_resistance(command: cmd.CellResistance, target: Target, _t: float, _: list[Event]) -> str:
    _battery(target, command.TYPE, command.battery).cells[command.cell - 1].r0_ohm *= command.factor
    return f"battery {command.battery} cell {command.cell} resistance x{command.factor:g}"


def _short(command: cmd.SystemPlusShort, target: Target, t: float, _: list[Event]) -> str:
    target.system.faults.system_plus_short_ohm = command.resistance_ohm
    target.world.pending_ends.append((t + command.duration_s, "short"))
    return f"{command.resistance_ohm * 1000:g} mOhm for {command.duration_s:g} s"


def _loose(command: cmd.LooseConnection, target: Target, _t: float, _: list[Event]) -> str:
    battery = _battery(target, command.TYPE, command.battery)
    battery.options = dataclasses.replace(
        battery.options, connection_resistance_ohm=command.resistance_ohm
    )
    return f"battery {command.battery}: {command.resistance_ohm * 1000:g} mOhm"


def _heat(command: cmd.Heat, target: Target, _t: float, _: list[Event]) -> str:
    target.system.faults.bms_extra_c = command.bms_extra_c
    return f"+{command.bms_extra_c:g} °C around the BMS"


def _prealarm_overload(
    command: cmd.PrealarmOutputOverload, target: Target, _t: float, _: list[Event]
) -> str:
    target.system.faults.prealarm_overload_a = command.current_a
    return f"{command.current_a:g} A"


def _flag_fault(name: str, value: bool) -> Handler:
    """A fault that sets one flag of the plant's `Faults`."""

    def handler(_command: cmd.Command, target: Target, _t: float, _: list[Event]) -> str:
        setattr(target.system.faults, name, value)
        return ""

    return handler


def _config_corrupted(
    _command: cmd.ConfigCorrupted, target: Target, _t: float, _: list[Event]
) -> str:
    target.controller.mark_config_corrupted()
    return ""


def _clear_fault(command: cmd.ClearFault, target: Target, _t: float, _: list[Event]) -> str:
    system = target.system
    faults = system.faults
    name = command.fault
    if name in _CLEARED_FLAGS:
        attribute, healthy = _CLEARED_FLAGS[name]
        setattr(faults, attribute, healthy)
    elif name == "system-plus-short":
        faults.system_plus_short_ohm = None
        target.world.pending_ends[:] = [e for e in target.world.pending_ends if e[1] != "short"]
    else:
        _repair_batteries(command, target)
    where = "" if command.battery is None else f" at battery {command.battery}"
    if command.cell is not None:
        where += f" cell {command.cell}"
    return f"{name} cleared{where}"


_CLEARED_FLAGS: dict[str, tuple[str, object]] = {
    "bms-cable-unplugged": ("chain_unplugged", False),
    "fuse-blown": ("fuse_blown", False),
    "calibration-lost": ("calibration_lost", False),
    "reference-failed": ("reference_failed", False),
    "remote-plug-removed": ("remote_plug_removed", False),
    "heat": ("bms_extra_c", 0.0),
    "prealarm-output-overload": ("prealarm_overload_a", 0.0),
}


def _repair_batteries(command: cmd.ClearFault, target: Target) -> None:
    """Weak cells, high-resistance cells and loose connections back to as built."""
    numbers = (
        range(1, len(target.system.batteries) + 1) if command.battery is None else [command.battery]
    )
    for number in numbers:
        battery = _battery(target, command.TYPE, number)
        if command.fault == "loose-connection":
            built = target.world.built_connection_ohm[number - 1]
            battery.options = dataclasses.replace(battery.options, connection_resistance_ohm=built)
            continue
        cells = range(CELLS_IN_SERIES) if command.cell is None else [command.cell - 1]
        for index in cells:
            cell = battery.cells[index]
            if command.fault == "weak-cell":
                built_ah = battery.model.capacity_ah * battery.options.cell_capacity_factors[index]
                cell.charge_ah *= built_ah / cell.capacity_ah  # a new cell at the same SoC
                cell.capacity_ah = built_ah
            else:
                factor = battery.options.cell_resistance_factors[index]
                cell.r0_ohm = battery.model.internal_resistance_ohm / CELLS_IN_SERIES * factor


_CHECKS: dict[type[cmd.Command], Callable[[Any, Target], None]] = {
    cmd.SetDevice: _check_device,
    cmd.ChangeSettings: _check_change_settings,
    cmd.SoftSwitch: lambda command, target: _check_settings(
        {"soft_switch_on": command.on}, None, target
    ),
    cmd.ChangePin: _check_pin_change,
    cmd.FactoryReset: _check_reset,
    cmd.WeakCell: _check_battery,
    cmd.CellResistance: _check_battery,
    cmd.LooseConnection: _check_battery,
    cmd.ClearFault: _check_battery,
}

_HANDLERS: dict[type[cmd.Command], Handler] = {
    cmd.EngineStart: _engine_start,
    cmd.EngineStop: _engine_stop,
    cmd.AlternatorMode: _alternator_mode,
    cmd.ShorePower: _shore_power,
    cmd.SetDevice: _set_device,
    cmd.RemoteSwitch: _remote,
    cmd.SoftSwitch: _soft_switch,
    cmd.ChangeSettings: _change_settings,
    cmd.ChangePin: _change_pin,
    cmd.FactoryReset: _factory_reset,
    cmd.BmsPower: _bms_power,
    cmd.AppConnection: _app_connection,
    cmd.Ambient: _ambient,
    cmd.Solar: _solar,
    cmd.Note: _note,
    cmd.BmsCableUnplugged: _flag_fault("chain_unplugged", True),
    cmd.BmsCablePlugged: _flag_fault("chain_unplugged", False),
    cmd.WeakCell: _weak_cell,
    cmd.CellResistance: _cell_resistance,
    cmd.SystemPlusShort: _short,
    cmd.FuseBlown: _flag_fault("fuse_blown", True),
    cmd.FuseReplaced: _flag_fault("fuse_blown", False),
    cmd.ConfigCorrupted: _config_corrupted,
    cmd.CalibrationLost: _flag_fault("calibration_lost", True),
    cmd.ReferenceFailed: _flag_fault("reference_failed", True),
    cmd.RemotePlugRemoved: _flag_fault("remote_plug_removed", True),
    cmd.RemotePlugInserted: _flag_fault("remote_plug_removed", False),
    cmd.LooseConnection: _loose,
    cmd.Heat: _heat,
    cmd.PrealarmOutputOverload: _prealarm_overload,
    cmd.ClearFault: _clear_fault,
}
