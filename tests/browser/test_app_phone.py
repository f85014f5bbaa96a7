"""The app on a phone with a touch screen (390 x 844, touch): the history chart and the event log.

Screenshots go to `$SMARTBMS_ARTEFACTS/screenshots` (default `build/screenshots`).
"""

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("playwright.sync_api")

from smartbms.app.context import Context
from smartbms.app.server import build_context
from smartbms.core.units import wall_clock_text
from smartbms.twin.commands import EngineStart
from tests.app.conftest import FIGURE_1
from tests.app.served import served
from tests.browser.test_app_browser import SHOTS
from tests.browser.touch import NESTED_SCROLLERS, PHONE, gesture

HOURS = 4.0


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


def _phone(browser: Any, errors: list[str]) -> Any:
    context = browser.new_context(**PHONE)
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    return page


def _x_scale(page: Any) -> list[list[float]]:
    scales: list[list[float]] = page.evaluate(
        "smartbmsHistory.charts.map(u => [u.scales.x.min, u.scales.x.max])"
    )
    return scales


def test_history_zooms_by_touch_and_shows_all_again(
    browser: Any, device: tuple[Context, str]
) -> None:
    _, url = device
    errors: list[str] = []
    page = _phone(browser, errors)
    page.goto(url + "/history")
    page.locator("body[data-ready]").wait_for(state="attached")
    page.wait_for_function("window.smartbmsHistory && smartbmsHistory.charts.length === 2")
    full = _x_scale(page)
    assert full[0] == [0.0, HOURS * 3600.0]
    assert page.locator("#zoom-reset").is_disabled()
    page.screenshot(path=str(_shots() / "phone-touch-history.png"), full_page=True)

    over = page.locator("#chart-voltage .u-over").bounding_box()
    assert over is not None
    y = over["y"] + over["height"] / 2
    left, width = over["x"], over["width"]

    # a finger dragged sideways selects a stretch; lifting it zooms both charts to it
    gesture(page, [(left + 0.25 * width, y)], [(left + 0.75 * width, y)])
    zoomed = _x_scale(page)
    assert zoomed[0] == zoomed[1]  # the currents follow
    lo, hi = zoomed[0]
    assert lo == pytest.approx(0.25 * HOURS * 3600.0, rel=0.05)
    assert hi == pytest.approx(0.75 * HOURS * 3600.0, rel=0.05)
    assert page.locator("#zoom-reset").is_enabled()

    # two fingers spread apart zoom in further, around them
    mid = left + 0.5 * width
    gesture(page, [(mid - 40, y), (mid + 40, y)], [(mid - 120, y), (mid + 120, y)])
    lo2, hi2 = _x_scale(page)[0]
    assert (hi2 - lo2) == pytest.approx((hi - lo) / 3, rel=0.1)
    assert lo < lo2 < hi2 < hi
    page.screenshot(path=str(_shots() / "phone-touch-history-zoomed.png"), full_page=True)

    # the live refresh (every 5 s) keeps the zoomed window
    page.evaluate("smartbmsHistory.refresh()")
    assert _x_scale(page)[0] == [lo2, hi2]

    # a double-tap shows everything, as a double-click does
    page.touchscreen.tap(left + 0.5 * width, y)
    page.touchscreen.tap(left + 0.5 * width, y)
    page.wait_for_function("smartbmsHistory.charts[0].scales.x.min === 0")
    assert _x_scale(page) == full

    # the visible control shows everything again
    gesture(page, [(left + 0.25 * width, y)], [(left + 0.75 * width, y)])
    assert _x_scale(page) != full
    page.locator("#zoom-reset").tap()
    assert _x_scale(page) == full
    assert page.locator("#zoom-reset").is_disabled()

    # a vertical swipe on the chart scrolls the page: the chart is no scroll trap
    before = page.evaluate("window.scrollY")
    gesture(page, [(left + 0.5 * width, y + 60)], [(left + 0.5 * width, y - 200)])
    page.wait_for_function(f"window.scrollY > {before}")
    assert _x_scale(page) == full
    page.context.close()
    assert errors == []


def test_history_zooms_by_mouse_on_a_desktop(browser: Any, device: tuple[Context, str]) -> None:
    _, url = device
    errors: list[str] = []
    page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(url + "/history")
    page.wait_for_function("window.smartbmsHistory && smartbmsHistory.charts.length === 2")
    full = _x_scale(page)
    box = page.locator("#chart-current .u-over").bounding_box()
    assert box is not None
    y = box["y"] + box["height"] / 2
    page.mouse.move(box["x"] + 0.1 * box["width"], y)
    page.mouse.down()
    page.mouse.move(box["x"] + 0.4 * box["width"], y, steps=5)
    page.mouse.up()
    zoomed = _x_scale(page)
    assert zoomed[0] == zoomed[1]  # the voltage chart follows the currents
    assert zoomed[0][1] - zoomed[0][0] == pytest.approx(0.3 * HOURS * 3600.0, rel=0.05)
    page.click("#zoom-reset")
    assert _x_scale(page) == full
    page.screenshot(path=str(_shots() / "desktop-touch-history.png"), full_page=True)
    page.context.close()
    assert errors == []


@pytest.mark.parametrize("weekday", [None, 4])
def test_history_reads_the_twin_clock_as_wall_clock_text(
    browser: Any, device: tuple[Context, str], weekday: int | None
) -> None:
    """The chart's times read like the header and the report: app.js's twin of the formatter."""
    _, url = device
    errors: list[str] = []
    page = _phone(browser, errors)
    page.goto(url + "/history")
    page.wait_for_function("window.smartbmsHistory && smartbmsHistory.charts.length === 2")
    if weekday is not None:  # as a scenario with a start_date (a Friday) renders it
        page.evaluate(f"document.getElementById('history-clock').dataset.weekday = '{weekday}'")
    for t_s in (0.0, 3600.0, 8 * 3600 + 5.5, 3 * 86400 + 59.9999, 29.9999999):
        text = page.evaluate(f"smartbmsHistory.clockText({t_s})")
        assert text == wall_clock_text(
            t_s, start_time_of_day_s=16 * 3600.0, start_weekday=weekday
        ), t_s
    page.context.close()
    assert errors == []


def test_event_log_fits_a_phone(browser: Any, device: tuple[Context, str]) -> None:
    """Every event's clock, name and code are on screen; only the page scrolls."""
    _, url = device
    errors: list[str] = []
    page = _phone(browser, errors)
    page.goto(url + "/events")
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
    page.screenshot(path=str(_shots() / "phone-touch-events.png"), full_page=True)
    page.context.close()
    assert errors == []


def _shots() -> Path:
    SHOTS.mkdir(parents=True, exist_ok=True)
    return SHOTS
