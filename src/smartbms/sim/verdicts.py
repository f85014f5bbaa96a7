"""The verdicts of a run: what an installer wants to know at a glance, judged from its summary.

Pure functions from a `Summary` and the run's event records (events.jsonl's dicts) to frozen
`Verdict` values. The thresholds live here and nowhere else: the report and the command line
only render the verdicts (colour, badge, table row), so the two can never disagree.
"""

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Literal

from smartbms.core import constants as c
from smartbms.core.codes import CODE_TABLE, Code, CodeInfo, Severity
from smartbms.core.events import UNDER_VOLTAGE
from smartbms.core.units import duration_text, wall_clock_text
from smartbms.sim.summary import Incidents, RunClock, Summary

VerdictStatus = Literal["ok", "warning", "problem", "info"]
""""info": nothing to judge (no alternator, no disconnect needing a lead, ...)."""

PRE_ALARM_LEAD_MIN_S = 30.0
"""The manual's promise: the pre-alarm comes at least 30 s before the loads are cut (OUT-4)."""
STARTER_OK_V = 10.5
"""Rule of thumb for 12 V lead-acid: healthy cranking stays above 10.5 V."""
STARTER_MIN_V = 9.6
"""Below this while cranking the engine may not start."""
SOC_OK_PCT = 20.0
SOC_LOW_PCT = 10.0
AT_LIMIT_WARN_S = 300.0
"""The alternator held at the BMS's current limit this long is worth a word (manual §2.2)."""

EventRecord = Mapping[str, object]
"""One event as events.jsonl has it: {"t_s": ..., "event": "LoadDisconnected", ...}."""


@dataclasses.dataclass(frozen=True, slots=True)
class Verdict:
    """One verdict: what it is about, how it went, the number, and a line of why."""

    title: str
    status: VerdictStatus
    value: str
    """The headline value ('1 h 42 min', '3.012 V', 'never')."""
    detail: str = ""
    status_text: str = ""
    """The status in words for readers who do not see colour ('✓ ≥ 30 s', '✗ loads cut')."""


def code_info(label: str) -> CodeInfo | None:
    """A code's table entry from its label ('A-B11'), None for a label that is not a code."""
    try:
        return CODE_TABLE[Code(label)]
    except ValueError:
        return None


def verdicts(summary: Summary, events: Sequence[EventRecord] = ()) -> tuple[Verdict, ...]:
    """The run's verdicts in reading order; `events` refine the load-disconnect ones."""
    leads = prealarm_leads(summary, events)
    clock = summary.clock
    incidents = summary.incidents
    found = (
        _lowest_cell(summary),
        _prealarm(summary),
        _disconnect(leads, incidents, clock),
        _lead(leads),
        _system_plus(incidents, clock),
        _fuse_mismatch(incidents),
        _fuse_blown(incidents, clock),
        _at_limit(incidents, clock),
        _alternator(summary),
        _starter(summary),
        _damage(summary),
        _overload(summary),
        _soc(summary),
        _bms_temperature(summary),
        _codes(summary),
    )
    return tuple(v for v in found if v is not None)


def clock_at(clock: RunClock, t_s: float) -> str:
    """A time of the run on the wall clock, to the second: 'Fri 16:00:05' or 'day 1 16:00:05'."""
    return wall_clock_text(
        t_s, start_time_of_day_s=clock.start_time_of_day_s, start_weekday=clock.weekday
    )


def _at(t_s: float | None, clock: RunClock | None = None) -> str:
    """'after 1 h 42 min (day 1 09:42:13)', 'at the start (...)', or '' for no time."""
    if t_s is None:
        return ""
    when = "at the start" if t_s < 0.5 else f"after {duration_text(t_s)}"
    return f"{when} ({clock_at(clock, t_s)})" if clock is not None else when


def _time_to(t_s: float, clock: RunClock | None = None) -> tuple[str, str]:
    """A value and the words after it: '1 h 42 min' 'after the start (day 1 09:42:13)'."""
    at = f" ({clock_at(clock, t_s)})" if clock is not None else ""
    if t_s < 0.5:
        return "at once", f"at the start{at}"
    return duration_text(t_s), f"after the start{at}"


def _lowest_cell(summary: Summary) -> Verdict:
    title = "Lowest cell voltage"
    volts = summary.lowest_cell_voltage_v
    if volts is None:
        return Verdict(title, "info", "—", "no cell data")
    where = summary.lowest_cell
    place = f"battery {where.battery}, cell {where.cell}" if where is not None else ""
    when = _at(summary.lowest_cell_at_s, summary.clock)
    detail = ", ".join(part for part in (place, when) if part)
    value = f"{volts:.3f} V"
    if volts >= c.CELL_PREALARM_V:
        return Verdict(title, "ok", value, detail, "✓ above pre-alarm")
    if volts >= c.CELL_UV_MIN_V:
        return Verdict(title, "warning", value, detail, "! protection range")
    return Verdict(title, "problem", value, detail, "✗ below every cut-off")


