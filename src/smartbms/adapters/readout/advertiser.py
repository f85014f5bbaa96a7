"""The one seam every Instant Readout broadcaster sits behind, and the twin feeding it.

`Broadcaster` listens to a twin (`twin.subscribe`), builds every device's frame at most once per
`interval_s` of simulated time (and at once after events), rotates the BMS key when the PIN
changes, and hands the frames to an `Advertiser`: `MemoryAdvertiser` (tests),
`CaptureAdvertiser` (JSON Lines) or `BluezAdvertiser` (`adapters.readout.bluez`, the radio).
`start_advertising(twin, spec, keys)` wires one up from a command-line spec.
"""

import json
import math
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import IO, Protocol, runtime_checkable

from smartbms.adapters.readout.frames import BMS_DEVICE, Frame, Framer, device_ids
from smartbms.codecs import readout as ro
from smartbms.core.events import Event, FactoryResetDone
from smartbms.twin import Subscription, Twin, TwinState


class Advertiser(Protocol):
    """Where frames go: each `publish` replaces what every device in it advertises."""

    def publish(self, frames: Sequence[Frame]) -> None:
        """Advertise these frames (a device's newest frame replaces its previous one)."""
        ...

    def close(self) -> None:
        """Stop advertising and let go of resources (again is harmless)."""
        ...


class MemoryAdvertiser:
    """Keeps every frame it is given: for tests and for `readout show`."""

    def __init__(self) -> None:
        self.history: list[Frame] = []
        self.latest: dict[str, Frame] = {}
        self.closed = False

    def publish(self, frames: Sequence[Frame]) -> None:
        """Record the frames."""
        for frame in frames:
            self.history.append(frame)
            self.latest[frame.device] = frame

    def close(self) -> None:
        """Mark closed."""
        self.closed = True


class CaptureAdvertiser:
    """Writes each frame as one JSON line: time, device, address, record, hex."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._file: IO[str] | None = path.open("a", encoding="utf-8")

    def publish(self, frames: Sequence[Frame]) -> None:
        """Append the frames and flush, so a reader tailing the file sees them at once."""
        if self._file is None:
            return
        for frame in frames:
            self._file.write(json.dumps(frame.capture(), separators=(",", ":")) + "\n")
        self._file.flush()

    def close(self) -> None:
        """Close the file."""
        file, self._file = self._file, None
        if file is not None:
            file.close()


@runtime_checkable
class KeySource(Protocol):
    """A key store: one key per device, created on first use; the BMS key rotates with its PIN.

    `smartbms.store.device_keys.KeyStore` is one.
    """

    def load_or_create(self, device_ids: Sequence[str]) -> dict[str, bytes]:
        """Every device's key, creating the missing ones."""
        ...

    def rotate(self, device_id: str) -> bytes:
        """A new key for the device (its first byte one more than the old one's), stored."""
        ...


def rotate_key(key: bytes) -> bytes:
    """The key with its first byte plus one (mod 256), the rest kept.

    Only for broadcasters given plain keys (tests, `readout show`): a key store's `rotate` makes
    a new random key with that first byte, as VictronConnect does.
    """
    return bytes(((key[0] + 1) & 0xFF,)) + key[1:]


class Broadcaster:
    """Feeds an advertiser from a twin; `close()` (or calling it) stops both."""

    def __init__(
        self,
        twin: Twin,
        advertiser: Advertiser,
        keys: Mapping[str, bytes] | KeySource,
        *,
        record: int = ro.RECORD_SMART_BMS,
        seed: int = 0,
        interval_s: float = 1.0,
        installation: str | None = None,
    ) -> None:
        state = twin.state
        self.advertiser = advertiser
        self.interval_s = interval_s
        if isinstance(keys, KeySource):
            self._rotate: Callable[[str], bytes] | None = keys.rotate
            key_map = keys.load_or_create(device_ids(state))
        else:
            self._rotate = None
            key_map = dict(keys)
        name = installation if installation is not None else twin.scenario.scenario.name
        self.framer = Framer(name, key_map, record=record, seed=seed)
        self._pin = state.settings.pin
        self._last_t_s = -math.inf
        self.frames: tuple[Frame, ...] = ()
        self._subscription: Subscription | None = twin.subscribe(self._on_update)
        self.send(state)

    def send(self, state: TwinState, *, rotate: bool = False) -> tuple[Frame, ...]:
        """Build and publish every device's frame for `state` now.

        The BMS key rotates first when the PIN changed since the last frame, or when `rotate`
        says so (a factory reset, which rotates it even if the PIN stays the same).
        """
        if rotate or state.settings.pin != self._pin:
            self._pin = state.settings.pin
            old = self.framer.key(BMS_DEVICE)
            new = self._rotate(BMS_DEVICE) if self._rotate is not None else rotate_key(old)
            self.framer.set_key(BMS_DEVICE, new)
        self.frames = self.framer.frames(state)
        self._last_t_s = state.t_s
        self.advertiser.publish(self.frames)
        return self.frames

    def _on_update(self, events: tuple[Event, ...], state: TwinState) -> None:
        due = state.t_s - self._last_t_s >= self.interval_s
        reset = any(isinstance(event, FactoryResetDone) for event in events)
        if due or events or state.settings.pin != self._pin:
            self.send(state, rotate=reset)

    def close(self) -> None:
        """Stop listening to the twin and close the advertiser (again is harmless)."""
        subscription, self._subscription = self._subscription, None
        if subscription is not None:
            subscription.close()
            self.advertiser.close()

    async def aclose(self) -> None:
        """`close`, then wait for an asynchronous advertiser to unregister (BlueZ)."""
        self.close()
        wait = getattr(self.advertiser, "wait_closed", None)
        if wait is not None:
            await wait()

    def __call__(self) -> None:
        """The same as `close`."""
        self.close()


def make_advertiser(spec: str) -> Advertiser:
    """An advertiser from a command-line spec: "bluez", "bluez:hci1", "capture:FILE", "memory".

    Raises `ValueError` naming the accepted forms. BlueZ needs a running asyncio loop.
    """
    kind, _, arg = spec.partition(":")
    if kind == "memory" and not arg:
        return MemoryAdvertiser()
    if kind == "capture" and arg:
        return CaptureAdvertiser(Path(arg))
    if kind == "bluez":
        from smartbms.adapters.readout.bluez import BluezAdvertiser  # noqa: PLC0415  # dbus-fast

        return BluezAdvertiser(adapter=arg or "hci0")
    msg = f"unknown advertiser {spec!r}; use bluez, bluez:ADAPTER, capture:FILE or memory"
    raise ValueError(msg)


def start_advertising(
    twin: Twin,
    spec: str,
    keys: Mapping[str, bytes] | KeySource,
    *,
    record: int = ro.RECORD_SMART_BMS,
    seed: int = 0,
    interval_s: float = 1.0,
) -> Broadcaster:
    """Broadcast the twin's devices through the advertiser `spec` names until `close()`.

    `keys` is a key store (`KeyStore`: keys created on first use, the BMS key rotated through it
    when the PIN changes) or a plain {device id: key} mapping. Call from the asyncio loop that
    runs the twin when `spec` is BlueZ; `await handle.aclose()` unregisters cleanly.
    """
    advertiser = make_advertiser(spec)
    try:
        return Broadcaster(twin, advertiser, keys, record=record, seed=seed, interval_s=interval_s)
    except BaseException:
        advertiser.close()
        raise
