"""report.html: one run on one page, for an installer who would rather look than read.

The page answers the questions a van or boat installer asks before wiring anything (when does the
pre-alarm sound, when are the loads cut, does the alternator overheat, is a battery damaged) with
coloured verdict cards, then shows why with plots on one shared time axis, then lists the events.

It is one self-contained file: inline CSS, plots as inline SVG made by matplotlib (Agg, no
pyplot state), no scripts and no external address, so it can be mailed or archived as is. Plots
are decimated to min/max envelopes of a few thousand points, so a 30-day trace renders in seconds
and a 10-second short circuit in it stays visible; on/off states are drawn as exact intervals.
"""

import csv
import html
import io
import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # no display, no GUI toolkit: the report is rendered to a string

import numpy as np  # after the backend choice, as matplotlib asks
import numpy.typing as npt
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from matplotlib.ticker import MaxNLocator
from matplotlib.typing import RcKeyType

from smartbms import __version__
from smartbms.core import constants as c
from smartbms.core.codes import CODE_TABLE, Code, Severity
from smartbms.core.signals import LED_COLOURS, LED_NAMES
from smartbms.sim.output import LED_COLUMNS

FloatArray = npt.NDArray[np.float64]

MAX_PLOT_POINTS = 4000
"""Per series: two points per pixel column of a wide screen; more only slows the page down."""
MAX_EVENT_ROWS = 500
"""The table stays scrollable; events.jsonl has them all."""
PRE_ALARM_LEAD_MIN_S = 30.0
"""The manual's promise: the pre-alarm comes at least 30 s before the loads are cut (OUT-4)."""

# --- colours (Okabe-Ito where series must be told apart: safe for colour-blind readers) ---------
GREEN = "#1a7f37"
AMBER = "#b58300"
ORANGE = "#d9480f"
RED = "#c92a2a"
DARK_RED = "#862e2e"
PURPLE = "#7048e8"
GREY = "#6e7781"
INK = "#1f2328"
SERIES = ("#0072B2", "#009E73", "#CC79A7", "#56B4E9", "#8c6d31", "#6a4c93")
"""Per battery; no red, orange or amber: those mean thresholds and alarms on this page."""
LED_HEX = {
    "green": "#2f9e44",
    "red": "#e03131",
    "blue": "#1c7ed6",
    "yellow": "#f1c40f",
    "orange": "#f76707",
}
SEVERITY_HEX = {Severity.ERROR: RED, Severity.ALARM: ORANGE, Severity.WARNING: AMBER}

# --- page geometry: every plot has the same width and margins, so their time axes line up -------
FIG_W_IN = 11.0
LEFT_IN = 0.9
RIGHT_IN = 2.35
PANEL_H_IN = 2.35

NOISY_EVENTS = frozenset({"TimelineApplied", "ChainSignalChanged"})
"""Events a reader skims: styled lighter and the first dropped when the table is too long."""


# --- reading the trace ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Trace:
    """The trace as columns: numbers as float arrays (missing cells NaN), codes as text."""

    t_s: FloatArray
    numbers: dict[str, FloatArray]
    codes: list[str]

    def get(self, name: str) -> FloatArray | None:
        """A column, or None when it is absent or has no number at all (nothing to plot)."""
        values = self.numbers.get(name)
        if values is None or values.size == 0 or bool(np.all(np.isnan(values))):
            return None
        return values

    @property
    def battery_count(self) -> int:
        """How many batteries the trace has columns for."""
        count = 0
        while f"battery{count + 1}_soc_pct" in self.numbers:
            count += 1
        return count


def read_trace(path: Path) -> Trace:
    """Read trace.csv (or trace.parquet); unknown or missing columns are fine."""
    if path.suffix == ".parquet":
        return _read_parquet(path)
    with path.open(encoding="utf-8", newline="") as file:
        reader = csv.reader(file)
        header = next(reader, [])
        rows = [row for row in reader if row]
    columns = list(zip(*rows, strict=False)) if rows else [() for _ in header]
    numbers: dict[str, FloatArray] = {}
    codes: list[str] = []
    for name, cells in zip(header, columns, strict=False):
        if name == "codes":
            codes = list(cells)
        else:
            numbers[name] = _floats(cells)
    return _trace(numbers, codes)


def _read_parquet(path: Path) -> Trace:
    import pyarrow.parquet as pq  # noqa: PLC0415  # optional extra, only for Parquet traces

    table = pq.read_table(str(path))
    numbers: dict[str, FloatArray] = {}
    codes: list[str] = []
    for name in table.column_names:
        column = table.column(name)
        if name == "codes":
            codes = [str(v or "") for v in column.to_pylist()]
        else:
            numbers[name] = np.asarray(column.to_numpy(zero_copy_only=False), dtype=np.float64)
    return _trace(numbers, codes)


def _trace(numbers: dict[str, FloatArray], codes: list[str]) -> Trace:
    t_s = numbers.get("t_s", np.zeros(0))
    if len(codes) != t_s.size:
        codes = [""] * t_s.size
    return Trace(t_s=t_s, numbers=numbers, codes=codes)


def _floats(cells: Sequence[str]) -> FloatArray:
    try:
        return np.fromiter(map(float, cells), dtype=np.float64, count=len(cells))
    except ValueError:  # an empty cell: the slow way, NaN for what is not a number
        return np.array([_float(cell) for cell in cells], dtype=np.float64)


