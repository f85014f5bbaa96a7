"""The sweep report (`smartbms sweep`'s report.html) on a phone with a touch screen and a desktop.

As report.html (tests/browser/test_report_phone.py): the page is the only scroller on a 390 px
phone, the variants table becomes one card per variant where it does not fit (and stays a table,
sortable by its headers, where it does), the charts take their box's width and zoom by touch on a
numeric axis. No SPEC requirement covers the sweep report; this is issue 18's page. The sweeps are
small real ones, run in this process (workers=0, no Dask) as tests/unit/test_sweep_run.py does.
Screenshots are test artefacts.
"""

from pathlib import Path
from typing import Any

import pytest

from smartbms.sweep import compare_sweep, load_sweep, read_results, run_sweep
from smartbms.sweep.report import LONG_TABLE, MAX_TABLE_ROWS, render, write_sweep_report
from tests.browser.conftest import (
    DESKTOP,
    OpenPage,
    double_tap,
    plot_area,
    shot,
    swipe,
    swipe_up,
    x_scales,
)
from tests.browser.touch import NESTED_SCROLLERS, PHONE
from tests.unit.test_sweep_run import DRAIN, ROOT, sweep_file

CHARTS = "smartbmsSweep.charts"
READY = "document.querySelectorAll('#charts .uplot').length > 0"
CHARTS_FIT = """() => [...document.querySelectorAll('#charts .chart')].map(box => {
  const plot = box.querySelector('.uplot').getBoundingClientRect();
  const b = box.getBoundingClientRect();
  return [b.left, b.right, plot.left, plot.right];
})"""
"""Each chart's box and its plot, left and right edges (CSS px)."""


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """tests/unit/test_sweep_run.py's drain sweep: 2 x 3 variants, two failed, two numeric axes."""
    tmp = tmp_path_factory.mktemp("sweep")
    sweep = load_sweep(sweep_file(tmp))
    outcome = run_sweep(sweep, tmp / "out", workers=0)
    return write_sweep_report(tmp / "out", sweep, read_results(outcome.results_path))


