"""A run's results: written as they happen, and read back for a notebook as DataFrames.

Events go to JSON Lines, the trace to CSV (or Parquet), streamed; `Results.load(folder)` reads them
back. Both writers stream, so memory does not grow with the simulated duration. An event
record is `{"t_s": ..., "event": "LoadDisconnected", "code": "A-B11", ...details}`: the same shape
for controller events and plant events.

    run = Results.load("out/system-plus-short")
    run.summary.incidents.system_plus_trips, run.trace["bank_soc_pct"].min()

pandas is imported only when `.trace` or `.events` is first read (the `pandas` extra).
"""

import csv
import dataclasses
import enum
import io
import json
import math
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import IO, TYPE_CHECKING, Any, Self

import numpy as np
import numpy.typing as npt

from smartbms.core.codes import Code
from smartbms.core.events import Event
from smartbms.sim.summary import Summary

if TYPE_CHECKING:
    import pandas as pd  # type: ignore[import-untyped, unused-ignore]

TraceValue = float | int | str
FloatArray = npt.NDArray[np.float64]

_ARROW_TYPES = {"float": "float64", "int": "int64", "str": "string"}
"""A trace column's kind and its Parquet (Arrow) type."""
_KINDS = frozenset(_ARROW_TYPES)
_PLAIN_INTEGER_LIMIT = 1e10
"""Below this, f"{x:.10g}" writes an integral float x as plain digits (then as 1e+10)."""


def plain(value: object) -> object:
    """A JSON-ready form of an event field: enums by label, codes by name, floats rounded."""
    if isinstance(value, Code):
        return value.value
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, float):
        if math.isinf(value) or math.isnan(value):
            return None
        return round(value, 6)
    if isinstance(value, tuple | list):
        return [plain(v) for v in value]
    if isinstance(value, frozenset | set):
        return sorted(str(plain(v)) for v in value)
    return value


def event_record(event: Event) -> dict[str, object]:
    """One JSON Lines object for an event (controller or plant)."""
    record: dict[str, object] = {"t_s": round(event.t_s, 6), "event": event.kind}
    code = event.code
    if code is not None:
        record["code"] = code.value
    for field in dataclasses.fields(event):
        if field.name != "t_s":
            record[field.name] = plain(getattr(event, field.name))
    return record


