"""What the device remembers across restarts: its settings, its PIN and its advertisement keys.

The state folder (`--state DIR`, default a per-user data folder) holds the settings file of the
settings store (checksummed, atomic: CFG-3) and the Instant Readout keys of the BMS and of each
battery (`smartbms.store.device_keys`). At first start the settings file is written from the
scenario's `[bms]` settings, as a new device leaves the factory configured; later starts use the
file instead, so a restart keeps what the user set. A corrupted file is what the device reports
as E-B31: the twin starts with the scenario's settings and the fault latched, and the file stays
as it is until a factory reset.

`remember` is a twin listener and the one place where the BMS key rotates: when the PIN changes
or the settings are reset to the factory's, however that happened (the app, a replayed timeline).
A broadcaster gets the keys through `key_source()`, whose `rotate` hands out the key already
rotated here, so one PIN change is one new key, whoever listens.
"""

import dataclasses
from collections.abc import Sequence
from pathlib import Path

from smartbms import scenario as sc
from smartbms.core.events import Event, FactoryResetDone
from smartbms.core.settings import Settings
from smartbms.store.device_keys import DEVICE_IDS, KeyStore
from smartbms.store.settings_store import SettingsStore, StoreStatus
from smartbms.twin import TwinState

SETTINGS_FILE = "settings.smartbms"
"""The settings file's name in the state folder."""
BMS_KEY_ID = DEVICE_IDS[0]


def default_state_folder() -> Path:
    """The per-user data folder (platformdirs), where a plain `smartbms serve` keeps its state."""
    import platformdirs  # noqa: PLC0415  # the serve extra, imported when serving

    return Path(platformdirs.user_data_dir("smartbms", appauthor=False)) / "serve"


@dataclasses.dataclass(frozen=True, slots=True)
class Boot:
    """What the state folder gave the twin at start."""

    scenario: sc.Scenario
    """The scenario with the remembered settings in its `[bms]`."""
    corrupted: str | None
    """Why the stored settings were refused (the twin raises E-B31); None when they were fine."""


class DeviceMemory:
    """The state folder: settings through the settings store, keys through the key store.

    Raises `KeyStoreError` (an `OSError` naming the file) when the key file is damaged.
    """

    def __init__(self, folder: Path, battery_count: int) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.folder = folder
        self.store = SettingsStore(folder / SETTINGS_FILE)
        self._keys = KeyStore(folder)
        self.device_ids = DEVICE_IDS[: 1 + battery_count]
        self.keys: dict[str, bytes] = self._keys.load_or_create(self.device_ids)
        self._saved: Settings | None = None
        self._pin: str | None = None
        self._held = False
        """The file was corrupted: it stays so until a factory reset (E-B31's recovery)."""

    def boot(self, scenario: sc.Scenario) -> Boot:
        """The scenario with the remembered settings (first start: remember the scenario's)."""
        result = self.store.load()
        if result.status is StoreStatus.MISSING:
            self.store.save(scenario.bms.settings)
            self._saved = scenario.bms.settings
            self._pin = scenario.bms.settings.pin
            return Boot(scenario, None)
        if result.settings is None:
            self._held = True
            self._pin = scenario.bms.settings.pin
            return Boot(scenario, result.detail)
        self._saved = result.settings
        self._pin = result.settings.pin
        bms = scenario.bms.model_copy(update={"settings": result.settings})
        return Boot(scenario.model_copy(update={"bms": bms}), None)

    def remember(self, events: Sequence[Event], state: TwinState) -> None:
        """A twin listener: rotate the BMS key with the PIN; write settings that changed."""
        reset = any(isinstance(event, FactoryResetDone) for event in events)
        if reset or state.settings.pin != self._pin:
            self._pin = state.settings.pin
            self.keys[BMS_KEY_ID] = self._keys.rotate(BMS_KEY_ID)
        if self._held:
            if not reset:
                return
            self._held = False
        if state.settings != self._saved:
            self.store.save(state.settings)
            self._saved = state.settings

    def key_source(self) -> "RememberedKeys":
        """The keys for a broadcaster (`adapters.readout` `KeySource`), rotated only here."""
        return RememberedKeys(self)


class RememberedKeys:
    """A `KeySource` over `DeviceMemory`: `rotate` returns the key `remember` already rotated.

    Subscribe the broadcaster after the memory (as `build_context` does), so that the memory has
    rotated the key when the broadcaster asks for it.
    """

    def __init__(self, memory: DeviceMemory) -> None:
        self._memory = memory

    def load_or_create(self, device_ids: Sequence[str]) -> dict[str, bytes]:
        """The remembered keys of `device_ids`."""
        return {device_id: self._memory.keys[device_id] for device_id in device_ids}

    def rotate(self, device_id: str) -> bytes:
        """The device's current key (the memory rotated it when the PIN changed)."""
        return self._memory.keys[device_id]
