"""The trace in one streaming pass, thinned as it is read: what the report draws and tabulates.

A trace can hold millions of rows (100 days every 10 s); the report needs a few thousand points a
series. `digest_trace` reads the file in chunks (the `csv` module, or pyarrow's batches for
Parquet) and keeps, for each of `BUCKETS` equal slices of the run's time, the minimum and the
maximum of every column with their times, so a 10 s short circuit in 100 days survives. Memory
is fixed by the number of columns and buckets, not by the length of the run.

On the way it also keeps the on/off stretches of the outputs, LEDs and codes (for the state
strip) and sums each day's energy per port (for the daily table). State of charge and
temperatures are continuous: the trace holds a step's start values over a long step, so only
the samples where they change are kept, and the chart draws the straight line between them
instead of a staircase.
"""

import csv
import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import numpy.typing as npt

from smartbms.sim.output import FLAG_COLUMNS, LED_COLUMNS

FloatArray = npt.NDArray[np.float64]

BUCKETS = 1200
"""Per series at most two points a bucket: two a device pixel of a wide screen."""
CHUNK_ROWS = 16_384
"""Rows converted to arrays at a time: memory is this many rows, whatever the run's length."""
STATE_COLUMNS = frozenset({*FLAG_COLUMNS, *LED_COLUMNS})
"""On/off columns: kept as stretches, not as points."""
DAY_S = 86400.0


def is_ramp(column: str) -> bool:
    """A continuous quantity that the trace holds over a step: drawn between its changes."""
    return column.endswith(("_soc_pct", "_temperature_c")) or column == "ambient_c"


def is_state(column: str) -> bool:
    """An on/off (or LED off/on/blink) column."""
    return column in STATE_COLUMNS


Span = tuple[float, float, int]
"""(start_s, end_s, value) of a stretch where a state is not 0."""


@dataclass(slots=True)
class DayTotals:
    """One calendar day (or day of the run) of energy and charge through the ports."""

    day: int
    """0 for the day the run starts on."""
    seconds: float = 0.0
    wh: dict[str, float] = field(default_factory=dict)
    ah: dict[str, float] = field(default_factory=dict)
    min_soc_pct: float = math.inf
    loads_off_s: float = 0.0


@dataclass(slots=True)
class Series:
    """One column thinned: times and values in time order (at most two points a bucket)."""

    t_s: FloatArray
    values: FloatArray

    @property
    def empty(self) -> bool:
        """No number at all."""
        return self.values.size == 0 or bool(np.all(np.isnan(self.values)))


@dataclass(slots=True)
class Digest:
    """What the report needs of a trace: thinned series, state stretches, days, a few counts."""

    columns: tuple[str, ...]
    series: dict[str, Series]
    spans: dict[str, list[Span]]
    code_spans: dict[str, list[Span]]
    days: list[DayTotals]
    rows: int
    first_step_s: float | None
    end_s: float
    """The end of the time axis: the run's duration, or the last row if later."""
    last_s: float
    """The time of the trace's last row (0 for none): where an interrupted run stopped."""

    def get(self, column: str) -> Series | None:
        """A column's series, or None when it is absent or holds no number."""
        found = self.series.get(column)
        return None if found is None or found.empty else found

    def peak(self, column: str) -> float:
        """The largest absolute value of a column (0 when absent)."""
        found = self.get(column)
        return float(np.nanmax(np.abs(found.values))) if found is not None else 0.0

    @property
    def battery_count(self) -> int:
        """How many batteries the trace has columns for."""
        count = 0
        while f"battery{count + 1}_soc_pct" in self.series:
            count += 1
        return count


