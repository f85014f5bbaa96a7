"""A run's summary (`summary.json`): the numbers an installer's verdicts are made from.

`Summary` is a typed, frozen value with a JSON Schema (`smartbms schema summary`,
docs/schemas/summary.schema.json), so readers outside this package can rely on its shape. Every
time in it is unrounded seconds (`..._s`): a reader formats times, the summary never does.
`SummaryBuilder` accumulates it while a run goes, from `TwinState` values and events only (never
from plant objects), so it costs no memory per step and works for any driver of the twin.
"""

import dataclasses
import datetime
import functools
import json
import math
from typing import Any, Literal, TypeVar, dataclass_transform

from pydantic import ConfigDict, TypeAdapter

from smartbms.core.events import (
    CodeRaised,
    Event,
    LoadDisconnected,
    PreAlarmRaised,
    SystemPlusChanged,
    SystemPlusLockedOut,
    SystemPlusTripped,
)
from smartbms.core.signals import Level, Readings
from smartbms.plant.events import AlternatorOverheatRisk, BatteryDamaged, BatteryOverloaded
from smartbms.twin.state import EnergyState, TwinState

Status = Literal["complete", "interrupted"]
""""complete": the run reached its duration; "interrupted": it was stopped before."""

_DOCSTRINGS: ConfigDict = {"use_attribute_docstrings": True}
"""Lets the JSON Schema carry each field's docstring as its description."""

_Value = TypeVar("_Value")


@dataclass_transform(frozen_default=True)
def _summary_value(cls: type[_Value]) -> type[_Value]:
    """A part of summary.json: a frozen, slotted dataclass whose schema has its docstrings."""
    cls.__pydantic_config__ = _DOCSTRINGS  # type: ignore[attr-defined]
    return dataclasses.dataclass(frozen=True, slots=True)(cls)


@_summary_value
class CellPlace:
    """Where a cell sits in the bank."""

    battery: int
    """1-based place of the battery in the bank."""
    cell: int
    """1-based place of the cell in its battery."""


@_summary_value
class BatterySummary:
    """One battery at the end of the run."""

    battery: int
    """1-based place in the bank."""
    model: str
    final_soc_pct: float
    damaged: bool
    """Deep-discharge damage (its last reserve used up)."""
    damaged_at_s: float | None
    """When the damage happened; None when it did not."""
    balancer: str
    """"unknown", "balanced", "balancing" or "imbalance"."""


@_summary_value
class BatteryOverload:
    """One stretch in which a battery ran above its maximum continuous current for over 10 s."""

    battery: int
    """1-based place in the bank."""
    from_s: float
    """When it went above the rating."""
    rating_a: float
    """The maximum continuous current it exceeded (the data sheet's, in that direction)."""
    highest_current_a: float
    """The largest current in the stretch (its size; either direction)."""
    duration_s: float
    """How long it ran above the rating, from the start of the stretch."""


@_summary_value
class EnergySummary:
    """Energy through each port over the run, in Wh, positive directions named."""

    alternator_in: float
    system_plus_in: float
    system_plus_out: float
    bank_devices_in: float
    bank_devices_out: float
    bms_consumption: float
    bms_heat: float
    batteries_in: float
    batteries_out: float

    @classmethod
    def from_state(cls, energy: EnergyState) -> "EnergySummary":
        """The twin's energy counters, to 0.1 Wh."""
        return cls(
            alternator_in=round(energy.ab_in_wh, 1),
            system_plus_in=round(energy.system_plus_in_wh, 1),
            system_plus_out=round(energy.system_plus_out_wh, 1),
            bank_devices_in=round(energy.bank_devices_in_wh, 1),
            bank_devices_out=round(energy.bank_devices_out_wh, 1),
            bms_consumption=round(energy.bms_consumption_wh, 1),
            bms_heat=round(energy.bms_heat_wh, 1),
            batteries_in=round(energy.batteries_in_wh, 1),
            batteries_out=round(energy.batteries_out_wh, 1),
        )


