"""The report's charts as data: panels of series with sensible axes, one spec for two renderers.

`chart_spec` turns a trace digest into panels (voltages, cells, state of charge, alternator,
currents, temperatures) and the state strip. The page draws them with uPlot (`report.js`); the
optional static export (`static.py`) draws the same panels with matplotlib. Each panel picks its
own axis: a 10 mA drain gets a current axis of its own size, or an asinh ("symlog") axis when a
short circuit would otherwise flatten it; the charge limit is the setting in force (a trace
column), not a constant.
"""

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from smartbms.core import constants as c
from smartbms.core.codes import CODE_TABLE, Code
from smartbms.core.signals import LED_COLOURS, LED_NAMES
from smartbms.sim.output import CELLS_PER_BATTERY, LED_COLUMNS
from smartbms.sim.report.colours import (
    AMBER,
    GREEN,
    GREY,
    INK,
    LED_HEX,
    ORANGE,
    RED,
    SERIES,
    SEVERITY_HEX,
)
from smartbms.sim.report.digest import Digest, Series, Span
from smartbms.sim.report.events import marker_groups

ASINH_RANGE = 100.0
"""A current axis turns asinh ("symlog") when its peak is this many times its typical value."""
MAX_MARKERS = 200


@dataclass(frozen=True, slots=True)
class Line:
    """One series on a panel."""

    label: str
    colour: str
    series: Series
    width: float = 1.5
    dash: tuple[float, ...] = ()


@dataclass(frozen=True, slots=True)
class Ref:
    """A horizontal reference line (a threshold)."""

    y: float
    label: str
    colour: str


@dataclass(frozen=True, slots=True)
class Panel:
    """One chart: its series on one y axis."""

    key: str
    title: str
    unit: str
    note: str = ""
    lines: list[Line] = field(default_factory=list)
    refs: list[Ref] = field(default_factory=list)
    y_min: float | None = None
    y_max: float | None = None
    """The axis never goes beyond these (it follows the data inside them)."""
    asinh: float | None = None
    """The asinh axis's linear threshold (None: a linear axis)."""
    soft_span: float = 0.0
    """The axis spans at least this much, so 0.05 °C of drift does not look like a heat wave."""


@dataclass(frozen=True, slots=True)
class StripRow:
    """One row of the state strip: an output, an LED or a code."""

    label: str
    colour: str
    group: str
    spans: list[Span]


@dataclass(frozen=True, slots=True)
class Marker:
    """A vertical line across every chart at an important event."""

    t_s: float
    colour: str
    label: str


@dataclass(frozen=True, slots=True)
class ChartSpec:
    """Everything the charts show."""

    end_s: float
    panels: list[Panel]
    strip: list[StripRow]
    markers: list[Marker]


def _line(digest: Digest, column: str, label: str, colour: str, **style: object) -> list[Line]:
    found = digest.get(column)
    return [] if found is None else [Line(label, colour, found, **style)]  # type: ignore[arg-type]


def _battery_colour(index: int) -> str:
    return SERIES[index % len(SERIES)]


def _shade(colour: str, k: int) -> str:
    """A battery's colour for its cell k (0-based): lighter for later cells."""
    r, g, b = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    mix = 0.18 * k
    return "#" + "".join(f"{round(v + (255 - v) * mix):02x}" for v in (r, g, b))


CHARGE_LIMIT_NEAR_V = 1.0
"""The charge limit is drawn when the bank comes this close (else it only squeezes the axis)."""


def _voltage(digest: Digest) -> Panel:
    lines = _line(digest, "bank_voltage_v", "bank (Li+)", INK, width=2.0)
    if digest.peak("ab_voltage_v") > 5.0:  # nothing on AB: no starter battery, no alternator
        lines += _line(digest, "ab_voltage_v", "AB terminal (starter/alternator)", "#E69F00")
    note = "Bank voltage and the AB terminal."
    limit = digest.get("charge_limit_v")
    if limit is not None:
        lowest_limit = float(np.nanmin(limit.values))
        if digest.peak("bank_voltage_v") >= lowest_limit - CHARGE_LIMIT_NEAR_V:
            lines.append(Line("charge limit (setting)", RED, limit, width=1.2, dash=(6, 4)))
        else:
            note += f" The charge limit ({lowest_limit:.2f} V, the setting) was never approached."
    return Panel("voltage", "Voltages", "V", note, lines)


