"""Everything anyone can do to the twin, as frozen values: one vocabulary for all drivers.

A scenario's timeline compiles to these commands (`smartbms.twin.timeline`), the web app and
integrations build them from requests, and `Twin.apply` carries each one out at the twin's
present time. Each command's `TYPE` is its name on the wire: the scenario file's `action`
(and, for a fault, its `fault`), so `{"type": "engine-start"}` in the app's API means exactly
what `action = "engine-start"` means in a scenario.

Commands check what they can see alone (a finite, positive number where one is needed) when
they are made; what depends on the installation (is there a battery 3, a device "fridge"?) is
checked by `Twin.apply`, which raises `CommandError` and changes nothing.
"""

import dataclasses
import math
from typing import ClassVar, Literal

from smartbms.core.constants import MAX_BATTERIES
from smartbms.scenario.timeline import SHORT_MIN_OHM

CELLS_PER_BATTERY = 4


class CommandError(ValueError):
    """A command the twin cannot carry out (named, with what is allowed); nothing changed."""


def _finite(command: str, field: str, value: float, low: float, high: float) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        msg = f"{command}: {field} must be a number, not {value!r}"
        raise CommandError(msg)
    if not (math.isfinite(value) and low <= value <= high):
        msg = f"{command}: {field} must be between {low:g} and {high:g}, not {value!r}"
        raise CommandError(msg)


def _positive(command: str, field: str, value: float, high: float) -> None:
    _finite(command, field, value, 0.0, high)
    if value == 0.0:
        msg = f"{command}: {field} must be above 0"
        raise CommandError(msg)


def _flag(command: str, field: str, value: object) -> None:
    if type(value) is not bool:
        msg = f"{command}: {field} must be true or false, not {value!r}"
        raise CommandError(msg)


def _battery_cell(command: str, battery: int, cell: int | None) -> None:
    if type(battery) is not int or not 1 <= battery <= MAX_BATTERIES:
        msg = f"{command}: battery must be a whole number from 1 to {MAX_BATTERIES}"
        raise CommandError(msg)
    if cell is not None and (type(cell) is not int or not 1 <= cell <= CELLS_PER_BATTERY):
        msg = f"{command}: cell must be a whole number from 1 to {CELLS_PER_BATTERY}"
        raise CommandError(msg)


@dataclasses.dataclass(frozen=True, slots=True)
class Command:
    """Something done to the twin. `TYPE` names it as a scenario's `action` (or `fault`)."""

    TYPE: ClassVar[str]
    FAULT: ClassVar[bool] = False
    """An injected fault (PLT-12): logged as FaultInjected, not TimelineApplied."""


# --- the vehicle and the world -------------------------------------------------------------------


@dataclasses.dataclass(frozen=True, slots=True)
class EngineStart(Command):
    """Start the engine: crank from the starter battery (unless `crank` is off), then charge."""

    TYPE: ClassVar[str] = "engine-start"
    crank: bool = True

    def __post_init__(self) -> None:
        _flag(self.TYPE, "crank", self.crank)


@dataclasses.dataclass(frozen=True, slots=True)
class EngineStop(Command):
    """Stop the engine: the alternator stops."""

    TYPE: ClassVar[str] = "engine-stop"


@dataclasses.dataclass(frozen=True, slots=True)
class AlternatorMode(Command):
    """Switch a smart alternator between its normal (regulated) and its low ("smart") voltage."""

    TYPE: ClassVar[str] = "alternator-mode"
    mode: Literal["normal", "smart"]

    def __post_init__(self) -> None:
        if self.mode not in ("normal", "smart"):
            msg = f"{self.TYPE}: mode must be 'normal' or 'smart', not {self.mode!r}"
            raise CommandError(msg)


@dataclasses.dataclass(frozen=True, slots=True)
class ShorePower(Command):
    """Plug in (or pull) the shore power."""

    TYPE: ClassVar[str] = "shore-power"
    on: bool

    def __post_init__(self) -> None:
        _flag(self.TYPE, "on", self.on)


