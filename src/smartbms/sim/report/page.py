"""report.html: one run on one page, for an installer who would rather look than read.

The page answers the questions a van or boat installer asks before wiring anything (when does the
pre-alarm sound, when are the loads cut, does the alternator overheat, is a battery damaged) with
coloured verdict cards, then shows why with plots on one shared time axis, then lists the events.

It is one self-contained file: inline CSS, plots as inline SVG, no scripts and no external
address, so it can be mailed or archived as is. The verdicts are judged in
`smartbms.sim.verdicts`; this module only renders them.
"""

import html
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path

import matplotlib
from matplotlib.figure import Figure

from smartbms import __version__
from smartbms.core import constants as c
from smartbms.core.units import clock_text, duration_text
from smartbms.sim.report.events import (
    MarkerGroup,
    event_class,
    event_details,
    marker_groups,
    num,
    table_events,
)
from smartbms.sim.report.plots import (
    PLOT_STYLE,
    PlotContext,
    TimeAxis,
    plot_cells,
    plot_currents,
    plot_soc,
    plot_temperatures,
    plot_timeline,
    plot_voltage,
    timeline_rows,
)
from smartbms.sim.report.svg import figure_svg
from smartbms.sim.report.trace import Trace, read_trace
from smartbms.sim.summary import Summary
from smartbms.sim.verdicts import Verdict, code_info, verdicts

_BADGE = {"ok": "✓ OK", "warning": "! Warning", "problem": "✗ Problem", "info": "— n/a"}
"""A verdict's status in words when it brings none of its own."""


def _esc(text: object) -> str:
    return html.escape(str(text), quote=True)


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
.card.warning { border-left-color:#e0a800; }
.card.warning .badge { background:var(--warn-bg); color:var(--warn); }
.card.problem { border-left-color:var(--bad); }
.card.problem .badge { background:var(--bad-bg); color:var(--bad); }
.card.problem .v { color:var(--bad); }
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
    summary: Summary,
    trace_path: Path,
    events: Sequence[Mapping[str, object]],
) -> Path:
    """Write `out_dir/report.html` (one self-contained page) and return its path."""
    out_dir.mkdir(parents=True, exist_ok=True)
    trace = read_trace(trace_path)
    end_s = max(summary.duration_s, float(trace.t_s[-1]) if trace.t_s.size else 0.0)
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
    if summary.status != "complete":  # a run stopped early must not pass for a whole one
        ran_s = float(trace.t_s[-1]) if trace.t_s.size else 0.0
        title = f"INCOMPLETE: {title}"
        stopped = (
            f"The run was {summary.status} after {duration_text(ran_s)} of "
            f"{duration_text(summary.duration_s)}: everything below covers only the part that ran."
        )
        description = f"{stopped} {description}".strip()
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_esc(title)} · smartbms report</title>",
        f"<style>{_CSS}</style></head><body><main>",
        _header(title, description, summary, trace, end_s),
        _cards_html(verdicts(summary, events)),
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
    summary: Summary,
    events: Sequence[Mapping[str, object]],
    event_groups: list[MarkerGroup],
    timeline_groups: list[MarkerGroup],
) -> list[str]:
    limit = _charge_limit_v(events)
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
            lambda: plot_temperatures(ctx, summary.highest_bms_temperature_c),
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
    with matplotlib.rc_context(PLOT_STYLE):
        for name, heading, note, make in plots:
            fig = make()
            svg = figure_svg(fig, name, heading)
            note_html = f"<p>{_esc(note)}</p>" if note else ""
            html_parts.append(f'<h3>{_esc(heading)}</h3><div class="figure">{note_html}{svg}</div>')
    return html_parts


