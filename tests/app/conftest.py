"""Shared fixtures of the app's tests: a device over the bundled Figure 1 installation."""

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("sse_starlette")

import httpx

try:  # TEMPORARY until the lead's smartbms.store.device_keys lands on main
    import smartbms.store.device_keys  # noqa: F401
except ModuleNotFoundError:
    import json
    import os
    import sys
    import types

    class _KeyStore:
        def __init__(self, folder: Path) -> None:
            self._path = folder / "keys.json"

        def _read(self) -> dict[str, bytes]:
            if not self._path.exists():
                return {}
            return {k: bytes.fromhex(v) for k, v in json.loads(self._path.read_text()).items()}

        def _write(self, keys: dict[str, bytes]) -> None:
            self._path.write_text(json.dumps({k: v.hex() for k, v in keys.items()}))

        def load_or_create(self, ids: object) -> dict[str, bytes]:
            keys = self._read()
            for i in ids:  # type: ignore[attr-defined]
                keys.setdefault(i, os.urandom(16))
            self._write(keys)
            return keys

        def rotate(self, device_id: str) -> bytes:
            keys = self._read()
            keys[device_id] = bytes([(keys[device_id][0] + 1) % 256]) + os.urandom(15)
            self._write(keys)
            return keys[device_id]

    _fake = types.ModuleType("smartbms.store.device_keys")
    _fake.KeyStore = _KeyStore  # type: ignore[attr-defined]
    sys.modules["smartbms.store.device_keys"] = _fake

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
