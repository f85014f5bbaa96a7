"""The live loop's parts: a watcher's bounded feed and the fan-out from one twin."""

import asyncio
import json

import pytest

from smartbms.app.context import Context
from smartbms.app.live import Feed
from smartbms.twin import commands as cmd

pytestmark = pytest.mark.anyio


def test_a_slow_watcher_loses_the_oldest_statuses_counted_never_an_event() -> None:
    feed = Feed(max_status=2, max_events=100)
    for i in range(5):
        feed.put_status(f"s{i}")
        feed.put_event(f"e{i}")
    assert feed.dropped_status == 3
    items = []
    while (item := feed.take()) is not None:
        items.append(item)
    assert [p for kind, p in items if kind == "event"] == [f"e{i}" for i in range(5)]
    assert [p for kind, p in items if kind == "status"] == ["s3", "s4"]
    assert items == [
        ("event", "e0"),
        ("event", "e1"),
        ("event", "e2"),
        ("status", "s3"),
        ("event", "e3"),
        ("status", "s4"),
        ("event", "e4"),
    ]


async def test_a_watcher_too_far_behind_on_events_is_closed_not_thinned() -> None:
    feed = Feed(max_status=1, max_events=3)
    for i in range(4):
        feed.put_event(f"e{i}")
    assert feed.overflowed
    assert feed.closed
    assert await feed.get() is None


async def test_get_waits_for_an_item_and_ends_when_closed() -> None:
    feed = Feed()
    waiter = asyncio.create_task(feed.get())
    await asyncio.sleep(0)
    assert not waiter.done()
    feed.put_event("e")
    assert await waiter == ("event", "e")
    waiter = asyncio.create_task(feed.get())
    await asyncio.sleep(0)
    feed.close()
    assert await waiter is None


async def test_every_feed_gets_every_event_with_a_sequence_number(ctx: Context) -> None:
    live = ctx.live
    with live.feed() as first, live.feed(max_status=1) as second:
        assert live.watchers == 2
        for feed in (first, second):  # the app connecting is an event of its own (LED-4)
            while feed.take() is not None:
                pass
        start = live.event_count
        live.apply(cmd.SoftSwitch(on=False))
        live.apply(cmd.SoftSwitch(on=True))
        for feed in (first, second):
            seqs = []
            while (item := feed.take()) is not None:
                kind, payload = item
                if kind == "event":
                    seqs.append(json.loads(payload)["seq"])
            assert seqs == list(range(start + 1, live.event_count + 1))
            assert len(seqs) >= 4
    assert live.watchers == 0


async def test_listeners_get_every_batch_for_integrations(ctx: Context) -> None:
    batches = []
    subscription = ctx.live.subscribe(lambda events, state: batches.append((events, state)))
    ctx.live.apply(cmd.EngineStart())
    subscription.close()
    ctx.live.apply(cmd.EngineStop())
    assert len(batches) == 1
    assert batches[0][1].alternator is not None


async def test_the_loop_runs_the_twin_in_real_time_and_stops_cleanly(ctx: Context) -> None:
    live = ctx.live
    live.set_clock(speed=1000.0)
    with live.feed() as feed:
        live.start()
        started = live.running
        await asyncio.sleep(0.3)
        assert live.twin.now_s > 10.0
        assert feed.pending() > 0
        await live.stop()
        assert started
        assert not live.running
        assert feed.closed
    moved = live.twin.now_s
    await asyncio.sleep(0.05)
    assert live.twin.now_s == moved


async def test_pause_stops_simulated_time(ctx: Context) -> None:
    live = ctx.live
    live.set_clock(speed=1000.0, paused=True)
    live.start()
    await asyncio.sleep(0.2)
    paused_at = live.twin.now_s
    live.set_clock(paused=False)
    await asyncio.sleep(0.2)
    assert paused_at == 0.0
    assert live.twin.now_s > 0.0
    await live.stop()


@pytest.mark.req("LED-4")
async def test_the_blue_led_is_steady_while_a_page_watches_and_blinks_after(ctx: Context) -> None:
    """LED-4: steady blue while the app is connected, back to broadcasting when it leaves."""
    from smartbms.core.signals import LED_NAMES  # noqa: PLC0415

    blue = [i for i, name in enumerate(LED_NAMES) if "luetooth" in name or "blue" in name.lower()]
    assert blue, LED_NAMES

    def blue_mode() -> str:
        return str(ctx.live.twin.state.outputs.leds.as_tuple()[blue[0]].value)

    ctx.live.twin.advance_to(2.0)
    before = blue_mode()
    with ctx.live.feed():
        ctx.live.twin.advance_to(4.0)
        during = blue_mode()
    ctx.live.twin.advance_to(6.0)
    assert (before, during, blue_mode()) == ("blink", "on", "blink")
