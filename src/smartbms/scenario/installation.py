"""The installation's tables: [scenario], [environment], [bms], [[battery]] and the engine."""

import datetime
import math
from typing import Annotated, Any, ClassVar, Literal, Self

from pydantic import Field, InstanceOf, field_validator, model_validator

from smartbms.core import constants as c
from smartbms.core.fuses import INSTALLABLE_FUSES, FuseType, parse_fuse_type
from smartbms.core.settings import SETTING_SPECS, NumberSpec, Settings, SettingsError
from smartbms.plant.battery import BatteryOptions
from smartbms.plant.params import BatteryModel, battery_models
from smartbms.plant.vehicle import CRUISING_ENGINE_RPM, IDLE_ENGINE_RPM
from smartbms.scenario.base import (
    _DQ,
    _DURATION,
    _TIMELINE_PERIOD,
    CELLS_PER_BATTERY,
    COLDEST_HOUR_H,
    DEFAULT_AMBIENT_C,
    MAX_DURATION_S,
    _allowed_after,
    _human_s,
    _is_number,
    _num,
    _problem,
    _show,
    _suggest,
    _Table,
    _TimeKey,
)

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
    start_date: datetime.date | None = None
    """The calendar day of t = 0 (ISO date): the report then says 'Fri 16:00', not 'day 1 16:00'."""

    @field_validator("start_date", mode="before")
    @classmethod
    def _iso_date(cls, value: object) -> object:
        """A TOML date (2026-12-04) or the same written as a string; nothing else."""
        if isinstance(value, datetime.datetime):
            value = value.isoformat()
        if isinstance(value, str):
            try:
                return datetime.date.fromisoformat(value)
            except ValueError:
                pass
        if isinstance(value, datetime.date) and not isinstance(value, datetime.datetime):
            return value
        msg = f"must be an ISO date like 2026-12-04 (got {value!r})"
        raise _problem(msg)

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

_SETTING_KEYS: dict[str, str] = {
    ("soft_switch" if name == "soft_switch_on" else name): name
    for name in SETTING_SPECS
    if name != "pin"
}
"""[bms] key -> `Settings` field: every setting but the PIN; a file says soft_switch, as the app."""
_BMS_KEYS = {name: key for key, name in _SETTING_KEYS.items()}


class BmsConfig(_Table):
    """[bms]: the Smart BMS's settings and how it is installed.

    The setting keys (fuse_type, charge_limit_v, ...) become one core `Settings`, checked by
    `Settings` itself (CFG-2) against the ranges it defines; only the rest describes the
    installation: the fuse in the holder, the remote wiring, the temperature and the wiring.
    """

    settings: InstanceOf[Settings] = Settings()
    installed_fuse: FuseType
    remote_terminal: RemoteTerminal = "loop"
    remote_closed: bool = True
    temperature_c: float = Field(default=DEFAULT_AMBIENT_C, ge=-40.0, le=60.0)
    ab_wiring_resistance_ohm: float = Field(default=0.004, ge=0.0, le=0.1)
    system_plus_resistance_ohm: float = Field(default=0.0005, ge=0.0, le=0.1)
    app_connected: bool = False

    @classmethod
    def user_keys(cls) -> tuple[str, ...]:
        """The setting keys (the fuse in the holder next to the fuse setting), then the wiring."""
        settings = [key for key in _SETTING_KEYS if key != "fuse_type"]
        wiring = [key for key in super().user_keys() if key not in ("settings", "installed_fuse")]
        return ("fuse_type", "installed_fuse", *settings, *wiring)

    @classmethod
    def _prepare(cls, data: dict[str, Any]) -> dict[str, Any]:
        given = {_SETTING_KEYS[key]: value for key, value in data.items() if key in _SETTING_KEYS}
        rest = {key: value for key, value in data.items() if key not in _SETTING_KEYS}
        for name, value in given.items():
            spec = SETTING_SPECS[name]
            # A file is strict: a voltage is a TOML number, not a text such as "14.2 V".
            if isinstance(spec, NumberSpec) and not _is_number(value):
                msg = f"must be a number from {spec.allowed} (got {_show(value)})"
                raise _problem(msg, _BMS_KEYS[name])
        try:
            settings = Settings.from_mapping(given)
        except SettingsError as exc:
            msg = f"{_show(exc.value)} is not allowed; allowed: {exc.allowed}"
            raise _problem(msg, _BMS_KEYS[exc.setting]) from None
        if "installed_fuse" in rest:
            rest["installed_fuse"] = _installed_fuse(rest["installed_fuse"])
        return {**rest, "settings": settings}

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
AlternatorSpeed = Literal["idle", "cruising"]


class AlternatorConfig(_Table):
    """[alternator]: the engine's alternator (PLT-5), regulated or "smart"."""

    rated_current_a: float = Field(gt=0.0, le=400.0)
    regulated_voltage_v: float = Field(default=14.4, ge=12.0, le=15.5)
    smart_voltage_v: float | None = Field(default=None, ge=11.5, le=14.0)
    mode: AlternatorMode = "normal"
    speed: AlternatorSpeed = "cruising"
    """The engine's speed while it runs: at idle the alternator gives about two thirds of its
    rating, cruising its full rating (the default, so older scenarios keep their meaning)."""
    internal_resistance_ohm: float = Field(default=0.005, gt=0.0, le=0.1)
    running: bool = False

    @property
    def engine_rpm(self) -> float:
        """The engine speed `speed` stands for (the plant's parameter file)."""
        return IDLE_ENGINE_RPM if self.speed == "idle" else CRUISING_ENGINE_RPM

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
