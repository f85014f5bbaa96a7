"""The live loop: one twin in real time, many watchers, none of whom can stall it.

`LiveTwin` runs a `Twin` on a `RealtimeClock` as one asyncio task and fans out what happens:
each watcher (an SSE client) gets a `Feed`, a bounded queue. A status is a snapshot that the next
one supersedes, so a slow watcher loses the oldest statuses (counted in `Feed.dropped_status`);
BMS events are history, so they are never dropped: a watcher that falls more than `max_events`
events behind is closed instead (it reconnects and reads the log), never silently thinned.
Payloads are serialised once per publish and shared by every feed, so fifty watchers cost the
twin fifty appends, not fifty JSON encodings.

Listeners (`subscribe`) get every batch of events with the state after it, as `Twin.subscribe`
gives them: the Instant Readout broadcaster and other integrations plug in there.
"""

import asyncio
import collections
import contextlib
import json
import math
import time
from collections.abc import Callable, Iterator
from typing import Any

from smartbms.app import views
from smartbms.core.events import Event
from smartbms.core.units import wall_clock_text
from smartbms.twin import Command, RealtimeClock, Subscription, Twin, TwinState
from smartbms.twin.commands import AppConnection

Listener = Callable[[tuple[Event, ...], TwinState], None]
STATUS_INTERVAL_S = 0.25
"""Wall seconds between two status pushes (events go out at once)."""
HISTORY_STEP_S = 30.0
"""Simulated seconds between two history samples."""
HISTORY_POINTS = 1440
"""Samples kept: 12 simulated hours at `HISTORY_STEP_S`."""
EVENT_LOG_SIZE = 1000
"""BMS events kept for `GET /api/events` and the event log page."""
HISTORY_COLUMNS = (
    "t_s",
    "battery_voltage_v",
    "bank_current_a",
    "bank_soc_pct",
    "alternator_current_a",
    "system_plus_current_a",
)


class Feed:
    """One watcher's bounded queue: statuses drop oldest, events are never dropped.

    Items come out in the order they went in. `get` returns None once the feed is closed (the
    server stops, or the watcher fell `max_events` events behind: `overflowed`).
    """

    def __init__(self, *, max_status: int = 4, max_events: int = 10_000) -> None:
        self._max_status = max_status
        self._max_events = max_events
        self._statuses: collections.deque[tuple[int, str]] = collections.deque()
        self._events: collections.deque[tuple[int, str]] = collections.deque()
        self._order = 0
        self._wake = asyncio.Event()
        self.dropped_status = 0
        """Statuses this watcher never got because it was slow."""
        self.closed = False
        self.overflowed = False

    def put_status(self, payload: str) -> None:
        """Queue a status; beyond `max_status` queued, the oldest one goes (and is counted)."""
        if self.closed:
            return
        if len(self._statuses) >= self._max_status:
            self._statuses.popleft()
            self.dropped_status += 1
        self._order += 1
        self._statuses.append((self._order, payload))
        self._wake.set()

    def put_event(self, payload: str) -> None:
        """Queue a BMS event; a watcher too far behind is closed, never given a gap."""
        if self.closed:
            return
        if len(self._events) >= self._max_events:
            self.overflowed = True
            self.close()
            return
        self._order += 1
        self._events.append((self._order, payload))
        self._wake.set()

    def close(self) -> None:
        """No more items; `get` returns None when the queue is empty."""
        self.closed = True
        self._wake.set()

    def pending(self) -> int:
        """Items waiting."""
        return len(self._statuses) + len(self._events)

    def take(self) -> tuple[str, str] | None:
        """The next item as (kind, payload) without waiting; None when empty."""
        statuses, events = self._statuses, self._events
        if events and (not statuses or events[0][0] < statuses[0][0]):
            return "event", events.popleft()[1]
        if statuses:
            return "status", statuses.popleft()[1]
        return None

    async def get(self) -> tuple[str, str] | None:
        """Wait for the next item; None once closed (after an overflow, at once)."""
        while True:
            if self.overflowed:
                return None
            item = self.take()
            if item is not None:
                return item
            if self.closed:
                return None
            self._wake.clear()
            await self._wake.wait()