def _float(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        return math.nan


# --- decimation ----------------------------------------------------------------------------------


def envelope(
    x: FloatArray, y: FloatArray, max_points: int = MAX_PLOT_POINTS
) -> tuple[FloatArray, FloatArray]:
    """At most `max_points` points that keep each bucket's minimum and maximum, in time order.

    A plain every-n-th sample would drop a 10 s spike from a 30-day trace; the envelope keeps it.
    """
    n = y.size
    if n <= max_points:
        return x, y
    size = -(-n // max(max_points // 2, 1))
    buckets = -(-n // size)
    padded = np.full(buckets * size, np.nan)
    padded[:n] = y
    blocks = padded.reshape(buckets, size)
    low = np.argmin(np.where(np.isnan(blocks), np.inf, blocks), axis=1)
    high = np.argmax(np.where(np.isnan(blocks), -np.inf, blocks), axis=1)
    base = np.arange(buckets) * size
    first = base + np.minimum(low, high)
    second = base + np.maximum(low, high)
    index = np.minimum(np.column_stack((first, second)).ravel(), n - 1)
    return x[index], y[index]


def intervals(t: FloatArray, values: FloatArray, end_t: float) -> list[tuple[float, float, float]]:
    """The stretches where a sampled state is non-zero, as (start, end, value).

    Each sample holds until the next one (the trace holds a step's values), the last until the end.
    """
    if t.size == 0:
        return []
    v = np.nan_to_num(values, nan=0.0)
    change = np.flatnonzero(np.diff(v) != 0) + 1
    starts = np.concatenate(([0], change))
    stops = np.concatenate((change, [v.size]))
    times = np.append(t, max(end_t, float(t[-1])))
    return [
        (float(times[a]), float(times[b]), float(v[a]))
        for a, b in zip(starts, stops, strict=True)
        if v[a] != 0
    ]


def _merge_close(
    spans: list[tuple[float, float, float]], gap: float
) -> list[tuple[float, float, float]]:
    """Join stretches closer than `gap` (below one pixel): a blinking output stays one bar."""
    merged: list[tuple[float, float, float]] = []
    for start, stop, value in spans:
        if merged and start - merged[-1][1] < gap and merged[-1][2] == value:
            merged[-1] = (merged[-1][0], stop, value)
        else:
            merged.append((start, stop, value))
    return merged


# --- small formatting helpers --------------------------------------------------------------------


def duration_text(seconds: float) -> str:
    """A duration as a person says it: '30.0 s', '23 min 19 s', '2 h 05 min', '7 d 16 h'."""
    s = max(seconds, 0.0)
    if s < 99.95:
        return f"{s:.1f} s"
    if round(s) < 120:
        return f"{s:.0f} s"
    if round(s) < 3600:
        m, sec = divmod(round(s), 60)
        return f"{m} min {sec:02d} s" if sec else f"{m} min"
    if round(s / 60) < 1440:
        h, m = divmod(round(s / 60), 60)
        return f"{h} h {m:02d} min" if m else f"{h} h"
    d, h = divmod(round(s / 3600), 24)
    return f"{d} d {h} h" if h else f"{d} d"


def clock_text(seconds: float) -> str:
    """Time since the start as 'd hh:mm:ss' (the event table's column)."""
    total = max(math.floor(seconds + 1e-6), 0)
    d, rest = divmod(total, 86400)
    h, rest = divmod(rest, 3600)
    m, s = divmod(rest, 60)
    return f"{d} {h:02d}:{m:02d}:{s:02d}"


def _num(mapping: Mapping[str, object], key: str) -> float | None:
    value = mapping.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return None if math.isnan(value) else float(value)


def _esc(text: object) -> str:
    return html.escape(str(text), quote=True)


def _code_severity(label: str) -> Severity | None:
    for code in Code:
        if code.value == label:
            return CODE_TABLE[code].severity
    return None


def _code_name(label: str) -> str:
    for code in Code:
        if code.value == label:
            return CODE_TABLE[code].name
    return ""


# --- verdict cards -------------------------------------------------------------------------------

OK, WARN, BAD, INFO = "ok", "warn", "bad", "info"
_BADGE = {OK: "✓ OK", WARN: "! Warning", BAD: "✗ Problem", INFO: "— n/a"}


@dataclass(frozen=True, slots=True)
class Card:
    """One verdict: a title, a big value, a status (colour and word) and a line of detail."""

    title: str
    value: str
    status: str
    detail: str = ""
    badge: str = ""


def verdict_cards(
    summary: Mapping[str, object], events: Sequence[Mapping[str, object]] = ()
) -> list[Card]:
    """The summary's verdicts as cards, each coloured and worded (never colour alone)."""
    leads = prealarm_leads(summary, events)
    known = bool(events) or "time_to_load_disconnect_h" in summary
    cards = [
        _lowest_cell_card(summary),
        _prealarm_card(summary) if "time_to_prealarm_h" in summary else None,
        _disconnect_card(leads) if known else None,
        _lead_card(leads) if known else None,
        _alternator_card(summary),
        _starter_card(summary),
        _damage_card(summary) if "battery_damaged" in summary else None,
        _soc_card(summary),
        _bms_temperature_card(summary),
        _codes_card(summary) if "codes_seen" in summary else None,
    ]
    # a verdict the summary does not hold is left out rather than shown as a green "never"
    return [card for card in cards if card is not None]


def _at(hours: float | None) -> str:
    if hours is None:
        return ""
    return "at the start" if hours * 3600.0 < 0.5 else f"after {duration_text(hours * 3600.0)}"


def _time_to(hours: float) -> tuple[str, str]:
    """A card's value and the words after it: '1 h 42 min' 'after the start', or 'at once'."""
    if hours * 3600.0 < 0.5:
        return "at once", "at the start"
    return duration_text(hours * 3600.0), "after the start"


def _lowest_cell_card(summary: Mapping[str, object]) -> Card:
    volts = _num(summary, "lowest_cell_voltage_v")
    if volts is None:
        return Card("Lowest cell voltage", "—", INFO, "no cell data")
    where = summary.get("lowest_cell")
    place = ""
    if isinstance(where, Mapping):
        place = f"battery {where.get('battery', '?')}, cell {where.get('cell', '?')}"
    when = _at(_num(summary, "lowest_cell_at_h"))
    detail = ", ".join(part for part in (place, when) if part)
    if volts >= c.CELL_PREALARM_V:
        return Card("Lowest cell voltage", f"{volts:.3f} V", OK, detail, "✓ above pre-alarm")
    if volts >= c.CELL_UV_MIN_V:
        return Card("Lowest cell voltage", f"{volts:.3f} V", WARN, detail, "! protection range")
    return Card("Lowest cell voltage", f"{volts:.3f} V", BAD, detail, "✗ below every cut-off")


def _prealarm_card(summary: Mapping[str, object]) -> Card:
    hours = _num(summary, "time_to_prealarm_h")
    if hours is None:
        return Card("Pre-alarm (W-B12)", "never", OK, "the buzzer stayed quiet", "✓ none")
    value, when = _time_to(hours)
    return Card("Pre-alarm (W-B12)", value, WARN, f"{when}: the buzzer sounds", "! sounded")


UNDER_VOLTAGE = "under-voltage"
"""The reason of a load disconnect the pre-alarm must announce (A-B11); not safe state, not off."""


@dataclass(frozen=True, slots=True)
class Leads:
    """The pre-alarm lead of each under-voltage load disconnect, and those that had none."""

    leads_s: list[float]
    without_prealarm: int
    first_disconnect: tuple[float, str] | None
    """Time and reason of the first load disconnect of any kind."""


def prealarm_leads(summary: Mapping[str, object], events: Sequence[Mapping[str, object]]) -> Leads:
    """The pre-alarm leads, from the events when there are any, else from the summary.

    The events tell an under-voltage cut (which the pre-alarm must announce) from a safe-state or
    switched-off one (which it does not); the summary counts them all.
    """
    disconnects = [e for e in events if e.get("event") == "LoadDisconnected"]
    if not disconnects:
        raw = summary.get("prealarm_lead_s")
        leads = (
            [float(v) for v in raw if isinstance(v, int | float)] if isinstance(raw, list) else []
        )
        counts = summary.get("event_counts")
        count = counts.get("LoadDisconnected") if isinstance(counts, Mapping) else None
        cuts = count if isinstance(count, int) else 0
        hours = _num(summary, "time_to_load_disconnect_h")
        if hours is not None:
            cuts = max(cuts, 1)
        first = (hours * 3600.0, UNDER_VOLTAGE) if hours is not None else None
        return Leads(leads, max(cuts - len(leads), 0), first)
    leads_s: list[float] = []
    missing = 0
    raised: float | None = None
    cleared: float | None = None
    for record in sorted(events, key=lambda r: _num(r, "t_s") or 0.0):
        t = _num(record, "t_s") or 0.0
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
    first_record = min(disconnects, key=lambda r: _num(r, "t_s") or 0.0)
    first = (_num(first_record, "t_s") or 0.0, str(first_record.get("reason", UNDER_VOLTAGE)))
    return Leads(leads_s, missing, first)


def _disconnect_card(leads: Leads) -> Card:
    title = "Load disconnect"
    if leads.first_disconnect is None:
        return Card(title, "never", OK, "the loads stayed on", "✓ none")
    t, reason = leads.first_disconnect
    value, when = _time_to(t / 3600.0)
    if reason == UNDER_VOLTAGE:
        return Card(title, value, BAD, f"{when}: under-voltage (A-B11), loads cut", "✗ loads cut")
    if reason == "system switched off":
        return Card(title, value, INFO, f"{when}: the system was switched off", "— switched off")
    return Card(title, value, BAD, f"{when}: {reason}, loads cut", "✗ loads cut")


def _lead_card(leads: Leads) -> Card:
    title = "Pre-alarm lead"
    values = leads.leads_s
    if not values and not leads.without_prealarm:
        return Card(title, "—", INFO, "no under-voltage load disconnect", "— none needed")
    if not values:
        return Card(title, "none", BAD, "loads cut without a pre-alarm", "✗ no warning")
    shortest = min(values)
    detail = f"before the load disconnect; manual: ≥ {PRE_ALARM_LEAD_MIN_S:.0f} s"
    if len(values) > 1:
        detail = f"shortest of {len(values)}; " + detail
    if leads.without_prealarm:
        detail = f"{leads.without_prealarm} cut(s) had no pre-alarm; " + detail
        return Card(title, duration_text(shortest), BAD, detail, "✗ missing warning")
    if shortest >= PRE_ALARM_LEAD_MIN_S:
        return Card(title, duration_text(shortest), OK, detail, "✓ ≥ 30 s")
    return Card(title, duration_text(shortest), BAD, detail, "✗ under 30 s")


def _alternator_card(summary: Mapping[str, object]) -> Card:
    title = "Alternator overheating"
    minutes = _num(summary, "alternator_minutes_at_max_output")
    risk = summary.get("alternator_overheating_risk") is True
    if minutes is None and not risk:
        return Card(title, "no alternator", INFO, "", "— n/a")
    at_max = f"{minutes:.1f} min at maximum output" if minutes is not None else ""
    if risk:
        when = _at(_num(summary, "alternator_overheating_risk_at_h"))
        detail = "; ".join(part for part in (at_max, when) if part)
        return Card(title, "RISK", BAD, detail, "✗ over 5 min at max")
    return Card(title, "no risk", OK, at_max, "✓ ok")


def _starter_card(summary: Mapping[str, object]) -> Card:
    title = "Starter battery lowest"
    volts = _num(summary, "starter_lowest_voltage_v")
    if volts is None:
        return Card(title, "—", INFO, "no starter battery", "— n/a")
    # rule of thumb for 12 V lead-acid: healthy cranking stays above 10.5 V, 9.6 V is the limit
    if volts >= 10.5:
        return Card(title, f"{volts:.2f} V", OK, "including cranking dips", "✓ ok")
    if volts >= 9.6:
        return Card(title, f"{volts:.2f} V", WARN, "weak while cranking", "! weak")
    return Card(title, f"{volts:.2f} V", BAD, "the engine may not start", "✗ too low")


def _damage_card(summary: Mapping[str, object]) -> Card:
    title = "Battery damaged"
    if summary.get("battery_damaged") is not True:
        return Card(title, "no", OK, "no deep-discharge damage", "✓ none")
    which = []
    batteries = summary.get("batteries")
    if isinstance(batteries, list):
        which = [
            str(b.get("battery"))
            for b in batteries
            if isinstance(b, Mapping) and b.get("damaged") is True
        ]
    detail = _at(_num(summary, "battery_damaged_at_h"))
    if which:
        detail = f"battery {', '.join(which)}; {detail}"
    return Card(title, "YES", BAD, detail, "✗ deep discharge")


def _soc_card(summary: Mapping[str, object]) -> Card:
    title = "Final state of charge"
    final = _num(summary, "final_bank_soc_pct")
    if final is None:
        return Card(title, "—", INFO, "", "— n/a")
    lowest = _num(summary, "lowest_bank_soc_pct")
    detail = f"lowest {lowest:.1f} %" if lowest is not None else ""
    if final >= 20:
        return Card(title, f"{final:.1f} %", OK, detail, "✓ ok")
    if final >= 10:
        return Card(title, f"{final:.1f} %", WARN, detail, "! low")
    return Card(title, f"{final:.1f} %", BAD, detail, "✗ empty")


def _bms_temperature_card(summary: Mapping[str, object]) -> Card | None:
    highest = _num(summary, "highest_bms_temperature_c")
    if highest is None:
        return None
    title = "BMS temperature"
    if highest >= c.BMS_OVERTEMP_TRIP_C:
        return Card(title, f"{highest:.1f} °C", BAD, "over-temperature trip (A-B15)", "✗ trip")
    if highest >= c.BMS_DERATE_START_C:
        return Card(title, f"{highest:.1f} °C", WARN, "alternator current derated", "! derating")
    return Card(
        title,
        f"{highest:.1f} °C",
        OK,
        f"highest; derating at {c.BMS_DERATE_START_C:.0f} °C",
        "✓ ok",
    )


def _codes_card(summary: Mapping[str, object]) -> Card:
    raw = summary.get("codes_seen")
    codes = [str(v) for v in raw] if isinstance(raw, list) else []
    if not codes:
        return Card("Codes shown", "none", OK, "no warning, alarm or error", "✓ none")
    severities = {_code_severity(code) for code in codes}
    names = ", ".join(f"{code} {_code_name(code)}".strip() for code in codes)
    status = BAD if severities & {Severity.ERROR, Severity.ALARM} else WARN
    badge = (
        "✗ error" if Severity.ERROR in severities else "✗ alarm" if status == BAD else "! warning"
    )
    return Card("Codes shown", " ".join(codes), status, names, badge)


# --- events for markers and the table ------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Marker:
    """An event worth a vertical line on the plots, with a short label."""

    t_s: float
    label: str
    colour: str
    rank: int
    """Lower is more important: wins the label space and the group colour."""
    lane: str
    """"events" (the BMS and the plant) or "timeline" (what the scenario did)."""


def _marker(record: Mapping[str, object]) -> Marker | None:
    t = _num(record, "t_s")
    kind = str(record.get("event", ""))
    if t is None:
        return None
    code = str(record.get("code") or "")
    if kind == "PreAlarmRaised":
        return Marker(t, "pre-alarm", AMBER, 2, "events")
    if kind == "LoadDisconnected":
        if record.get("reason", UNDER_VOLTAGE) == UNDER_VOLTAGE:
            return Marker(t, "load disconnect", RED, 1, "events")
        return Marker(t, f"loads off ({record.get('reason')})", GREY, 5, "events")
    if kind == "ChargeDisconnected":
        return Marker(t, "charge disconnect", ORANGE, 3, "events")
    if kind in {"SystemPlusTripped", "SystemPlusLockedOut"}:
        label = "System+ trip" if kind == "SystemPlusTripped" else "System+ locked out"
        return Marker(t, label, RED, 1, "events")
    if kind == "CodeRaised":
        severity = _code_severity(code)
        return Marker(t, code, SEVERITY_HEX[severity] if severity else GREY, 4, "events")
    if kind == "BatteryDamaged":
        return Marker(t, f"battery {record.get('battery', '')} damaged", DARK_RED, 0, "events")
    if kind == "AlternatorOverheatRisk":
        return Marker(t, "alternator overheat risk", RED, 0, "events")
    if kind == "FaultInjected":
        return Marker(t, f"fault: {record.get('fault', '')}", PURPLE, 3, "timeline")
    if kind == "TimelineApplied":
        action = str(record.get("action", ""))
        detail = str(record.get("detail", ""))
        label = detail if action in {"note", "set"} else f"{action} {detail}".strip()
        return Marker(t, label, GREY, 6, "timeline")
    return None


@dataclass(slots=True)
class MarkerGroup:
    """Markers close in time (under a pixel or so) share one line and one label."""

    t_s: float
    markers: list[Marker] = field(default_factory=list)

    @property
    def colour(self) -> str:
        """The most important member's colour."""
        return min(self.markers, key=lambda m: m.rank).colour

    @property
    def label(self) -> str:
        """The members' labels, most important first, without repeats."""
        seen: list[str] = []
        for marker in sorted(self.markers, key=lambda m: m.rank):
            if marker.label and marker.label not in seen:
                seen.append(marker.label)
        return ", ".join(seen)


def marker_groups(
    events: Sequence[Mapping[str, object]], window_s: float, lane: str
) -> list[MarkerGroup]:
    """The lane's markers, grouped when closer than `window_s`."""
    markers = sorted(
        (m for m in map(_marker, events) if m is not None and m.lane == lane),
        key=lambda m: m.t_s,
    )
    groups: list[MarkerGroup] = []
    for marker in markers:
        if groups and marker.t_s - groups[-1].t_s <= window_s:
            groups[-1].markers.append(marker)
        else:
            groups.append(MarkerGroup(marker.t_s, [marker]))
    return groups


_UNITS = (("_pct", "%"), ("_a", "A"), ("_v", "V"), ("_s", "s"), ("_c", "°C"), ("_ohm", "Ω"))


def event_details(record: Mapping[str, object]) -> str:
    """An event's fields in words: 'cause: short circuit · current: -4445.3 A'."""
    kind = record.get("event")
    if kind in {"TimelineApplied", "FaultInjected"}:
        head = str(record.get("action") or record.get("fault") or "")
        detail = str(record.get("detail") or "")
        return f"{head}: {detail}" if detail else head
    if kind == "ChainSignalChanged":
        state = "on" if record.get("active") else "off"
        return f"battery {record.get('battery')}: {record.get('line')} {state}"
    parts = []
    for key, value in record.items():
        if key in {"t_s", "event", "code", "raised", "cleared"}:
            continue
        name, unit = key, ""
        for suffix, symbol in _UNITS:
            if key.endswith(suffix):
                name, unit = key.removesuffix(suffix), symbol
                break
        parts.append(f"{name.replace('_', ' ')}: {_value_text(value)}{' ' + unit if unit else ''}")
    return " · ".join(parts)


def _value_text(value: object) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.4g}" if abs(value) < 1000 else f"{value:.1f}"
    if value is None:
        return "—"
    return str(value)


def _event_class(record: Mapping[str, object]) -> str:
    kind = str(record.get("event", ""))
    if kind in NOISY_EVENTS:
        return "noisy"
    if kind in {"BatteryDamaged", "PreAlarmOutputDamaged"}:
        return "sev-e"
    if kind == "AlternatorOverheatRisk":
        return "sev-a"
    if kind == "CodeCleared" or kind.endswith(("Reconnected", "Cleared", "Released", "Left")):
        return "cleared"
    severity = _code_severity(str(record.get("code") or ""))
    if severity is None:
        return ""
    return {Severity.ERROR: "sev-e", Severity.ALARM: "sev-a", Severity.WARNING: "sev-w"}[severity]


def table_events(
    events: Sequence[Mapping[str, object]], cap: int = MAX_EVENT_ROWS
) -> tuple[list[Mapping[str, object]], int, int]:
    """The rows to show (time order), how many were left out, and how many of those were routine.

    Routine events (timeline, chain lines) are dropped first, then the latest ones.
    """
    if len(events) <= cap:
        return list(events), 0, 0
    important = [i for i, e in enumerate(events) if e.get("event") not in NOISY_EVENTS]
    noisy = [i for i, e in enumerate(events) if e.get("event") in NOISY_EVENTS]
    keep = important[:cap]
    keep += noisy[: cap - len(keep)]
    chosen = sorted(keep)
    kept = set(chosen)
    noisy_left_out = sum(1 for i in noisy if i not in kept)
    return [events[i] for i in chosen], len(events) - len(chosen), noisy_left_out


# --- plots ---------------------------------------------------------------------------------------

_STYLE: dict[RcKeyType, object] = {
    "font.family": ["DejaVu Sans"],
    "font.size": 9.0,
    "axes.titlesize": 10.0,
    "axes.labelsize": 9.0,
    "axes.edgecolor": "#8c959f",
    "axes.labelcolor": INK,
    "axes.linewidth": 0.8,
    "axes.grid": True,
    "grid.color": "#d8dee4",
    "grid.linewidth": 0.6,
    "xtick.color": "#57606a",
    "ytick.color": "#57606a",
    "xtick.labelcolor": INK,
    "ytick.labelcolor": INK,
    "legend.fontsize": 8.0,
    "legend.frameon": False,
    "lines.linewidth": 1.3,
    "svg.fonttype": "none",
    "path.simplify": True,
}


@dataclass(frozen=True, slots=True)
class TimeAxis:
    """The shared time axis: its unit and span."""

    unit: str
    """'min', 'h' or 'd'."""
    scale_s: float
    end_s: float

    @classmethod
    def for_duration(cls, seconds: float) -> "TimeAxis":
        """Minutes up to an hour, hours up to three days, days beyond."""
        end = max(seconds, 60.0)
        if end <= 3600.0:
            return cls("min", 60.0, end)
        if end <= 3 * 86400.0 + 1.0:
            return cls("h", 3600.0, end)
        return cls("d", 86400.0, end)

    @property
    def label(self) -> str:
        """The axis title."""
        return {"min": "minutes", "h": "hours", "d": "days"}[self.unit] + " since the start"

    def x(self, t_s: FloatArray) -> FloatArray:
        """Seconds to the axis unit."""
        return t_s / self.scale_s

    def apply(self, ax: Axes) -> None:
        """The same limits and tick steps on every panel."""
        ax.set_xlim(0.0, self.end_s / self.scale_s)
        steps = {"min": [1, 2, 5, 10], "h": [1, 2, 3, 6, 10], "d": [1, 2, 5, 10]}[self.unit]
        ax.xaxis.set_major_locator(MaxNLocator(nbins=12, steps=steps, min_n_ticks=4))


def _figure(height_in: float, rows: int = 1, ratios: Sequence[float] | None = None) -> Figure:
    fig = Figure(figsize=(FIG_W_IN, height_in))
    fig.subplots(rows, 1, sharex=True, gridspec_kw={"height_ratios": ratios} if ratios else None)
    fig.subplots_adjust(
        left=LEFT_IN / FIG_W_IN,
        right=1.0 - RIGHT_IN / FIG_W_IN,
        top=1.0 - 0.12 / height_in,
        bottom=0.42 / height_in,
        hspace=0.08,
    )
    return fig


def _legend(ax: Axes) -> None:
    handles, _ = ax.get_legend_handles_labels()
    if handles:
        ax.legend(
            handles=handles,
            loc="upper left",
            bbox_to_anchor=(1.015, 1.0),
            borderaxespad=0.0,
            handlelength=1.8,
        )


def _no_data(ax: Axes, text: str = "no data in the trace") -> None:
    ax.text(0.5, 0.5, text, transform=ax.transAxes, ha="center", va="center", color=GREY)


@dataclass(frozen=True, slots=True)
class PlotContext:
    """What every panel needs: the trace, the time axis, the marker lines."""

    trace: Trace
    axis: TimeAxis
    marker_lines: list[tuple[float, str]]

    def line(self, ax: Axes, column: str | FloatArray | None, **style: object) -> FloatArray | None:
        """Plot a column (by name or values) as a min/max envelope; None when it is absent."""
        values = self.trace.get(column) if isinstance(column, str) else column
        if values is None:
            return None
        x, y = envelope(self.axis.x(self.trace.t_s), values)
        ax.plot(x, y, **style)  # type: ignore[arg-type]
        return values

    def finish(self, ax: Axes, ylabel: str, *, last: bool = False) -> None:
        """Markers, time axis, label and legend: the same on every panel."""
        for t_s, colour in self.marker_lines:
            ax.axvline(
                t_s / self.axis.scale_s, color=colour, lw=0.8, alpha=0.55, ls=(0, (4, 3)), zorder=1
            )
        self.axis.apply(ax)
        ax.set_ylabel(ylabel)
        if last:
            ax.set_xlabel(self.axis.label)
        _legend(ax)


def _ref(ax: Axes, y: float, label: str, colour: str) -> None:
    ax.axhline(y, color=colour, lw=0.9, ls=(0, (5, 3)), label=label, zorder=1.5)


def _battery_colour(index: int) -> str:
    return SERIES[index % len(SERIES)]


def plot_voltage(ctx: PlotContext, charge_limit_v: float) -> Figure:
    """Bank voltage and the AB terminal (starter battery / alternator), with the charge limit."""
    fig = _figure(PANEL_H_IN)
    ax = fig.axes[0]
    bank = ctx.line(ax, "bank_voltage_v", color=INK, lw=1.4, label="bank (Li+)", zorder=3)
    ab_values = ctx.trace.get("ab_voltage_v")
    if ab_values is not None and not np.nanmax(ab_values) > 5.0:
        ab_values = None  # nothing on the AB terminal: no starter battery, no alternator
    ab = ctx.line(ax, ab_values, color="#E69F00", lw=1.0, label="AB terminal (starter/alt.)")
    if bank is None:
        _no_data(ax)
    else:
        _ref(ax, charge_limit_v, f"charge limit {charge_limit_v:.1f} V", RED)
        values = [bank] + ([ab[ab > 5.0]] if ab is not None else [])
        low = min(float(np.nanmin(v)) for v in values if v.size)
        high = max(float(np.nanmax(v)) for v in values if v.size)
        ax.set_ylim(max(low - 0.25, 9.0), min(max(high, charge_limit_v) + 0.25, 16.5))
    ctx.finish(ax, "voltage (V)")
    return fig


def plot_cells(ctx: PlotContext) -> Figure:
    """Cell voltages: the lowest per battery (the one that trips the bank) and the highest."""
    fig = _figure(PANEL_H_IN)
    ax = fig.axes[0]
    count = ctx.trace.battery_count
    plotted: list[FloatArray] = []
    if count > 1:
        for index in range(count):
            values = ctx.line(
                ax,
                f"battery{index + 1}_cell_min_v",
                color=_battery_colour(index),
                lw=1.1,
                label=f"battery {index + 1} lowest cell",
            )
            if values is not None:
                plotted.append(values)
    else:
        low = ctx.line(ax, "cell_min_v", color=SERIES[0], label="lowest cell")
        if low is not None:
            plotted.append(low)
    high = ctx.line(ax, "cell_max_v", color=GREY, lw=1.0, label="highest cell (bank)")
    if high is not None:
        plotted.append(high)
    if not plotted:
        _no_data(ax)
    else:
        _ref(ax, c.CELL_OV_V, f"charge disconnect {c.CELL_OV_V:.2f} V", ORANGE)
        _ref(ax, c.CELL_PREALARM_V, f"pre-alarm {c.CELL_PREALARM_V:.1f} V", AMBER)
        _ref(ax, c.CELL_UV_DEFAULT_V, f"load disconnect {c.CELL_UV_DEFAULT_V:.1f} V", RED)
        low_v = min(float(np.nanmin(v)) for v in plotted)
        high_v = max(float(np.nanmax(v)) for v in plotted)
        ax.set_ylim(min(low_v, 2.7) - 0.05, max(high_v, 3.8) + 0.05)
    ctx.finish(ax, "cell voltage (V)")
    return fig


def plot_soc(ctx: PlotContext) -> Figure:
    """State of charge of the bank, each battery and the starter battery."""
    fig = _figure(PANEL_H_IN)
    ax = fig.axes[0]
    bank = ctx.line(ax, "bank_soc_pct", color=INK, lw=1.8, label="bank", zorder=3)
    count = ctx.trace.battery_count
    if count > 1:
        for index in range(count):
            ctx.line(
                ax,
                f"battery{index + 1}_soc_pct",
                color=_battery_colour(index),
                lw=1.0,
                label=f"battery {index + 1}",
            )
    ctx.line(ax, "starter_soc_pct", color=GREY, lw=1.1, ls=(0, (4, 2)), label="starter battery")
    if bank is None:
        _no_data(ax)
    ax.set_ylim(-3.0, 103.0)
    ctx.finish(ax, "state of charge (%)")
    return fig


def plot_currents(ctx: PlotContext) -> Figure:
    """Currents per port, positive into the bank; a rare huge spike is marked, not scaled to."""
    fig = _figure(PANEL_H_IN + 0.3)
    ax = fig.axes[0]
    series = (
        ("bank_current_a", "batteries total (+ = charging)", "#9aa4ad", 2.6),
        ("ab_current_a", "AB: alternator → bank", "#E69F00", 1.3),
        ("system_plus_current_a", "System+ (+ = into bank)", "#0072B2", 1.3),
        ("bank_devices_current_a", "bank-direct devices", "#009E73", 1.1),
    )
    drawn: list[tuple[str, str, FloatArray]] = []
    for column, label, colour, width in series:
        # the total is a wide pale band underneath: it often equals one port's current
        values = _unless_zero(ctx.trace.get(column))
        values = ctx.line(ax, values, color=colour, lw=width, label=label)
        if values is not None:
            drawn.append((label, colour, values))
    limit = _unless_zero(ctx.trace.get("ab_limit_a"))
    ctx.line(ax, limit, color="#E69F00", lw=0.8, ls=(0, (1, 1.5)), label="AB current limit")
    if not drawn:
        _no_data(ax)
    else:
        ax.axhline(0.0, color="#8c959f", lw=0.8, zorder=1)
        _min_span(ax, 10.0)
        _clip_spikes(ax, ctx, drawn, [] if limit is None else [limit])
    ctx.finish(ax, "current (A)")
    return fig


def _unless_zero(values: FloatArray | None) -> FloatArray | None:
    """A port that never carried current is left out of the plot and its legend."""
    if values is None or not np.nanmax(np.abs(values)) > 1e-6:
        return None
    return values


def _min_span(ax: Axes, span: float) -> None:
    """Widen a nearly flat axis: 0.05 °C of drift must not look like a heat wave."""
    low, high = ax.get_ylim()
    if high - low < span:
        middle = (low + high) / 2
        ax.set_ylim(middle - span / 2, middle + span / 2)


def _clip_spikes(
    ax: Axes, ctx: PlotContext, drawn: list[tuple[str, str, FloatArray]], keep: list[FloatArray]
) -> None:
    """Scale to where the currents mostly are; name a short extreme peak at the edge instead."""
    samples = np.concatenate([v[np.isfinite(v)] for v in [*(d[2] for d in drawn), *keep]])
    if samples.size == 0:
        return
    lo, hi = (float(q) for q in np.percentile(samples, [0.2, 99.8]))
    lo, hi = min(lo, 0.0), max(hi, 0.0)
    span = max(hi - lo, 10.0)
    full_lo, full_hi = float(samples.min()), float(samples.max())
    if full_lo >= lo - 1.5 * span and full_hi <= hi + 1.5 * span:
        return
    bottom, top = lo - 0.12 * span, hi + 0.12 * span
    ax.set_ylim(bottom, top)
    t = ctx.axis.x(ctx.trace.t_s)
    named: set[tuple[int, bool]] = set()
    # the named ports first: the batteries' total shares their peaks and need not repeat them
    for label, colour, values in sorted(drawn, key=lambda d: d[0].startswith("batteries")):
        finite = np.where(np.isfinite(values), values, 0.0)
        for index, beyond in (
            (int(np.argmin(finite)), finite.min() < bottom),
            (int(np.argmax(finite)), finite.max() > top),
        ):
            peak = float(finite[index])
            if not beyond or (index, peak < 0) in named:
                continue
            named.add((index, peak < 0))
            y = bottom if peak < 0 else top
            ax.annotate(
                f"{'▼' if peak < 0 else '▲'} {label.split(' (')[0]}: {peak:,.0f} A (off scale)",
                xy=(float(t[index]), y),
                xytext=(4, 8 if peak < 0 else -8),
                textcoords="offset points",
                va="bottom" if peak < 0 else "top",
                fontsize=7.5,
                color=colour,
                bbox={"boxstyle": "square,pad=0.15", "facecolor": "white", "lw": 0},
            )


def plot_temperatures(ctx: PlotContext, highest_bms_c: float | None) -> Figure:
    """BMS, batteries and surroundings; the BMS's 75/85 °C marks only when it gets near them."""
    fig = _figure(PANEL_H_IN)
    ax = fig.axes[0]
    bms = ctx.line(ax, "bms_temperature_c", color=RED, lw=1.3, label="BMS internal")
    count = ctx.trace.battery_count
    lowest_battery = math.inf
    for index in range(count):
        label = f"battery {index + 1}" if count > 1 else "battery"
        values = ctx.line(
            ax,
            f"battery{index + 1}_temperature_c",
            color=_battery_colour(index),
            lw=1.0,
            label=label,
        )
        if values is not None:
            lowest_battery = min(lowest_battery, float(np.nanmin(values)))
    ambient = ctx.line(ax, "ambient_c", color=GREY, lw=1.0, ls=(0, (4, 2)), label="ambient")
    hottest = highest_bms_c if highest_bms_c is not None else -math.inf
    if bms is not None:
        hottest = max(hottest, float(np.nanmax(bms)))
    if hottest >= c.BMS_DERATE_START_C - 15.0:
        _ref(ax, c.BMS_OVERTEMP_TRIP_C, f"BMS trip {c.BMS_OVERTEMP_TRIP_C:.0f} °C", RED)
        _ref(ax, c.BMS_DERATE_START_C, f"BMS derating {c.BMS_DERATE_START_C:.0f} °C", ORANGE)
    if lowest_battery < c.BATT_CHARGE_MIN_C + 5.0:
        _ref(ax, c.BATT_CHARGE_MIN_C, f"no charging below {c.BATT_CHARGE_MIN_C:.0f} °C", "#1c7ed6")
    if bms is None and ambient is None and count == 0:
        _no_data(ax)
    else:
        _min_span(ax, 10.0)
    ctx.finish(ax, "temperature (°C)")
    return fig


@dataclass(frozen=True, slots=True)
class Row:
    """One row of the timeline strip."""

    label: str
    spans: list[tuple[float, float, float]]
    colour: str
    group: str


def timeline_rows(trace: Trace, end_s: float) -> list[Row]:
    """Outputs, LEDs and codes as stretches in time, in reading order (top to bottom)."""
    t = trace.t_s
    rows: list[Row] = []

    def state(column: str, label: str, colour: str, *, invert: bool = False) -> None:
        values = trace.get(column)
        if values is None:
            return
        if invert:
            values = np.where(np.isnan(values), 0.0, 1.0 - values)
        rows.append(Row(label, intervals(t, values, end_s), colour, "BMS outputs"))

    state("ab_enabled", "AB enabled (alternator)", GREEN)
    state("system_plus_charge_allowed", "System+ charge allowed", GREEN)
    state("system_plus_discharge_allowed", "System+ discharge allowed", GREEN)
    state("prealarm_high", "Pre-alarm output high", AMBER)
    state("load_disconnect_high", "Load disconnect: loads cut", RED, invert=True)
    state("charge_disconnect_high", "Charge disconnect: chargers cut", ORANGE, invert=True)
    for column, name, colour in zip(LED_COLUMNS, LED_NAMES, LED_COLOURS, strict=True):
        values = trace.get(column)
        if values is not None:
            rows.append(
                Row(f"LED {name}", intervals(t, values, end_s), LED_HEX.get(colour, colour), "LEDs")
            )
    rows += _code_rows(trace, end_s)
    return rows


def _code_rows(trace: Trace, end_s: float) -> list[Row]:
    if not trace.codes:
        return []
    texts, inverse = np.unique(np.asarray(trace.codes, dtype=str), return_inverse=True)
    present = {label for text in texts for label in str(text).split()}
    rows = []
    for code in Code:
        if code.value not in present:
            continue
        having = np.array([code.value in str(text).split() for text in texts])
        values = having[inverse].astype(np.float64)
        info = CODE_TABLE[code]
        rows.append(
            Row(
                f"{code.value} {info.name}",
                intervals(trace.t_s, values, end_s),
                SEVERITY_HEX[info.severity],
                "Codes",
            )
        )
    return rows


def plot_timeline(
    ctx: PlotContext,
    rows: list[Row],
    event_groups: list[MarkerGroup],
    timeline_groups: list[MarkerGroup],
) -> Figure:
    """The state strip: one row per output, LED and code, under a lane of labelled events."""
    row_h = 0.2
    lanes_h = 1.05
    height = lanes_h + max(len(rows), 1) * row_h + 0.6
    fig = _figure(height, rows=2, ratios=(lanes_h, max(len(rows), 1) * row_h))
    lanes, strip = fig.axes
    scale = ctx.axis.scale_s
    gap = ctx.axis.end_s / 1500.0
    shortest = ctx.axis.end_s / 400.0  # a 10-minute code in 30 days still shows as a sliver
    blink_seen = False
    for position, row in enumerate(rows):
        y = len(rows) - 1 - position
        for value in (1.0, 2.0):
            spans = _merge_close([s for s in row.spans if s[2] == value], gap)
            if not spans:
                continue
            blinking = value == 2.0
            blink_seen |= blinking
            strip.broken_barh(
                [(a / scale, max(b - a, shortest) / scale) for a, b, _ in spans],
                (y - 0.34, 0.68),
                facecolors=_lighter(row.colour) if blinking else row.colour,
                hatch="///" if blinking else None,
                hatchcolor=row.colour,
                linewidth=0.0,
            )
    strip.set_ylim(-0.6, len(rows) - 0.4)
    strip.set_yticks(range(len(rows)))
    strip.set_yticklabels([_short(row.label, 32) for row in reversed(rows)], fontsize=8)
    strip.yaxis.tick_right()
    strip.tick_params(axis="y", length=0, pad=4)
    strip.grid(axis="y", visible=False)
    _group_labels(strip, rows)
    if not rows:
        _no_data(strip)
    ctx.finish(strip, "", last=True)
    legend = strip.get_legend()
    if legend is not None:
        legend.remove()
    _lane_labels(lanes, ctx, event_groups, timeline_groups)
    if blink_seen:
        fig.legend(
            handles=[
                Patch(facecolor=GREY, label="on"),
                Patch(facecolor=_lighter(GREY), hatch="///", hatchcolor=GREY, label="blinking"),
            ],
            loc="upper left",
            bbox_to_anchor=(1.0 - RIGHT_IN / FIG_W_IN + 0.012, 1.0 - 0.12 / height),
            ncols=2,
            fontsize=7.5,
        )
    return fig


def _short(text: str, length: int) -> str:
    return text if len(text) <= length else text[: length - 1].rstrip() + "…"


def _lighter(colour: str) -> str:
    """The colour mixed with two parts white: the face of a blinking LED's bar."""
    r, g, b = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    return "#" + "".join(f"{round(v + (255 - v) * 0.65):02x}" for v in (r, g, b))


def _group_labels(ax: Axes, rows: list[Row]) -> None:
    """Separators between outputs, LEDs and codes, and the group's name at the left."""
    count = len(rows)
    start = 0
    for index in range(1, count + 1):
        if index == count or rows[index].group != rows[start].group:
            top = count - 1 - start + 0.5
            bottom = count - 1 - (index - 1) - 0.5
            if index < count:
                ax.axhline(bottom, color="#8c959f", lw=0.8)
            ax.text(
                -0.012,
                top - 0.1,
                rows[start].group,
                transform=ax.get_yaxis_transform(),
                ha="right",
                va="top",
                fontsize=8,
                color="#57606a",
            )
            start = index


def _lane_labels(
    ax: Axes, ctx: PlotContext, event_groups: list[MarkerGroup], timeline_groups: list[MarkerGroup]
) -> None:
    """Two lanes of event labels and two of timeline labels, placed so none overlap."""
    ax.set_ylim(0.0, 4.0)
    ax.set_yticks([])
    ax.grid(visible=False)
    ax.axhline(2.0, color="#d8dee4", lw=0.8)
    for y, text in ((3.0, "events"), (1.0, "timeline")):
        ax.text(
            -0.012,
            y,
            text,
            transform=ax.get_yaxis_transform(),
            ha="right",
            va="center",
            fontsize=8,
            color="#57606a",
        )
    for groups, y, empty in (
        (event_groups, 3.0, "no alarm, trip or damage"),
        (timeline_groups, 1.0, "no timeline entries"),
    ):
        if not groups:
            ax.text(
                0.01,
                y,
                empty,
                transform=ax.get_yaxis_transform(),
                va="center",
                fontsize=7.5,
                color="#8c959f",
                style="italic",
            )
    width_pt = (FIG_W_IN - LEFT_IN - RIGHT_IN) * 72.0
    span = ctx.axis.end_s
    for groups, lane_ys, y_range in (
        (event_groups, (3.5, 2.5), (2.0, 4.0)),
        (timeline_groups, (1.5, 0.5), (0.0, 2.0)),
    ):
        taken: dict[float, list[tuple[float, float]]] = {y: [] for y in lane_ys}
        for group in groups:
            ax.axvline(
                group.t_s / ctx.axis.scale_s,
                ymin=y_range[0] / 4.0,
                ymax=y_range[1] / 4.0,
                color=group.colour,
                lw=1.0,
            )
        for group in sorted(groups, key=lambda g: min(m.rank for m in g.markers)):
            text = _short(group.label, 34)
            frac = group.t_s / span
            width = (len(text) * 4.4 + 6.0) / width_pt
            left = frac if frac + width <= 1.0 else frac - width
            for y in lane_ys:
                if all(left + width <= a or left >= b for a, b in taken[y]):
                    taken[y].append((left, left + width))
                    right_side = left == frac
                    ax.annotate(
                        text,
                        xy=(frac, y),
                        xycoords=("axes fraction", "data"),
                        xytext=(3 if right_side else -3, 0),
                        textcoords="offset points",
                        ha="left" if right_side else "right",
                        va="center",
                        fontsize=7.5,
                        color=group.colour if group.colour != GREY else "#57606a",
                        bbox={"boxstyle": "square,pad=0.1", "facecolor": "white", "lw": 0},
                        zorder=3,
                    )
                    break


# --- SVG for inline use --------------------------------------------------------------------------

_ROOT_SIZE = re.compile(r'<svg([^>]*?) width="[^"]*" height="[^"]*"')
_NAMESPACE = re.compile(r'\s+xmlns(?::\w+)?="[^"]*"')
_ID_REF = re.compile(r'(id="|href="#|url\(#)([^")]+)')


def figure_svg(fig: Figure, name: str, description: str) -> str:
    """A figure as an `<svg>` element for an HTML page: no XML prologue, namespace or metadata.

    Those carry http:// addresses and are not needed inline; ids get the figure's prefix so that
    several plots on one page never point at each other's clip paths.
    """
    buffer = io.StringIO()
    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": name}):
        fig.savefig(buffer, format="svg", metadata={"Date": None})
    text = buffer.getvalue()
    text = text[text.index("<svg") :]
    text = re.sub(r"<metadata>.*?</metadata>\s*", "", text, flags=re.S)
    text = re.sub(r'<style type="text/css">.*?</style>\s*', "", text, flags=re.S)
    text = _NAMESPACE.sub("", text)
    text = text.replace("xlink:href=", "href=")
    text = re.sub(r"font-family:[^;\"]*", "font-family: inherit", text)
    text = _ID_REF.sub(lambda m: f"{m.group(1)}{name}-{m.group(2)}", text)
    return _ROOT_SIZE.sub(
        rf'<svg\1 class="plot" role="img" aria-label="{_esc(description)}"', text, count=1
    ).strip()


# --- the page ------------------------------------------------------------------------------------

_CSS = """
:root { --ink:#1f2328; --muted:#57606a; --line:#d0d7de; --bg:#f6f8fa;
  --ok:#1a7f37; --ok-bg:#dafbe1; --warn:#7d5a00; --warn-bg:#fff3bf;
  --bad:#c92a2a; --bad-bg:#ffe3e3; --info:#57606a; --info-bg:#eef1f4; }
* { box-sizing: border-box; }
body { margin:0; background:var(--bg); color:var(--ink);
  font: 14px/1.45 "DejaVu Sans", system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif; }
main { max-width: 1180px; margin: 0 auto; padding: 24px 28px 40px; }
header h1 { font-size: 24px; margin: 0 0 4px; }
header p { margin: 0 0 4px; color: var(--muted); }
.meta { font-size: 13px; }
h2 { font-size: 17px; margin: 28px 0 10px; padding-bottom: 4px;
  border-bottom: 1px solid var(--line); }
h3 { font-size: 14px; margin: 16px 0 2px; }
.cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(210px, 1fr)); gap: 10px;
  margin-top: 16px; }
.card { background:#fff; border:1px solid var(--line); border-left:6px solid var(--info);
  border-radius:6px; padding:10px 12px; }
.card .t { font-size:12px; color:var(--muted); text-transform:uppercase; letter-spacing:.03em; }
.card .v { font-size:22px; font-weight:700; margin:2px 0; }
.card .d { font-size:12px; color:var(--muted); }
.badge { display:inline-block; font-size:12px; font-weight:700; padding:1px 7px; border-radius:10px;
  background:var(--info-bg); color:var(--info); }
.card.ok { border-left-color:var(--ok); }
.card.ok .badge { background:var(--ok-bg); color:var(--ok); }
.card.warn { border-left-color:#e0a800; }
.card.warn .badge { background:var(--warn-bg); color:var(--warn); }
.card.bad { border-left-color:var(--bad); }
.card.bad .badge { background:var(--bad-bg); color:var(--bad); }
.card.bad .v { color:var(--bad); }
.tables { display:flex; flex-wrap:wrap; gap:24px; align-items:flex-start; }
table { border-collapse: collapse; background:#fff; border:1px solid var(--line); font-size:13px; }
th, td { padding: 4px 10px; border-bottom: 1px solid #eaeef2; text-align:left; vertical-align:top; }
th { background:#eef1f4; font-weight:600; }
td.n, th.n { text-align:right; font-variant-numeric: tabular-nums; }
.figure { background:#fff; border:1px solid var(--line); border-radius:6px; padding:6px 4px 2px;
  margin: 6px 0 12px; }
.figure p { margin: 0 8px 2px; font-size: 12px; color: var(--muted); }
svg.plot { display:block; width:100%; height:auto; }
svg.plot * { stroke-linejoin: round; stroke-linecap: butt; }
.scroll { max-height: 720px; overflow-y: auto; border:1px solid var(--line); }
.events { width:100%; border:0; }
.events thead th { position: sticky; top: 0; z-index: 1; }
.events th:nth-child(1) { width: 8.5em; } .events th:nth-child(2) { width: 13em; }
.events th:nth-child(3) { width: 14em; }
.events td.time { font-family: "DejaVu Sans Mono", ui-monospace, Menlo, Consolas, monospace;
  white-space:nowrap; font-size:12px; }
.events tr { border-left: 5px solid transparent; }
.events tr.sev-e { background:#ffe3e3; border-left-color:#c92a2a; }
.events tr.sev-a { background:#ffe8d6; border-left-color:#d9480f; }
.events tr.sev-w { background:#fff3bf; border-left-color:#e0a800; }
.events tr.cleared td { color:#1a7f37; }
.events tr.noisy td { color:#8c959f; font-size:12px; }
.code { font-weight:700; white-space:nowrap; }
.code.bad { color: var(--bad); }
.note { color: var(--muted); font-size: 13px; }
footer { margin-top: 28px; padding-top: 10px; border-top:1px solid var(--line); color:var(--muted);
  font-size: 13px; }
footer code { background:#eef1f4; padding:0 4px; border-radius:3px; }
"""


def write_report(
    out_dir: Path,
    *,
    title: str,
    description: str = "",
    summary: Mapping[str, object],
    trace_path: Path,
    events: Sequence[Mapping[str, object]],
) -> Path:
    """Write `out_dir/report.html` (one self-contained page) and return its path."""
    out_dir.mkdir(parents=True, exist_ok=True)
    trace = read_trace(trace_path)
    duration_h = _num(summary, "duration_h")
    end_s = max(
        duration_h * 3600.0 if duration_h is not None else 0.0,
        float(trace.t_s[-1]) if trace.t_s.size else 0.0,
    )
    page = render_page(
        title=title,
        description=description,
        summary=summary,
        trace=trace,
        trace_name=trace_path.name,
        events=events,
        end_s=end_s,
    )
    path = out_dir / "report.html"
    path.write_text(page, encoding="utf-8")
    return path


def render_page(
    *,
    title: str,
    description: str,
    summary: Mapping[str, object],
    trace: Trace,
    trace_name: str,
    events: Sequence[Mapping[str, object]],
    end_s: float,
) -> str:
    """The whole HTML page as text."""
    axis = TimeAxis.for_duration(end_s)
    window = axis.end_s / 600.0
    event_groups = marker_groups(events, window, "events")
    timeline_groups = marker_groups(events, window, "timeline")
    lines = [(g.t_s, g.colour) for g in event_groups[:200]]
    ctx = PlotContext(trace, axis, lines)
    figures = _figures(ctx, summary, events, event_groups, timeline_groups)
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_esc(title)} · smartbms report</title>",
        f"<style>{_CSS}</style></head><body><main>",
        _header(title, description, summary, trace, end_s),
        _cards_html(verdict_cards(summary, events)),
        _tables_html(summary),
        "<h2>Over time</h2>",
        (
            f'<p class="note">All plots share one time axis: {_esc(axis.label)}. Dashed vertical '
            "lines mark the important events named in the strip at the bottom.</p>"
        ),
        *figures,
        _events_html(events),
        _footer(trace_name, trace, events),
        "</main></body></html>",
    ]
    return "\n".join(parts) + "\n"