def _prealarm(summary: Summary) -> Verdict:
    title = "Pre-alarm (W-B12)"
    t_s = summary.time_to_prealarm_s
    if t_s is None:
        return Verdict(title, "ok", "never", "the buzzer stayed quiet", "✓ none")
    value, when = _time_to(t_s, summary.clock)
    return Verdict(title, "warning", value, f"{when}: the buzzer sounds", "! sounded")


@dataclasses.dataclass(frozen=True, slots=True)
class Leads:
    """The pre-alarm lead of each under-voltage load disconnect, and those that had none."""

    leads_s: tuple[float, ...]
    without_prealarm: int
    first_disconnect: tuple[float, str] | None
    """Time and reason of the first load disconnect of any kind."""


def prealarm_leads(summary: Summary, events: Sequence[EventRecord]) -> Leads:
    """The pre-alarm leads, from the events when there are any, else from the summary.

    The events tell an under-voltage cut (which the pre-alarm must announce) from a safe-state or
    switched-off one (which it does not); the summary counts them all.
    """
    disconnects = [e for e in events if e.get("event") == "LoadDisconnected"]
    if not disconnects:
        leads = summary.prealarm_lead_s
        cuts = summary.event_counts.get("LoadDisconnected", 0)
        first_s = summary.time_to_load_disconnect_s
        if first_s is not None:
            cuts = max(cuts, 1)
        first = (first_s, UNDER_VOLTAGE) if first_s is not None else None
        return Leads(leads, max(cuts - len(leads), 0), first)
    leads_s: list[float] = []
    missing = 0
    raised: float | None = None
    cleared: float | None = None
    for record in sorted(events, key=_time):
        t = _time(record)
        kind = record.get("event")
        if kind == "PreAlarmRaised":
            raised, cleared = t, None
        elif kind == "PreAlarmCleared":
            cleared = t
        elif kind == "LoadDisconnected" and record.get("reason", UNDER_VOLTAGE) == UNDER_VOLTAGE:
            # a pre-alarm that cleared at this very instant still announced this cut (OUT-7)
            if raised is not None and (cleared is None or cleared >= t - 1e-6):
                leads_s.append(round(t - raised, 3))
            else:
                missing += 1
            raised = cleared = None
    first_record = min(disconnects, key=_time)
    first = (_time(first_record), str(first_record.get("reason", UNDER_VOLTAGE)))
    return Leads(tuple(leads_s), missing, first)


def _time(record: EventRecord) -> float:
    value = record.get("t_s")
    return float(value) if isinstance(value, int | float) else 0.0


def _disconnect(leads: Leads, incidents: Incidents, clock: RunClock) -> Verdict:
    title = "Load disconnect"
    off_s = incidents.loads_off_s
    if leads.first_disconnect is None:
        if off_s <= 0.0 or incidents.loads_off_first_s is None:
            return Verdict(title, "ok", "never", "the loads stayed on", "✓ none")
        why = (
            "System+ locked out"
            if incidents.system_plus_lockout_at_s is not None
            else ("System+ tripped" if incidents.system_plus_trips else "outputs off")
        )
        detail = (
            f"loads off for {duration_text(off_s)} in all, first "
            f"{_at(incidents.loads_off_first_s, clock)}: {why}"
        )
        return Verdict(title, "problem", duration_text(off_s), detail, "✗ loads off")
    t, reason = leads.first_disconnect
    value, when = _time_to(t, clock)
    if off_s > 0.0:
        when = f"{when}; loads off {duration_text(off_s)} in all"
    if reason == UNDER_VOLTAGE:
        detail = f"{when}: under-voltage (A-B11), loads cut"
        return Verdict(title, "problem", value, detail, "✗ loads cut")
    if reason == "system switched off":
        return Verdict(
            title, "info", value, f"{when}: the system was switched off", "— switched off"
        )
    return Verdict(title, "problem", value, f"{when}: {reason}, loads cut", "✗ loads cut")


