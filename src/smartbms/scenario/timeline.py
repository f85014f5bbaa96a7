"""The [[timeline]] entries: what happens when (actions, setting changes and injected faults)."""

from typing import Annotated, Any, ClassVar, Literal, Self, get_args

from pydantic import Field, model_validator

from smartbms.core import constants as c
from smartbms.core.settings import Settings, SettingsError
from smartbms.scenario.base import (
    _AT,
    _DURATION,
    CELLS_PER_BATTERY,
    MAX_DURATION_S,
    _problem,
    _show,
    _Table,
    _TimeKey,
)
from smartbms.scenario.installation import AlternatorMode

# --- [[timeline]] -------------------------------------------------------------------------------


class TimelineBase(_Table):
    """What every [[timeline]] entry has: when it happens, normalised to `at_s`."""

    _TIMES: ClassVar[tuple[_TimeKey, ...]] = (_AT,)

    at_s: float = Field(ge=0.0, le=MAX_DURATION_S)


class EngineStart(TimelineBase):
    """Start the engine: crank from the starter battery, then the alternator runs."""

    action: Literal["engine-start"] = "engine-start"
    crank: bool = True


class EngineStop(TimelineBase):
    """Stop the engine: the alternator stops."""

    action: Literal["engine-stop"] = "engine-stop"


class AlternatorModeChange(TimelineBase):
    """Switch a smart alternator between its regulated and its low ("smart") voltage."""

    action: Literal["alternator-mode"] = "alternator-mode"
    mode: AlternatorMode


class ShorePower(TimelineBase):
    """Plug in or pull the shore power (chargers and inverter/chargers charge while it is on)."""

    action: Literal["shore-power"] = "shore-power"
    on: bool


class SetDevice(TimelineBase):
    """Change a device's load or switch a DC load: only the fields that device type has."""

    action: Literal["set"] = "set"
    device: str = Field(min_length=1)
    power_w: float | None = None
    current_a: float | None = None
    ac_load_w: float | None = None
    load_w: float | None = None
    on: bool | None = None

    _CHANGES: ClassVar[tuple[str, ...]] = ("power_w", "current_a", "ac_load_w", "load_w", "on")

    @model_validator(mode="after")
    def _something(self) -> Self:
        if not self.changes():
            msg = "missing (required): give at least one of " + ", ".join(self._CHANGES)
            raise _problem(msg, "action")
        return self

    def changes(self) -> dict[str, float | bool]:
        """The fields this entry sets, by name."""
        found: dict[str, float | bool] = {}
        for name in self._CHANGES:
            value = getattr(self, name)
            if value is not None:
                found[name] = value
        return found


class RemoteSwitch(TimelineBase):
    """Open or close the switch or relay on the remote on/off terminal (REM-1)."""

    action: Literal["remote"] = "remote"
    closed: bool


class SoftSwitch(TimelineBase):
    """Switch the soft switch in the app (REM-3)."""

    action: Literal["soft-switch"] = "soft-switch"
    on: bool


SettingName = Literal[
    "fuse_type",
    "prealarm_usage",
    "prealarm_mode",
    "charge_limit_v",
    "remote_function",
    "soft_switch_on",
]
"""Every `Settings` field a user changes in the app (the PIN is not part of a scenario)."""


class SettingChange(TimelineBase):
    """Change one BMS setting in the app; the value is checked by `Settings` (CFG-2).

    `value` holds the setting's plain form afterwards: a label for enums and fuses, volts for the
    charge limit, a bool for the soft switch — ready for `Settings.changed(**{name: value})`.
    """

    action: Literal["setting"] = "setting"
    name: SettingName
    value: str | float | bool

    @classmethod
    def _prepare(cls, data: dict[str, Any]) -> dict[str, Any]:
        name = data.get("name")
        if name not in get_args(SettingName) or "value" not in data:
            return data  # pydantic names the missing or unknown piece
        try:
            settings = Settings.from_mapping({str(name): data["value"]})
        except SettingsError as exc:
            msg = f"{_show(exc.value)} is not allowed for {name}; allowed: {exc.allowed}"
            raise _problem(msg, "value") from None
        return {**data, "value": settings.to_mapping()[str(name)]}


class AmbientChange(TimelineBase):
    """Change the mean ambient temperature (the daily swing stays)."""

    action: Literal["ambient"] = "ambient"
    ambient_c: float = Field(ge=-40.0, le=60.0)


class SolarChange(TimelineBase):
    """Change the weather: the fraction of clear-sky sun that reaches the panels."""

    action: Literal["solar"] = "solar"
    clear_sky_fraction: float = Field(ge=0.0, le=1.0)


class Note(TimelineBase):
    """A label shown in the report at this time; changes nothing."""

    action: Literal["note"] = "note"
    text: str = Field(min_length=1)


class FaultBase(TimelineBase):
    """An injected fault (PLT-12), chosen by its `fault` key."""

    action: Literal["fault"] = "fault"