def _figures(
    ctx: PlotContext,
    summary: Mapping[str, object],
    events: Sequence[Mapping[str, object]],
    event_groups: list[MarkerGroup],
    timeline_groups: list[MarkerGroup],
) -> list[str]:
    limit = _charge_limit_v(summary, events)
    plots: list[tuple[str, str, str, Callable[[], Figure]]] = [
        (
            "voltage",
            "Voltages",
            "Bank voltage at Li+ and the AB terminal (the starter battery, or the alternator).",
            lambda: plot_voltage(ctx, limit),
        ),
        (
            "cells",
            "Cell voltages",
            "The lowest cell decides: the pre-alarm sounds at 3.1 V, the loads are cut at 2.8 V.",
            lambda: plot_cells(ctx),
        ),
        ("soc", "State of charge", "", lambda: plot_soc(ctx)),
        (
            "currents",
            "Currents per port",
            "Positive is into the bank: charging. Negative is drawn from it.",
            lambda: plot_currents(ctx),
        ),
        (
            "temperatures",
            "Temperatures",
            "",
            lambda: plot_temperatures(ctx, _num(summary, "highest_bms_temperature_c")),
        ),
        (
            "timeline",
            "Outputs, LEDs, codes and events",
            "A bar means the state holds (hatched: LED blinking). Labels name the events.",
            lambda: plot_timeline(
                ctx, timeline_rows(ctx.trace, ctx.axis.end_s), event_groups, timeline_groups
            ),
        ),
    ]
    html_parts = []
    with matplotlib.rc_context(_STYLE):
        for name, heading, note, make in plots:
            fig = make()
            svg = figure_svg(fig, name, heading)
            note_html = f"<p>{_esc(note)}</p>" if note else ""
            html_parts.append(f'<h3>{_esc(heading)}</h3><div class="figure">{note_html}{svg}</div>')
    return html_parts


