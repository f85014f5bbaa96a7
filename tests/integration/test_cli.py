"""The `smartbms` command as a user runs it: in-process for speed, and once as a real process."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from smartbms.cli import main
from smartbms.core import Code
from smartbms.sim.summary import Summary


def test_err9_codes_lists_every_code_with_its_cause(capsys: pytest.CaptureFixture[str]) -> None:
    """ERR-9: `smartbms codes` prints the whole App. B table."""
    assert main(["codes"]) == 0
    out = capsys.readouterr().out
    for code in Code:
        assert code.value in out
    assert "Calibration failure" in out


@pytest.mark.req("ERR-9")
@pytest.mark.parametrize("label", ["A-B11", "a-b11", "AB11", " ab11 "])
def test_err9_one_code_prints_cause_and_remedy(
    label: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["codes", label]) == 0
    out = capsys.readouterr().out
    assert "A-B11" in out
    assert "Under-voltage" in out
    assert "1. Switch off or disconnect the loads and recharge the battery." in out


@pytest.mark.req("ERR-1")
def test_err1_not_user_correctable_codes_say_replace(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["codes", "E-B30"]) == 0
    assert "must be replaced" in capsys.readouterr().out


def test_unknown_code_is_one_clear_line_and_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["codes", "X-Y99"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""  # problems go to stderr, results to stdout
    out = captured.err
    assert "no code 'X-Y99'" in out
    assert "A-B11" in out
    assert "Traceback" not in out


@pytest.mark.req("OUT-4", "OUT-7", "SP-5")
def test_demo_shows_the_30_s_lead_and_the_short_circuit_retry(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["controller-demo"]) == 0
    out = capsys.readouterr().out
    assert "02:30:00.0    PreAlarmRaised" in out
    assert "02:30:30.0    LoadDisconnected" in out
    assert "02:30:30.0    PreAlarmCleared" in out
    assert "SystemPlusTripped  cause=short circuit" in out
    assert "03:20:10.0    SystemPlusRetried  attempt=1" in out


def test_the_installed_command_runs_as_a_process() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "smartbms.cli", "codes", "W-B12"],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert "Under-voltage warning" in done.stdout
    assert done.stderr == ""


EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def test_simulate_writes_events_trace_summary_and_report(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "run"
    assert main(["simulate", str(EXAMPLES / "system-plus-short.toml"), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "SystemPlusLockedOut" in printed
    assert "Verdicts" in printed
    for name in ("events.jsonl", "trace.csv", "summary.json", "report.html"):
        assert (out / name).stat().st_size > 0
    events = [json.loads(line) for line in (out / "events.jsonl").read_text().splitlines()]
    assert {"t_s": 60.0, "event": "SystemPlusTripped"}.items() <= events[1].items()
    summary = json.loads((out / "summary.json").read_text())
    assert summary["codes_seen"] == ["A-A12"]
    assert summary["status"] == "complete"
    assert Summary.from_json((out / "summary.json").read_text()).codes_seen == ("A-A12",)
    # the same verdicts as the report's cards, status in words
    assert "Codes shown" in printed
    assert "A-A12  ✗ alarm" in printed
    assert "Load disconnect" in printed
    header = (out / "trace.csv").read_text().splitlines()[0].split(",")
    assert header[:2] == ["t_s", "bank_voltage_v"]
    assert "https://" not in (out / "report.html").read_text()


def test_simulate_parquet_trace(tmp_path: Path) -> None:
    out = tmp_path / "run"
    args = ["simulate", str(EXAMPLES / "fuse-mismatch.toml"), "--out", str(out)]
    assert main([*args, "--trace-format", "parquet"]) == 0
    assert (out / "trace.parquet").stat().st_size > 0


def test_simulate_a_broken_file_is_one_clear_paragraph_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "van.toml"
    bad.write_text(
        '[scenario]\nname = "van"\nduration_h = 1\n\n[bms]\ninstalled_fuse = "125A"\n'
        'charge_limit_v = 16.0\n\n[[battery]]\nmodel = "LFP-Smart 12.8/200"\n'
    )
    assert main(["simulate", str(bad), "--out", str(tmp_path / "out")]) == 2
    out = capsys.readouterr().err
    assert "van.toml, line 7, bms.charge_limit_v" in " ".join(out.split())
    assert "13.0 to 15.3 V" in out
    assert "Traceback" not in out
    assert not (tmp_path / "out").exists()


def test_simulate_a_missing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["simulate", str(tmp_path / "nope.toml")]) == 2
    assert "cannot read the file" in capsys.readouterr().err


def test_schema_summary_prints_json_schema(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["schema", "summary"]) == 0
    schema = json.loads(capsys.readouterr().out)
    assert schema["title"] == "Summary"
    assert "time_to_prealarm_s" in schema["properties"]


def test_schema_of_an_unknown_file_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["schema", "trace"]) == 2
    captured = capsys.readouterr()
    assert "'trace' is not one of 'summary', 'check'" in captured.err
    assert captured.out == ""


def test_smartbms_alone_shows_help_and_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    """Issue 14: a bare `smartbms` is a request for help, not a mistake."""
    assert main([]) == 0
    out = capsys.readouterr().out
    assert "Usage: smartbms" in out
    for command in ("simulate", "demo", "codes", "controller-demo", "schema"):
        assert command in out


def test_an_unknown_command_is_a_usage_error_on_stderr(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["simluate"]) == 2
    captured = capsys.readouterr()
    assert "No such command 'simluate'" in captured.err
    assert captured.out == ""


def test_controller_demo_names_itself(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["controller-demo"]) == 0
    assert "smartbms controller-demo" in capsys.readouterr().out


def test_piped_tables_do_not_wrap_at_80_columns() -> None:
    """Issue 14: a pipe gets one row a line, however long, and no colour codes."""
    done = subprocess.run(
        [sys.executable, "-m", "smartbms.cli", "codes"],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    row = next(line for line in done.stdout.splitlines() if "A-A12" in line)
    assert "System+" in row or "short" in row.lower()  # the cause sits on the code's own line
    assert "\x1b[" not in done.stdout


def test_progress_when_piped_is_sparse_and_time_based() -> None:
    """Issue 14: a pipe gets a progress line at most every 10 s of wall time, never a bar."""
    import io  # noqa: PLC0415

    from rich.console import Console  # noqa: PLC0415

    from smartbms.cli.console import SparseProgress  # noqa: PLC0415

    now = [0.0]
    sink = io.StringIO()
    progress = SparseProgress(Console(file=sink, width=200), "simulating", clock=lambda: now[0])
    for step in range(1, 101):
        now[0] = step * 0.5  # 50 s in all
        progress.update(step / 100)
    lines = sink.getvalue().splitlines()
    assert len(lines) == 5  # at 10, 20, 30, 40 and 50 s
    assert lines[0] == "simulating:  20 %, about 40 s left"


def test_schema_check_prints_the_committed_check_schema(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["schema", "check"]) == 0
    committed = (EXAMPLES.parent / "docs" / "schemas" / "check.schema.json").read_text("utf-8")
    assert capsys.readouterr().out == committed
