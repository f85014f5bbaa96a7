"""Shared fixtures of the app's tests: a device over the bundled Figure 1 installation."""

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("sse_starlette")

import httpx

from smartbms.app.context import Context
from smartbms.app.server import build_context, create_app

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
FIGURE_1 = EXAMPLES / "manual-figure-1.toml"


def unset_fuse_scenario(folder: Path) -> Path:
    """Figure 1 with the fuse type not set (the factory state): the app must ask for it."""
    text = FIGURE_1.read_text(encoding="utf-8").replace('fuse_type = "125A"\n', "")
    path = folder / "figure-1-fuse-not-set.toml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def anyio_backend() -> str:
    """The app runs on asyncio."""
    return "asyncio"


@pytest.fixture
def ctx(tmp_path: Path) -> Context:
    """A device with its state in a fresh folder (not running: tests move time themselves)."""
    return build_context(FIGURE_1, state_dir=tmp_path / "state")


@pytest.fixture
async def client(ctx: Context) -> AsyncIterator[httpx.AsyncClient]:
    """An httpx client over the ASGI app, in process."""
    app = create_app(ctx, run_twin=False)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c


async def pair(client: httpx.AsyncClient, pin: str = "000000") -> dict[str, str]:
    """Pair; the headers a change needs."""
    response = await client.post("/api/pair", json={"pin": pin})
    assert response.status_code == 200, response.text
    return {"X-CSRF-Token": response.json()["csrf_token"]}
