"""report.html in a real browser, from a phone's 390 px to a desktop's 1280 px.

It must fit the width (no sideways scrolling of the page), keep text at 11 px or more (the
charts are canvases: their configured axis font is checked), log no console error, draw every
chart, and zoom all charts together. Screenshots of each width are saved as test artefacts.
"""

from pathlib import Path
from typing import Any

import pytest

from smartbms.cli import main

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ("system-plus-short", "weak-cell")
WIDTHS = (390, 1280)
MIN_TEXT_PX = 11.0


@pytest.fixture(scope="module", params=EXAMPLES)
def report(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An example's report, simulated for this test."""
    name: str = request.param
    out = tmp_path_factory.mktemp(name)
    assert main(["simulate", str(ROOT / "examples" / f"{name}.toml"), "--out", str(out)]) == 0
    return out / "report.html"


def _open(browser: Any, path: Path, width: int) -> tuple[Any, list[str]]:
    page = browser.new_page(viewport={"width": width, "height": 900})
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(path.as_uri())
    page.wait_for_function("window.smartbmsReport && window.smartbmsReport.charts.length > 0")
    return page, errors


SMALL_TEXT = """() => {
  const small = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const node = walker.currentNode;
    if (!node.textContent.trim()) continue;
    const el = node.parentElement;
    if (el.closest("script, style")) continue;
    const style = getComputedStyle(el);
    if (style.display === "none" || style.visibility === "hidden") continue;
    const px = parseFloat(style.fontSize);
    const text = node.textContent.trim().slice(0, 30);
    if (px < 11) small.push(`${el.tagName}.${el.className}: ${px}px "${text}"`);
  }
  return small;
}"""


@pytest.mark.parametrize("width", WIDTHS)
def test_the_page_fits_reads_and_logs_no_error(
    browser: Any, report: Path, artifacts: Path, width: int
) -> None:
    page, errors = _open(browser, report, width)
    try:
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"the page scrolls sideways by {overflow} px at {width} px"
        assert page.evaluate(SMALL_TEXT) == []
        fonts = page.evaluate(
            "window.smartbmsReport.charts.flatMap(u => u.axes.filter(a => a.show !== false)"
            ".map(a => a.font[1] / (window.devicePixelRatio || 1)))"
        )
        assert fonts
        assert min(fonts) >= MIN_TEXT_PX
        assert page.evaluate("window.smartbmsReport.axisFontPx") >= MIN_TEXT_PX
        charts = page.evaluate("document.querySelectorAll('.plot canvas').length")
        assert charts == page.evaluate("document.querySelectorAll('.plot').length")
        widest = page.evaluate(
            "Math.max(...[...document.querySelectorAll('.uplot')]"
            ".map(e => e.getBoundingClientRect().right))"
        )
        assert widest <= width
        name = report.parent.name.rstrip("0123456789")
        page.screenshot(path=str(artifacts / f"{name}-{width}.png"), full_page=True)
    finally:
        page.close()
    assert errors == []


def test_zoom_is_linked_and_hover_shows_values(browser: Any, report: Path) -> None:
    page, errors = _open(browser, report, 1280)
    try:
        over = page.locator("#chart-voltage .u-over")
        over.scroll_into_view_if_needed()
        box = over.bounding_box()
        assert box is not None
        y = box["y"] + box["height"] / 2
        page.mouse.move(box["x"] + box["width"] * 0.2, y)
        page.mouse.down()
        page.mouse.move(box["x"] + box["width"] * 0.6, y, steps=5)
        page.mouse.up()
        scales = page.evaluate(
            "window.smartbmsReport.charts.map(u => [u.scales.x.min, u.scales.x.max])"
        )
        assert len({tuple(s) for s in scales}) == 1  # every chart shows the same stretch
        end = page.evaluate("JSON.parse(document.getElementById('report-data').textContent).end")
        assert 0 < scales[0][1] - scales[0][0] < end * 0.6
        page.mouse.move(box["x"] + box["width"] * 0.5, y)
        values = page.locator("#chart-voltage .u-legend .u-value").all_inner_texts()
        assert values
        assert all(v not in {"", "\N{EN DASH}"} for v in values)
        page.click("#zoom-reset")
        scales = page.evaluate(
            "window.smartbmsReport.charts.map(u => u.scales.x.max - u.scales.x.min)"
        )
        assert all(abs(s - end) < 1e-6 for s in scales)
    finally:
        page.close()
    assert errors == []


def test_clock_times_on_the_axis(browser: Any, report: Path) -> None:
    page, _ = _open(browser, report, 1280)
    try:
        text = page.evaluate("window.smartbmsReport.clockText(3600 * 30 + 5, true, true)")
        assert text == "day 2 14:00:05"  # the examples start at 08:00
    finally:
        page.close()
