"""Serving: loopback by default, a warning beyond it, a clear failure when the port is taken."""

import socket

import pytest

from smartbms.app.context import Context
from smartbms.app.server import is_loopback, serve


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.0.0.2", True),
        ("::1", True),
        ("localhost", True),
        ("0.0.0.0", False),  # noqa: S104
        ("::", False),
        ("192.168.1.10", False),
        ("example.org", False),
    ],
)
def test_loopback_addresses(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


def test_beyond_loopback_warns_and_a_taken_port_is_reported(ctx: Context) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as taken:
        taken.bind(("0.0.0.0", 0))  # noqa: S104
        taken.listen()
        port = taken.getsockname()[1]
        said: list[str] = []
        warned: list[str] = []
        started = serve(ctx, host="0.0.0.0", port=port, announce=said.append, warn=warned.append)  # noqa: S104
    assert started is False
    assert said == []  # the address is announced only once it listens
    assert warned
    assert "beyond this machine" in warned[0]
