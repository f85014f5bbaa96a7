"""Persistent settings: atomic writes, a checksum, factory reset (CFG-3, CFG-4, ERR-2).

The controller is pure and never touches a file; this package is where its settings meet the
disk. `SettingsStore` writes one small checksummed file atomically and reads it back strictly,
reporting a damaged or missing file as a state (`StoreStatus`), and `boot_controller` turns that
state into what the device does at power-up: run, or hold the safe state with E-B31. The file
format, the first-boot rule, and how writers lock, refuse non-regular files and write through
symlinks are documented in `smartbms.store.settings_store`.
"""

from smartbms.store.device_keys import DEVICE_IDS, KeyStore, KeyStoreError
from smartbms.store.settings_store import (
    FORMAT_VERSION,
    MAGIC,
    LoadResult,
    SettingsPathError,
    SettingsStore,
    StoreStatus,
    boot_controller,
    decode_settings,
    encode_settings,
)

__all__ = [
    "DEVICE_IDS",
    "FORMAT_VERSION",
    "MAGIC",
    "KeyStore",
    "KeyStoreError",
    "LoadResult",
    "SettingsPathError",
    "SettingsStore",
    "StoreStatus",
    "boot_controller",
    "decode_settings",
    "encode_settings",
]