def _lead(leads: Leads) -> Verdict:
    title = "Pre-alarm lead"
    values = leads.leads_s
    if not values and not leads.without_prealarm:
        return Verdict(title, "info", "—", "no under-voltage load disconnect", "— none needed")
    if not values:
        return Verdict(title, "problem", "none", "loads cut without a pre-alarm", "✗ no warning")
    shortest = min(values)
    value = duration_text(shortest)
    detail = f"before the load disconnect; manual: ≥ {PRE_ALARM_LEAD_MIN_S:.0f} s"
    if len(values) > 1:
        detail = f"shortest of {len(values)}; " + detail
    if leads.without_prealarm:
        detail = f"{leads.without_prealarm} cut(s) had no pre-alarm; " + detail
        return Verdict(title, "problem", value, detail, "✗ missing warning")
    if shortest >= PRE_ALARM_LEAD_MIN_S:
        return Verdict(title, "ok", value, detail, "✓ ≥ 30 s")
    return Verdict(title, "problem", value, detail, "✗ under 30 s")


def _amps(label: str | None) -> str:
    """A fuse label as read: '125A' -> '125 A'."""
    return (label or "?").removesuffix("A") + " A"


def _system_plus(incidents: Incidents, clock: RunClock) -> Verdict | None:
    """A System+ trip (A-A12), and the lock-out after three retries, with the numbers."""
    trips = incidents.system_plus_trips
    first = incidents.system_plus_first_trip_s
    if not trips or first is None:
        return None
    title = "System+ trip (A-A12)"
    peak = incidents.system_plus_trip_peak_a
    cause = incidents.system_plus_trip_cause or "trip"
    amps = f" at {peak:,.0f} A" if peak is not None else ""
    times = "once" if trips == 1 else f"{trips} times"
    detail = f"{cause}{amps}, first {_at(first, clock)}; tripped {times}"
    locked = incidents.system_plus_lockout_at_s
    if locked is None:
        return Verdict(title, "warning", f"tripped {times}", detail, "! tripped, retried")
    held = duration_text(incidents.system_plus_locked_out_s)
    detail += (
        f"; locked out {_at(locked, clock)} for {held}: System+ loads and chargers off "
        "until the system is switched off and on"
    )
    return Verdict(title, "problem", f"locked out {held}", detail, "✗ locked out")


def _fuse_mismatch(incidents: Incidents) -> Verdict | None:
    """The fuse type setting that does not match the installed fuse, while the alternator ran."""
    if incidents.fuse_mismatch_s <= 0.0:
        return None
    setting, installed = _amps(incidents.fuse_setting), _amps(incidents.fuse_installed)
    limit = incidents.fuse_mismatch_limit_a
    flowed = incidents.fuse_mismatch_ab_current_a
    shown = incidents.fuse_mismatch_displayed_a
    pct = incidents.fuse_mismatch_displayed_pct
    parts = []
    if limit is not None:
        parts.append(
            f"alternator limited to {limit:.0f} A with the {setting} fuse setting while a "
            f"{installed} fuse is installed"
        )
    if flowed is not None and shown is not None:
        shown_pct = f" ({pct:.0f} %)" if pct is not None else ""
        parts.append(f"up to {flowed:.0f} A flowed, the app showed {shown:.0f} A{shown_pct}")
    parts.append(f"for {duration_text(incidents.fuse_mismatch_s)} of charging")
    value = f"{setting} set, {installed} fitted"
    return Verdict("Fuse type setting", "problem", value, "; ".join(parts), "✗ mismatch")


def _fuse_blown(incidents: Incidents, clock: RunClock) -> Verdict | None:
    at = incidents.fuse_blown_at_s
    if at is None:
        return None
    detail = f"{_at(at, clock)}: the alternator no longer charges the bank"
    return Verdict("AB fuse", "problem", "blown", detail, "✗ blown")


def _at_limit(incidents: Incidents, clock: RunClock) -> Verdict | None:
    """The alternator held at the BMS's current limit for more than 5 minutes at a stretch."""
    longest = incidents.ab_at_limit_longest_s
    if longest <= AT_LIMIT_WARN_S or incidents.ab_at_limit_at_s is None:
        return None
    limit = incidents.ab_at_limit_a
    amps = f" of {limit:.0f} A" if limit is not None else ""
    detail = (
        f"held at the BMS limit{amps} for {duration_text(longest)} from "
        f"{clock_at(clock, incidents.ab_at_limit_at_s)}; check the alternator's cooling"
    )
    return Verdict(
        "Alternator at its limit", "warning", duration_text(longest), detail, "! > 5 min"
    )


def _alternator(summary: Summary) -> Verdict:
    title = "Alternator overheating"
    at_max_s = summary.alternator_at_max_output_s
    risk = summary.alternator_overheating_risk
    if at_max_s is None and not risk:
        return Verdict(title, "info", "no alternator", "", "— n/a")
    at_max = _at_max_text(at_max_s)
    if risk:
        when = _at(summary.alternator_overheating_risk_at_s, summary.clock)
        detail = "; ".join(part for part in (at_max, when) if part)
        return Verdict(title, "problem", "RISK", detail, "✗ over 5 min at max")
    return Verdict(title, "ok", "no risk", at_max, "✓ ok")


