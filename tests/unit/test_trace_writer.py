"""The trace writer: held rows written fast, byte for byte as csv.writer wrote them, bounded.

The reference for CSV is the writer as it was before held rows were written in bulk: one
`csv.writer.writerow` per sample, every float as f"{v:.10g}", the time as `round(k * res, 6)`.
"""

import csv
import math
import random
from collections.abc import Sequence
from pathlib import Path

import pytest

from smartbms.scenario import load_scenario
from smartbms.sim.output import RunWriter, columns_for, samples_in_step, trace_kinds
from smartbms.sim.results import TraceValue, TraceWriter
from smartbms.sim.runner import Simulation

pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
COLUMNS = ("t_s", "voltage_v", "soc_pct", "flag", "led", "codes", "note")
ROWS: tuple[tuple[TraceValue, ...], ...] = (
    (0.0, 13.2812345678912, 45.0, 1, 0, "", "plain"),
    (0.0, math.nan, -0.000012345678901, 0, 2, "A-B11 W-B12", "two words"),
    (0.0, math.inf, 1e-300, 1, 1, "E-B31", 'a "quoted", comma'),
    (0.0, -math.inf, 123456789012.5, 0, 0, "", ""),
    (0.0, 1e22, 0.1 + 0.2, 1, 2, "line\nbreak", " leading space"),
)


def _cell(value: TraceValue) -> TraceValue:
    return f"{value:.10g}" if isinstance(value, float) else value


