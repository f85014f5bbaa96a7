"""Instant Readout keys: one 16-byte AES key per device, kept across restarts (APP-4).

A real device is given its advertisement key once and keeps it; a decoder (Home Assistant, a GX
device) is configured with that key by hand, so a twin that made new keys at every start would
break every listener at every restart. The BMS's key changes with its PIN (a PIN change or a
factory reset), as VictronConnect does: the new key is random except its first byte, the old
first byte plus one, so a decoder can see from the advertisement's key-check byte that its key is
stale. Batteries keep their keys.

File: ``keys.json`` in the state folder, ``{"format": 1, "keys": {"bms": "<32 hex>", ...}}``,
written atomically with the settings store's lock-and-rename (`settings_store`). A damaged file is
an error naming the file, never silently replaced: replacing it would change keys that listeners
have.
"""

import json
import os
import pathlib
from collections.abc import Callable, Mapping, Sequence

from smartbms.store.settings_store import _beside, _exclusive_lock, _replace_locked

KEY_BYTES = 16
FILE_NAME = "keys.json"
FORMAT = 1
MAX_FILE_BYTES = 4096
DEVICE_IDS = ("bms", "battery1", "battery2", "battery3", "battery4", "battery5")
"""The devices of one installation that advertise: the BMS and up to five batteries (SYS-1)."""

RandomBytes = Callable[[int], bytes]


class KeyStoreError(OSError):
    """The key file cannot be read or written; the message names the file and what is wrong."""


class KeyStore:
    """The advertisement keys of one installation's devices, in `folder`/keys.json."""

    __slots__ = ("_path", "_random")

    def __init__(self, folder: pathlib.Path, random_bytes: RandomBytes = os.urandom) -> None:
        self._path = folder / FILE_NAME
        self._random = random_bytes

    @property
    def path(self) -> pathlib.Path:
        """The key file."""
        return self._path

    def load(self) -> dict[str, bytes]:
        """The stored keys (empty when there is no file yet)."""
        try:
            data = self._path.read_bytes()[: MAX_FILE_BYTES + 1]
        except FileNotFoundError:
            return {}
        except OSError as error:
            raise KeyStoreError(f"cannot read {self._path}: {error.strerror or error}") from error
        return _decode(data, self._path)

    def load_or_create(self, device_ids: Sequence[str]) -> dict[str, bytes]:
        """The keys of `device_ids`, making and storing a random key for each new device."""
        for device_id in device_ids:
            _check_id(device_id)
        keys = self.load()
        missing = [device_id for device_id in device_ids if device_id not in keys]
        if missing:
            for device_id in missing:
                keys[device_id] = self._new_key()
            self._save(keys)
        return {device_id: keys[device_id] for device_id in device_ids}

    def rotate(self, device_id: str) -> bytes:
        """Give `device_id` a new random key whose first byte is the old one's plus one."""
        _check_id(device_id)
        keys = self.load()
        key = self._new_key()
        if device_id in keys:
            key = bytes([(keys[device_id][0] + 1) % 256]) + key[1:]
        keys[device_id] = key
        self._save(keys)
        return key

    def _new_key(self) -> bytes:
        key = self._random(KEY_BYTES)
        if len(key) != KEY_BYTES:
            raise ValueError(f"the random source gave {len(key)} bytes, not {KEY_BYTES}")
        return key

    def _save(self, keys: Mapping[str, bytes]) -> None:
        body = {"format": FORMAT, "keys": {name: keys[name].hex() for name in sorted(keys)}}
        data = (json.dumps(body, indent=2) + "\n").encode("ascii")
        self._path.parent.mkdir(parents=True, exist_ok=True)
        target = pathlib.Path(os.path.realpath(self._path))
        try:
            with _exclusive_lock(_beside(target, ".lock")):
                _replace_locked(target, data)
        except OSError as error:
            raise KeyStoreError(f"cannot save {self._path}: {error.strerror or error}") from error


def _check_id(device_id: str) -> None:
    if device_id not in DEVICE_IDS:
        raise ValueError(f"no device {device_id!r}; the devices are {', '.join(DEVICE_IDS)}")


def _decode(data: bytes, path: pathlib.Path) -> dict[str, bytes]:
    """Parse the key file strictly: every problem is a `KeyStoreError` naming the file."""
    if len(data) > MAX_FILE_BYTES:
        raise KeyStoreError(f"{path} is damaged: larger than {MAX_FILE_BYTES} bytes")
    try:
        body = json.loads(data.decode("ascii"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise KeyStoreError(f"{path} is damaged: not JSON ({error})") from error
    if not isinstance(body, dict) or body.get("format") != FORMAT:
        raise KeyStoreError(f'{path} is damaged: expected {{"format": {FORMAT}, "keys": ...}}')
    raw = body.get("keys")
    if not isinstance(raw, dict):
        raise KeyStoreError(f'{path} is damaged: "keys" must be an object')
    keys: dict[str, bytes] = {}
    for name, text in raw.items():
        if name not in DEVICE_IDS:
            raise KeyStoreError(f"{path} is damaged: unknown device {name!r}")
        try:
            key = bytes.fromhex(text) if isinstance(text, str) else b""
        except ValueError:
            key = b""
        if len(key) != KEY_BYTES:
            raise KeyStoreError(
                f"{path} is damaged: {name}'s key is not {2 * KEY_BYTES} hex digits"
            )
        keys[name] = key
    return keys