def _starter(summary: Summary) -> Verdict:
    title = "Starter battery lowest"
    volts = summary.starter_lowest_voltage_v
    if volts is None:
        return Verdict(title, "info", "—", "no starter battery", "— n/a")
    value = f"{volts:.2f} V"
    if volts >= STARTER_OK_V:
        return Verdict(title, "ok", value, "including cranking dips", "✓ ok")
    if volts >= STARTER_MIN_V:
        return Verdict(title, "warning", value, "weak while cranking", "! weak")
    return Verdict(title, "problem", value, "the engine may not start", "✗ too low")


def _damage(summary: Summary) -> Verdict:
    title = "Battery damaged"
    if not summary.battery_damaged:
        return Verdict(title, "ok", "no", "no deep-discharge damage", "✓ none")
    which = [str(b.battery) for b in summary.batteries if b.damaged]
    detail = _at(summary.battery_damaged_at_s, summary.clock)
    if which:
        detail = f"battery {', '.join(which)}; {detail}"
    return Verdict(title, "problem", "YES", detail, "✗ deep discharge")


def _overload(summary: Summary) -> Verdict:
    """Above a battery's maximum continuous current for more than 10 s (issue 13)."""
    title = "Battery current"
    overloads = summary.battery_overloads
    if not overloads:
        detail = "no battery above its maximum continuous current for more than 10 s"
        return Verdict(title, "ok", "within ratings", detail, "✓ ok")
    worst = max(overloads, key=lambda o: o.duration_s)
    value = f"{worst.highest_current_a:.0f} A"
    detail = (
        f"battery {worst.battery}: above its {worst.rating_a:.0f} A rating for "
        f"{duration_text(worst.duration_s)}, {_at(worst.from_s)}"
    )
    if len(overloads) > 1:
        detail += f"; {len(overloads)} overloads in all"
    return Verdict(title, "problem", value, detail, "✗ overloaded")


def _soc(summary: Summary) -> Verdict:
    title = "Final state of charge"
    final = _clamp_pct(summary.final_bank_soc_pct)
    lowest = summary.lowest_bank_soc_pct
    detail = f"lowest {_clamp_pct(lowest):.1f} %" if lowest is not None else ""
    value = f"{final:.1f} %"
    if final >= SOC_OK_PCT:
        return Verdict(title, "ok", value, detail, "✓ ok")
    if final >= SOC_LOW_PCT:
        return Verdict(title, "warning", value, detail, "! low")
    return Verdict(title, "problem", value, detail, "✗ empty")


def _clamp_pct(value: float) -> float:
    """A state of charge shown honestly: 0 to 100 %, never -0.3 %."""
    return min(max(value, 0.0), 100.0) + 0.0  # + 0.0: no "-0.0"


def _bms_temperature(summary: Summary) -> Verdict | None:
    highest = summary.highest_bms_temperature_c
    if highest is None:
        return None
    title = "BMS temperature"
    value = f"{highest:.1f} °C"
    if highest >= c.BMS_OVERTEMP_TRIP_C:
        return Verdict(title, "problem", value, "over-temperature trip (A-B15)", "✗ trip")
    if highest >= c.BMS_DERATE_START_C:
        return Verdict(title, "warning", value, "alternator current derated", "! derating")
    detail = f"highest; derating at {c.BMS_DERATE_START_C:.0f} °C"
    return Verdict(title, "ok", value, detail, "✓ ok")


def _codes(summary: Summary) -> Verdict:
    title = "Codes shown"
    codes = summary.codes_seen
    if not codes:
        return Verdict(title, "ok", "none", "no warning, alarm or error", "✓ none")
    infos = [code_info(code) for code in codes]
    severities = {info.severity for info in infos if info is not None}
    names = ", ".join(
        f"{code} {info.name if info else ''}".strip()
        for code, info in zip(codes, infos, strict=True)
    )
    if Severity.ERROR in severities:
        return Verdict(title, "problem", " ".join(codes), names, "✗ error")
    if Severity.ALARM in severities:
        return Verdict(title, "problem", " ".join(codes), names, "✗ alarm")
    return Verdict(title, "warning", " ".join(codes), names, "! warning")


def _at_max_text(at_max_s: float | None) -> str:
    if at_max_s is None:
        return ""
    if at_max_s <= 0.0:
        return "never at maximum output"
    return f"{duration_text(at_max_s)} at maximum output"
