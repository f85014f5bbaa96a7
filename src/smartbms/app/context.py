"""What every request handler shares: the live twin, the sessions and the state folder."""

import dataclasses
from typing import Any

from smartbms.app.live import LiveTwin
from smartbms.app.memory import DeviceMemory
from smartbms.app.security import Sessions

PRODUCT_NAME = "Smart BMS 12-200"
MODEL_ID = "0xA3E8"
"""The 12-200's product id in Victron's advertisements (APP-4)."""
FIRMWARE = "v1.00 (twin)"
SERIAL = "HQ0000TWIN"
"""Chosen: the twin's serial number (the real one is on the label)."""


@dataclasses.dataclass(slots=True)
class Context:
    """The one running device behind the app."""

    live: LiveTwin
    sessions: Sessions
    memory: DeviceMemory | None = None
    """The state folder; None runs without persistence (tests, a throwaway twin)."""
    secure_cookie: bool = False
    """Mark the session cookie Secure (only when served over HTTPS)."""
    advertise: str | None = None
    """Instant Readout advertiser spec ("bluez", "bluez:hci1", "capture:FILE"); None: silent."""
    advertise_record: int = 0x0E
    """The BMS's record type on the air: 0x0E (its own) or 0x0A (Lynx Smart BMS layout)."""

    def clock_info(self) -> dict[str, Any]:
        """Speed, pause and the simulated time now."""
        clock = self.live.clock
        t_s = self.live.twin.now_s
        return {
            "speed": clock.speed,
            "paused": clock.paused,
            "sim_time_s": round(t_s, 3),
            "clock": self.live.clock_text(t_s),
        }

    def product_info(self, *, paired: bool) -> dict[str, Any]:
        """Product info; each device's Instant Readout key (hex) only when `paired`."""
        keys = self.memory.keys if self.memory is not None else {}
        return {
            "product": PRODUCT_NAME,
            "model_id": MODEL_ID,
            "firmware": FIRMWARE,
            "serial": SERIAL,
            "paired": paired,
            "instant_readout": True,
            "keys": [
                {"device": device, "key": key.hex() if paired else None}
                for device, key in keys.items()
            ],
        }