class _Extremes:
    """Per bucket and column: the minimum and maximum seen, and when."""

    def __init__(self, width: int, buckets: int) -> None:
        shape = (buckets, width)
        self.min_v = np.full(shape, np.inf)
        self.max_v = np.full(shape, -np.inf)
        self.min_t = np.full(shape, np.nan)
        self.max_t = np.full(shape, np.nan)

    def add(self, buckets: npt.NDArray[np.int64], t: FloatArray, block: FloatArray) -> None:
        """Take in rows (`t`, `block`) in time order; `buckets` is each row's bucket."""
        edges = np.flatnonzero(np.diff(buckets)) + 1
        starts = np.concatenate(([0], edges))
        lengths = np.diff(np.concatenate((starts, [t.size])))
        where = buckets[starts]
        rows = np.arange(t.size)[:, np.newaxis]
        missing = np.isnan(block)
        for values, best_v, best_t, reduce, beats in (
            (np.where(missing, np.inf, block), self.min_v, self.min_t, np.minimum, np.less),
            (np.where(missing, -np.inf, block), self.max_v, self.max_t, np.maximum, np.greater),
        ):
            extreme = reduce.reduceat(values, starts, axis=0)
            hit = values == np.repeat(extreme, lengths, axis=0)
            first = np.minimum.reduceat(np.where(hit, rows, t.size), starts, axis=0)
            at = t[np.minimum(first, t.size - 1)]
            better = beats(extreme, best_v[where])
            best_v[where] = np.where(better, extreme, best_v[where])
            best_t[where] = np.where(better, at, best_t[where])

    def series(self, column: int) -> Series:
        """A column's points: each bucket's extremes in time order, once each."""
        t = np.column_stack((self.min_t[:, column], self.max_t[:, column])).ravel()
        v = np.column_stack((self.min_v[:, column], self.max_v[:, column])).ravel()
        keep = np.isfinite(v) & np.isfinite(t)
        t, v = t[keep], v[keep]
        order = np.argsort(t, kind="stable")
        t, v = t[order], v[order]
        if t.size > 1:
            fresh = np.concatenate(([True], np.diff(t) > 0))
            t, v = t[fresh], v[fresh]
        return Series(t, v)


class _Stretches:
    """The stretches where each state column is not 0, merged across gaps under `gap_s`."""

    def __init__(self, names: list[str], gap_s: float) -> None:
        self.names = names
        self.gap_s = gap_s
        self.spans: dict[str, list[Span]] = {name: [] for name in names}
        self._open: dict[str, tuple[float, int] | None] = dict.fromkeys(names)
        self._last_text = ""

    def add(self, t: FloatArray, block: FloatArray) -> None:
        """Take in rows of the state columns (in `names` order)."""
        for index, name in enumerate(self.names):
            values = np.nan_to_num(block[:, index]).astype(np.int64)
            current = self._open[name]
            last = current[1] if current is not None else 0
            change = np.flatnonzero(np.diff(np.concatenate(([last], values))) != 0)
            for at in change:
                self._switch(name, float(t[at]), int(values[at]))

    def add_labels(self, t: FloatArray, texts: list[str]) -> None:
        """Take in rows of the codes column: labels separated by spaces, changes only."""
        for time, text in zip(t, texts, strict=True):
            if text == self._last_text:
                continue
            self._last_text = text
            active = set(text.split())
            for name in active - self.spans.keys():
                self.spans[name] = []
                self._open[name] = None
            for name in self.spans:
                current = self._open[name]
                on = 1 if name in active else 0
                if (current[1] if current else 0) != on:
                    self._switch(name, float(time), on)

    def _switch(self, name: str, t_s: float, value: int) -> None:
        current = self._open[name]
        if current is not None:
            self._close(name, current, t_s)
        self._open[name] = (t_s, value) if value else None

    def _close(self, name: str, current: tuple[float, int], end_s: float) -> None:
        start, value = current
        spans = self.spans[name]
        if spans and spans[-1][2] == value and start - spans[-1][1] < self.gap_s:
            spans[-1] = (spans[-1][0], end_s, value)
        else:
            spans.append((start, end_s, value))

    def finish(self, end_s: float) -> dict[str, list[Span]]:
        """Close what is still on at the end."""
        for name, current in self._open.items():
            if current is not None:
                self._close(name, current, end_s)
        return self.spans


_DAY_PORTS = (
    ("alternator", "ab_current_a", "bank_voltage_v", 1),
    ("system_plus_in", "system_plus_current_a", "system_plus_voltage_v", 1),
    ("system_plus_out", "system_plus_current_a", "system_plus_voltage_v", -1),
    ("bank_devices_in", "bank_devices_current_a", "bank_voltage_v", 1),
    ("bank_devices_out", "bank_devices_current_a", "bank_voltage_v", -1),
    ("batteries_in", "bank_current_a", "bank_voltage_v", 1),
    ("batteries_out", "bank_current_a", "bank_voltage_v", -1),
    ("bms", "bms_draw_a", "bank_voltage_v", 1),
)
"""Daily table rows: (name, current column, voltage column, sign counted)."""


