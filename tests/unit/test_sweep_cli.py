"""`smartbms sweep` and `smartbms compare` from the command line (a one-worker local cluster)."""

import tomllib
from pathlib import Path

import pytest

from smartbms.cli import main
from smartbms.sweep import read_results

ROOT = Path(__file__).resolve().parents[2]
DRAIN = ROOT / "examples" / "residual-drain-200ah.toml"
SWEEP = f"""[sweep]
name = "drain"
scenario = "{DRAIN}"
figures = ["days_until_damage", "battery_damaged"]

[[axis]]
field = "device[2].current_a"
values = [0.005, 0.02]
"""


def test_sweep_writes_results_and_report(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "drain.toml"
    path.write_text(SWEEP, encoding="utf-8")
    out = tmp_path / "out"
    assert main(["sweep", str(path), "--out", str(out), "--workers", "1"]) == 0
    rows = read_results(out / "results.parquet")
    assert [row["variant_id"] for row in rows] == [0, 1]
    assert (out / "report.html").is_file()
    said = capsys.readouterr().out
    assert "Best variant per figure" in said
    assert "2 variants in" in said


def test_one_variant_runs_in_full(tmp_path: Path) -> None:
    path = tmp_path / "drain.toml"
    path.write_text(SWEEP, encoding="utf-8")
    out = tmp_path / "out"
    assert main(["sweep", str(path), "--out", str(out), "--variant", "1"]) == 0
    folder = out / "variant-1"
    saved = tomllib.loads((folder / "scenario.toml").read_text(encoding="utf-8"))
    assert saved["device"][1]["current_a"] == 0.02
    assert (folder / "summary.json").is_file()
    assert (folder / "report.html").is_file()
    assert main(["sweep", str(path), "--out", str(out), "--variant", "2"]) == 2


def test_a_wrong_sweep_file_is_one_line_per_problem(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(SWEEP.replace("0.02]", "20.0]"), encoding="utf-8")
    assert main(["sweep", str(path), "--out", str(tmp_path / "out")]) == 2
    said = capsys.readouterr()
    text = said.err + said.out
    assert f"{path}, line 8, axis[1].values[2]: device[2].current_a = 20.0" in text
    assert "Traceback" not in text


def test_compare_lists_files_side_by_side(tmp_path: Path) -> None:
    other = ROOT / "examples" / "residual-drain-200ah-remote-on.toml"
    out = tmp_path / "cmp"
    argv = ["compare", str(DRAIN), str(other), "--out", str(out), "--workers", "1"]
    assert main([*argv, "--figure", "days_until_damage"]) == 0
    rows = read_results(out / "results.parquet")
    assert [row["scenario"] for row in rows] == [str(DRAIN), str(other)]
    assert main([*argv, "--figure", "nope"]) == 2
