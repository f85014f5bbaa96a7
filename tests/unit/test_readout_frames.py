"""Frames from the twin: records, keys, nonces, addresses; the broadcaster and its backends."""

import json
import re
from collections.abc import Sequence
from pathlib import Path

import pytest

from smartbms.adapters.readout import (
    BMS_DEVICE,
    Broadcaster,
    CaptureAdvertiser,
    Framer,
    MemoryAdvertiser,
    device_address,
    device_ids,
    make_advertiser,
    rotate_key,
    start_advertising,
)
from smartbms.codecs import readout as ro
from smartbms.store.device_keys import KeyStore
from smartbms.twin import Twin
from smartbms.twin.commands import ChangePin, FactoryReset

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
FIGURE_1 = EXAMPLES / "manual-figure-1.toml"


def _keys(devices: tuple[str, ...]) -> dict[str, bytes]:
    return {
        device: bytes((n * 16 + i) & 0xFF for i in range(16)) for n, device in enumerate(devices)
    }


@pytest.fixture(scope="module")
def twin_at_1h() -> Twin:
    twin = Twin.from_scenario(FIGURE_1)
    twin.advance_to(3600.0)
    return twin


def test_addresses_are_stable_static_random_and_distinct() -> None:
    address = device_address("van", "bms")
    assert re.fullmatch(r"([0-9A-F]{2}:){5}[0-9A-F]{2}", address)
    assert int(address[:2], 16) & 0xC0 == 0xC0
    assert device_address("van", "bms") == address
    others = {device_address("van", d) for d in ("battery1", "battery2")}
    assert address not in others
    assert len(others) == 2
    assert device_address("boat", "bms") != address


@pytest.mark.req("APP-4")
def test_the_bms_frame_carries_the_twins_readings(twin_at_1h: Twin) -> None:
    state = twin_at_1h.state
    framer = Framer("van", _keys(device_ids(state)))
    frames = framer.frames(state)
    assert [f.device for f in frames] == ["bms", *(f"battery{b.number}" for b in state.batteries)]
    bms = frames[0]
    assert (bms.record_type, bms.model_id) == (0x0E, 0xA3E8)
    values = ro.decode(bms.manufacturer_data, bms.key).record.values()
    assert values == bms.record.values()
    assert values["battery_voltage_v"] == pytest.approx(state.readings.bank_voltage_v, abs=0.005)
    assert values["ab_voltage_v"] == pytest.approx(state.readings.ab_voltage_v, abs=0.005)
    assert values["system_plus_voltage_v"] == pytest.approx(
        state.readings.system_plus_voltage_v, abs=0.005
    )
    assert values["temperature_c"] == pytest.approx(state.bms_temperature_c, abs=0.5)
    assert values["system_on"] is state.outputs.system_on
    assert values["codes"] == sorted(c.value for c in state.outputs.codes)
    as_json = bms.as_json()
    assert as_json["key"] == bms.key.hex()
    assert as_json["manufacturer_data_hex"].startswith("10")
    assert as_json["record_type"] == 14


@pytest.mark.req("APP-4")
def test_each_battery_frame_carries_its_cells(twin_at_1h: Twin) -> None:
    state = twin_at_1h.state
    frames = Framer("van", _keys(device_ids(state))).frames(state)
    for battery, frame in zip(state.batteries, frames[1:], strict=True):
        assert frame.record_type == 0x05
        values = ro.decode(frame.manufacturer_data, frame.key).record.values()
        assert values["cell_voltages_v"] == pytest.approx(list(battery.cell_voltages_v), abs=0.005)
        assert values["battery_voltage_v"] == pytest.approx(battery.voltage_v, abs=0.005)
        assert values["temperature_c"] == pytest.approx(battery.temperature_c, abs=0.5)
        assert values["allowed_to_charge"] is battery.allowed_to_charge
        assert values["balancer"] == battery.balancer


