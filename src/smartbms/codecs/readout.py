"""Victron Instant Readout advertisements: the container and the three records the twin sends.

An advertisement is the manufacturer data after Victron's company id 0x02E1::

    10 | 02 | model id (LE16) | record type | nonce (LE16) | key[0] | AES-128-CTR(payload)

The payload is a bit field read LSB first across a little-endian byte string; the bits after
the last field are set to 1. The counter block is the nonce (LE) followed by 14 zero bytes, so
every record (at most 16 bytes) uses one keystream block. Records:

- 0x05 SmartLithium (`SmartLithiumRecord`): Victron's public layout, one per battery;
- 0x0A Lynx Smart BMS (`LynxBmsRecord`): Victron's public layout, the compatible mode for today's
  decoders; the fields a Smart BMS 12-200 cannot measure go out as not-available;
- 0x0E Smart BMS (`SmartBmsRecord`): Victron's layout is not public, so this one is ours,
  documented field by field in docs/instant-readout.md.

Pure: no I/O; `cryptography` is imported when a payload is enciphered.
"""

import dataclasses
import math
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar, Final, Protocol, TypeAlias

VICTRON_COMPANY_ID: Final = 0x02E1
PRODUCT_ADVERTISEMENT: Final = 0x10
"""First byte of every Instant Readout advertisement."""
STATE_BYTE: Final = 0x02
"""Byte 1: meaning not public; 0x02 is what SmartShunts and MPPTs send."""
RECORD_SMART_LITHIUM: Final = 0x05
RECORD_LYNX_BMS: Final = 0x0A
RECORD_SMART_BMS: Final = 0x0E
MODEL_SMART_BMS_12_200: Final = 0xA3E8
KEY_BYTES: Final = 16
HEADER_BYTES: Final = 8
"""Prefix, state byte, model id, record type, nonce and the key-check byte."""

BALANCER_STATES: Final = ("unknown", "balanced", "balancing", "imbalance")
"""SmartLithium balancer status 0..3 (0: the battery has not yet been charged to 100 %)."""

# App. B codes in the order of the 0x0E record's code bits (bit 0 first).
SMART_BMS_CODES: Final = ("E-B30", "E-B31", "E-B32", "E-B33", "A-A12", "A-B11", "A-B15", "W-B12")
ERROR_NUMBERS: Final = {"E-B30": 30, "E-B31": 31, "E-B32": 32, "E-B33": 33}
"""E- codes as VE_REG_BMS_ERROR numbers: 30 calibration lost, 31 settings invalid, 32 BMS cable,
33 reference voltage (the same meaning in Victron's table)."""

# SmartLithium BMS flag bits (VE_REG_BMS_FLAGs) the twin sets.
FLAG_WARN_UNDER_VOLTAGE: Final = 1 << 12
FLAG_ALLOWED_TO_CHARGE: Final = 1 << 25
FLAG_ALLOWED_TO_DISCHARGE: Final = 1 << 26

# 0x0A IO status and warnings/alarms: 2-bit fields, 0 not available, 1 OK/yes, 2 warning/no,
# 3 alarm (as Victron's GX decoder reads them).
LYNX_IO_FIELDS: Final = {"allow_to_charge": 2, "allow_to_discharge": 4, "external_relay": 6}
LYNX_ALARM_FIELDS: Final = {
    "low_cell_voltage": 0,
    "high_current": 2,
    "high_internal_temperature": 4,
    "contactor": 6,
    "bms_cable": 8,
    "load_disconnect": 10,
    "low_soc": 12,
    "high_temperature": 16,
}
ALARM_LEVELS: Final = (None, "ok", "warning", "alarm")


class ReadoutError(ValueError):
    """Bytes that are not an advertisement this codec reads."""


class KeyMismatchError(ReadoutError):
    """The advertisement's key-check byte is not the key's first byte: a wrong or old key."""


# --- bit fields ----------------------------------------------------------------------------------


