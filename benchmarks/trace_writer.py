"""How fast the trace is written: held rows per second, CSV and Parquet (a figure, not a test).

Run: `.venv/bin/python benchmarks/trace_writer.py [--rows N] [--step-rows N]`. Captures one real
step of the manual's Figure 1 system, then feeds `RunWriter.on_step` steps of `--step-rows` samples
at 1 s resolution until `--rows` rows are written, as a long quiet stretch of a run would.
"""

import argparse
import tempfile
import time
from pathlib import Path

from smartbms.scenario import load_scenario
from smartbms.sim.output import RunWriter
from smartbms.sim.runner import Simulation
from smartbms.twin import TwinState

FIGURE_1 = Path(__file__).resolve().parents[1] / "examples" / "manual-figure-1.toml"


def captured_step() -> tuple[int, TwinState]:
    """The system of Figure 1 and the arguments of one of its `on_step` calls (an hour in)."""
    scenario = load_scenario(FIGURE_1)
    short = scenario.model_copy(
        update={"scenario": scenario.scenario.model_copy(update={"duration_s": 3600.0})}
    )
    simulation = Simulation(short)
    captured: list[TwinState] = []

    def on_step(_t: float, _dt: float, state: TwinState) -> None:
        captured[:] = [state]

    simulation.run(on_step=on_step)
    return short.battery_count, captured[0]


def measure_rows_per_s(trace_format: str, rows: int, step_rows: int) -> tuple[float, int]:
    """Rows per second and file size in bytes for `rows` held rows in steps of `step_rows`."""
    battery_count, state = captured_step()
    with tempfile.TemporaryDirectory() as tmp:
        writer = RunWriter(Path(tmp), battery_count, 1.0, trace_format)
        start = time.perf_counter()
        t = 0.0
        for _ in range(rows // step_rows):
            writer.on_step(t, float(step_rows), state)
            t += step_rows
        writer.trace.close()
        elapsed = time.perf_counter() - start
        writer.events.close()
        size = writer.trace_path.stat().st_size
    return rows / elapsed, size


def main() -> None:
    """Measure and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--step-rows", type=int, default=600)
    parser.add_argument("--formats", default="csv,parquet")
    args = parser.parse_args()
    for trace_format in args.formats.split(","):
        rate, size = measure_rows_per_s(trace_format, args.rows, args.step_rows)
        print(
            f"{trace_format:8s} {rate:>12,.0f} rows/s  {size / 1e6:8.1f} MB "
            f"({args.rows:,} rows in steps of {args.step_rows})"
        )


if __name__ == "__main__":
    main()
