"""A real `smartbms simulate` process stopped by Ctrl-C (SIGINT) or killed hard (SIGKILL).

Ctrl-C: exit status 130, no traceback, what ran is kept and marked interrupted. SIGKILL: nothing
can run, so the folder must already say it is incomplete (INCOMPLETE.txt) and hold no summary or
report, neither the new run's nor an older run's that could pass for it.
"""

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from smartbms.cli import main
from smartbms.sim.output import MARKER

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals"),
]

ROOT = Path(__file__).resolve().parents[2]
FIGURE_1 = ROOT / "examples" / "manual-figure-1.toml"
# The child restores Python's Ctrl-C handling explicitly: a process started in the background
# by a shell (or a test runner's worker) may have inherited SIGINT ignored.
CHILD = (
    "import signal, sys; signal.signal(signal.SIGINT, signal.default_int_handler); "
    "from smartbms.cli import main; sys.exit(main())"
)
STARTUP_S = 120.0


def _long_scenario(tmp_path: Path) -> Path:
    """Figure 1's weekend repeated for 300 days: minutes of work, stopped long before its end."""
    text = FIGURE_1.read_text(encoding="utf-8")
    assert "duration_h = 48\n" in text
    path = tmp_path / "long.toml"
    path.write_text(
        text.replace("duration_h = 48\n", "duration_d = 300\ntimeline_period_h = 48\n"),
        encoding="utf-8",
    )
    return path


def _start(scenario: Path, out: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", CHILD, "simulate", str(scenario), "--out", str(out)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _wait_for_rows(process: subprocess.Popen[str], trace: Path, rows: int = 2000) -> None:
    """Until the run has written `rows` trace rows (it is well into the run)."""
    deadline = time.monotonic() + STARTUP_S
    while time.monotonic() < deadline:
        assert process.poll() is None, process.communicate()
        if trace.exists() and trace.stat().st_size > rows * 400:
            return
        time.sleep(0.1)
    process.kill()
    pytest.fail(f"the run wrote no trace within {STARTUP_S:g} s")


def test_ctrl_c_stops_the_run_with_130_and_keeps_what_ran_marked_interrupted(
    tmp_path: Path,
) -> None:
    out = tmp_path / "run"
    process = _start(_long_scenario(tmp_path), out)
    _wait_for_rows(process, out / "trace.csv")
    process.send_signal(signal.SIGINT)
    stdout, stderr = process.communicate(timeout=STARTUP_S)
    assert process.returncode == 130, stderr
    assert "Traceback" not in stdout + stderr
    assert stderr == ""
    assert "Interrupted: the run stopped early" in " ".join(stdout.split())
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["status"] == "interrupted"
    report = (out / "report.html").read_text(encoding="utf-8")
    assert "<title>INCOMPLETE: Manual Figure 1" in report
    assert "<h1>INCOMPLETE: Manual Figure 1" in report
    assert (out / MARKER).exists()
    rows = (out / "trace.csv").read_text(encoding="utf-8").splitlines()
    assert float(rows[-1].split(",")[0]) < 300 * 86_400.0
    for line in (out / "events.jsonl").read_text(encoding="utf-8").splitlines():
        json.loads(line)


def test_a_hard_kill_never_leaves_older_results_looking_like_the_new_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "run"
    assert (
        main(["simulate", str(ROOT / "examples" / "system-plus-short.toml"), "--out", str(out)])
        == 0
    )
    capsys.readouterr()
    assert (out / "summary.json").exists()
    assert (out / "report.html").exists()
    process = _start(_long_scenario(tmp_path), out)
    _wait_for_rows(process, out / "trace.csv")
    process.send_signal(signal.SIGKILL)
    process.communicate(timeout=STARTUP_S)
    assert process.returncode == -signal.SIGKILL
    assert (out / MARKER).exists()
    assert not (out / "summary.json").exists()
    assert not (out / "report.html").exists()
    header = (out / "trace.csv").read_text(encoding="utf-8").splitlines()[0]
    assert header.startswith("t_s,")
    assert not [p.name for p in out.iterdir() if p.name.endswith(".tmp")]