def pack_bits(fields: Sequence[tuple[int, int, int]], length: int) -> bytes:
    """`(offset, bits, raw)` fields, LSB first, into `length` bytes; every other bit is 1."""
    used = 0
    value = 0
    for offset, bits, raw in fields:
        mask = (1 << bits) - 1
        if not 0 <= raw <= mask:
            msg = f"{raw} does not fit in {bits} bits"
            raise ValueError(msg)
        value |= raw << offset
        used |= mask << offset
    value |= ((1 << (8 * length)) - 1) & ~used
    return value.to_bytes(length, "little")


def read_bits(data: bytes, offset: int, bits: int) -> int | None:
    """The unsigned field at `offset`; None when the payload ends before it (a shorter record)."""
    if offset + bits > 8 * len(data):
        return None
    return (int.from_bytes(data, "little") >> offset) & ((1 << bits) - 1)


def quantize(
    value: float | None, step: float, bits: int, *, offset: float = 0.0, signed: bool = False
) -> int:
    """A value as a field's raw integer, clamped to the field; None or NaN is not-available.

    Not-available is all ones (unsigned) or the largest positive value (signed), so the largest
    valid reading is one below it.
    """
    top = (1 << (bits - 1)) - 1 if signed else (1 << bits) - 1
    if value is None or math.isnan(value):
        return top
    low = -(1 << (bits - 1)) if signed else 0
    raw = max(low, min(top - 1, round((value - offset) / step)))
    return raw & ((1 << bits) - 1)


def dequantize(
    raw: int | None, step: float, bits: int, *, offset: float = 0.0, signed: bool = False
) -> float | None:
    """A field's raw integer as a value (rounded to the step's decimals); None if not-available."""
    if raw is None:
        return None
    if signed:
        if raw == (1 << (bits - 1)) - 1:
            return None
        if raw >= 1 << (bits - 1):
            raw -= 1 << bits
    elif raw == (1 << bits) - 1:
        return None
    decimals = max(0, -math.floor(math.log10(step) + 1e-9))
    return round(raw * step + offset, decimals)


# --- records -------------------------------------------------------------------------------------


class Record(Protocol):
    """What every record offers: its type, its plaintext, and its values by name."""

    RECORD_TYPE: ClassVar[int]

    def payload(self) -> bytes:
        """The plaintext bit field."""
        ...

    def values(self) -> dict[str, Any]:
        """The plaintext fields by name, with units in the names (JSON-ready)."""
        ...


