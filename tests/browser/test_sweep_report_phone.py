"""The sweep report (`smartbms sweep`'s report.html) on a phone with a touch screen and a desktop.

As report.html (tests/browser/test_report_phone.py): the page is the only scroller on a 390 px
phone, the variants table becomes one card per variant where it does not fit (and stays a table,
sortable by its headers, where it does), the charts take their box's width and zoom by touch on a
numeric axis. No SPEC requirement covers the sweep report; this is issue 18's page. The sweeps are
small real ones, run in this process (workers=0, no Dask) as tests/unit/test_sweep_run.py does.
Screenshots go to `$SMARTBMS_ARTEFACTS/screenshots` (default `build/screenshots`).
"""

from pathlib import Path
from typing import Any

import pytest

from smartbms.sweep import compare_sweep, load_sweep, read_results, run_sweep
from smartbms.sweep.report import LONG_TABLE, MAX_TABLE_ROWS, render, write_sweep_report
from tests.browser.test_app_browser import SHOTS
from tests.browser.touch import NESTED_SCROLLERS, PHONE, gesture
from tests.unit.test_sweep_run import DRAIN, ROOT, sweep_file

DESKTOP: dict[str, Any] = {"viewport": {"width": 1280, "height": 900}}
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


def _open(browser: Any, report: Path, errors: list[str], **context: Any) -> Any:
    page = browser.new_context(**context).new_page()
    page.set_default_timeout(10_000)
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    # offline: the page asks for nothing but itself
    page.on("request", lambda r: None if r.url == report.as_uri() else errors.append(r.url))
    page.goto(report.as_uri())
    page.wait_for_function(READY)
    return page


def _shot(page: Any, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True, animations="disabled")


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


def _x_scale(page: Any, k: int) -> tuple[float, float]:
    lo, hi = page.evaluate(f"(u => [u.scales.x.min, u.scales.x.max])(smartbmsSweep.charts[{k}])")
    return lo, hi


def _chart(page: Any, title: str) -> int:
    index: int = page.evaluate(f"smartbmsSweep.specs.findIndex(c => c.title === {title!r})")
    assert index >= 0
    return index


def test_on_a_phone_the_variants_are_cards_and_nothing_overflows(
    browser: Any, report: Path
) -> None:
    errors: list[str] = []
    page = _open(browser, report, errors, **PHONE)
    try:
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
        _shot(page, "phone-sweep-report")
    finally:
        page.context.close()
    assert errors == []


def test_on_a_desktop_the_table_fits_and_sorts_by_its_headers(browser: Any, report: Path) -> None:
    errors: list[str] = []
    page = _open(browser, report, errors, **DESKTOP)
    try:
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
        _shot(page, "desktop-sweep-report")

        page.set_viewport_size({"width": 390, "height": 844})  # the charts follow their box
        page.wait_for_function("document.documentElement.scrollWidth <= 390")
        page.wait_for_timeout(100)
        _fits(page, 390)
        assert "stacked" in (page.locator("#variants").get_attribute("class") or "")
    finally:
        page.context.close()
    assert errors == []


def test_a_numeric_chart_zooms_by_touch(browser: Any, report: Path) -> None:
    errors: list[str] = []
    page = _open(browser, report, errors, **PHONE)
    try:
        k = _chart(page, "Final state of charge against scenario.duration_h")
        full = _x_scale(page, k)
        assert full == (1.0, 72.0)
        over = page.locator(".u-over").nth(k)
        over.scroll_into_view_if_needed()
        box = over.bounding_box()
        assert box is not None
        y = box["y"] + box["height"] / 2
        left, width = box["x"], box["width"]

        gesture(page, [(left + 0.3 * width, y)], [(left + 0.9 * width, y)])
        lo, hi = _x_scale(page, k)
        span = full[1] - full[0]
        assert lo == pytest.approx(full[0] + 0.3 * span, rel=0.05)
        assert hi == pytest.approx(full[0] + 0.9 * span, rel=0.05)
        _shot(page, "phone-sweep-report-zoomed")
        over.scroll_into_view_if_needed()  # the full-page shot may have moved it
        box = over.bounding_box()
        assert box is not None
        y = box["y"] + box["height"] / 2
        left, width = box["x"], box["width"]

        page.touchscreen.tap(left + 0.5 * width, y)  # a double-tap shows everything
        page.touchscreen.tap(left + 0.5 * width, y)
        page.wait_for_function(f"smartbmsSweep.charts[{k}].scales.x.min === {full[0]}")
        assert _x_scale(page, k) == full

        before = page.evaluate("window.scrollY")  # a vertical swipe still scrolls the page
        gesture(page, [(left + 0.5 * width, y + 40)], [(left + 0.5 * width, y - 200)])
        page.wait_for_function(f"window.scrollY > {before}")
        assert _x_scale(page, k) == full
    finally:
        page.context.close()
    assert errors == []


def test_a_categorical_axis_keeps_its_range(browser: Any, compared: Path) -> None:
    errors: list[str] = []
    page = _open(browser, compared, errors, **PHONE)
    try:
        _fits(page, 390)  # two long scenario paths, as parameters and as labels
        k = _chart(page, "Days until battery damage against scenario")
        assert _x_scale(page, k) == (-0.5, 1.5)
        over = page.locator(".u-over").nth(k)
        over.scroll_into_view_if_needed()
        box = over.bounding_box()
        assert box is not None
        y = box["y"] + box["height"] / 2
        gesture(page, [(box["x"] + 0.1 * box["width"], y)], [(box["x"] + 0.7 * box["width"], y)])
        assert _x_scale(page, k) == (-0.5, 1.5)
        _shot(page, "phone-sweep-compare")
    finally:
        page.context.close()
    assert errors == []


def test_a_long_table_draws_the_cards_near_the_screen(browser: Any, long_report: Path) -> None:
    errors: list[str] = []
    page = _open(browser, long_report, errors, **PHONE)
    try:
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
    finally:
        page.context.close()
    assert errors == []
