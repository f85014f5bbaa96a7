"""What the device remembers across restarts: its settings, its PIN and its advertisement keys.

The state folder (`--state DIR`, default a per-user data folder) holds the settings file of the
settings store (checksummed, atomic: CFG-3) and the Instant Readout keys of the BMS and of each
battery (`smartbms.store.device_keys`). At first start the settings file is written from the
scenario's `[bms]` settings, as a new device leaves the factory configured; later starts use the
file instead, so a restart keeps what the user set. A corrupted file is what the device reports
as E-B31: the twin starts with the scenario's settings and the fault latched.
"""

import dataclasses
from collections.abc import Sequence
from pathlib import Path

from smartbms import scenario as sc
from smartbms.core.events import Event, FactoryResetDone
from smartbms.core.settings import Settings
from smartbms.store.settings_store import SettingsStore, StoreStatus
from smartbms.twin import TwinState

SETTINGS_FILE = "settings.smartbms"
"""The settings file's name in the state folder."""
BMS_KEY_ID = "bms"


def default_state_folder() -> Path:
    """The per-user data folder (platformdirs), where a plain `smartbms serve` keeps its state."""
    import platformdirs  # noqa: PLC0415  # the serve extra, imported when serving

    return Path(platformdirs.user_data_dir("smartbms", appauthor=False)) / "serve"


def device_ids(battery_count: int) -> tuple[str, ...]:
    """The devices that broadcast: the BMS and each battery ("battery1", ...)."""
    return (BMS_KEY_ID, *(f"battery{n}" for n in range(1, battery_count + 1)))


@dataclasses.dataclass(frozen=True, slots=True)
class Boot:
    """What the state folder gave the twin at start."""

    scenario: sc.Scenario
    """The scenario with the remembered settings in its `[bms]`."""
    corrupted: str | None
    """Why the stored settings were refused (the twin raises E-B31); None when they were fine."""


class DeviceMemory:
    """The state folder: settings through the settings store, keys through the key store."""

    def __init__(self, folder: Path, battery_count: int) -> None:
        from smartbms.store.device_keys import KeyStore  # noqa: PLC0415

        folder.mkdir(parents=True, exist_ok=True)
        self.folder = folder
        self.store = SettingsStore(folder / SETTINGS_FILE)
        self._keys = KeyStore(folder)
        self.keys: dict[str, bytes] = dict(self._keys.load_or_create(device_ids(battery_count)))
        self._saved: Settings | None = None
        self._held = False
        """The file was corrupted: it stays so until a factory reset (E-B31's recovery)."""

    def boot(self, scenario: sc.Scenario) -> Boot:
        """The scenario with the remembered settings (first start: remember the scenario's)."""
        result = self.store.load()
        if result.status is StoreStatus.MISSING:
            self.store.save(scenario.bms.settings)
            self._saved = scenario.bms.settings
            return Boot(scenario, None)
        if result.settings is None:
            self._held = True
            return Boot(scenario, result.detail)
        self._saved = result.settings
        bms = scenario.bms.model_copy(update={"settings": result.settings})
        return Boot(scenario.model_copy(update={"bms": bms}), None)

    def remember(self, events: Sequence[Event], state: TwinState) -> None:
        """A twin listener: write the settings whenever they changed (atomic, CFG-3)."""
        if self._held:
            if not any(isinstance(event, FactoryResetDone) for event in events):
                return
            self._held = False
        if state.settings != self._saved:
            self.store.save(state.settings)
            self._saved = state.settings

    def rotate_bms_key(self) -> bytes:
        """A new random BMS key (first byte incremented): after a PIN change or factory reset."""
        key = self._keys.rotate(BMS_KEY_ID)
        self.keys[BMS_KEY_ID] = key
        return key
