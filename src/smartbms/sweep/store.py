"""A sweep's results on disk: Parquet parts while it runs, one results.parquet at the end.

`DIR/sweep.json` records what the folder holds (the sweep's digest, its variant count, axes and
figures); a run into a folder that holds another sweep's results is refused, so a resume never
mixes a changed file's rows with the old ones. Each finished batch is a part,
`DIR/parts/part-<first id>-<n>.parquet`, written whole under a temporary name and renamed, so a
sweep killed at any moment leaves only whole parts; the variant IDs in them are the finished
variants a resume skips. `compact` gathers the parts (and an earlier results.parquet) into
`DIR/results.parquet`, one row per variant sorted by `variant_id` (a variant run twice keeps one
row), and removes the parts.
"""

import contextlib
import json
import shutil
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from smartbms.sweep.execute import Row
from smartbms.sweep.figures import FIGURES
from smartbms.sweep.plan import Sweep

MANIFEST = "sweep.json"
RESULTS = "results.parquet"
PARTS = "parts"
_METADATA_KEY = b"smartbms.sweep"


class SweepStateError(Exception):
    """The output folder cannot take this sweep (it holds another one's results)."""


def _arrow() -> tuple[Any, Any]:
    import pyarrow as pa  # noqa: PLC0415  # optional: the sweep extra
    import pyarrow.parquet as pq  # noqa: PLC0415

    return pa, pq


def _axis_type(values: Sequence[object]) -> str:
    if all(isinstance(v, bool) for v in values):
        return "bool"
    if all(isinstance(v, int) and not isinstance(v, bool) for v in values):
        return "int64"
    if all(isinstance(v, int | float) and not isinstance(v, bool) for v in values):
        return "float64"
    return "string"


def column_types(sweep: Sweep) -> dict[str, str]:
    """Every column of results.parquet and its type, in order."""
    types = {"variant_id": "int64"}
    for axis in sweep.axes:
        types[axis.name] = _axis_type(axis.values)
    kinds = {"number": "float64", "flag": "bool", "text": "string"}
    for name in sweep.figures:
        types[name] = kinds[FIGURES[name].kind]
    types["status"] = "string"
    types["error"] = "string"
    return types


def _cell(value: object, kind: str) -> object:
    if value is None:
        return None
    if kind == "string":
        return str(value)
    if kind == "float64":
        return float(value)  # type: ignore[arg-type]
    return value


class ResultStore:
    """The parts and results of one sweep in one folder."""

    def __init__(self, out_dir: Path, sweep: Sweep) -> None:
        self.out_dir = out_dir
        self.sweep = sweep
        self.types = column_types(sweep)
        self.parts_dir = out_dir / PARTS
        self.results_path = out_dir / RESULTS
        self.manifest = {
            "digest": sweep.digest,
            "name": sweep.name,
            "source": sweep.source,
            "variants": sweep.count,
            "axes": [axis.name for axis in sweep.axes],
            "figures": list(sweep.figures),
        }

    def open(self) -> None:
        """Make the folder, or check that it holds this very sweep (`SweepStateError` if not)."""
        manifest_path = self.out_dir / MANIFEST
        if manifest_path.exists():
            try:
                found = json.loads(manifest_path.read_text(encoding="utf-8"))
            except (OSError, ValueError) as exc:
                msg = f"{manifest_path} is unreadable ({exc}); use another --out folder"
                raise SweepStateError(msg) from None
            if found.get("digest") != self.sweep.digest:
                msg = (
                    f"{self.out_dir} holds results of a different sweep (the sweep file or a "
                    "scenario it runs has changed since); use another --out folder, or remove "
                    f"{self.out_dir} to start again"
                )
                raise SweepStateError(msg)
        elif self.out_dir.exists() and (self.results_path.exists() or self.parts_dir.exists()):
            msg = f"{self.out_dir} holds results without {MANIFEST}; use another --out folder"
            raise SweepStateError(msg)
        self.parts_dir.mkdir(parents=True, exist_ok=True)
        for stale in self.parts_dir.glob("*.tmp"):
            stale.unlink()
        _write_text(manifest_path, json.dumps(self.manifest, indent=2) + "\n")

    def done_ids(self) -> set[int]:
        """Variants with a row on disk (in a part or in results.parquet)."""
        _, pq = _arrow()
        done: set[int] = set()
        for path in self._row_files():
            done.update(pq.read_table(path, columns=["variant_id"]).column(0).to_pylist())
        return done

    def _row_files(self) -> list[Path]:
        files = sorted(self.parts_dir.glob("part-*.parquet")) if self.parts_dir.exists() else []
        return [self.results_path, *files] if self.results_path.exists() else files

    def _table(self, rows: Sequence[Row]) -> Any:
        pa, _ = _arrow()
        arrays = [
            pa.array([_cell(row.get(name), kind) for row in rows], type=pa.type_for_alias(kind))
            for name, kind in self.types.items()
        ]
        schema = pa.schema(
            [pa.field(name, pa.type_for_alias(kind)) for name, kind in self.types.items()],
            metadata={_METADATA_KEY: json.dumps(self.manifest).encode()},
        )
        return pa.Table.from_arrays(arrays, schema=schema)

    def write_part(self, rows: Sequence[Row]) -> Path:
        """Write one finished batch's rows as a part (whole, or not at all)."""
        _, pq = _arrow()
        first = min(int(row["variant_id"]) for row in rows)
        path = self.parts_dir / f"part-{first:09d}-{len(rows)}.parquet"
        tmp = path.with_suffix(".tmp")
        pq.write_table(self._table(rows), tmp)
        tmp.replace(path)
        return path

    def compact(self) -> Path:
        """Gather every row into results.parquet (sorted, one per variant) and drop the parts."""
        _, pq = _arrow()
        tables = [pq.read_table(path) for path in self._row_files()]
        rows: dict[int, Row] = {}
        for table in tables:
            for row in table.to_pylist():
                rows.setdefault(int(row["variant_id"]), row)
        ordered = [rows[key] for key in sorted(rows)]
        tmp = self.results_path.with_suffix(".tmp")
        pq.write_table(self._table(ordered), tmp)
        tmp.replace(self.results_path)
        with contextlib.suppress(FileNotFoundError):
            shutil.rmtree(self.parts_dir)
        return self.results_path


def read_results(path: Path) -> list[Row]:
    """results.parquet as rows (sorted by `variant_id`, as written)."""
    _, pq = _arrow()
    rows: list[Row] = pq.read_table(path).to_pylist()
    return rows


def _write_text(path: Path, text: str) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)


def ids_of(rows: Iterable[Row]) -> list[int]:
    """The variant IDs of rows, in order."""
    return [int(row["variant_id"]) for row in rows]