class _Closing:
    """A writer usable in `with`: closed on the way out, also after an error."""

    def close(self) -> None:
        """Flush and close."""
        raise NotImplementedError

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class EventWriter(_Closing):
    """Appends events to a JSON Lines file as they happen."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._file: IO[str] = path.open("w", encoding="utf-8")
        self.count = 0

    def write(self, event: Event) -> None:
        """Write one event."""
        self._file.write(json.dumps(event_record(event), ensure_ascii=False) + "\n")
        self.count += 1

    def close(self) -> None:
        """Flush and close."""
        self._file.close()


class TraceWriter(_Closing):
    """Streams trace rows to CSV, or to Parquet in row groups (needs the `parquet` extra).

    The first column is the time. `write` takes one row; `write_held` takes a row held over
    `count` sample times (a long step of a run): for CSV it is formatted once and written as one
    string per sample, for Parquet it is copied into the row group's column arrays at once.
    Memory stays bounded either way: CSV is written in chunks of about `CSV_CHUNK_BYTES`, Parquet
    in row groups of `PARQUET_ROW_GROUP` rows, held in preallocated NumPy arrays.

    `kinds` fixes each column's type ("float", "int" or "str"; Parquet: float64, int64, string);
    without it, the types are those of the first row's values (bool counts as int). A column's
    type never changes between row groups.
    """

    PARQUET_ROW_GROUP = 65_536
    PARQUET_COMPRESSION = "zstd"
    CSV_CHUNK_BYTES = 1 << 20

    def __init__(
        self,
        path: Path,
        columns: Sequence[str],
        file_format: str = "csv",
        kinds: Sequence[str] | None = None,
    ) -> None:
        if file_format not in {"csv", "parquet"}:
            msg = f"trace format must be 'csv' or 'parquet', not {file_format!r}"
            raise ValueError(msg)
        if kinds is not None and (len(kinds) != len(columns) or not set(kinds) <= _KINDS):
            msg = f"kinds must name 'float', 'int' or 'str' for each of {len(columns)} columns"
            raise ValueError(msg)
        self.path = path
        self.columns = tuple(columns)
        self.format = file_format
        self.rows = 0
        self._kinds = None if kinds is None else ("float", *kinds[1:])  # the time is a float
        self._csv_file: IO[str] | None = None
        self._csv: Any = None
        self._parquet: Any = None
        self._group: _RowGroup | None = None
        if file_format == "csv":
            self._csv_file = path.open("w", encoding="utf-8", newline="")
            self._csv = csv.writer(self._csv_file)
            self._csv.writerow(self.columns)
        else:
            try:
                import pyarrow.parquet  # noqa: F401, PLC0415  # optional extra, on request
            except ImportError as error:
                msg = "Parquet traces need pyarrow: pip install 'smartbms[parquet]'"
                raise RuntimeError(msg) from error

    def write(self, row: Sequence[TraceValue]) -> None:
        """Write one row (same order as `columns`)."""
        self.rows += 1
        if self._csv is not None:
            self._csv.writerow([_cell(v) for v in row])
            return
        group = self._row_group(row)
        group.add(row, np.array([float(row[0])]))
        if group.full:
            self._flush_parquet()

    def write_held(
        self, row: Sequence[TraceValue], first_sample: int, count: int, resolution_s: float
    ) -> None:
        """Write `row` at `count` sample times: `round(k * resolution_s, 6)`, k from `first_sample`.

        `row[0]` (the time) is ignored; every other cell is written as `write` would write it.
        """
        if count <= 0:
            return
        self.rows += count
        if self._csv_file is not None:
            self._write_csv_held(row, first_sample, count, resolution_s)
            return
        group = self._row_group(row)
        while count > 0:
            take = min(count, group.room)
            samples = np.arange(first_sample, first_sample + take, dtype=np.float64)
            group.add(row, np.round(samples * resolution_s, 6))
            if group.full:
                self._flush_parquet()
            first_sample += take
            count -= take

    def _write_csv_held(
        self, row: Sequence[TraceValue], first_sample: int, count: int, resolution_s: float
    ) -> None:
        assert self._csv_file is not None  # noqa: S101  # only called for CSV
        line = io.StringIO()
        csv.writer(line).writerow(["0", *(_cell(v) for v in row[1:])])
        rest = line.getvalue()[1:]  # ",cell,...,cell\r\n": exactly what csv.writer writes
        per_chunk = max(1, self.CSV_CHUNK_BYTES // len(rest))
        stop = first_sample + count
        write = self._csv_file.write
        if float(resolution_s).is_integer() and stop * resolution_s < _PLAIN_INTEGER_LIMIT:
            step = int(resolution_s)
            # Whole seconds: k * resolution_s is an exact integer, which round() keeps and
            # f"{:.10g}" writes as its plain digits, as str() does (and much faster).
            for start in range(first_sample, stop, per_chunk):
                times = range(start * step, min(start + per_chunk, stop) * step, step)
                write("".join([f"{t}{rest}" for t in times]))
            return
        for start in range(first_sample, stop, per_chunk):
            samples = range(start, min(start + per_chunk, stop))
            write("".join([f"{round(k * resolution_s, 6):.10g}{rest}" for k in samples]))

    def _row_group(self, row: Sequence[TraceValue]) -> "_RowGroup":
        if self._group is None:
            if self._kinds is None:
                self._kinds = ("float", *(_kind(v) for v in row[1:]))
            self._group = _RowGroup(self._kinds, self.PARQUET_ROW_GROUP)
        return self._group

    def _flush_parquet(self) -> None:
        if self._group is None or not self._group.size:
            return
        batch = self._group.batch(self._schema())
        self._parquet_writer(batch.schema).write_batch(batch)
        self._group.clear()  # after the write: the batch's arrays are views of the group's

    def _schema(self) -> Any:
        import pyarrow as pa  # noqa: PLC0415

        kinds = self._kinds if self._kinds is not None else ("float",) * len(self.columns)
        return pa.schema(
            [
                (name, getattr(pa, _ARROW_TYPES[kind])())
                for name, kind in zip(self.columns, kinds, strict=True)
            ]
        )

    def _parquet_writer(self, schema: Any) -> Any:
        if self._parquet is None:
            import pyarrow.parquet as pq  # noqa: PLC0415

            # Statistics (min/max per row group) for the time only: a reader can still find a
            # time range, and the other columns' would cost a tenth of the write time.
            self._parquet = pq.ParquetWriter(
                str(self.path),
                schema,
                compression=self.PARQUET_COMPRESSION,
                write_statistics=[self.columns[0]],
            )
        return self._parquet

    def close(self) -> None:
        """Flush and close."""
        if self._csv_file is not None:
            self._csv_file.close()
            return
        self._flush_parquet()
        if self._parquet is None:  # no rows: still a file, with the columns
            self._parquet_writer(self._schema())
        self._parquet.close()
        self._parquet = None
        self._group = None


class _RowGroup:
    """A Parquet row group in the making: one preallocated array per number column.

    A held row is copied into its columns' next `count` slots at once; the string columns keep
    runs (values and a repeat count), as they seldom change.
    """

    def __init__(self, kinds: Sequence[str], capacity: int) -> None:
        self.kinds = tuple(kinds)
        self.capacity = capacity
        self.size = 0
        self._floats = [i for i, kind in enumerate(kinds) if kind == "float" and i > 0]
        self._ints = [i for i, kind in enumerate(kinds) if kind == "int"]
        self._strs = [i for i, kind in enumerate(kinds) if kind == "str"]
        self._times = np.empty(capacity, dtype=np.float64)
        self._float_values = np.empty((len(self._floats), capacity), dtype=np.float64)
        self._int_values = np.empty((len(self._ints), capacity), dtype=np.int64)
        self._runs: list[tuple[str, ...]] = []
        self._run_counts: list[int] = []

    @property
    def room(self) -> int:
        """How many more rows fit."""
        return self.capacity - self.size

    @property
    def full(self) -> bool:
        """Whether no more rows fit."""
        return self.size >= self.capacity

    def add(self, row: Sequence[TraceValue], times: FloatArray) -> None:
        """Append `row` at each of `times` (at most `room` of them)."""
        start, stop = self.size, self.size + times.size
        self._times[start:stop] = times
        if self._floats:
            floats = np.array([row[i] for i in self._floats], dtype=np.float64)
            self._float_values[:, start:stop] = floats[:, np.newaxis]
        if self._ints:
            ints = np.array([row[i] for i in self._ints], dtype=np.int64)
            self._int_values[:, start:stop] = ints[:, np.newaxis]
        if self._strs:
            texts = tuple(str(row[i]) for i in self._strs)
            if self._runs and self._runs[-1] == texts:
                self._run_counts[-1] += times.size
            else:
                self._runs.append(texts)
                self._run_counts.append(times.size)
        self.size = stop

    def batch(self, schema: Any) -> Any:
        """The rows so far as a record batch (views of this group's arrays, not copies)."""
        import pyarrow as pa  # noqa: PLC0415

        n = self.size
        arrays: list[Any] = [None] * len(self.kinds)
        arrays[0] = pa.array(self._times[:n])
        for row_index, column in enumerate(self._floats):
            arrays[column] = pa.array(self._float_values[row_index, :n])
        for row_index, column in enumerate(self._ints):
            arrays[column] = pa.array(self._int_values[row_index, :n])
        if self._strs:
            counts = np.asarray(self._run_counts, dtype=np.int64)
            repeat = pa.array(np.repeat(np.arange(counts.size), counts))
            for run_index, column in enumerate(self._strs):
                values = pa.array([run[run_index] for run in self._runs], type=pa.string())
                arrays[column] = values.take(repeat)
        return pa.RecordBatch.from_arrays(arrays, schema=schema)

    def clear(self) -> None:
        """Start the next row group (reusing the arrays)."""
        self.size = 0
        self._runs.clear()
        self._run_counts.clear()


def _kind(value: TraceValue) -> str:
    if isinstance(value, str):
        return "str"
    if isinstance(value, int):
        return "int"
    return "float"


def _cell(value: TraceValue) -> TraceValue:
    if isinstance(value, float):
        return f"{value:.10g}"
    return value


class Results:
    """One finished run's folder, read back: `.summary` (typed), `.trace` and `.events` (pandas).

    Column names carry their units (`t_s`, `bank_voltage_v`, `battery1_cell3_v`, `current_a`),
    as the files have them. The DataFrames are read on first use and kept; a folder without a
    summary (a run killed hard) raises FileNotFoundError.
    """

    def __init__(self, folder: Path, summary: Summary) -> None:
        self.folder = folder
        self.summary = summary
        self._trace: pd.DataFrame | None = None
        self._events: pd.DataFrame | None = None

    @classmethod
    def load(cls, folder: str | Path) -> "Results":
        """Open a run's folder (what `smartbms simulate --out FOLDER` wrote)."""
        path = Path(folder)
        summary = Summary.from_json((path / "summary.json").read_bytes())
        return cls(path, summary)

    @property
    def trace_path(self) -> Path:
        """trace.parquet when the run wrote one, else trace.csv."""
        parquet = self.folder / "trace.parquet"
        return parquet if parquet.exists() else self.folder / "trace.csv"

    @property
    def trace(self) -> "pd.DataFrame":
        """The trace, one row per sample time; codes as text ('' for none)."""
        if self._trace is None:
            pd = _pandas()
            path = self.trace_path
            if path.suffix == ".parquet":
                self._trace = pd.read_parquet(path)
            else:
                self._trace = pd.read_csv(path, dtype={"codes": "string"}, keep_default_na=False)
                self._trace = self._trace.apply(
                    lambda column: (
                        column if column.name == "codes" else pd.to_numeric(column, errors="coerce")
                    )
                )
        return self._trace

    @property
    def events(self) -> "pd.DataFrame":
        """The events in time order: `t_s`, `event`, `code` and each kind's own fields."""
        if self._events is None:
            pd = _pandas()
            path = self.folder / "events.jsonl"
            records = [
                json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line
            ]
            frame = pd.DataFrame.from_records(records)
            if frame.empty:
                frame = pd.DataFrame(columns=["t_s", "event", "code"])
            self._events = frame
        return self._events


def _pandas() -> Any:
    try:
        import pandas as pd  # noqa: PLC0415  # optional extra, on first use
    except ImportError as error:
        msg = "reading results as DataFrames needs pandas: pip install 'smartbms[pandas]'"
        raise RuntimeError(msg) from error
    return pd