def _charge_limit_v(events: Iterable[Mapping[str, object]]) -> float:
    """The charge limit to draw: the last one set during the run, or the factory's."""
    limit: float | None = None
    for record in events:
        if record.get("event") == "SettingsChanged" and record.get("setting") == "charge_limit_v":
            new = num(record, "new")
            limit = new if new is not None else limit
        elif record.get("event") == "ChargeLimitReached" and limit is None:
            limit = num(record, "bank_voltage_v")
    return limit if limit is not None else c.CHARGE_LIMIT_DEFAULT_V


def _header(title: str, description: str, summary: Summary, trace: Trace, end_s: float) -> str:
    facts = [f"simulated {duration_text(end_s)}"]
    count = len(summary.batteries) or trace.battery_count
    if count:
        models = sorted({b.model for b in summary.batteries})
        times = "\N{MULTIPLICATION SIGN}"
        facts.append(f"{count} {times} {', '.join(models)}" if models else f"{count} batteries")
    if summary.steps:
        facts.append(f"{summary.steps:,} steps in {summary.wall_time_s:.2f} s")
    desc = f"<p>{_esc(description)}</p>" if description else ""
    return (
        f"<header><h1>{_esc(title)}</h1>{desc}"
        f'<p class="meta">{" · ".join(_esc(f) for f in facts)}</p></header>'
    )


def _cards_html(found: Sequence[Verdict]) -> str:
    items = []
    for verdict in found:
        badge = verdict.status_text or _BADGE[verdict.status]
        detail = f'<div class="d">{_esc(verdict.detail)}</div>' if verdict.detail else ""
        items.append(
            f'<div class="card {verdict.status}"><div class="t">{_esc(verdict.title)}</div>'
            f'<div class="v">{_esc(verdict.value)}</div>'
            f'<span class="badge">{_esc(badge)}</span>{detail}</div>'
        )
    return f'<section class="cards">{"".join(items)}</section>'


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


def _tables_html(summary: Summary) -> str:
    energy = summary.energy_wh
    body = "".join(
        f"<tr><td>{_esc(label)}</td>"
        f'<td class="n">{_wh(getattr(energy, key_in) if key_in else None)}</td>'
        f'<td class="n">{_wh(getattr(energy, key_out) if key_out else None)}</td></tr>'
        for label, key_in, key_out in _ENERGY_ROWS
    )
    parts = [
        (
            "<div><h3>Energy per port</h3><table><tr><th>port</th>"
            '<th class="n">in (Wh)</th><th class="n">out (Wh)</th></tr>'
            f"{body}</table></div>"
        )
    ]
    if summary.batteries:
        body = ""
        for b in summary.batteries:
            when = b.damaged_at_s
            after = f", after {duration_text(when)}" if when is not None else ""
            damage = f'<span class="code bad">✗ yes{after}</span>' if b.damaged else "no"
            body += (
                f"<tr><td>{b.battery}</td><td>{_esc(b.model)}</td>"
                f'<td class="n">{b.final_soc_pct:.1f} %</td><td>{damage}</td>'
                f"<td>{_esc(b.balancer)}</td></tr>"
            )
        parts.append(
            "<div><h3>Batteries</h3><table><tr><th>#</th><th>model</th>"
            '<th class="n">final SoC</th><th>damaged</th><th>balancer</th></tr>'
            f"{body}</table></div>"
        )
    return f'<section class="tables">{"".join(parts)}</section>'


def _events_html(events: Sequence[Mapping[str, object]]) -> str:
    shown, left_out, noisy_left_out = table_events(events)
    head = f"<h2>Events ({len(events):,})</h2>"
    if not events:
        return head + '<p class="note">Nothing happened that the BMS or the plant reports.</p>'
    rows = []
    for record in shown:
        t = num(record, "t_s")
        code = str(record.get("code") or "")
        code_html = ""
        if code:
            info = code_info(code)
            name = info.name if info is not None else ""
            code_html = f'<span class="code">{_esc(code)}</span> {_esc(name)}'
        rows.append(
            f'<tr class="{event_class(record)}">'
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
