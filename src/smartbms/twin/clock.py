"""How simulated time relates to wall time: as fast as possible, or following the wall clock.

The same two environments as SimPy's `Environment` and `RealtimeEnvironment`: the twin never
knows which one drives it. A clock says which simulated time the twin should have reached now
(`target_s`) and waits (`wait`) until it is worth advancing again. The wall-time source and the
sleep are injected, so tests drive a `RealtimeClock` with a fake clock; the BMS core still never
reads a clock at all.
"""

import asyncio
import math
import time
from collections.abc import Awaitable, Callable
from typing import Protocol

TimeSource = Callable[[], float]
_MIN_SLEEP_TICKS = 0.01
"""The shortest wait, in ticks, so a loop waiting for a due time always lets time pass."""
Sleep = Callable[[float], Awaitable[None]]


class Clock(Protocol):
    """What `Twin.run_until` asks of a clock."""

    def attach(self, sim_s: float) -> None:
        """The twin is at `sim_s` now: start counting from there."""

    def target_s(self) -> float:
        """The simulated time the twin should have reached by now (inf: as far as it can)."""

    async def wait(self, until_s: float) -> None:
        """Let time pass until simulated `until_s` is due, or less (a tick, a speed change)."""


class VirtualClock:
    """Simulated time runs as fast as the stepper can; waiting only yields to other tasks."""

    def __init__(self, *, sleep: Sleep = asyncio.sleep) -> None:
        self._sleep = sleep

    def attach(self, sim_s: float) -> None:
        """Nothing to anchor: virtual time is wherever the twin is."""
        del sim_s

    def target_s(self) -> float:
        """As far as the twin is asked to go."""
        return math.inf

    async def wait(self, until_s: float) -> None:
        """Give other tasks a turn; no time passes."""
        del until_s
        await self._sleep(0.0)


class RealtimeClock:
    """Simulated time follows wall time times `speed`; it can be paused and sped up live.

    `tick_s` is the longest wall-clock sleep between two looks, so a speed change, a pause or
    a resume takes effect within it, and a live app gets a fresh state at least that often.
    """

    def __init__(
        self,
        speed: float = 1.0,
        *,
        tick_s: float = 0.25,
        time_source: TimeSource = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        _check_speed(speed)
        if not (math.isfinite(tick_s) and tick_s > 0.0):
            msg = f"tick_s must be a positive number of seconds, not {tick_s!r}"
            raise ValueError(msg)
        self._speed = speed
        self._tick_s = tick_s
        self._time = time_source
        self._sleep = sleep
        self._paused = False
        self._anchor_wall_s = time_source()
        self._anchor_sim_s = 0.0

    @property
    def speed(self) -> float:
        """Simulated seconds per wall-clock second."""
        return self._speed

    @property
    def paused(self) -> bool:
        """Simulated time stands still."""
        return self._paused

    def attach(self, sim_s: float) -> None:
        """Count from `sim_s` at this wall-clock moment."""
        self._anchor_wall_s = self._time()
        self._anchor_sim_s = sim_s

    def target_s(self) -> float:
        """Where simulated time is by the wall clock."""
        if self._paused:
            return self._anchor_sim_s
        return self._anchor_sim_s + (self._time() - self._anchor_wall_s) * self._speed

    def set_speed(self, speed: float) -> None:
        """Change the speed from now on (the time already passed keeps its speed)."""
        _check_speed(speed)
        self._reanchor()
        self._speed = speed

    def pause(self) -> None:
        """Stop simulated time where it is."""
        self._reanchor()
        self._paused = True

    def resume(self) -> None:
        """Let simulated time run again from where it was paused."""
        self._reanchor()
        self._paused = False

    async def wait(self, until_s: float) -> None:
        """Sleep until `until_s` is due by the wall clock, at most one tick."""
        if self._paused:
            await self._sleep(self._tick_s)
            return
        wall_s = (until_s - self.target_s()) / self._speed
        # something due now (a timer the twin serves next) still needs time to pass: a hair
        await self._sleep(min(max(wall_s, self._tick_s * _MIN_SLEEP_TICKS), self._tick_s))

    def _reanchor(self) -> None:
        sim_s = self.target_s()
        self._anchor_wall_s = self._time()
        self._anchor_sim_s = sim_s


def _check_speed(speed: float) -> None:
    if isinstance(speed, bool) or not (math.isfinite(speed) and speed > 0.0):
        msg = f"speed must be a positive number (simulated s per wall s), not {speed!r}"
        raise ValueError(msg)
