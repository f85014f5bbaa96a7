"""From the twin's state to Instant Readout frames: records, keys, nonces and addresses.

One `Framer` per broadcasting installation. Each device (the BMS, "bms", and each battery,
"battery1".."battery5") has its own key, its own stable address and its own nonce counter. The
counter starts at a value derived from the run's seed, the installation and the device, and goes
up by one with every frame, so successive frames never share a nonce and a run with the same
seed gives the same bytes (tests reproduce).
"""

import dataclasses
import hashlib
from collections.abc import Mapping, Sequence
from typing import Any, Final

from smartbms.codecs import readout as ro
from smartbms.core.signals import Level
from smartbms.twin.state import BatteryState, TwinState

BMS_DEVICE: Final = "bms"
BMS_RECORDS: Final = (ro.RECORD_SMART_BMS, ro.RECORD_LYNX_BMS)
"""The record types the BMS can send: its own 0x0E (default) or the Lynx-compatible 0x0A."""

SMART_LITHIUM_MODELS: Final = {
    50.0: 0xA0ED,
    60.0: 0xA0E1,
    100.0: 0xA0E5,
    150.0: 0xA0E9,
    160.0: 0xA0E2,
    200.0: 0xA0E3,
    300.0: 0xA0E4,
    330.0: 0xA0F0,
}
"""Product ids of Lithium Battery 12,8V Smart models by capacity (victron-ble's table)."""
SMART_LITHIUM_FALLBACK_MODEL: Final = 0xA0E3
"""No public id for a capacity (180 Ah): the 200 Ah id; decoders select the layout by record."""


def battery_device(number: int) -> str:
    """The device id of the battery at 1-based place `number`."""
    return f"battery{number}"


def device_ids(state: TwinState) -> tuple[str, ...]:
    """Every broadcasting device of an installation: the BMS, then the batteries in order."""
    return (BMS_DEVICE, *(battery_device(b.number) for b in state.batteries))


def device_address(installation: str, device: str) -> str:
    """A stable "AA:BB:CC:DD:EE:FF" address for a device of an installation.

    A BLE static random address: six bytes of SHA-256 of the installation and the device, the
    two top bits set as the Bluetooth specification requires for that address type.
    """
    digest = bytearray(hashlib.sha256(f"{installation}\0{device}".encode()).digest()[:6])
    digest[0] |= 0xC0
    return ":".join(f"{b:02X}" for b in digest)


def derived_keys(installation: str, devices: Sequence[str]) -> dict[str, bytes]:
    """Keys computed from the installation's name: stable and reproducible, and NOT secret.

    For `readout show` without a key store, tests and demonstrations; a real deployment keeps
    random keys in the settings store (`smartbms.store.device_keys.KeyStore`).
    """
    return {
        device: hashlib.sha256(f"key\0{installation}\0{device}".encode()).digest()[:16]
        for device in devices
    }


def first_nonce(seed: int, installation: str, device: str) -> int:
    """Where a device's nonce counter starts in a run with `seed`."""
    digest = hashlib.sha256(f"nonce\0{seed}\0{installation}\0{device}".encode()).digest()
    return int.from_bytes(digest[:2], "little")


def battery_record(battery: BatteryState) -> ro.SmartLithiumRecord:
    """A battery's 0x05 record: its chain signals as BMS flags, cells, voltage, balancer, T."""
    flags = 0
    if battery.allowed_to_charge:
        flags |= ro.FLAG_ALLOWED_TO_CHARGE
    if battery.allowed_to_discharge:
        flags |= ro.FLAG_ALLOWED_TO_DISCHARGE
    if battery.prealarm:
        flags |= ro.FLAG_WARN_UNDER_VOLTAGE
    return ro.SmartLithiumRecord(
        bms_flags=flags,
        error_flags=0,
        cell_voltages_v=battery.cell_voltages_v,
        battery_voltage_v=battery.voltage_v,
        balancer=battery.balancer if battery.balancer in ro.BALANCER_STATES else None,
        temperature_c=battery.temperature_c,
    )


