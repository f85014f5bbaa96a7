"""The scenario file format of the twin: an installation and a timeline, written in TOML.

A van builder writes these files by hand, so a mistake must come back as one sentence that names
the file, the line, the field and what is allowed — never a traceback or pydantic's raw dump.
`load_scenario` / `parse_scenario` read the TOML, validate it with the pydantic models below and
turn every problem into a `ScenarioError`. The result is a frozen tree with every default filled
in (temperatures default to the ambient, `supports_prealarm` to the battery model, the starter
battery to its defaults when an alternator exists, times normalised to seconds, the timeline
sorted), so the runner never guesses.

tomllib keeps no positions, so `_Locator` re-scans the text once, recording the line of every
table header and key (array-of-tables headers with their running index, dotted keys, inline
tables and array elements), and an error's pydantic `loc` is mapped onto that: the line of the
offending key, else of the nearest enclosing table. See docs/scenario-format.md for the format.
"""

import bisect
import contextlib
import dataclasses
import difflib
import enum
import itertools
import json
import math
import re
import tomllib
import types
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal, Self, TypeVar, Union, get_args, get_origin

import annotated_types
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic.fields import FieldInfo

from smartbms.core import constants as c
from smartbms.core.fuses import INSTALLABLE_FUSES, FuseType, parse_fuse_type
from smartbms.core.settings import (
    PreAlarmMode,
    PreAlarmUsage,
    RemoteFunction,
    Settings,
    SettingsError,
)
from smartbms.plant.battery import BatteryOptions
from smartbms.plant.params import BatteryModel, battery_models

__all__ = [
    "Alarm",
    "AlternatorConfig",
    "AlternatorModeChange",
    "AmbientChange",
    "BatteryConfig",
    "BatteryProtect",
    "BmsCablePlugged",
    "BmsCableUnplugged",
    "BmsConfig",
    "CalibrationLost",
    "CellResistance",
    "Charger",
    "ConfigCorrupted",
    "CyrixLiCharge",
    "CyrixLiLoad",
    "DcLoad",
    "Device",
    "DeviceBase",
    "EngineStart",
    "EngineStop",
    "Environment",
    "Fault",
    "FaultBase",
    "FuseBlown",
    "FuseReplaced",
    "Heat",
    "Inverter",
    "InverterCharger",
    "LooseConnection",
    "Note",
    "PrealarmOutputOverload",
    "ReferenceFailed",
    "RemotePlugInserted",
    "RemotePlugRemoved",
    "RemoteSwitch",
    "ResidualLoad",
    "Scenario",
    "ScenarioError",
    "ScenarioSection",
    "SetDevice",
    "SettingChange",
    "ShorePower",
    "SoftSwitch",
    "SolarChange",
    "SolarCharger",
    "StarterBatteryConfig",
    "SystemPlusShort",
    "TimelineBase",
    "TimelineEntry",
    "WeakCell",
    "load_scenario",
    "parse_scenario",
]

# --- Chosen limits of the format (not BMS behaviour, so they live here, not in core.constants) ---
MAX_DURATION_S = 400 * 86_400.0
"""A scenario (and any time in it) spans at most 400 days: a long storage test, not a lifetime."""
DEFAULT_AMBIENT_C = 20.0
"""The ambient temperature when [environment] does not give one."""
CELLS_PER_BATTERY = 4
"""A Lithium Battery 12,8V Smart has four LFP cells in series (PLT-1)."""
COLDEST_HOUR_H = 5.0
"""The daily ambient sine is coldest at 05:00 (and warmest twelve hours later)."""

_FACTORY = Settings.factory()
_UNIT_WORDS = {"s": "seconds", "min": "minutes", "h": "hours", "days": "days"}
_TIME_UNITS: dict[str, tuple[float, str]] = {
    "_s": (1.0, "s"),
    "_min": (60.0, "min"),
    "_h": (3600.0, "h"),
    "_d": (86_400.0, "days"),
}


# --- Problems raised inside validators ---------------------------------------------------------


class _ProblemError(ValueError):
    """Problems found by our own checks, each at a `loc` relative to where pydantic raised it.

    pydantic wraps a `ValueError` from a validator as a `value_error` located at the model (or
    field) being validated and keeps the exception in the error's context; carrying a relative
    location lets a whole-model or whole-list check still point at the offending key.
    """

    def __init__(self, *problems: tuple[tuple[str | int, ...], str]) -> None:
        super().__init__("; ".join(message for _, message in problems))
        self.problems = problems


def _problem(message: str, *loc: str | int) -> _ProblemError:
    return _ProblemError((loc, message))


def _show(value: object) -> str:
    """A value as it would be written in TOML, shortened: the user sees their own spelling."""
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, str):
        text = json.dumps(value, ensure_ascii=False)
    elif isinstance(value, float) and math.isfinite(value):
        text = repr(value)
    elif isinstance(value, int | float):
        text = str(value)
    elif isinstance(value, list | tuple):
        text = "[" + ", ".join(_show(v) for v in value) + "]"
    elif isinstance(value, dict):
        text = "a table"
    elif isinstance(value, enum.Enum):
        text = _show(value.value)
    else:
        text = repr(value)
    text = text.replace("\n", " ")
    return text if len(text) <= 60 else text[:57] + "..."


def _num(value: float) -> str:
    """A bound for a message: 0 rather than 0.0, 15.3 rather than 15.300000000000001."""
    return f"{value:g}" if abs(value) < 1e6 else str(value)


_DQ = '"'


def _closest(word: str, options: Sequence[str]) -> str | None:
    """The option a typo most likely meant (case-insensitive), if any is close enough."""
    lowered = {option.lower(): option for option in options}
    match = difflib.get_close_matches(word.lower(), list(lowered), n=1, cutoff=0.6)
    return lowered[match[0]] if match else None


def _suggest(word: str, options: Sequence[str], quote: str = "'") -> str:
    """'did you mean ...? ' for a close match among `options`, else ''."""
    match = _closest(word, options)
    return f"did you mean {quote}{match}{quote}? " if match else ""


def _allowed_after(hint: str, allowed: str, word: str = "allowed") -> str:
    """'allowed: ...', or after a suggestion (which ends a sentence) 'Allowed: ...'."""
    return f"{hint}{word.capitalize()}: {allowed}" if hint else f"{word}: {allowed}"


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _unit(name: str) -> str:
    """The unit a key's suffix names (units are in every numeric key)."""
    for suffix, unit in (
        ("_pct", "%"),
        ("_ohm", "ohm"),
        ("_ah", "Ah"),
        ("_min", "min"),
        ("_v", "V"),
        ("_a", "A"),
        ("_w", "W"),
        ("_s", "s"),
        ("_h", "h"),
        ("_d", "days"),
        ("_c", "°C"),
    ):
        if name.endswith(suffix):
            return unit
    return ""


def _with_unit(value: str, unit: str) -> str:
    return f"{value} {unit}" if unit else value


def _human_s(seconds: float) -> str:
    """A duration in the largest whole unit that fits (for messages about times)."""
    for factor, unit in ((86_400.0, "day"), (3600.0, "h"), (60.0, "min")):
        if seconds >= factor and seconds % factor == 0:
            count = seconds / factor
            plural = "s" if unit == "day" and count != 1 else ""
            return f"{_num(count)} {unit}{plural}"
    return f"{_num(seconds)} s"


# --- Bounds read back from the models (one source for checks and messages) ---------------------


def _bounds(metadata: Sequence[object]) -> dict[str, float]:
    found: dict[str, float] = {}
    for item in metadata:
        for key in ("gt", "ge", "lt", "le"):
            value = getattr(item, key, None)
            if isinstance(item, annotated_types.BaseMetadata) and isinstance(value, int | float):
                found[key] = float(value)
        if isinstance(item, FieldInfo):
            found.update(_bounds(item.metadata))
    return found


def _range_text(metadata: Sequence[object], unit: str) -> str:
    """'from 13 to 15.3 V', 'greater than 0 W', 'at least 0 and less than 24 h', or ''."""
    b = _bounds(metadata)
    if "ge" in b and "le" in b:
        return _with_unit(f"from {_num(b['ge'])} to {_num(b['le'])}", unit)
    parts = []
    if "gt" in b:
        parts.append(f"greater than {_num(b['gt'])}")
    if "ge" in b:
        parts.append(f"at least {_num(b['ge'])}")
    if "lt" in b:
        parts.append(f"less than {_num(b['lt'])}")
    if "le" in b:
        parts.append(f"at most {_num(b['le'])}")
    return _with_unit(" and ".join(parts), unit) if parts else ""


