"""Instant Readout: the twin's devices broadcast Victron BLE advertisements.

`start_advertising(twin, spec, keys)` is the entry point (`smartbms serve --advertise`);
`Framer` builds frames from a `TwinState`; backends sit behind the `Advertiser` seam. The BlueZ
backend (`adapters.readout.bluez`) is imported only when asked for, since it needs dbus-fast.
"""

from smartbms.adapters.readout.advertiser import (
    Advertiser,
    Broadcaster,
    CaptureAdvertiser,
    KeySource,
    MemoryAdvertiser,
    make_advertiser,
    rotate_key,
    start_advertising,
)
from smartbms.adapters.readout.frames import (
    BMS_DEVICE,
    BMS_RECORDS,
    Frame,
    Framer,
    battery_device,
    derived_keys,
    device_address,
    device_ids,
)

__all__ = [
    "BMS_DEVICE",
    "BMS_RECORDS",
    "Advertiser",
    "Broadcaster",
    "CaptureAdvertiser",
    "Frame",
    "Framer",
    "KeySource",
    "MemoryAdvertiser",
    "battery_device",
    "derived_keys",
    "device_address",
    "device_ids",
    "make_advertiser",
    "rotate_key",
    "start_advertising",
]
