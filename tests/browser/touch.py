"""A phone with a touch screen for Playwright, and real touch gestures on it.

Touches go through the Chrome DevTools Protocol (`Input.dispatchTouchEvent`), so the browser's own
handling (page scrolling, touch-action) takes part as on a phone.
"""

from typing import Any

PHONE: dict[str, Any] = {
    "viewport": {"width": 390, "height": 844},
    "has_touch": True,
    "is_mobile": True,
    "device_scale_factor": 2,
}
"""An iPhone-sized viewport (390 x 844 CSS px) with touch."""

Point = tuple[float, float]


def gesture(page: Any, start: list[Point], end: list[Point], steps: int = 8) -> None:
    """Fingers down at `start`, moved in `steps` steps to `end`, lifted."""
    cdp = page.context.new_cdp_session(page)

    def touch(kind: str, points: list[Point]) -> None:
        at = [{"x": x, "y": y, "id": i} for i, (x, y) in enumerate(points)]
        cdp.send("Input.dispatchTouchEvent", {"type": kind, "touchPoints": at})

    touch("touchStart", start)
    for k in range(1, steps + 1):
        f = k / steps
        touch(
            "touchMove",
            [(a + (c - a) * f, b + (d - b) * f) for (a, b), (c, d) in zip(start, end, strict=True)],
        )
        page.wait_for_timeout(20)  # a frame for a pinch's requestAnimationFrame
    touch("touchEnd", [])
    cdp.detach()
    page.wait_for_timeout(50)


NESTED_SCROLLERS = """() => [...document.querySelectorAll('main *')].filter(e => {
  const s = getComputedStyle(e);
  return /(auto|scroll)/.test(s.overflowX + s.overflowY)
    && (e.scrollWidth > e.clientWidth + 1 || e.scrollHeight > e.clientHeight + 1);
}).map(e => e.tagName + '.' + e.className)"""
"""The elements inside <main> that scroll on their own (a page should have none on a phone)."""
