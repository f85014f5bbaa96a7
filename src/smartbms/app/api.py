"""The JSON API under `/api`: read freely, change only when paired, with a CSRF token.

Every handler is a coroutine, so it runs on the event loop's thread between two of the twin's
steps: the twin is never touched by two threads. Refusals are `Problem` bodies: 401 without a
session or with a wrong PIN, 403 without the CSRF token, 422 for a value out of range (naming
the setting and the range; nothing changed), 429 while pairing is locked out.
"""

import dataclasses
import json
import math
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Request, Response
from fastapi.responses import JSONResponse
from sse_starlette import EventSourceResponse

from smartbms.app import models, views
from smartbms.app.context import Context
from smartbms.app.security import (
    CSRF_HEADER,
    SESSION_COOKIE,
    LockedOutError,
    Session,
    WrongPinError,
)
from smartbms.core.settings import PIN, Settings, SettingsError
from smartbms.sim.results import event_record
from smartbms.twin import CommandError
from smartbms.twin import commands as cmd
from smartbms.twin.commands import COMMAND_TYPES

OWN_ENDPOINT = {
    "setting": "PUT /api/settings",
    "pin": "PUT /api/pin",
    "factory-reset": "POST /api/factory-reset",
}
"""Commands with their own endpoint (they need the paired session's PIN)."""
COMMAND_NAMES = tuple(name for name in COMMAND_TYPES if name not in OWN_ENDPOINT)