def _cells(digest: Digest) -> Panel:
    lines: list[Line] = []
    count = digest.battery_count
    for n in range(1, count + 1):
        colour = _battery_colour(n - 1)
        for k in range(1, CELLS_PER_BATTERY + 1):
            label = f"battery {n} cell {k}" if count > 1 else f"cell {k}"
            lines += _line(digest, f"battery{n}_cell{k}_v", label, _shade(colour, k - 1), width=1.2)
    if not lines:  # an older trace: the lowest and highest cells only
        lines += _line(digest, "cell_min_v", "lowest cell", SERIES[0])
        lines += _line(digest, "cell_max_v", "highest cell", GREY)
    refs = [
        Ref(c.CELL_OV_V, f"charge disconnect {c.CELL_OV_V:.2f} V", ORANGE),
        Ref(c.CELL_PREALARM_V, f"pre-alarm {c.CELL_PREALARM_V:.1f} V", AMBER),
        Ref(c.CELL_UV_DEFAULT_V, f"load disconnect {c.CELL_UV_DEFAULT_V:.1f} V", RED),
    ]
    note = "Every cell of every battery: the lowest decides the pre-alarm and the load disconnect."
    return Panel("cells", "Cell voltages", "V", note, lines, refs)


def _soc(digest: Digest) -> Panel:
    lines = _line(digest, "bank_soc_pct", "bank", INK, width=2.0)
    count = digest.battery_count
    if count > 1:
        for n in range(1, count + 1):
            lines += _line(digest, f"battery{n}_soc_pct", f"battery {n}", _battery_colour(n - 1))
    lines += _line(digest, "starter_soc_pct", "starter battery", GREY, dash=(5, 3))
    return Panel("soc", "State of charge", "%", "", lines, y_min=0.0, y_max=100.0, soft_span=10.0)


def _alternator(digest: Digest) -> Panel | None:
    if digest.peak("ab_current_a") < 1e-6 and digest.peak("alternator_current_a") < 1e-6:
        return None
    lines = _line(digest, "ab_current_a", "into the bank (AB)", "#E69F00", width=2.0)
    lines += _line(digest, "ab_limit_a", "BMS limit", RED, width=1.2, dash=(6, 4))
    lines += _line(digest, "alternator_current_a", "alternator output", "#8c6d31", width=1.0)
    if digest.peak("displayed_ab_current_a") > 1e-6:
        lines += _line(digest, "displayed_ab_current_a", "shown in the app", "#0072B2", dash=(2, 2))
    note = "The alternator current against the limit the BMS sets from the fuse."
    return Panel("alternator", "Alternator current", "A", note, lines, y_min=0.0)


def _currents(digest: Digest) -> Panel:
    lines: list[Line] = []
    for column, label, colour, width in (
        ("bank_current_a", "batteries (+ = charging)", "#6e7781", 2.4),
        ("system_plus_current_a", "System+ (+ = into the bank)", "#0072B2", 1.5),
        ("bank_devices_current_a", "bank-direct devices", "#009E73", 1.3),
    ):
        if digest.peak(column) > 1e-9:
            lines += _line(digest, column, label, colour, width=width)
    draw = digest.get("bms_draw_a")
    if draw is not None and digest.peak("bms_draw_a") > 1e-9:  # a draw: out of the bank
        lines.append(Line("BMS own draw", "#CC79A7", Series(draw.t_s, -draw.values), 1.0))
    # the ports decide (the BMS's own few mA would make every charging current look like a peak)
    asinh = _asinh_threshold([line.series for line in lines if line.label != "BMS own draw"])
    note = "Positive is into the bank."
    if asinh is not None:
        note += (
            " The axis is compressed (asinh: linear near zero, logarithmic beyond "
            f"{_amps(asinh)}) so that small drains and large peaks both show."
        )
    return Panel("currents", "Currents per port", "A", note, lines, asinh=asinh, soft_span=0.02)


def _amps(value: float) -> str:
    return f"{value * 1000:.0f} mA" if value < 1.0 else f"{value:g} A"