@_summary_value
class RunClock:
    """When the run started, so that times can be read as a clock ('Fri 16:00', 'day 1 16:00')."""

    start_time_of_day_s: float
    """Seconds after midnight at t = 0."""
    start_date: str | None
    """The ISO date of t = 0; None: undated (times read 'day 1 16:00')."""

    @property
    def date(self) -> datetime.date | None:
        """`start_date` as a date."""
        return None if self.start_date is None else datetime.date.fromisoformat(self.start_date)

    @property
    def weekday(self) -> int | None:
        """The start's weekday (0 Monday ... 6 Sunday); None: undated."""
        date = self.date
        return None if date is None else date.weekday()


@_summary_value
class Incidents:
    """What went wrong besides the cell limits: trips, lock-outs, fuses, the loads off."""

    loads_off_s: float
    """Time with the loads off: load-disconnect output low or System+ not allowed to discharge."""
    loads_off_first_s: float | None
    """When the loads first went off; None: never."""
    system_plus_trips: int
    """How many times System+ tripped (a short circuit or an overload)."""
    system_plus_first_trip_s: float | None
    system_plus_trip_cause: str | None
    """The first trip's cause ("short circuit", "overload")."""
    system_plus_trip_peak_a: float | None
    """The largest current (by size) that tripped System+."""
    system_plus_lockout_at_s: float | None
    """When System+ first locked out after its retries (A-A12); None: never."""
    system_plus_locked_out_s: float
    """Total time locked out, until the system was switched off and on (or the end)."""
    fuse_blown_at_s: float | None
    """When the AB fuse blew; None: it did not."""
    fuse_mismatch_s: float
    """Time the alternator charged while the fuse type setting differed from the installed fuse."""
    fuse_setting: str | None
    """The fuse type setting during the first mismatch."""
    fuse_installed: str | None
    """The fuse physically installed during the first mismatch."""
    fuse_mismatch_limit_a: float | None
    """The highest alternator current limit the BMS applied during a mismatch."""
    fuse_mismatch_ab_current_a: float | None
    """The highest alternator current that flowed during a mismatch."""
    fuse_mismatch_displayed_a: float | None
    """The highest alternator current the app showed during a mismatch."""
    fuse_mismatch_displayed_pct: float | None
    ab_at_limit_longest_s: float
    """The longest stretch with the alternator current held at the BMS's limit."""
    ab_at_limit_at_s: float | None
    """When that stretch began; None: never at the limit."""
    ab_at_limit_a: float | None
    """The limit during that stretch."""


@_summary_value
class Summary:
    """One run in numbers; the verdicts (`smartbms.sim.verdicts`) are judged from these."""

    scenario: str
    status: Status
    duration_s: float
    """The scenario's duration."""
    steps: int
    """How many steps the stepper took."""
    wall_time_s: float
    """How long the run took on the computer that ran it."""
    lowest_cell_voltage_v: float | None
    """None when the run had no step."""
    lowest_cell_at_s: float
    lowest_cell: CellPlace | None
    highest_cell_voltage_v: float | None
    lowest_bank_soc_pct: float | None
    final_bank_soc_pct: float
    time_to_prealarm_s: float | None
    """When the pre-alarm first rose; None: never."""
    time_to_load_disconnect_s: float | None
    """When the loads were first cut, for any reason; None: never."""
    prealarm_lead_s: tuple[float, ...]
    """For each load disconnect after a pre-alarm, the time from the latest pre-alarm to it."""
    alternator_overheating_risk: bool
    """The alternator ran at maximum output for more than 5 minutes (manual §2.2)."""
    alternator_overheating_risk_at_s: float | None
    alternator_at_max_output_s: float | None
    """Total time at maximum output; None without an alternator."""
    alternator_charging_s: float
    """Time with more than 0.1 A flowing into the bank through the AB port."""
    highest_ab_current_a: float
    highest_displayed_ab_current_a: float
    """The highest alternator current the app showed."""
    highest_displayed_ab_pct: float
    starter_lowest_voltage_v: float | None
    """None without a starter battery."""
    battery_damaged: bool
    battery_damaged_at_s: float | None
    """When the first battery was damaged."""
    batteries: tuple[BatterySummary, ...]
    battery_overloads: tuple[BatteryOverload, ...]
    """Every stretch above a battery's maximum continuous current for more than 10 s."""
    highest_bms_temperature_c: float | None
    lowest_battery_temperature_c: float | None
    highest_battery_temperature_c: float | None
    codes_seen: tuple[str, ...]
    """Every code raised, in the order first raised."""
    energy_wh: EnergySummary
    event_counts: dict[str, int]
    """How many events of each kind, by name."""
    charge_limit_v: float
    """The charge limit setting in force at the end."""
    clock: RunClock
    incidents: Incidents

    def to_dict(self) -> dict[str, Any]:
        """The summary as plain JSON values (lists for tuples)."""
        result: dict[str, Any] = _adapter().dump_python(self, mode="json")
        return result

    def to_json(self) -> str:
        """summary.json's text."""
        return json.dumps(self.to_dict(), indent=2) + "\n"

    @classmethod
    def from_json(cls, text: str | bytes) -> "Summary":
        """Read summary.json back, checked against the schema (pydantic's error if it is not)."""
        return _adapter().validate_json(text)

    @classmethod
    def json_schema(cls) -> dict[str, Any]:
        """The JSON Schema of summary.json (committed as docs/schemas/summary.schema.json)."""
        return {"$schema": _SCHEMA_DIALECT, **_adapter().json_schema()}