_DEVICE_FIELDS = ("power_w", "current_a", "ac_load_w", "load_w", "on")


@dataclasses.dataclass(frozen=True, slots=True)
class SetDevice(Command):
    """Change a device's load, or switch it: only the fields its type has (checked on apply)."""

    TYPE: ClassVar[str] = "set"
    device: str
    power_w: float | None = None
    current_a: float | None = None
    ac_load_w: float | None = None
    load_w: float | None = None
    on: bool | None = None

    def __post_init__(self) -> None:
        if not self.device:
            msg = f"{self.TYPE}: device must name a device of the installation"
            raise CommandError(msg)
        for name in _DEVICE_FIELDS[:-1]:
            value = getattr(self, name)
            if value is not None:
                _finite(self.TYPE, name, value, 0.0, 1e6)
        if self.on is not None:
            _flag(self.TYPE, "on", self.on)
        if not self.changes():
            msg = f"{self.TYPE}: give at least one of " + ", ".join(_DEVICE_FIELDS)
            raise CommandError(msg)

    def changes(self) -> dict[str, float | bool]:
        """The fields this command sets, by name, in a fixed order."""
        return {n: v for n in _DEVICE_FIELDS if (v := getattr(self, n)) is not None}


@dataclasses.dataclass(frozen=True, slots=True)
class Ambient(Command):
    """Change the mean ambient temperature (the daily swing stays)."""

    TYPE: ClassVar[str] = "ambient"
    ambient_c: float

    def __post_init__(self) -> None:
        _finite(self.TYPE, "ambient_c", self.ambient_c, -40.0, 60.0)


@dataclasses.dataclass(frozen=True, slots=True)
class Solar(Command):
    """Change the weather: the fraction of clear-sky sun that reaches the panels."""

    TYPE: ClassVar[str] = "solar"
    clear_sky_fraction: float

    def __post_init__(self) -> None:
        _finite(self.TYPE, "clear_sky_fraction", self.clear_sky_fraction, 0.0, 1.0)


@dataclasses.dataclass(frozen=True, slots=True)
class Note(Command):
    """A label in the event log; changes nothing."""

    TYPE: ClassVar[str] = "note"
    text: str

    def __post_init__(self) -> None:
        if not self.text:
            msg = f"{self.TYPE}: text must be a non-empty string"
            raise CommandError(msg)


# --- the BMS: what its user does -----------------------------------------------------------------


@dataclasses.dataclass(frozen=True, slots=True)
class RemoteSwitch(Command):
    """Open or close the switch on the remote on/off terminal (REM-1)."""

    TYPE: ClassVar[str] = "remote"
    closed: bool

    def __post_init__(self) -> None:
        _flag(self.TYPE, "closed", self.closed)


@dataclasses.dataclass(frozen=True, slots=True)
class SoftSwitch(Command):
    """The soft switch in the app (REM-3)."""

    TYPE: ClassVar[str] = "soft-switch"
    on: bool

    def __post_init__(self) -> None:
        _flag(self.TYPE, "on", self.on)


@dataclasses.dataclass(frozen=True, slots=True)
class ChangeSettings(Command):
    """Change BMS settings, all or nothing, validated by core `Settings` (CFG-1, CFG-2).

    `values` are (setting name, plain value) pairs as in a scenario's `[bms]` section. `pin` is
    the paired session's PIN; None means the twin's operator (a scenario, a test), who needs none.
    """

    TYPE: ClassVar[str] = "setting"
    values: tuple[tuple[str, str | float | bool], ...]
    pin: str | None = None

    def __post_init__(self) -> None:
        if not self.values:
            msg = f"{self.TYPE}: give at least one setting"
            raise CommandError(msg)


@dataclasses.dataclass(frozen=True, slots=True)
class ChangePin(Command):
    """Set a new 6-digit pairing PIN (CFG-5); `old_pin` None: the operator, who needs none."""

    TYPE: ClassVar[str] = "pin"
    new_pin: str
    old_pin: str | None = None