def _within(metadata: Sequence[object], value: object) -> bool:
    """Whether `value` is a finite number inside the bounds in `metadata`."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return False
    b = _bounds(metadata)
    return not (
        ("gt" in b and not value > b["gt"])
        or ("ge" in b and not value >= b["ge"])
        or ("lt" in b and not value < b["lt"])
        or ("le" in b and not value <= b["le"])
    )


# --- The base of every table -------------------------------------------------------------------


@dataclasses.dataclass(frozen=True, slots=True)
class _TimeKey:
    """A time written as exactly one of `<stem>_s`, `_min`, `_h`, `_d`, stored as `<stem>_s`.

    An optional time (`required=False`) may be left out: `<stem>_s` keeps its default (None).
    `at_most` is the upper bound messages name (a time beyond 400 days is always refused here;
    a tighter bound such as the duration is checked by the model).
    """

    stem: str
    allow_zero: bool
    required: bool = True
    at_most: str = "400 days"

    @property
    def field(self) -> str:
        return self.stem + "_s"

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(self.stem + suffix for suffix in _TIME_UNITS)


_AT = _TimeKey("at", allow_zero=True)
_DURATION = _TimeKey("duration", allow_zero=False)
_TIMELINE_PERIOD = _TimeKey(
    "timeline_period", allow_zero=False, required=False, at_most="the duration"
)


class _Table(BaseModel):
    """One TOML table: unknown keys refused with a suggestion, types strict, values finite.

    Strict, because a file format should not read `"14.2"` or `1` as a voltage or a switch: the
    user meant something and should be told. Lists are turned into tuples before validation (see
    `_tuples`), which is what strict frozen models accept.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, allow_inf_nan=False)

    _TIMES: ClassVar[tuple[_TimeKey, ...]] = ()

    @classmethod
    def user_keys(cls) -> tuple[str, ...]:
        """The keys a file may use in this table, in the documented order."""
        keys: list[str] = []
        for name in cls.model_fields:
            time = next((t for t in cls._TIMES if t.field == name), None)
            keys.extend(time.keys if time else (name,))
        return tuple(keys)

    @classmethod
    def _unknown_key(cls, key: str, allowed: Sequence[str]) -> str:
        return f"unknown field; {_allowed_after(_suggest(key, allowed), ', '.join(allowed))}"

    @model_validator(mode="before")
    @classmethod
    def _before(cls, data: object) -> object:
        if not isinstance(data, dict):
            return data  # pydantic says "must be a table"
        data = {key: _tuples(value) for key, value in data.items()}
        allowed = cls.user_keys()
        unknown = [((key,), cls._unknown_key(key, allowed)) for key in data if key not in allowed]
        if unknown:
            raise _ProblemError(*unknown)
        for time in cls._TIMES:
            data = _normalize_time(data, time)
        return cls._prepare(data)

    @classmethod
    def _prepare(cls, data: dict[str, Any]) -> dict[str, Any]:
        """Per-table checks and conversions on the raw values (a hook for subclasses)."""
        return data


def _normalize_time(data: dict[str, Any], time: _TimeKey) -> dict[str, Any]:
    """Check the one given form of a time and store it in seconds under `<stem>_s`."""
    given = [key for key in data if key in time.keys]
    forms = ", ".join(time.keys)
    if len(given) > 1:
        msg = f"{given[0]} is already given; give the {time.stem} once, as one of {forms}"
        raise _problem(msg, given[1])
    if not given:
        if not time.required:
            return data
        raise _problem(f"missing (required): give exactly one of {forms}", time.stem)
    key = given[0]
    factor, unit = _TIME_UNITS[key.removeprefix(time.stem)]
    value = data[key]
    low = "at least 0" if time.allow_zero else "greater than 0"
    allowed = f"{low} and at most {time.at_most}"
    if not _is_number(value):
        word = _UNIT_WORDS[unit]
        raise _problem(f"must be a number of {word}, {allowed} (got {_show(value)})", key)
    ok_low = value >= 0 if time.allow_zero else value > 0
    if not (math.isfinite(value) and ok_low and value * factor <= MAX_DURATION_S):
        raise _problem(f"must be {allowed} (got {_show(value)} {unit})", key)
    rest = {k: v for k, v in data.items() if k != key}
    return {**rest, time.field: float(value) * factor}


# --- [scenario] and [environment] --------------------------------------------------------------


class ScenarioSection(_Table):
    """[scenario]: what the run is called, how long it lasts and how finely it is traced.

    `timeline_period_s` (None: no repeat) makes the timeline describe one period that repeats
    until the end (see `Scenario.timeline_occurrences`).
    """

    _TIMES: ClassVar[tuple[_TimeKey, ...]] = (_DURATION, _TIMELINE_PERIOD)

    name: str = Field(min_length=1)
    description: str = ""
    duration_s: float = Field(gt=0, le=MAX_DURATION_S)
    timeline_period_s: float | None = Field(default=None, gt=0, le=MAX_DURATION_S)
    trace_resolution_s: float = Field(default=10.0, ge=0.1, le=3600.0)
    start_time_of_day_h: float = Field(default=8.0, ge=0.0, lt=24.0)

    @model_validator(mode="after")
    def _period_within_duration(self) -> Self:
        period = self.timeline_period_s
        if period is not None and period > self.duration_s:
            msg = (
                f"a period of {_human_s(period)} is longer than the scenario (it lasts "
                f"{_human_s(self.duration_s)}); allowed: greater than 0 and at most the duration"
            )
            raise _problem(msg, _TIMELINE_PERIOD.field)
        return self


class Environment(_Table):
    """[environment]: the air around the van and the sun on its panels."""

    ambient_c: float = Field(default=DEFAULT_AMBIENT_C, ge=-40.0, le=60.0)
    ambient_swing_c: float = Field(default=0.0, ge=0.0, le=30.0)
    sunrise_h: float = Field(default=6.5, ge=0.0, lt=24.0)
    sunset_h: float = Field(default=20.0, gt=0.0, le=24.0)
    clear_sky_fraction: float = Field(default=1.0, ge=0.0, le=1.0)

    @model_validator(mode="after")
    def _sun_order(self) -> Self:
        if self.sunset_h <= self.sunrise_h:
            msg = f"must be after sunrise_h ({_num(self.sunrise_h)} h) (got {_num(self.sunset_h)})"
            raise _problem(msg, "sunset_h")
        return self

    def ambient_c_at(self, time_of_day_h: float, ambient_c: float | None = None) -> float:
        """The air temperature at a time of day: a daily sine, coldest at 05:00.

        `ambient_c` overrides the mean (a timeline "ambient" action changes it).
        """
        mean = self.ambient_c if ambient_c is None else ambient_c
        phase = 2.0 * math.pi * (time_of_day_h - COLDEST_HOUR_H) / 24.0
        return mean - self.ambient_swing_c * math.cos(phase)

    def sun_fraction_at(
        self, time_of_day_h: float, clear_sky_fraction: float | None = None
    ) -> float:
        """The sun as a fraction of the panels' peak: a half sine from sunrise to sunset.

        `clear_sky_fraction` overrides the file's value (a timeline "solar" action changes it).
        """
        sky = self.clear_sky_fraction if clear_sky_fraction is None else clear_sky_fraction
        hour = time_of_day_h % 24.0
        if not self.sunrise_h < hour < self.sunset_h:
            return 0.0
        return sky * math.sin(math.pi * (hour - self.sunrise_h) / (self.sunset_h - self.sunrise_h))


# --- [bms] ---------------------------------------------------------------------------------------

RemoteTerminal = Literal["loop", "switch", "l-to-minus", "h-to-plus", "open"]
_SWITCHABLE_TERMINALS = ("switch", "l-to-minus", "h-to-plus")

_BMS_SETTING_KEYS: dict[str, str] = {
    "fuse_type": "fuse_type",
    "prealarm_usage": "prealarm_usage",
    "prealarm_mode": "prealarm_mode",
    "charge_limit_v": "charge_limit_v",
    "remote_function": "remote_function",
    "soft_switch": "soft_switch_on",
}
"""[bms] key -> `Settings` field: the scenario names the soft switch as the app does."""


