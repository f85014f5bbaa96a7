"""The sweep report (`smartbms sweep`'s report.html) on a phone with a touch screen and a desktop.

As report.html (tests/browser/test_report_phone.py): the page is the only scroller on a 390 px
phone, the variants table becomes one card per variant where it does not fit (and stays a table,
sortable by its headers, where it does), the charts take their box's width and zoom by touch on a
numeric axis. Each figure's charts are folded under a summary line, the first figure that varies
open, and a folded figure's charts are drawn when it opens. No SPEC requirement covers the sweep
report; this is issue 18's page. The sweeps are small real ones, run in this process (workers=0,
no Dask) as tests/unit/test_sweep_run.py does, or their rows made up where only the page is under
test. Screenshots are test artefacts.
"""

from pathlib import Path
from typing import Any

import pytest

from smartbms.sweep import compare_sweep, load_sweep, read_results, run_sweep
from smartbms.sweep.report import LONG_TABLE, MAX_TABLE_ROWS, render, write_sweep_report
from tests.browser.conftest import (
    DESKTOP,
    OpenPage,
    double_tap,
    plot_area,
    shot,
    swipe,
    swipe_up,
    x_scales,
)
from tests.browser.touch import NESTED_SCROLLERS, PHONE
from tests.unit.test_sweep_run import DRAIN, ROOT, sweep_file

CHARTS = "smartbmsSweep.charts"
READY = "document.querySelectorAll('#charts .uplot').length > 0"
CHARTS_FIT = """() => [...document.querySelectorAll('#charts details[open] .chart')].map(box => {
  const plot = box.querySelector('.uplot').getBoundingClientRect();
  const b = box.getBoundingClientRect();
  return [b.left, b.right, plot.left, plot.right];
})"""
"""Each open figure's chart's box and its plot, left and right edges (CSS px)."""
DRAWN = "document.querySelectorAll('#charts .uplot').length"
SECTIONS = "[...document.querySelectorAll('#charts details.figure')].map(d => d.open)"
TICKS = "smartbmsSweep.charts[{}].axes[{}]._values"
"""A chart's axis's tick labels as drawn (uPlot 1.6.32's own field: the vendored, pinned copy)."""
LEGEND_ROWS = """() => [...document.querySelectorAll('#charts .u-legend .u-series')]
  .filter(tr => tr.querySelector('.u-marker'))
  .map(tr => tr.querySelector('.u-label').getClientRects()[0].top
             - tr.querySelector('.u-marker').getBoundingClientRect().top)"""
