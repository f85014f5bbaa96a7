"""How much 50 watchers slow the live twin of `smartbms serve` (a figure, not a test).

Run: `.venv/bin/python benchmarks/serve_bench.py [--wall-s 60] [--clients 50] [--speed 100]`.
The app runs in uvicorn on a loopback port, the twin at `--speed`. The same twin from t = 0 runs
twice, half the wall time each: alone, then with `--clients` SSE watchers (in a separate
process, as browsers would be). Both runs switch the engine on and off every 2 s through the API,
so the BMS has events to send. Per run it measures:

- busy_ms_per_sim_h: wall time spent inside the twin's `advance_to` (stepping plus the fan-out
  to the feeds) per simulated hour, and cpu_ms_per_sim_h the server thread's CPU time in it (on
  a shared machine the wall figure also counts waiting for a core that the watchers' process,
  or anyone else, holds);
- pace: simulated time reached over `speed` x wall time (1.0: it kept real time);
- loop_lag_ms: how late a 10 ms timer fires on the server's event loop (mean and p99): how long
  serving the watchers keeps the twin from its next wake-up.

`cpu_slowdown_pct` (and `busy_slowdown_pct`, in wall time) is how much more the twin costs per
simulated hour with the watchers (target under 10 %). The last line of stdout is one JSON
object with every figure.
"""

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # tests.app.served: the same loopback server as the tests

from tests.app.served import served, sse_messages, stream_headers  # noqa: E402

from smartbms.app.context import Context  # noqa: E402
from smartbms.app.server import build_context  # noqa: E402

FIGURE_1 = ROOT / "examples" / "manual-figure-1.toml"


async def _watch_all(url: str, clients: int, wall_s: float) -> dict[str, int]:
    """`clients` SSE watchers for `wall_s`; the events and statuses they got."""
    counts = {"events": 0, "statuses": 0, "dropped_notices": 0}
    limits = httpx.Limits(max_connections=clients + 5)
    async with httpx.AsyncClient(base_url=url, timeout=wall_s + 30, limits=limits) as client:

        async def watch() -> None:
            async with client.stream("GET", "/api/stream", headers=stream_headers()) as response:
                async for kind, _ in sse_messages(response):
                    key = {"event": "events", "status": "statuses", "dropped": "dropped_notices"}
                    if kind in key:
                        counts[key[kind]] += 1

        tasks = [asyncio.create_task(watch()) for _ in range(clients)]
        await asyncio.sleep(wall_s)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    return counts