class BmsConfig(_Table):
    """[bms]: the Smart BMS's settings (checked by `Settings` itself, CFG-2) and its wiring."""

    fuse_type: FuseType = _FACTORY.fuse_type
    installed_fuse: FuseType
    charge_limit_v: float = _FACTORY.charge_limit_v
    prealarm_usage: PreAlarmUsage = _FACTORY.prealarm_usage
    prealarm_mode: PreAlarmMode = _FACTORY.prealarm_mode
    remote_function: RemoteFunction = _FACTORY.remote_function
    soft_switch: bool = _FACTORY.soft_switch_on
    remote_terminal: RemoteTerminal = "loop"
    remote_closed: bool = True
    temperature_c: float = Field(default=DEFAULT_AMBIENT_C, ge=-40.0, le=60.0)
    ab_wiring_resistance_ohm: float = Field(default=0.004, ge=0.0, le=0.1)
    system_plus_resistance_ohm: float = Field(default=0.0005, ge=0.0, le=0.1)
    app_connected: bool = False

    @classmethod
    def _prepare(cls, data: dict[str, Any]) -> dict[str, Any]:
        data = dict(data)
        given: dict[str, object] = {}
        for key, setting in _BMS_SETTING_KEYS.items():
            if key not in data:
                continue
            value = data[key]
            if key == "charge_limit_v" and not _is_number(value):
                limits = f"{c.CHARGE_LIMIT_MIN_V:.1f} to {c.CHARGE_LIMIT_MAX_V:.1f} V"
                msg = f"must be a number of volts, {limits} (got {_show(value)})"
                raise _problem(msg, key)
            if key == "soft_switch" and not isinstance(value, bool | str):
                raise _problem(f'must be "on", "off", true or false (got {_show(value)})', key)
            given[setting] = value
        try:
            settings = Settings.from_mapping(given)
        except SettingsError as exc:
            key = next(k for k, s in _BMS_SETTING_KEYS.items() if s == exc.setting)
            msg = f"{_show(exc.value)} is not allowed; allowed: {exc.allowed}"
            raise _problem(msg, key) from None
        for key, setting in _BMS_SETTING_KEYS.items():
            data[key] = getattr(settings, setting)
        if "installed_fuse" in data:
            data["installed_fuse"] = _installed_fuse(data["installed_fuse"])
        return data

    @model_validator(mode="after")
    def _remote(self) -> Self:
        if "remote_closed" in self.model_fields_set and self.remote_terminal not in (
            _SWITCHABLE_TERMINALS
        ):
            msg = (
                f'only applies to a switch or relay on the remote terminal (remote_terminal = "'
                f'{self.remote_terminal}" has nothing to open or close); use one of '
                + ", ".join(f'"{t}"' for t in _SWITCHABLE_TERMINALS)
            )
            raise _problem(msg, "remote_closed")
        return self

    def settings(self) -> Settings:
        """The BMS's settings as the core knows them (PIN at the factory default)."""
        return Settings(
            fuse_type=self.fuse_type,
            prealarm_usage=self.prealarm_usage,
            prealarm_mode=self.prealarm_mode,
            charge_limit_v=self.charge_limit_v,
            remote_function=self.remote_function,
            soft_switch_on=self.soft_switch,
        )


_INSTALLABLE = ", ".join(fuse.value for fuse in INSTALLABLE_FUSES)


def _installed_fuse(value: object) -> FuseType:
    if isinstance(value, FuseType) and value is not FuseType.NOT_SET:
        return value
    if isinstance(value, str):
        try:
            fuse = parse_fuse_type(value)
        except ValueError:
            pass
        else:
            if fuse is not FuseType.NOT_SET:
                return fuse
            msg = f"must be the fuse physically in the holder, not {_show(value)}; "
            raise _problem(msg + f"allowed: {_INSTALLABLE}", "installed_fuse")
    raise _problem(f"{_show(value)} is not a fuse; allowed: {_INSTALLABLE}", "installed_fuse")


# --- [[battery]] -------------------------------------------------------------------------------

_CELL_LISTS = ("cell_capacity_factors", "cell_soc_offsets_pct", "cell_resistance_factors")


class BatteryConfig(_Table):
    """[[battery]]: one Lithium Battery 12,8V Smart model, `count` times in parallel (PLT-1)."""

    model: str
    count: int = Field(default=1, ge=1, le=c.MAX_BATTERIES)
    soc_pct: float = Field(default=100.0, ge=0.0, le=100.0)
    temperature_c: float = Field(default=DEFAULT_AMBIENT_C, ge=-40.0, le=60.0)
    cell_capacity_factors: tuple[Annotated[float, Field(gt=0.0, le=1.5)], ...] = (1.0,) * 4
    cell_soc_offsets_pct: tuple[Annotated[float, Field(ge=-50.0, le=50.0)], ...] = (0.0,) * 4
    cell_resistance_factors: tuple[Annotated[float, Field(gt=0.0, le=20.0)], ...] = (1.0,) * 4
    cell_under_voltage_v: float = Field(
        default=c.CELL_UV_DEFAULT_V, ge=c.CELL_UV_MIN_V, le=c.CELL_UV_MAX_V
    )
    cell_prealarm_v: float = Field(default=c.CELL_PREALARM_V, ge=2.9, le=3.3)
    charge_min_c: float = Field(
        default=c.BATT_CHARGE_MIN_C,
        ge=c.BATT_CHARGE_MIN_RANGE_C[0],
        le=c.BATT_CHARGE_MIN_RANGE_C[1],
    )
    supports_prealarm: bool = True
    connection_resistance_ohm: float = Field(default=0.0002, ge=0.0, le=0.1)
    balancing: bool = True

    @classmethod
    def _prepare(cls, data: dict[str, Any]) -> dict[str, Any]:
        models = battery_models()
        name = data.get("model")
        if isinstance(name, str) and name not in models:
            known = ", ".join(f'"{m}"' for m in models)
            hint = _suggest(name, list(models), _DQ)
            allowed = _allowed_after(hint, known, "known models")
            raise _problem(f"unknown battery model {_show(name)}; {allowed}", "model")
        count = data.get("count")
        if (
            isinstance(count, int)
            and not isinstance(count, bool)
            and not c.MIN_BATTERIES <= count <= c.MAX_BATTERIES
        ):
            msg = (
                f"must be from {c.MIN_BATTERIES} to {c.MAX_BATTERIES} (got {count}): the Smart "
                f"BMS takes {c.MIN_BATTERIES} to "
                f"{c.MAX_BATTERIES} batteries in parallel (SYS-1)"
            )
            raise _problem(msg, "count")
        for key in _CELL_LISTS:
            value = data.get(key)
            if isinstance(value, tuple) and len(value) != CELLS_PER_BATTERY:
                msg = f"needs exactly {CELLS_PER_BATTERY} values, one per cell (got {len(value)})"
                raise _problem(msg, key)
        if isinstance(name, str) and "supports_prealarm" not in data:
            data = {**data, "supports_prealarm": models[name].supports_prealarm}
        return data

    @property
    def params(self) -> BatteryModel:
        """The model's parameter set (capacity, resistance, limits)."""
        return battery_models()[self.model]

    def options(self) -> BatteryOptions:
        """How each battery of this entry differs from its model, as the plant takes it."""
        return BatteryOptions(
            soc_pct=self.soc_pct,
            temperature_c=self.temperature_c,
            cell_capacity_factors=self.cell_capacity_factors,
            cell_soc_offsets_pct=self.cell_soc_offsets_pct,
            cell_resistance_factors=self.cell_resistance_factors,
            connection_resistance_ohm=self.connection_resistance_ohm,
            cell_under_voltage_v=self.cell_under_voltage_v,
            cell_prealarm_v=self.cell_prealarm_v,
            charge_min_c=self.charge_min_c,
            supports_prealarm=self.supports_prealarm,
            balancing=self.balancing,
        )


# --- [alternator] and [starter_battery] --------------------------------------------------------

AlternatorMode = Literal["normal", "smart"]


