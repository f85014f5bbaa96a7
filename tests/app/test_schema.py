"""Schemathesis over `/openapi.json`, in process: no server errors, every status documented.

Every generated request is sent by a freshly paired client (session cookie and CSRF token), so
the changing endpoints are explored past their 401/403, with whatever PIN the device has by
then (a generated PIN change or factory reset changes it). The SSE stream never ends and is
tested over TCP instead (test_stream.py).
"""

from typing import Any

import pytest

schemathesis = pytest.importorskip("schemathesis")

from hypothesis import HealthCheck, settings  # noqa: E402
from schemathesis import checks  # noqa: E402

from smartbms.app.security import SESSION_COOKIE, Sessions  # noqa: E402
from smartbms.app.server import build_context, create_app  # noqa: E402
from tests.app.conftest import FIGURE_1  # noqa: E402

CTX = build_context(FIGURE_1)
APP = create_app(CTX, run_twin=False)
SCHEMA = schemathesis.openapi.from_asgi("/openapi.json", APP).exclude(path="/api/stream")
CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_schema_conformance,
]


def _paired() -> tuple[dict[str, str], dict[str, str]]:
    """Headers and cookies of a new paired session (the lockout of earlier cases forgotten)."""
    CTX.sessions = Sessions()
    pin = CTX.live.twin.state.settings.pin
    session = CTX.sessions.pair(pin, pin)
    return {"X-CSRF-Token": session.csrf_token}, {SESSION_COOKIE: session.token}


@SCHEMA.parametrize()  # type: ignore[untyped-decorator]
@settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
def test_api_has_no_server_errors_and_documents_every_status(case: Any) -> None:
    headers, cookies = _paired()
    if case.headers:
        headers = {**case.headers, **headers}
    case.call_and_validate(headers=headers, cookies=cookies, checks=CHECKS)
