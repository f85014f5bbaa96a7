"""report.html in a real browser, from a phone's 390 px to a desktop's 1280 px.

It must fit the width (no sideways scrolling of the page), keep text at 11 px or more (the
charts are canvases: their configured axis font is checked), log no console error, draw every
chart, and zoom all charts together. Screenshots of each width are saved as test artefacts.
"""

from pathlib import Path
from typing import Any

import pytest

from smartbms.cli import main
from tests.browser.conftest import REPORT_READY, ROOT, OpenPage, drag, plot_area, shot, x_scales

EXAMPLES = ("system-plus-short", "weak-cell")
WIDTHS = (390, 1280)
MIN_TEXT_PX = 11.0
CHARTS = "window.smartbmsReport.charts"


@pytest.fixture(scope="module", params=EXAMPLES)
def report(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An example's report, simulated for this test."""
    name: str = request.param
    out = tmp_path_factory.mktemp(name)
    assert main(["simulate", str(ROOT / "examples" / f"{name}.toml"), "--out", str(out)]) == 0
    return out / "report.html"


def _open(open_page: OpenPage, report: Path, width: int) -> tuple[Any, list[str]]:
    return open_page(report, ready=REPORT_READY, viewport={"width": width, "height": 900})


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
    open_page: OpenPage, report: Path, width: int
) -> None:
    page, errors = _open(open_page, report, width)
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
    shot(page, f"{report.parent.name.rstrip('0123456789')}-{width}")
    assert errors == []


def test_zoom_is_linked_and_hover_shows_values(open_page: OpenPage, report: Path) -> None:
    page, errors = _open(open_page, report, 1280)
    area = plot_area(page.locator("#chart-voltage .u-over"))
    drag(page, area, 0.2, 0.6)
    scales = x_scales(page, CHARTS)
    assert len(set(scales)) == 1  # every chart shows the same stretch
    end = page.evaluate("JSON.parse(document.getElementById('report-data').textContent).end")
    assert 0 < scales[0][1] - scales[0][0] < end * 0.6
    page.mouse.move(area.x(0.5), area.y)
    values = page.locator("#chart-voltage .u-legend .u-value").all_inner_texts()
    assert values
    assert all(v not in {"", "\N{EN DASH}"} for v in values)
    page.click("#zoom-reset")
    assert all(abs((hi - lo) - end) < 1e-6 for lo, hi in x_scales(page, CHARTS))
    assert errors == []


def test_clock_times_on_the_axis(open_page: OpenPage, report: Path) -> None:
    page, _ = _open(open_page, report, 1280)
    text = page.evaluate("window.smartbmsReport.clockText(3600 * 30 + 5, true, true)")
    assert text == "day 2 14:00:05"  # the examples start at 08:00