class RefusedError(Exception):
    """A request refused with `status` and a `Problem` body."""

    def __init__(
        self,
        status: int,
        detail: str,
        *,
        setting: str | None = None,
        allowed: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.problem = models.Problem(detail=detail, setting=setting, allowed=allowed)
        self.headers = headers


def refused_response(error: RefusedError) -> JSONResponse:
    """The response of a `RefusedError`."""
    return JSONResponse(
        error.problem.model_dump(exclude_none=True), error.status, headers=error.headers
    )


def _doc(*codes: int) -> dict[int | str, dict[str, Any]]:
    return {code: {"model": models.Problem} for code in codes}


def build_api(ctx: Context) -> APIRouter:  # noqa: C901, PLR0915  # one closure per endpoint
    """The `/api` router over one running twin."""
    api = APIRouter(
        prefix="/api",
        tags=["api"],
        responses={422: {"model": models.Problem, "description": "A value was refused"}},
    )

    def session_of(request: Request) -> Session | None:
        return ctx.sessions.find(request.cookies.get(SESSION_COOKIE))

    def changing(
        request: Request,
        csrf: Annotated[str | None, Header(alias=CSRF_HEADER)] = None,
    ) -> Session:
        session = session_of(request)
        if session is None:
            raise RefusedError(401, "not paired: pair with the device's PIN first (POST /api/pair)")
        if not ctx.sessions.csrf_ok(session, csrf):
            raise RefusedError(403, f"missing or wrong {CSRF_HEADER} header")
        return session

    PairedSession = Annotated[Session, Depends(changing)]  # noqa: N806  # a type alias

    def apply(command: cmd.Command) -> tuple[Any, ...]:
        try:
            return ctx.live.apply(command)
        except PermissionError as error:  # PairingError: the session's PIN is no longer valid
            ctx.sessions.end_all()
            raise RefusedError(401, str(error)) from None
        except CommandError as error:
            raise RefusedError(422, str(error)) from None

    @api.get("/status", response_model=models.Status)
    async def get_status() -> dict[str, Any]:
        """The status page's values; no pairing needed."""
        return ctx.live.status()

    @api.get(
        "/stream",
        response_class=Response,
        responses={
            200: {
                "content": {"text/event-stream": {"schema": {"type": "string"}}},
                "description": "SSE: `status` events (the JSON of /api/status), `event` for "
                "each BMS event (with `seq`), `dropped` when this client lost statuses.",
            }
        },
    )
    async def stream() -> EventSourceResponse:
        """Live updates by Server-Sent Events; BMS events are never dropped."""
        return EventSourceResponse(_sse(ctx), ping=15, send_timeout=30)

    @api.get("/session", response_model=models.SessionInfo)
    async def get_session(request: Request) -> models.SessionInfo:
        """Whether this client is paired, with its CSRF token (same-origin only)."""
        session = session_of(request)
        if session is None:
            return models.SessionInfo(paired=False)
        return models.SessionInfo(paired=True, csrf_token=session.csrf_token)

    @api.post("/pair", response_model=models.Paired, responses=_doc(401, 422, 429))
    async def pair(body: models.PairRequest, response: Response) -> models.Paired:
        """Pair with the PIN: a session cookie and the CSRF token for changes."""
        try:
            session = ctx.sessions.pair(body.pin, ctx.live.twin.state.settings.pin)
        except LockedOutError as error:
            retry = str(math.ceil(error.retry_after_s))
            raise RefusedError(429, str(error), headers={"Retry-After": retry}) from None
        except WrongPinError:
            raise RefusedError(401, "wrong PIN") from None
        response.set_cookie(
            SESSION_COOKIE,
            session.token,
            httponly=True,
            samesite="strict",
            secure=ctx.secure_cookie,
            path="/",
        )
        return models.Paired(csrf_token=session.csrf_token)

    @api.delete("/pair", response_model=models.Unpaired, responses=_doc(401, 403))
    async def unpair(session: PairedSession, response: Response) -> models.Unpaired:
        """Disconnect: end this session."""
        ctx.sessions.end(session)
        response.delete_cookie(SESSION_COOKIE, path="/")
        return models.Unpaired()

    @api.get("/settings", response_model=models.SettingsValues)
    async def get_settings() -> dict[str, Any]:
        """The settings in force."""
        return views.settings(ctx.live.twin.state.settings)

    @api.put("/settings", response_model=models.SettingsValues, responses=_doc(401, 403, 422))
    async def put_settings(body: models.SettingsChange, session: PairedSession) -> dict[str, Any]:
        """Change any subset of the settings, all or nothing (CFG-2)."""
        values = body.model_dump(exclude_unset=True)
        if not values or None in values.values():
            raise RefusedError(422, "give at least one setting, each with a value")
        current = ctx.live.twin.state.settings
        _check_settings(current, values)
        apply(cmd.ChangeSettings(tuple(values.items()), pin=session.pin))
        return views.settings(ctx.live.twin.state.settings)

    @api.put("/pin", response_model=models.Unpaired, responses=_doc(401, 403, 422))
    async def put_pin(
        body: models.PinChange, session: PairedSession, response: Response
    ) -> models.Unpaired:
        """Change the PIN: every session ends and the BMS gets a new Instant Readout key."""
        del session
        if ctx.live.twin.state.settings.pin != body.old_pin:
            raise RefusedError(401, "wrong PIN: old_pin is not the device's PIN")
        try:
            PIN.check(body.new_pin)
        except SettingsError as error:
            raise RefusedError(422, str(error), setting="new_pin", allowed=error.allowed) from None
        apply(cmd.ChangePin(new_pin=body.new_pin, old_pin=body.old_pin))
        ctx.sessions.end_all()
        response.delete_cookie(SESSION_COOKIE, path="/")
        return models.Unpaired()

    @api.post("/factory-reset", response_model=models.Unpaired, responses=_doc(401, 403))
    async def factory_reset(session: PairedSession, response: Response) -> models.Unpaired:
        """Every setting to the factory's (PIN 000000, fuse type not set); pair again."""
        apply(cmd.FactoryReset(pin=session.pin))
        ctx.sessions.end_all()
        response.delete_cookie(SESSION_COOKIE, path="/")
        return models.Unpaired()

    @api.post(
        "/commands",
        response_model=models.CommandResult,
        responses=_doc(401, 403, 422),
        openapi_extra={
            "requestBody": {
                "required": True,
                "content": {
                    "application/json": {
                        "schema": {
                            "type": "object",
                            "required": ["type"],
                            "properties": {"type": {"type": "string", "enum": COMMAND_NAMES}},
                            "additionalProperties": True,
                        }
                    }
                },
            }
        },
    )
    async def post_command(body: models.CommandRequest, session: PairedSession) -> dict[str, Any]:
        """Do something to the twin: the scenario timeline's actions and faults, as JSON."""
        del session
        events = apply(_command(body))
        return {"events": [event_record(e) for e in events]}

    @api.get("/clock", response_model=models.ClockInfo)
    async def get_clock() -> dict[str, Any]:
        """The pace of simulated time."""
        return ctx.clock_info()

    @api.put("/clock", response_model=models.ClockInfo, responses=_doc(401, 403, 422))
    async def put_clock(body: models.ClockChange, session: PairedSession) -> dict[str, Any]:
        """Change the speed, pause or resume."""
        del session
        ctx.live.set_clock(speed=body.speed, paused=body.paused)
        return ctx.clock_info()

    @api.get("/batteries", response_model=list[models.Battery])
    async def get_batteries() -> list[dict[str, Any]]:
        """Each battery: voltage, cells, temperature, SoC, balancer."""
        return views.batteries(ctx.live.twin.state)

    @api.get("/product-info", response_model=models.ProductInfo)
    async def product_info(request: Request) -> dict[str, Any]:
        """Product info; the Instant Readout keys only for a paired client."""
        return ctx.product_info(paired=session_of(request) is not None)

    @api.get("/history")
    async def history() -> dict[str, list[float | None]]:
        """The last hours as columns (t_s and one column per quantity)."""
        return ctx.live.history_columns()

    @api.get("/events")
    async def events(after: int = 0) -> list[dict[str, Any]]:
        """The logged BMS events after sequence number `after`, oldest first."""
        return ctx.live.events_after(after)

    return api


def _check_settings(current: Settings, values: dict[str, Any]) -> None:
    """Refuse (422, naming the setting and its range) what the settings would refuse."""
    try:
        current.changed(**values)
    except SettingsError as error:
        raise RefusedError(422, str(error), setting=error.setting, allowed=error.allowed) from None


def _command(body: models.CommandRequest) -> cmd.Command:
    """The command a request names, built and checked by the command itself."""
    name = body.type
    if name in OWN_ENDPOINT:
        raise RefusedError(422, f"{name}: use {OWN_ENDPOINT[name]}")
    cls = COMMAND_TYPES.get(name)
    if cls is None:
        raise RefusedError(422, f"unknown command {name!r}; allowed: {', '.join(COMMAND_NAMES)}")
    given = dict(body.model_extra or {})
    fields = [f.name for f in dataclasses.fields(cls) if f.init]
    unknown = sorted(given.keys() - set(fields))
    if unknown:
        allowed = ", ".join(fields) or "no fields"
        raise RefusedError(422, f"{name}: unknown field {', '.join(unknown)}; allowed: {allowed}")
    try:
        return cls(**given)
    except CommandError as error:
        raise RefusedError(422, str(error)) from None
    except TypeError:
        missing = [f.name for f in dataclasses.fields(cls) if f.init and f.name not in given]
        raise RefusedError(422, f"{name}: give {', '.join(missing)}") from None


async def _sse(ctx: Context) -> AsyncIterator[dict[str, str]]:
    """One watcher's stream: its feed, as SSE messages, until it leaves or the server stops."""
    with ctx.live.feed() as feed:
        dropped = 0
        while True:
            item = await feed.get()
            if item is None:
                if feed.overflowed:
                    yield {"event": "overflow", "data": json.dumps({"reconnect": True})}
                return
            kind, payload = item
            if feed.dropped_status != dropped:
                dropped = feed.dropped_status
                yield {"event": "dropped", "data": json.dumps({"dropped_status": dropped})}
            yield {"event": kind, "data": payload}
