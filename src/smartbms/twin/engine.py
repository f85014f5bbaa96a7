"""The closed loop inside the twin: plant -> measurements -> controller -> commands -> plant.

A step has two halves. `begin(t)` carries out the commands due at t, lets the controller see the
plant and decide until its commands stand (a trip after a retry needs two looks at one instant).
`plan()` then integrates the plant from t to the next time the stepper picks (the step "in
flight"); `commit()` makes that step history: the plant's own events at its end are reported and
the next `begin` follows. Between plan and commit the step can be looked into (`observe_at`) or cut
short at a time inside it (`truncate`, when a command arrives mid-step), so whoever drives the
twin in chunks of any size sees exactly the steps, and so the events, of one long run.
"""

import contextlib
import copy
import dataclasses
import math
from collections.abc import Callable, Iterator

from smartbms import scenario as sc
from smartbms.core.controller import Controller, StepResult
from smartbms.core.events import Event
from smartbms.core.signals import ALL_OPEN, Inputs, Outputs
from smartbms.plant.events import AlternatorOverheatRisk
from smartbms.plant.system import OperatingPoint, TwelveVoltSystem
from smartbms.twin.blink import Stretch, either_level_crosses, mean_solve, stretch_at
from smartbms.twin.build import build_controller, build_system
from smartbms.twin.commands import Command
from smartbms.twin.corrector import Corrector, current_slopes
from smartbms.twin.crossing import controller_would_change
from smartbms.twin.execute import Target, World, end_of, execute
from smartbms.twin.guess import LoopRate
from smartbms.twin.locate import Guess, Look, look_at_end, look_at_start
from smartbms.twin.plant_watch import battery_events, chain_events, chain_lines, damage_flags
from smartbms.twin.stepper import (
    AdaptiveStep,
    Crossing,
    FixedStep,
    Slopes,
    Stepper,
    StepStart,
    Trial,
    choose_bend,
    corrector_residual,
    jolt_c,
    nested_curvatures,
    powers_differently,
    step_excess,
    stiffness,
)
from smartbms.twin.timeline import timed_commands

TIME_EPS_S = 1e-9
"""Times closer than this are the same instant (a command due 'now')."""
_MIN_STEP_S = 1e-6
"""The shortest step: lets a device timer that is due now fire."""
_LOCATED_KEPT = 10_000
"""How many located crossings a run keeps for inspection (memory stays flat over a year)."""
_SETTLE_ITERATIONS = 4
"""At most this many controller decisions at one instant (a trip after a retry needs two)."""
_SETTLED_A = 1e-6
"""A latch that moves a battery's current by no more than this moved none (solver noise)."""
_SHRINK_MAX = 0.05
"""The most one rejection shortens a step by (to this share): error control's estimates grow
as the step does (`step_excess`), so the size they ask for is met at once, not in steps of 1/5."""
_STRETCH_TO_REACH = 1.1
"""A step proposed this little short of a deadline or a knot goes on to it (error control
still judges it): what was left would be a step of its own."""
_PROBE_RETRY = 2.0
"""The probe after a jolt is tried again longer when its estimates allow this many times it."""
_PROBE_TRIES = 3
"""At most this many longer trials after a probe (each error control's next size)."""
_GUESS_MISSES = 2
"""After this many guesses in a row whose tries did not bracket the crossing, it is bisected:
guesses poor for long (the cold inverter's 1,400-3,600 s steps, a cell relaxing for minutes
after its load went, crossing in the first minute) cost more looks than the trials they save."""
_KNOT_REST = 0.01
"""A step aimed at a knot that ended short of it by at most this share goes on to it."""

Emit = Callable[[Event], None]
Signature = tuple[object, ...]
"""The plant's latches (`TwelveVoltSystem.discrete_state`)."""
Flip = tuple[Signature, Signature]
"""The plant's latches before and after a crossing that changed nothing else."""


@dataclasses.dataclass(frozen=True, slots=True)
class Planned:
    """A step in flight: integrated to its end, not yet history."""

    start: StepStart
    """Where it starts (the plant's snapshot there, the BMS's decision)."""
    t_end_s: float
    op_end: OperatingPoint | None
    """The operating point at the end (None: solve it afresh there)."""
    overheat: bool
    previous_slopes: Slopes | None
    """The curvature memory the step was integrated with (to look into it the same way)."""
    fixed: bool
    """Taken by the fixed reference stepper."""
    proposal_s_before: float
    previous_slopes_before: Slopes | None
    """The stepper's memory before this step was planned (to take the plan back)."""
    stretch: Stretch | None = None
    """Taken across the blinking pre-alarm's edges at its average load."""
    flip: Flip | None = None
    """The plant's latches alone changed within it: from which to which (located or chatter)."""
    loop_rate: LoopRate | None = None
    """The loop rate its trials predicted with (`Engine._loop_rate`), before it was planned."""


@dataclasses.dataclass(frozen=True, slots=True)
class EngineState:
    """The loop's own memory beyond the plant and the controller (for snapshots)."""

    t_s: float
    outputs: Outputs
    op: OperatingPoint | None
    result: StepResult | None
    inputs: Inputs
    commands_taken: int
    world: World
    chain_state: tuple[tuple[bool, bool, bool], ...]
    damaged: tuple[bool, ...]
    proposal_s: float
    previous_slopes: Slopes | None
    eventful: bool
    steps: int
    jolted: bool = True
    flips: tuple[tuple[float, Flip], ...] = ()
    chatter: Flip | None = None
    loop_rate: LoopRate | None = None