def _charge_limit_v(summary: Mapping[str, object], events: Iterable[Mapping[str, object]]) -> float:
    """The charge limit to draw: the summary's, the last one set during the run, or the factory."""
    limit = _num(summary, "charge_limit_v")
    for record in events:
        if record.get("event") == "SettingsChanged" and record.get("setting") == "charge_limit_v":
            new = _num(record, "new")
            limit = new if new is not None else limit
        elif record.get("event") == "ChargeLimitReached" and limit is None:
            limit = _num(record, "bank_voltage_v")
    return limit if limit is not None else c.CHARGE_LIMIT_DEFAULT_V


def _header(
    title: str, description: str, summary: Mapping[str, object], trace: Trace, end_s: float
) -> str:
    facts = [f"simulated {duration_text(end_s)}"]
    batteries = summary.get("batteries")
    count = len(batteries) if isinstance(batteries, list) else trace.battery_count
    if count:
        models = sorted(
            {str(b.get("model")) for b in batteries if isinstance(b, Mapping)}
            if isinstance(batteries, list)
            else set()
        )
        times = "\N{MULTIPLICATION SIGN}"
        facts.append(f"{count} {times} {', '.join(models)}" if models else f"{count} batteries")
    steps = _num(summary, "steps")
    wall = _num(summary, "wall_time_s")
    if steps is not None and wall is not None:
        facts.append(f"{steps:,.0f} steps in {wall:.2f} s")
    desc = f"<p>{_esc(description)}</p>" if description else ""
    return (
        f"<header><h1>{_esc(title)}</h1>{desc}"
        f'<p class="meta">{" · ".join(_esc(f) for f in facts)}</p></header>'
    )


