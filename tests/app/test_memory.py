"""The state folder: settings, PIN and keys survive a restart; a damaged file is E-B31."""

from pathlib import Path

import pytest

from smartbms.app.memory import SETTINGS_FILE
from smartbms.app.server import build_context
from smartbms.core.codes import Code
from smartbms.store.device_keys import KeyStore
from smartbms.twin import commands as cmd
from tests.app.conftest import FIGURE_1


@pytest.mark.req("CFG-3")
def test_a_restart_keeps_settings_pin_soft_switch_and_keys(tmp_path: Path) -> None:
    state = tmp_path / "state"
    first = build_context(FIGURE_1, state_dir=state)
    assert first.memory is not None
    keys = dict(first.memory.keys)
    first.live.apply(cmd.ChangeSettings((("charge_limit_v", 14.6),), pin="000000"))
    first.live.apply(cmd.ChangePin(new_pin="007007", old_pin="000000"))
    first.live.apply(cmd.SoftSwitch(on=False))
    rotated = first.memory.keys["bms"]
    assert rotated[0] == (keys["bms"][0] + 1) % 256
    second = build_context(FIGURE_1, state_dir=state)
    settings = second.live.twin.state.settings
    assert settings.charge_limit_v == 14.6
    assert settings.pin == "007007"
    assert settings.soft_switch_on is False
    assert second.live.twin.state.outputs.system_plus_discharge_allowed is False
    assert second.memory is not None
    assert second.memory.keys["bms"] == rotated != keys["bms"]
    assert {k: v for k, v in second.memory.keys.items() if k != "bms"} == {
        k: v for k, v in keys.items() if k != "bms"
    }


def test_the_first_start_remembers_the_scenario_settings(tmp_path: Path) -> None:
    ctx = build_context(FIGURE_1, state_dir=tmp_path)
    assert (tmp_path / SETTINGS_FILE).is_file()
    assert ctx.memory is not None
    assert ctx.memory.store.load().settings == ctx.live.twin.state.settings
    assert set(ctx.memory.keys) == {"bms", "battery1", "battery2"}
    assert all(len(key) == 16 for key in ctx.memory.keys.values())


@pytest.mark.req("ERR-2")
def test_a_corrupted_settings_file_raises_e_b31_and_stays_until_a_factory_reset(
    tmp_path: Path,
) -> None:
    build_context(FIGURE_1, state_dir=tmp_path)
    path = tmp_path / SETTINGS_FILE
    damaged = bytearray(path.read_bytes())
    damaged[40] ^= 0x01
    path.write_bytes(bytes(damaged))
    ctx = build_context(FIGURE_1, state_dir=tmp_path)
    ctx.live.twin.advance_to(1.0)
    assert Code.E_B31 in ctx.live.twin.state.outputs.codes
    ctx.live.apply(cmd.SoftSwitch(on=False))  # a change while corrupted is not written
    assert path.read_bytes() == bytes(damaged)
    ctx.live.apply(cmd.FactoryReset(pin="000000"))
    assert ctx.memory is not None
    assert ctx.memory.store.load().ok


@pytest.mark.req("APP-4")
def test_a_broadcaster_on_the_remembered_keys_sees_one_rotation_per_pin_change(
    tmp_path: Path,
) -> None:
    readout = pytest.importorskip("smartbms.adapters.readout")
    ctx = build_context(FIGURE_1, state_dir=tmp_path)
    assert ctx.memory is not None
    before = ctx.memory.keys["bms"]
    advertiser = readout.MemoryAdvertiser()
    broadcaster = readout.Broadcaster(ctx.live.twin, advertiser, ctx.memory.key_source())
    ctx.live.apply(cmd.ChangePin(new_pin="111111", old_pin="000000"))
    after = ctx.memory.keys["bms"]
    assert after[0] == (before[0] + 1) % 256
    assert broadcaster.framer.key("bms") == after
    assert KeyStore(tmp_path).load()["bms"] == after
    ctx.live.apply(cmd.FactoryReset(pin="111111"))
    assert ctx.memory.keys["bms"][0] == (before[0] + 2) % 256
    assert broadcaster.framer.key("bms") == ctx.memory.keys["bms"]
    broadcaster.close()
