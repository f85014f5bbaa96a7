"""The web app in Debian's Chromium (Playwright): what a user does, and how the pages look.

Skipped, with the reason shown, where /usr/bin/chromium is missing, except in CI (CI=true), where
a missing browser fails. Screenshots at 390 px (a phone) and 1280 px go to
`$SMARTBMS_ARTEFACTS/screenshots` (default `build/screenshots`) as artefacts.
"""

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("playwright.sync_api")

from smartbms.app.context import Context
from smartbms.app.server import build_context
from tests.app.conftest import unset_fuse_scenario
from tests.app.served import served

WIDTHS = {"phone": (390, 844), "desktop": (1280, 900)}
SHOTS = Path(os.environ.get("SMARTBMS_ARTEFACTS", "build")) / "screenshots"


@pytest.fixture
def device(tmp_path: Path) -> Iterator[tuple[Context, str]]:
    """A device with the fuse type not set (factory state), served on a loopback port."""
    ctx = build_context(unset_fuse_scenario(tmp_path), state_dir=tmp_path / "state")
    with served(ctx) as url:
        yield ctx, url


def _page(browser: Any, width: str, errors: list[str]) -> Any:
    w, h = WIDTHS[width]
    context = browser.new_context(viewport={"width": w, "height": h})
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    return page


REFUSED = "Failed to load resource: the server responded with a status of {}"


def _script_errors(errors: list[str], *expected: int) -> list[str]:
    """The console errors beyond the refusals the test provoked on purpose.

    Chromium logs every 4xx fetch as a console error; a wrong PIN (401) and an out-of-range
    setting (422) are refusals the test asks for, so exactly those are expected, once each.
    """
    rest = list(errors)
    for status in expected:
        prefix = REFUSED.format(status)
        found = next((e for e in rest if e.startswith(prefix)), None)
        assert found is not None, f"expected a refused request ({status}) in {errors}"
        rest.remove(found)
    return rest


def _shot(page: Any, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True, animations="disabled")


def _open_bms(page: Any, url: str) -> None:
    """From the device list, open the BMS and pair with the factory PIN."""
    page.goto(url + "/")
    page.click("#open-bms")
    _pair(page, "000000")
    page.wait_for_url("**/device")


def _pair(page: Any, pin: str) -> None:
    dialog = page.locator("#pair-dialog")
    dialog.wait_for(state="visible")
    page.fill("#pair-pin", pin)
    page.click("#pair-ok")
    dialog.wait_for(state="hidden")


@pytest.mark.parametrize("width", ["phone", "desktop"])
def test_pair_set_fuse_switch_off_refuse_a_limit_change_pin_and_pair_again(
    browser: Any, device: tuple[Context, str], width: str
) -> None:
    ctx, url = device
    errors: list[str] = []
    page = _page(browser, width, errors)
    page.goto(url + "/")
    _shot(page, f"{width}-devices")
    page.click("#open-bms")
    page.fill("#pair-pin", "123456")
    page.click("#pair-ok")
    page.locator("#pair-error").filter(has_text="Wrong PIN").wait_for()
    _pair(page, "000000")
    page.wait_for_url("**/device")

    # first connection with the fuse type not set: the popup asks for it
    fuse = page.locator("#fuse-dialog")
    fuse.wait_for(state="visible")
    _shot(page, f"{width}-fuse-popup")
    page.select_option("#fuse-select", "100A")
    page.click("#fuse-save")
    fuse.wait_for(state="hidden")
    assert ctx.live.twin.state.settings.fuse_type.value == "100A"
    page.locator('[data-bind="alternator_current_pct"]').filter(has_text="%").wait_for()

    # soft switch off: System+ goes off and the LEDs change
    leds_before = page.locator(".led").evaluate_all("els => els.map(e => e.dataset.state)")
    assert page.locator("#system-plus").inner_text() == "On"
    page.click("#soft-switch")
    page.locator("#system-plus").filter(has_text="Off").wait_for()
    page.wait_for_function(
        "before => JSON.stringify([...document.querySelectorAll('.led')]"
        ".map(e => e.dataset.state)) !== JSON.stringify(before)",
        arg=leds_before,
    )
    assert page.locator(".led").nth(6).get_attribute("data-state") == "off"
    assert ctx.live.twin.state.settings.soft_switch_on is False
    _shot(page, f"{width}-status")

    # an out-of-range charge limit is refused with the setting and its range
    page.goto(url + "/settings")
    page.locator("body[data-ready]").wait_for(state="attached")
    page.fill("#setting-charge_limit_v", "16")
    page.click("#settings-save")
    error = page.locator("#settings-error")
    error.filter(has_text="13.0 to 15.3 V").wait_for()
    assert "charge_limit_v" in error.inner_text()
    assert ctx.live.twin.state.settings.charge_limit_v == 14.2
    _shot(page, f"{width}-settings-error")

    # change the PIN, then pair again with the new one
    page.fill("#old-pin", "000000")
    page.fill("#new-pin", "024680")
    page.click("#pin-save")
    page.locator("#pair-dialog").wait_for(state="visible")
    page.fill("#pair-pin", "000000")
    page.click("#pair-ok")
    page.locator("#pair-error").filter(has_text="Wrong PIN").wait_for()
    page.fill("#pair-pin", "024680")
    page.click("#pair-ok")
    page.locator("#pair-dialog").wait_for(state="hidden")
    assert ctx.live.twin.state.settings.pin == "024680"
    page.fill("#setting-charge_limit_v", "14.4")
    page.click("#settings-save")
    page.locator("#settings-ok").filter(has_text="Saved").wait_for()
    assert ctx.live.twin.state.settings.charge_limit_v == 14.4
    page.context.close()
    assert _script_errors(errors, 401, 422, 401) == []


@pytest.mark.parametrize("width", ["phone", "desktop"])
def test_every_page_renders_without_console_errors(
    browser: Any, device: tuple[Context, str], width: str
) -> None:
    ctx, url = device
    errors: list[str] = []
    page = _page(browser, width, errors)
    _open_bms(page, url)
    page.click("#fuse-later")
    ctx.live.set_clock(speed=600.0)
    for path, name, ready in (
        ("/batteries", "batteries", ".cell"),
        ("/battery/2", "battery-2", ".cell"),
        ("/product-info", "product-info", "#show-keys"),
        ("/twin", "twin", "#engine-start"),
        ("/history", "history", ".uplot"),
        ("/events", "events", "#event-rows tr"),
    ):
        page.goto(url + path)
        page.locator("body[data-ready]").wait_for(state="attached")
        page.locator(ready).first.wait_for()
        if name == "product-info":
            page.click("#show-keys")
            page.locator("#keys-list p").first.wait_for()
            assert "bms: " in page.locator("#keys-list").inner_text()
        if name == "twin":
            page.click("#engine-start")
            page.locator('[data-bind="twin.engine_running"]').filter(has_text="running").wait_for()
            page.select_option("#fault-type", "heat")
            page.click("#fault-inject")
            page.locator("#faults-present").filter(has_text="heat").wait_for()
        _shot(page, f"{width}-{name}")
    page.goto(url + "/twin")
    page.locator("body[data-ready]").wait_for(state="attached")
    page.select_option("#fault-type", "bms-cable-unplugged")
    page.click("#fault-inject")
    page.goto(url + "/device")
    page.locator("#messages li").filter(has_text="E-B32").wait_for()
    if page.locator("#fuse-dialog").is_visible():
        page.click("#fuse-later")
    assert "BMS cable" in page.locator("#messages").inner_text()
    _shot(page, f"{width}-status-messages")
    page.context.close()
    assert errors == []