class _Days:
    """Each day's energy and charge per port, minimum SoC and time with the loads off."""

    def __init__(self, index: dict[str, int], start_time_of_day_s: float) -> None:
        self.index = index
        self.offset_s = start_time_of_day_s
        self.days: dict[int, DayTotals] = {}

    def _col(self, block: FloatArray, name: str) -> FloatArray | None:
        at = self.index.get(name)
        return None if at is None else np.nan_to_num(block[:, at])

    def add(self, t: FloatArray, dt: FloatArray, block: FloatArray) -> None:
        """Rows held for `dt` each (sample and hold, as the trace is written)."""
        day = np.floor((t + self.offset_s) / DAY_S).astype(np.int64)
        soc = block[:, self.index["bank_soc_pct"]] if "bank_soc_pct" in self.index else None
        ld = self._col(block, "load_disconnect_high")
        sp = self._col(block, "system_plus_discharge_allowed")
        off = np.zeros(t.size, dtype=bool)
        if ld is not None:
            off |= ld < 0.5
        if sp is not None:
            off |= sp < 0.5
        for d in np.unique(day):
            rows = day == d
            totals = self.days.setdefault(int(d), DayTotals(int(d)))
            h = dt[rows] / 3600.0
            totals.seconds += float(dt[rows].sum())
            totals.loads_off_s += float(dt[rows][off[rows]].sum())
            if soc is not None and np.any(np.isfinite(soc[rows])):
                totals.min_soc_pct = min(totals.min_soc_pct, float(np.nanmin(soc[rows])))
            for name, current, voltage, sign in _DAY_PORTS:
                amps = self._col(block, current)
                volts = self._col(block, voltage)
                if amps is None or volts is None:
                    continue
                flow = np.clip(sign * amps[rows], 0.0, None)
                totals.ah[name] = totals.ah.get(name, 0.0) + float((flow * h).sum())
                totals.wh[name] = totals.wh.get(name, 0.0) + float((flow * volts[rows] * h).sum())


def _csv_chunks(path: Path) -> Iterator[tuple[list[str], list[list[str]]]]:
    with path.open(encoding="utf-8", newline="") as file:
        reader = csv.reader(file)
        header = next(reader, [])
        chunk: list[list[str]] = []
        sent = False
        for row in reader:
            if row:
                chunk.append(row)
            if len(chunk) >= CHUNK_ROWS:
                yield header, chunk
                chunk, sent = [], True
        if chunk or not sent:
            yield header, chunk


def _parse(column: list[str] | tuple[str, ...]) -> FloatArray:
    try:
        return np.array(column, dtype=np.float64)
    except ValueError:  # an empty cell: NaN for what is not a number
        out = np.empty(len(column))
        for i, text in enumerate(column):
            try:
                out[i] = float(text)
            except ValueError:
                out[i] = math.nan
        return out


def _chunks(path: Path) -> Iterator[tuple[list[str], FloatArray, list[str]]]:
    """(header without codes, number rows, codes texts) per chunk of the trace."""
    if path.suffix == ".parquet":
        yield from _parquet_chunks(path)
        return
    for header, rows in _csv_chunks(path):
        code_at = header.index("codes") if "codes" in header else None
        names = [name for name in header if name != "codes"]
        if not rows:
            yield names, np.zeros((0, len(names))), []
            continue
        columns = list(zip(*rows, strict=False))
        codes = list(columns[code_at]) if code_at is not None and code_at < len(columns) else []
        numbers = [
            _parse(columns[i]) if i < len(columns) else np.full(len(rows), math.nan)
            for i, name in enumerate(header)
            if name != "codes"
        ]
        yield names, np.column_stack(numbers), codes


def _parquet_chunks(path: Path) -> Iterator[tuple[list[str], FloatArray, list[str]]]:
    import pyarrow.parquet as pq  # noqa: PLC0415  # optional extra, only for Parquet traces

    file = pq.ParquetFile(str(path))
    header = list(file.schema_arrow.names)
    names = [name for name in header if name != "codes"]
    seen = False
    for batch in file.iter_batches(batch_size=CHUNK_ROWS):
        seen = True
        numbers = [
            np.asarray(batch.column(header.index(n)).to_numpy(zero_copy_only=False), np.float64)
            for n in names
        ]
        codes = (
            [str(v or "") for v in batch.column(header.index("codes")).to_pylist()]
            if "codes" in header
            else []
        )
        yield names, np.column_stack(numbers) if numbers else np.zeros((batch.num_rows, 0)), codes
    if not seen:
        yield names, np.zeros((0, len(names))), []


