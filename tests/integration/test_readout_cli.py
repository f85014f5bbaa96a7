"""`smartbms readout show` and `smartbms readout decode` (issue 17, part 4)."""

import json
from pathlib import Path
from typing import Any

import pytest

from smartbms.cli import main
from smartbms.cli.readout import parse_time_s
from smartbms.store.device_keys import KeyStore

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
FIGURE_1 = str(EXAMPLES / "manual-figure-1.toml")

pytestmark = pytest.mark.req("APP-4")


def _show(capsys: pytest.CaptureFixture[str], *args: str) -> list[dict[str, Any]]:
    assert main(["readout", "show", FIGURE_1, *args, "--json"]) == 0
    listing = json.loads(capsys.readouterr().out)
    assert isinstance(listing, list)
    return listing


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("5400", 5400.0), ("90min", 5400.0), ("1h", 3600.0), ("1.5h", 5400.0), ("2d", 172800.0)],
)
def test_times_take_seconds_or_a_unit(text: str, seconds: float) -> None:
    assert parse_time_s(text) == seconds


def test_show_prints_every_devices_advertisement_in_the_documented_shape(
    capsys: pytest.CaptureFixture[str],
) -> None:
    listing = _show(capsys, "--at", "90min")
    assert [entry["device"] for entry in listing] == ["bms", "battery1", "battery2"]
    for entry in listing:
        assert set(entry) == {
            "device",
            "address",
            "key",
            "record_type",
            "manufacturer_data_hex",
            "values",
        }
        assert len(entry["key"]) == 32
        assert entry["manufacturer_data_hex"].startswith("10")
        assert isinstance(entry["values"]["battery_voltage_v"], float)
        assert "temperature_c" in entry["values"]
    assert listing[0]["record_type"] == 14
    assert all(entry["record_type"] == 5 for entry in listing[1:])
    assert all(len(entry["values"]["cell_voltages_v"]) == 4 for entry in listing[1:])


def test_show_in_lynx_mode_sends_0x0a_with_not_available_fields(
    capsys: pytest.CaptureFixture[str],
) -> None:
    bms = _show(capsys, "--at", "1h", "--record", "0x0A")[0]
    assert bms["record_type"] == 10
    assert bms["values"]["temperature_c"] is None
    assert bms["values"]["current_a"] is None
    assert bms["values"]["soc_pct"] is None


def test_show_is_reproducible_and_frames_differ_by_nonce(
    capsys: pytest.CaptureFixture[str],
) -> None:
    first = _show(capsys, "--at", "60")
    assert _show(capsys, "--at", "60") == first
    other_seed = _show(capsys, "--at", "60", "--seed", "3")
    assert other_seed[0]["manufacturer_data_hex"] != first[0]["manufacturer_data_hex"]
    assert other_seed[0]["values"] == first[0]["values"]


def test_decode_reads_what_show_printed(capsys: pytest.CaptureFixture[str]) -> None:
    for entry in _show(capsys, "--at", "2h", "--record", "0x0A"):
        code = main(
            ["readout", "decode", entry["manufacturer_data_hex"], "--key", entry["key"], "--json"]
        )
        assert code == 0
        decoded = json.loads(capsys.readouterr().out)
        assert decoded == {"record_type": entry["record_type"], "values": entry["values"]}


def test_decode_refuses_a_wrong_key(capsys: pytest.CaptureFixture[str]) -> None:
    bms = _show(capsys, "--at", "0")[0]
    wrong = f"{(int(bms['key'][:2], 16) + 1) % 256:02x}" + bms["key"][2:]
    assert main(["readout", "decode", bms["manufacturer_data_hex"], "--key", wrong]) == 1
    assert "wrong or old key" in capsys.readouterr().err


def test_the_plain_listing_names_each_device(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["readout", "show", FIGURE_1, "--at", "10min"]) == 0
    out = capsys.readouterr().out
    assert "bms" in out
    assert "battery2" in out
    assert "record 0x0E" in out
    assert main(["readout", "decode", "10" + "00" * 10, "--key", "00" * 16]) == 2


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["show", FIGURE_1, "--at", "soon"], "is not a time"),
        (["show", FIGURE_1, "--at", "60", "--record", "0x05"], "0x0E"),
        (["show", FIGURE_1, "--at", "30d"], "outside the scenario"),
        (["decode", "zz", "--key", "00" * 16], "is not hex"),
        (["decode", "1002", "--key", "00"], "32 hex digits"),
    ],
)
def test_wrong_input_is_one_clear_line(
    capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    assert main(["readout", *args]) == 2
    assert message in capsys.readouterr().err


def test_show_uses_and_keeps_the_key_store(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    first = _show(capsys, "--at", "0", "--keys", str(tmp_path))
    stored = KeyStore(tmp_path).load()
    assert {entry["device"]: entry["key"] for entry in first} == {
        device: key.hex() for device, key in stored.items()
    }
    again = _show(capsys, "--at", "60", "--keys", str(tmp_path))
    assert [entry["key"] for entry in again] == [entry["key"] for entry in first]


def test_a_damaged_key_store_is_one_clear_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    (tmp_path / "keys.json").write_text("{", encoding="utf-8")
    assert main(["readout", "show", FIGURE_1, "--at", "0", "--keys", str(tmp_path)]) == 2
    assert "damaged" in capsys.readouterr().err