@dataclasses.dataclass(frozen=True, slots=True)
class SmartLithiumRecord:
    """0x05, one Lithium Battery Smart (Victron's public layout, 16 bytes).

    Cell voltages: 2.61..3.85 V in 0.01 V; a cell at 2.60 V or lower is sent as raw 0 and read
    back as 2.60, one at 3.86 V or higher as raw 0x7E, read back as 3.86. Up to eight cells;
    slots after the last cell are not-available.
    """

    RECORD_TYPE: ClassVar[int] = RECORD_SMART_LITHIUM
    LENGTH: ClassVar[int] = 16

    bms_flags: int
    error_flags: int
    cell_voltages_v: tuple[float | None, ...]
    battery_voltage_v: float | None
    balancer: str | None
    temperature_c: float | None

    def payload(self) -> bytes:
        """Flags 32, errors 16, 8 cells x 7, voltage 12, balancer 4, temperature 7, unused 1."""
        if len(self.cell_voltages_v) > 8:
            msg = f"a SmartLithium record has at most 8 cells, not {len(self.cell_voltages_v)}"
            raise ValueError(msg)
        cells = [*self.cell_voltages_v, *([None] * (8 - len(self.cell_voltages_v)))]
        fields = [(0, 32, self.bms_flags), (32, 16, self.error_flags)]
        fields += [(48 + 7 * n, 7, _cell_raw(v)) for n, v in enumerate(cells)]
        balancer = 0xF if self.balancer is None else BALANCER_STATES.index(self.balancer)
        fields += [
            (104, 12, quantize(self.battery_voltage_v, 0.01, 12)),
            (116, 4, balancer),
            (120, 7, quantize(self.temperature_c, 1.0, 7, offset=-40.0)),
        ]
        return pack_bits(fields, self.LENGTH)

    @classmethod
    def from_payload(cls, data: bytes) -> "SmartLithiumRecord":
        """Read a plaintext; fields beyond its end are not-available."""
        cells = [_cell_value(read_bits(data, 48 + 7 * n, 7)) for n in range(8)]
        while cells and cells[-1] is None:
            cells.pop()
        balancer = read_bits(data, 116, 4)
        return cls(
            bms_flags=read_bits(data, 0, 32) or 0,
            error_flags=read_bits(data, 32, 16) or 0,
            cell_voltages_v=tuple(cells),
            battery_voltage_v=dequantize(read_bits(data, 104, 12), 0.01, 12),
            balancer=BALANCER_STATES[balancer] if balancer is not None and balancer < 4 else None,
            temperature_c=dequantize(read_bits(data, 120, 7), 1.0, 7, offset=-40.0),
        )

    def values(self) -> dict[str, Any]:
        """The fields by name, plus the three flags the twin sets, as booleans."""
        return {
            "bms_flags": self.bms_flags,
            "error_flags": self.error_flags,
            "allowed_to_charge": bool(self.bms_flags & FLAG_ALLOWED_TO_CHARGE),
            "allowed_to_discharge": bool(self.bms_flags & FLAG_ALLOWED_TO_DISCHARGE),
            "prealarm": bool(self.bms_flags & FLAG_WARN_UNDER_VOLTAGE),
            "cell_voltages_v": list(self.cell_voltages_v),
            "battery_voltage_v": self.battery_voltage_v,
            "balancer": self.balancer,
            "temperature_c": self.temperature_c,
        }


def _cell_raw(voltage_v: float | None) -> int:
    if voltage_v is None or math.isnan(voltage_v):
        return 0x7F
    return max(0, min(0x7E, round((voltage_v - 2.60) / 0.01)))


def _cell_value(raw: int | None) -> float | None:
    if raw is None or raw == 0x7F:
        return None
    return round(2.60 + raw * 0.01, 2)


@dataclasses.dataclass(frozen=True, slots=True)
class LynxBmsRecord:
    """0x0A in Victron's public Lynx Smart BMS layout (16 bytes); None fields are not-available.

    `io_status` and `alarms` are the raw 2-bit field words (see `LYNX_IO_FIELDS`,
    `LYNX_ALARM_FIELDS`). Consumed Ah is sent as a positive number of ampere hours taken out.
    """

    RECORD_TYPE: ClassVar[int] = RECORD_LYNX_BMS
    LENGTH: ClassVar[int] = 16

    error_code: int
    time_to_go_min: float | None
    battery_voltage_v: float | None
    current_a: float | None
    io_status: int
    alarms: int
    soc_pct: float | None
    consumed_ah: float | None
    temperature_c: float | None

    def payload(self) -> bytes:
        """Error 8, TTG 16, V 16s, I 16s, IO 16, alarms 18, SoC 10, consumed 20, T 7, unused 1."""
        fields = [
            (0, 8, self.error_code),
            (8, 16, quantize(self.time_to_go_min, 1.0, 16)),
            (24, 16, quantize(self.battery_voltage_v, 0.01, 16, signed=True)),
            (40, 16, quantize(self.current_a, 0.1, 16, signed=True)),
            (56, 16, self.io_status),
            (72, 18, self.alarms),
            (90, 10, quantize(self.soc_pct, 0.1, 10)),
            (100, 20, quantize(self.consumed_ah, 0.1, 20)),
            (120, 7, quantize(self.temperature_c, 1.0, 7, offset=-40.0)),
        ]
        return pack_bits(fields, self.LENGTH)

    @classmethod
    def from_payload(cls, data: bytes) -> "LynxBmsRecord":
        """Read a plaintext; fields beyond its end are not-available."""
        return cls(
            error_code=read_bits(data, 0, 8) or 0,
            time_to_go_min=dequantize(read_bits(data, 8, 16), 1.0, 16),
            battery_voltage_v=dequantize(read_bits(data, 24, 16), 0.01, 16, signed=True),
            current_a=dequantize(read_bits(data, 40, 16), 0.1, 16, signed=True),
            io_status=read_bits(data, 56, 16) or 0,
            alarms=read_bits(data, 72, 18) or 0,
            soc_pct=dequantize(read_bits(data, 90, 10), 0.1, 10),
            consumed_ah=dequantize(read_bits(data, 100, 20), 0.1, 20),
            temperature_c=dequantize(read_bits(data, 120, 7), 1.0, 7, offset=-40.0),
        )

    def values(self) -> dict[str, Any]:
        """The fields by name, the IO and alarm words also split into their 2-bit fields."""
        io = {name: _two_bits(self.io_status, bit) for name, bit in LYNX_IO_FIELDS.items()}
        return {
            "error_code": self.error_code,
            "time_to_go_min": self.time_to_go_min,
            "battery_voltage_v": self.battery_voltage_v,
            "current_a": self.current_a,
            "io_status": self.io_status,
            "allowed_to_charge": None if io["allow_to_charge"] == 0 else io["allow_to_charge"] == 1,
            "allowed_to_discharge": (
                None if io["allow_to_discharge"] == 0 else io["allow_to_discharge"] == 1
            ),
            "alarms": self.alarms,
            "alarm_levels": {
                name: ALARM_LEVELS[_two_bits(self.alarms, bit)]
                for name, bit in LYNX_ALARM_FIELDS.items()
            },
            "soc_pct": self.soc_pct,
            "consumed_ah": self.consumed_ah,
            "temperature_c": self.temperature_c,
        }


