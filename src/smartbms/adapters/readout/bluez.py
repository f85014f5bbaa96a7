"""Broadcast frames over a real radio through BlueZ's D-Bus API (dbus-fast).

Each slot is an `org.bluez.LEAdvertisement1` object of type "broadcast" whose only content is
`ManufacturerData` {0x02E1: frame}. BlueZ reads an advertisement's properties when it is
registered, so about once a second (`period_s`) every slot is unregistered, given its device's
newest frame and registered again with `org.bluez.LEAdvertisingManager1`. An adapter has a
limited number of advertising instances (`SupportedInstances`); with more devices than
instances the slots take the devices in turn. All advertisements leave from the adapter's own
address: BlueZ offers no per-advertisement address (docs/instant-readout.md).
"""

import asyncio
import collections
import contextlib
import logging
from collections.abc import Sequence
from typing import Annotated, Final

from dbus_fast import BusType, Message, MessageType, PropertyAccess, Variant
from dbus_fast.aio import MessageBus
from dbus_fast.annotations import DBusSignature, DBusStr
from dbus_fast.service import ServiceInterface, dbus_property, method

from smartbms.adapters.readout.frames import Frame
from smartbms.codecs.readout import VICTRON_COMPANY_ID

BLUEZ: Final = "org.bluez"
ADVERTISEMENT_IFACE: Final = "org.bluez.LEAdvertisement1"
MANAGER_IFACE: Final = "org.bluez.LEAdvertisingManager1"
OBJECT_ROOT: Final = "/org/smartbms/readout"

_log = logging.getLogger(__name__)

ManufacturerData = Annotated[dict[int, Variant], DBusSignature("a{qv}")]


class Advertisement(ServiceInterface):
    """One advertising slot: a broadcast carrying one frame's manufacturer data."""

    def __init__(self) -> None:
        super().__init__(ADVERTISEMENT_IFACE)
        self.data = b""
        self.released = False

    @method()
    def Release(self) -> None:  # noqa: N802  # BlueZ's method name
        """BlueZ dropped the advertisement (adapter gone, powered off)."""
        self.released = True

    @dbus_property(access=PropertyAccess.READ)
    def Type(self) -> DBusStr:  # noqa: N802  # BlueZ's property name
        """Non-connectable, as Victron's Instant Readout."""
        return "broadcast"

    @dbus_property(access=PropertyAccess.READ)
    def ManufacturerData(self) -> ManufacturerData:  # noqa: N802  # BlueZ's property name
        """{0x02E1: the frame's bytes}."""
        return {VICTRON_COMPANY_ID: Variant("ay", self.data)}


class BluezAdvertiser:
    """An `Advertiser` on a BlueZ adapter; create it inside a running asyncio loop."""

    def __init__(
        self,
        *,
        adapter: str = "hci0",
        period_s: float = 1.0,
        bus_type: BusType = BusType.SYSTEM,
        max_slots: int | None = None,
    ) -> None:
        self.adapter_path = f"/org/bluez/{adapter}"
        self.period_s = period_s
        self.bus_type = bus_type
        self.max_slots = max_slots
        self.registrations = 0
        """How many times an advertisement was registered (for tests and diagnostics)."""
        self.on_air: collections.deque[str] = collections.deque(maxlen=256)
        """The devices registered, in order (the newest last; for tests and diagnostics)."""
        self.bus_name: str | None = None
        """Our unique name on the bus once connected (where BlueZ reads the advertisements)."""
        self.error: BaseException | None = None
        """Why the broadcaster stopped, if it failed (no BlueZ, no adapter, refused)."""
        self._latest: dict[str, Frame] = {}
        self._turn = 0
        self._wake = asyncio.Event()
        self._closing = False
        self._slots: list[Advertisement] = []
        self._registered: list[bool] = []
        self._task = asyncio.get_running_loop().create_task(self._run())

    def publish(self, frames: Sequence[Frame]) -> None:
        """Keep each device's newest frame; the next re-registration sends it."""
        for frame in frames:
            self._latest[frame.device] = frame

    def close(self) -> None:
        """Unregister and disconnect in the background; `await wait_closed()` to wait."""
        self._closing = True
        self._wake.set()

    async def wait_closed(self) -> None:
        """Until the advertisements are unregistered and the bus is closed."""
        with contextlib.suppress(asyncio.CancelledError):
            await self._task

    async def _run(self) -> None:
        bus: MessageBus | None = None
        try:
            bus = await MessageBus(bus_type=self.bus_type).connect()
            self.bus_name = bus.unique_name
            while not self._closing:
                if self._latest:
                    await self._refresh(bus)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self.period_s)
        except Exception as exc:  # reported on `error`, the twin keeps running
            self.error = exc
            _log.warning("Instant Readout over BlueZ stopped: %s", exc)
        finally:
            if bus is not None:
                await self._unregister_all(bus)
                bus.disconnect()

    async def _slot_count(self, bus: MessageBus) -> int:
        wanted = len(self._latest)
        if self.max_slots is not None:
            wanted = min(wanted, self.max_slots)
        reply = await self._call(
            bus,
            "org.freedesktop.DBus.Properties",
            "Get",
            "ss",
            [MANAGER_IFACE, "SupportedInstances"],
        )
        free = int(reply.body[0].value)
        return max(1, min(wanted, free + sum(self._registered)))

    async def _refresh(self, bus: MessageBus) -> None:
        if not self._slots:
            for index in range(await self._slot_count(bus)):
                slot = Advertisement()
                bus.export(f"{OBJECT_ROOT}/{index}", slot)
                self._slots.append(slot)
                self._registered.append(False)
        devices = sorted(self._latest)
        for index, slot in enumerate(self._slots):
            device = devices[(self._turn + index) % len(devices)]
            await self._unregister(bus, index)
            slot.data = self._latest[device].manufacturer_data
            slot.released = False
            await self._call(
                bus,
                MANAGER_IFACE,
                "RegisterAdvertisement",
                "oa{sv}",
                [f"{OBJECT_ROOT}/{index}", {}],
            )
            self._registered[index] = True
            self.registrations += 1
            self.on_air.append(device)
        self._turn = (self._turn + len(self._slots)) % max(1, len(devices))

    async def _unregister(self, bus: MessageBus, index: int) -> None:
        if self._registered[index] and not self._slots[index].released:
            await self._call(
                bus, MANAGER_IFACE, "UnregisterAdvertisement", "o", [f"{OBJECT_ROOT}/{index}"]
            )
        self._registered[index] = False

    async def _unregister_all(self, bus: MessageBus) -> None:
        for index in range(len(self._slots)):
            try:
                await self._unregister(bus, index)
            except Exception as exc:  # closing: best effort, say why
                _log.info("could not unregister advertisement %d: %s", index, exc)

    async def _call(
        self, bus: MessageBus, interface: str, member: str, signature: str, body: list[object]
    ) -> Message:
        reply = await bus.call(
            Message(
                destination=BLUEZ,
                path=self.adapter_path,
                interface=interface,
                member=member,
                signature=signature,
                body=body,
            )
        )
        if reply.message_type is MessageType.ERROR:
            detail = reply.body[0] if reply.body else ""
            msg = f"BlueZ {member} on {self.adapter_path}: {reply.error_name} {detail}"
            raise RuntimeError(msg)
        return reply
