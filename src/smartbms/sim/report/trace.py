"""Reading a run's trace (CSV or Parquet) into columns, and thinning it for plotting.

Plots are decimated to min/max envelopes of a few thousand points, so a 30-day trace renders in
seconds and a 10-second short circuit in it stays visible; on/off states become exact intervals.
"""

import csv
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]

MAX_PLOT_POINTS = 4000
"""Per series: two points per pixel column of a wide screen; more only slows the page down."""


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


def merge_close(
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