@pytest.fixture(scope="module")
def long_report(report: Path) -> Path:
    """The drain sweep's six rows repeated as 3 x LONG_TABLE variants (not all MAX_TABLE_ROWS: the
    same page, only slower; docs/performance.md has the timings of the longest)."""
    sweep = load_sweep(report.parent.parent / "drain.toml")
    rows = read_results(report.parent / "results.parquet")
    many = [dict(rows[k % len(rows)], variant_id=k) for k in range(3 * LONG_TABLE)]
    path = report.parent.parent / "long.html"
    path.write_text(render(sweep, many), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def compared(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A compare of two scenario files: one categorical axis (`scenario`), long paths."""
    tmp = tmp_path_factory.mktemp("compare")
    other = ROOT / "examples" / "residual-drain-200ah-remote-on.toml"
    sweep = compare_sweep([DRAIN, other], figures=("days_until_damage", "final_bank_soc_pct"))
    outcome = run_sweep(sweep, tmp / "out", workers=0)
    return write_sweep_report(tmp / "out", sweep, read_results(outcome.results_path))


def _fits(page: Any, width: int) -> None:
    """Nothing wider than the window, no box scrolling inside the page, every chart in its box."""
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    # NESTED_SCROLLERS looks inside <main>: everything must be in it for the check to mean much
    assert page.evaluate("document.querySelectorAll('body > :not(main, script)').length") == 0
    assert page.evaluate(NESTED_SCROLLERS) == []
    for box_left, box_right, left, right in page.evaluate(CHARTS_FIT):
        assert box_left <= left
        assert right <= box_right
        assert right - left >= (box_right - box_left) - 40  # sized to the box, not a fixed width


def _chart(page: Any, title: str) -> int:
    index: int = page.evaluate(f"smartbmsSweep.specs.findIndex(c => c.title === {title!r})")
    assert index >= 0
    return index


def test_on_a_phone_the_variants_are_cards_and_nothing_overflows(
    open_page: OpenPage, report: Path
) -> None:
    page, errors = open_page(report, ready=READY, **PHONE)
    _fits(page, 390)
    for table in ("#variants", "#best"):
        for left, right in page.locator(f"{table} td").evaluate_all(
            "tds => tds.map(td => td.getBoundingClientRect()).map(r => [r.left, r.right])"
        ):
            assert left >= 0
            assert right <= 390
    assert "stacked" in (page.locator("#variants").get_attribute("class") or "")
    cards = page.locator("#variants tbody tr")
    assert cards.count() == 6
    headers = page.locator("#variants thead th").all_text_contents()
    labels = cards.first.locator("td").evaluate_all(
        "tds => tds.map(td => getComputedStyle(td, '::before').content)"
    )
    assert labels == [f'"{h}"' for h in headers]  # every value shows its column's name

    # the headers are hidden on cards: a menu sorts instead
    ids = "[...document.querySelectorAll('#variants tbody tr td:first-child')]"
    page.locator("#sort-by").select_option(label="scenario.duration_h")
    assert page.evaluate(f"{ids}.map(td => Number(td.textContent))") == [0, 3, 1, 4, 2, 5]
    page.locator("#sort-reverse").tap()
    assert page.evaluate(f"{ids}.map(td => Number(td.textContent))") == [2, 5, 1, 4, 0, 3]
    shot(page, "phone-sweep-report")
    assert errors == []


def test_on_a_desktop_the_table_fits_and_sorts_by_its_headers(
    open_page: OpenPage, report: Path
) -> None:
    page, errors = open_page(report, ready=READY, **DESKTOP)
    _fits(page, 1280)
    assert "stacked" not in (page.locator("#variants").get_attribute("class") or "")
    ids = "document.querySelectorAll('#variants tbody tr td:first-child')"
    order = f"[...{ids}].map(td => Number(td.textContent))"
    assert page.evaluate(order) == [0, 1, 2, 3, 4, 5]
    variant = page.locator("#variants thead th").first
    variant.click()
    variant.click()  # the second click reverses
    assert page.evaluate(order) == [5, 4, 3, 2, 1, 0]
    soc = page.locator("#variants thead th", has_text="state of charge")
    soc.click()
    column = page.locator("#variants thead th").all_text_contents().index(soc.text_content())
    values = page.evaluate(
        f"[...document.querySelectorAll('#variants tbody tr')]"
        f".map(r => parseFloat(r.cells[{column}].textContent)).filter(v => !isNaN(v))"
    )
    assert len(values) == 4  # the two failed variants have no state of charge
    assert values == sorted(values)
    shot(page, "desktop-sweep-report")

    page.set_viewport_size({"width": 390, "height": 844})  # the charts follow their box
    page.wait_for_function("document.documentElement.scrollWidth <= 390")
    page.wait_for_timeout(100)
    _fits(page, 390)
    assert "stacked" in (page.locator("#variants").get_attribute("class") or "")
    assert errors == []


def test_a_numeric_chart_zooms_by_touch(open_page: OpenPage, report: Path) -> None:
    page, errors = open_page(report, ready=READY, **PHONE)
    k = _chart(page, "Final state of charge against scenario.duration_h")
    full = x_scales(page, CHARTS)[k]
    assert full == (1.0, 72.0)
    over = page.locator(".u-over").nth(k)
    area = plot_area(over)
    swipe(page, area, 0.3, 0.9)
    lo, hi = x_scales(page, CHARTS)[k]
    span = full[1] - full[0]
    assert lo == pytest.approx(full[0] + 0.3 * span, rel=0.05)
    assert hi == pytest.approx(full[0] + 0.9 * span, rel=0.05)
    shot(page, "phone-sweep-report-zoomed")
    area = plot_area(over)  # the full-page shot may have moved it
    double_tap(page, area)  # shows everything
    page.wait_for_function(f"smartbmsSweep.charts[{k}].scales.x.min === {full[0]}")
    assert x_scales(page, CHARTS)[k] == full

    swipe_up(page, area)  # a vertical swipe still scrolls the page
    assert x_scales(page, CHARTS)[k] == full
    assert errors == []


def test_a_categorical_axis_keeps_its_range(open_page: OpenPage, compared: Path) -> None:
    page, errors = open_page(compared, ready=READY, **PHONE)
    _fits(page, 390)  # two long scenario paths, as parameters and as labels
    k = _chart(page, "Days until battery damage against scenario")
    assert x_scales(page, CHARTS)[k] == (-0.5, 1.5)
    area = plot_area(page.locator(".u-over").nth(k))
    swipe(page, area, 0.1, 0.7)
    assert x_scales(page, CHARTS)[k] == (-0.5, 1.5)
    shot(page, "phone-sweep-compare")
    assert errors == []


def test_a_long_table_draws_the_cards_near_the_screen(
    open_page: OpenPage, long_report: Path
) -> None:
    page, errors = open_page(long_report, ready=READY, **PHONE)
    assert MAX_TABLE_ROWS > LONG_TABLE
    _fits(page, 390)
    assert page.locator("#variants.stacked.long tbody tr").count() == 3 * LONG_TABLE
    last = "document.querySelector('#variants tbody tr:last-child td')"
    drawn = f"{last}.checkVisibility({{contentVisibilityAuto: true}})"
    assert page.evaluate(drawn) is False  # far below: laid out roughly, not drawn
    page.evaluate(f"{last}.scrollIntoView()")
    page.wait_for_function(drawn)
    page.emulate_media(media="print")
    page.evaluate("window.scrollTo(0, 0)")
    page.wait_for_timeout(100)
    assert page.evaluate(drawn) is True  # printed: every card
    page.emulate_media(media="screen")
    page.locator("#sort-by").select_option(label="Final state of charge (%)")
    ids = "[...document.querySelectorAll('#variants tbody tr td:first-child')]"
    assert page.evaluate(f"{ids}.slice(0, 3).map(td => Number(td.textContent))") == [5, 11, 17]
    assert errors == []