class Probe:
    """Measures the server loop's lateness and the twin's busy time."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.busy_s = 0.0
        self.cpu_s = 0.0
        self.lags_ms: list[float] = []
        self.started = time.perf_counter()
        twin = ctx.live.twin
        advance = twin.advance_to

        def timed(t_s: float) -> Any:
            start, cpu = time.perf_counter(), time.thread_time()
            try:
                return advance(t_s)
            finally:
                self.busy_s += time.perf_counter() - start
                self.cpu_s += time.thread_time() - cpu

        twin.advance_to = timed  # type: ignore[method-assign]

    async def lag(self) -> None:
        while True:
            start = time.perf_counter()
            await asyncio.sleep(0.010)
            self.lags_ms.append((time.perf_counter() - start - 0.010) * 1000.0)

    def reset(self) -> tuple[float, float, float, float, list[float]]:
        """(busy wall s, busy CPU s, wall s, sim time now, lags) since the last reset."""
        now = time.perf_counter()
        taken = (
            self.busy_s,
            self.cpu_s,
            now - self.started,
            self.ctx.live.twin.now_s,
            self.lags_ms,
        )
        self.busy_s, self.cpu_s, self.lags_ms, self.started = 0.0, 0.0, [], now
        return taken


def _drive(url: str, stop: threading.Event) -> None:
    """Switch the engine on and off every 2 s, as a user would (events for the watchers)."""
    with httpx.Client(base_url=url, timeout=10) as client:
        token = client.post("/api/pair", json={"pin": "000000"}).json()["csrf_token"]
        on = False
        while not stop.wait(2.0):
            on = not on
            kind = "engine-start" if on else "engine-stop"
            client.post("/api/commands", json={"type": kind}, headers={"X-CSRF-Token": token})


def _phase(name: str, probe: Probe, speed: float, sim0: float) -> dict[str, Any]:
    busy, cpu, wall_s, sim1, lags = probe.reset()
    sim_h = (sim1 - sim0) / 3600.0
    lags.sort()
    return {
        f"{name}_wall_s": round(wall_s, 2),
        f"{name}_sim_h": round(sim_h, 3),
        f"{name}_pace": round((sim1 - sim0) / (speed * wall_s), 3),
        f"{name}_busy_ms_per_sim_h": round(busy * 1000.0 / sim_h, 1) if sim_h else None,
        f"{name}_cpu_ms_per_sim_h": round(cpu * 1000.0 / sim_h, 1) if sim_h else None,
        f"{name}_loop_lag_ms_mean": round(statistics.fmean(lags), 2) if lags else None,
        f"{name}_loop_lag_ms_p99": round(lags[int(0.99 * (len(lags) - 1))], 2) if lags else None,
    }


def _run(name: str, clients: int, wall_s: float, speed: float) -> dict[str, Any]:
    """A fresh twin from t = 0, served for `wall_s` with `clients` watchers; its figures."""
    ctx = build_context(FIGURE_1, speed=speed)
    probe = Probe(ctx)
    received: dict[str, int] = {}
    with served(ctx) as url:
        loop = ctx.live._loop  # the server's loop, to time its lateness
        assert loop is not None  # noqa: S101
        lag_task = asyncio.run_coroutine_threadsafe(probe.lag(), loop)
        watchers = None
        if clients:
            watchers = subprocess.Popen(  # noqa: S603  # this very script
                [sys.executable, __file__, "--watch", url, str(clients), str(wall_s)],
                stdout=subprocess.PIPE,
                text=True,
            )
            deadline = time.monotonic() + 30.0
            while ctx.live.watchers < clients and time.monotonic() < deadline:
                time.sleep(0.05)
        stop = threading.Event()
        driver = threading.Thread(target=_drive, args=(url, stop), daemon=True)
        probe.reset()
        sim0 = ctx.live.twin.now_s
        driver.start()
        time.sleep(wall_s)
        figures = _phase(name, probe, speed, sim0)
        stop.set()
        lag_task.cancel()
        driver.join(5)
        if watchers is not None:
            out, _ = watchers.communicate(timeout=60)
            received = json.loads(out.strip().splitlines()[-1])
    return figures | {f"{name}_watchers_{k}": v for k, v in received.items()}


def main() -> int:
    """Run the twin alone, then watched, and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--wall-s", type=float, default=60.0)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--speed", type=float, default=100.0)
    parser.add_argument("--watch", nargs=3, metavar=("URL", "CLIENTS", "WALL_S"), help="internal")
    args = parser.parse_args()
    if args.watch:
        url, clients, wall = args.watch
        print(json.dumps(asyncio.run(_watch_all(url, int(clients), float(wall) + 5.0))))
        return 0
    half = args.wall_s / 2
    figures: dict[str, Any] = {"speed": args.speed, "clients": args.clients, "wall_s": args.wall_s}
    figures |= _run("alone", 0, half, args.speed)
    figures |= _run("watched", args.clients, half, args.speed)
    for kind in ("busy", "cpu"):
        alone, watched = (
            figures[f"alone_{kind}_ms_per_sim_h"],
            figures[f"watched_{kind}_ms_per_sim_h"],
        )
        slowdown = round((watched / alone - 1.0) * 100.0, 1) if alone and watched else None
        figures[f"{kind}_slowdown_pct"] = slowdown
    width = max(len(k) for k in figures)
    for key, value in figures.items():
        print(f"{key:<{width}}  {value}")
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
