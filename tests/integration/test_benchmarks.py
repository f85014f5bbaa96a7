"""benchmarks/run.py runs and ends in one JSON line with every figure (speeds are not asserted)."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

RUN = Path(__file__).resolve().parents[2] / "benchmarks" / "run.py"
KEYS = {
    "fig1_x_realtime",
    "fig1_x_vs_reference",
    "fig1_slice_x_vs_reference",
    "fig1_wall_s",
    "fig1_steps",
    "reference_sim_s_per_wall_s",
    "drain_x_realtime",
    "drain_wall_s",
    "step_us_median",
    "trace_csv_rows_per_s",
    "trace_parquet_rows_per_s",
    "year_peak_rss_mb",
    "year_days",
    "stress_steps_per_h_max",
    "report_peak_rss_mb_10d",
    "report_peak_rss_mb_100d",
    "short_run_s",
}


@pytest.mark.slow
def test_benchmark_run_prints_a_table_then_one_json_line() -> None:
    pytest.importorskip("pyarrow")
    command = [
        sys.executable,
        str(RUN),
        "--quick",
        "--slice-h",
        "0.02",
        "--year-days",
        "2",
        "--trace-rows",
        "20000",
    ]
    done = subprocess.run(command, capture_output=True, text=True, check=False, timeout=120)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.strip().splitlines()
    assert "Controller step, median" in done.stdout
    figures = json.loads(lines[-1])
    assert figures.keys() >= KEYS
    assert figures["year_days"] == 2.0
    # Either the year ran (its RSS measured) or the table says why it could not.
    if figures["year_peak_rss_mb"] is None:
        assert figures["year_error"] in done.stdout
    else:
        assert figures["year_peak_rss_mb"] > 0
        assert figures["year_trace_rows"] == 2 * 86400 + 1
