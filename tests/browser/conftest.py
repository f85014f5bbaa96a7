"""A real browser for the report and app tests: Debian's Chromium driven by Playwright.

Skipped, with the reason shown, when /usr/bin/chromium (or Playwright) is missing, except under
CI (`CI=true`), where a missing browser fails the run instead. Never `playwright install`.

What every browser test module shares lives here, once: the browser, `open_page` (a page that
collects its console errors), `shot` (screenshots, to `$SMARTBMS_ARTEFACTS/screenshots`, default
`build/screenshots` at the repository's root, ignored by git), and the chart helpers.
"""

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, NamedTuple
from urllib.parse import urlsplit

import pytest

from tests.browser.touch import gesture

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
ROOT = Path(__file__).resolve().parents[2]
SHOTS = Path(os.environ.get("SMARTBMS_ARTEFACTS", ROOT / "build")) / "screenshots"
DESKTOP: dict[str, Any] = {"viewport": {"width": 1280, "height": 900}}
"""A desktop window (1280 x 900 CSS px) for `open_page`; tests/browser/touch.py has PHONE."""

REPORT_READY = "window.smartbmsReport && window.smartbmsReport.charts.length > 0"
"""report.html (`smartbms simulate`) has drawn its charts."""

OpenPage = Callable[..., tuple[Any, list[str]]]
"""`open_page(url=None, *, ready=None, **context) -> (page, errors)`: see the fixture."""


def _missing(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} (CI=true: the browser tests must run)")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One Chromium per test module.

    Not per session: Playwright's sync API leaves its event loop marked as running in the main
    thread while it is open, so an async test (anyio, the app's API tests) that a worker runs
    after a browser test, in the same process, fails with "Cannot run the event loop while
    another loop is running". A module's teardown runs before the next module's first test.
    """
    if not CHROMIUM.exists():
        _missing(f"{CHROMIUM} is missing: apt-get install -y chromium")
    try:
        from playwright.sync_api import sync_playwright  # noqa: PLC0415
    except ImportError:
        _missing("playwright (python) is not installed: pip install 'smartbms[dev]'")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def open_page(browser: Any) -> Iterator[OpenPage]:
    """Opens pages, each in a browser context of its own, closed after the test.

    `page, errors = open_page(url, ready=js, **context)`: `context` goes to `browser.new_context`
    (a viewport, or touch.PHONE); `errors` collects every console error and uncaught exception.
    With `url` (a str, or a Path to a file) the page goes there and, with `ready`, waits until
    that JavaScript expression is true; a request for anything but that file, or outside that
    server, is an error too: the pages work offline (no CDN). A test asserts `errors` itself.
    """
    contexts: list[Any] = []

    def open_(
        url: str | Path | None = None, *, ready: str | None = None, **context: Any
    ) -> tuple[Any, list[str]]:
        contexts.append(browser.new_context(**context))
        page = contexts[-1].new_page()
        page.set_default_timeout(10_000)
        errors: list[str] = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        if url is not None:
            target = url.as_uri() if isinstance(url, Path) else url
            own = _own(url)
            page.on("request", lambda r: None if own(r.url) else errors.append(f"asks {r.url}"))
            page.goto(target)
            if ready is not None:
                page.wait_for_function(ready)
        return page, errors

    yield open_
    for context in contexts:
        context.close()


def _own(url: str | Path) -> Callable[[str], bool]:
    """Whether a request is the page's own: the file itself, or on the page's server."""
    if isinstance(url, Path):
        uri = url.as_uri()
        return lambda asked: asked == uri
    parts = urlsplit(url)
    server = f"{parts.scheme}://{parts.netloc}/"
    return lambda asked: asked.startswith(server)


def shot(page: Any, name: str) -> None:
    """A screenshot of the whole page as SHOTS/`name`.png, a test artefact (not in git)."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True, animations="disabled")


class Area(NamedTuple):
    """A chart's plotting area on screen (CSS px): where a finger or the mouse goes."""

    left: float
    width: float
    y: float
    """Half-way down."""

    def x(self, fraction: float) -> float:
        """The point `fraction` of the way across."""
        return self.left + fraction * self.width


def drag(page: Any, area: Area, start: float, end: float) -> None:
    """The mouse pressed `start` of the way across `area`, moved to `end`, released (a zoom)."""
    page.mouse.move(area.x(start), area.y)
    page.mouse.down()
    page.mouse.move(area.x(end), area.y, steps=5)
    page.mouse.up()


def swipe(page: Any, area: Area, start: float, end: float) -> None:
    """One finger from `start` of the way across `area` to `end`, sideways (a zoom)."""
    gesture(page, [(area.x(start), area.y)], [(area.x(end), area.y)])


def spread(page: Any, area: Area, before: float, after: float) -> None:
    """Two fingers `before` px either side of `area`'s middle moved to `after` px (a pinch)."""
    x, y = area.x(0.5), area.y
    gesture(page, [(x - before, y), (x + before, y)], [(x - after, y), (x + after, y)])


def double_tap(page: Any, area: Area) -> None:
    """Two taps in `area`'s middle (shows a chart's whole range, as a double-click does)."""
    page.touchscreen.tap(area.x(0.5), area.y)
    page.touchscreen.tap(area.x(0.5), area.y)


def swipe_up(page: Any, area: Area) -> None:
    """A finger up `area`'s middle; waits until the page has scrolled: a chart is no scroll trap."""
    before = page.evaluate("window.scrollY")
    x = area.x(0.5)
    gesture(page, [(x, area.y + 40)], [(x, area.y - 200)])
    page.wait_for_function(f"window.scrollY > {before}")


def plot_area(over: Any) -> Area:
    """Where uPlot's `.u-over` locator `over` is, scrolled into view first."""
    over.scroll_into_view_if_needed()
    box = over.bounding_box()
    assert box is not None, "the chart is not on screen"
    return Area(box["x"], box["width"], box["y"] + box["height"] / 2)


def x_scales(page: Any, charts: str) -> list[tuple[float, float]]:
    """Each chart's x range (min, max); `charts` is the page's JavaScript list of uPlot charts."""
    scales = page.evaluate(f"{charts}.map(u => [u.scales.x.min, u.scales.x.max])")
    return [(lo, hi) for lo, hi in scales]