class LiveTwin:
    """A twin running in real time with its watchers, history and event log.

    Every change goes through `apply` on the event loop's thread (the API's handlers are
    coroutines), so the twin is never touched by two threads. `start` and `stop` run and end the
    loop task; `stop` closes every feed, so open streams end and the server can shut down.
    """

    def __init__(
        self,
        twin: Twin,
        clock: RealtimeClock,
        *,
        status_interval_s: float = STATUS_INTERVAL_S,
        wall_time: Callable[[], float] = time.monotonic,
    ) -> None:
        self.twin = twin
        self.clock = clock
        self._status_interval_s = status_interval_s
        self._wall_time = wall_time
        section = twin.scenario.scenario
        self.start_time_of_day_s = section.start_time_of_day_h * 3600.0
        """Seconds after midnight at t = 0 (the scenario's `start_time_of_day_h`)."""
        self.start_weekday = None if section.start_date is None else section.start_date.weekday()
        """The weekday of t = 0 (0 Monday); None: the scenario has no `start_date`."""
        self._feeds: set[Feed] = set()
        self._connected = False
        self._listeners: list[Listener] = []
        self._task: asyncio.Task[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._last_status_wall_s = -math.inf
        self._status_payload: str | None = None
        self.event_count = 0
        """BMS events published since the start (the next event's sequence number is this + 1)."""
        self.event_log: collections.deque[dict[str, Any]] = collections.deque(maxlen=EVENT_LOG_SIZE)
        self.history: collections.deque[tuple[float, ...]] = collections.deque(
            maxlen=HISTORY_POINTS
        )
        self._next_sample_s = 0.0
        self.failure: BaseException | None = None
        """What ended the loop, if anything but `stop` did."""
        twin.subscribe(self._on_publish)
        self._sample(twin.state)

    # --- running --------------------------------------------------------------------------------

    def start(self) -> None:
        """Run the twin in real time from now on (on the running event loop)."""
        if self._task is None:
            self._loop = asyncio.get_running_loop()
            self._task = self._loop.create_task(self._run(), name="smartbms-twin")

    async def _run(self) -> None:
        try:
            await self.twin.run_until(math.inf)
        except asyncio.CancelledError:
            raise
        except Exception as error:  # the loop must not die silently: watchers are told
            self.failure = error
            self.close_feeds()
            raise

    async def stop(self) -> None:
        """End the loop and every feed (clean shutdown)."""
        self.close_feeds()
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    @property
    def running(self) -> bool:
        """The loop task is alive."""
        return self._task is not None and not self._task.done()

    # --- acting ---------------------------------------------------------------------------------

    def apply(self, command: Command) -> tuple[Event, ...]:
        """Carry out `command` now (raises `CommandError` / `PairingError`, changing nothing)."""
        return self.twin.apply(command)

    def set_clock(self, *, speed: float | None = None, paused: bool | None = None) -> None:
        """Change the pace of simulated time (ValueError for a speed that is not positive)."""
        if speed is not None:
            self.clock.set_speed(speed)
        if paused is True and not self.clock.paused:
            self.clock.pause()
        elif paused is False and self.clock.paused:
            self.clock.resume()
        self._last_status_wall_s = -math.inf  # the next publish shows the change

    # --- watching -------------------------------------------------------------------------------

    def subscribe(self, listener: Listener) -> Subscription:
        """Call `listener(events, state)` after every batch (readout broadcasters, integrations)."""
        return self.twin.subscribe(listener)

    @contextlib.contextmanager
    def feed(self, *, max_status: int = 4, max_events: int = 10_000) -> Iterator[Feed]:
        """A watcher's feed, starting with the current status; removed on exit."""
        feed = Feed(max_status=max_status, max_events=max_events)
        feed.put_status(self.status_payload())
        self._feeds.add(feed)
        if len(self._feeds) == 1:
            self._app_connected(True)
        try:
            yield feed
        finally:
            self._feeds.discard(feed)
            feed.close()
            if not self._feeds:
                self._app_connected(False)

    def _app_connected(self, connected: bool) -> None:
        """The blue LED follows the app (LED-*): on while at least one page watches live."""
        if self._connected != connected:
            self._connected = connected
            self.twin.apply(AppConnection(connected=connected))

    @property
    def watchers(self) -> int:
        """Feeds open now."""
        return len(self._feeds)

    def close_feeds(self) -> None:
        """Close every feed (their streams end)."""
        for feed in list(self._feeds):
            feed.close()

    def close_feeds_threadsafe(self) -> None:
        """Close every feed from any thread or a signal handler (the server is stopping)."""
        loop = self._loop
        if loop is None or loop.is_closed():
            self.close_feeds()
        else:
            loop.call_soon_threadsafe(self.close_feeds)

    def status(self) -> dict[str, Any]:
        """The status page now, as JSON values."""
        state = self.twin.state
        return views.status(state, self.clock_text(state.t_s))

    def status_payload(self) -> str:
        """The status now, serialised (cached until the twin moves)."""
        if self._status_payload is None:
            self._status_payload = json.dumps(self.status(), separators=(",", ":"))
        return self._status_payload

    def history_columns(self) -> dict[str, list[float | None]]:
        """The history samples as columns (uPlot's data layout)."""
        rows = list(self.history)
        return {
            name: [row[i] if math.isfinite(row[i]) else None for row in rows]
            for i, name in enumerate(HISTORY_COLUMNS)
        }

    def events_after(self, seq: int) -> list[dict[str, Any]]:
        """The logged events with a sequence number above `seq`, oldest first."""
        return [record for record in self.event_log if record["seq"] > seq]

    def clock_text(self, t_s: float) -> str:
        """The twin's clock at simulated `t_s`, as the report and the CLI read it.

        'Fri 16:00:05' when the scenario gives a `start_date`, else 'day 1 16:00:05'.
        """
        return wall_clock_text(
            t_s, start_time_of_day_s=self.start_time_of_day_s, start_weekday=self.start_weekday
        )

    # --- the twin's listener ---------------------------------------------------------------------

    def _on_publish(self, events: tuple[Event, ...], state: TwinState) -> None:
        self._status_payload = None
        feeds = list(self._feeds)
        for item in events:
            self.event_count += 1
            record = views.event(self.event_count, item, self.clock_text(item.t_s))
            self.event_log.append(record)
            payload = json.dumps(record, separators=(",", ":"))
            for feed in feeds:
                feed.put_event(payload)
        self._sample(state)
        if not feeds:
            return
        now = self._wall_time()
        if events or now - self._last_status_wall_s >= self._status_interval_s:
            self._last_status_wall_s = now
            payload = self.status_payload()
            for feed in feeds:
                feed.put_status(payload)

    def _sample(self, state: TwinState) -> None:
        if state.t_s < self._next_sample_s:
            return
        self._next_sample_s = state.t_s + HISTORY_STEP_S
        alternator = state.alternator
        self.history.append(
            (
                round(state.t_s, 1),
                round(state.readings.bank_voltage_v, 3),
                round(state.bank_current_a, 2),
                round(state.bank_soc_pct, 2),
                round(alternator.current_a, 2) if alternator is not None else math.nan,
                round(state.system_plus_current_a, 2),
            )
        )
