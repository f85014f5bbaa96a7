"""`smartbms simulate` under hostile input and failing disks, in-process for speed.

Every case ends in clear lines and an exit status (2: unusable input or output folder, checked
before the run; 1: the run could not be written; 130: Ctrl-C), never a traceback, and never with
a folder whose files pass for a complete run when they are not.
"""

import errno
import json
import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from smartbms.cli import main
from smartbms.sim.output import MARKER, RunWriter

ROOT = Path(__file__).resolve().parents[2]
BROKEN = ROOT / "tests" / "scenarios" / "broken"
SHORT = """\
[scenario]
name = "[/mnt/usb] [bold]van[/bold]"
duration_h = 2

[bms]
installed_fuse = "125A"

[[battery]]
model = "LFP-Smart 12.8/200"

[[device]]
name = "[/mnt/usb]"
type = "dc-load"
power_w = 40

[[timeline]]
at_h = 1
action = "set"
device = "[/mnt/usb]"
power_w = 80
"""


@pytest.fixture
def short(tmp_path: Path) -> Path:
    path = tmp_path / "short.toml"
    path.write_text(SHORT, encoding="utf-8")
    return path


def _printed(capsys: pytest.CaptureFixture[str]) -> str:
    captured = capsys.readouterr()
    assert "Traceback" not in captured.out + captured.err
    return captured.out + captured.err


# --- user text is never markup -------------------------------------------------------------------


def test_names_with_brackets_are_printed_as_written(
    short: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["simulate", str(short), "--out", str(tmp_path / "[run]"), "--all-events"]) == 0
    out = _printed(capsys)
    assert "[/mnt/usb] [bold]van[/bold]" in out
    assert "[/mnt/usb]: power_w=80" in out
    assert "[run]" in out
    report = (tmp_path / "[run]" / "report.html").read_text(encoding="utf-8")
    assert "<h1>[/mnt/usb] [bold]van[/bold]</h1>" in report


