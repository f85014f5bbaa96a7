"""The static export (`--static`): the report's charts as PNG images drawn by matplotlib.

Only on request: importing and drawing with matplotlib costs more than the rest of a short run,
so the default report (uPlot, in the browser) never loads it. The panels are the same
`ChartSpec` the page draws, so the two never disagree.
"""

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # no display, no GUI toolkit

import numpy as np  # after the backend choice, as matplotlib asks
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, MaxNLocator

from smartbms.core.units import wall_clock_text
from smartbms.sim.report.charts import ChartSpec, Panel, StripRow
from smartbms.sim.summary import RunClock

WIDTH_IN = 11.0
HEIGHT_IN = 2.8
DPI = 130


def _time_axis(fig: Figure, spec: ChartSpec, clock: RunClock) -> None:
    for ax in fig.axes:
        ax.set_xlim(0.0, spec.end_s)
        ax.xaxis.set_major_locator(MaxNLocator(nbins=8, steps=[1, 2, 3, 6, 10]))
        ax.xaxis.set_major_formatter(
            FuncFormatter(
                lambda t, _: wall_clock_text(
                    t,
                    start_time_of_day_s=clock.start_time_of_day_s,
                    start_weekday=clock.weekday,
                    with_seconds=spec.end_s < 3600.0,
                )
            )
        )
        for marker in spec.markers:
            ax.axvline(marker.t_s, color=marker.colour, lw=0.8, alpha=0.55, ls=(0, (4, 3)))


def _panel_figure(panel: Panel, spec: ChartSpec, clock: RunClock) -> Figure:
    fig = Figure(figsize=(WIDTH_IN, HEIGHT_IN), layout="constrained")
    ax = fig.add_subplot()
    for line in panel.lines:
        dashes = {"dashes": line.dash} if line.dash else {}
        ax.plot(
            line.series.t_s,
            line.series.values,
            color=line.colour,
            lw=line.width,
            label=line.label,
            **dashes,  # type: ignore[arg-type]
        )
    for ref in panel.refs:
        ax.axhline(ref.y, color=ref.colour, lw=0.9, ls=(0, (5, 3)), label=ref.label)
    if panel.asinh is not None:
        ax.set_yscale("asinh", linear_width=panel.asinh)
    elif panel.y_min is not None and panel.y_max is not None:
        ax.set_ylim(panel.y_min, panel.y_max)
    ax.set_title(panel.title, loc="left", fontsize=11)
    ax.set_ylabel(panel.unit)
    ax.grid(True, color="#e6e9ed")
    if panel.lines or panel.refs:
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, frameon=False)
    _time_axis(fig, spec, clock)
    return fig


def _strip_figure(rows: list[StripRow], spec: ChartSpec, clock: RunClock) -> Figure:
    fig = Figure(figsize=(WIDTH_IN, 0.8 + 0.25 * len(rows)), layout="constrained")
    ax = fig.add_subplot()
    for i, row in enumerate(rows):
        y = len(rows) - 1 - i
        for value, alpha in ((1, 0.9), (2, 0.4)):
            bars = [(a, max(b - a, spec.end_s / 1000.0)) for a, b, v in row.spans if v == value]
            if bars:
                ax.broken_barh(bars, (y - 0.3, 0.6), facecolors=row.colour, alpha=alpha)
    ax.set_yticks(np.arange(len(rows)), [r.label for r in reversed(rows)], fontsize=8)
    ax.set_ylim(-0.6, len(rows) - 0.4)
    ax.set_title("Outputs, LEDs and codes", loc="left", fontsize=11)
    _time_axis(fig, spec, clock)
    return fig


def write_static(folder: Path, spec: ChartSpec, clock: RunClock) -> list[str]:
    """Draw every panel (and the state strip) as a PNG in `folder`; the file names, in order."""
    folder.mkdir(parents=True, exist_ok=True)
    names = []
    figures = [(panel.key, _panel_figure(panel, spec, clock)) for panel in spec.panels]
    if spec.strip:
        figures.append(("strip", _strip_figure(spec.strip, spec, clock)))
    for key, fig in figures:
        name = f"{key}.png"
        fig.savefig(folder / name, dpi=DPI)
        names.append(name)
    return names