@dataclasses.dataclass(frozen=True, slots=True)
class FactoryReset(Command):
    """Reset every setting to the factory's (CFG-4): the first step of the E-B31 recovery."""

    TYPE: ClassVar[str] = "factory-reset"
    pin: str | None = None


@dataclasses.dataclass(frozen=True, slots=True)
class BmsPower(Command):
    """Disconnect (or reconnect) all power to the BMS: the second step of the E-B31 recovery."""

    TYPE: ClassVar[str] = "bms-power"
    on: bool

    def __post_init__(self) -> None:
        _flag(self.TYPE, "on", self.on)


@dataclasses.dataclass(frozen=True, slots=True)
class AppConnection(Command):
    """A phone app connects to (or leaves) the BMS: the blue LED is on while it is connected."""

    TYPE: ClassVar[str] = "app-connection"
    connected: bool

    def __post_init__(self) -> None:
        _flag(self.TYPE, "connected", self.connected)


# --- injected faults (PLT-12) --------------------------------------------------------------------


@dataclasses.dataclass(frozen=True, slots=True)
class Fault(Command):
    """An injected fault; `TYPE` is the scenario's `fault` name."""

    FAULT: ClassVar[bool] = True


@dataclasses.dataclass(frozen=True, slots=True)
class BmsCableUnplugged(Fault):
    """The BMS cable chain is opened (unplugged or broken): E-B32."""

    TYPE: ClassVar[str] = "bms-cable-unplugged"


@dataclasses.dataclass(frozen=True, slots=True)
class BmsCablePlugged(Fault):
    """The BMS cable chain is whole again."""

    TYPE: ClassVar[str] = "bms-cable-plugged"


@dataclasses.dataclass(frozen=True, slots=True)
class WeakCell(Fault):
    """One cell loses capacity: it keeps `capacity_factor` of what it had."""

    TYPE: ClassVar[str] = "weak-cell"
    battery: int
    cell: int
    capacity_factor: float

    def __post_init__(self) -> None:
        _battery_cell(self.TYPE, self.battery, self.cell)
        _positive(self.TYPE, "capacity_factor", self.capacity_factor, 1.0)


@dataclasses.dataclass(frozen=True, slots=True)
class CellResistance(Fault):
    """One cell's internal resistance is multiplied by `factor`."""

    TYPE: ClassVar[str] = "cell-resistance"
    battery: int
    cell: int
    factor: float

    def __post_init__(self) -> None:
        _battery_cell(self.TYPE, self.battery, self.cell)
        _positive(self.TYPE, "factor", self.factor, 20.0)


@dataclasses.dataclass(frozen=True, slots=True)
class SystemPlusShort(Fault):
    """A short of `resistance_ohm` on System+ for `duration_s` (SP-5, A-A12)."""

    TYPE: ClassVar[str] = "system-plus-short"
    duration_s: float
    resistance_ohm: float = 0.001

    def __post_init__(self) -> None:
        _positive(self.TYPE, "duration_s", self.duration_s, 400 * 86_400.0)
        _finite(self.TYPE, "resistance_ohm", self.resistance_ohm, SHORT_MIN_OHM, 1.0)


@dataclasses.dataclass(frozen=True, slots=True)
class FuseBlown(Fault):
    """The AB fuse blows: its path opens (PLT-7)."""

    TYPE: ClassVar[str] = "fuse-blown"


@dataclasses.dataclass(frozen=True, slots=True)
class FuseReplaced(Fault):
    """The AB fuse is replaced by one of the installed type."""

    TYPE: ClassVar[str] = "fuse-replaced"


@dataclasses.dataclass(frozen=True, slots=True)
class ConfigCorrupted(Fault):
    """The stored settings are corrupted: E-B31 (ERR-2)."""

    TYPE: ClassVar[str] = "config-corrupted"


@dataclasses.dataclass(frozen=True, slots=True)
class CalibrationLost(Fault):
    """The calibration data is lost: E-B30 (ERR-1)."""

    TYPE: ClassVar[str] = "calibration-lost"


@dataclasses.dataclass(frozen=True, slots=True)
class ReferenceFailed(Fault):
    """The reference voltage fails: E-B33 (ERR-4)."""

    TYPE: ClassVar[str] = "reference-failed"