def _two_bits(word: int, bit: int) -> int:
    return (word >> bit) & 0b11


def two_bit_word(fields: Mapping[int, int]) -> int:
    """A word of 2-bit fields from {bit offset: value}; every other field is 0 (not-available)."""
    word = 0
    for bit, value in fields.items():
        word |= (value & 0b11) << bit
    return word


SMART_BMS_FLAGS: Final = (
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
)
"""The 0x0E record's state flags, bit 0 first (bits 98..108 of the payload)."""
BATTERY_SIGNALS: Final = ("charge_withdrawn", "discharge_withdrawn", "prealarm")
"""The 0x0E record's battery-chain bits (bits 16..18): what the BMS cable tells the BMS."""


@dataclasses.dataclass(frozen=True, slots=True)
class SmartBmsRecord:
    """0x0E, model 0xA3E8: our own Smart BMS 12-200 layout (14 bytes; docs/instant-readout.md).

    The voltages sit in bytes 3-8, where the one public capture of a real 12-200 has three
    plausible voltages; every other field is our design.
    """

    RECORD_TYPE: ClassVar[int] = RECORD_SMART_BMS
    LENGTH: ClassVar[int] = 14

    error_code: int
    """VE_REG_BMS_ERROR number of the first active E- code (30..33); 0 none."""
    codes: frozenset[str]
    """Active App. B codes (labels as in `SMART_BMS_CODES`)."""
    battery_signals: frozenset[str]
    """Active battery-chain conditions (names in `BATTERY_SIGNALS`)."""
    battery_voltage_v: float | None
    ab_voltage_v: float | None
    system_plus_voltage_v: float | None
    alternator_current_a: float | None
    alternator_current_pct: float | None
    temperature_c: float | None
    """The BMS's internal temperature."""
    flags: frozenset[str]
    """The state flags that are set (names in `SMART_BMS_FLAGS`)."""

    def payload(self) -> bytes:
        """See docs/instant-readout.md, "0x0E Smart BMS"."""
        fields = [
            (0, 8, self.error_code),
            (8, 8, _bit_set(self.codes, SMART_BMS_CODES)),
            (16, 8, _bit_set(self.battery_signals, BATTERY_SIGNALS)),
            (24, 16, quantize(self.battery_voltage_v, 0.01, 16)),
            (40, 16, quantize(self.ab_voltage_v, 0.01, 16)),
            (56, 16, quantize(self.system_plus_voltage_v, 0.01, 16)),
            (72, 12, quantize(self.alternator_current_a, 0.1, 12)),
            (84, 7, quantize(self.alternator_current_pct, 1.0, 7)),
            (91, 7, quantize(self.temperature_c, 1.0, 7, offset=-40.0)),
            (98, 11, _bit_set(self.flags, SMART_BMS_FLAGS)),
        ]
        return pack_bits(fields, self.LENGTH)

    @classmethod
    def from_payload(cls, data: bytes) -> "SmartBmsRecord":
        """Read a plaintext; fields beyond its end are not-available."""
        return cls(
            error_code=read_bits(data, 0, 8) or 0,
            codes=_names(read_bits(data, 8, 8), SMART_BMS_CODES),
            battery_signals=_names(read_bits(data, 16, 8), BATTERY_SIGNALS),
            battery_voltage_v=dequantize(read_bits(data, 24, 16), 0.01, 16),
            ab_voltage_v=dequantize(read_bits(data, 40, 16), 0.01, 16),
            system_plus_voltage_v=dequantize(read_bits(data, 56, 16), 0.01, 16),
            alternator_current_a=dequantize(read_bits(data, 72, 12), 0.1, 12),
            alternator_current_pct=dequantize(read_bits(data, 84, 7), 1.0, 7),
            temperature_c=dequantize(read_bits(data, 91, 7), 1.0, 7, offset=-40.0),
            flags=_names(read_bits(data, 98, 11), SMART_BMS_FLAGS),
        )

    def values(self) -> dict[str, Any]:
        """The fields by name; codes and signals as sorted lists, each flag as a boolean."""
        return {
            "error_code": self.error_code,
            "codes": [code for code in SMART_BMS_CODES if code in self.codes],
            "battery_signals": [s for s in BATTERY_SIGNALS if s in self.battery_signals],
            "battery_voltage_v": self.battery_voltage_v,
            "ab_voltage_v": self.ab_voltage_v,
            "system_plus_voltage_v": self.system_plus_voltage_v,
            "alternator_current_a": self.alternator_current_a,
            "alternator_current_pct": self.alternator_current_pct,
            "temperature_c": self.temperature_c,
            **{flag: flag in self.flags for flag in SMART_BMS_FLAGS},
        }