def test_an_error_about_a_bracketed_section_is_printed_as_written(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = BROKEN / "brackets_everywhere.toml"
    assert main(["simulate", str(path), "--out", str(tmp_path / "out")]) == 2
    out = " ".join(_printed(capsys).split())
    assert 'line 19, "[/mnt/usb]": unknown section [[/mnt/usb]]' in out
    assert not (tmp_path / "out").exists()


def test_an_unknown_code_with_markup_is_printed_as_written(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["codes", "[bold]x[/]"]) == 2
    assert "no code '[bold]x[/]'" in _printed(capsys)


# --- every problem, one line each ----------------------------------------------------------------


def test_every_problem_of_a_file_is_one_error_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = BROKEN / "several_problems.toml"
    assert main(["simulate", str(path), "--out", str(tmp_path / "out")]) == 2
    lines = [line for line in _printed(capsys).splitlines() if line.startswith("error: ")]
    assert [line.split(": ")[1] for line in lines] == [
        f"{path}, line 6, scenario.duration_h",
        f"{path}, line 10, bms.charge_limit_v",
        f"{path}, line 14, battery[1].soc_pct",
    ]


def test_a_period_that_would_never_end_prints_its_estimate(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = BROKEN / "timeline_period_too_short.toml"
    assert main(["simulate", str(path), "--out", str(tmp_path / "out")]) == 2
    assert "about 3.46e+10 times over 400 days" in " ".join(_printed(capsys).split())


def test_a_fixed_step_that_would_never_end_prints_its_estimate(
    short: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    assert main(["simulate", str(short), "--out", str(out), "--fixed-step", "1e-6"]) == 2
    assert "is about 7.2e+09 steps; at most 100,000,000" in " ".join(_printed(capsys).split())
    assert not out.exists()


# --- output folders that cannot be used: exit 2 before the run -----------------------------------


def test_an_output_path_that_is_a_file_is_refused(
    short: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "results"
    target.write_text("mine", encoding="utf-8")
    assert main(["simulate", str(short), "--out", str(target)]) == 2
    assert "it is a file, not a folder" in _printed(capsys)
    assert target.read_text(encoding="utf-8") == "mine"


def test_an_output_path_below_a_file_is_refused(
    short: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "file").write_text("", encoding="utf-8")
    assert main(["simulate", str(short), "--out", str(tmp_path / "file" / "run")]) == 2
    assert "Not a directory" in _printed(capsys)


def test_a_read_only_folder_is_refused(
    short: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "locked"
    folder.mkdir()
    folder.chmod(0o500)
    if os.access(folder, os.W_OK):
        folder.chmod(0o700)
        pytest.skip("running as root: permissions do not stop us")
    try:
        assert main(["simulate", str(short), "--out", str(folder / "run")]) == 2
        assert "Permission denied" in _printed(capsys)
    finally:
        folder.chmod(0o700)


def test_too_little_disk_space_is_refused_before_anything_is_written(
    short: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: Any
) -> None:
    usage = shutil.disk_usage(tmp_path)
    monkeypatch.setattr(shutil, "disk_usage", lambda _path: usage._replace(free=1024 * 1024))
    out = tmp_path / "out"
    assert main(["simulate", str(short), "--out", str(out)]) == 2
    assert "not enough space for the results" in " ".join(_printed(capsys).split())
    assert not out.exists()


# --- failures during the run: one line, exit 1, nothing passes for complete ----------------------


def _old_results(out: Path) -> None:
    out.mkdir()
    for name in ("summary.json", "report.html", "events.jsonl", "trace.csv"):
        (out / name).write_text("from an older run", encoding="utf-8")
    (out / "notes.txt").write_text("the user's own", encoding="utf-8")


def test_a_full_disk_during_the_run_is_one_line_and_exit_1(
    short: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: Any
) -> None:
    out = tmp_path / "out"
    _old_results(out)
    calls = 0
    original = RunWriter.on_step

    def full(self: RunWriter, t: float, dt: float, state: Any) -> None:
        nonlocal calls
        calls += 1
        if calls > 3:  # a few steps in (the 2 h run takes ~20)
            raise OSError(errno.ENOSPC, "No space left on device", str(self.trace_path))
        original(self, t, dt, state)

    monkeypatch.setattr(RunWriter, "on_step", full)
    assert main(["simulate", str(short), "--out", str(out)]) == 1
    lines = [line for line in _printed(capsys).splitlines() if line.startswith("error:")]
    assert len(lines) == 1
    assert "writing the results failed: No space left on device" in lines[0]
    assert (out / MARKER).exists()
    assert not (out / "summary.json").exists()
    assert not (out / "report.html").exists()
    assert (out / "notes.txt").read_text(encoding="utf-8") == "the user's own"
    assert "older run" not in (out / "trace.csv").read_text(encoding="utf-8")


def test_a_complete_run_replaces_older_results_and_leaves_no_marker(
    short: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    _old_results(out)
    assert main(["simulate", str(short), "--out", str(out)]) == 0
    _printed(capsys)
    assert not (out / MARKER).exists()
    assert json.loads((out / "summary.json").read_text(encoding="utf-8"))["status"] == "complete"
    assert sorted(p.name for p in out.iterdir()) == [
        "events.jsonl",
        "notes.txt",
        "report.html",
        "summary.json",
        "trace.csv",
    ]


# --- Ctrl-C (in-process; the real signal is in test_cli_signals.py) ------------------------------


def test_ctrl_c_during_the_run_keeps_what_ran_marked_interrupted(
    short: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: Any
) -> None:
    out = tmp_path / "out"
    original = RunWriter.on_step
    pressed = False

    def interrupted(self: RunWriter, t: float, dt: float, state: Any) -> None:
        nonlocal pressed
        if t >= 1800.0 and not pressed:  # Ctrl-C, once
            pressed = True
            raise KeyboardInterrupt
        original(self, t, dt, state)

    monkeypatch.setattr(RunWriter, "on_step", interrupted)
    assert main(["simulate", str(short), "--out", str(out)]) == 130
    printed = " ".join(_printed(capsys).split())
    assert "Interrupted: the run stopped early" in printed
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["status"] == "interrupted"
    report = (out / "report.html").read_text(encoding="utf-8")
    assert "<title>INCOMPLETE: " in report
    assert "<h1>INCOMPLETE: " in report
    assert "interrupted" in (out / MARKER).read_text(encoding="utf-8")
    rows = (out / "trace.csv").read_text(encoding="utf-8").splitlines()
    assert 1 < len(rows) < 2 * 360
    assert float(rows[-1].split(",")[0]) < 2 * 3600.0


def test_ctrl_c_while_the_report_is_written_is_exit_130_and_stays_marked(
    short: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: Any
) -> None:
    def stop(*_args: object, **_kwargs: object) -> Path:
        raise KeyboardInterrupt

    monkeypatch.setattr("smartbms.sim.report.write_report", stop)
    out = tmp_path / "out"
    assert main(["simulate", str(short), "--out", str(out)]) == 130
    assert "Interrupted while writing the results" in _printed(capsys)
    assert (out / MARKER).exists()
    assert not (out / "report.html").exists()


def test_a_folder_where_a_result_file_belongs_is_refused_before_the_run(
    short: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    (out / "report.html").mkdir(parents=True)
    assert main(["simulate", str(short), "--out", str(out)]) == 2
    printed = " ".join(_printed(capsys).split())
    assert "cannot write results to" in printed
    assert "report.html" in printed
    assert "Verdicts" not in printed
