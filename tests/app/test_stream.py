"""The SSE stream and many watchers, against uvicorn on a loopback port."""

import asyncio
import json
import time
from typing import Any

import httpx
import pytest

from smartbms.app.context import Context
from tests.app.served import served, sse_messages, stream_headers

pytestmark = pytest.mark.anyio


async def _pair(client: httpx.AsyncClient) -> dict[str, str]:
    response = await client.post("/api/pair", json={"pin": "000000"})
    assert response.status_code == 200
    return {"X-CSRF-Token": response.json()["csrf_token"]}


async def test_stream_sends_status_then_each_bms_event(ctx: Context) -> None:
    with served(ctx) as url:
        async with httpx.AsyncClient(base_url=url, timeout=10.0) as client:
            headers = await _pair(client)
            async with client.stream("GET", "/api/stream", headers=stream_headers()) as response:
                assert response.status_code == 200
                assert response.headers["content-type"].startswith("text/event-stream")
                messages = sse_messages(response)
                kind, data = await anext(messages)
                assert kind == "status"
                assert "battery_voltage_v" in json.loads(data)
                await client.post(
                    "/api/commands", json={"type": "soft-switch", "on": False}, headers=headers
                )
                seen: list[dict[str, Any]] = []
                statuses: list[dict[str, Any]] = []
                async for kind, data in messages:
                    if kind == "event":
                        seen.append(json.loads(data))
                    elif kind == "status":
                        statuses.append(json.loads(data))
                    if statuses and statuses[-1]["soft_switch_on"] is False and seen:
                        break
                names = [e["event"] for e in seen]
                assert "SystemSwitchedOff" in names
                assert statuses[-1]["system_plus_on"] is False
                assert all("clock" in e and "seq" in e for e in seen)


async def test_streams_end_when_the_server_stops(ctx: Context) -> None:
    ended = asyncio.Event()
    with served(ctx) as url:
        client = httpx.AsyncClient(base_url=url, timeout=10.0)

        async def watch() -> None:
            async with client.stream("GET", "/api/stream", headers=stream_headers()) as response:
                async for _ in sse_messages(response):
                    pass
            ended.set()

        task = asyncio.create_task(watch())
        deadline = time.monotonic() + 5.0
        while ctx.live.watchers == 0 and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
        assert ctx.live.watchers == 1
        started = time.monotonic()
    # `served` has stopped the server the way Ctrl-C does
    await asyncio.wait_for(ended.wait(), 5.0)
    assert time.monotonic() - started < 5.0
    await task
    await client.aclose()
    assert not ctx.live.running


@pytest.mark.slow
async def test_fifty_watchers_at_speed_100_lose_no_bms_event(ctx: Context) -> None:
    """The load test: 50 SSE clients for 10 s of wall time at speed 100."""
    watchers = 50
    wall_s = 10.0
    ctx.live.set_clock(speed=100.0)
    received: list[list[int]] = [[] for _ in range(watchers)]
    statuses = [0] * watchers
    done = asyncio.Event()
    with served(ctx) as url:
        limits = httpx.Limits(max_connections=watchers + 5)
        async with httpx.AsyncClient(base_url=url, timeout=30.0, limits=limits) as client:

            async def watch(i: int) -> None:
                async with client.stream(
                    "GET", "/api/stream", headers=stream_headers()
                ) as response:
                    async for kind, data in sse_messages(response):
                        if kind == "event":
                            received[i].append(json.loads(data)["seq"])
                        elif kind == "status":
                            statuses[i] += 1
                        if done.is_set() and received[i] and received[i][-1] >= final:
                            return

            tasks = [asyncio.create_task(watch(i)) for i in range(watchers)]
            deadline = time.monotonic() + 20.0
            while ctx.live.watchers < watchers and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
            assert ctx.live.watchers == watchers
            first = ctx.live.event_count + 1
            headers = await _pair(client)
            started = time.monotonic()
            on = True
            while time.monotonic() - started < wall_s:
                on = not on
                kind = "engine-start" if on else "engine-stop"
                response = await client.post("/api/commands", json={"type": kind}, headers=headers)
                assert response.status_code == 200
                await asyncio.sleep(0.25)
            final = ctx.live.event_count
            done.set()
            await asyncio.wait_for(asyncio.gather(*tasks), 20.0)
    sim_s = ctx.live.twin.now_s
    assert sim_s > 0.5 * 100.0 * wall_s  # the twin kept (roughly) its pace
    assert final - first > 40
    for seqs in received:
        assert seqs[0] <= first
        tail = [s for s in seqs if s >= first]
        assert tail == list(range(first, final + 1))
    assert min(statuses) > 5
