"""The pages: server-rendered Jinja2 templates that the packaged script keeps live (SSE)."""

from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import APIRouter, HTTPException
from fastapi.responses import HTMLResponse
from jinja2 import Environment, PackageLoader, select_autoescape

from smartbms.app import views
from smartbms.app.context import Context
from smartbms.twin.commands import COMMAND_TYPES

_ENV: Environment | None = None


def _env() -> Environment:
    global _ENV  # noqa: PLW0603  # one template environment, built at first use
    if _ENV is None:
        _ENV = Environment(
            loader=PackageLoader("smartbms.app", "templates"),
            autoescape=select_autoescape(["html"]),
            trim_blocks=True,
            lstrip_blocks=True,
        )
    return _ENV


PAGES: tuple[tuple[str, str, str], ...] = (
    ("devices", "/", "Devices"),
    ("status", "/device", "Status"),
    ("batteries", "/batteries", "Batteries"),
    ("history", "/history", "History"),
    ("settings", "/settings", "Settings"),
    ("product", "/product-info", "Product info"),
    ("twin", "/twin", "Twin"),
    ("events", "/events", "Events"),
)


def build_pages(ctx: Context) -> APIRouter:
    """The HTML pages (left out of the OpenAPI document)."""
    router = APIRouter(include_in_schema=False)

    def render(page: str, **values: Any) -> HTMLResponse:
        state = ctx.live.twin.state
        html = (
            _env()
            .get_template(f"{page}.html")
            .render(
                page=page,
                pages=PAGES,
                scenario_name=ctx.live.twin.scenario.scenario.name,
                status=ctx.live.status(),
                batteries=views.batteries(state),
                settings=views.settings(state.settings),
                ranges=views.setting_ranges(),
                clock=ctx.clock_info(),
                **values,
            )
        )
        return HTMLResponse(html)

    extras: dict[str, Callable[[], dict[str, Any]]] = {
        "product": lambda: {"product": ctx.product_info(paired=False)},
        "twin": lambda: {"faults": _faults()},
        "events": lambda: {"events": list(reversed(ctx.live.events_after(0)))},
        "history": lambda: {
            "start_s": ctx.live.start_time_of_day_s,
            "weekday": "" if ctx.live.start_weekday is None else ctx.live.start_weekday,
        },
    }

    def page_route(key: str) -> Callable[[], Awaitable[HTMLResponse]]:
        async def show() -> HTMLResponse:
            extra = extras.get(key)
            return render(key, **(extra() if extra is not None else {}))

        return show

    for key, path, _ in PAGES:
        router.add_api_route(path, page_route(key), response_class=HTMLResponse)

    @router.get("/battery/{number}", response_class=HTMLResponse)
    async def battery(number: int) -> HTMLResponse:
        if not 1 <= number <= len(ctx.live.twin.state.batteries):
            raise HTTPException(404, "no such battery")
        return render("batteries", only=number)

    return router


FAULT_FIELDS: dict[str, dict[str, float]] = {
    "weak-cell": {"battery": 1, "cell": 1, "capacity_factor": 0.5},
    "cell-resistance": {"battery": 1, "cell": 1, "factor": 5.0},
    "system-plus-short": {"duration_s": 2.0, "resistance_ohm": 0.001},
    "loose-connection": {"battery": 1, "resistance_ohm": 0.05},
    "heat": {"bms_extra_c": 40.0},
    "prealarm-output-overload": {"current_a": 2.0},
}
"""The cockpit's starting values for the faults that take numbers."""


def _faults() -> list[dict[str, Any]]:
    """Every injectable fault with its fields' starting values."""
    return [
        {"type": name, "fields": FAULT_FIELDS.get(name, {})}
        for name, cls in COMMAND_TYPES.items()
        if cls.FAULT and name != "clear-fault"
    ]
