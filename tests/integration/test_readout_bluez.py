"""The BlueZ broadcaster against python-dbusmock's bluez5 template on a private session bus.

The template (python-dbusmock 0.38) implements `org.bluez.LEAdvertisingManager1`
(RegisterAdvertisement / UnregisterAdvertisement, ActiveInstances, SupportedInstances = 5 free
instances) on each adapter it adds, so nothing needs adding here. Run under
`dbus-run-session -- pytest ...` (the Makefile does); without a session bus these tests skip,
except in CI (CI=true), where they fail.
"""

import asyncio
import concurrent.futures
import os
import subprocess
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path

import pytest
from dbus_fast import BusType, Message, MessageType, Variant
from dbus_fast.aio import MessageBus

from smartbms.adapters.readout import Broadcaster, Framer, device_ids
from smartbms.adapters.readout.bluez import ADVERTISEMENT_IFACE, MANAGER_IFACE, BluezAdvertiser
from smartbms.codecs import readout as ro
from smartbms.twin import Twin

pytestmark = pytest.mark.req("APP-4")

if not os.environ.get("DBUS_SESSION_BUS_ADDRESS") and os.environ.get("CI") != "true":
    pytest.skip(
        "no D-Bus session bus: run under `dbus-run-session -- pytest` (CI=true makes this fail)",
        allow_module_level=True,
    )

FIGURE_1 = Path(__file__).resolve().parents[2] / "examples" / "manual-figure-1.toml"
ADAPTER = "/org/bluez/hci0"


@pytest.fixture
def bluez() -> Iterator[None]:
    """A mock BlueZ with one adapter, hci0, on the session bus."""
    dbusmock = pytest.importorskip("dbusmock")
    server, proxy = dbusmock.DBusTestCase.spawn_server_template(
        "bluez5", {}, stdout=subprocess.DEVNULL, system_bus=False
    )
    try:
        proxy.AddAdapter("hci0", "smartbms-test", dbus_interface="org.bluez.Mock")
        yield
    finally:
        server.terminate()
        server.wait()


async def _call(
    bus: MessageBus, destination: str, path: str, interface: str, member: str, *body: object
) -> list[object]:
    signature = "s" * len(body)
    reply = await bus.call(
        Message(
            destination=destination,
            path=path,
            interface=interface,
            member=member,
            signature=signature,
            body=list(body),
        )
    )
    assert reply.message_type is MessageType.METHOD_RETURN, reply.body
    return list(reply.body)


async def _active_instances(bus: MessageBus) -> int:
    (value,) = await _call(
        bus,
        "org.bluez",
        ADAPTER,
        "org.freedesktop.DBus.Properties",
        "Get",
        MANAGER_IFACE,
        "ActiveInstances",
    )
    assert isinstance(value, Variant)
    return int(value.value)


async def _until(check: Callable[[], bool], what: str, timeout_s: float = 10.0) -> None:
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout_s
    while not check():
        if loop.time() > end:
            pytest.fail(f"timed out waiting for {what}")
        await asyncio.sleep(0.02)


def _run(test: Callable[[], Awaitable[None]]) -> None:
    """Run `test` on a fresh event loop in its own thread.

    Another test in the same worker (Playwright's sync API) may leave an event loop running on
    the main thread, where `asyncio.run` would refuse to start.
    """

    async def bounded() -> None:
        await asyncio.wait_for(test(), 60.0)

    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(asyncio.run, bounded()).result()


def _frames() -> tuple[Twin, dict[str, bytes]]:
    twin = Twin.from_scenario(FIGURE_1)
    keys = {d: bytes([n + 1]) * 16 for n, d in enumerate(device_ids(twin.state))}
    return twin, keys


def test_every_device_is_registered_as_a_broadcast_with_victrons_manufacturer_data(
    bluez: None,
) -> None:
    async def scenario() -> None:
        twin, keys = _frames()
        frames = Framer("van", keys).frames(twin.state)
        advertiser = BluezAdvertiser(bus_type=BusType.SESSION, period_s=0.05)
        advertiser.publish(frames)
        client = await MessageBus(bus_type=BusType.SESSION).connect()
        try:
            await _until(lambda: advertiser.registrations >= 2 * len(frames), "re-registrations")
            assert advertiser.error is None
            assert await _active_instances(client) == len(frames)
            assert advertiser.bus_name is not None
            seen = {}
            for index in range(len(frames)):
                (props,) = await _call(
                    client,
                    advertiser.bus_name,
                    f"/org/smartbms/readout/{index}",
                    "org.freedesktop.DBus.Properties",
                    "GetAll",
                    ADVERTISEMENT_IFACE,
                )
                assert isinstance(props, dict)
                assert props["Type"].value == "broadcast"
                (company, data), *rest = props["ManufacturerData"].value.items()
                assert rest == []
                assert company == 0x02E1
                seen[bytes(data.value)] = index
            assert set(seen) == {f.manufacturer_data for f in frames}
            advertiser.close()
            await advertiser.wait_closed()
            assert await _active_instances(client) == 0
        finally:
            client.disconnect()

    _run(scenario)


def test_with_fewer_instances_than_devices_the_slots_take_turns(bluez: None) -> None:
    async def scenario() -> None:
        twin, keys = _frames()
        frames = Framer("van", keys).frames(twin.state)
        advertiser = BluezAdvertiser(bus_type=BusType.SESSION, period_s=0.02, max_slots=1)
        advertiser.publish(frames)
        await _until(lambda: advertiser.registrations >= 2 * len(frames), "turns")
        assert set(advertiser.on_air) == {f.device for f in frames}
        advertiser.close()
        await advertiser.wait_closed()
        assert advertiser.error is None

    _run(scenario)


def test_the_twin_feeds_fresh_frames_to_bluez(bluez: None) -> None:
    async def scenario() -> None:
        twin, keys = _frames()
        advertiser = BluezAdvertiser(bus_type=BusType.SESSION, period_s=0.02)
        broadcaster = Broadcaster(twin, advertiser, keys)
        first = broadcaster.frames[0]
        await _until(lambda: advertiser.registrations >= len(keys), "first registration")
        twin.advance_to(60.0)
        second = broadcaster.frames[0]
        assert second.nonce != first.nonce
        assert ro.decode(second.manufacturer_data, keys["bms"]).record.RECORD_TYPE == 0x0E
        done = advertiser.registrations
        await _until(lambda: advertiser.registrations >= done + len(keys), "re-registration")
        await broadcaster.aclose()
        assert advertiser.error is None

    _run(scenario)


def test_no_bluez_is_reported_not_raised() -> None:
    async def scenario() -> None:
        advertiser = BluezAdvertiser(adapter="hci9", bus_type=BusType.SESSION, period_s=0.02)
        twin, keys = _frames()
        advertiser.publish(Framer("van", keys).frames(twin.state))
        await _until(lambda: advertiser.error is not None, "the error")
        await advertiser.wait_closed()
        assert "hci9" in str(advertiser.error)

    _run(scenario)