def _codes(state: TwinState) -> frozenset[str]:
    return frozenset(code.value for code in state.outputs.codes)


def _error_code(codes: frozenset[str]) -> int:
    errors = [number for label, number in ro.ERROR_NUMBERS.items() if label in codes]
    return min(errors, default=0)


def smart_bms_record(state: TwinState) -> ro.SmartBmsRecord:
    """The BMS's own 0x0E record (docs/instant-readout.md)."""
    out = state.outputs
    readings = state.readings
    codes = _codes(state)
    signals = {
        "charge_withdrawn": not all(b.allowed_to_charge for b in state.batteries),
        "discharge_withdrawn": not all(b.allowed_to_discharge for b in state.batteries),
        "prealarm": any(b.prealarm for b in state.batteries),
    }
    flags = {
        "system_on": out.system_on,
        "bms_active": out.bms_active,
        "safe_state": out.safe_state,
        "ab_enabled": out.ab_enabled,
        "system_plus_charge_allowed": out.system_plus_charge_allowed,
        "system_plus_discharge_allowed": out.system_plus_discharge_allowed,
        "load_disconnect_high": out.load_disconnect is Level.HIGH,
        "charge_disconnect_high": out.charge_disconnect is Level.HIGH,
        "prealarm_output_high": out.prealarm is Level.HIGH,
        "prealarm_raised": out.prealarm_alarm,
        "fuse_type_prompt": readings.fuse_type_prompt,
    }
    return ro.SmartBmsRecord(
        error_code=_error_code(codes),
        codes=codes & frozenset(ro.SMART_BMS_CODES),
        battery_signals=frozenset(name for name, on in signals.items() if on),
        battery_voltage_v=readings.bank_voltage_v,
        ab_voltage_v=readings.ab_voltage_v,
        system_plus_voltage_v=readings.system_plus_voltage_v,
        alternator_current_a=readings.alternator_current_a,
        alternator_current_pct=readings.alternator_current_pct,
        temperature_c=state.bms_temperature_c,
        flags=frozenset(name for name, on in flags.items() if on),
    )


_OK, _WARNING, _ALARM = 1, 2, 3
_YES, _NO = 1, 2


def lynx_record(state: TwinState) -> ro.LynxBmsRecord:
    """The Lynx-compatible 0x0A record: what a 12-200 knows in Victron's public layout.

    The 12-200 has no battery shunt and no battery temperature sensor: time-to-go, current,
    state of charge, consumed Ah and temperature go out as not-available. Allowed to charge /
    discharge are its charge- and load-disconnect outputs; the alarms that map onto its codes
    are set, the others (contactor, low SoC, battery high temperature) are not-available.
    """
    out = state.outputs
    codes = _codes(state)
    low_cell = _ALARM if "A-B11" in codes else _WARNING if "W-B12" in codes else _OK
    io = ro.two_bit_word(
        {
            ro.LYNX_IO_FIELDS["allow_to_charge"]: (
                _YES if out.charge_disconnect is Level.HIGH else _NO
            ),
            ro.LYNX_IO_FIELDS["allow_to_discharge"]: (
                _YES if out.load_disconnect is Level.HIGH else _NO
            ),
        }
    )
    alarms = ro.two_bit_word(
        {
            ro.LYNX_ALARM_FIELDS["low_cell_voltage"]: low_cell,
            ro.LYNX_ALARM_FIELDS["high_current"]: _ALARM if "A-A12" in codes else _OK,
            ro.LYNX_ALARM_FIELDS["high_internal_temperature"]: (
                _ALARM if "A-B15" in codes else _OK
            ),
            ro.LYNX_ALARM_FIELDS["bms_cable"]: _ALARM if "E-B32" in codes else _OK,
            ro.LYNX_ALARM_FIELDS["load_disconnect"]: (
                _OK if out.load_disconnect is Level.HIGH else _ALARM
            ),
        }
    )
    return ro.LynxBmsRecord(
        error_code=_error_code(codes),
        time_to_go_min=None,
        battery_voltage_v=state.readings.bank_voltage_v,
        current_a=None,
        io_status=io,
        alarms=alarms,
        soc_pct=None,
        consumed_ah=None,
        temperature_c=None,
    )