@dataclasses.dataclass(frozen=True, slots=True)
class RemotePlugRemoved(Fault):
    """The remote on/off plug is pulled out: the terminal reads OFF (REM-1)."""

    TYPE: ClassVar[str] = "remote-plug-removed"


@dataclasses.dataclass(frozen=True, slots=True)
class RemotePlugInserted(Fault):
    """The remote on/off plug is put back."""

    TYPE: ClassVar[str] = "remote-plug-inserted"


@dataclasses.dataclass(frozen=True, slots=True)
class LooseConnection(Fault):
    """A battery's connection gains `resistance_ohm` (a loose or corroded terminal)."""

    TYPE: ClassVar[str] = "loose-connection"
    battery: int
    resistance_ohm: float

    def __post_init__(self) -> None:
        _battery_cell(self.TYPE, self.battery, None)
        _positive(self.TYPE, "resistance_ohm", self.resistance_ohm, 10.0)


@dataclasses.dataclass(frozen=True, slots=True)
class Heat(Fault):
    """Extra heat around the BMS (an engine bay), on top of the ambient."""

    TYPE: ClassVar[str] = "heat"
    bms_extra_c: float

    def __post_init__(self) -> None:
        _finite(self.TYPE, "bms_extra_c", self.bms_extra_c, 0.0, 100.0)


@dataclasses.dataclass(frozen=True, slots=True)
class PrealarmOutputOverload(Fault):
    """Something draws `current_a` from the pre-alarm output (above 1 A it is damaged, OUT-5)."""

    TYPE: ClassVar[str] = "prealarm-output-overload"
    current_a: float

    def __post_init__(self) -> None:
        _positive(self.TYPE, "current_a", self.current_a, 20.0)


CLEARABLE_FAULTS = (
    "bms-cable-unplugged",
    "weak-cell",
    "cell-resistance",
    "system-plus-short",
    "fuse-blown",
    "calibration-lost",
    "reference-failed",
    "remote-plug-removed",
    "loose-connection",
    "heat",
    "prealarm-output-overload",
)
"""Faults `ClearFault` undoes. E-B31 (`config-corrupted`) is not among them: it clears only by
the device's own recovery (a factory reset, then 3 minutes without power), as on the device."""


@dataclasses.dataclass(frozen=True, slots=True)
class ClearFault(Fault):
    """Undo an injected fault: the part is repaired or replaced (a weak cell by a new one).

    `battery` (and `cell`) say which, for the faults of one battery or cell; without them every
    battery (or cell) with that fault is repaired.
    """

    TYPE: ClassVar[str] = "clear-fault"
    fault: str
    battery: int | None = None
    cell: int | None = None

    def __post_init__(self) -> None:
        if self.fault not in CLEARABLE_FAULTS:
            allowed = ", ".join(CLEARABLE_FAULTS)
            msg = f"{self.TYPE}: cannot clear {self.fault!r}; allowed: {allowed}"
            raise CommandError(msg)
        if self.battery is not None:
            _battery_cell(self.TYPE, self.battery, self.cell)


COMMAND_TYPES: dict[str, type[Command]] = {
    cls.TYPE: cls
    for cls in (
        EngineStart,
        EngineStop,
        AlternatorMode,
        ShorePower,
        SetDevice,
        Ambient,
        Solar,
        Note,
        RemoteSwitch,
        SoftSwitch,
        ChangeSettings,
        ChangePin,
        FactoryReset,
        BmsPower,
        AppConnection,
        BmsCableUnplugged,
        BmsCablePlugged,
        WeakCell,
        CellResistance,
        SystemPlusShort,
        FuseBlown,
        FuseReplaced,
        ConfigCorrupted,
        CalibrationLost,
        ReferenceFailed,
        RemotePlugRemoved,
        RemotePlugInserted,
        LooseConnection,
        Heat,
        PrealarmOutputOverload,
        ClearFault,
    )
}
"""Every command by its wire name (`TYPE`)."""
