"""The Instant Readout codec against Victron's public vectors, and its own round trips."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smartbms.codecs import readout as ro

# --- golden: public vectors (shared/reference/victron-protocols.md §1.7) -------------------------

CONTAINER_VECTORS = [
    # Smart BatteryProtect 0x09 (victron-ble tests, victron-ble-ha-parser tests)
    (
        "1080b0a3093523fadedea38b1af8bcbde91ca8b6dbb60e",
        "fac570d66380b797a5b7543758be00e4",
        0xA3B0,
        0x09,
        0x2335,
        "f90100000000001b051b0500000000",
    ),
    # SmartShunt 500A 0x02 (victron-ble tests, Home Assistant fixtures)
    (
        "100289a302b040af925d09a4d89aa0128bdef48c6298a9",
        "aff4d0995b7d1e176c0c33ecb9e70dcd",
        0xA389,
        0x02,
        0x40B0,
        "ffffe50400000000030000f40140df",
    ),
    # MPPT 75/15 0x01 (victron-ble tests)
    (
        "100242a0016207adceb37b605d7e0ee21b24df5c",
        "adeccb947395801a4dd45a2eaa44bf17",
        0xA042,
        0x01,
        0x0762,
        "04006c050e0003001300 00fe",
    ),
    # Smart Battery Sense 0x02 (victron-ble-ha-parser tests)
    (
        "1000a4a3025f150d8dcbff517f30eb65e76b22a04ac4e1",
        "0da694539597f9cf6c613cde60d7bf05",
        0xA3A4,
        0x02,
        0x155F,
        "ffffc60400007d73feff7fffffffff",
    ),
]


@pytest.mark.req("APP-4")
@pytest.mark.parametrize("vector", CONTAINER_VECTORS)
def test_public_vectors_decrypt_to_their_published_plaintext(
    vector: tuple[str, str, int, int, int, str],
) -> None:
    adv, key, model, record, nonce, plain = vector
    container, plaintext = ro.decrypt(bytes.fromhex(adv), bytes.fromhex(key))
    assert (container.model_id, container.record_type, container.nonce) == (model, record, nonce)
    assert plaintext == bytes.fromhex(plain.replace(" ", ""))
    # Enciphering is the same XOR: the plaintext goes back to the published advertisement.
    again = ro.encode_container(
        model_id=model,
        record_type=record,
        nonce=nonce,
        key=bytes.fromhex(key),
        plaintext=plaintext,
    )
    assert again[2:] == bytes.fromhex(adv)[2:]


def test_public_key_mismatch_vector_is_rejected() -> None:
    adv = bytes.fromhex("100289a302bb01af129087600b9b97bc2c32867c8238da")
    with pytest.raises(ro.KeyMismatchError, match="wrong or old key"):
        ro.decrypt(adv, b"\xff" * 16)


SMART_LITHIUM_VECTOR = "000000060000c7e3f1f8ffffff2c35b5"
LYNX_VECTOR = "0040388b0afaff951555148ccf0200ff"


@pytest.mark.req("APP-4")
def test_smart_lithium_public_payload_decodes_and_encodes_byte_for_byte() -> None:
    record = ro.SmartLithiumRecord.from_payload(bytes.fromhex(SMART_LITHIUM_VECTOR))
    assert record == ro.SmartLithiumRecord(
        bms_flags=0x06000000,
        error_flags=0,
        cell_voltages_v=(3.31, 3.31, 3.31, 3.31),
        battery_voltage_v=13.24,
        balancer="imbalance",
        temperature_c=13.0,
    )
    values = record.values()
    assert values["allowed_to_charge"] is True
    assert values["allowed_to_discharge"] is True
    assert values["prealarm"] is False
    assert record.payload() == bytes.fromhex(SMART_LITHIUM_VECTOR)


@pytest.mark.req("APP-4")
def test_lynx_public_payload_decodes_and_encodes_byte_for_byte() -> None:
    record = ro.LynxBmsRecord.from_payload(bytes.fromhex(LYNX_VECTOR))
    assert record == ro.LynxBmsRecord(
        error_code=0,
        time_to_go_min=14400.0,
        battery_voltage_v=26.99,
        current_a=-0.6,
        io_status=0x1595,
        alarms=0x1455,
        soc_pct=99.5,
        consumed_ah=4.4,
        temperature_c=None,
    )
    values = record.values()
    assert values["allowed_to_charge"] is True
    assert values["allowed_to_discharge"] is True
    assert values["alarm_levels"]["low_cell_voltage"] == "ok"
    assert values["alarm_levels"]["bms_cable"] is None
    assert record.payload() == bytes.fromhex(LYNX_VECTOR)


def test_the_one_public_smart_bms_capture_reads_as_three_voltages() -> None:
    # ESPHome issue #135: a real 12-200's 14-byte plaintext; our layout puts its voltages there.
    record = ro.SmartBmsRecord.from_payload(bytes.fromhex("000000e804e704bf040018251100"))
    assert (record.battery_voltage_v, record.ab_voltage_v, record.system_plus_voltage_v) == (
        12.56,
        12.55,
        12.15,
    )
    assert record.error_code == 0
    assert record.codes == frozenset()


# --- layout details ------------------------------------------------------------------------------


def test_unused_bits_are_ones_and_lengths_are_fixed() -> None:
    assert ro.pack_bits([(0, 4, 0)], 2) == bytes((0xF0, 0xFF))
    bms = ro.SmartBmsRecord(
        error_code=0,
        codes=frozenset(),
        battery_signals=frozenset(),
        battery_voltage_v=0.0,
        ab_voltage_v=0.0,
        system_plus_voltage_v=0.0,
        alternator_current_a=0.0,
        alternator_current_pct=0.0,
        temperature_c=-40.0,
        flags=frozenset(),
    )
    payload = bms.payload()
    assert len(payload) == 14
    assert payload[-1] == 0b1110_0000  # bits 109..111 unused
    assert payload[:13] == bytes(13)


def test_not_available_fields_go_out_as_their_sentinels() -> None:
    lynx = ro.LynxBmsRecord(
        error_code=0,
        time_to_go_min=None,
        battery_voltage_v=None,
        current_a=None,
        io_status=0,
        alarms=0,
        soc_pct=None,
        consumed_ah=None,
        temperature_c=None,
    )
    data = lynx.payload()
    assert ro.read_bits(data, 8, 16) == 0xFFFF
    assert ro.read_bits(data, 24, 16) == 0x7FFF
    assert ro.read_bits(data, 40, 16) == 0x7FFF
    assert ro.read_bits(data, 90, 10) == 0x3FF
    assert ro.read_bits(data, 100, 20) == 0xFFFFF
    assert ro.read_bits(data, 120, 7) == 0x7F
    assert ro.LynxBmsRecord.from_payload(data) == lynx


def test_cells_outside_the_field_are_clamped_to_its_ends() -> None:
    record = ro.SmartLithiumRecord(
        bms_flags=0,
        error_flags=0,
        cell_voltages_v=(2.0, 2.61, 3.85, 4.2),
        battery_voltage_v=12.66,
        balancer="balanced",
        temperature_c=100.0,
    )
    back = ro.SmartLithiumRecord.from_payload(record.payload())
    assert back.cell_voltages_v == (2.60, 2.61, 3.85, 3.86)
    assert back.temperature_c == 86.0
    assert [ro.read_bits(record.payload(), 48 + 7 * n, 7) for n in range(5)] == [
        0,
        1,
        125,
        126,
        127,
    ]


def test_a_shorter_payload_reads_missing_fields_as_not_available() -> None:
    record = ro.SmartBmsRecord.from_payload(bytes.fromhex("000000e8"))
    assert record.battery_voltage_v is None
    assert record.flags == frozenset()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ("1102e8a30e0000aa00", "not a product advertisement"),
        ("1002e8a30e", "more than 8 bytes"),
        ("1002e8a30b0000000011", "not one of 0x05, 0x0A, 0x0E"),
    ],
)
def test_malformed_advertisements_are_refused(data: str, message: str) -> None:
    with pytest.raises(ro.ReadoutError, match=message):
        ro.decode(bytes.fromhex(data), bytes(16))


@pytest.mark.parametrize("text", ["00", "zz" * 16, "00" * 17])
def test_keys_are_32_hex_digits(text: str) -> None:
    with pytest.raises(ro.ReadoutError, match="32 hex digits"):
        ro.parse_key(text)


def test_key_text_may_carry_spaces_and_colons() -> None:
    assert ro.parse_key("00:01 02" + "03" * 13) == bytes((0, 1, 2)) + b"\x03" * 13


def test_unknown_names_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown names"):
        ro.SmartBmsRecord(
            error_code=0,
            codes=frozenset({"E-X99"}),
            battery_signals=frozenset(),
            battery_voltage_v=None,
            ab_voltage_v=None,
            system_plus_voltage_v=None,
            alternator_current_a=None,
            alternator_current_pct=None,
            temperature_c=None,
            flags=frozenset(),
        ).payload()


# --- round trips ---------------------------------------------------------------------------------


def _grid(low: int, high: int, step: float, *, na: bool = True) -> st.SearchStrategy[float | None]:
    decimals = len(str(step).split(".")[1]) if step < 1 else 0
    values = st.integers(low, high).map(lambda n: round(n * step, decimals))
    return st.one_of(st.none(), values) if na else values


CELL = st.one_of(st.none(), st.integers(0, 126).map(lambda n: round(2.60 + n * 0.01, 2)))
TEMPERATURE = st.one_of(st.none(), st.integers(-40, 86).map(float))

SMART_LITHIUM = st.builds(
    ro.SmartLithiumRecord,
    bms_flags=st.integers(0, 2**32 - 1),
    error_flags=st.integers(0, 2**16 - 1),
    cell_voltages_v=st.lists(CELL, max_size=8).map(
        lambda cells: tuple(cells[: max((i + 1 for i, c in enumerate(cells) if c), default=0)])
    ),
    battery_voltage_v=_grid(0, 4094, 0.01),
    balancer=st.one_of(st.none(), st.sampled_from(ro.BALANCER_STATES)),
    temperature_c=TEMPERATURE,
)
LYNX = st.builds(
    ro.LynxBmsRecord,
    error_code=st.integers(0, 255),
    time_to_go_min=_grid(0, 0xFFFE, 1.0),
    battery_voltage_v=_grid(-32768, 32766, 0.01),
    current_a=_grid(-32768, 32766, 0.1),
    io_status=st.integers(0, 2**16 - 1),
    alarms=st.integers(0, 2**18 - 1),
    soc_pct=_grid(0, 1022, 0.1),
    consumed_ah=_grid(0, 0xFFFFE, 0.1),
    temperature_c=TEMPERATURE,
)
SMART_BMS = st.builds(
    ro.SmartBmsRecord,
    error_code=st.integers(0, 255),
    codes=st.frozensets(st.sampled_from(ro.SMART_BMS_CODES)),
    battery_signals=st.frozensets(st.sampled_from(ro.BATTERY_SIGNALS)),
    battery_voltage_v=_grid(0, 0xFFFE, 0.01),
    ab_voltage_v=_grid(0, 0xFFFE, 0.01),
    system_plus_voltage_v=_grid(0, 0xFFFE, 0.01),
    alternator_current_a=_grid(0, 0xFFE, 0.1),
    alternator_current_pct=_grid(0, 126, 1.0),
    temperature_c=TEMPERATURE,
    flags=st.frozensets(st.sampled_from(ro.SMART_BMS_FLAGS)),
)
KEYS = st.binary(min_size=16, max_size=16)
NONCES = st.integers(0, 0xFFFF)


@given(record=st.one_of(SMART_LITHIUM, LYNX, SMART_BMS), key=KEYS, nonce=NONCES)
def test_every_record_survives_encode_then_decode(
    record: ro.AnyRecord, key: bytes, nonce: int
) -> None:
    data = ro.encode(record, model_id=0xA3E8, key=key, nonce=nonce)
    assert data[0] == 0x10
    assert data[4] == record.RECORD_TYPE
    decoded = ro.decode(data, key)
    assert decoded.record == record
    assert decoded.container.nonce == nonce
    assert decoded.as_json() == {"record_type": record.RECORD_TYPE, "values": record.values()}


@given(
    plaintext=st.binary(min_size=1, max_size=16),
    key=KEYS,
    nonce=NONCES,
    model=st.integers(0, 0xFFFF),
)
def test_the_container_round_trips_any_plaintext(
    plaintext: bytes, key: bytes, nonce: int, model: int
) -> None:
    data = ro.encode_container(
        model_id=model, record_type=0x0E, nonce=nonce, key=key, plaintext=plaintext
    )
    assert len(data) == 8 + len(plaintext)
    container, back = ro.decrypt(data, key)
    assert back == plaintext
    assert (container.model_id, container.nonce, container.key_check) == (model, nonce, key[0])


@given(record=SMART_BMS, key=KEYS, nonce=NONCES)
def test_a_key_with_another_first_byte_is_refused(
    record: ro.SmartBmsRecord, key: bytes, nonce: int
) -> None:
    data = ro.encode(record, model_id=0xA3E8, key=key, nonce=nonce)
    other = bytes(((key[0] + 1) % 256,)) + key[1:]
    with pytest.raises(ro.KeyMismatchError):
        ro.decode(data, other)


# --- the documentation is enough -----------------------------------------------------------------


def _decode_as_the_doc_says(data: bytes, key: bytes) -> dict[str, object]:
    """A third party's 0x0E decoder written from docs/instant-readout.md alone (no codec)."""
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes  # noqa: PLC0415

    assert data[0] == 0x10
    assert data[7] == key[0]
    counter = data[5:7] + bytes(14)
    plain = Cipher(algorithms.AES(key), modes.CTR(counter)).decryptor().update(data[8:])
    value = int.from_bytes(plain, "little")

    def field(offset: int, bits: int) -> int:
        return (value >> offset) & ((1 << bits) - 1)

    def scaled(offset: int, bits: int, step: float, add: float = 0.0) -> float | None:
        raw = field(offset, bits)
        return None if raw == (1 << bits) - 1 else round(raw * step + add, 2)

    code_names = ["E-B30", "E-B31", "E-B32", "E-B33", "A-A12", "A-B11", "A-B15", "W-B12"]
    flag_names = [
        "system_on",
        "bms_active",
        "safe_state",
        "ab_enabled",
        "system_plus_charge_allowed",
        "system_plus_discharge_allowed",
        "load_disconnect_high",
        "charge_disconnect_high",
        "prealarm_output_high",
        "prealarm_raised",
        "fuse_type_prompt",
    ]
    return {
        "model": int.from_bytes(data[2:4], "little"),
        "record": data[4],
        "error_code": field(0, 8),
        "codes": [n for i, n in enumerate(code_names) if field(8, 8) >> i & 1],
        "battery_signals": [
            n
            for i, n in enumerate(["charge_withdrawn", "discharge_withdrawn", "prealarm"])
            if field(16, 8) >> i & 1
        ],
        "battery_voltage_v": scaled(24, 16, 0.01),
        "ab_voltage_v": scaled(40, 16, 0.01),
        "system_plus_voltage_v": scaled(56, 16, 0.01),
        "alternator_current_a": scaled(72, 12, 0.1),
        "alternator_current_pct": scaled(84, 7, 1.0),
        "temperature_c": scaled(91, 7, 1.0, -40.0),
        **{n: bool(field(98, 11) >> i & 1) for i, n in enumerate(flag_names)},
        "unused_bits": field(109, 3),
        "length": len(plain),
    }


@given(record=SMART_BMS, key=KEYS, nonce=NONCES)
def test_a_decoder_written_from_the_documentation_reads_our_0x0e(
    record: ro.SmartBmsRecord, key: bytes, nonce: int
) -> None:
    data = ro.encode(record, model_id=ro.MODEL_SMART_BMS_12_200, key=key, nonce=nonce)
    doc = _decode_as_the_doc_says(data, key)
    assert (doc.pop("model"), doc.pop("record"), doc.pop("length")) == (0xA3E8, 0x0E, 14)
    assert doc.pop("unused_bits") == 0b111
    assert doc == record.values()
