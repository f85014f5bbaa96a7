"""`Twin`: a Smart BMS 12-200 and its 12 V system that anyone can drive, watch and fork.

Drive it in virtual time (`advance_to`), in real time (`await run_until` with a
`RealtimeClock`), or both; act on it with commands (`apply`); read it (`state`), listen to it
(`subscribe`); fork it (`snapshot`, `Twin.restore`). The stepper's own steps never depend on how
the twin is driven: `advance_to` looks into the step in flight without ending it, and only a
command makes a step boundary, as a real event does. So one call to 48 h and a thousand small
calls give the same events.
"""

import dataclasses
import math
from collections.abc import Callable
from pathlib import Path

from smartbms import scenario as sc
from smartbms.core.controller import ControllerState
from smartbms.core.events import Event
from smartbms.plant.system import OperatingPoint, SystemState
from smartbms.twin.clock import Clock, VirtualClock
from smartbms.twin.commands import Command
from smartbms.twin.engine import TIME_EPS_S, Engine, EngineState, Planned
from smartbms.twin.execute import check
from smartbms.twin.observe import twin_state
from smartbms.twin.state import TwinState
from smartbms.twin.stepper import Stepper

Listener = Callable[[tuple[Event, ...], TwinState], None]
"""Called with each batch of events and the state after them."""
StepListener = Callable[[float, float, TwinState], None]
"""Called once per step with its start, its length and the state at its start."""


@dataclasses.dataclass(frozen=True, slots=True)
class TwinSnapshot:
    """A twin at one instant, as plain values: picklable, so it can cross process boundaries.

    It holds the last step boundary (plant, controller and loop memory there) and the time the
    twin had reached; the step in flight is integrated again from the boundary on restore, the
    same way, so the restored twin goes on with exactly the events the original would have had.
    """

    scenario: sc.Scenario
    stepper: Stepper
    now_s: float
    plant: SystemState
    controller: ControllerState
    engine: EngineState


@dataclasses.dataclass(slots=True)
class Subscription:
    """What `subscribe` returns: call it (or `close`) to stop listening."""

    _twin: "Twin | None"
    _listener: Listener

    def close(self) -> None:
        """Stop listening (again is harmless)."""
        twin, self._twin = self._twin, None
        if twin is not None and self._listener in twin._listeners:
            twin._listeners.remove(self._listener)

    def __call__(self) -> None:
        """The same as `close`."""
        self.close()