"""Each legend line's label's first line against its colour marker (CSS px, 0: side by side)."""
MODELS = """[sweep]
name = "models"
scenario = "{base}"
figures = ["final_bank_soc_pct", "battery_damaged"]

[[axis]]
field = "battery[1].model"
values = ["LFP-Smart 12.8/100", "LFP-Smart 12.8/200", "LFP-Smart 12.8/300"]

[[axis]]
field = "battery[1].count"
values = [1, 2]
"""


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


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Battery models (names with a '/') against a count of 1 or 2; made-up rows, none run."""
    tmp = tmp_path_factory.mktemp("models")
    sweep = load_sweep(sweep_file(tmp, MODELS))
    names = ("LFP-Smart 12.8/100", "LFP-Smart 12.8/200", "LFP-Smart 12.8/300")
    rows = [
        {
            "variant_id": k,
            "status": "ok",
            "error": None,
            "battery[1].model": names[k // 2],
            "battery[1].count": k % 2 + 1,
            "final_bank_soc_pct": 60.0 + 5 * k,
            "battery_damaged": k == 0,
        }
        for k in range(6)
    ]
    path = tmp / "models.html"
    path.write_text(render(sweep, rows), encoding="utf-8")
    return path


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


def _chart(page: Any, title: str) -> tuple[int, Any]:
    """The chart titled `title`: its index and its plot area, its figure opened (a click) first."""
    index: int = page.evaluate(f"smartbmsSweep.specs.findIndex(c => c.title === {title!r})")
    assert index >= 0
    box = page.locator(f'.chart[data-chart="{index}"]')
    section = page.locator("details.figure", has=box)
    if not section.evaluate("d => d.open"):
        section.locator("summary").click()
    box.locator(".uplot").wait_for()
    return index, box.locator(".u-over")


def _x_scale(page: Any, k: int) -> tuple[float, float]:
    return x_scales(page, f"[{CHARTS}[{k}]]")[0]


def test_on_a_phone_the_variants_are_cards_and_nothing_overflows(
    open_page: OpenPage, report: Path
) -> None:
    page, errors = open_page(report, ready=READY, **PHONE)
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
    # compact: the figures two to a line, each under its name; "ok" left out, "failed" not
    ok = page.locator("#variants tbody tr.ok").first
    tops = ok.locator("td.fig").evaluate_all(
        "tds => tds.map(td => Math.round(td.getBoundingClientRect().top))"
    )
    assert len(tops) >= 2
    assert len(set(tops)) == (len(tops) + 1) // 2
    assert not ok.locator("td.status").is_visible()
    assert page.locator("#variants tbody tr.failed td.status").first.is_visible()

    # the headers are hidden on cards: a menu sorts instead
    ids = "[...document.querySelectorAll('#variants tbody tr td:first-child')]"
    page.locator("#sort-by").select_option(label="scenario.duration_h")
    assert page.evaluate(f"{ids}.map(td => Number(td.textContent))") == [0, 3, 1, 4, 2, 5]
    page.locator("#sort-reverse").tap()
    assert page.evaluate(f"{ids}.map(td => Number(td.textContent))") == [2, 5, 1, 4, 0, 3]
    shot(page, "phone-sweep-report")
    assert errors == []


def test_on_a_desktop_the_table_fits_and_sorts_by_its_headers(
    open_page: OpenPage, report: Path
) -> None:
    page, errors = open_page(report, ready=READY, **DESKTOP)
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
    shot(page, "desktop-sweep-report")

    page.set_viewport_size({"width": 390, "height": 844})  # the charts follow their box
    page.wait_for_function("document.documentElement.scrollWidth <= 390")
    page.wait_for_timeout(100)
    _fits(page, 390)
    assert "stacked" in (page.locator("#variants").get_attribute("class") or "")
    assert errors == []


def test_a_numeric_chart_zooms_by_touch(open_page: OpenPage, report: Path) -> None:
    page, errors = open_page(report, ready=READY, **PHONE)
    k, over = _chart(page, "Final state of charge against scenario.duration_h")
    full = _x_scale(page, k)
    assert full == (1.0, 72.0)
    area = plot_area(over)
    swipe(page, area, 0.3, 0.9)
    lo, hi = _x_scale(page, k)
    span = full[1] - full[0]
    assert lo == pytest.approx(full[0] + 0.3 * span, rel=0.05)
    assert hi == pytest.approx(full[0] + 0.9 * span, rel=0.05)
    shot(page, "phone-sweep-report-zoomed")
    area = plot_area(over)  # the full-page shot may have moved it
    double_tap(page, area)  # shows everything
    page.wait_for_function(f"smartbmsSweep.charts[{k}].scales.x.min === {full[0]}")
    assert _x_scale(page, k) == full

    swipe_up(page, area)  # a vertical swipe still scrolls the page
    assert _x_scale(page, k) == full
    assert errors == []


def test_a_categorical_axis_keeps_its_range(open_page: OpenPage, compared: Path) -> None:
    page, errors = open_page(compared, ready=READY, **PHONE)
    _fits(page, 390)  # two long scenario paths, as parameters and as labels
    k, over = _chart(page, "Days until battery damage against scenario")
    assert _x_scale(page, k) == (-0.5, 1.5)
    swipe(page, plot_area(over), 0.1, 0.7)
    assert _x_scale(page, k) == (-0.5, 1.5)
    shot(page, "phone-sweep-compare")
    assert errors == []


def test_a_long_table_draws_the_cards_near_the_screen(
    open_page: OpenPage, long_report: Path
) -> None:
    page, errors = open_page(long_report, ready=READY, **PHONE)
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
    assert errors == []


def test_figures_are_folded_and_a_tap_opens_and_draws_one(
    open_page: OpenPage, report: Path
) -> None:
    page, errors = open_page(report, ready=READY, **PHONE)
    specs = page.evaluate("smartbmsSweep.specs.length")
    assert specs == 6  # three charted figures against two axes (worst_verdict is text)
    # days until damage: never in every variant; the first figure with something to see is open
    lines = page.locator("#charts summary .fig-line").all_inner_texts()
    assert lines[0] == "never in every variant"
    assert lines[1].startswith("best ")
    assert page.evaluate(SECTIONS) == [False, True, False]
    assert page.evaluate(DRAWN) == 2  # its charts only: the rest when opened
    assert page.evaluate(LEGEND_ROWS)  # a long label wraps beside its marker, not under it
    assert all(abs(d) < 4 for d in page.evaluate(LEGEND_ROWS))
    folded = page.evaluate("document.documentElement.scrollHeight")
    shot(page, "phone-sweep-folded")

    flag = page.locator("#figure-battery_damaged")
    flag.locator("summary").tap()
    page.wait_for_function(f"{DRAWN} === 4")
    assert page.evaluate(SECTIONS) == [False, True, True]
    _fits(page, 390)  # drawn at its box's width, though the box had none while folded
    k = page.evaluate("smartbmsSweep.specs.findIndex(c => c.title.startsWith('Battery damaged'))")
    assert page.evaluate(TICKS.format(k, 1)) == ["no", "yes"]  # a flag's axis

    # the best-variant table links a figure to its charts: the link opens them
    page.locator("#best a", has_text="Days until battery damage").tap()
    page.wait_for_function(f"{DRAWN} === 6")
    assert page.evaluate(SECTIONS) == [True, True, True]
    top = page.locator("#figure-days_until_damage summary").bounding_box()
    assert top is not None
    assert 0 <= top["y"] < 844  # and it is on screen

    page.locator("#close-all").tap()
    assert page.evaluate(SECTIONS) == [False, False, False]
    page.locator("#best a", has_text="Days until battery damage").tap()  # the address ends so
    assert page.evaluate(SECTIONS) == [True, False, False]
    page.locator("#open-all").tap()
    assert page.evaluate(SECTIONS) == [True, True, True]
    assert page.evaluate("document.documentElement.scrollHeight") > folded + 4 * 240
    _fits(page, 390)
    page.locator("#close-all").tap()
    page.evaluate("window.dispatchEvent(new Event('beforeprint'))")  # printing shows them all
    assert page.evaluate(SECTIONS) == [True, True, True]
    assert errors == []


def test_a_folded_figure_opens_on_a_desktop(open_page: OpenPage, report: Path) -> None:
    page, errors = open_page(report, ready=READY, **DESKTOP)
    k, over = _chart(page, "Battery damaged against device[2].current_a")  # a click opens it
    assert page.evaluate(DRAWN) == 4
    _fits(page, 1280)
    area = plot_area(over)
    page.mouse.move(area.x(0.5), area.y)  # the legend shows the values under the pointer
    values = page.locator(f'.chart[data-chart="{k}"] .u-value').all_inner_texts()
    assert values[0] != "--"  # the current
    assert {"yes", "no"} & set(values[1:])  # a flag's value reads as one
    shot(page, "desktop-sweep-unfolded")
    assert errors == []


@pytest.mark.parametrize("device", ["phone", "desktop"])
def test_names_stay_names_and_counts_are_whole(
    open_page: OpenPage, models: Path, device: str
) -> None:
    """A model name's '/' is not a folder's (only a scenario file loses its path); a count has no
    1.25 tick between 1 and 2."""
    page, errors = open_page(models, ready=READY, **(PHONE if device == "phone" else DESKTOP))
    k, _ = _chart(page, "Final state of charge against battery[1].model")
    ticks = page.evaluate(TICKS.format(k, 0))
    if device == "desktop":
        assert ticks == ["LFP-Smart 12.8/100", "LFP-Smart 12.8/200", "LFP-Smart 12.8/300"]
    else:  # cut in the middle to fit, both ends kept
        assert len(set(ticks)) == 3
        for tick, size in zip(ticks, ("100", "200", "300"), strict=True):
            assert tick.startswith("LFP")
            assert tick.endswith("/" + size)
    k, _ = _chart(page, "Final state of charge against battery[1].count")
    assert page.evaluate(TICKS.format(k, 0)) == ["1", "2"]
    _fits(page, 390 if device == "phone" else 1280)
    assert errors == []
