"""report.html on a phone with a touch screen (390 x 844, touch), and its day table on a desktop.

The page is the only scroller on a phone: the day table becomes one card per day where the table
does not fit, the event list is a list of blocks, and the charts zoom by touch (a finger dragged
sideways, a pinch) while a vertical swipe still scrolls the page. Screenshots are test artefacts.
"""

from pathlib import Path

import pytest

from smartbms.cli import main
from tests.browser.conftest import (
    DESKTOP,
    REPORT_READY,
    ROOT,
    OpenPage,
    plot_area,
    shot,
    spread,
    swipe,
    swipe_up,
    x_scales,
)
from tests.browser.touch import NESTED_SCROLLERS, PHONE

CHARTS = "smartbmsReport.charts"


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Figure 1's report: 48 h over three calendar days, seven ports in the day table."""
    out = tmp_path_factory.mktemp("figure-1")
    assert (
        main(["simulate", str(ROOT / "examples" / "manual-figure-1.toml"), "--out", str(out)]) == 0
    )
    return out / "report.html"


def test_day_table_on_a_phone_is_a_card_per_day(open_page: OpenPage, report: Path) -> None:
    page, errors = open_page(report, ready=REPORT_READY, **PHONE)
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
    shot(page, "phone-report")
    assert errors == []


def test_day_table_on_a_desktop_is_a_table_that_fits(open_page: OpenPage, report: Path) -> None:
    page, errors = open_page(report, ready=REPORT_READY, **DESKTOP)
    table = page.locator("table.days")
    assert "stacked" not in (table.get_attribute("class") or "")
    assert page.evaluate(NESTED_SCROLLERS) == []
    assert page.locator("table.days thead th").count() == 10  # day, 7 ports, SoC, loads off
    shot(page, "desktop-report")
    assert errors == []


def test_charts_zoom_by_touch_on_a_phone(open_page: OpenPage, report: Path) -> None:
    page, errors = open_page(report, ready=REPORT_READY, **PHONE)
    end = page.evaluate("JSON.parse(document.getElementById('report-data').textContent).end")
    area = plot_area(page.locator("#chart-voltage .u-over"))

    swipe(page, area, 0.2, 0.6)
    scales = x_scales(page, CHARTS)
    assert len(set(scales)) == 1  # every chart shows the same stretch
    lo, hi = scales[0]
    assert lo == pytest.approx(0.2 * end, rel=0.05)
    assert hi == pytest.approx(0.6 * end, rel=0.05)

    spread(page, area, 30, 90)
    lo2, hi2 = x_scales(page, CHARTS)[0]
    assert (hi2 - lo2) == pytest.approx((hi - lo) / 3, rel=0.1)
    assert lo < lo2 < hi2 < hi
    shot(page, "phone-report-zoomed")

    page.locator("#zoom-reset").tap()
    assert all(s == (0, end) for s in x_scales(page, CHARTS))

    swipe_up(page, plot_area(page.locator("#chart-voltage .u-over")))
    assert all(s == (0, end) for s in x_scales(page, CHARTS))
    assert errors == []