class Twin:
    """One simulated installation: BMS, batteries, vehicle side, devices, faults."""

    def __init__(self, engine: Engine, *, clock: Clock | None = None) -> None:
        self._engine = engine
        self.clock: Clock = clock if clock is not None else VirtualClock()
        self._now_s = engine.t_s
        self._planned: Planned | None = None
        self._listeners: list[Listener] = []
        self._step_listeners: list[StepListener] = []
        self._start_state: TwinState | None = None
        self._state_cache: TwinState | None = None
        self._attached = False
        self._unreported: list[Event] = []

    @classmethod
    def from_scenario(
        cls,
        scenario: sc.Scenario | str | Path,
        *,
        clock: Clock | None = None,
        stepper: Stepper | None = None,
    ) -> "Twin":
        """A twin of a scenario's installation at t = 0, with its timeline scheduled.

        `scenario` is a file (raises `ScenarioError` naming the line and field of a mistake) or
        a scenario already loaded. Without a clock, `VirtualClock()`.
        """
        if not isinstance(scenario, sc.Scenario):
            scenario = sc.load_scenario(Path(scenario))
        twin = cls(Engine(scenario, stepper=stepper), clock=clock)
        # The BMS's first look at t = 0 and the timeline's entries at 0: their events are
        # handed out with the first batch (`advance_to` or `apply`), so no one misses them.
        twin._begin(0.0, twin._unreported.append)
        return twin

    # --- time ---------------------------------------------------------------------------------

    @property
    def now_s(self) -> float:
        """Simulated seconds since the start."""
        return self._now_s

    @property
    def scenario(self) -> sc.Scenario:
        """The installation and timeline the twin was built from."""
        return self._engine.scenario

    @property
    def steps(self) -> int:
        """Steps taken so far (instants at which the BMS decided)."""
        return self._engine.steps

    def next_time(self) -> float:
        """When the next thing already known is due; `math.inf` if none.

        That is a controller deadline, a command of the timeline or a device's timer. Threshold
        crossings are not known in advance: they are found while advancing.
        """
        return self._engine.next_due_s()

    def advance_to(self, t_s: float) -> tuple[Event, ...]:
        """Let simulated time run to `t_s`; the events of (now, t_s], in order."""
        if not t_s >= self._now_s:  # also refuses NaN
            msg = f"cannot advance to {t_s}: the twin is at {self._now_s} s and time runs forward"
            raise ValueError(msg)
        if t_s == math.inf:
            msg = "cannot advance to infinity; give a time"
            raise ValueError(msg)
        events = self._take_unreported()
        engine = self._engine
        while True:
            if self._planned is None:
                if t_s <= engine.t_s:
                    break
                self._planned = engine.plan()
            planned = self._planned
            if planned.t_end_s > t_s:
                break
            self._finish(planned, events.append)
            self._begin(planned.t_end_s, events.append)
        self._now_s = t_s
        self._state_cache = None
        return self._publish(events)

    def apply(self, command: Command) -> tuple[Event, ...]:
        """Carry out `command` now; the events it caused (published to subscribers too).

        Raises `CommandError` (or `PairingError` for a wrong PIN) for a command the twin cannot
        take; then nothing changed, not even where the step in flight ends.
        """
        engine = self._engine
        now = self._now_s
        events: list[Event] = []
        check(command, engine.target)
        planned = self._in_flight()
        if planned is not None and now > engine.t_s + TIME_EPS_S:
            self._finish(engine.truncate(planned, now), events.append)
        elif planned is not None:
            engine.unplan(planned)
            self._planned = None
        self._begin(now, events.append, command=command)
        self._state_cache = None
        return self._publish(self._take_unreported() + events)

    async def run_until(self, t_s: float) -> None:
        """Advance to `t_s` at the clock's pace (sleeping between looks with a realtime clock)."""
        if not self._attached:
            self.clock.attach(self._now_s)
            self._attached = True
        while self._now_s < t_s:
            target = min(self.clock.target_s(), t_s)
            if math.isinf(self.clock.target_s()):  # virtual: one step at a time, then yield
                target = min(t_s, self._step_end())
            if target > self._now_s:
                self.advance_to(target)
            if self._now_s >= t_s:
                break
            wake = self._planned.t_end_s if self._planned is not None else self.next_time()
            await self.clock.wait(min(t_s, wake))

    def _in_flight(self) -> Planned | None:
        """The step in flight; planned now if the twin is inside one it has not planned yet.

        That happens to a twin restored from a snapshot taken between two step boundaries.
        """
        if self._planned is None and self._now_s > self._engine.t_s + TIME_EPS_S:
            self._planned = self._engine.plan()
        return self._planned

    def _step_end(self) -> float:
        """The end of the step in flight (planned now if none is)."""
        if self._planned is None:
            self._planned = self._engine.plan()
        return self._planned.t_end_s

    # --- reading --------------------------------------------------------------------------------

    @property
    def state(self) -> TwinState:
        """The twin now, as one frozen value."""
        cached = self._state_cache
        if cached is not None:
            return cached
        engine = self._engine
        planned = self._in_flight()
        if planned is None or self._now_s <= engine.t_s + TIME_EPS_S:
            state = self._boundary_state()
            if state.t_s != self._now_s:  # a hair after the boundary: the same instant
                state = dataclasses.replace(state, t_s=self._now_s)
        else:
            with engine.looking_into(planned, self._now_s) as op:
                state = self._read(self._now_s, op)
        self._state_cache = state
        return state

    def _boundary_state(self) -> TwinState:
        """The state at the last step boundary (the plant may be at the step's end already)."""
        if self._start_state is not None:
            return self._start_state
        engine = self._engine
        planned = self._planned
        if planned is None:
            state = self._read(engine.t_s, None)
        else:
            with engine.looking_into(planned, None):
                state = self._read(engine.t_s, None)
        self._start_state = state
        return state

    def _read(self, t: float, op: OperatingPoint | None) -> TwinState:
        engine = self._engine
        result = engine.result
        at = engine.op if op is None else op
        assert result is not None  # noqa: S101  # begin() ran at construction
        assert at is not None  # noqa: S101
        return twin_state(
            t,
            engine.system,
            engine.controller,
            engine.world,
            op=at,
            outputs=engine.outputs,
            readings=result.readings,
        )

    def subscribe(self, listener: Listener) -> Subscription:
        """Call `listener(events, state)` after each `advance_to` and `apply`."""
        self._listeners.append(listener)
        return Subscription(self, listener)

    def observe_steps(self, listener: StepListener) -> Callable[[], None]:
        """Call `listener(t_s, dt_s, state)` for every step, with the state at its start.

        For recorders (trace, summary): the state is read at every step boundary, so a run
        with a step listener costs a little more. Returns a function that stops it.
        """
        self._step_listeners.append(listener)

        def stop() -> None:
            if listener in self._step_listeners:
                self._step_listeners.remove(listener)

        return stop

    # --- forks ----------------------------------------------------------------------------------

    def snapshot(self) -> TwinSnapshot:
        """The twin now, as plain picklable values (see `TwinSnapshot`)."""
        engine = self._engine
        planned = self._planned
        if planned is None:
            plant = engine.system.snapshot()
            loop = engine.save()
        else:
            plant = planned.start.state
            loop = dataclasses.replace(
                engine.save(),
                proposal_s=planned.proposal_s_before,
                previous_slopes=planned.previous_slopes_before,
                loop_rate=planned.loop_rate,
            )
        return TwinSnapshot(
            scenario=engine.scenario,
            stepper=engine.stepper,
            now_s=self._now_s,
            plant=plant,
            controller=engine.controller.snapshot(),
            engine=loop,
        )

    @classmethod
    def restore(cls, snapshot: TwinSnapshot, *, clock: Clock | None = None) -> "Twin":
        """A new twin that goes on exactly where the snapshot's twin was."""
        engine = Engine(snapshot.scenario, stepper=snapshot.stepper)
        engine.system.restore(snapshot.plant)
        engine.controller.restore(snapshot.controller)
        engine.load(snapshot.engine)
        twin = cls(engine, clock=clock)
        twin._now_s = snapshot.now_s
        return twin

    # --- internals ------------------------------------------------------------------------------

    def _finish(self, planned: Planned, emit: Callable[[Event], None]) -> None:
        """Make the step in flight history, telling the step listeners about it."""
        if self._step_listeners:
            start = self._boundary_state()
            for listener in self._step_listeners:
                listener(planned.start.t_s, planned.t_end_s - planned.start.t_s, start)
        self._engine.commit(planned, emit)
        self._planned = None

    def _begin(
        self, t: float, emit: Callable[[Event], None], *, command: Command | None = None
    ) -> None:
        self._start_state = None
        self._engine.begin(t, emit, command=command)
        if self._step_listeners:
            self._boundary_state()  # read now, while the plant is here

    def _take_unreported(self) -> list[Event]:
        events, self._unreported = self._unreported, []
        return events

    def _publish(self, events: list[Event]) -> tuple[Event, ...]:
        batch = tuple(events)
        if self._listeners:
            state = self.state
            for listener in list(self._listeners):
                listener(batch, state)
        return batch
