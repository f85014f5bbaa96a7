"""The sweep report's folded figures: each figure's charts under a one-line summary.

No SPEC requirement covers the sweep report (issue 18's page); rows here are made up, so no
variant is simulated. tests/browser/test_sweep_report_phone.py opens the page in a browser.
"""

from pathlib import Path

from smartbms.sweep import load_sweep
from smartbms.sweep.execute import Row
from smartbms.sweep.figures import FIGURES
from smartbms.sweep.report import Best, figure_summary, render
from tests.unit.test_sweep_run import sweep_file

SOC = FIGURES["final_bank_soc_pct"]


def _rows(name: str, *values: object) -> list[Row]:
    return [{"variant_id": k, "status": "ok", "error": None, name: v} for k, v in enumerate(values)]


def test_summary_is_the_best_variant_and_the_range() -> None:
    rows = [*_rows(SOC.name, 61.7, 100.0, 80.0), {"variant_id": 3, "status": "failed"}]
    best = Best(SOC, "100 %", 1, "")
    assert figure_summary(SOC, rows, best) == "best 100 % (variant 1) \u00b7 61.7 % \u2013 100 %"
    assert figure_summary(SOC, rows, None) == "61.7 % \u2013 100 %"  # a figure with no direction


def test_summary_counts_never_and_yes() -> None:
    time = FIGURES["time_to_load_disconnect_h"]
    rows = _rows(time.name, None, 13.61, 34.73, None)
    assert figure_summary(time, rows, Best(time, "never", 0, "")) == (
        "best never (variant 0) \u00b7 13.61 h \u2013 34.73 h \u00b7 never in 2 of 4"
    )
    risk = FIGURES["alternator_overheating_risk"]
    rows = _rows(risk.name, True, False, False)
    assert figure_summary(risk, rows, Best(risk, "no", 1, "")) == (
        "best no (variant 1) \u00b7 yes in 1 of 3"
    )


def test_summary_of_a_figure_that_never_changes_or_was_never_read() -> None:
    hours = FIGURES["alternator_at_limit_h"]
    assert figure_summary(hours, _rows(hours.name, 0.0, 0.0), None) == "0 h in every variant"
    assert figure_summary(hours, _rows(hours.name, None), None) == (
        "no alternator in every variant"
    )
    failed: list[Row] = [{"variant_id": 0, "status": "failed"}]
    assert figure_summary(hours, failed, None) == "no variant finished"


def test_each_charted_figure_is_a_section_the_first_that_varies_open(tmp_path: Path) -> None:
    sweep = load_sweep(sweep_file(tmp_path))  # 4 figures, 2 axes; worst_verdict is text
    rows = [
        {
            "variant_id": k,
            "status": "ok",
            "error": None,
            "device[2].current_a": (0.005, 0.02)[k // 3],
            "scenario.duration_h": (1.0, 48.0, 72.0)[k % 3],
            "days_until_damage": None,  # never in every variant: folded, the next one open
            "final_bank_soc_pct": float(10 * k),
            "battery_damaged": k >= 3,
            "worst_verdict": "warning",
        }
        for k in range(6)
    ]
    page = render(sweep, rows)
    sections = page.split('<details class="figure"')[1:]
    assert [s.split('"')[1] for s in sections] == [
        "figure-days_until_damage",
        "figure-final_bank_soc_pct",
        "figure-battery_damaged",
    ]
    assert [s.split(">")[0].endswith(" open") for s in sections] == [False, True, False]
    assert "never in every variant" in sections[0]
    assert 'data-chart="0"' in sections[0]
    assert 'data-chart="1"' in sections[0]  # one chart per axis
    assert 'data-chart="5"' in sections[2]
    assert "best 50 % (variant 5) \u00b7 0 % \u2013 50 %" in sections[1]
    # the best-variant table links each charted figure to its section, the text one to nothing
    assert '<a href="#figure-final_bank_soc_pct">Final state of charge</a>' in page
    assert "<td><span>Worst verdict (lower is better)" in page