def _cards_html(cards: Sequence[Card]) -> str:
    items = []
    for card in cards:
        badge = card.badge or _BADGE[card.status]
        detail = f'<div class="d">{_esc(card.detail)}</div>' if card.detail else ""
        items.append(
            f'<div class="card {card.status}"><div class="t">{_esc(card.title)}</div>'
            f'<div class="v">{_esc(card.value)}</div>'
            f'<span class="badge">{_esc(badge)}</span>{detail}</div>'
        )
    return f'<section class="cards">{"".join(items)}</section>'


def _wh(value: float | None) -> str:
    return "—" if value is None else f"{value:,.1f}"


def _tables_html(summary: Mapping[str, object]) -> str:
    energy = summary.get("energy_wh")
    parts = []
    if isinstance(energy, Mapping):
        rows = (
            ("Alternator (AB)", "alternator_in", None),
            ("System+", "system_plus_in", "system_plus_out"),
            ("Bank-direct devices", "bank_devices_in", "bank_devices_out"),
            ("Batteries (charged / discharged)", "batteries_in", "batteries_out"),
            ("BMS own consumption", None, "bms_consumption"),
            ("BMS heat", None, "bms_heat"),
        )
        body = "".join(
            f"<tr><td>{_esc(label)}</td>"
            f'<td class="n">{_wh(_num(energy, key_in) if key_in else None)}</td>'
            f'<td class="n">{_wh(_num(energy, key_out) if key_out else None)}</td></tr>'
            for label, key_in, key_out in rows
            if (key_in and key_in in energy) or (key_out and key_out in energy)
        )
        parts.append(
            "<div><h3>Energy per port</h3><table><tr><th>port</th>"
            '<th class="n">in (Wh)</th><th class="n">out (Wh)</th></tr>'
            f"{body}</table></div>"
        )
    batteries = summary.get("batteries")
    if isinstance(batteries, list) and batteries:
        body = ""
        for b in batteries:
            if not isinstance(b, Mapping):
                continue
            soc = _num(b, "final_soc_pct")
            damaged = b.get("damaged") is True
            when = _num(b, "damaged_at_h")
            after = f", after {duration_text(when * 3600.0)}" if when is not None else ""
            damage = f'<span class="code bad">✗ yes{after}</span>' if damaged else "no"
            body += (
                f"<tr><td>{_esc(b.get('battery', ''))}</td><td>{_esc(b.get('model', ''))}</td>"
                f'<td class="n">{"—" if soc is None else f"{soc:.1f} %"}</td><td>{damage}</td>'
                f"<td>{_esc(b.get('balancer', ''))}</td></tr>"
            )
        parts.append(
            "<div><h3>Batteries</h3><table><tr><th>#</th><th>model</th>"
            '<th class="n">final SoC</th><th>damaged</th><th>balancer</th></tr>'
            f"{body}</table></div>"
        )
    return f'<section class="tables">{"".join(parts)}</section>' if parts else ""