@dataclasses.dataclass(frozen=True, slots=True)
class Frame:
    """One advertisement of one device at one instant."""

    t_s: float
    device: str
    address: str
    model_id: int
    key: bytes
    nonce: int
    record: ro.AnyRecord
    """The record as the air carries it (every value on its field's grid)."""
    manufacturer_data: bytes
    """The bytes after the company id 0x02E1 (starting with 0x10)."""

    @property
    def record_type(self) -> int:
        """5, 10 or 14."""
        return self.record.RECORD_TYPE

    def as_json(self) -> dict[str, Any]:
        """The shape `smartbms readout show --json` prints for each device."""
        return {
            "device": self.device,
            "address": self.address,
            "key": self.key.hex(),
            "record_type": self.record_type,
            "manufacturer_data_hex": self.manufacturer_data.hex(),
            "values": self.record.values(),
        }

    def capture(self) -> dict[str, Any]:
        """One line of a capture file (JSON Lines): time, device, address, record, hex."""
        return {
            "time_s": self.t_s,
            "device": self.device,
            "address": self.address,
            "record": self.record_type,
            "hex": self.manufacturer_data.hex(),
        }


class Framer:
    """Builds each device's frame from a state; owns the keys and the nonce counters."""

    def __init__(
        self,
        installation: str,
        keys: Mapping[str, bytes],
        *,
        record: int = ro.RECORD_SMART_BMS,
        seed: int = 0,
    ) -> None:
        if record not in BMS_RECORDS:
            msg = f"the BMS sends record 0x0E or 0x0A, not 0x{record:02X}"
            raise ValueError(msg)
        self.installation = installation
        self.record = record
        self.seed = seed
        self._keys = {device: ro.check_key(key) for device, key in keys.items()}
        self._nonces: dict[str, int] = {}

    def key(self, device: str) -> bytes:
        """The device's current key."""
        try:
            return self._keys[device]
        except KeyError:
            msg = f"no advertisement key for {device!r}; keys for: {', '.join(self._keys)}"
            raise KeyError(msg) from None

    def set_key(self, device: str, key: bytes) -> None:
        """Use a new key from the next frame on (after a PIN change rotated it)."""
        self._keys[device] = ro.check_key(key)

    def address(self, device: str) -> str:
        """The device's stable address."""
        return device_address(self.installation, device)

    def next_nonce(self, device: str) -> int:
        """The nonce of the device's next frame (one more than its last)."""
        nonce = self._nonces.get(device)
        nonce = first_nonce(self.seed, self.installation, device) if nonce is None else nonce + 1
        nonce &= 0xFFFF
        self._nonces[device] = nonce
        return nonce

    def frames(self, state: TwinState) -> tuple[Frame, ...]:
        """A fresh frame of every device: the BMS first, then the batteries."""
        bms: ro.AnyRecord = (
            smart_bms_record(state) if self.record == ro.RECORD_SMART_BMS else lynx_record(state)
        )
        records: list[tuple[str, int, ro.AnyRecord]] = [
            (BMS_DEVICE, ro.MODEL_SMART_BMS_12_200, bms)
        ]
        for battery in state.batteries:
            model = SMART_LITHIUM_MODELS.get(battery.capacity_ah, SMART_LITHIUM_FALLBACK_MODEL)
            records.append((battery_device(battery.number), model, battery_record(battery)))
        return tuple(self._frame(state.t_s, *entry) for entry in records)

    def _frame(self, t_s: float, device: str, model_id: int, record: ro.AnyRecord) -> Frame:
        key = self.key(device)
        nonce = self.next_nonce(device)
        record = type(record).from_payload(record.payload())  # what the air carries: quantized
        data = ro.encode(record, model_id=model_id, key=key, nonce=nonce)
        return Frame(t_s, device, self.address(device), model_id, key, nonce, record, data)