def test_the_lynx_mode_sends_what_the_12_200_cannot_measure_as_not_available(
    twin_at_1h: Twin,
) -> None:
    state = twin_at_1h.state
    bms = Framer("van", _keys(device_ids(state)), record=0x0A).frames(state)[0]
    values = ro.decode(bms.manufacturer_data, bms.key).record.values()
    assert bms.record_type == 0x0A
    assert values["battery_voltage_v"] == pytest.approx(state.readings.bank_voltage_v, abs=0.005)
    for field in ("current_a", "soc_pct", "consumed_ah", "time_to_go_min", "temperature_c"):
        assert values[field] is None, field
    assert values["allowed_to_charge"] is True
    assert values["allowed_to_discharge"] is True
    assert values["alarm_levels"]["low_cell_voltage"] == "ok"


def test_only_0x0e_and_0x0a_are_bms_records() -> None:
    with pytest.raises(ValueError, match="0x0E or 0x0A"):
        Framer("van", {}, record=0x05)


def test_nonces_change_every_frame_and_repeat_with_the_seed(twin_at_1h: Twin) -> None:
    state = twin_at_1h.state
    keys = _keys(device_ids(state))
    a, b = Framer("van", keys, seed=7), Framer("van", keys, seed=7)
    run_a = [f.manufacturer_data for _ in range(3) for f in a.frames(state)]
    run_b = [f.manufacturer_data for _ in range(3) for f in b.frames(state)]
    assert run_a == run_b
    nonces = [ro.parse_container(d).nonce for d in run_a[:: len(keys)]]
    assert len(set(nonces)) == 3
    assert nonces[1] == (nonces[0] + 1) & 0xFFFF
    first_7 = Framer("van", keys, seed=7).frames(state)[0].nonce
    first_8 = Framer("van", keys, seed=8).frames(state)[0].nonce
    assert first_7 == nonces[0]
    assert first_8 != first_7  # another seed starts elsewhere


def test_a_missing_key_is_named() -> None:
    with pytest.raises(KeyError, match="no advertisement key for 'bms'"):
        Framer("van", {}).key("bms")


@pytest.mark.req("APP-4")
def test_a_pin_change_rotates_the_bms_key_and_the_old_key_no_longer_decrypts() -> None:
    twin = Twin.from_scenario(FIGURE_1)
    memory = MemoryAdvertiser()
    keys = _keys(device_ids(twin.state))
    broadcaster = Broadcaster(twin, memory, keys)
    old_key = keys[BMS_DEVICE]
    twin.advance_to(10.0)
    twin.apply(ChangePin(new_pin="654321"))
    new_frame = memory.latest[BMS_DEVICE]
    assert new_frame.key == rotate_key(old_key)
    assert new_frame.key[0] == (old_key[0] + 1) & 0xFF
    assert new_frame.key[1:] == old_key[1:]
    with pytest.raises(ro.KeyMismatchError):
        ro.decode(new_frame.manufacturer_data, old_key)
    # Even past the key-check byte, the old key yields other bytes than the record.
    container = ro.parse_container(new_frame.manufacturer_data)
    wrong = ro.aes_ctr(old_key, container.nonce, container.ciphertext)
    assert wrong != new_frame.record.payload()
    assert ro.decode(new_frame.manufacturer_data, new_frame.key).record == new_frame.record
    battery = memory.latest["battery1"]
    assert battery.key == keys["battery1"]  # only the BMS key rotates with its PIN
    broadcaster.close()


class _Store:
    """A stand-in for `KeyStore`: creates keys on first use, rotates by the first byte."""

    def __init__(self) -> None:
        self.keys: dict[str, bytes] = {}
        self.rotated: list[str] = []

    def load_or_create(self, device_ids: Sequence[str]) -> dict[str, bytes]:
        for n, device in enumerate(device_ids):
            self.keys.setdefault(device, bytes([n]) * 16)
        return dict(self.keys)

    def rotate(self, device_id: str) -> bytes:
        self.rotated.append(device_id)
        self.keys[device_id] = rotate_key(self.keys[device_id])
        return self.keys[device_id]


