"""The sweep report: one self-contained HTML page from results.parquet's rows.

It shows the best variant for each figure that has a direction, a chart of each figure against
each axis (uPlot, the project's one charting library, inlined from
`smartbms/assets/vendor/uplot/`: the page works offline, no CDN), and every variant as a table.
On a chart the other axes are drawn as one line per combination when there are few of them,
else as the lowest, median and highest value across them. Each figure's charts are folded under
a one-line summary (its best variant and range), the first that varies open: six charted figures
against three axes were 18 charts, 22,000 px to scroll on a phone. On a phone it reads as
report.html does: charts as wide as their box that zoom by touch (`assets/uplot-touch-zoom.js`,
inlined) and a table that does not fit becomes one card per row, so the page is the only thing
that scrolls.
"""

import dataclasses
import json
import math
import statistics
from collections.abc import Sequence
from importlib import resources
from pathlib import Path
from typing import Any

from smartbms.sweep.execute import Row
from smartbms.sweep.figures import FIGURES, Figure, rank_key
from smartbms.sweep.plan import Sweep

REPORT = "report.html"
MAX_LINES = 6
"""At most this many combinations of the other axes are drawn as their own lines."""
MAX_TABLE_ROWS = 2000
"""The page lists at most this many variants (results.parquet has them all)."""
LONG_TABLE = 100
"""Above this many variants, a phone draws only the cards near the screen (they load faster)."""


@dataclasses.dataclass(frozen=True, slots=True)
class Best:
    """The best variant for one figure."""

    figure: Figure
    value: str
    variant_id: int
    params: str


NO_FIGURE = "\u2014"
"""What a failed variant shows under each figure: it has none."""


def fmt(figure: Figure, value: object) -> str:
    """A figure's value for a reader: '12.2 h', 'never', 'yes'."""
    if value is None:
        return figure.none_text
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        text = f"{value:.4g}"
        return f"{text} {figure.unit}".strip()
    return str(value)


def _param_text(value: object) -> str:
    return f"{value:.6g}" if isinstance(value, float) else str(value)


def best_variants(sweep: Sweep, rows: Sequence[Row]) -> list[Best]:
    """For each figure with a direction, the best "ok" variant (the lowest ID among equals)."""
    found = []
    ok = [row for row in rows if row["status"] == "ok"]
    for name in sweep.figures:
        figure = FIGURES[name]
        if figure.better is None or not ok:
            continue
        row = min(ok, key=lambda r: (rank_key(figure, r[name]), r["variant_id"]))
        if math.isinf(rank_key(figure, row[name])) and rank_key(figure, row[name]) > 0:
            continue
        params = ", ".join(f"{a.name} = {_param_text(row[a.name])}" for a in sweep.axes)
        found.append(Best(figure, fmt(figure, row[name]), int(row["variant_id"]), params))
    return found


@dataclasses.dataclass(frozen=True, slots=True)
class Section:
    """One figure's charts, folded under its summary line (`<details id="figure-NAME">`)."""

    figure: Figure
    summary: str
    charts: tuple[int, ...]
    """Indexes into the page's chart data, one per axis."""
    varies: bool
    """Whether any two finished variants differ in it (else its charts are flat or empty)."""

    @property
    def anchor(self) -> str:
        """The section's id, for links from the best-variant table."""
        return f"figure-{self.figure.name}"


def figure_summary(figure: Figure, rows: Sequence[Row], best: Best | None) -> str:
    """One line for a folded figure: its best variant and the range of its values.

    "best 44.13 % (variant 23) · 0 % to 44.13 %" (an en dash, not "to"), "best never (variant 3)
    · 13.4 h to 34.6 h · never in 6 of 24", "best no (variant 0) · yes in 4 of 24", or "0 h in
    every variant" (a figure that does not change needs no chart to read).
    """
    values = [row.get(figure.name) for row in rows if row["status"] == "ok"]
    if not values:
        return "no variant finished"
    if len({fmt(figure, v) for v in values}) == 1:
        return f"{fmt(figure, values[0])} in every variant"
    parts = [f"best {best.value} (variant {best.variant_id})"] if best else []
    if figure.kind == "flag":
        parts.append(f"yes in {sum(v is True for v in values)} of {len(values)}")
    else:
        numbers = sorted(n for v in values if (n := _number(v)) is not None)
        if numbers:
            parts.append(f"{fmt(figure, numbers[0])} \u2013 {fmt(figure, numbers[-1])}")
        if nones := sum(v is None for v in values):
            parts.append(f"{figure.none_text} in {nones} of {len(values)}")
    return " \u00b7 ".join(parts)


def _number(value: object) -> float | None:
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, int | float) and math.isfinite(value):
        return float(value)
    return None


def chart(sweep: Sweep, rows: Sequence[Row], figure: Figure, axis_index: int) -> dict[str, Any]:
    """One chart's data: the figure (y) against one axis (x), the other axes as lines."""
    axis = sweep.axes[axis_index]
    numeric = all(_number(v) is not None for v in axis.values)
    xs = sorted(set(axis.values), key=lambda v: float(v) if numeric else axis.values.index(v))
    position = {value: k for k, value in enumerate(xs)}
    others = [a for k, a in enumerate(sweep.axes) if k != axis_index]
    groups: dict[str, dict[int, list[float]]] = {}
    for row in rows:
        label = ", ".join(f"{a.name} = {_param_text(row[a.name])}" for a in others) or figure.title
        points = groups.setdefault(label, {})  # in row order: the same colours on every chart
        y = _number(row.get(figure.name)) if row["status"] == "ok" else None
        if y is not None:
            points.setdefault(position[row[axis.name]], []).append(y)
    if len(groups) <= MAX_LINES:
        series = [
            {"label": label, "y": [_mean(points.get(k)) for k in range(len(xs))]}
            for label, points in groups.items()
        ]
    else:
        pooled: dict[int, list[float]] = {}
        for points in groups.values():
            for k, ys in points.items():
                pooled.setdefault(k, []).extend(ys)
        series = [
            {
                "label": f"{what} over the other axes",
                "y": [pick(pooled.get(k)) for k in range(len(xs))],
            }
            for what, pick in (("lowest", _low), ("median", _median), ("highest", _high))
        ]
    return {
        "title": f"{figure.title} against {axis.name}",
        "axis": axis.name,
        "unit": figure.unit,
        "x": [float(v) for v in xs] if numeric else list(range(len(xs))),
        "labels": None if numeric else [str(v) for v in xs],
        "flag": figure.kind == "flag",
        "series": series,
    }


