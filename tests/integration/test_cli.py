"""The `smartbms` command as a user runs it: in-process for speed, and once as a real process."""

import subprocess
import sys

import pytest

from smartbms.cli import main
from smartbms.core import Code


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
    out = capsys.readouterr().out
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