class AlternatorConfig(_Table):
    """[alternator]: the engine's alternator (PLT-5), regulated or "smart"."""

    rated_current_a: float = Field(gt=0.0, le=400.0)
    regulated_voltage_v: float = Field(default=14.4, ge=12.0, le=15.5)
    smart_voltage_v: float | None = Field(default=None, ge=11.5, le=14.0)
    mode: AlternatorMode = "normal"
    internal_resistance_ohm: float = Field(default=0.005, gt=0.0, le=0.1)
    running: bool = False

    @model_validator(mode="after")
    def _smart(self) -> Self:
        if self.mode == "smart" and self.smart_voltage_v is None:
            msg = (
                'mode "smart" needs smart_voltage_v: the voltage the alternator drops to in its '
                "smart mode, 11.5 to 14 V"
            )
            raise _problem(msg, "mode")
        if self.smart_voltage_v is not None and self.smart_voltage_v >= self.regulated_voltage_v:
            msg = (
                f"must be below regulated_voltage_v ({_num(self.regulated_voltage_v)} V) "
                f"(got {_num(self.smart_voltage_v)})"
            )
            raise _problem(msg, "smart_voltage_v")
        return self


class StarterBatteryConfig(_Table):
    """[starter_battery]: the engine's lead-acid battery on the AB port (PLT-6)."""

    capacity_ah: float = Field(default=70.0, ge=10.0, le=300.0)
    soc_pct: float = Field(default=90.0, ge=0.0, le=100.0)
    internal_resistance_ohm: float = Field(default=0.006, gt=0.0, le=0.1)
    crank_current_a: float = Field(default=250.0, ge=0.0, le=1000.0)
    crank_duration_s: float = Field(default=2.0, gt=0.0, le=30.0)
    standby_current_a: float = Field(default=0.02, ge=0.0, le=5.0)


# --- [[device]] ----------------------------------------------------------------------------------

Connection = Literal["bank", "system+"]
Control = Literal["none", "load disconnect", "charge disconnect", "both", "pre-alarm"]
Cable = Literal[
    "direct", "inverting", "non-inverting", "ve.direct non-inverting", "multiplus cable"
]
RemoteInput = Literal["high-active", "low-active", "ve.direct"]

_VE_DIRECT_CABLE = "ve.direct non-inverting"

# Shared field shapes: a timeline "set" is checked against the same bounds as the device.
_PowerW = Annotated[float, Field(gt=0.0, le=10_000.0)]
_AcLoadW = Annotated[float, Field(ge=0.0, le=10_000.0)]
_LoadW = Annotated[float, Field(ge=0.0, le=10_000.0)]
_ChargeA = Annotated[float, Field(gt=0.0, le=400.0)]
_EfficiencyPct = Annotated[float, Field(ge=50.0, le=100.0)]
_IdleW = Annotated[float, Field(ge=0.0, le=200.0)]
_AbsorptionV = Annotated[float, Field(ge=12.0, le=15.5)]
_FloatV = Annotated[float, Field(ge=12.0, le=15.5)]
_AbsorptionH = Annotated[float, Field(ge=0.0, le=24.0)]


class DeviceBase(_Table):
    """What every [[device]] has: a name, where it connects, and how the BMS controls it.

    The wiring rules are checked here because they are about the real installation: a rule broken
    in the file is a device that could not be wired that way (PLT-9). Wiring that is possible but
    wrong (e.g. an inverting cable where a non-inverting one belongs) is allowed: the twin then
    shows the misbehaviour, as reality would.
    """

    name: str = Field(min_length=1)
    connection: Connection = "bank"
    control: Control = "none"
    cable: Cable = "direct"
    remote_jumper: bool = False
    remote_input: RemoteInput = "high-active"

    @property
    def device_type(self) -> str:
        """The device's `type` label."""
        value = getattr(self, "type", "")
        return str(value)

    @model_validator(mode="after")
    def _wiring(self) -> Self:
        kind = self.device_type
        if kind == "residual-load":
            if self.connection != "bank":
                raise _problem('a residual-load is wired to the bank: use "bank"', "connection")
            if self.control != "none":
                msg = 'a residual-load is what no output controls (PLT-10): use "none"'
                raise _problem(msg, "control")
        if self.connection == "system+" and self.control != "none":
            msg = (
                'a device on System+ must have control = "none": the BMS switches System+ '
                'devices through the port itself; wire it to the "bank" to control it with '
                "an output"
            )
            raise _problem(msg, "control")
        if self.control == "pre-alarm" and kind != "alarm":
            msg = (
                'only an alarm may hang on the pre-alarm output (up to 1 A); use an "alarm" device'
            )
            raise _problem(msg, "control")
        if kind == "alarm" and self.control != "pre-alarm":
            raise _problem('an alarm is driven by the pre-alarm output: use "pre-alarm"', "control")
        if self.cable != "direct" and self.control == "none":
            msg = f'"{self.cable}" connects a BMS output, but control is "none": set control'
            raise _problem(msg, "cable")
        if self.cable == "multiplus cable" and not (
            kind == "inverter-charger" and self.connection == "bank" and self.control == "both"
        ):
            msg = '"multiplus cable" only fits an inverter-charger on "bank" with control = "both"'
            raise _problem(msg, "cable")
        if self.control != "none" and self.remote_input == "ve.direct":
            if self.cable != _VE_DIRECT_CABLE:
                model = getattr(self, "model", None) or "the SmartSolar MPPT 75/15"
                who = model if kind == "solar-charger" else "this device"
                msg = (
                    f"{who} has no remote terminal: use the VE.Direct non-inverting remote on/off "
                    f'cable (cable = "{_VE_DIRECT_CABLE}")'
                )
                raise _problem(msg, "cable")
        elif self.cable == _VE_DIRECT_CABLE:
            msg = (
                "the VE.Direct non-inverting cable plugs into a VE.Direct port: set "
                'remote_input = "ve.direct"'
            )
            raise _problem(msg, "remote_input")
        return self


class DcLoad(DeviceBase):
    """A DC load (fridge, lights, pump): constant power or constant current (PLT-8)."""

    type: Literal["dc-load"] = "dc-load"
    power_w: _PowerW | None = None
    current_a: Annotated[float, Field(gt=0.0, le=600.0)] | None = None
    on: bool = True

    @classmethod
    def _prepare(cls, data: dict[str, Any]) -> dict[str, Any]:
        given = [key for key in data if key in ("power_w", "current_a")]
        if len(given) > 1:
            raise _problem(f"{given[0]} is already given; give power_w or current_a", given[1])
        if not given:
            raise _problem(
                "missing (required): give exactly one of power_w or current_a", "power_w"
            )
        return data


class Inverter(DeviceBase):
    """A DC-to-AC inverter (Phoenix): AC load to DC current through the efficiency (PLT-8)."""

    type: Literal["inverter"] = "inverter"
    ac_load_w: _AcLoadW = 0.0
    efficiency_pct: _EfficiencyPct = 90.0
    idle_w: _IdleW = 8.0
    low_voltage_cutoff_v: float = Field(default=10.9, ge=9.0, le=13.0)
    restart_voltage_v: float = Field(default=12.5, ge=9.0, le=14.0)

    @model_validator(mode="after")
    def _restart(self) -> Self:
        if self.restart_voltage_v <= self.low_voltage_cutoff_v:
            msg = (
                f"must be above low_voltage_cutoff_v ({_num(self.low_voltage_cutoff_v)} V) "
                f"(got {_num(self.restart_voltage_v)})"
            )
            raise _problem(msg, "restart_voltage_v")
        return self


def _check_float_below_absorption(absorption_v: float, float_v: float) -> None:
    if float_v > absorption_v:
        msg = (
            f"must not be above absorption_voltage_v ({_num(absorption_v)} V) (got {_num(float_v)})"
        )
        raise _problem(msg, "float_voltage_v")


class InverterCharger(DeviceBase):
    """An inverter/charger (MultiPlus): inverts, and charges while shore power is on (PLT-8)."""

    type: Literal["inverter-charger"] = "inverter-charger"
    connection: Connection = "system+"
    ac_load_w: _AcLoadW = 0.0
    charge_current_a: _ChargeA
    absorption_voltage_v: _AbsorptionV = 14.2
    float_voltage_v: _FloatV = 13.5
    absorption_time_h: _AbsorptionH = 1.0
    efficiency_pct: _EfficiencyPct = 90.0
    idle_w: _IdleW = 10.0

    @model_validator(mode="after")
    def _voltages(self) -> Self:
        _check_float_below_absorption(self.absorption_voltage_v, self.float_voltage_v)
        return self