_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
"""What pydantic writes; named so a validator picks the right rules."""


@functools.cache
def _adapter() -> TypeAdapter[Summary]:
    return TypeAdapter(Summary)


def _r(value: float | None, digits: int = 3) -> float | None:
    """Round a quantity that is not a time; infinite (never seen) or None becomes None."""
    if value is None or math.isinf(value) or math.isnan(value):
        return None
    return round(value, digits)


def _soc(value: float) -> float:
    """A state of charge as a person reads it: 0 to 100 %, to 0.01 %."""
    return round(min(max(value, 0.0), 100.0), 2)


_AT_LIMIT_SLACK_A = 0.5
"""The alternator current counts as held at the limit within this much of it (or 1 %)."""


class _IncidentWatch:
    """Trips, lock-outs, blown and mismatched fuses, loads off and the AB limit, as they happen."""

    def __init__(self) -> None:
        self.loads_off_s = 0.0
        self.loads_off_first_s: float | None = None
        self.trips = 0
        self.first_trip: tuple[float, str, float] | None = None
        self.trip_peak_a: float | None = None
        self.lockout_at_s: float | None = None
        self.locked_since_s: float | None = None
        self.locked_out_s = 0.0
        self.fuse_blown_at_s: float | None = None
        self.mismatch_s = 0.0
        self.mismatch_fuses: tuple[str, str] | None = None
        self.mismatch_peaks = [-math.inf, -math.inf, -math.inf, -math.inf]
        """limit, current, displayed current, displayed %."""
        self.at_limit_since: tuple[float, float] | None = None
        self.at_limit_best: tuple[float, float, float] | None = None
        """(length, start, limit) of the longest stretch at the limit."""

    def step(self, t_s: float, dt_s: float, state: TwinState) -> None:
        outputs = state.outputs
        if outputs.load_disconnect is not Level.HIGH or not outputs.system_plus_discharge_allowed:
            self.loads_off_s += dt_s
            if self.loads_off_first_s is None:
                self.loads_off_first_s = t_s
        if state.fuse.blown and self.fuse_blown_at_s is None:
            self.fuse_blown_at_s = t_s
        charging = state.ab_current_a > 0.1
        if charging and state.fuse.setting != state.fuse.installed:
            self.mismatch_s += dt_s
            if self.mismatch_fuses is None:
                self.mismatch_fuses = (state.fuse.setting, state.fuse.installed)
            shown = state.readings
            values = (
                state.ab_limit_a,
                state.ab_current_a,
                shown.alternator_current_a or 0.0,
                shown.alternator_current_pct or 0.0,
            )
            self.mismatch_peaks = [
                max(a, b) for a, b in zip(self.mismatch_peaks, values, strict=True)
            ]
        self._at_limit(t_s, dt_s, state, charging=charging)

    def _at_limit(self, t_s: float, dt_s: float, state: TwinState, *, charging: bool) -> None:
        limit = state.ab_limit_a
        slack = max(_AT_LIMIT_SLACK_A, 0.01 * limit)
        if not (charging and limit > 0.0 and state.ab_current_a >= limit - slack):
            self.at_limit_since = None
            return
        if self.at_limit_since is None:
            self.at_limit_since = (t_s, limit)
        start, at = self.at_limit_since
        length = t_s + dt_s - start
        if self.at_limit_best is None or length > self.at_limit_best[0]:
            self.at_limit_best = (length, start, at)

    def event(self, event: Event) -> None:
        if isinstance(event, SystemPlusTripped):
            self.trips += 1
            size = abs(event.current_a)
            if self.first_trip is None:
                self.first_trip = (event.t_s, event.cause.value, size)
            self.trip_peak_a = max(self.trip_peak_a or 0.0, size)
        elif isinstance(event, SystemPlusLockedOut):
            if self.lockout_at_s is None:
                self.lockout_at_s = event.t_s
            if self.locked_since_s is None:
                self.locked_since_s = event.t_s
        elif isinstance(event, SystemPlusChanged) and event.discharge_allowed:
            self._unlock(event.t_s)

    def _unlock(self, t_s: float) -> None:
        if self.locked_since_s is not None:
            self.locked_out_s += t_s - self.locked_since_s
            self.locked_since_s = None

    def build(self, end_s: float) -> Incidents:
        self._unlock(end_s)
        peaks = [_r(v, 2) for v in self.mismatch_peaks]
        best = self.at_limit_best
        first = self.first_trip
        fuses = self.mismatch_fuses
        return Incidents(
            loads_off_s=self.loads_off_s,
            loads_off_first_s=self.loads_off_first_s,
            system_plus_trips=self.trips,
            system_plus_first_trip_s=first[0] if first else None,
            system_plus_trip_cause=first[1] if first else None,
            system_plus_trip_peak_a=_r(self.trip_peak_a, 1) if self.trip_peak_a else None,
            system_plus_lockout_at_s=self.lockout_at_s,
            system_plus_locked_out_s=self.locked_out_s,
            fuse_blown_at_s=self.fuse_blown_at_s,
            fuse_mismatch_s=self.mismatch_s,
            fuse_setting=fuses[0] if fuses else None,
            fuse_installed=fuses[1] if fuses else None,
            fuse_mismatch_limit_a=peaks[0],
            fuse_mismatch_ab_current_a=peaks[1],
            fuse_mismatch_displayed_a=peaks[2],
            fuse_mismatch_displayed_pct=peaks[3],
            ab_at_limit_longest_s=best[0] if best else 0.0,
            ab_at_limit_at_s=best[1] if best else None,
            ab_at_limit_a=round(best[2], 2) if best else None,
        )