def _asinh_threshold(series: Sequence[Series]) -> float | None:
    """A linear threshold for an asinh axis when peaks would flatten the typical currents."""
    values = [np.abs(s.values[np.isfinite(s.values)]) for s in series]
    joined = np.concatenate(values) if values else np.zeros(0)
    joined = joined[joined > 1e-6]
    if joined.size == 0:
        return None
    typical = float(np.median(joined))
    peak = float(joined.max())
    if peak < ASINH_RANGE * typical:
        return None
    return float(10.0 ** math.floor(math.log10(max(typical, 1e-3))))


def _temperatures(digest: Digest) -> Panel:
    lines = _line(digest, "bms_temperature_c", "BMS internal", RED)
    count = digest.battery_count
    for n in range(1, count + 1):
        label = f"battery {n}" if count > 1 else "battery"
        lines += _line(digest, f"battery{n}_temperature_c", label, _battery_colour(n - 1))
    lines += _line(digest, "ambient_c", "ambient", GREY, dash=(5, 3))
    refs = []
    if digest.peak("bms_temperature_c") >= c.BMS_DERATE_START_C - 15.0:
        refs += [
            Ref(c.BMS_OVERTEMP_TRIP_C, f"BMS trip {c.BMS_OVERTEMP_TRIP_C:.0f} °C", RED),
            Ref(c.BMS_DERATE_START_C, f"BMS derating {c.BMS_DERATE_START_C:.0f} °C", ORANGE),
        ]
    lowest = min(
        (float(np.nanmin(line.series.values)) for line in lines if line.label != "BMS internal"),
        default=math.inf,
    )
    if lowest < c.BATT_CHARGE_MIN_C + 5.0:
        label = f"no charging below {c.BATT_CHARGE_MIN_C:.0f} °C"
        refs.append(Ref(c.BATT_CHARGE_MIN_C, label, "#1c7ed6"))
    return Panel("temperatures", "Temperatures", "°C", "", lines, refs, soft_span=10.0)


_OUTPUT_ROWS = (
    ("ab_enabled", "AB enabled (alternator)", GREEN, False),
    ("system_plus_charge_allowed", "System+ charge allowed", GREEN, False),
    ("system_plus_discharge_allowed", "System+ discharge allowed", GREEN, False),
    ("prealarm_high", "Pre-alarm output high", AMBER, False),
    ("load_disconnect_high", "Loads cut (load disconnect low)", RED, True),
    ("charge_disconnect_high", "Chargers cut (charge disconnect low)", ORANGE, True),
)


def _invert(spans: list[Span], end_s: float) -> list[Span]:
    """The stretches where a state is 0: an output low is what the reader looks for."""
    out: list[Span] = []
    at = 0.0
    for start, stop, _ in spans:
        if start > at:
            out.append((at, start, 1))
        at = stop
    if at < end_s:
        out.append((at, end_s, 1))
    return out


def strip_rows(digest: Digest) -> list[StripRow]:
    """Outputs, LEDs and codes as stretches in time, in reading order."""
    rows: list[StripRow] = []
    for column, label, colour, invert in _OUTPUT_ROWS:
        if column in digest.spans:
            spans = digest.spans[column]
            spans = _invert(spans, digest.end_s) if invert else spans
            rows.append(StripRow(label, colour, "BMS outputs", spans))
    for column, name, colour in zip(LED_COLUMNS, LED_NAMES, LED_COLOURS, strict=True):
        if column in digest.spans:
            rows.append(
                StripRow(f"LED {name}", LED_HEX.get(colour, colour), "LEDs", digest.spans[column])
            )
    for code in Code:
        code_spans = digest.code_spans.get(code.value)
        if code_spans:
            info = CODE_TABLE[code]
            colour = SEVERITY_HEX[info.severity]
            rows.append(StripRow(f"{code.value} {info.name}", colour, "Codes", code_spans))
    return rows


def chart_spec(digest: Digest, events: Sequence[Mapping[str, object]]) -> ChartSpec:
    """The panels, strip and event markers of one run."""
    panels = [_voltage(digest), _cells(digest), _soc(digest)]
    alternator = _alternator(digest)
    if alternator is not None:
        panels.append(alternator)
    panels += [_currents(digest), _temperatures(digest)]
    groups = marker_groups(events, digest.end_s / 600.0, "events")
    markers = [Marker(g.t_s, g.colour, g.label) for g in groups[:MAX_MARKERS]]
    return ChartSpec(digest.end_s, panels, strip_rows(digest), markers)
