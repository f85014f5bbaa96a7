"""Instant Readout keys survive restarts; the BMS key rotates with its PIN (APP-4)."""

import itertools
from pathlib import Path

import pytest

from smartbms.store.device_keys import KEY_BYTES, KeyStore, KeyStoreError


def test_keys_are_made_once_and_kept_across_restarts(tmp_path: Path) -> None:
    first = KeyStore(tmp_path).load_or_create(["bms", "battery1"])
    assert all(len(key) == KEY_BYTES for key in first.values())
    assert first["bms"] != first["battery1"]
    again = KeyStore(tmp_path).load_or_create(["bms", "battery1", "battery2"])
    assert again["bms"] == first["bms"]
    assert again["battery1"] == first["battery1"]
    assert len(again["battery2"]) == KEY_BYTES


@pytest.mark.req("APP-4")
def test_rotating_the_bms_key_increments_its_first_byte_and_keeps_battery_keys(
    tmp_path: Path,
) -> None:
    counter = itertools.count()
    store = KeyStore(tmp_path, random_bytes=lambda n: bytes([next(counter) % 256] * n))
    before = store.load_or_create(["bms", "battery1"])
    new = store.rotate("bms")
    assert new[0] == (before["bms"][0] + 1) % 256
    assert new[1:] != before["bms"][1:]
    after = KeyStore(tmp_path).load()
    assert after["bms"] == new
    assert after["battery1"] == before["battery1"]


def test_first_byte_wraps_at_255(tmp_path: Path) -> None:
    store = KeyStore(tmp_path, random_bytes=lambda n: b"\xff" * n)
    store.load_or_create(["bms"])
    assert store.rotate("bms")[0] == 0


@pytest.mark.parametrize(
    "content",
    [
        b"not json",
        b'{"format": 2, "keys": {}}',
        b'{"format": 1, "keys": {"bms": "00"}}',
        b'{"format": 1, "keys": {"toaster": "' + b"00" * 16 + b'"}}',
    ],
)
def test_a_damaged_file_is_an_error_naming_it_and_is_left_alone(
    tmp_path: Path, content: bytes
) -> None:
    (tmp_path / "keys.json").write_bytes(content)
    with pytest.raises(KeyStoreError, match=r"keys\.json is damaged"):
        KeyStore(tmp_path).load_or_create(["bms"])
    assert (tmp_path / "keys.json").read_bytes() == content


def test_unknown_device_ids_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="no device 'battery6'"):
        KeyStore(tmp_path).load_or_create(["battery6"])