SHORT_MIN_OHM = 0.0005
"""The lowest short on System+ a scenario (or a twin command) may inject: a bolted short through
real cable. Below it the current would pass what the BMS's sense reads (100 kA), which the
controller rightly treats as a failed measurement, not a short."""

_BatteryIndex = Annotated[int, Field(ge=1, le=c.MAX_BATTERIES)]
_CellIndex = Annotated[int, Field(ge=1, le=CELLS_PER_BATTERY)]


class BmsCableUnplugged(FaultBase):
    """The BMS cable daisy chain is opened (unplugged or broken): E-B32."""

    fault: Literal["bms-cable-unplugged"] = "bms-cable-unplugged"


class BmsCablePlugged(FaultBase):
    """The BMS cable chain is whole again."""

    fault: Literal["bms-cable-plugged"] = "bms-cable-plugged"


class WeakCell(FaultBase):
    """One cell loses capacity (`battery` counts 1.. over the bank expanded by `count`)."""

    fault: Literal["weak-cell"] = "weak-cell"
    battery: _BatteryIndex
    cell: _CellIndex
    capacity_factor: float = Field(gt=0.0, le=1.0)


class CellResistance(FaultBase):
    """One cell's internal resistance is multiplied by `factor`."""

    fault: Literal["cell-resistance"] = "cell-resistance"
    battery: _BatteryIndex
    cell: _CellIndex
    factor: float = Field(gt=0.0, le=20.0)


class SystemPlusShort(FaultBase):
    """A short (a low resistance) on System+ for a while (SP-5, A-A12)."""

    _TIMES: ClassVar[tuple[_TimeKey, ...]] = (_AT, _DURATION)

    fault: Literal["system-plus-short"] = "system-plus-short"
    duration_s: float = Field(gt=0.0, le=MAX_DURATION_S)
    resistance_ohm: float = Field(default=0.001, ge=SHORT_MIN_OHM, le=1.0)


class FuseBlown(FaultBase):
    """The AB fuse blows: its path opens (PLT-7)."""

    fault: Literal["fuse-blown"] = "fuse-blown"


class FuseReplaced(FaultBase):
    """The AB fuse is replaced by one of the installed type."""

    fault: Literal["fuse-replaced"] = "fuse-replaced"


class ConfigCorrupted(FaultBase):
    """The stored settings are corrupted: E-B31 (ERR-2)."""

    fault: Literal["config-corrupted"] = "config-corrupted"


class CalibrationLost(FaultBase):
    """The calibration data is lost: E-B30 (ERR-1)."""

    fault: Literal["calibration-lost"] = "calibration-lost"


class ReferenceFailed(FaultBase):
    """The reference voltage fails: E-B33 (ERR-4)."""

    fault: Literal["reference-failed"] = "reference-failed"


class RemotePlugRemoved(FaultBase):
    """The remote on/off plug is pulled out: the terminal reads OFF (REM-1)."""

    fault: Literal["remote-plug-removed"] = "remote-plug-removed"


class RemotePlugInserted(FaultBase):
    """The remote on/off plug is put back."""

    fault: Literal["remote-plug-inserted"] = "remote-plug-inserted"


class LooseConnection(FaultBase):
    """A battery's connection gains resistance (a loose or corroded terminal)."""

    fault: Literal["loose-connection"] = "loose-connection"
    battery: _BatteryIndex
    resistance_ohm: float = Field(gt=0.0, le=10.0)


class Heat(FaultBase):
    """Extra heat around the BMS (e.g. mounted in an engine bay), on top of the ambient."""

    fault: Literal["heat"] = "heat"
    bms_extra_c: float = Field(ge=0.0, le=100.0)


class PrealarmOutputOverload(FaultBase):
    """Something draws `current_a` from the pre-alarm output (above 1 A it is damaged, OUT-5)."""

    fault: Literal["prealarm-output-overload"] = "prealarm-output-overload"
    current_a: float = Field(gt=0.0, le=20.0)


Fault = Annotated[
    BmsCableUnplugged
    | BmsCablePlugged
    | WeakCell
    | CellResistance
    | SystemPlusShort
    | FuseBlown
    | FuseReplaced
    | ConfigCorrupted
    | CalibrationLost
    | ReferenceFailed
    | RemotePlugRemoved
    | RemotePlugInserted
    | LooseConnection
    | Heat
    | PrealarmOutputOverload,
    Field(discriminator="fault"),
]
"""Any `action = "fault"` entry, chosen by its `fault` key."""

TimelineEntry = Annotated[
    EngineStart
    | EngineStop
    | AlternatorModeChange
    | ShorePower
    | SetDevice
    | RemoteSwitch
    | SoftSwitch
    | SettingChange
    | AmbientChange
    | SolarChange
    | Note
    | Fault,
    Field(discriminator="action"),
]
"""Any [[timeline]] entry, chosen by its `action` (and a fault by its `fault`)."""

_BATTERY_FAULTS = (WeakCell, CellResistance, LooseConnection)
_ENGINE_ACTIONS = (EngineStart, EngineStop, AlternatorModeChange)
