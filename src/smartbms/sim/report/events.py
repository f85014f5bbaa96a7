"""The run's events on the page: markers on the plots' time axis and rows of the event table."""

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from smartbms.core.codes import Severity
from smartbms.core.events import UNDER_VOLTAGE
from smartbms.sim.report.colours import AMBER, DARK_RED, GREY, ORANGE, PURPLE, RED, SEVERITY_HEX
from smartbms.sim.verdicts import code_info

MAX_EVENT_ROWS = 500
"""The table stays scrollable; events.jsonl has them all."""
NOISY_EVENTS = frozenset({"TimelineApplied", "ChainSignalChanged"})
"""Events a reader skims: styled lighter and the first dropped when the table is too long."""
_SEVERITY_CLASS = {Severity.ERROR: "sev-e", Severity.ALARM: "sev-a", Severity.WARNING: "sev-w"}


def num(mapping: Mapping[str, object], key: str) -> float | None:
    """A record's number, None when it is missing or not a number."""
    value = mapping.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return None if math.isnan(value) else float(value)


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
    t = num(record, "t_s")
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
        info = code_info(code)
        return Marker(t, code, SEVERITY_HEX[info.severity] if info else GREY, 4, "events")
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


def event_class(record: Mapping[str, object]) -> str:
    """The table row's CSS class: its code's severity, cleared, routine, or none."""
    kind = str(record.get("event", ""))
    if kind in NOISY_EVENTS:
        return "noisy"
    if kind in {"BatteryDamaged", "PreAlarmOutputDamaged"}:
        return "sev-e"
    if kind == "AlternatorOverheatRisk":
        return "sev-a"
    if kind == "CodeCleared" or kind.endswith(("Reconnected", "Cleared", "Released", "Left")):
        return "cleared"
    info = code_info(str(record.get("code") or ""))
    if info is None:
        return ""
    return _SEVERITY_CLASS[info.severity]


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
