"""Build the app around one twin, and serve it with uvicorn.

`build_context` makes the device (a twin of the scenario's installation, on a realtime clock,
with the settings and keys of the state folder); `create_app` wraps it in FastAPI (the JSON API,
the pages, the packaged static files; the twin's loop runs for the app's lifespan);
`serve` runs it until Ctrl-C and ends every stream on the way out.
"""

import contextlib
import ipaddress
import logging
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.staticfiles import StaticFiles

from smartbms import scenario as sc
from smartbms.app import models
from smartbms.app.api import RefusedError, build_api, refused_response
from smartbms.app.context import Context
from smartbms.app.live import LiveTwin
from smartbms.app.memory import DeviceMemory
from smartbms.app.pages import build_pages
from smartbms.app.security import Sessions
from smartbms.core.settings import SETTING_SPECS
from smartbms.twin import RealtimeClock, Twin
from smartbms.twin import commands as cmd

if TYPE_CHECKING:
    from smartbms.adapters.readout import Broadcaster

APP_DIR = Path(__file__).resolve().parent
ASSETS_DIR = APP_DIR.parent / "assets"
"""Shared browser assets: the vendored uPlot and the touch-zoom plugin (the report's too)."""
PIN_FIELDS = {"pin", "old_pin", "new_pin"}
log = logging.getLogger("smartbms.serve")


def build_context(
    scenario: sc.Scenario | Path,
    *,
    speed: float = 1.0,
    state_dir: Path | None = None,
    replay: bool = False,
    tick_s: float = 0.25,
) -> Context:
    """The device: a twin of `scenario` at `speed`, remembering in `state_dir` (None: nowhere).

    Without `replay` the scenario's timeline is left out: the user drives the twin.
    """
    if not isinstance(scenario, sc.Scenario):
        scenario = sc.load_scenario(scenario)
    if not replay:
        scenario = scenario.model_copy(update={"timeline": ()})
    memory = None
    corrupted = None
    if state_dir is not None:
        memory = DeviceMemory(state_dir, len(_battery_numbers(scenario)))
        boot = memory.boot(scenario)
        scenario, corrupted = boot.scenario, boot.corrupted
    clock = RealtimeClock(speed, tick_s=tick_s)
    twin = Twin.from_scenario(scenario, clock=clock)
    if corrupted is not None:
        log.warning("stored settings refused (%s): the BMS reports E-B31", corrupted)
        twin.apply(cmd.ConfigCorrupted())
    live = LiveTwin(twin, clock)
    if memory is not None:
        live.subscribe(memory.remember)
    return Context(live=live, sessions=Sessions(), memory=memory)


def _start_advertising(ctx: Context) -> "Broadcaster":
    """Broadcast the twin's devices on the advertiser `ctx.advertise` names (issue 17).

    Subscribed after the state folder's listener, so a PIN change has rotated the BMS key in the
    store before the broadcaster asks for it (`DeviceMemory.key_source`).
    """
    from smartbms.adapters.readout import derived_keys, start_advertising  # noqa: PLC0415
    from smartbms.store.device_keys import DEVICE_IDS  # noqa: PLC0415

    assert ctx.advertise is not None  # noqa: S101  # the caller checks
    twin = ctx.live.twin
    if ctx.memory is not None:
        keys: Any = ctx.memory.key_source()
    else:
        devices = DEVICE_IDS[: 1 + len(_battery_numbers(twin.scenario))]
        keys = derived_keys(twin.scenario.scenario.name, devices)
    broadcaster = start_advertising(twin, ctx.advertise, keys, record=ctx.advertise_record)
    log.info("Instant Readout on %s (record 0x%02X)", ctx.advertise, ctx.advertise_record)
    return broadcaster


def _battery_numbers(scenario: sc.Scenario) -> list[int]:
    count = sum(battery.count for battery in scenario.battery)
    return list(range(1, count + 1))