class Charger(DeviceBase):
    """A mains battery charger (Phoenix Smart IP43): charges while shore power is on."""

    type: Literal["charger"] = "charger"
    charge_current_a: _ChargeA
    absorption_voltage_v: _AbsorptionV = 14.2
    float_voltage_v: _FloatV = 13.5
    absorption_time_h: _AbsorptionH = 1.0

    @model_validator(mode="after")
    def _voltages(self) -> Self:
        _check_float_below_absorption(self.absorption_voltage_v, self.float_voltage_v)
        return self


class SolarCharger(DeviceBase):
    """An MPPT solar charger; the small SmartSolar models take the VE.Direct on/off cable."""

    type: Literal["solar-charger"] = "solar-charger"
    remote_input: RemoteInput = "ve.direct"
    model: str | None = None
    pv_peak_w: float = Field(gt=0.0, le=10_000.0)
    max_current_a: float = Field(gt=0.0, le=200.0)
    absorption_voltage_v: _AbsorptionV = 14.2
    float_voltage_v: _FloatV = 13.5
    absorption_time_h: _AbsorptionH = 1.0

    @model_validator(mode="after")
    def _voltages(self) -> Self:
        _check_float_below_absorption(self.absorption_voltage_v, self.float_voltage_v)
        return self


class BatteryProtect(DeviceBase):
    """A BatteryProtect switching a load, with its own low-voltage disconnect."""

    type: Literal["battery-protect"] = "battery-protect"
    load_w: _LoadW
    disconnect_voltage_v: float = Field(default=10.5, ge=9.0, le=13.0)
    reconnect_voltage_v: float = Field(default=12.0, ge=9.0, le=14.0)

    @model_validator(mode="after")
    def _hysteresis(self) -> Self:
        if self.reconnect_voltage_v <= self.disconnect_voltage_v:
            msg = (
                f"must be above disconnect_voltage_v ({_num(self.disconnect_voltage_v)} V) "
                f"(got {_num(self.reconnect_voltage_v)})"
            )
            raise _problem(msg, "reconnect_voltage_v")
        return self


class CyrixLiLoad(DeviceBase):
    """A Cyrix-Li-Load relay between the bank and a load, opened by load disconnect."""

    type: Literal["cyrix-li-load"] = "cyrix-li-load"
    load_w: _LoadW


CyrixSource = Literal["shore", "always"]


class CyrixLiCharge(DeviceBase):
    """A Cyrix-Li-Charge relay between a charge source and the bank, opened by charge disconnect.

    `source` says when its charge source delivers: with shore power, or always.
    """

    type: Literal["cyrix-li-charge"] = "cyrix-li-charge"
    charge_current_a: _ChargeA
    source: CyrixSource = "shore"


class ResidualLoad(DeviceBase):
    """A small load no output controls (alarm system, standby): it drains on (PLT-10)."""

    type: Literal["residual-load"] = "residual-load"
    current_a: float = Field(gt=0.0, le=10.0)


AlarmKind = Literal["buzzer", "led", "relay"]


class Alarm(DeviceBase):
    """A buzzer, LED or relay on the pre-alarm output (OUT-5); above 1 A it damages the output."""

    type: Literal["alarm"] = "alarm"
    control: Control = "pre-alarm"
    current_a: float = Field(default=0.05, gt=0.0, le=5.0)
    kind: AlarmKind = "buzzer"


Device = Annotated[
    DcLoad
    | Inverter
    | InverterCharger
    | Charger
    | SolarCharger
    | BatteryProtect
    | CyrixLiLoad
    | CyrixLiCharge
    | ResidualLoad
    | Alarm,
    Field(discriminator="type"),
]
"""Any [[device]], chosen by its `type`."""


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
    resistance_ohm: float = Field(default=0.001, gt=0.0, le=1.0)


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


# --- The whole file ------------------------------------------------------------------------------

D = TypeVar("D", bound=DeviceBase)
T = TypeVar("T", bound=TimelineBase)


class Scenario(_Table):
    """A validated scenario file: the installation and its timeline, every default filled in.

    Field order matters: pydantic validates in this order, so a later section's check can see
    the earlier sections (the timeline knows the devices, the bank and the duration).
    """

    scenario: ScenarioSection
    environment: Environment = Environment()
    bms: BmsConfig
    battery: tuple[BatteryConfig, ...]
    alternator: AlternatorConfig | None = None
    starter_battery: StarterBatteryConfig | None = None
    device: tuple[Device, ...] = ()
    timeline: tuple[TimelineEntry, ...] = ()

    @classmethod
    def _unknown_key(cls, key: str, allowed: Sequence[str]) -> str:
        match = _closest(key, allowed)
        hint = f"did you mean [{match}]? " if match else ""
        sections = _allowed_after(hint, ", ".join(allowed), "allowed sections")
        return f"unknown section [{key}]; {sections}"

    @classmethod
    def _prepare(cls, data: dict[str, Any]) -> dict[str, Any]:
        """Fill the defaults that depend on another section, before the sections validate."""
        data = dict(data)
        environment = data.get("environment")
        ambient: object = DEFAULT_AMBIENT_C
        if isinstance(environment, dict):
            ambient = environment.get("ambient_c", DEFAULT_AMBIENT_C)
        # An invalid ambient is reported once, at [environment]; then keep the plain defaults.
        if _within(Environment.model_fields["ambient_c"].metadata, ambient):
            bms = data.get("bms")
            if isinstance(bms, dict) and "temperature_c" not in bms:
                data["bms"] = {**bms, "temperature_c": ambient}
            batteries = data.get("battery")
            if isinstance(batteries, tuple):
                data["battery"] = tuple(
                    {**b, "temperature_c": ambient}
                    if isinstance(b, dict) and "temperature_c" not in b
                    else b
                    for b in batteries
                )
        if isinstance(data.get("alternator"), dict) and "starter_battery" not in data:
            data["starter_battery"] = {}
        return data

    @field_validator("battery")
    @classmethod
    def _bank_size(cls, batteries: tuple[BatteryConfig, ...]) -> tuple[BatteryConfig, ...]:
        if not batteries:
            bank = f"{c.MIN_BATTERIES} to {c.MAX_BATTERIES}"
            msg = f"the bank needs {bank} batteries (SYS-1); this list is empty"
            raise _problem(msg)
        total = 0
        for i, battery in enumerate(batteries):
            total += battery.count
            if total > c.MAX_BATTERIES:
                total = sum(b.count for b in batteries)
                bank = f"{c.MIN_BATTERIES} to {c.MAX_BATTERIES}"
                msg = (
                    f"the bank would hold {total} batteries; the Smart BMS takes {bank} in "
                    "parallel (SYS-1)"
                )
                raise _problem(msg, i, "count")
        return batteries

    @field_validator("device")
    @classmethod
    def _unique_names(cls, devices: tuple[DeviceBase, ...]) -> tuple[DeviceBase, ...]:
        seen: dict[str, int] = {}
        for i, device in enumerate(devices):
            if device.name in seen:
                msg = (
                    f"duplicate device name {_show(device.name)} "
                    f"(already used by device[{seen[device.name] + 1}]); names must be unique"
                )
                raise _problem(msg, i, "name")
            seen[device.name] = i
        return devices

    @field_validator("timeline")
    @classmethod
    def _check_timeline(
        cls, entries: tuple[TimelineBase, ...], info: ValidationInfo
    ) -> tuple[TimelineBase, ...]:
        problems = [
            p for i, entry in enumerate(entries) for p in _timeline_problems(i, entry, info)
        ]
        if problems:
            raise _ProblemError(*problems)
        return tuple(sorted(entries, key=lambda entry: entry.at_s))

    # --- helpers for the runner ----------------------------------------------------------------

    @property
    def duration_s(self) -> float:
        """How long the scenario runs, in seconds."""
        return self.scenario.duration_s

    @property
    def battery_count(self) -> int:
        """The number of physical batteries in the bank ([[battery]] tables expanded by count)."""
        return sum(battery.count for battery in self.battery)

    def expanded_batteries(self) -> tuple[BatteryConfig, ...]:
        """One entry per physical battery, in bank order (the order fault `battery` counts)."""
        return tuple(
            battery.model_copy(update={"count": 1})
            for battery in self.battery
            for _ in range(battery.count)
        )

    def settings(self) -> Settings:
        """The BMS settings at t = 0."""
        return self.bms.settings()

    def device_named(self, name: str) -> Device:
        """The device with this name; `KeyError` if there is none."""
        for device in self.device:
            if device.name == name:
                return device
        raise KeyError(name)

    def devices_of(self, kind: type[D]) -> tuple[D, ...]:
        """Every device of one class, in file order (e.g. `devices_of(SolarCharger)`)."""
        return tuple(device for device in self.device if isinstance(device, kind))

    def entries_of(self, kind: type[T]) -> tuple[T, ...]:
        """Every timeline entry of one class, in time order (e.g. `entries_of(Note)`).

        Each entry once, as written: repeats of a `timeline_period_s` are not included (see
        `timeline_occurrences`).
        """
        return tuple(entry for entry in self.timeline if isinstance(entry, kind))

    def timeline_occurrences(self) -> Iterator[tuple[float, TimelineEntry]]:
        """Every (time in s, entry) the run applies, in time order, equal times in file order.

        Without a timeline period each entry comes once, at its `at_s`. With one, the timeline
        is one period: it repeats at `at_s + k * period` (k = 0, 1, 2, ...) while the time is at
        most the duration. The repeats are generated as they are read (a year of a weekend is
        never held in a list); the entry is the same object each time, so use the time given
        here, not `entry.at_s`.
        """
        period = self.scenario.timeline_period_s
        end = self.scenario.duration_s
        if period is None:
            yield from ((entry.at_s, entry) for entry in self.timeline)
            return
        if not self.timeline:
            return
        for k in itertools.count():
            start = k * period
            for entry in self.timeline:
                t = start + entry.at_s
                if t > end:
                    return  # sorted, and every entry is inside the period: nothing comes later
                yield t, entry

    def time_of_day_h(self, t_s: float) -> float:
        """The wall-clock hour (0 <= h < 24) at simulation time `t_s`."""
        return (self.scenario.start_time_of_day_h + t_s / 3600.0) % 24.0

    def ambient_c_at(self, t_s: float, ambient_c: float | None = None) -> float:
        """The air temperature at simulation time `t_s` (see `Environment.ambient_c_at`)."""
        return self.environment.ambient_c_at(self.time_of_day_h(t_s), ambient_c)

    def sun_fraction_at(self, t_s: float, clear_sky_fraction: float | None = None) -> float:
        """The sun at `t_s` as a fraction of the panels' peak (see `Environment`)."""
        return self.environment.sun_fraction_at(self.time_of_day_h(t_s), clear_sky_fraction)


