"""report.html on a phone with a touch screen (390 x 844, touch), and its day table on a desktop.

The page is the only scroller on a phone: the day table becomes one card per day where the table
does not fit, the event list is a list of blocks, and the charts zoom by touch (a finger dragged
sideways, a pinch) while a vertical swipe still scrolls the page. Screenshots go to
`$SMARTBMS_ARTEFACTS/screenshots` (default `build/screenshots`).
"""

from pathlib import Path
from typing import Any

import pytest

from smartbms.cli import main
from tests.browser.test_app_browser import SHOTS
from tests.browser.touch import NESTED_SCROLLERS, PHONE, gesture

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Figure 1's report: 48 h over three calendar days, seven ports in the day table."""
    out = tmp_path_factory.mktemp("figure-1")
    assert (
        main(["simulate", str(ROOT / "examples" / "manual-figure-1.toml"), "--out", str(out)]) == 0
    )
    return out / "report.html"


def _open(browser: Any, report: Path, errors: list[str], **context: Any) -> Any:
    page = browser.new_context(**context).new_page()
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(report.as_uri())
    page.wait_for_function("window.smartbmsReport && window.smartbmsReport.charts.length > 0")
    return page


def _shot(page: Any, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True, animations="disabled")


def _x_scales(page: Any) -> list[tuple[float, float]]:
    scales = page.evaluate("smartbmsReport.charts.map(u => [u.scales.x.min, u.scales.x.max])")
    return [(lo, hi) for lo, hi in scales]


def test_day_table_on_a_phone_is_a_card_per_day(browser: Any, report: Path) -> None:
    errors: list[str] = []
    page = _open(browser, report, errors, **PHONE)
    try:
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        assert page.evaluate(NESTED_SCROLLERS) == []
        table = page.locator("table.days")
        assert "stacked" in (table.get_attribute("class") or "")
        days = page.locator("table.days tbody tr")
        assert days.count() == 3  # Friday 16:00 to Sunday 16:00
        for box in page.locator("table.days td").evaluate_all(
            "tds => tds.map(td => td.getBoundingClientRect()).map(r => [r.left, r.right])"
        ):
            assert box[0] >= 0
            assert box[1] <= 390
        labels = days.first.locator("td").evaluate_all(
            "tds => tds.slice(1).map(td => getComputedStyle(td, '::before').content)"
        )
        assert labels[0] == '"alternator in"'  # every value shows its column's name
        assert labels[-2:] == ['"lowest SoC"', '"loads off"']
        _shot(page, "phone-report")
    finally:
        page.context.close()
    assert errors == []


def test_day_table_on_a_desktop_is_a_table_that_fits(browser: Any, report: Path) -> None:
    errors: list[str] = []
    page = _open(browser, report, errors, viewport={"width": 1280, "height": 900})
    try:
        table = page.locator("table.days")
        assert "stacked" not in (table.get_attribute("class") or "")
        assert page.evaluate(NESTED_SCROLLERS) == []
        assert page.locator("table.days thead th").count() == 10  # day, 7 ports, SoC, loads off
        _shot(page, "desktop-report")
    finally:
        page.context.close()
    assert errors == []


def test_charts_zoom_by_touch_on_a_phone(browser: Any, report: Path) -> None:
    errors: list[str] = []
    page = _open(browser, report, errors, **PHONE)
    try:
        end = page.evaluate("JSON.parse(document.getElementById('report-data').textContent).end")
        over = page.locator("#chart-voltage .u-over")
        over.scroll_into_view_if_needed()
        box = over.bounding_box()
        assert box is not None
        y = box["y"] + box["height"] / 2
        left, width = box["x"], box["width"]

        gesture(page, [(left + 0.2 * width, y)], [(left + 0.6 * width, y)])
        scales = _x_scales(page)
        assert len(set(scales)) == 1  # every chart shows the same stretch
        lo, hi = scales[0]
        assert lo == pytest.approx(0.2 * end, rel=0.05)
        assert hi == pytest.approx(0.6 * end, rel=0.05)

        mid = left + 0.5 * width
        gesture(page, [(mid - 30, y), (mid + 30, y)], [(mid - 90, y), (mid + 90, y)])
        lo2, hi2 = _x_scales(page)[0]
        assert (hi2 - lo2) == pytest.approx((hi - lo) / 3, rel=0.1)
        assert lo < lo2 < hi2 < hi
        _shot(page, "phone-report-zoomed")

        page.locator("#zoom-reset").tap()
        assert all(s == (0, end) for s in _x_scales(page))

        before = page.evaluate("window.scrollY")
        gesture(page, [(mid, y + 40)], [(mid, y - 200)])
        page.wait_for_function(f"window.scrollY > {before}")
        assert all(s == (0, end) for s in _x_scales(page))
    finally:
        page.context.close()
    assert errors == []