def _bit_set(names: frozenset[str], order: Sequence[str]) -> int:
    unknown = names - set(order)
    if unknown:
        msg = f"unknown names {sorted(unknown)}; known: {', '.join(order)}"
        raise ValueError(msg)
    return sum(1 << i for i, name in enumerate(order) if name in names)


def _names(raw: int | None, order: Sequence[str]) -> frozenset[str]:
    if raw is None:
        return frozenset()
    return frozenset(name for i, name in enumerate(order) if raw >> i & 1)


AnyRecord: TypeAlias = SmartLithiumRecord | LynxBmsRecord | SmartBmsRecord
RECORD_CLASSES: Final[dict[int, type[AnyRecord]]] = {
    RECORD_SMART_LITHIUM: SmartLithiumRecord,
    RECORD_LYNX_BMS: LynxBmsRecord,
    RECORD_SMART_BMS: SmartBmsRecord,
}


# --- the container -------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True, slots=True)
class Container:
    """The clear part of an advertisement and its enciphered payload."""

    model_id: int
    record_type: int
    nonce: int
    key_check: int
    ciphertext: bytes


@dataclasses.dataclass(frozen=True, slots=True)
class Decoded:
    """A decoded advertisement: the container and its record."""

    container: Container
    record: AnyRecord

    def as_json(self) -> dict[str, Any]:
        """`{"record_type", "values"}` as `smartbms readout decode --json` prints it."""
        return {"record_type": self.container.record_type, "values": self.record.values()}


def check_key(key: bytes) -> bytes:
    """The key if it is 16 bytes; raises `ReadoutError` otherwise."""
    if len(key) != KEY_BYTES:
        msg = f"an advertisement key is {KEY_BYTES} bytes (32 hex digits), not {len(key)}"
        raise ReadoutError(msg)
    return bytes(key)