def _events_html(events: Sequence[Mapping[str, object]]) -> str:
    shown, left_out, noisy_left_out = table_events(events)
    head = f"<h2>Events ({len(events):,})</h2>"
    if not events:
        return head + '<p class="note">Nothing happened that the BMS or the plant reports.</p>'
    rows = []
    for record in shown:
        t = _num(record, "t_s")
        code = str(record.get("code") or "")
        code_html = ""
        if code:
            name = _code_name(code)
            code_html = f'<span class="code">{_esc(code)}</span> {_esc(name)}'
        rows.append(
            f'<tr class="{_event_class(record)}">'
            f'<td class="time">{clock_text(t) if t is not None else ""}</td>'
            f"<td>{_esc(record.get('event', ''))}</td><td>{code_html}</td>"
            f"<td>{_esc(event_details(record))}</td></tr>"
        )
    note = ""
    if left_out:
        routine = f", {noisy_left_out:,} of them routine" if noisy_left_out else ""
        note = (
            f'<p class="note">{left_out:,} more events are not shown{routine}; '
            "events.jsonl has every one.</p>"
        )
    return (
        f"{head}{note}"
        '<p class="note">Time since the start as d hh:mm:ss. Red: error (E-), orange: alarm (A-), '
        "amber: warning (W-); grey: routine; green: cleared.</p>"
        '<div class="scroll"><table class="events"><thead><tr><th>time</th><th>event</th>'
        f"<th>code</th><th>details</th></tr></thead><tbody>{''.join(rows)}</tbody></table></div>"
    )


def _footer(trace_name: str, trace: Trace, events: Sequence[Mapping[str, object]]) -> str:
    step = ""
    if trace.t_s.size > 1:
        step = f", one row every {duration_text(float(trace.t_s[1] - trace.t_s[0]))}"
    return (
        "<footer>The full data is next to this file: "
        f'<a href="events.jsonl"><code>events.jsonl</code></a> (all {len(events):,} events, one '
        f'JSON object a line), <a href="{_esc(trace_name)}"><code>{_esc(trace_name)}</code></a> '
        f"({trace.t_s.size:,} rows{step}) and "
        '<a href="summary.json"><code>summary.json</code></a> (the verdicts above). '
        f"Made by smartbms {_esc(__version__)}.</footer>"
    )