_MISSING = object()


def _timeline_problems(
    i: int, entry: TimelineBase, info: ValidationInfo
) -> list[tuple[tuple[str | int, ...], str]]:
    """What is wrong with one entry given the rest of the file (only sections that validated)."""
    data = info.data
    problems: list[tuple[tuple[str | int, ...], str]] = []
    section = data.get("scenario")
    period = section.timeline_period_s if isinstance(section, ScenarioSection) else None
    if period is not None and entry.at_s >= period:
        msg = (
            f"at {_human_s(entry.at_s)} is not inside the timeline period "
            f"({_human_s(period)}): the entries describe one period, which repeats; allowed: 0 "
            "to less than the period"
        )
        problems.append(((i, "at_s"), msg))
    elif isinstance(section, ScenarioSection) and entry.at_s > section.duration_s:
        msg = (
            f"at {_human_s(entry.at_s)} is after the end of the scenario (it lasts "
            f"{_human_s(section.duration_s)}); allowed: 0 to the duration"
        )
        problems.append(((i, "at_s"), msg))
    alternator = data.get("alternator", _MISSING)
    if isinstance(entry, _ENGINE_ACTIONS) and alternator is None:
        action = getattr(entry, "action", "")
        problems.append(((i, "action"), f"{action} needs an [alternator] section"))
    if (
        isinstance(entry, AlternatorModeChange)
        and isinstance(alternator, AlternatorConfig)
        and entry.mode == "smart"
        and alternator.smart_voltage_v is None
    ):
        msg = 'mode "smart" needs smart_voltage_v in [alternator] (11.5 to 14 V)'
        problems.append(((i, "mode"), msg))
    bms = data.get("bms")
    if (
        isinstance(entry, RemoteSwitch)
        and isinstance(bms, BmsConfig)
        and bms.remote_terminal not in _SWITCHABLE_TERMINALS
    ):
        choices = ", ".join(f'"{t}"' for t in _SWITCHABLE_TERMINALS)
        msg = (
            f'nothing to switch: [bms] remote_terminal is "{bms.remote_terminal}"; the remote '
            f"action needs a switch or relay there: {choices}"
        )
        problems.append(((i, "action"), msg))
    batteries = data.get("battery")
    if isinstance(entry, _BATTERY_FAULTS) and isinstance(batteries, tuple):
        count = sum(b.count for b in batteries if isinstance(b, BatteryConfig))
        if entry.battery > count:
            msg = (
                f"no battery {entry.battery}: the bank has {count} (numbered 1 to {count} in "
                "file order, each [[battery]] counted count times)"
            )
            problems.append(((i, "battery"), msg))
    devices = data.get("device")
    if isinstance(entry, SetDevice) and isinstance(devices, tuple):
        problems.extend(_set_problems(i, entry, devices))
    return problems


def _set_problems(
    i: int, entry: SetDevice, devices: tuple[DeviceBase, ...]
) -> list[tuple[tuple[str | int, ...], str]]:
    by_name = {device.name: device for device in devices}
    device = by_name.get(entry.device)
    if device is None:
        names = list(by_name)
        known = ", ".join(f'"{n}"' for n in names) or "none"
        hint = _suggest(entry.device, names, _DQ)
        msg = f"no device named {_show(entry.device)}; {_allowed_after(hint, known, 'devices')}"
        return [((i, "device"), msg)]
    fields = type(device).model_fields
    settable = [name for name in SetDevice._CHANGES if name in fields]
    problems: list[tuple[tuple[str | int, ...], str]] = []
    for name, value in entry.changes().items():
        if name not in fields:
            allowed = ", ".join(settable) or "nothing"
            kind = device.device_type
            article = "an" if kind[:1] in "aeiou" else "a"
            msg = f'{article} {kind} has no {name}; a "set" on {_show(device.name)} may change: '
            problems.append(((i, name), msg + allowed))
            continue
        if isinstance(device, DcLoad) and name in ("power_w", "current_a"):
            defined = "power_w" if device.power_w is not None else "current_a"
            if name != defined:
                msg = f"{_show(device.name)} is defined by {defined}; set {defined} instead"
                problems.append(((i, name), msg))
                continue
        metadata = _annotation_metadata(fields[name])
        if not isinstance(value, bool) and not _within(metadata, value):
            allowed = _range_text(metadata, _unit(name))
            problems.append(((i, name), f"must be {allowed} (got {_num(value)})"))
    return problems


def _annotation_metadata(field: FieldInfo) -> list[object]:
    """Constraints of a field, including those inside an `Annotated[...] | None`."""
    found: list[object] = list(field.metadata)
    for arg in get_args(field.annotation):
        if get_origin(arg) is Annotated:
            found.extend(get_args(arg)[1:])
    return found


# --- Reading a file ------------------------------------------------------------------------------


class ScenarioError(Exception):
    """A scenario file is wrong: one paragraph naming the file, line, field and what is allowed.

    `line` is None when the problem has no place in the file (a required section is missing);
    `field` is the dotted path (`device[2].power_w`, indices counting from 1 as the file reads),
    empty for a TOML syntax error; `more_problems` counts the other problems found.
    """

    def __init__(
        self, source: str, line: int | None, field: str, message: str, more_problems: int = 0
    ) -> None:
        self.source = source
        self.line = line
        self.field = field
        self.message = message
        self.more_problems = more_problems
        super().__init__(self._paragraph())

    def _paragraph(self) -> str:
        head = self.source if self.line is None else f"{self.source}, line {self.line}"
        text = f"{head}, {self.field}: {self.message}" if self.field else f"{head}: {self.message}"
        if self.more_problems:
            plural = "s" if self.more_problems > 1 else ""
            text += f" (and {self.more_problems} more problem{plural})"
        return re.sub(r"\s*[\r\n]+\s*", " ", text)

    def __str__(self) -> str:
        return self._paragraph()


def load_scenario(path: Path) -> Scenario:
    """Read and validate a scenario file; every problem is a `ScenarioError`."""
    source = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        msg = f"not a UTF-8 text file ({exc.reason} at byte {exc.start})"
        raise ScenarioError(source, None, "", msg) from None
    except OSError as exc:
        raise ScenarioError(source, None, "", f"cannot read the file: {exc.strerror}") from None
    return parse_scenario(text, source)


