"""report.html: one run on one page, for an installer who would rather look than read.

The page answers the installer's questions (when does the pre-alarm sound, when are the loads cut,
does the alternator overheat, is a battery damaged) with coloured verdict cards, then shows why
with interactive charts on one linked time axis (uPlot, inlined: the file works offline and can
be mailed as is), a day-by-day table and the events. The HTML is a Jinja2 template
(`templates/report.html.j2`, package data); the verdicts are judged in `smartbms.sim.verdicts`,
this module only renders them. The trace is read once, thinned as it is read (`digest`), so the
page costs the same memory and stays a few MB however long the run.
"""

import json
import math
import os
from collections.abc import Mapping, Sequence
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import jinja2
import numpy as np

from smartbms import __version__
from smartbms.core.units import clock_text, duration_text, wall_clock_text
from smartbms.sim.report.charts import ChartSpec, Panel, chart_spec
from smartbms.sim.report.digest import DAY_S, Digest, digest_trace
from smartbms.sim.report.events import event_class, event_details, num, table_events
from smartbms.sim.summary import RunClock, Summary
from smartbms.sim.verdicts import code_info, verdicts

_BADGE = {"ok": "✓ OK", "warning": "! Warning", "problem": "✗ Problem", "info": "— n/a"}
"""A verdict's status in words when it brings none of its own."""
_WEEKDAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


@cache
def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("smartbms.sim.report", "templates"),
        autoescape=True,
        trim_blocks=False,
        keep_trailing_newline=True,
    )


@cache
def _asset(name: str) -> str:
    """A packaged text file: the page's CSS and script, the vendored uPlot, the touch zoom."""
    if name.startswith("uPlot"):
        root = resources.files("smartbms").joinpath("assets", "vendor", "uplot", name)
    elif name.startswith("uplot-"):
        root = resources.files("smartbms").joinpath("assets", name)  # shared with the app
    else:
        root = resources.files("smartbms.sim.report").joinpath("templates", name)
    text = root.read_text(encoding="utf-8")
    # uPlot's banner names its home page as an address; the page must hold none (offline, mailed)
    return text.replace("/*! https://github.com/", "/*! uPlot, MIT licence: github.com/", 1)


