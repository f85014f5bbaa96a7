"""`serve --advertise`: the live device broadcasts Instant Readout frames (issue 17 part 4)."""

import asyncio
import json
from pathlib import Path

import pytest

from smartbms.app.server import build_context, create_app
from smartbms.cli import main
from tests.app.conftest import FIGURE_1

pytestmark = pytest.mark.anyio


@pytest.mark.req("APP-4")
async def test_a_served_device_broadcasts_every_device_with_the_stored_keys(tmp_path: Path) -> None:
    capture = tmp_path / "air.jsonl"
    ctx = build_context(FIGURE_1, speed=50.0, state_dir=tmp_path / "state", tick_s=0.05)
    ctx.advertise, ctx.advertise_record = f"capture:{capture}", 0x0A
    app = create_app(ctx)
    async with app.router.lifespan_context(app):
        await asyncio.sleep(2.5)
    frames = [json.loads(line) for line in capture.read_text().splitlines()]
    devices = {frame["device"] for frame in frames}
    assert devices == {"bms", "battery1", "battery2"}  # Figure 1: two batteries
    assert {frame["record"] for frame in frames if frame["device"] == "bms"} == {0x0A}
    stored = json.loads((tmp_path / "state" / "keys.json").read_text())["keys"]
    for frame in frames:  # the key-check byte is the stored key's first byte
        assert frame["hex"][14:16] == stored[frame["device"]][:2]


def test_an_unknown_advertiser_is_a_usage_error_before_anything_is_written(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    state = tmp_path / "state"
    assert main(["serve", "--advertise", "radio", "--state", str(state)]) == 2
    assert not state.exists()
    assert "is not one of: bluez, bluez:ADAPTER, capture:FILE" in capsys.readouterr().err
