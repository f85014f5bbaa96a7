"""`smartbms simulate` and its report: fast by default (no matplotlib), PNG images with --static."""

import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from smartbms.cli import cli

ROOT = Path(__file__).resolve().parents[2]
SHORT = ROOT / "examples" / "system-plus-short.toml"


def test_the_default_report_does_not_import_matplotlib(tmp_path: Path) -> None:
    code = (
        "import sys; from smartbms.cli import main; "
        f"code = main(['simulate', {str(SHORT)!r}, '--out', {str(tmp_path)!r}]); "
        "print('matplotlib' in sys.modules, file=sys.stderr); sys.exit(code)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stderr.strip().splitlines()[-1] == "False"
    assert (tmp_path / "report.html").stat().st_size > 0
    assert not (tmp_path / "static").exists()


def test_static_draws_png_images_and_says_where(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["simulate", str(SHORT), "--out", str(tmp_path), "--static"])
    assert result.exit_code == 0, result.output
    images = sorted(p.name for p in (tmp_path / "static").glob("*.png"))
    assert {"voltage.png", "cells.png", "currents.png", "strip.png"} <= set(images)
    assert "Images:" in result.output
    assert "static/voltage.png" in (tmp_path / "report.html").read_text(encoding="utf-8")


def test_the_verdicts_in_the_terminal_are_the_true_ones(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["simulate", str(SHORT), "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    out = result.output
    assert "System+ trip (A-A12)" in out
    assert "locked out 5 min" in out
    assert "loads stayed on" not in out
    assert "None" not in out
    assert f"Report:  {tmp_path / 'report.html'}" in out
    assert "day 1 08:01:30    SystemPlusLockedOut" in out  # the report's clock, as the cards