class Engine:
    """Plant, controller and stepper of one twin (the twin's private machinery)."""

    def __init__(self, scenario: sc.Scenario, *, stepper: Stepper | None = None) -> None:
        self.scenario = scenario
        self.stepper: Stepper = stepper or AdaptiveStep()
        self.system: TwelveVoltSystem = build_system(scenario)
        self.controller: Controller = build_controller(scenario)
        self.outputs = ALL_OPEN
        self.world = World(
            built_connection_ohm=tuple(
                b.options.connection_resistance_ohm for b in self.system.batteries
            )
        )
        self.target = Target(self.system, self.controller, self.world)
        self.horizon_s = scenario.duration_s
        """The scenario's end: a step boundary (the twin goes on beyond it)."""
        self._schedule: Iterator[tuple[float, Command]] = timed_commands(scenario)
        self._commands_taken = 0
        self._next_command = next(self._schedule, None)
        self._chain_state = chain_lines(self.system)
        self._damaged = damage_flags(self.system)
        self._proposal_s = 1.0
        self._previous_slopes: Slopes | None = None
        self._eventful = False
        self._jolted = True
        self._flips: tuple[tuple[float, Flip], ...] = ()
        """The last located flips of the plant's latches alone (when and from which to which)."""
        self._chatter: Flip | None = None
        """The flip-flop the plant's latches are chattering in (not located any more)."""
        stepper = self.stepper
        adaptive = stepper if isinstance(stepper, AdaptiveStep) else AdaptiveStep()
        self._jolt_limit_c = adaptive.jolt_c
        self._corrector = Corrector(
            self.system, self._update_surroundings, adaptive.trapezoid_tolerance_pct / 100.0
        )
        self._loop_rate: LoopRate | None = None
        """The fastest loop's stiffness per second of step, measured by the last trial that
        solved at Euler's end (with that trial's length and the bank equation's slope then);
        None: measure it again (`guess`)."""
        self._at_trial: Trial | None = None
        """The trial whose end the plant stands at (None: not known to stand at one)."""
        self._known_latches: tuple[OperatingPoint, Outputs, Signature] | None = None
        """The latches a step's trial saw at its end (op, outputs): the next start's, if alike."""
        self.located: list[Crossing] = []
        """The crossings the fast stepper located (the first thousands of them)."""
        self._inputs = self.system.measure(self.system.solve(0.0, ALL_OPEN), ALL_OPEN)
        self.t_s = 0.0
        """The start of the step in flight (the last instant that is history)."""
        self.op: OperatingPoint | None = None
        self.result: StepResult | None = None
        self.steps = 0

    # --- one instant ------------------------------------------------------------------------------

    def begin(self, t: float, emit: Emit, *, command: Command | None = None) -> None:
        """Carry out what is due at `t` (and `command`), and let the BMS decide at `t`."""
        self.t_s = t
        before = self.op
        happened = False
        for event in self._apply_due(t):
            happened = True
            emit(event)
        if command is not None:
            for event in execute(command, self.target, t):
                emit(event)
            self._update_surroundings(t)
            happened = True
        op = self.op
        if op is None or happened:
            op = self.system.solve(t, self.outputs)
        self.op, self.result, decided = self._settle(t, op, emit)
        self._eventful = happened or decided
        if self._eventful:  # something changed: a flip-flop is no steady state any more
            self._flips, self._chatter = (), None
        self._jolted = before is None or (
            self._eventful and jolt_c(before, self.op, self._capacities_ah()) > self._jolt_limit_c
        )
        self.steps += 1

    def _settle(
        self, t: float, op: OperatingPoint, emit: Emit
    ) -> tuple[OperatingPoint, StepResult, bool]:
        """Let the controller decide at `t` until its commands stand.

        When the BMS changes what its ports do, it sees the plant's answer at once (a retry into
        a short trips again within microseconds, not at the next step).
        """
        decided = False
        for _ in range(_SETTLE_ITERATIONS):
            inputs = self.system.measure(op, self.outputs)
            result = self.controller.step(inputs, t)
            for event in result.events:
                decided = True
                emit(event)
            changed = powers_differently(self.outputs, result.outputs)
            self.outputs = result.outputs
            self._inputs = inputs
            if not changed:
                break
            op = self.system.solve(t, self.outputs)
        return op, result, decided

    # --- the step in flight -----------------------------------------------------------------------

    def next_due_s(self) -> float:
        """The next time something is known to be due: a deadline, a command, a device timer."""
        result = self.result
        deadline = math.inf if result is None else result.next_deadline_s
        return min(
            deadline,
            self._next_scheduled_s(),
            self.system.next_device_change_s(self.t_s, self.outputs, self.op),
        )

    def plan(self) -> Planned:
        """Integrate the step from `t_s` to where the stepper ends it; the plant is left there."""
        t, op, result = self.t_s, self.op, self.result
        assert op is not None  # noqa: S101  # begin() ran first
        assert result is not None  # noqa: S101
        limit_s = min(self.next_due_s(), self.horizon_s if self.horizon_s > t else math.inf)
        stepper = self.stepper
        previous_slopes = before_slopes = self._previous_slopes
        before_proposal = self._proposal_s
        before_rate = self._loop_rate
        if isinstance(stepper, FixedStep) and t >= stepper.from_s - TIME_EPS_S:
            here = self._step_start(t, op, limit_s, result)
            end = stepper.next_time(t)
            t_next = min(end, self.horizon_s) if self.horizon_s > t else end
            overheat = self.system.advance(t, t_next - t, op, self.outputs)
            self._update_surroundings(t_next)
            return Planned(
                here, t_next, None, overheat, previous_slopes, True, before_proposal, before_slopes
            )
        if isinstance(stepper, FixedStep):
            limit_s = min(limit_s, stepper.from_s)
            stepper = AdaptiveStep()
        if self._eventful:  # something happened: the currents' slope may jump here
            self._previous_slopes = previous_slopes = None
        if self._jolted:  # it moved the currents a lot: the plant starts afresh
            self._proposal_s = min(self._proposal_s, stepper.restart_dt_s)
        here = self._step_start(t, op, limit_s, result)
        stretch = self._stretch_at(stepper, here)
        trial = None
        if stretch is not None:
            self.system.restore(here.state)  # the look at the levels moved the solver's guess
            trial = self._stretch_step(stepper, here, stretch)
            if trial is None:
                stretch = None
                self.system.restore(here.state)
        flip = None
        if trial is None:
            trial, flip = self._adaptive_step(stepper, here)
            self._known_latches = (trial.op_end, self.outputs, trial.signature)
        else:
            previous_slopes = None
        return Planned(
            here,
            trial.t_end_s,
            trial.op_end,
            trial.overheat,
            previous_slopes,
            False,
            before_proposal,
            before_slopes,
            stretch,
            flip,
            before_rate,
        )

    def unplan(self, planned: Planned) -> None:
        """Take back a step in flight: the plant and the stepper as before `plan`."""
        self.system.restore(planned.start.state)
        self._proposal_s = planned.proposal_s_before
        self._previous_slopes = planned.previous_slopes_before
        self._loop_rate = planned.loop_rate

    def commit(self, planned: Planned, emit: Emit) -> None:
        """Make the step in flight history: report the plant's events at its end."""
        t_next = planned.t_end_s
        if planned.overheat:
            alternator = self.system.alternator
            at = alternator.overheat_risk_at_s if alternator is not None else None
            emit(AlternatorOverheatRisk(at if at is not None else planned.start.t_s))
        for event in self._plant_events(t_next):
            emit(event)
        self.op = planned.op_end
        if not planned.fixed:
            self._remember_flip(t_next, planned.flip)

    def _remember_flip(self, t: float, flip: Flip | None) -> None:
        """Keep the last three flips; three of one flip-flop within the window are chatter."""
        if flip is None:
            self._flips, self._chatter = (), None
            return
        flips = (*self._flips[-2:], (t, flip))
        self._flips = flips
        window_s = (
            self.stepper.chatter_window_s
            if isinstance(self.stepper, AdaptiveStep)
            else AdaptiveStep().chatter_window_s
        )
        if len(flips) == 3 and flips[2][0] - flips[0][0] <= window_s:
            (_, (a, b)), (_, back), (_, again) = flips
            if back == (b, a) and again == (a, b):
                self._chatter = (a, b)

    @contextlib.contextmanager
    def looking_into(self, planned: Planned, t: float | None) -> Iterator[OperatingPoint | None]:
        """Move the plant into the step in flight for a look: to `t`, or (None) to its start.

        Yields the operating point at `t` (None at the start, where `op` holds). The step itself
        is not changed: a look is a trial on the snapshot of the start, as the stepper itself
        tries steps, and the plant goes back to the step's end afterwards.
        """
        end_state = self.system.snapshot()
        outputs = self.outputs
        try:
            if t is None:
                self.system.restore(planned.start.state)
                yield None
            else:
                op = self._partial(planned, t)[0]
                if planned.stretch is not None:  # the output blinks on in the step
                    self.outputs = planned.stretch.levels[planned.stretch.blink.level_index(t)]
                yield op
        finally:
            self.system.restore(end_state)
            self.outputs = outputs

    def truncate(self, planned: Planned, t: float) -> Planned:
        """Cut the step in flight short at `t` (a command arrives): it becomes a step to `t`."""
        op_end, overheat = self._partial(planned, t)
        return dataclasses.replace(planned, t_end_s=t, op_end=op_end, overheat=overheat)

    def _partial(self, planned: Planned, t: float) -> tuple[OperatingPoint, bool]:
        """Integrate the step in flight from its start to `t` only (the plant is left at `t`).

        Returns the operating point there and whether the alternator's overheating risk began.
        """
        here = planned.start
        self.system.restore(here.state)
        dt = t - here.t_s
        if planned.fixed:
            overheat = self.system.advance(here.t_s, dt, here.op, self.outputs)
            self._update_surroundings(t)
            return self.system.solve(t, self.outputs), overheat
        self._corrector.advanced = False
        stretch = planned.stretch
        if stretch is not None:
            level = stretch.levels[stretch.blink.level_index(t)]
            trial = self._stretch_trial(here, stretch, dt, level)
            return trial.op_end, trial.overheat
        kept = self._previous_slopes, self._loop_rate
        self._previous_slopes, self._loop_rate = planned.previous_slopes, planned.loop_rate
        try:
            trial = self._trial(here, dt)
        finally:
            self._previous_slopes, self._loop_rate = kept
        return trial.op_end, trial.overheat

    def _step_start(
        self, t: float, op: OperatingPoint, limit_s: float, result: StepResult
    ) -> StepStart:
        system = self.system
        known, self._known_latches = self._known_latches, None
        if known is None or known[0] is not op or known[1] != self.outputs:
            known = (op, self.outputs, system.discrete_state(t, op, self.outputs))
        return StepStart(
            state=system.snapshot(),
            t_s=t,
            op=op,
            limit_s=limit_s,
            result=result,
            signature=known[2],
            ambient_c=system.surroundings.ambient_c,
            context=system.context(t, self.outputs, op.bank_voltage_v),
            capacities_ah=self._capacities_ah(),
        )

    # --- the fast stepper -------------------------------------------------------------------------

    def _adaptive_step(self, stepper: AdaptiveStep, here: StepStart) -> tuple[Trial, Flip | None]:
        """Try, check, shorten and locate one step from `here`; the plant is left at its end.

        Also returns the flip of the plant's latches it ended on, if only they changed.
        """
        system = self.system
        t, op, limit_s = here.t_s, here.op, here.limit_s
        self._corrector.advanced = False
        proposal = min(self._proposal_s, stepper.max_dt_s)
        chatter = self._chatter
        if chatter is not None and here.signature in chatter:
            proposal = min(proposal, stepper.restart_dt_s)
        # a step ends on a kink of the plant's curves, where the currents' slope jumps
        kink_dt = system.next_kink_s(t, op, stepper.locate_s) - t
        # a timer due now that nothing has served yet still needs a (tiny) step to fire in
        reach = min(limit_s - t, kink_dt)
        if proposal < reach <= proposal * _STRETCH_TO_REACH:
            proposal = reach  # not a sliver of a step left before what ends it anyway
        dt = max(min(proposal, reach), _MIN_STEP_S)
        shortened = False
        excess = math.nan
        while True:

            def fits(tried: Trial, dt: float = dt) -> bool:
                # error control reads what the sketch already holds (slopes, curvatures,
                # residuals, stiffness, the ambient at the end): the taken trial's excess too
                nonlocal excess
                excess = self._step_excess(stepper, here, tried, dt)
                return dt <= stepper.restart_dt_s or excess <= 1.0

            trial = self._trial(here, dt, screen=fits)
            if excess <= 1.0 or dt <= stepper.restart_dt_s:
                break
            dt = max(dt * max(_SHRINK_MAX, 0.9 / excess), stepper.restart_dt_s)
            proposal = dt
            shortened = True
        if dt >= kink_dt - TIME_EPS_S and not trial.differs_from(here):
            onto = self._onto_knot(stepper, here, trial)
            if onto is not None:
                trial, excess = onto
                dt = kink_dt = trial.t_end_s - t
        at_limit = trial.t_end_s >= limit_s - TIME_EPS_S
        flip = None
        differs = trial.differs_from(here)
        settled = False
        if differs:
            flip = (here.signature, trial.signature)
            if not trial.decided and chatter in (flip, flip[::-1]):
                pass  # the plant chatters between the two; the step stands as tried
            elif not at_limit and self._settled_at_once(here, trial, stepper.locate_s):
                settled = True  # the latches changed at its start only: it stands whole
                trial = self._trial(here, dt)
            else:
                trial = self._end_at_crossing(stepper, here, dt, at_limit=at_limit)
                flip = None if trial.decided else (here.signature, trial.signature)
        if (
            self._jolted
            and (settled or not differs)
            and not shortened
            and dt >= proposal - TIME_EPS_S
            and dt > 2.0 * stepper.locate_s  # a crossing beyond it is bisected past locate_s
            and trial.t_end_s < t + min(limit_s - t, kink_dt) - TIME_EPS_S
        ):
            # the probe's estimates chose the next proposal already: no growth below
            trial, excess, proposal, flip = self._beyond_probe(
                stepper, here, (trial, excess, flip), min(limit_s - t, kink_dt)
            )
            dt, shortened = trial.t_end_s - t, True
        if (settled or not differs) and dt >= proposal - TIME_EPS_S and not shortened:
            # a full step: let the next one grow. The restart size after a jolt was a probe,
            # not a size error control chose: the first step's estimates are the first that
            # measure the plant, so they alone say how far the next may grow (as CVODE lets
            # its first step grow 10^4-fold)
            grow = min(
                stepper.max_growth if not self._jolted else math.inf, 0.9 / max(excess, 1e-9)
            )
            proposal = min(proposal * max(grow, 1.0), stepper.max_dt_s)
        at_kink = trial.t_end_s >= t + kink_dt - TIME_EPS_S
        plain = not (trial.t_end_s >= limit_s - TIME_EPS_S or at_kink or trial.differs_from(here))
        previous = self._previous_slopes
        if plain:  # one close to its tolerances asks for a little less, as a rejected one does
            proposal = max(
                min(proposal, dt * 0.9 / max(excess, 1e-9)), min(proposal, stepper.restart_dt_s)
            )
        self._proposal_s = proposal
        earlier = None if previous is None else (previous.dt_s, previous.slopes)
        after_jolt = self._jolted if previous is None else previous.after_jolt
        self._previous_slopes = (
            Slopes(trial.t_end_s - t, trial.slopes, earlier, trial.rates, after_jolt)
            if plain
            else None
        )
        self._loop_rate = trial.loop_rate if plain else None
        return trial, flip

    def _end_at_crossing(
        self, stepper: AdaptiveStep, here: StepStart, dt: float, *, at_limit: bool
    ) -> Trial:
        """Something changed within the tried step: end the step where it did."""
        high = dt
        if at_limit and dt > stepper.locate_s:
            # At a deadline a timer may change things by itself: look just before it.
            before = self._trial(here, dt - 0.5 * stepper.locate_s)
            if before.differs_from(here):
                high = dt - 0.5 * stepper.locate_s
        if high == dt and at_limit:
            return self._trial(here, dt)  # only the timer's own change: take the step
        return self._locate(here, high, stepper.locate_s)

    def _onto_knot(
        self, stepper: AdaptiveStep, here: StepStart, tried: Trial
    ) -> tuple[Trial, float] | None:
        """A step aimed at a knot that ended a hair off it, tried again onto it (or None).

        The knot is timed at the step's start (`next_kink_s`); the currents and the
        temperatures move meanwhile, so a long step may end a little short (a flat bank on an
        alternator: 43 ms after 82 s) or past it (a drain's constant-power load: 0.2-0.7 s
        after 170-345 s, and a step across a knot errs by its kink). When the end is off by
        under `_KNOT_REST` of the step, the step is tried again that much shorter or longer
        (timed from its end, where the rates are known better): within the step's limit and
        its error control, and when nothing crosses. Returns the trial and its excess.
        """
        system = self.system
        t_end = tried.t_end_s
        dt = t_end - here.t_s
        near_s = _KNOT_REST * dt
        past_s = t_end - system.last_kink_s(t_end, tried.op_end)
        if stepper.locate_s < past_s <= near_s:
            moved_dt = dt - past_s
        else:
            rest_s = system.next_kink_s(t_end, tried.op_end, stepper.locate_s) - t_end
            if not 0.0 < rest_s <= near_s or t_end + rest_s > here.limit_s:
                return None
            moved_dt = dt + rest_s
        end_state = system.snapshot()
        trial = self._trial(here, moved_dt)
        excess = self._step_excess(stepper, here, trial, moved_dt)
        if trial.differs_from(here) or (excess > 1.0 and moved_dt > stepper.restart_dt_s):
            system.restore(end_state)  # back to the step as it was
            self._at_trial = None
            return None
        return trial, excess

    def _beyond_probe(
        self,
        stepper: AdaptiveStep,
        here: StepStart,
        probed: tuple[Trial, float, Flip | None],
        reach_s: float,
    ) -> tuple[Trial, float, float, Flip | None]:
        """The step after a jolt taken as long as its probe's estimates allow.

        After a jolt the step starts at `restart_dt_s`: the jolt may have started a transient
        (a charger's current decaying as its loop closes) that nothing has measured yet. The
        probe's estimates are that measure: where they allow a step `_PROBE_RETRY` times as
        long or more (the jolt started no transient: a charger cut off leaving a constant
        load, a load disconnected), the step is tried again that long (trials, not steps),
        each under error control, until the estimates ask for less. A crossing beyond the
        probe's end is located from the start against the latches the probe ended with (those
        that settled at once did so within `locate_s`, and the bisection looks no nearer the
        start than half the probe, longer than that), so the step ends there. Returns the
        trial, its excess, the next step's proposal and the flip of the latches it ended on
        (the probe itself, with its excess and flip, where no longer trial stood).
        """
        probe, excess, flip = probed
        t = here.t_s
        system = self.system
        kept = system.snapshot()
        settled = dataclasses.replace(here, signature=probe.signature)
        best, size_s = (probe, excess), probe.t_end_s - t
        proposal = size_s * max(0.9 / max(excess, 1e-9), 1.0)
        for _ in range(_PROBE_TRIES):
            want = min(proposal, reach_s, stepper.max_dt_s)
            if want < _PROBE_RETRY * size_s:
                break
            trial = self._trial(here, want)
            judged = trial
            if trial.curvatures is None:  # no curvature known: the shorter trial's slopes
                judged = dataclasses.replace(
                    trial, curvatures=nested_curvatures(best[0], trial), bend_order=3
                )
            tried_excess = self._step_excess(stepper, here, judged, want)
            if tried_excess > 1.0:  # the estimates grew faster than the shorter one said
                proposal = max(want * max(_SHRINK_MAX, 0.9 / tried_excess), size_s)
                break
            if trial.differs_from(settled):
                at_limit = trial.t_end_s >= here.limit_s - TIME_EPS_S
                end = self._end_at_crossing(stepper, settled, want, at_limit=at_limit)
                flip = None if end.decided else (here.signature, end.signature)
                return end, tried_excess, want, flip
            best, size_s = (trial, tried_excess), want
            kept = system.snapshot()
            proposal = want * 0.9 / max(tried_excess, 1e-9)
        system.restore(kept)
        return best[0], best[1], min(proposal, stepper.max_dt_s), flip

    def _settled_at_once(self, here: StepStart, tried: Trial, locate_s: float) -> bool:
        """Whether the plant's latches changed at the step's start only, and silently.

        After an event some latches follow the new operating point at once, a look later: a
        battery's overload watch stops, an inverter whose System+ port was just blocked first
        shuts down and then finds its supply gone. Located, that is a 1 ms step after every
        such event (issue 12: one in each of the cold inverter's cycles). It is taken as part
        of the step when, `locate_s` in, the latches already stand as at the tried end, the
        BMS would decide nothing, no chain line or damage flag changed (no event is moved),
        the battery currents are what the plant would give without the change and no
        balancer started or stopped (the latches moved no charge, so the step integrated the
        right plant: a weak cell's bleeding, held 5 s too long, moved its slow reconnect 1.6 s).
        """
        if not self._eventful or tried.changed or tried.t_end_s - here.t_s <= locate_s:
            return False  # latches settle so only right after an event
        system = self.system
        system.restore(here.state)
        bleeding = system.bleeding()
        early = self._trial(here, locate_s)
        if system.bleeding() != bleeding:  # a balancer moves charge between the cells
            return False
        if early.changed or early.signature != tried.signature:
            return False
        if chain_lines(system) != self._chain_state or damage_flags(system) != self._damaged:
            return False
        op = here.op
        ramped = [
            i + s * locate_s for i, s in zip(op.battery_currents_a, early.slopes, strict=False)
        ]
        return all(
            abs(a - b) <= _SETTLED_A
            for a, b in zip(early.op_end.battery_currents_a, ramped, strict=True)
        )

    def _locate(self, here: StepStart, dt: float, locate_s: float) -> Trial:
        """Bracket the first instant in (t, t + dt] something changed; end the step there.

        The bracket's ends are full trials; between them the looks are asked again of the
        interpolated trials (`twin/locate.py`), and two trials either side of their first
        change close it (`Guess.tries`). A guess
        that does not halve the bracket is followed by a bisection, and after `_GUESS_MISSES`
        in a row whose tries missed the crossing it is bisected: useless guesses cost a few
        trials more than bisecting. The plant is left at the bracket's end (a snapshot of that
        trial, not the trial again).
        """
        system = self.system
        low, high = 0.0, dt
        at = self._at_trial
        known = at is not None and at.t_end_s == here.t_s + dt and at.differs_from(here)
        guesser = Guess(
            system, self.controller, self.outputs, self._inputs, here, locate_s=locate_s
        )
        start = look_at_start(system, here, self._inputs)
        looks: list[Look] = [start]
        found: Trial | None = None
        found_state = None
        parts = None
        if known:
            assert at is not None  # noqa: S101
            found, found_state = at, system.snapshot()
            looks.append(look_at_end(system, dt, at, self.outputs))
            parts = guesser.which(at)
        bisect = False  # after a guess that did not halve the bracket
        misses = 0  # guesses in a row whose tries did not bracket the crossing
        while high - low > locate_s:
            width = high - low
            tries = []
            if not bisect and misses < _GUESS_MISSES and parts is not None:
                tries = guesser.tries(looks, low, high, parts)
            # none within locate_s of the start: latches that settle at once after an event
            # did so there (`_beyond_probe` locates against the latches they settled to)
            tries = [x for x in tries if max(low, locate_s) < x < high]
            guessing = bool(tries)
            for middle in tries or [0.5 * (low + high)]:
                trial = self._trial(here, middle)
                looks.append(look_at_end(system, middle, trial, self.outputs))
                if trial.differs_from(here):
                    high, found, found_state = middle, trial, system.snapshot()
                    parts = guesser.which(trial)
                    break
                low = middle
            bisect = guessing and high - low > 0.5 * width
            if guessing:
                misses = 0 if high - low <= (tries[-1] - tries[0]) * (1.0 + 1e-9) else misses + 1
        if found is None or found.t_end_s != here.t_s + high:
            found = self._trial(here, high)
        elif self._at_trial is not found:
            assert found_state is not None  # noqa: S101
            system.restore(found_state)  # the plant back at the bracket's end
        if len(self.located) < _LOCATED_KEPT:
            self.located.append(Crossing(here.t_s, here.t_s + low, here.t_s + high))
        return found

    def _trial(
        self, here: StepStart, dt: float, screen: Callable[[Trial], bool] | None = None
    ) -> Trial:
        """Integrate from the snapshot over `dt` and look at the plant and the BMS at the end.

        Euler predicts with the start currents held. The corrector then moves the charge,
        polarisation and temperatures onto the ramp that ends at the currents found there,
        twice: the second pass starts from the corrected state, so Euler's error no longer
        biases the step. On a smooth stretch far from the stiffness limit the last step's
        slopes guess the end instead of Euler, and one pass follows (`Corrector`).
        The currents' curvature (this step's slope against the last one's; in the transient
        after a jolt, the loop's own exponential, `choose_bend`, after which the loop's answer
        to the bend is solved too, `Corrector.pass_after_bend`) bends the ramp. The end currents are
        read just before the end, so what ends with the step (a crank, a short, an absorption
        stage) is not smeared over it; only then do the devices' stages and the batteries'
        monitors see the step.

        Error control needs no more than the slopes, the curvatures and the stiffness: a trial
        that `screen` (given the trial so far) refuses ends there, without the end's solve,
        latches and controller, which only a step that is taken needs.
        """
        system = self.system
        t, op = here.t_s, here.op
        t_end = t + dt
        self._at_trial = None
        overheat, op_corrected, z, loop_rate, residuals, rates = self._corrector.integrate_trial(
            here, dt, self.outputs, self._previous_slopes, self._loop_rate
        )
        slopes = current_slopes(op, op_corrected, dt, starter=system.starter is not None)
        bend = choose_bend(
            slopes, rates, dt, self._previous_slopes, here.capacities_ah, jolted=self._jolted
        )
        curvatures = bend.left
        if screen is not None:
            sketch = Trial(
                t_end,
                op_corrected,
                slopes,
                curvatures,
                residuals,
                z,
                overheat,
                False,
                here.signature,
                rates=rates,
                bend_order=bend.order,
                loop_rate=loop_rate,
            )
            if not screen(sketch):
                return sketch  # to be tried shorter: the plant goes back to the start anyway
        if bend.curvatures is not None:
            system.bend_ramp(bend.curvatures, op_corrected, dt)
            corrector = self._corrector
            if bend.shaped and corrector.bend_feeds_back(
                bend.curvatures, z, dt, here.capacities_ah
            ):
                corrector.pass_after_bend(here, op_corrected, rates, dt, self.outputs)
        system.advance_devices(here.context, dt, op)
        op_end = system.solve(t_end, self.outputs)
        system.look(t_end, op_end)
        changed = controller_would_change(
            self.controller, self.system.measure(op_end, self.outputs), self._inputs, t_end, here
        )
        self._at_trial = Trial(
            t_end_s=t_end,
            op_end=op_end,
            slopes=slopes,
            curvatures=curvatures,
            residuals=residuals,
            stiffness=z,
            overheat=overheat,
            changed=changed > 0,
            signature=system.discrete_state(t_end, op_end, self.outputs),
            decided=changed > 1,
            rates=rates,
            bend_order=bend.order,
            loop_rate=loop_rate,
        )
        return self._at_trial

    def _capacities_ah(self) -> tuple[float, ...]:
        system = self.system
        capacities = [battery.capacity_ah for battery in system.batteries]
        if system.starter is not None:
            capacities.append(system.starter.capacity_ah)
        return tuple(capacities)

    def _step_excess(
        self, stepper: AdaptiveStep, here: StepStart, trial: Trial, dt: float
    ) -> float:
        """How far over its tolerances a tried step is (1: just right; see `step_excess`)."""
        ambient_change_c = abs(self.system.surroundings.ambient_c - here.ambient_c)
        return step_excess(stepper, trial, dt, here.capacities_ah, ambient_change_c)

    # --- the blinking pre-alarm: one step across many edges ---------------------------------------

    def _stretch_at(self, stepper: AdaptiveStep, here: StepStart) -> Stretch | None:
        """A step across the blink's edges from `here`, if the plant is quiet enough for one."""
        t = here.t_s
        if not self.outputs.prealarm_alarm:
            return None
        due_s = min(self._next_scheduled_s(), self.horizon_s if self.horizon_s > t else math.inf)
        return stretch_at(
            stepper,
            here,
            self.system,
            self.controller,
            (self.outputs, self._inputs),
            due_s,
            here.capacities_ah,
        )

    def _stretch_step(
        self, stepper: AdaptiveStep, here: StepStart, stretch: Stretch
    ) -> Trial | None:
        """Step across the blink's edges; None when something crosses within a period already.

        Error control is the plain step's, but without its floor: a stretch holds every
        tolerance (with no curvature known, `step_excess` takes the currents to bend within
        the step), or is not taken. When a level would cross a threshold inside the step, the
        step ends up to one period before it (bisected to a period, not to 10 ms): the plain
        steps that follow land on each edge there and locate the crossing itself.
        """
        t = here.t_s
        period_s = stretch.blink.period_s
        self._corrector.advanced = False
        proposal = min(self._proposal_s, stepper.max_dt_s)
        kink_dt = self.system.next_kink_s(t, stretch.op_mean, stepper.locate_s) - t
        dt = min(proposal, stretch.limit_s - t, kink_dt)
        if dt < 2.0 * period_s:
            return None
        while True:
            trial = self._stretch_trial(here, stretch, dt, self.outputs)
            excess = self._step_excess(stepper, here, trial, dt)
            if excess <= 1.0:
                break
            dt *= max(0.2, 0.9 / excess)
            if dt < max(2.0 * period_s, stepper.restart_dt_s):
                return None  # the plant is not quiet: step on the edges, curvature and all
            proposal = dt
        if trial.changed:
            low, high = 0.0, dt
            tried = trial
            while high - low > period_s:
                middle = 0.5 * (low + high)
                tried = self._stretch_trial(here, stretch, middle, self.outputs)
                if tried.changed:
                    high = middle
                else:
                    low, trial = middle, tried
            if low < period_s:
                return None
            # the plant is at the last trial's end: unless that is the bracket's start, go there
            if tried is not trial or trial.t_end_s != t + low:
                trial = self._stretch_trial(here, stretch, low, self.outputs)
        elif dt >= proposal - TIME_EPS_S:  # a full step: let the next one grow
            grow = min(stepper.max_growth, 0.9 / max(excess, 1e-9))
            proposal = min(proposal * max(grow, 1.0), stepper.max_dt_s)
        self._proposal_s = proposal
        self._previous_slopes = None
        return trial

    def _stretch_trial(
        self, here: StepStart, stretch: Stretch, dt: float, outputs: Outputs
    ) -> Trial:
        """`_trial` at the blink's average load; its end is looked at with either level.

        `changed`: at either level the plant's latches or the BMS's decision differ at the end
        from the start. The plant is left at the end with the pre-alarm output at `outputs`.
        """
        system = self.system
        t, op = here.t_s, stretch.op_mean
        t_end = t + dt
        overheat, op_predicted, op_corrected, _ = self._corrector.integrate(
            here, dt, op, self.outputs, lambda at: mean_solve(system, stretch, at)
        )
        slopes = current_slopes(op, op_corrected, dt, starter=system.starter is not None)
        system.advance_devices(here.context, dt, op)
        changed = either_level_crosses(system, self.controller, here, stretch, t_end)
        op_end = system.solve(t_end, outputs)
        system.look(t_end, op_end)
        return Trial(
            t_end_s=t_end,
            op_end=op_end,
            slopes=slopes,
            curvatures=None,
            residuals=corrector_residual(
                op, op_predicted, op_corrected, dt, starter=system.starter is not None
            ),
            stiffness=stiffness(op, op_predicted, op_corrected),
            overheat=overheat,
            changed=changed,
            signature=here.signature,
        )

    # --- commands due -----------------------------------------------------------------------------

    def _next_scheduled_s(self) -> float:
        candidates = [end for end, _ in self.world.pending_ends]
        if self._next_command is not None:
            candidates.append(self._next_command[0])
        return min(candidates, default=math.inf)

    def _apply_due(self, t: float) -> Iterator[Event]:
        pending = self.world.pending_ends
        for end_s, what in list(pending):
            if end_s <= t + TIME_EPS_S:
                pending.remove((end_s, what))
                yield from end_of(what, self.target, t)
        while self._next_command is not None and self._next_command[0] <= t + TIME_EPS_S:
            command = self._next_command[1]
            self._next_command = next(self._schedule, None)
            self._commands_taken += 1
            yield from execute(command, self.target, t)
            if not command.FAULT:
                self._update_surroundings(t)

    # --- plant bookkeeping ------------------------------------------------------------------------

    def _update_surroundings(self, t: float) -> None:
        surroundings = self.system.surroundings
        surroundings.ambient_c = self.scenario.ambient_c_at(t, self.world.ambient_c)
        surroundings.solar_fraction = self.scenario.sun_fraction_at(t, self.world.clear_sky)

    def _plant_events(self, t: float) -> Iterator[Event]:
        lines = chain_lines(self.system)
        yield from chain_events(self._chain_state, lines, t)
        self._chain_state = lines
        damaged = list(self._damaged)
        yield from battery_events(self.system, damaged, self.t_s, t)
        self._damaged = tuple(damaged)

    # --- snapshots --------------------------------------------------------------------------------

    def save(self) -> EngineState:
        """The loop's own memory, as a value."""
        return EngineState(
            t_s=self.t_s,
            outputs=self.outputs,
            op=self.op,
            result=self.result,
            inputs=self._inputs,
            commands_taken=self._commands_taken,
            world=copy.deepcopy(self.world),
            chain_state=self._chain_state,
            damaged=self._damaged,
            proposal_s=self._proposal_s,
            previous_slopes=self._previous_slopes,
            eventful=self._eventful,
            steps=self.steps,
            jolted=self._jolted,
            flips=self._flips,
            chatter=self._chatter,
            loop_rate=self._loop_rate,
        )

    def load(self, state: EngineState) -> None:
        """Take back the loop's memory from `save` (on a twin built from the same scenario)."""
        self.t_s = state.t_s
        self.outputs = state.outputs
        self.op = state.op
        self.result = state.result
        self._inputs = state.inputs
        self._schedule = timed_commands(self.scenario)
        for _ in range(state.commands_taken):
            next(self._schedule)
        self._commands_taken = state.commands_taken
        self._next_command = next(self._schedule, None)
        world = copy.deepcopy(state.world)
        self.world.ambient_c = world.ambient_c
        self.world.clear_sky = world.clear_sky
        self.world.pending_ends[:] = world.pending_ends
        self._chain_state = state.chain_state
        self._damaged = state.damaged
        self._proposal_s = state.proposal_s
        self._previous_slopes = state.previous_slopes
        self._eventful = state.eventful
        self._jolted = state.jolted
        self._flips = state.flips
        self._chatter = state.chatter
        self._loop_rate = state.loop_rate
        self.steps = state.steps
        self._known_latches = None
