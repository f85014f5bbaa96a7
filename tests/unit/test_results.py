"""`Results.load`: a run's folder read back as a typed summary and pandas DataFrames."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from smartbms.cli import main
from smartbms.sim.results import Results

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The System+ short example, run once."""
    out = tmp_path_factory.mktemp("short")
    assert (
        main(["simulate", str(ROOT / "examples" / "system-plus-short.toml"), "--out", str(out)])
        == 0
    )
    return out


def test_the_summary_is_typed(folder: Path) -> None:
    run = Results.load(str(folder))  # a str or a Path
    assert run.summary.codes_seen == ("A-A12",)
    assert run.summary.incidents.system_plus_lockout_at_s == 90.0


def test_the_trace_has_units_in_its_column_names_and_every_cell(folder: Path) -> None:
    trace = Results.load(folder).trace
    assert list(trace.columns[:2]) == ["t_s", "bank_voltage_v"]
    for k in range(1, 5):
        assert trace[f"battery1_cell{k}_v"].between(2.5, 3.65).all()
    assert trace["t_s"].iloc[-1] == 600.0
    assert trace["codes"].iloc[0] == ""
    assert "A-A12" in set(trace["codes"])


def test_the_events_are_a_table(folder: Path) -> None:
    events = Results.load(folder).events
    assert {"t_s", "event", "code", "current_a"} <= set(events.columns)
    trips = events[events["event"] == "SystemPlusTripped"]
    assert len(trips) == 4
    assert (trips["current_a"] < -4000).all()
    lines = (folder / "events.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(events) == len(lines)
    assert events["t_s"].tolist() == [json.loads(line)["t_s"] for line in lines]


def test_a_parquet_trace_reads_the_same(folder: Path, tmp_path: Path) -> None:
    pytest.importorskip("pyarrow")
    out = tmp_path / "pq"
    argv = ["simulate", str(ROOT / "examples/system-plus-short.toml"), "--out", str(out)]
    assert main([*argv, "--trace-format", "parquet"]) == 0
    parquet = Results.load(out).trace
    csv = Results.load(folder).trace
    assert list(parquet.columns) == list(csv.columns)
    assert parquet["bank_soc_pct"].tolist() == pytest.approx(csv["bank_soc_pct"].tolist())


def test_importing_results_does_not_import_pandas() -> None:
    code = "import sys, smartbms.sim.results; print('pandas' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"


def test_a_folder_without_a_summary_says_so(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        Results.load(tmp_path)