def test_a_key_store_gives_the_keys_and_rotates_the_bms_key() -> None:
    twin = Twin.from_scenario(FIGURE_1)
    store = _Store()
    memory = MemoryAdvertiser()
    broadcaster = Broadcaster(twin, memory, store)
    assert set(store.keys) == set(device_ids(twin.state))
    twin.apply(ChangePin(new_pin="111111"))
    assert store.rotated == [BMS_DEVICE]
    assert memory.latest[BMS_DEVICE].key == store.keys[BMS_DEVICE]
    broadcaster.close()


def test_the_broadcaster_sends_once_per_interval_and_stops_on_close() -> None:
    twin = Twin.from_scenario(FIGURE_1)
    memory = MemoryAdvertiser()
    broadcaster = Broadcaster(twin, memory, _keys(device_ids(twin.state)), interval_s=5.0)
    devices = len(device_ids(twin.state))
    assert len(memory.history) == devices  # the first frames at once
    twin.advance_to(2.0)
    sent = len(memory.history)
    twin.advance_to(2.5)
    assert len(memory.history) == sent  # no events, within the interval: nothing new
    twin.advance_to(10.0)
    assert len(memory.history) == sent + devices
    broadcaster()
    assert memory.closed
    twin.advance_to(100.0)
    assert len(memory.history) == sent + devices


def test_the_capture_backend_writes_json_lines(tmp_path: Path) -> None:
    twin = Twin.from_scenario(FIGURE_1)
    path = tmp_path / "capture.jsonl"
    keys = _keys(device_ids(twin.state))
    handle = start_advertising(twin, f"capture:{path}", keys, record=0x0A)
    twin.advance_to(3.0)
    handle.close()
    lines = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    assert {line["device"] for line in lines} == set(keys)
    assert set(lines[0]) == {"time_s", "device", "address", "record", "hex"}
    assert lines[0]["record"] == 10
    for line in lines:
        decoded = ro.decode(bytes.fromhex(line["hex"]), keys[line["device"]])
        assert decoded.container.record_type == line["record"]
    assert isinstance(handle.advertiser, CaptureAdvertiser)


@pytest.mark.parametrize("spec", ["radio", "capture:", "memory:x", "bluetooth"])
def test_unknown_advertiser_specs_name_the_accepted_forms(spec: str) -> None:
    with pytest.raises(ValueError, match="bluez, bluez:ADAPTER, capture:FILE or memory"):
        make_advertiser(spec)


@pytest.mark.req("APP-4")
def test_with_the_key_store_a_pin_change_stores_a_new_bms_key(tmp_path: Path) -> None:
    twin = Twin.from_scenario(FIGURE_1)
    store = KeyStore(tmp_path)
    memory = MemoryAdvertiser()
    broadcaster = Broadcaster(twin, memory, store)
    old = store.load()
    assert memory.latest[BMS_DEVICE].key == old[BMS_DEVICE]
    twin.apply(ChangePin(new_pin="222222"))
    frame = memory.latest[BMS_DEVICE]
    assert KeyStore(tmp_path).load()[BMS_DEVICE] == frame.key  # kept across restarts
    assert frame.key[0] == (old[BMS_DEVICE][0] + 1) % 256
    with pytest.raises(ro.KeyMismatchError):
        ro.decode(frame.manufacturer_data, old[BMS_DEVICE])
    assert memory.latest["battery1"].key == old["battery1"]
    broadcaster.close()


def test_a_factory_reset_rotates_the_bms_key_too() -> None:
    twin = Twin.from_scenario(FIGURE_1)
    memory = MemoryAdvertiser()
    keys = _keys(device_ids(twin.state))
    broadcaster = Broadcaster(twin, memory, keys)
    twin.apply(FactoryReset())
    assert memory.latest[BMS_DEVICE].key == rotate_key(keys[BMS_DEVICE])
    broadcaster.close()