def parse_scenario(text: str, source: str) -> Scenario:
    """Validate scenario text; `source` names it in messages (usually the file's path)."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise _syntax_error(str(exc), text, source) from None
    try:
        return Scenario.model_validate(_tuples(raw))
    except ValidationError as exc:
        raise _translate(exc, _Locator(text), source) from None


_TOML_POSITION = re.compile(
    r"^(?P<what>.*) \(at (?:line (?P<line>\d+), column (?P<col>\d+)|end of document)\)$"
)


def _syntax_error(message: str, text: str, source: str) -> ScenarioError:
    """Turn the position tomllib writes into its message into our line (and a column)."""
    found = _TOML_POSITION.match(message)
    if found is None:
        return ScenarioError(source, None, "", f"invalid TOML: {message}")
    what = found["what"]
    what = what[:1].lower() + what[1:]
    if found["line"] is None:
        return ScenarioError(
            source,
            max(1, len(text.splitlines())),
            "",
            f"invalid TOML: {what} (at the end of the file)",
        )
    return ScenarioError(
        source, int(found["line"]), "", f"invalid TOML: {what} (column {found['col']})"
    )


def _tuples(value: object) -> object:
    """TOML arrays as tuples: strict frozen models take tuples, and nothing stays mutable."""
    if isinstance(value, list):
        return tuple(_tuples(v) for v in value)
    if isinstance(value, dict):
        return {k: _tuples(v) for k, v in value.items()}
    return value


# --- From pydantic's errors to one sentence ------------------------------------------------------


@dataclasses.dataclass(frozen=True, slots=True)
class _Slot:
    """Where a pydantic `loc` lands: the path in the file's data and the type expected there."""

    path: tuple[str | int, ...]
    annotation: Any
    metadata: tuple[object, ...]


def _unwrap(annotation: Any) -> tuple[Any, list[object]]:
    """Strip `X | None` and plain `Annotated` (keeping their constraints); keep tagged unions."""
    metadata: list[object] = []
    while True:
        origin = get_origin(annotation)
        if origin is Annotated:
            base, *extra = get_args(annotation)
            if _discriminator(extra) is not None:
                return annotation, metadata
            metadata.extend(extra)
            annotation = base
        elif origin in (Union, types.UnionType):
            members = [a for a in get_args(annotation) if a is not type(None)]
            if len(members) != 1:
                return annotation, metadata
            annotation = members[0]
        else:
            return annotation, metadata


def _discriminator(metadata: Sequence[object]) -> str | None:
    for item in metadata:
        if isinstance(item, FieldInfo) and isinstance(item.discriminator, str):
            return item.discriminator
    return None


def _tagged(annotation: Any) -> tuple[str, dict[str, Any]] | None:
    """A discriminated union as (discriminator, {tag: member}), else None."""
    if get_origin(annotation) is not Annotated:
        return None
    base, *extra = get_args(annotation)
    key = _discriminator(extra)
    if key is None:
        return None
    members: dict[str, Any] = {}
    for member in get_args(base):
        model = member
        while not (isinstance(model, type) and issubclass(model, BaseModel)):
            model = get_args(get_args(model)[0])[0]  # a nested union: its first member's tag
        tag = get_args(model.model_fields[key].annotation)[0]
        members[str(tag)] = member
    return key, members


def _resolve(loc: Sequence[str | int]) -> _Slot:
    """Follow `loc` through the models, dropping the union tags pydantic puts in it."""
    annotation: Any = Scenario
    metadata: list[object] = []
    path: list[str | int] = []
    for part in loc:
        annotation, extra = _unwrap(annotation)
        metadata.extend(extra)
        tagged = _tagged(annotation)
        if tagged is not None and isinstance(part, str) and part in tagged[1]:
            annotation = tagged[1][part]
            continue
        path.append(part)
        metadata = []
        if isinstance(part, int):
            args = get_args(annotation) if get_origin(annotation) is tuple else ()
            annotation = args[0] if args else None
        elif (
            isinstance(annotation, type)
            and issubclass(annotation, BaseModel)
            and part in annotation.model_fields
        ):
            field = annotation.model_fields[part]
            annotation = field.annotation
            metadata = list(field.metadata)
        else:
            annotation = None
    annotation, extra = _unwrap(annotation)
    return _Slot(tuple(path), annotation, tuple(metadata + extra))


def _allowed(slot: _Slot, name: str) -> str:
    """What a key accepts, read from its type and constraints."""
    annotation = slot.annotation
    if get_origin(annotation) is Literal:
        return "one of " + ", ".join(_show(v) for v in get_args(annotation))
    if annotation is FuseType:
        fuses = INSTALLABLE_FUSES if name == "installed_fuse" else tuple(FuseType)
        return "one of " + ", ".join(f'"{f.value}"' for f in fuses)
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        return "one of " + ", ".join(_show(m.value) for m in annotation)
    if annotation is bool:
        return "true or false"
    if annotation in (float, int):
        what = "a whole number" if annotation is int else "a number"
        limits = _range_text(slot.metadata, _unit(name))
        return f"{what} {limits}" if limits else what
    if annotation is str:
        return "a text in double quotes"
    if _tagged(annotation) is not None or (
        isinstance(annotation, type) and issubclass(annotation, BaseModel)
    ):
        return "a table"
    if get_origin(annotation) is tuple:
        return "a list [...]"
    return "a value of the right kind"


_TYPE_ERRORS = {
    "float_type",
    "float_parsing",
    "int_type",
    "int_parsing",
    "int_from_float",
    "bool_type",
    "bool_parsing",
    "string_type",
    "model_type",
    "model_attributes_type",
    "dict_type",
    "tuple_type",
    "list_type",
    "enum",
}
_RANGE_ERRORS = {"greater_than", "greater_than_equal", "less_than", "less_than_equal"}
_MISSING_SECTIONS = {
    "scenario": "required section [scenario] is missing: it needs name and a duration "
    "(duration_s, duration_min, duration_h or duration_d)",
    "bms": 'required section [bms] is missing: it needs at least installed_fuse (e.g. "125A")',
    "battery": "no [[battery]] table: the bank needs 1 to 5 batteries (SYS-1)",
}


@dataclasses.dataclass(frozen=True, slots=True)
class _Found:
    line: int | None
    field: str
    message: str


def _translate(exc: ValidationError, locator: "_Locator", source: str) -> ScenarioError:
    """The first problem by line, as a `ScenarioError` that counts the others."""
    found: list[_Found] = []
    for error in exc.errors():
        for loc, message in _messages(error):
            slot = _resolve(loc)
            line, path = locator.find(slot.path)
            found.append(_Found(line, _field_path(path), message))
    ordered = sorted(enumerate(found), key=lambda f: (f[1].line is None, f[1].line or 0, f[0]))
    first = ordered[0][1]
    return ScenarioError(source, first.line, first.field, first.message, len(found) - 1)


def _messages(error: Mapping[str, Any]) -> list[tuple[tuple[str | int, ...], str]]:
    """One pydantic error as (loc, message) pairs (ours may carry several problems)."""
    loc = tuple(error["loc"])
    kind = str(error["type"])
    context = error.get("ctx") or {}
    cause = context.get("error")
    if isinstance(cause, _ProblemError):
        return [(loc + rel, message) for rel, message in cause.problems]
    slot = _resolve(loc)
    name = next((p for p in reversed(slot.path) if isinstance(p, str)), "")
    value = error.get("input")
    if kind in ("union_tag_invalid", "union_tag_not_found"):
        return [_tag_message(loc, slot, kind, value)]
    if kind == "missing":
        if len(slot.path) == 1 and name in _MISSING_SECTIONS:
            return [(loc, _MISSING_SECTIONS[name])]
        return [(loc, f"missing (required); allowed: {_allowed(slot, name)}")]
    if kind in _RANGE_ERRORS:
        limits = _range_text(slot.metadata, _unit(name)) or str(error.get("msg", ""))
        return [(loc, f"must be {limits} (got {_show(value)})")]
    if kind in _TYPE_ERRORS:
        return [(loc, f"must be {_allowed(slot, name)} (got {_show(value)})")]
    if kind == "literal_error":
        options = [str(v) for v in get_args(slot.annotation)]
        hint = _suggest(value, options, '"') if isinstance(value, str) else ""
        msg = f"{_show(value)} is not allowed; {_allowed_after(hint, _allowed(slot, name))}"
        return [(loc, msg)]
    if kind == "finite_number":
        return [(loc, f"must be a finite number (got {_show(value)})")]
    if kind in ("string_too_short", "too_short"):
        return [(loc, f"must not be empty (got {_show(value)})")]
    if kind in ("value_error", "assertion_error") and cause is not None:
        return [(loc, str(cause))]
    return [(loc, " ".join(str(error.get("msg", kind)).split()))]


