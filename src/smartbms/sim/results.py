"""Where a run's results go: events as JSON Lines, the trace as CSV (or Parquet), streamed.

Both writers stream row by row, so memory does not grow with the simulated duration. An event
record is `{"t_s": ..., "event": "LoadDisconnected", "code": "A-B11", ...details}`: the same shape
for controller events and plant events.
"""

import csv
import dataclasses
import enum
import json
import math
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import IO, Any, Self

from smartbms.core.codes import Code
from smartbms.core.events import Event

TraceValue = float | int | str


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
    """Streams trace rows to CSV, or to Parquet in row groups (needs the `parquet` extra)."""

    PARQUET_ROW_GROUP = 50_000

    def __init__(self, path: Path, columns: Sequence[str], file_format: str = "csv") -> None:
        if file_format not in {"csv", "parquet"}:
            msg = f"trace format must be 'csv' or 'parquet', not {file_format!r}"
            raise ValueError(msg)
        self.path = path
        self.columns = tuple(columns)
        self.format = file_format
        self.rows = 0
        self._csv_file: IO[str] | None = None
        self._csv: Any = None
        self._pending: list[Sequence[TraceValue]] = []
        self._parquet: Any = None
        if file_format == "csv":
            self._csv_file = path.open("w", encoding="utf-8", newline="")
            self._csv = csv.writer(self._csv_file)
            self._csv.writerow(self.columns)
        else:
            try:
                import pyarrow  # noqa: F401, PLC0415  # optional extra, imported on request
            except ImportError as error:
                msg = "Parquet traces need pyarrow: pip install 'smartbms[parquet]'"
                raise RuntimeError(msg) from error

    def write(self, row: Sequence[TraceValue]) -> None:
        """Write one row (same order as `columns`)."""
        self.rows += 1
        if self._csv is not None:
            self._csv.writerow([_cell(v) for v in row])
            return
        self._pending.append(row)
        if len(self._pending) >= self.PARQUET_ROW_GROUP:
            self._flush_parquet()

    def _flush_parquet(self) -> None:
        if not self._pending:
            return
        import pyarrow as pa  # noqa: PLC0415
        import pyarrow.parquet as pq  # noqa: PLC0415

        table = pa.table(
            {name: [row[index] for row in self._pending] for index, name in enumerate(self.columns)}
        )
        if self._parquet is None:
            self._parquet = pq.ParquetWriter(str(self.path), table.schema)
        self._parquet.write_table(table)
        self._pending.clear()

    def close(self) -> None:
        """Flush and close."""
        if self._csv_file is not None:
            self._csv_file.close()
        else:
            self._flush_parquet()
            if self._parquet is not None:
                self._parquet.close()


def _cell(value: TraceValue) -> TraceValue:
    if isinstance(value, float):
        return f"{value:.10g}"
    return value