def reference_csv(
    path: Path, steps: Sequence[tuple[Sequence[TraceValue], int, int, float]]
) -> None:
    """The old writer: one `writerow` per held sample."""
    with path.open("w", encoding="utf-8", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(COLUMNS)
        for row, first, count, resolution in steps:
            held = list(row)
            for k in range(first, first + count):
                held[0] = round(k * resolution, 6)
                writer.writerow([_cell(v) for v in held])


def new_csv(path: Path, steps: Sequence[tuple[Sequence[TraceValue], int, int, float]]) -> None:
    with TraceWriter(path, COLUMNS, "csv") as writer:
        for row, first, count, resolution in steps:
            writer.write_held(row, first, count, resolution)
    assert writer.rows == sum(count for _, _, count, _ in steps)


@pytest.mark.parametrize("resolution", [1.0, 30.0, 0.1, 0.25, 1 / 3, 2.5])
@pytest.mark.parametrize("first", [0, 7, 123_456])
def test_csv_held_rows_are_byte_identical_to_csv_writer(
    tmp_path: Path, resolution: float, first: int
) -> None:
    steps = []
    k = first
    for index, row in enumerate(ROWS):
        count = [1, 3, 600, 2, 17][index]
        steps.append((row, k, count, resolution))
        k += count
    reference_csv(tmp_path / "old.csv", steps)
    new_csv(tmp_path / "new.csv", steps)
    assert (tmp_path / "new.csv").read_bytes() == (tmp_path / "old.csv").read_bytes()


def test_csv_times_past_ten_digits_switch_to_exponent_as_before(tmp_path: Path) -> None:
    # Whole-second times are written with str() below 1e10 only: f"{1e10:.10g}" is "1e+10".
    steps = [(ROWS[0], 9_999_999_997, 6, 1.0), (ROWS[1], 4_999_999_998, 4, 2.0)]
    reference_csv(tmp_path / "old.csv", steps)
    new_csv(tmp_path / "new.csv", steps)
    old = (tmp_path / "old.csv").read_bytes()
    assert (tmp_path / "new.csv").read_bytes() == old
    assert b"\r\n1e+10," in old


def test_csv_long_holds_are_written_in_bounded_chunks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(TraceWriter, "CSV_CHUNK_BYTES", 200)  # a few rows per chunk
    writes: list[int] = []
    steps = [(ROWS[1], 5, 1001, 1.0), (ROWS[2], 1006, 999, 0.1)]
    with TraceWriter(tmp_path / "new.csv", COLUMNS, "csv") as writer:
        assert writer._csv_file is not None
        real_write = writer._csv_file.write

        def counting_write(text: str) -> int:
            writes.append(len(text))
            return real_write(text)

        monkeypatch.setattr(writer._csv_file, "write", counting_write)
        for row, first, count, resolution in steps:
            writer.write_held(row, first, count, resolution)
    reference_csv(tmp_path / "old.csv", steps)
    assert (tmp_path / "new.csv").read_bytes() == (tmp_path / "old.csv").read_bytes()
    assert len(writes) > 100
    assert max(writes) < 400


def test_csv_single_rows_and_held_rows_keep_their_order(tmp_path: Path) -> None:
    with TraceWriter(tmp_path / "t.csv", COLUMNS, "csv") as writer:
        writer.write_held(ROWS[0], 0, 3, 1.0)
        writer.write([3.0, *ROWS[1][1:]])
        writer.write_held(ROWS[2], 4, 2, 1.0)
    with (tmp_path / "t.csv").open(newline="", encoding="utf-8") as file:
        times = [row[0] for row in list(csv.reader(file))[1:]]
    assert times == ["0", "1", "2", "3", "4", "5"]
    assert writer.rows == 6


# --- Parquet -------------------------------------------------------------------------------------


def test_parquet_held_rows_have_their_own_times_and_stable_types(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(TraceWriter, "PARQUET_ROW_GROUP", 64)
    counts = [1, 3, 200, 2, 17, 64, 63]
    expected_t: list[float] = []
    expected_rows: list[tuple[TraceValue, ...]] = []
    kinds = ("float", "float", "float", "int", "int", "str", "str")
    with TraceWriter(tmp_path / "t.parquet", COLUMNS, "parquet", kinds) as writer:
        k = 0
        for index, count in enumerate(counts):
            row = ROWS[index % len(ROWS)]
            if index == 3:  # a whole number in a float column stays a float column
                row = (0.0, 13, *row[2:])
            writer.write_held(row, k, count, 0.1)
            expected_t += [round(i * 0.1, 6) for i in range(k, k + count)]
            expected_rows += [row] * count
            k += count
        writer.write([round(k * 0.1, 6), *ROWS[0][1:]])
        expected_t.append(round(k * 0.1, 6))
        expected_rows.append(ROWS[0])
    table = pq.read_table(tmp_path / "t.parquet")
    metadata = pq.ParquetFile(tmp_path / "t.parquet").metadata
    assert metadata.num_row_groups == math.ceil(len(expected_t) / 64)
    assert writer.rows == table.num_rows == len(expected_t)
    assert [str(field.type) for field in table.schema] == [
        "double",
        "double",
        "double",
        "int64",
        "int64",
        "string",
        "string",
    ]
    assert table.column("t_s").to_pylist() == expected_t
    for index, name in enumerate(COLUMNS[1:], start=1):
        got = table.column(name).to_pylist()
        want = [row[index] for row in expected_rows]
        if name == "voltage_v":
            assert [repr(float(v)) for v in got] == [repr(float(v)) for v in want]
        else:
            assert got == want


def test_parquet_kinds_come_from_the_first_row_without_a_declaration(tmp_path: Path) -> None:
    with TraceWriter(tmp_path / "t.parquet", COLUMNS, "parquet") as writer:
        writer.write_held(ROWS[0], 0, 10, 1.0)
    schema = pq.read_schema(tmp_path / "t.parquet")
    assert [str(f.type) for f in schema][:6] == ["double"] * 3 + ["int64"] * 2 + ["string"]


def test_parquet_without_rows_still_writes_the_columns(tmp_path: Path) -> None:
    kinds = trace_kinds(columns_for(2))
    TraceWriter(tmp_path / "t.parquet", columns_for(2), "parquet", kinds).close()
    table = pq.read_table(tmp_path / "t.parquet")
    assert table.num_rows == 0
    assert table.column_names == list(columns_for(2))
    assert str(table.schema.field("codes").type) == "string"
    assert str(table.schema.field("led_bluetooth").type) == "int64"


def test_writer_refuses_unknown_formats_and_kinds(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="trace format"):
        TraceWriter(tmp_path / "t.txt", COLUMNS, "txt")
    with pytest.raises(ValueError, match="kinds"):
        TraceWriter(tmp_path / "t.parquet", COLUMNS, "parquet", ("float",) * 3)
    with pytest.raises(ValueError, match="kinds"):
        TraceWriter(tmp_path / "t.parquet", COLUMNS, "parquet", ("double",) * len(COLUMNS))


def test_trace_kinds_name_flags_and_leds_int_and_codes_str() -> None:
    kinds = dict(zip(columns_for(1), trace_kinds(columns_for(1)), strict=True))
    assert kinds["codes"] == "str"
    assert kinds["ab_enabled"] == kinds["led_bms_active"] == kinds["prealarm_high"] == "int"
    assert kinds["t_s"] == kinds["bank_voltage_v"] == kinds["battery1_soc_pct"] == "float"
    assert sum(kind == "int" for kind in kinds.values()) == 13


# --- which samples a step writes -------------------------------------------------------------


def samples_by_loop(
    next_sample: int, t: float, dt: float, resolution: float
) -> tuple[int, list[int]]:
    """The old `RunWriter.on_step` loop, one sample at a time."""
    written = []
    end = t + dt
    while next_sample * resolution < end - 1e-9:
        sample_t = next_sample * resolution
        next_sample += 1
        if sample_t < t - 1e-9:
            continue
        written.append(next_sample - 1)
    return next_sample, written


@pytest.mark.parametrize("resolution", [1.0, 30.0, 0.1, 0.3, 7.0])
def test_samples_in_step_matches_the_one_by_one_loop(resolution: float) -> None:
    rng = random.Random(resolution)
    loop_next = 0
    fast_next = 0
    t = 0.0
    for _ in range(3000):
        dt = rng.choice(
            [
                0.1,
                resolution,
                resolution * rng.randint(1, 700),
                rng.uniform(0.0, 3 * resolution),
                1e-10,
                resolution - 1e-9,
            ]
        )
        loop_next, expected = samples_by_loop(loop_next, t, dt, resolution)
        samples = samples_in_step(fast_next, t, dt, resolution)
        fast_next = max(fast_next, samples.stop)
        assert list(samples) == expected, (t, dt)
        assert fast_next == loop_next
        t += dt


# --- a run through RunWriter --------------------------------------------------------------


def run_figure_1(out: Path, trace_format: str, hours: float) -> RunWriter:
    scenario = load_scenario(EXAMPLES / "manual-figure-1.toml")
    section = scenario.scenario.model_copy(update={"duration_s": hours * 3600.0})
    scenario = scenario.model_copy(update={"scenario": section})
    simulation = Simulation(scenario)
    writer = RunWriter(out, scenario.battery_count, 1.0, trace_format)
    result = simulation.run(on_event=writer.on_event, on_step=writer.on_step)
    writer.finish(result)
    return writer


def test_a_run_writes_the_same_trace_as_csv_and_parquet(tmp_path: Path) -> None:
    csv_writer = run_figure_1(tmp_path / "csv", "csv", 4.0)
    parquet_writer = run_figure_1(tmp_path / "parquet", "parquet", 4.0)
    with csv_writer.trace_path.open(newline="", encoding="utf-8") as file:
        rows = list(csv.reader(file))
    table = pq.read_table(parquet_writer.trace_path)
    assert rows[0] == table.column_names
    assert len(rows) - 1 == table.num_rows == 4 * 3600 + 1 == csv_writer.trace.rows
    assert [float(r[0]) for r in rows[1:]] == table.column("t_s").to_pylist()
    assert table.column("t_s").to_pylist() == [float(k) for k in range(4 * 3600 + 1)]
    for index, name in enumerate(table.column_names):
        values = table.column(name).to_pylist()
        if name == "codes":
            assert [r[index] for r in rows[1:]] == values
        else:
            cells = [r[index] for r in rows[1:]]
            assert cells == [f"{float(v):.10g}" if isinstance(v, float) else str(v) for v in values]
