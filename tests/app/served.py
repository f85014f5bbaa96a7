"""A real uvicorn server of the app on a free loopback port, in a thread (for SSE and load tests).

httpx's in-process transport does not end an endless stream, so streams are tested over TCP.
"""

import contextlib
import signal
import socket
import threading
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx

from smartbms.app.context import Context
from smartbms.app.server import make_server


def free_port() -> int:
    """A TCP port free on the loopback interface now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def served(ctx: Context) -> Iterator[str]:
    """Serve `ctx` until the block ends (then stop it the way Ctrl-C does); yields the base URL."""
    port = free_port()
    server = make_server(ctx, host="127.0.0.1", port=port)
    server.install_signal_handlers = lambda: None  # not the main thread
    thread = threading.Thread(target=server.run, name="uvicorn", daemon=True)
    thread.start()
    deadline = time.monotonic() + 10.0
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            msg = "uvicorn did not start"
            raise RuntimeError(msg)
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.handle_exit(signal.SIGINT, None)
        thread.join(10.0)
        assert not thread.is_alive(), "uvicorn did not shut down"


async def sse_messages(response: httpx.Response) -> AsyncIterator[tuple[str, str]]:
    """(event, data) of each SSE message of a streaming response."""
    kind, data = "message", list[str]()
    async for line in response.aiter_lines():
        if not line:
            if data:
                yield kind, "\n".join(data)
            kind, data = "message", []
        elif line.startswith("event:"):
            kind = line[6:].strip()
        elif line.startswith("data:"):
            data.append(line[5:].removeprefix(" "))


def stream_headers() -> dict[str, Any]:
    """What an EventSource sends."""
    return {"Accept": "text/event-stream", "Cache-Control": "no-cache"}
