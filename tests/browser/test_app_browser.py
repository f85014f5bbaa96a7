"""The web app in Debian's Chromium (Playwright): what a user does, and how the pages look.

Skipped, with the reason shown, where /usr/bin/chromium is missing, except in CI (CI=true), where
a missing browser fails (tests/browser/conftest.py). Screenshots at 390 px (a phone) and 1280 px
are test artefacts.
"""

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("fastapi")

from smartbms.app.context import Context
from smartbms.app.server import build_context
from tests.app.conftest import unset_fuse_scenario
from tests.app.served import served
from tests.browser.conftest import DESKTOP, OpenPage, shot

WIDTHS: dict[str, dict[str, Any]] = {
    "phone": {"viewport": {"width": 390, "height": 844}},  # a narrow window; touch: test_app_phone
    "desktop": DESKTOP,
}


@pytest.fixture
def device(tmp_path: Path) -> Iterator[tuple[Context, str]]:
    """A device with the fuse type not set (factory state), served on a loopback port."""
    ctx = build_context(unset_fuse_scenario(tmp_path), state_dir=tmp_path / "state")
    with served(ctx) as url:
        yield ctx, url


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


def _open_bms(page: Any) -> None:
    """From the device list, open the BMS and pair with the factory PIN."""
    page.click("#open-bms")
    _pair(page, "000000")
    page.wait_for_url("**/device")


def _pair(page: Any, pin: str, *, wrong: bool = False) -> None:
    """Enter `pin` in the pairing dialog: it closes, or (`wrong`) stays open saying so."""
    dialog = page.locator("#pair-dialog")
    dialog.wait_for(state="visible")
    page.fill("#pair-pin", pin)
    page.click("#pair-ok")
    if wrong:
        page.locator("#pair-error").filter(has_text="Wrong PIN").wait_for()
    else:
        dialog.wait_for(state="hidden")


@pytest.mark.parametrize("width", ["phone", "desktop"])
def test_pair_set_fuse_switch_off_refuse_a_limit_change_pin_and_pair_again(
    open_page: OpenPage, device: tuple[Context, str], width: str
) -> None:
    ctx, url = device
    page, errors = open_page(url + "/", **WIDTHS[width])
    shot(page, f"{width}-devices")
    page.click("#open-bms")
    _pair(page, "123456", wrong=True)
    _pair(page, "000000")
    page.wait_for_url("**/device")

    # first connection with the fuse type not set: the popup asks for it
    fuse = page.locator("#fuse-dialog")
    fuse.wait_for(state="visible")
    shot(page, f"{width}-fuse-popup")
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
    shot(page, f"{width}-status")

    # an out-of-range charge limit is refused with the setting and its range
    page.goto(url + "/settings")
    page.locator("body[data-ready]").wait_for(state="attached")
    page.fill("#setting-charge_limit_v", "16")
    page.click("#settings-save")
    error = page.locator("#settings-error")
    error.filter(has_text="13.0 to 15.3 V").wait_for()
    assert "charge_limit_v" in error.inner_text()
    assert ctx.live.twin.state.settings.charge_limit_v == 14.2
    shot(page, f"{width}-settings-error")

    # change the PIN, then pair again with the new one
    page.fill("#old-pin", "000000")
    page.fill("#new-pin", "024680")
    page.click("#pin-save")
    _pair(page, "000000", wrong=True)
    _pair(page, "024680")
    assert ctx.live.twin.state.settings.pin == "024680"
    page.fill("#setting-charge_limit_v", "14.4")
    page.click("#settings-save")
    page.locator("#settings-ok").filter(has_text="Saved").wait_for()
    assert ctx.live.twin.state.settings.charge_limit_v == 14.4
    assert _script_errors(errors, 401, 422, 401) == []


@pytest.mark.parametrize("width", ["phone", "desktop"])
def test_every_page_renders_without_console_errors(
    open_page: OpenPage, device: tuple[Context, str], width: str
) -> None:
    ctx, url = device
    page, errors = open_page(url + "/", **WIDTHS[width])
    _open_bms(page)
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
        shot(page, f"{width}-{name}")
    page.goto(url + "/twin")
    page.locator("body[data-ready]").wait_for(state="attached")
    page.select_option("#fault-type", "bms-cable-unplugged")
    page.click("#fault-inject")
    page.goto(url + "/device")
    page.locator("#messages li").filter(has_text="E-B32").wait_for()
    if page.locator("#fuse-dialog").is_visible():
        page.click("#fuse-later")
    assert "BMS cable" in page.locator("#messages").inner_text()
    shot(page, f"{width}-status-messages")
    assert errors == []
