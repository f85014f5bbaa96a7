"""The whole file: `Scenario`, its cross-section checks and the helpers the runner reads it by."""

import itertools
import math
from collections.abc import Iterator, Sequence
from typing import Annotated, Any, Self, TypeVar, get_args, get_origin

from pydantic import ValidationInfo, field_validator, model_validator
from pydantic.fields import FieldInfo

from smartbms.core import constants as c
from smartbms.core.settings import Settings
from smartbms.scenario.base import (
    _DQ,
    _TIMELINE_PERIOD,
    DEFAULT_AMBIENT_C,
    MAX_TIMELINE_OCCURRENCES,
    MIN_CELL_CAPACITY_FACTOR,
    _allowed_after,
    _closest,
    _human_s,
    _num,
    _problem,
    _ProblemError,
    _range_text,
    _show,
    _suggest,
    _Table,
    _unit,
    _within,
)
from smartbms.scenario.devices import DcLoad, Device, DeviceBase
from smartbms.scenario.installation import (
    _SWITCHABLE_TERMINALS,
    AlternatorConfig,
    BatteryConfig,
    BmsConfig,
    Environment,
    ScenarioSection,
    StarterBatteryConfig,
)
from smartbms.scenario.timeline import (
    _BATTERY_FAULTS,
    _ENGINE_ACTIONS,
    AlternatorModeChange,
    RemoteSwitch,
    SetDevice,
    TimelineBase,
    TimelineEntry,
    WeakCell,
)

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

    @field_validator("battery")
    @classmethod
    def _cell_factors(cls, batteries: tuple[BatteryConfig, ...]) -> tuple[BatteryConfig, ...]:
        problems = [
            ((i, "cell_capacity_factors", k), _capacity_factor_problem(factor, 1.5))
            for i, battery in enumerate(batteries)
            for k, factor in enumerate(battery.cell_capacity_factors)
            if factor < MIN_CELL_CAPACITY_FACTOR
        ]
        if problems:
            raise _ProblemError(*problems)
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

    @model_validator(mode="after")
    def _bounded_repeats(self) -> Self:
        """A timeline period so short that the run could not end is refused, with the estimate."""
        period = self.scenario.timeline_period_s
        if period is None or not self.timeline:
            return self
        count = (math.floor(self.duration_s / period) + 1) * len(self.timeline)
        if count > MAX_TIMELINE_OCCURRENCES:
            entries = f"{len(self.timeline)} entr{'y' if len(self.timeline) == 1 else 'ies'}"
            msg = (
                f"a period of {_human_s(period)} repeats the timeline's {entries} about "
                f"{count:,.3g} times over {_human_s(self.duration_s)}; a run applies at most "
                f"{MAX_TIMELINE_OCCURRENCES:,} timeline entries (each takes a step): make the "
                "period longer or the scenario shorter"
            )
            raise _problem(msg, "scenario", _TIMELINE_PERIOD.field)
        return self

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
        return self.bms.settings

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
    if isinstance(entry, WeakCell) and entry.capacity_factor < MIN_CELL_CAPACITY_FACTOR:
        problems.append(((i, "capacity_factor"), _capacity_factor_problem(entry.capacity_factor)))
    devices = data.get("device")
    if isinstance(entry, SetDevice) and isinstance(devices, tuple):
        problems.extend(_set_problems(i, entry, devices))
    return problems


def _capacity_factor_problem(factor: float, most: float = 1.0) -> str:
    return (
        f"must be from {_num(MIN_CELL_CAPACITY_FACTOR)} to {_num(most)} (got {_show(factor)}): "
        "a cell with less "
        f"than {MIN_CELL_CAPACITY_FACTOR:.0%} of its capacity is a dead battery, which the model "
        "does not describe"
    )


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
