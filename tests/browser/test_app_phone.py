"""The app on a phone with a touch screen (390 x 844, touch): the history chart and the event log.

Screenshots are test artefacts (tests/browser/conftest.py).
"""

from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("fastapi")

from smartbms.app.context import Context
from smartbms.app.server import build_context
from smartbms.core.units import wall_clock_text
from smartbms.twin.commands import EngineStart
from tests.app.conftest import FIGURE_1
from tests.app.served import served
from tests.browser.conftest import (
    DESKTOP,
    OpenPage,
    double_tap,
    drag,
    plot_area,
    shot,
    spread,
    swipe,
    swipe_up,
    x_scales,
)
from tests.browser.touch import NESTED_SCROLLERS, PHONE

HOURS = 4.0
CHARTS = "smartbmsHistory.charts"
READY = "window.smartbmsHistory && smartbmsHistory.charts.length === 2"


@pytest.fixture
def device(tmp_path: Path) -> Iterator[tuple[Context, str]]:
    """Figure 1 four hours on (the engine started after one), paused, served on a loopback port."""
    ctx = build_context(FIGURE_1, state_dir=tmp_path / "state")
    twin = ctx.live.twin
    for k in range(1, int(HOURS * 120) + 1):  # a history sample every 30 s, as the live loop takes
        if k == 120:
            twin.apply(EngineStart())
        twin.advance_to(30.0 * k)
    ctx.live.set_clock(paused=True)
    with served(ctx) as url:
        yield ctx, url


def test_history_zooms_by_touch_and_shows_all_again(
    open_page: OpenPage, device: tuple[Context, str]
) -> None:
    _, url = device
    page, errors = open_page(url + "/history", **PHONE)
    page.locator("body[data-ready]").wait_for(state="attached")
    page.wait_for_function(READY)
    full = x_scales(page, CHARTS)
    assert full[0] == (0.0, HOURS * 3600.0)
    assert page.locator("#zoom-reset").is_disabled()
    shot(page, "phone-touch-history")
    area = plot_area(page.locator("#chart-voltage .u-over"))

    # a finger dragged sideways selects a stretch; lifting it zooms both charts to it
    swipe(page, area, 0.25, 0.75)
    zoomed = x_scales(page, CHARTS)
    assert zoomed[0] == zoomed[1]  # the currents follow
    lo, hi = zoomed[0]
    assert lo == pytest.approx(0.25 * HOURS * 3600.0, rel=0.05)
    assert hi == pytest.approx(0.75 * HOURS * 3600.0, rel=0.05)
    assert page.locator("#zoom-reset").is_enabled()

    # two fingers spread apart zoom in further, around them
    spread(page, area, 40, 120)
    lo2, hi2 = x_scales(page, CHARTS)[0]
    assert (hi2 - lo2) == pytest.approx((hi - lo) / 3, rel=0.1)
    assert lo < lo2 < hi2 < hi
    shot(page, "phone-touch-history-zoomed")

    # the live refresh (every 5 s) keeps the zoomed window
    page.evaluate("smartbmsHistory.refresh()")
    assert x_scales(page, CHARTS)[0] == (lo2, hi2)

    # a double-tap shows everything, as a double-click does
    double_tap(page, area)
    page.wait_for_function("smartbmsHistory.charts[0].scales.x.min === 0")
    assert x_scales(page, CHARTS) == full

    # the visible control shows everything again
    swipe(page, area, 0.25, 0.75)
    assert x_scales(page, CHARTS) != full
    page.locator("#zoom-reset").tap()
    assert x_scales(page, CHARTS) == full
    assert page.locator("#zoom-reset").is_disabled()

    # a vertical swipe on the chart scrolls the page: the chart is no scroll trap
    swipe_up(page, area)
    assert x_scales(page, CHARTS) == full
    assert errors == []


def test_history_zooms_by_mouse_on_a_desktop(
    open_page: OpenPage, device: tuple[Context, str]
) -> None:
    _, url = device
    page, errors = open_page(url + "/history", ready=READY, **DESKTOP)
    full = x_scales(page, CHARTS)
    area = plot_area(page.locator("#chart-current .u-over"))
    drag(page, area, 0.1, 0.4)
    zoomed = x_scales(page, CHARTS)
    assert zoomed[0] == zoomed[1]  # the voltage chart follows the currents
    assert zoomed[0][1] - zoomed[0][0] == pytest.approx(0.3 * HOURS * 3600.0, rel=0.05)
    page.click("#zoom-reset")
    assert x_scales(page, CHARTS) == full
    shot(page, "desktop-touch-history")
    assert errors == []


@pytest.mark.parametrize("weekday", [None, 4])
def test_history_reads_the_twin_clock_as_wall_clock_text(
    open_page: OpenPage, device: tuple[Context, str], weekday: int | None
) -> None:
    """The chart's times read like the header and the report: app.js's twin of the formatter."""
    _, url = device
    page, errors = open_page(url + "/history", ready=READY, **PHONE)
    if weekday is not None:  # as a scenario with a start_date (a Friday) renders it
        page.evaluate(f"document.getElementById('history-clock').dataset.weekday = '{weekday}'")
    for t_s in (0.0, 3600.0, 8 * 3600 + 5.5, 3 * 86400 + 59.9999, 29.9999999):
        text = page.evaluate(f"smartbmsHistory.clockText({t_s})")
        assert text == wall_clock_text(
            t_s, start_time_of_day_s=16 * 3600.0, start_weekday=weekday
        ), t_s
    assert errors == []


def test_event_log_fits_a_phone(open_page: OpenPage, device: tuple[Context, str]) -> None:
    """Every event's clock, name and code are on screen; only the page scrolls."""
    _, url = device
    page, errors = open_page(url + "/events", **PHONE)
    page.locator("#event-rows tr").first.wait_for()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    cells = page.locator("#event-rows tr:first-child td").evaluate_all(
        "tds => tds.map(td => { const r = td.getBoundingClientRect();"
        " return [td.className, r.left, r.right, getComputedStyle(td).display]; })"
    )
    for name, cell_left, cell_right, display in cells:
        if display != "none":
            assert cell_left >= 0, (name, cell_left)
            assert cell_right <= 390, (name, cell_right)
    assert page.evaluate(NESTED_SCROLLERS) == []
    shot(page, "phone-touch-events")
    assert errors == []
