"""Pairing sessions, the PIN lockout and CSRF tokens (CFG-5).

Pairing with the PIN opens a session: a random token in an HttpOnly, SameSite=Strict cookie, and
a second random token, the CSRF token, that the page sends as `X-CSRF-Token` with every change.
A change needs both. Changing or resetting the PIN ends every session, as the device drops its
connection: the user pairs again with the new PIN.

Wrong PINs lock pairing out for a growing time: after `FREE_ATTEMPTS` wrong PINs in a row each
further one locks for `LOCKOUT_BASE_S` doubled per attempt, up to `LOCKOUT_MAX_S`. The lockout
is the device's, not a client's (a BLE device does not know who asks), and a right PIN resets it.
"""

import dataclasses
import hmac
import math
import secrets
import time
from collections.abc import Callable

SESSION_COOKIE = "smartbms_session"
CSRF_HEADER = "X-CSRF-Token"
FREE_ATTEMPTS = 3
"""Wrong PINs in a row before the lockout starts."""
LOCKOUT_BASE_S = 5.0
LOCKOUT_MAX_S = 3600.0
MAX_SESSIONS = 64
"""Beyond this, the oldest session is forgotten."""


@dataclasses.dataclass(frozen=True, slots=True)
class Session:
    """A paired client: the PIN it paired with (the twin checks it again) and its CSRF token."""

    token: str
    csrf_token: str
    pin: str


class LockedOutError(Exception):
    """Pairing is locked; retry after `retry_after_s`."""

    def __init__(self, retry_after_s: float) -> None:
        self.retry_after_s = retry_after_s
        super().__init__(f"too many wrong PINs: try again in {math.ceil(retry_after_s)} s")


class WrongPinError(Exception):
    """The PIN did not match."""


class Sessions:
    """The paired sessions and the lockout of one device."""

    def __init__(self, *, wall_time: Callable[[], float] = time.monotonic) -> None:
        self._wall_time = wall_time
        self._sessions: dict[str, Session] = {}
        self._failures = 0
        self._locked_until_s = -math.inf

    def retry_after_s(self) -> float:
        """Seconds until pairing is allowed again (0: now)."""
        return max(0.0, self._locked_until_s - self._wall_time())

    def pair(self, pin: str, device_pin: str) -> Session:
        """A new session for the right PIN; `WrongPinError` or `LockedOutError` otherwise."""
        wait_s = self.retry_after_s()
        if wait_s > 0.0:
            raise LockedOutError(wait_s)
        if not hmac.compare_digest(pin.encode(), device_pin.encode()):
            self._failures += 1
            beyond = self._failures - FREE_ATTEMPTS
            if beyond >= 0:
                lock_s = min(LOCKOUT_BASE_S * 2.0**beyond, LOCKOUT_MAX_S)
                self._locked_until_s = self._wall_time() + lock_s
            raise WrongPinError
        self._failures = 0
        session = Session(secrets.token_urlsafe(32), secrets.token_urlsafe(32), pin)
        if len(self._sessions) >= MAX_SESSIONS:
            del self._sessions[next(iter(self._sessions))]
        self._sessions[session.token] = session
        return session

    def find(self, token: str | None) -> Session | None:
        """The session of a cookie's token, if it is open."""
        if not token:
            return None
        return self._sessions.get(token)

    def csrf_ok(self, session: Session, header: str | None) -> bool:
        """The request carries the session's CSRF token."""
        return header is not None and hmac.compare_digest(
            header.encode(), session.csrf_token.encode()
        )

    def end(self, session: Session) -> None:
        """Forget one session (the client disconnected)."""
        self._sessions.pop(session.token, None)

    def end_all(self) -> None:
        """Forget every session (the PIN changed)."""
        self._sessions.clear()
