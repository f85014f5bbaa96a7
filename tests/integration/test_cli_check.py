"""`smartbms check` on the command line: table, JSON, exit codes, --simulate (issue 15)."""

import json
from pathlib import Path

import pytest

from smartbms.check import from_json
from smartbms.cli import main

ROOT = Path(__file__).resolve().parents[2]
GOOD = str(ROOT / "examples" / "check" / "good-van.toml")
BAD = str(ROOT / "examples" / "check" / "many-mistakes.toml")


def test_check_prints_one_line_per_finding_when_piped_and_exits_1_on_errors(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["check", BAD]) == 1
    lines = capsys.readouterr().out.splitlines()
    [cable] = [line for line in lines if " CHK-5 " in line]
    assert cable.startswith(f"{BAD}:31: error CHK-5 device[2].cable: ")
    assert "Fix: Use the inverting remote on-off cable (ASS030550100 or -120)" in cable
    assert len(lines) == 15
    assert lines[-1] == f"{BAD}: 7 errors, 6 warnings, 1 info"


def test_check_prints_a_table_on_a_terminal(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FORCE_COLOR", "1")
    monkeypatch.setenv("COLUMNS", "160")
    assert main(["check", BAD]) == 1
    out = capsys.readouterr().out
    assert "┏━" in out
    assert "severity" in out
    assert "line 31," in out


def test_check_a_good_design_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", GOOD]) == 0
    assert "0 errors, 0 warnings, 1 info" in capsys.readouterr().out


def test_json_is_a_list_one_object_per_file(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    broken = tmp_path / "broken.toml"
    broken.write_text("[bms\n", encoding="utf-8")
    assert main(["check", "--format", "json", GOOD, BAD, str(broken)]) == 2
    out = capsys.readouterr().out
    data = json.loads(out)
    assert [d["file"] for d in data] == [GOOD, BAD, str(broken)]
    assert data[2]["budget"] is None
    assert data[2]["findings"][0]["rule"] == "FILE"
    assert [r.exit_code for r in from_json(out)] == [0, 1, 2]


def test_a_missing_file_is_exit_2(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert main(["check", str(tmp_path / "nothing.toml")]) == 2
    assert "cannot read the file" in capsys.readouterr().out


def test_no_file_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check"]) == 2


def test_simulate_adds_the_situations(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", "--simulate", "--workers", "1", "--format", "json", GOOD]) == 0
    [report] = json.loads(capsys.readouterr().out)
    rules = [f["rule"] for f in report["findings"]]
    assert rules == ["CHK-14", *(f"CHK-S{n}" for n in range(1, 7))]