def write_report(
    out_dir: Path,
    *,
    title: str,
    description: str = "",
    summary: Summary,
    trace_path: Path,
    events: Sequence[Mapping[str, object]],
    static: bool = False,
) -> Path:
    """Write `out_dir/report.html` (one self-contained page) and return its path.

    `static` also draws the charts as PNG files in `out_dir/static/` with matplotlib (slower; for
    print or a document).
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    clock = summary.clock
    digest = digest_trace(
        trace_path, summary.duration_s, start_time_of_day_s=clock.start_time_of_day_s
    )
    spec = chart_spec(digest, events)
    static_names: list[str] = []
    if static:
        from smartbms.sim.report.static import write_static  # noqa: PLC0415  # matplotlib

        static_names = write_static(out_dir / "static", spec, clock)
    page = render_page(
        title=title,
        description=description,
        summary=summary,
        digest=digest,
        spec=spec,
        trace_name=trace_path.name,
        events=events,
        static_names=static_names,
    )
    path = out_dir / "report.html"
    temporary = out_dir / f".report.html.{os.getpid()}.tmp"  # whole or not at all
    try:
        temporary.write_text(page, encoding="utf-8")
        temporary.replace(path)
    finally:
        temporary.unlink(missing_ok=True)
    return path


def render_page(
    *,
    title: str,
    description: str,
    summary: Summary,
    digest: Digest,
    spec: ChartSpec,
    trace_name: str,
    events: Sequence[Mapping[str, object]],
    static_names: Sequence[str] = (),
) -> str:
    """The whole HTML page as text."""
    end_s = spec.end_s
    if summary.status != "complete":  # a run stopped early must not pass for a whole one
        ran_s = digest.last_s
        title = f"INCOMPLETE: {title}"
        stopped = (
            f"The run was {summary.status} after {duration_text(ran_s)} of "
            f"{duration_text(summary.duration_s)}: everything below covers only the part that ran."
        )
        description = f"{stopped} {description}".strip()
    clock = summary.clock
    step = duration_text(digest.first_step_s) if digest.first_step_s else ""
    shown, left_out, noisy_left_out = table_events(events)
    context: dict[str, Any] = {
        "title": title,
        "description": description,
        "facts": _facts(summary, digest, end_s),
        "verdicts": [
            {
                "title": v.title,
                "status": v.status,
                "value": v.value,
                "detail": v.detail,
                "badge": v.status_text or _BADGE[v.status],
            }
            for v in verdicts(summary, events)
        ],
        "energy": _energy_rows(summary),
        "batteries": _battery_rows(summary),
        **_day_table(digest, clock),
        "step": step,
        "panels": spec.panels,
        "strip": spec.strip,
        "axis_note": _axis_note(clock),
        "clock_note": _clock_note(clock),
        "event_count": f"{len(events):,}",
        "events": [_event_row(record, clock) for record in shown],
        "left_out": _left_out_note(left_out, noisy_left_out),
        "trace_name": trace_name,
        "rows": f"{digest.rows:,}",
        "static": list(static_names),
        "version": __version__,
        "data": _data_json(spec, clock),
        "uplot_css": _asset("uPlot.min.css"),
        "uplot_js": _asset("uPlot.iife.min.js"),
        "touch_js": _asset("uplot-touch-zoom.js"),
        "css": _asset("report.css"),
        "js": _asset("report.js"),
    }
    return _environment().get_template("report.html.j2").render(context)


def _facts(summary: Summary, digest: Digest, end_s: float) -> list[str]:
    clock = summary.clock
    start = wall_clock_text(
        0.0,
        start_time_of_day_s=clock.start_time_of_day_s,
        start_weekday=clock.weekday,
        with_seconds=False,
    )
    if clock.date is not None:
        start = f"{start} {clock.date.day} {clock.date:%b %Y}"
    facts = [f"simulated {duration_text(end_s)} from {start}"]
    count = len(summary.batteries) or digest.battery_count
    if count:
        models = sorted({b.model for b in summary.batteries})
        times = "\N{MULTIPLICATION SIGN}"
        facts.append(f"{count} {times} {', '.join(models)}" if models else f"{count} batteries")
    if summary.steps:
        facts.append(f"{summary.steps:,} steps in {summary.wall_time_s:.2f} s")
    return facts


def _wh(value: float | None) -> str:
    return "—" if value is None else f"{value:,.1f}"


_ENERGY_ROWS = (
    ("Alternator (AB)", "alternator_in", None),
    ("System+", "system_plus_in", "system_plus_out"),
    ("Bank-direct devices", "bank_devices_in", "bank_devices_out"),
    ("Batteries (charged / discharged)", "batteries_in", "batteries_out"),
    ("BMS own consumption", None, "bms_consumption"),
    ("BMS heat", None, "bms_heat"),
)


def _energy_rows(summary: Summary) -> list[dict[str, str]]:
    energy = summary.energy_wh
    return [
        {
            "label": label,
            "into": _wh(getattr(energy, key_in) if key_in else None),
            "out": _wh(getattr(energy, key_out) if key_out else None),
        }
        for label, key_in, key_out in _ENERGY_ROWS
    ]


def _battery_rows(summary: Summary) -> list[dict[str, object]]:
    rows = []
    for b in summary.batteries:
        damaged = ""
        if b.damaged:
            when = b.damaged_at_s
            damaged = f"yes, after {duration_text(when)}" if when is not None else "yes"
        rows.append(
            {
                "battery": b.battery,
                "model": b.model,
                "soc": f"{min(max(b.final_soc_pct, 0.0), 100.0):.1f} %",
                "damaged": damaged,
                "balancer": b.balancer,
            }
        )
    return rows


_DAY_COLUMNS = (
    ("alternator", "alternator in"),
    ("system_plus_in", "System+ in"),
    ("system_plus_out", "System+ out"),
    ("bank_devices_in", "bank devices in"),
    ("bank_devices_out", "bank devices out"),
    ("bms", "BMS own use"),
    ("batteries_in", "batteries charged"),
    ("batteries_out", "batteries discharged"),
)


def _day_label(day: int, clock: RunClock) -> str:
    date = clock.date
    if date is None:
        return f"day {day + 1}"
    import datetime  # noqa: PLC0415  # stdlib, only for dated runs

    when = date + datetime.timedelta(days=day)
    return f"{_WEEKDAY_NAMES[when.weekday()]} {when.day} {when:%b}"


def _day_table(digest: Digest, clock: RunClock) -> dict[str, object]:
    """The daily rows: energy (Wh) and charge (Ah) per port that carried any, SoC, loads off."""
    days = digest.days
    used = [
        (key, label)
        for key, label in _DAY_COLUMNS
        if any(d.wh.get(key, 0.0) >= 0.05 or d.ah.get(key, 0.0) >= 0.0005 for d in days)
    ]
    rows = []
    for d in days:
        cells = [
            {"wh": f"{d.wh.get(key, 0.0):,.1f} Wh", "ah": f"{d.ah.get(key, 0.0):,.2f} Ah"}
            for key, _ in used
        ]
        part = "" if d.seconds >= DAY_S - 1.0 else f" ({duration_text(d.seconds)})"
        rows.append(
            {
                "label": _day_label(d.day, clock) + part,
                "cells": cells,
                "min_soc": (
                    f"{min(max(d.min_soc_pct, 0.0), 100.0):.1f} %"
                    if math.isfinite(d.min_soc_pct)
                    else "—"
                ),
                "loads_off": duration_text(d.loads_off_s) if d.loads_off_s > 0.0 else "—",
            }
        )
    note = "days run midnight to midnight on the run's clock; a part day says how long it covers"
    return {
        "days": rows,
        "day_columns": [label for _, label in used],
        "day_note": note,
    }


def _axis_note(clock: RunClock) -> str:
    if clock.date is not None:
        return f"Time on the clock, starting {clock.date:%A} {clock.date.day} {clock.date:%B %Y}."
    return "Time on the clock; day 1 is the day the run starts."


def _clock_note(clock: RunClock) -> str:
    if clock.date is not None:
        return f"weekday and time; day 1 is {clock.date:%a} {clock.date.day} {clock.date:%b %Y}"
    return "day of the run and time; hover a time for the time since the start"


def _event_row(record: Mapping[str, object], clock: RunClock) -> dict[str, str]:
    t = num(record, "t_s")
    code = str(record.get("code") or "")
    info = code_info(code) if code else None
    time = ""
    if t is not None:
        time = wall_clock_text(
            t, start_time_of_day_s=clock.start_time_of_day_s, start_weekday=clock.weekday
        )
    return {
        "cls": event_class(record),
        "time": time,
        "since": clock_text(t) if t is not None else "",
        "kind": str(record.get("event", "")),
        "code": code,
        "code_name": info.name if info is not None else "",
        "details": event_details(record),
    }


def _left_out_note(left_out: int, noisy_left_out: int) -> str:
    if not left_out:
        return ""
    routine = f", {noisy_left_out:,} of them routine" if noisy_left_out else ""
    return f"{left_out:,} more events are not shown{routine}; events.jsonl has every one."


def _rounded(values: np.ndarray, digits: int) -> list[float | None]:
    """Values for JSON: `digits` significant digits, NaN as null."""
    out: list[float | None] = []
    for v in values.tolist():
        if not math.isfinite(v):
            out.append(None)
        elif v == 0.0:
            out.append(0.0)
        else:
            out.append(float(f"{v:.{digits}g}"))
    return out


def _panel_json(panel: Panel) -> dict[str, object]:
    return {
        "key": panel.key,
        "unit": panel.unit,
        "y_min": panel.y_min,
        "y_max": panel.y_max,
        "asinh": panel.asinh,
        "soft_span": panel.soft_span,
        "refs": [{"y": r.y, "label": r.label, "colour": r.colour} for r in panel.refs],
        "series": [
            {
                "label": line.label,
                "colour": line.colour,
                "width": line.width,
                "dash": list(line.dash),
                "t": np.round(line.series.t_s, 3).tolist(),
                "v": _rounded(line.series.values, 6),
            }
            for line in panel.lines
        ],
    }


def _data_json(spec: ChartSpec, clock: RunClock) -> str:
    """The charts' data for report.js, safe inside a <script> element."""
    date = clock.date
    start_tod = clock.start_time_of_day_s
    multi_day = math.floor((start_tod + spec.end_s) / DAY_S) > 0
    data = {
        "end": spec.end_s,
        "multiDay": multi_day,
        "clock": {"tod": start_tod, "weekday0": date.weekday() if date is not None else None},
        "panels": [_panel_json(p) for p in spec.panels],
        "strip": [
            {
                "label": row.label,
                "colour": row.colour,
                "spans": [[round(a, 3), round(b, 3), v] for a, b, v in row.spans],
            }
            for row in spec.strip
        ],
        "markers": [{"t": m.t_s, "colour": m.colour, "label": m.label} for m in spec.markers],
    }
    text = json.dumps(data, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
