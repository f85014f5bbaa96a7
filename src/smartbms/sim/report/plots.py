"""The report's figures: one matplotlib `Figure` per panel, all on one shared time axis.

Agg backend, no pyplot state: figures are made and rendered to strings, never shown. Every panel
has the same width and margins, so their time axes line up on the page.
"""

import math
from collections.abc import Sequence
from dataclasses import dataclass

import matplotlib

matplotlib.use("Agg")  # no display, no GUI toolkit: the report is rendered to a string

import numpy as np  # after the backend choice, as matplotlib asks
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from matplotlib.ticker import MaxNLocator
from matplotlib.typing import RcKeyType

from smartbms.core import constants as c
from smartbms.core.codes import CODE_TABLE, Code
from smartbms.core.signals import LED_COLOURS, LED_NAMES
from smartbms.sim.output import LED_COLUMNS
from smartbms.sim.report.colours import (
    AMBER,
    FIG_W_IN,
    GREEN,
    GREY,
    INK,
    LED_HEX,
    LEFT_IN,
    ORANGE,
    PANEL_H_IN,
    RED,
    RIGHT_IN,
    SERIES,
    SEVERITY_HEX,
)
from smartbms.sim.report.events import MarkerGroup
from smartbms.sim.report.trace import FloatArray, Trace, envelope, intervals, merge_close

PLOT_STYLE: dict[RcKeyType, object] = {
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
            spans = merge_close([s for s in row.spans if s[2] == value], gap)
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