def parse_key(text: str) -> bytes:
    """A key from its 32 hex digits (spaces and colons allowed); raises `ReadoutError`."""
    digits = text.strip().replace(" ", "").replace(":", "")
    try:
        key = bytes.fromhex(digits)
    except ValueError:
        msg = f"an advertisement key is 32 hex digits, not {text!r}"
        raise ReadoutError(msg) from None
    return check_key(key)


def aes_ctr(key: bytes, nonce: int, data: bytes) -> bytes:
    """AES-128-CTR with the counter block nonce (LE16) + 14 zero bytes; its own inverse."""
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes  # noqa: PLC0415

    counter = nonce.to_bytes(2, "little") + bytes(14)
    encryptor = Cipher(algorithms.AES(check_key(key)), modes.CTR(counter)).encryptor()
    return encryptor.update(data) + encryptor.finalize()


def encode_container(
    *, model_id: int, record_type: int, nonce: int, key: bytes, plaintext: bytes
) -> bytes:
    """The manufacturer data (after the company id) carrying `plaintext` enciphered."""
    if not 0 <= nonce <= 0xFFFF:
        msg = f"the nonce is 16 bits, not {nonce}"
        raise ValueError(msg)
    if len(plaintext) > KEY_BYTES:
        msg = f"a record is at most {KEY_BYTES} bytes (one AES block), not {len(plaintext)}"
        raise ValueError(msg)
    header = bytes((PRODUCT_ADVERTISEMENT, STATE_BYTE))
    header += model_id.to_bytes(2, "little") + bytes((record_type,))
    header += nonce.to_bytes(2, "little") + key[:1]
    return header + aes_ctr(key, nonce, plaintext)


def encode(record: AnyRecord, *, model_id: int, key: bytes, nonce: int) -> bytes:
    """A record as the manufacturer data of an advertisement (starts with 0x10)."""
    return encode_container(
        model_id=model_id,
        record_type=record.RECORD_TYPE,
        nonce=nonce,
        key=check_key(key),
        plaintext=record.payload(),
    )


def parse_container(data: bytes) -> Container:
    """The clear header of an advertisement; raises `ReadoutError` if it is not one."""
    if len(data) <= HEADER_BYTES:
        msg = f"an advertisement is more than {HEADER_BYTES} bytes, not {len(data)}"
        raise ReadoutError(msg)
    if data[0] != PRODUCT_ADVERTISEMENT:
        msg = f"not a product advertisement: the first byte is 0x{data[0]:02x}, not 0x10"
        raise ReadoutError(msg)
    return Container(
        model_id=int.from_bytes(data[2:4], "little"),
        record_type=data[4],
        nonce=int.from_bytes(data[5:7], "little"),
        key_check=data[7],
        ciphertext=bytes(data[HEADER_BYTES:]),
    )


def decrypt(data: bytes, key: bytes) -> tuple[Container, bytes]:
    """The container and its plaintext; raises `KeyMismatchError` for another device's key."""
    container = parse_container(data)
    key = check_key(key)
    if container.key_check != key[0]:
        msg = (
            f"the advertisement is for a key starting 0x{container.key_check:02x}, "
            f"not 0x{key[0]:02x}: a wrong or old key"
        )
        raise KeyMismatchError(msg)
    return container, aes_ctr(key, container.nonce, container.ciphertext[:KEY_BYTES])


def decode(data: bytes, key: bytes) -> Decoded:
    """Decode any advertisement this codec emits (0x05, 0x0A, 0x0E)."""
    container, plaintext = decrypt(data, key)
    cls = RECORD_CLASSES.get(container.record_type)
    if cls is None:
        known = ", ".join(f"0x{t:02X}" for t in RECORD_CLASSES)
        msg = f"record type 0x{container.record_type:02X} is not one of {known}"
        raise ReadoutError(msg)
    return Decoded(container, cls.from_payload(plaintext))