def _tag_message(
    loc: tuple[str | int, ...], slot: _Slot, kind: str, value: object
) -> tuple[tuple[str | int, ...], str]:
    tagged = _tagged(slot.annotation)
    key, tags = tagged if tagged is not None else ("type", {})
    allowed = ", ".join(f'"{t}"' for t in tags)
    where = (*loc, key)
    if kind == "union_tag_not_found" or not isinstance(value, dict):
        return where, f"missing (required); allowed: {allowed}"
    tag = value.get(key)
    hint = _suggest(tag, list(tags), '"') if isinstance(tag, str) else ""
    return where, f"unknown {key} {_show(tag)}; {_allowed_after(hint, allowed)}"


_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


def _field_path(path: Sequence[str | int]) -> str:
    """`device[2].power_w`: the way a reader counts tables in the file (from 1)."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part + 1}]"
        else:
            key = part if _BARE_KEY.match(part) else json.dumps(part, ensure_ascii=False)
            text += f".{key}" if text else key
    return text


# --- Where things are in the text ----------------------------------------------------------------


class _Locator:
    """The line of every table header, key and array element of a (valid) TOML text.

    A small scanner that follows TOML's structure — headers with a running index for `[[arrays]]`,
    dotted and quoted keys, inline tables, arrays over several lines, all four string forms (so a
    `[` inside a multi-line string is not a header) and comments. It runs only on text tomllib
    has accepted; on anything unexpected it keeps what it found so far.
    """

    def __init__(self, text: str) -> None:
        self._text = text
        self._pos = 0
        self._newlines = [i for i, ch in enumerate(text) if ch == "\n"]
        self.lines: dict[tuple[str | int, ...], int] = {}
        self._arrays: dict[tuple[str | int, ...], int] = {}
        with contextlib.suppress(IndexError, ValueError):
            self._document()

    def find(self, path: tuple[str | int, ...]) -> tuple[int | None, tuple[str | int, ...]]:
        """The line of `path` (a time key in any of its unit forms), else of its nearest parent.

        Returns the line and the path to show: the key as the file spells it when found.
        """
        candidates = [path]
        if path and isinstance(path[-1], str):
            stem = _time_stem(path[-1])
            candidates += [(*path[:-1], stem + suffix) for suffix in _TIME_UNITS]
        for candidate in candidates:
            if candidate in self.lines:
                return self.lines[candidate], candidate
        for size in range(len(path) - 1, 0, -1):
            if path[:size] in self.lines:
                return self.lines[path[:size]], path
        return None, path

    # scanning ------------------------------------------------------------------------------------

    def _line(self) -> int:
        return bisect.bisect_left(self._newlines, self._pos) + 1

    def _mark(self, path: tuple[str | int, ...], line: int, depth: int = 1) -> None:
        for size in range(depth, len(path) + 1):
            self.lines.setdefault(path[:size], line)

    def _ch(self) -> str:
        return self._text[self._pos] if self._pos < len(self._text) else ""

    def _skip_blank(self, *, newlines: bool) -> None:
        while self._pos < len(self._text):
            ch = self._text[self._pos]
            if ch in " \t\r" or (newlines and ch == "\n"):
                self._pos += 1
            elif ch == "#":
                end = self._text.find("\n", self._pos)
                self._pos = len(self._text) if end < 0 else end
            else:
                return

    def _document(self) -> None:
        table: tuple[str | int, ...] = ()
        while True:
            self._skip_blank(newlines=True)
            if self._pos >= len(self._text):
                return
            line = self._line()
            if self._text.startswith("[[", self._pos):
                self._pos += 2
                table = self._header(self._keys(), array=True)
                self._expect("]]")
                self._mark(table, line)
            elif self._ch() == "[":
                self._pos += 1
                table = self._header(self._keys(), array=False)
                self._expect("]")
                self._mark(table, line)
            else:
                path = table + self._keys()
                self._expect("=")
                self._mark(path, line, depth=len(table) + 1)
                self._value(path)

    def _header(self, keys: tuple[str, ...], *, array: bool) -> tuple[str | int, ...]:
        path: tuple[str | int, ...] = ()
        for i, key in enumerate(keys):
            path = (*path, key)
            if array and i == len(keys) - 1:
                index = self._arrays.get(path, 0)
                self._arrays[path] = index + 1
                path = (*path, index)
            elif path in self._arrays:
                path = (*path, self._arrays[path] - 1)
        return path

    def _expect(self, token: str) -> None:
        self._skip_blank(newlines=False)
        if not self._text.startswith(token, self._pos):
            msg = f"expected {token!r}"
            raise ValueError(msg)
        self._pos += len(token)

    def _keys(self) -> tuple[str, ...]:
        keys: list[str] = []
        while True:
            self._skip_blank(newlines=False)
            ch = self._ch()
            if ch in ('"', "'"):
                start = self._pos
                self._string()
                raw = self._text[start : self._pos]
                keys.append(_decode_key(raw))
            else:
                start = self._pos
                while self._pos < len(self._text) and (
                    self._text[self._pos].isalnum() or self._text[self._pos] in "_-"
                ):
                    self._pos += 1
                if self._pos == start:
                    msg = "expected a key"
                    raise ValueError(msg)
                keys.append(self._text[start : self._pos])
            self._skip_blank(newlines=False)
            if self._ch() != ".":
                return tuple(keys)
            self._pos += 1

    def _string(self) -> None:
        quote = self._ch()
        triple = self._text.startswith(quote * 3, self._pos)
        self._pos += 3 if triple else 1
        while self._pos < len(self._text):
            ch = self._text[self._pos]
            if ch == "\\" and quote == '"':
                self._pos += 2
            elif triple and self._text.startswith(quote * 3, self._pos):
                self._pos += 3
                while self._ch() == quote:  # up to two quotes may end the content
                    self._pos += 1
                return
            elif not triple and ch == quote:
                self._pos += 1
                return
            else:
                self._pos += 1
        msg = "unterminated string"
        raise ValueError(msg)

    def _value(self, path: tuple[str | int, ...]) -> None:
        self._skip_blank(newlines=False)
        ch = self._ch()
        if ch in ('"', "'"):
            self._string()
        elif ch == "[":
            self._array(path)
        elif ch == "{":
            self._inline_table(path)
        else:
            while self._pos < len(self._text) and self._text[self._pos] not in ",]}\n#":
                self._pos += 1

    def _array(self, path: tuple[str | int, ...]) -> None:
        self._pos += 1
        index = 0
        while True:
            self._skip_blank(newlines=True)
            if self._ch() == "]":
                self._pos += 1
                return
            if not self._ch():
                msg = "unterminated array"
                raise ValueError(msg)
            element = (*path, index)
            self._mark(element, self._line(), depth=len(element))
            self._value(element)
            self._skip_blank(newlines=True)
            if self._ch() == ",":
                self._pos += 1
                index += 1

    def _inline_table(self, path: tuple[str | int, ...]) -> None:
        self._pos += 1
        while True:
            self._skip_blank(newlines=True)
            if self._ch() == "}":
                self._pos += 1
                return
            if self._ch() == ",":
                self._pos += 1
                continue
            line = self._line()
            key_path = path + self._keys()
            self._expect("=")
            self._mark(key_path, line, depth=len(path) + 1)
            self._value(key_path)


def _decode_key(raw: str) -> str:
    if raw.startswith("'"):
        return raw[1:-1]
    try:
        decoded = json.loads(raw)
    except ValueError:
        return raw[1:-1]
    return decoded if isinstance(decoded, str) else raw[1:-1]


def _time_stem(name: str) -> str:
    """'at' for at_s / at_min / at_h / at_d / at (and so on for any stem)."""
    for suffix in _TIME_UNITS:
        if name.endswith(suffix):
            return name.removesuffix(suffix)
    return name