def _mean(ys: list[float] | None) -> float | None:
    return statistics.fmean(ys) if ys else None


def _low(ys: list[float] | None) -> float | None:
    return min(ys) if ys else None


def _high(ys: list[float] | None) -> float | None:
    return max(ys) if ys else None


def _median(ys: list[float] | None) -> float | None:
    return statistics.median(ys) if ys else None


def _asset(*path: str) -> str:
    """A packaged file under `smartbms/assets/`, safe to inline in the page."""
    text = resources.files("smartbms").joinpath("assets", *path).read_text("utf-8")
    return text.replace("</", "<\\/") if path[-1].endswith(".js") else text


BEST_COLUMNS = ("Figure", "Best value", "Variant", "Parameters")
_CSS_PLAIN = frozenset(" ._-()[]%,=+:/")


def _css_string(text: str) -> str:
    """`text` as a quoted CSS string: quotes, backslashes and `<` (no `</style>`) escaped."""
    return (
        '"'
        + "".join(ch if ch.isalnum() or ch in _CSS_PLAIN else f"\\{ord(ch):x} " for ch in text)
        + '"'
    )


def card_labels(columns: Sequence[str]) -> str:
    """CSS naming each line of a variant's card (a table too wide for a phone) by its column."""
    rules = [
        f"#variants.stacked td:nth-child({k})::before {{ content: {_css_string(name)}; }}"
        for k, name in enumerate(columns, 1)
    ]
    rules += [  # a best variant's card is headed by its figure, unnamed
        f"#best.stacked td:nth-child({k})::before {{ content: {_css_string(name)}; }}"
        for k, name in enumerate(BEST_COLUMNS, 1)
        if k > 1
    ]
    return "\n".join(rules)


def render(sweep: Sweep, rows: Sequence[Row]) -> str:
    """The report page's HTML."""
    import jinja2  # noqa: PLC0415  # only the report needs it

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("smartbms.sweep", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )
    figures = [FIGURES[name] for name in sweep.figures]
    columns = [
        "variant",
        *(a.name for a in sweep.axes),
        *(f"{f.title} ({f.unit})" if f.unit else f.title for f in figures),
        "status",
        "error",
    ]
    plotted = [f for f in figures if f.kind != "text"] if sweep.axes else []
    charts = [chart(sweep, rows, f, k) for f in plotted for k in range(len(sweep.axes))]
    best = best_variants(sweep, rows)
    by_name = {b.figure.name: b for b in best}
    n_axes = len(sweep.axes)
    ok = [row for row in rows if row["status"] == "ok"]
    sections = [
        Section(
            f,
            figure_summary(f, rows, by_name.get(f.name)),
            tuple(range(i * n_axes, (i + 1) * n_axes)),
            len({fmt(f, row.get(f.name)) for row in ok}) > 1,
        )
        for i, f in enumerate(plotted)
    ]
    # open the first figure with something to see: "never in every variant" is all its summary
    first_open = next((i for i, s in enumerate(sections) if s.varies), 0)
    data = json.dumps({"charts": charts}, allow_nan=False).replace("<", "\\u003c")
    failed = [row for row in rows if row["status"] != "ok"]
    table = [
        {
            "id": row["variant_id"],
            "params": [_param_text(row[a.name]) for a in sweep.axes],
            # a failed variant has no figures: a dash, not a figure's "never"
            "figures": [
                fmt(f, row[f.name]) if row["status"] == "ok" else NO_FIGURE for f in figures
            ],
            "status": row["status"],
            "error": row["error"] or "",
        }
        for row in rows[:MAX_TABLE_ROWS]
    ]
    return env.get_template("sweep-report.html.j2").render(
        sweep=sweep,
        axes=[a.name for a in sweep.axes],
        figures=figures,
        columns=columns,
        card_labels=card_labels(columns),
        best_columns=BEST_COLUMNS,
        best=best,
        sections=sections,
        first_open=first_open,
        anchors={s.figure.name: s.anchor for s in sections},
        rows=table,
        total=len(rows),
        failed=len(failed),
        shown=len(table),
        long_table=LONG_TABLE,
        data=data,
        uplot_js=_asset("vendor", "uplot", "uPlot.iife.min.js"),
        uplot_css=_asset("vendor", "uplot", "uPlot.min.css"),
        touch_zoom_js=_asset("uplot-touch-zoom.js"),  # shared with report.html and the app
    )


def write_sweep_report(out_dir: Path, sweep: Sweep, rows: Sequence[Row]) -> Path:
    """Write `out_dir/report.html` (whole, then renamed into place)."""
    path = out_dir / REPORT
    tmp = path.with_suffix(".tmp")
    tmp.write_text(render(sweep, rows), encoding="utf-8")
    tmp.replace(path)
    return path
