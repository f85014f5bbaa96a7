"""Running sweeps in-process (workers=0): rows, failures, resume, snapshots and the report."""

from pathlib import Path

import pytest

from smartbms.sweep import SweepStateError, compare_sweep, load_sweep, read_results, run_sweep
from smartbms.sweep.execute import run_batch, run_fresh, run_from, validate, warm_up
from smartbms.sweep.plan import Batch
from smartbms.sweep.report import card_labels, render, write_sweep_report

ROOT = Path(__file__).resolve().parents[2]
DRAIN = ROOT / "examples" / "residual-drain-200ah.toml"
SWEEP = """[sweep]
name = "drain"
scenario = "{base}"
figures = ["days_until_damage", "final_bank_soc_pct", "battery_damaged", "worst_verdict"]
batch_size = 2

[[axis]]
field = "device[2].current_a"
values = [0.005, 0.02]

[[axis]]
field = "scenario.duration_h"
values = [1.0, 48.0, 72.0]
"""


def sweep_file(tmp_path: Path, text: str = SWEEP) -> Path:
    path = tmp_path / "drain.toml"
    path.write_text(text.format(base=DRAIN), encoding="utf-8")
    return path


def comparable(rows: list[dict[str, object]]) -> list[dict[str, object]]:
    return sorted(rows, key=lambda row: int(str(row["variant_id"])))


def test_rows_ok_and_failed(tmp_path: Path) -> None:
    outcome = run_sweep(load_sweep(sweep_file(tmp_path)), tmp_path / "out", workers=0)
    rows = read_results(outcome.results_path)
    assert [row["variant_id"] for row in rows] == list(range(6))
    # A 1 h run cannot hold the timeline's entry at 2 h: that variant fails, the sweep goes on.
    failed = [row for row in rows if row["status"] == "failed"]
    assert [row["variant_id"] for row in failed] == [0, 3]
    assert "timeline[1].at_h: at 2 h is after the end of the scenario" in str(failed[0]["error"])
    assert failed[0]["days_until_damage"] is None
    ok = [row for row in rows if row["status"] == "ok"]
    assert all(row["error"] is None for row in ok)
    assert rows[1]["device[2].current_a"] == 0.005
    assert rows[1]["scenario.duration_h"] == 48.0
    assert isinstance(rows[1]["final_bank_soc_pct"], float)
    assert outcome.failed == 2
    assert not (tmp_path / "out" / "parts").exists()


def test_interrupted_sweep_resumes_without_rerunning(tmp_path: Path) -> None:
    sweep = load_sweep(sweep_file(tmp_path))
    seen: list[int] = []

    def stop_after_first(rows: list[dict[str, object]]) -> None:
        seen.extend(int(str(row["variant_id"])) for row in rows)
        raise KeyboardInterrupt

    out = tmp_path / "out"
    with pytest.raises(KeyboardInterrupt):
        run_sweep(sweep, out, workers=0, on_batch=stop_after_first)
    assert len(list((out / "parts").glob("part-*.parquet"))) == 1
    resumed: list[int] = []
    outcome = run_sweep(
        sweep,
        out,
        workers=0,
        on_batch=lambda rows: resumed.extend(int(str(r["variant_id"])) for r in rows),
    )
    assert outcome.skipped == len(seen) == 2
    assert sorted(resumed + seen) == list(range(6))
    whole = run_sweep(sweep, tmp_path / "whole", workers=0)
    assert comparable(read_results(outcome.results_path)) == comparable(
        read_results(whole.results_path)
    )
    again = run_sweep(sweep, out, workers=0)  # all done: nothing runs, the table stays
    assert again.ran == 0


def test_a_changed_sweep_file_is_refused(tmp_path: Path) -> None:
    path = sweep_file(tmp_path)
    out = tmp_path / "out"
    run_sweep(load_sweep(path), out, workers=0)
    path.write_text(SWEEP.format(base=DRAIN).replace("0.02]", "0.03]"), encoding="utf-8")
    with pytest.raises(SweepStateError, match="different sweep"):
        run_sweep(load_sweep(path), out, workers=0)


def test_a_snapshot_start_equals_a_fresh_run(tmp_path: Path) -> None:
    sweep = load_sweep(sweep_file(tmp_path))
    variants = [sweep.variant(i) for i in (4, 5)]  # 20 mA for 48 h and 72 h
    assert variants[0].warm_up_s == pytest.approx(48 * 3600 - 1)
    scenarios = [validate(v) for v in variants]
    warm = warm_up(scenarios[0], 48 * 3600 - 1)
    for scenario in scenarios:
        fresh, fresh_events = run_fresh(scenario)
        forked, forked_events = run_from(warm, scenario)
        a, b = fresh.to_dict(), forked.to_dict()
        a.pop("wall_time_s")
        b.pop("wall_time_s")
        assert a == b
        assert fresh_events == forked_events
    shared = run_batch(Batch(tuple(variants), sweep.figures, 48 * 3600 - 1)).rows
    alone = run_batch(Batch(tuple(variants), sweep.figures)).rows
    assert shared == alone


def test_compare_and_report(tmp_path: Path) -> None:
    other = ROOT / "examples" / "residual-drain-200ah-remote-on.toml"
    sweep = compare_sweep([DRAIN, other], figures=("days_until_damage", "battery_damaged"))
    assert sweep.count == 2
    outcome = run_sweep(sweep, tmp_path / "cmp", workers=0)
    rows = read_results(outcome.results_path)
    assert [row["scenario"] for row in rows] == [str(DRAIN), str(other)]
    page = write_sweep_report(tmp_path / "cmp", sweep, rows).read_text(encoding="utf-8")
    assert "uPlot" in page
    assert "<script src" not in page
    assert "cdn" not in page.lower()
    assert "Best variant per figure" in page
    assert "Days until battery damage" in page


def test_report_lists_failures(tmp_path: Path) -> None:
    sweep = load_sweep(sweep_file(tmp_path))
    outcome = run_sweep(sweep, tmp_path / "out", workers=0)
    page = render(sweep, read_results(outcome.results_path))
    assert "2 failed" in page
    assert 'class="failed"' in page
    failed_rows = [row.split("</tr>")[0] for row in page.split('<tr class="failed">')[1:]]
    assert len(failed_rows) == 2
    for row in failed_rows:  # no figures, so a dash: not a figure's "never"
        assert "never" not in row
        assert "\u2014" in row


def test_card_labels_name_each_column_and_cannot_break_the_page() -> None:
    """On a phone each variant is a card whose lines are named by CSS, one rule per column."""
    css = card_labels(["variant", "device[2].current_a", 'a "quoted" </style><script>'])
    assert '#variants.stacked td:nth-child(2)::before { content: "device[2].current_a"; }' in css
    assert "</" not in css
    assert 'content: "a \\22 quoted\\22  \\3c /style\\3e \\3c script\\3e ";' in css
    assert "#best.stacked td:nth-child(1)" not in css  # a best variant's card: its figure heads it