class SummaryBuilder:
    """Watches one run's steps and events (the twin's state and events only) and sums them up."""

    def __init__(
        self,
        scenario_name: str,
        duration_s: float,
        *,
        start_time_of_day_s: float = 0.0,
        start_date: datetime.date | None = None,
    ) -> None:
        self.scenario_name = scenario_name
        self.duration_s = duration_s
        self.clock = RunClock(
            start_time_of_day_s, None if start_date is None else start_date.isoformat()
        )
        self._incidents = _IncidentWatch()
        self._lowest_cell_v = math.inf
        self._lowest_cell_at_s = 0.0
        self._lowest_cell: CellPlace | None = None
        self._highest_cell_v = -math.inf
        self._lowest_bank_soc_pct = math.inf
        self._highest_bms_c = -math.inf
        self._lowest_battery_c = math.inf
        self._highest_battery_c = -math.inf
        self._ab_charging_s = 0.0
        self._highest_ab_current_a = 0.0
        self._highest_shown_ab_current_a = 0.0
        self._highest_shown_ab_pct = 0.0
        self._prealarm_times: list[float] = []
        self._disconnect_times: list[float] = []
        self._overheat_at_s: float | None = None
        self._damaged_at_s: dict[int, float] = {}
        self._overloads: list[BatteryOverload] = []
        self._overloading: dict[int, int] = {}
        """Battery -> index in `_overloads` of its stretch still going on."""
        self._codes_seen: list[str] = []
        self._event_counts: dict[str, int] = {}

    def step(self, t_s: float, dt_s: float, state: TwinState) -> None:
        """Take in one step: the state at its start, held for `dt_s`."""
        for battery in state.batteries:
            self._battery(t_s, battery.number, battery.cell_voltages_v, battery.temperature_c)
            if battery.number in self._overloading:
                self._overload_goes_on(battery.number, abs(battery.current_a), t_s + dt_s)
        self._bank(
            dt_s, state.bank_soc_pct, state.bms_temperature_c, state.ab_current_a, state.readings
        )
        self._incidents.step(t_s, dt_s, state)

    def _battery(
        self, t_s: float, number: int, volts: tuple[float, ...], temperature_c: float
    ) -> None:
        low = min(volts)
        if low < self._lowest_cell_v:
            self._lowest_cell_v = low
            self._lowest_cell_at_s = t_s
            self._lowest_cell = CellPlace(number, volts.index(low) + 1)
        self._highest_cell_v = max(self._highest_cell_v, *volts)
        self._lowest_battery_c = min(self._lowest_battery_c, temperature_c)
        self._highest_battery_c = max(self._highest_battery_c, temperature_c)

    def _overload_goes_on(self, number: int, current_a: float, end_s: float) -> None:
        """Follow a battery's overload while it stays above its rating (to the step's end)."""
        index = self._overloading[number]
        overload = self._overloads[index]
        if current_a <= overload.rating_a:
            del self._overloading[number]
            return
        self._overloads[index] = dataclasses.replace(
            overload,
            highest_current_a=round(max(overload.highest_current_a, current_a), 2),
            duration_s=end_s - overload.from_s,
        )

    def _bank(
        self,
        dt_s: float,
        soc_pct: float,
        bms_temperature_c: float,
        ab_current_a: float,
        readings: Readings,
    ) -> None:
        self._lowest_bank_soc_pct = min(self._lowest_bank_soc_pct, soc_pct)
        self._highest_bms_c = max(self._highest_bms_c, bms_temperature_c)
        if ab_current_a > 0.1:
            self._ab_charging_s += dt_s
        self._highest_ab_current_a = max(self._highest_ab_current_a, ab_current_a)
        shown = readings.alternator_current_a
        if shown is not None:
            self._highest_shown_ab_current_a = max(self._highest_shown_ab_current_a, shown)
            pct = readings.alternator_current_pct or 0.0
            self._highest_shown_ab_pct = max(self._highest_shown_ab_pct, pct)

    def event(self, event: Event) -> None:
        """Take in one event."""
        self._event_counts[event.kind] = self._event_counts.get(event.kind, 0) + 1
        self._incidents.event(event)
        if isinstance(event, PreAlarmRaised):
            self._prealarm_times.append(event.t_s)
        elif isinstance(event, LoadDisconnected):
            self._disconnect_times.append(event.t_s)
        elif isinstance(event, AlternatorOverheatRisk) and self._overheat_at_s is None:
            self._overheat_at_s = event.t_s
        elif isinstance(event, BatteryDamaged):
            self._damaged_at_s.setdefault(event.battery, event.t_s)
        elif isinstance(event, BatteryOverloaded):
            self._overloading[event.battery] = len(self._overloads)
            self._overloads.append(
                BatteryOverload(
                    battery=event.battery,
                    from_s=event.t_s - event.duration_s,
                    rating_a=event.rating_a,
                    highest_current_a=round(abs(event.current_a), 2),
                    duration_s=event.duration_s,
                )
            )
        elif isinstance(event, CodeRaised) and event.raised.value not in self._codes_seen:
            self._codes_seen.append(event.raised.value)

    def _leads_s(self) -> tuple[float, ...]:
        """For each load disconnect, the time since the pre-alarm before it rose."""
        leads = []
        for t_ld in self._disconnect_times:
            before = [t for t in self._prealarm_times if t <= t_ld]
            if before:
                leads.append(t_ld - before[-1])
        return tuple(leads)

    def build(
        self, final: TwinState, *, steps: int, wall_time_s: float, status: Status = "complete"
    ) -> Summary:
        """The summary, with the final state for what is read at the end."""
        batteries = tuple(
            BatterySummary(
                battery=b.number,
                model=b.model,
                final_soc_pct=_soc(b.soc_pct),
                damaged=b.damaged,
                damaged_at_s=self._damaged_at_s.get(b.number, b.damaged_at_s),
                balancer=b.balancer,
            )
            for b in final.batteries
        )
        alternator = final.alternator
        starter = final.starter
        return self._assemble(
            final_bank_soc_pct=final.bank_soc_pct,
            batteries=batteries,
            alternator_at_max_output_s=alternator.at_max_total_s if alternator else None,
            starter_lowest_voltage_v=starter.lowest_voltage_v if starter else None,
            energy=EnergySummary.from_state(final.energy),
            steps=steps,
            wall_time_s=wall_time_s,
            status=status,
            end_s=final.t_s,
            charge_limit_v=final.settings.charge_limit_v,
        )

    def _assemble(
        self,
        *,
        final_bank_soc_pct: float,
        batteries: tuple[BatterySummary, ...],
        alternator_at_max_output_s: float | None,
        starter_lowest_voltage_v: float | None,
        energy: EnergySummary,
        steps: int,
        wall_time_s: float,
        status: Status,
        end_s: float,
        charge_limit_v: float,
    ) -> Summary:
        first_damage = min(self._damaged_at_s.values(), default=None)
        return Summary(
            scenario=self.scenario_name,
            status=status,
            duration_s=self.duration_s,
            steps=steps,
            wall_time_s=wall_time_s,
            lowest_cell_voltage_v=_r(self._lowest_cell_v),
            lowest_cell_at_s=self._lowest_cell_at_s,
            lowest_cell=self._lowest_cell,
            highest_cell_voltage_v=_r(self._highest_cell_v),
            lowest_bank_soc_pct=_soc(self._lowest_bank_soc_pct)
            if math.isfinite(self._lowest_bank_soc_pct)
            else None,
            final_bank_soc_pct=_soc(final_bank_soc_pct),
            time_to_prealarm_s=self._prealarm_times[0] if self._prealarm_times else None,
            time_to_load_disconnect_s=self._disconnect_times[0] if self._disconnect_times else None,
            prealarm_lead_s=self._leads_s(),
            alternator_overheating_risk=self._overheat_at_s is not None,
            alternator_overheating_risk_at_s=self._overheat_at_s,
            alternator_at_max_output_s=alternator_at_max_output_s,
            alternator_charging_s=self._ab_charging_s,
            highest_ab_current_a=round(self._highest_ab_current_a, 2),
            highest_displayed_ab_current_a=round(self._highest_shown_ab_current_a, 2),
            highest_displayed_ab_pct=round(self._highest_shown_ab_pct, 1),
            starter_lowest_voltage_v=_r(starter_lowest_voltage_v)
            if starter_lowest_voltage_v is not None
            else None,
            battery_damaged=bool(self._damaged_at_s),
            battery_damaged_at_s=first_damage,
            batteries=batteries,
            battery_overloads=tuple(self._overloads),
            highest_bms_temperature_c=_r(self._highest_bms_c, 2),
            lowest_battery_temperature_c=_r(self._lowest_battery_c, 2),
            highest_battery_temperature_c=_r(self._highest_battery_c, 2),
            codes_seen=tuple(self._codes_seen),
            energy_wh=energy,
            event_counts=dict(sorted(self._event_counts.items())),
            charge_limit_v=charge_limit_v,
            clock=self.clock,
            incidents=self._incidents.build(end_s),
        )