class _Reader:
    """The state of one pass: the extremes, the stretches, the days, the last row."""

    def __init__(self, names: list[str], end_s: float, start_time_of_day_s: float) -> None:
        self.names = names
        self.end_s = max(end_s, 1e-9)
        self.buckets = BUCKETS
        self.width = self.end_s / self.buckets
        self.extremes = _Extremes(len(names), self.buckets)
        self.ramp = np.array([is_ramp(n) for n in names], dtype=bool)
        self.state_at = [i for i, n in enumerate(names) if is_state(n)]
        self.stretches = _Stretches([names[i] for i in self.state_at], self.end_s / (2 * BUCKETS))
        self.codes = _Stretches([], self.end_s / (2 * BUCKETS))
        self.days = _Days({n: i for i, n in enumerate(names)}, start_time_of_day_s)
        self.rows = 0
        self.first_step_s: float | None = None
        self.last: tuple[float, FloatArray] | None = None
        self.t_index = names.index("t_s") if "t_s" in names else None
        self.pending: tuple[FloatArray, FloatArray] | None = None

    def add(self, block: FloatArray, codes: list[str]) -> None:
        if self.t_index is None or block.shape[0] == 0:
            return
        t = block[:, self.t_index]
        if self.first_step_s is None and self.rows == 0 and t.size > 1:
            self.first_step_s = float(t[1] - t[0])
        elif self.first_step_s is None and self.last is not None:
            self.first_step_s = float(t[0] - self.last[0])
        self.rows += t.size
        self._days(t, block)
        self._extremes(t, block)
        if self.state_at:
            self.stretches.add(t, block[:, self.state_at])
        if codes:
            self.codes.add_labels(t, codes)
        self.last = (float(t[-1]), block[-1].copy())

    def _days(self, t: FloatArray, block: FloatArray) -> None:
        """Each row is held until the next: the previous chunk's last row waits for this one."""
        if self.pending is not None:
            prev_t, prev_block = self.pending
            t = np.concatenate((prev_t, t))
            block = np.vstack((prev_block, block))
        self.pending = (t[-1:].copy(), block[-1:].copy())
        if t.size > 1:
            self.days.add(t[:-1], np.diff(t), block[:-1])

    def _extremes(self, t: FloatArray, block: FloatArray) -> None:
        if self.ramp.any():
            previous = self.last[1] if self.last is not None else np.full(block.shape[1], np.nan)
            before = np.vstack((previous, block[:-1]))
            same = (block == before) & self.ramp
            block = np.where(same, np.nan, block)
        bucket = np.clip((t / self.width).astype(np.int64), 0, self.buckets - 1)
        self.extremes.add(bucket, t, block)

    def finish(self) -> Digest:
        if self.last is not None:  # the final row is a true value for the ramps too
            t_end, row = self.last
            bucket = min(max(int(t_end / self.width), 0), self.buckets - 1)
            self.extremes.add(np.array([bucket]), np.array([t_end]), row[np.newaxis, :])
        end = max(self.end_s, self.last[0] if self.last else 0.0)
        series = {
            name: self.extremes.series(i) for i, name in enumerate(self.names) if name != "t_s"
        }
        days = [self.days.days[d] for d in sorted(self.days.days)]
        return Digest(
            columns=tuple(self.names),
            series=series,
            spans=self.stretches.finish(end),
            code_spans=self.codes.finish(end),
            days=days,
            rows=self.rows,
            first_step_s=self.first_step_s,
            end_s=end,
            last_s=self.last[0] if self.last else 0.0,
        )


def digest_trace(path: Path, end_s: float, *, start_time_of_day_s: float = 0.0) -> Digest:
    """Read trace.csv (or trace.parquet) once, thinning as it goes; unknown columns are fine."""
    reader: _Reader | None = None
    for names, block, codes in _chunks(path):
        if reader is None:
            reader = _Reader(names, end_s, start_time_of_day_s)
        reader.add(block, codes)
    if reader is None:
        reader = _Reader([], end_s, start_time_of_day_s)
    return reader.finish()