def create_app(ctx: Context, *, run_twin: bool = True) -> FastAPI:
    """The FastAPI app over `ctx`; with `run_twin` its lifespan runs the twin in real time."""

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        del app
        if run_twin:
            ctx.live.start()
        broadcaster = _start_advertising(ctx) if ctx.advertise else None
        try:
            yield
        finally:
            if broadcaster is not None:
                await broadcaster.aclose()
            await ctx.live.stop()

    app = FastAPI(
        title="smartbms serve",
        summary="A live twin of a Smart BMS 12-200 with a VictronConnect-like app.",
        version="1",
        lifespan=lifespan,
    )
    app.state.context = ctx

    async def on_refused(request: Request, error: Exception) -> JSONResponse:
        del request
        assert isinstance(error, RefusedError)  # noqa: S101  # registered for RefusedError only
        return refused_response(error)

    async def on_invalid(request: Request, error: Exception) -> JSONResponse:
        del request
        assert isinstance(error, RequestValidationError)  # noqa: S101
        return refused_response(_invalid(error))

    async def on_http(request: Request, error: Exception) -> JSONResponse:
        del request
        assert isinstance(error, StarletteHTTPException)  # noqa: S101
        # A body that is not even text (FastAPI's 400) is refused like malformed JSON: 422.
        status = 422 if error.status_code == 400 else error.status_code
        return refused_response(RefusedError(status, str(error.detail)))

    app.add_exception_handler(RefusedError, on_refused)
    app.add_exception_handler(StarletteHTTPException, on_http)
    app.add_exception_handler(RequestValidationError, on_invalid)
    app.include_router(build_api(ctx))
    app.include_router(build_pages(ctx))
    app.mount("/static", StaticFiles(directory=APP_DIR / "static"), name="static")
    app.mount("/assets", StaticFiles(directory=ASSETS_DIR), name="assets")
    return app


def _invalid(error: RequestValidationError) -> RefusedError:
    """A 422 naming the first field a request got wrong (and a setting's allowed range)."""
    problems: list[dict[str, Any]] = list(error.errors())
    first = problems[0] if problems else {"loc": (), "msg": "invalid request"}
    loc = [str(part) for part in first.get("loc", ()) if part != "body"]
    field = loc[-1] if loc else "body"
    message = str(first.get("msg", "invalid"))
    allowed = None
    setting = None
    if field in SETTING_SPECS and field != "pin":
        setting, allowed = field, SETTING_SPECS[field].allowed
    elif field in PIN_FIELDS:
        setting, allowed = field, SETTING_SPECS["pin"].allowed
    detail = f"{field}: {message}" + (f"; allowed: {allowed}" if allowed else "")
    return RefusedError(422, detail, setting=setting, allowed=allowed)


def is_loopback(host: str) -> bool:
    """The address is reachable only from this machine."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def make_server(
    ctx: Context,
    *,
    host: str = "127.0.0.1",
    port: int = 8000,
    on_started: Callable[[], None] | None = None,
) -> Any:
    """A uvicorn server of the app whose exit (Ctrl-C, SIGTERM, `handle_exit`) ends every stream.

    Open SSE streams would otherwise hold uvicorn's graceful shutdown until its timeout.
    """
    import uvicorn  # noqa: PLC0415  # the serve extra
    from sse_starlette.sse import AppStatus  # noqa: PLC0415

    # sse-starlette ends every stream of the process once any server exits (a process-wide
    # flag): a new server in the same process (tests, the benchmark) starts with it cleared.
    AppStatus.should_exit = False

    class Server(uvicorn.Server):
        def handle_exit(self, sig: int, frame: Any) -> None:
            ctx.live.close_feeds_threadsafe()
            super().handle_exit(sig, frame)

        async def startup(self, sockets: list[Any] | None = None) -> None:
            await super().startup(sockets=sockets)  # exits when it cannot listen
            if self.started and on_started is not None:
                on_started()

    config = uvicorn.Config(
        create_app(ctx),
        host=host,
        port=port,
        log_level="warning",
        timeout_graceful_shutdown=3,
        lifespan="on",
    )
    return Server(config)


def serve(
    ctx: Context,
    *,
    host: str = "127.0.0.1",
    port: int = 8000,
    announce: Callable[[str], None] = print,
    warn: Callable[[str], None] = print,
) -> bool:
    """Run the app until Ctrl-C (or SIGTERM); every stream ends, the twin stops.

    Returns False when it could not start (the address is taken: uvicorn logged why). After a
    Ctrl-C, uvicorn raises the captured KeyboardInterrupt again once it has shut down.
    """
    if not is_loopback(host):
        warn(
            f"warning: listening on {host}, beyond this machine: anyone who can reach it can "
            "read the twin and try PINs (pairing locks out after repeated wrong PINs)"
        )
    shown = f"[{host}]" if ":" in host else host
    server = make_server(
        ctx,
        host=host,
        port=port,
        on_started=lambda: announce(f"smartbms serve: http://{shown}:{port}/  (Ctrl-C to stop)"),
    )
    try:
        server.run()
    except SystemExit:  # uvicorn could not bind (it logged why)
        return False
    return bool(server.started)


__all__ = ["build_context", "create_app", "is_loopback", "make_server", "models", "serve"]
