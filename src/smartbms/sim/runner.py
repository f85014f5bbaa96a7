"""The closed loop: plant -> measurements -> controller -> commands -> plant, step by step.

Each step at time t: apply the timeline entries due, solve the network with the outputs in force,
let the controller see the measurements, re-solve if its commands changed, log events and the
trace, then integrate the plant to the next time the stepper picks. Two steppers:

* `FixedStep(dt)` is the plain reference: every dt on a fixed grid, whatever happens (a deadline,
  a timeline entry or a crossing between two grid points is seen at the next one, as by a real
  sampled loop), each step integrated at its start currents.
* `AdaptiveStep()` is the default, event-driven: long steps through quiet stretches, ending
  exactly on controller deadlines, timeline entries, device timers and the knots of the cells'
  open-circuit curve; each step is tried on a snapshot of the plant, integrated by Heun's
  method with two corrector passes and a curvature correction (the charge, polarisation and
  temperatures follow the currents' ramp to the end), shortened by error control (accuracy,
  and stability where a charger regulates the bank), and when the plant's latches or the
  controller's decision changed inside it, the crossing is bisected to within 10 ms and the
  step ends there. docs/performance.md explains the method.
"""

import copy
import dataclasses
import math
import time
from collections.abc import Callable, Iterator

from smartbms import scenario as sc
from smartbms.core.codes import Code
from smartbms.core.controller import Controller, StepResult
from smartbms.core.events import Event
from smartbms.core.signals import ALL_OPEN, Outputs, Readings
from smartbms.plant.devices import DeviceContext
from smartbms.plant.events import (
    AlternatorOverheatRisk,
    BatteryDamaged,
    ChainSignalChanged,
    FaultInjected,
    TimelineApplied,
)
from smartbms.plant.system import OperatingPoint, SystemState, TwelveVoltSystem
from smartbms.sim.build import build_controller, build_system
from smartbms.sim.summary_bridge import PlantSummaryBuilder as SummaryBuilder

_TIME_EPS_S = 1e-9
_MIN_STEP_S = 1e-6
"""The shortest step: lets a device timer that is due now fire."""
_LOCATED_KEPT = 10_000
"""How many located crossings a run keeps for inspection (memory stays flat over a year)."""
_LEFT_LIMIT_S = 1e-7
"""How far before a step's end its currents are read for the trapezoid (a left limit)."""
_SETTLE_ITERATIONS = 4
"""At most this many controller decisions at one instant (a trip after a retry needs two)."""


@dataclasses.dataclass(frozen=True, slots=True)
class FixedStep:
    """Every `dt_s` on a fixed grid, blind to deadlines and crossings: the reference.

    A deadline or a crossing between two grid points is seen at the next one, as by a real
    sampled loop. Before `from_s` the fast stepper brings the run there, so a reference window
    late in a long run starts from the state the fast run had.
    """

    dt_s: float = 0.1
    from_s: float = 0.0
    name: str = "fixed"

    def __post_init__(self) -> None:
        if not (math.isfinite(self.dt_s) and self.dt_s > 0.0):
            msg = f"the fixed step must be a positive number of seconds, not {self.dt_s}"
            raise ValueError(msg)

    def next_time(self, now_s: float) -> float:
        """The next grid point k * dt after `now_s` (no sum of dt, so no drift over a year)."""
        index = math.floor((now_s - self.from_s) / self.dt_s + 1e-6) + 1
        return self.from_s + index * self.dt_s


@dataclasses.dataclass(frozen=True, slots=True)
class AdaptiveStep:
    """Long steps through quiet stretches, landing exactly on what changes (the default).

    Each step ends at the earliest of: a controller deadline, a timeline entry, a device timer,
    the proposed step. The step is tried on a snapshot of the plant; it is taken back and
    shortened when its charge error is above `charge_tolerance_pct` (error control), and when
    the plant's latches or the controller's decision changed inside it, the crossing is located
    by bisection to within `locate_s` and the step ends just after it.
    """

    max_dt_s: float = 3600.0
    """The longest step: an hour of a parked system with nothing changing."""
    restart_dt_s: float = 5.0
    """The first step after anything happened (loads, outputs): the plant relaxes after it."""
    locate_s: float = 0.01
    """A crossing is placed at most this long after the true one (issue: 10 ms)."""
    charge_tolerance_pct: float = 0.0005
    """Largest charge error holding a step's start currents would make (Euler), in % of a
    battery's capacity: a bound on how far the currents may move within one step."""
    trapezoid_tolerance_pct: float = 1e-5
    """Largest estimated error of the trapezoid a step takes, in % of a battery's capacity."""
    ambient_step_c: float = 0.5
    """Largest change of the ambient temperature over one step (it is held within a step)."""
    stiffness_limit: float = 1.0
    """Largest step times decay rate of the fastest loop the currents feel (`_stiffness`)."""
    name: str = "adaptive"

    def __post_init__(self) -> None:
        if not 0.0 < self.locate_s <= self.restart_dt_s <= self.max_dt_s:
            msg = "need 0 < locate_s <= restart_dt_s <= max_dt_s"
            raise ValueError(msg)


Stepper = FixedStep | AdaptiveStep


StepObserver = Callable[[float, float, OperatingPoint, Outputs, Readings], None]


@dataclasses.dataclass(frozen=True, slots=True)
class Crossing:
    """A threshold crossing the fast stepper located: it lies in (after_s, at_s]."""

    step_start_s: float
    after_s: float
    """The latest time seen without it."""
    at_s: float
    """Where the step ended, the earliest time seen with it."""


@dataclasses.dataclass(slots=True)
class RunResult:
    """What a run produced (the trace goes to its writer, not here)."""

    events: list[Event]
    summary: dict[str, object]
    steps: int
    wall_s: float


class Simulation:
    """One run of one scenario."""

    def __init__(self, scenario: sc.Scenario, *, stepper: Stepper | None = None) -> None:
        self.scenario = scenario
        self.stepper: Stepper = stepper or AdaptiveStep()
        self.system: TwelveVoltSystem = build_system(scenario)
        self.controller: Controller = build_controller(scenario)
        self.outputs = ALL_OPEN
        self.now_s = 0.0
        self._ambient_c: float | None = None
        self._clear_sky: float | None = None
        self._timeline = scenario.timeline_occurrences()
        self._next_entry: tuple[float, sc.TimelineEntry] | None = next(self._timeline, None)
        self._pending_ends: list[tuple[float, str]] = []
        self._chain_state = self._chain_lines()
        self._damaged = [b.damaged for b in self.system.batteries]
        self._proposal_s = 1.0
        self._previous_slopes: tuple[float, tuple[float, ...]] | None = None
        self.located: list[Crossing] = []
        """The crossings the fast stepper located (the first thousands of them)."""
        self._advanced = False
        self._inputs = self.system.measure(self.system.solve(0.0, ALL_OPEN), ALL_OPEN)
        self.summary = SummaryBuilder(scenario, self.system)

    # --- the loop -------------------------------------------------------------------------------

    def run(
        self,
        *,
        on_event: Callable[[Event], None] | None = None,
        on_step: StepObserver | None = None,
        on_progress: Callable[[float], None] | None = None,
    ) -> RunResult:
        """Run to the end; call the hooks as events, steps and progress happen.

        `on_step(t, dt, ...)` sees the plant as it was at `t` (the step's start), once per step.
        """
        started = time.perf_counter()
        events: list[Event] = []

        def emit(event: Event) -> None:
            events.append(event)
            self.summary.event(event)
            if on_event is not None:
                on_event(event)

        def observe(t: float, dt: float, op: OperatingPoint, result: StepResult) -> None:
            self.summary.step(t, dt, op, self.outputs, result.readings)
            if on_step is not None:
                on_step(t, dt, op, self.outputs, result.readings)

        end_s = self.scenario.duration_s
        steps = 0
        t = 0.0
        op: OperatingPoint | None = None
        while True:
            self.now_s = t
            count = len(events)
            for event in self._apply_due(t):
                emit(event)
            if op is None or len(events) > count:
                op = self.system.solve(t, self.outputs)
            op, result = self._settle(t, op, emit)
            steps += 1
            if t >= end_s:
                observe(t, 0.0, op, result)
                break
            limit_s = min(
                result.next_deadline_s,
                self._next_timeline_s(),
                self.system.next_device_change_s(t, self.outputs),
                end_s,
            )
            stepper = self.stepper
            if isinstance(stepper, FixedStep) and t >= stepper.from_s - _TIME_EPS_S:
                t_next = min(stepper.next_time(t), end_s)
                observe(t, t_next - t, op, result)
                overheat = self.system.advance(t, t_next - t, op, self.outputs)
                self._update_surroundings(t_next)
                op_next: OperatingPoint | None = None
            else:
                if isinstance(stepper, FixedStep):
                    limit_s = min(limit_s, stepper.from_s)
                    stepper = AdaptiveStep()
                if len(events) > count:  # something happened: the plant starts afresh
                    self._proposal_s = min(self._proposal_s, stepper.restart_dt_s)
                    self._previous_slopes = None
                trial, start_state = self._adaptive_step(stepper, t, limit_s, op, result)
                t_next, op_next, overheat = trial.t_end_s, trial.op_end, trial.overheat
                end_state = self.system.snapshot()
                self.system.restore(start_state)
                observe(t, t_next - t, op, result)
                self.system.restore(end_state)
            if overheat:
                at = self.system.alternator.overheat_risk_at_s if self.system.alternator else t
                emit(AlternatorOverheatRisk(at if at is not None else t))
            for event in self._plant_events(t_next):
                emit(event)
            if on_progress is not None:
                on_progress(t_next / end_s)
            t = t_next
            op = op_next
        return RunResult(events, self.summary.build(), steps, time.perf_counter() - started)

    def _settle(
        self, t: float, op: OperatingPoint, emit: Callable[[Event], None]
    ) -> tuple[OperatingPoint, StepResult]:
        """Let the controller decide at `t` until its commands stand.

        When the BMS changes what its ports do, it sees the plant's answer at once (a retry into
        a short trips again within microseconds, not at the next step).
        """
        for _ in range(_SETTLE_ITERATIONS):
            inputs = self.system.measure(op, self.outputs)
            result = self.controller.step(inputs, t)
            for event in result.events:
                emit(event)
            changed = _powers_differently(self.outputs, result.outputs)
            self.outputs = result.outputs
            self._inputs = inputs
            if not changed:
                break
            op = self.system.solve(t, self.outputs)
        return op, result

    # --- the fast stepper -----------------------------------------------------------------------

    def _adaptive_step(
        self,
        stepper: AdaptiveStep,
        t: float,
        limit_s: float,
        op: OperatingPoint,
        result: StepResult,
    ) -> tuple["_Trial", SystemState]:
        """Try, check, shorten and locate one step from `t`; the plant is left at its end.

        Returns the step taken and the snapshot of its start.
        """
        system = self.system
        here = _StepStart(
            state=system.snapshot(),
            t_s=t,
            op=op,
            limit_s=limit_s,
            result=result,
            signature=system.discrete_state(t, op, self.outputs),
            ambient_c=system.surroundings.ambient_c,
            context=system.context(t, self.outputs, op.bank_voltage_v),
        )
        self._advanced = False
        proposal = min(self._proposal_s, stepper.max_dt_s)
        # a step ends on a kink of the plant's curves, where the currents' slope jumps
        kink_dt = system.next_kink_s(t, op, stepper.locate_s) - t
        # a timer due now that nothing has served yet still needs a (tiny) step to fire in
        dt = max(min(proposal, limit_s - t, kink_dt), _MIN_STEP_S)
        while True:
            trial = self._trial(here, dt)
            excess = self._step_excess(stepper, here, trial, dt)  # error control
            if excess <= 1.0 or dt <= stepper.restart_dt_s:
                break
            dt = max(dt * max(0.2, 0.9 / excess), stepper.restart_dt_s)
            proposal = dt
        at_limit = trial.t_end_s >= limit_s - _TIME_EPS_S
        if trial.differs_from(here):
            high = dt
            if at_limit and dt > stepper.locate_s:
                # At a deadline a timer may change things by itself: look just before it.
                before = self._trial(here, dt - 0.5 * stepper.locate_s)
                if before.differs_from(here):
                    high = dt - 0.5 * stepper.locate_s
            if high == dt and at_limit:
                trial = self._trial(here, dt)  # only the timer's own change: take the step
            else:
                trial = self._locate(here, high, stepper.locate_s)
        elif dt >= proposal - _TIME_EPS_S:  # a full step: let the next one grow
            grow = 2.0 if excess <= 0.45 else 0.9 / excess
            proposal = min(proposal * max(grow, 1.0), stepper.max_dt_s)
        self._proposal_s = proposal
        at_kink = trial.t_end_s >= t + kink_dt - _TIME_EPS_S
        plain = not (at_limit or at_kink or trial.differs_from(here))
        self._previous_slopes = (trial.t_end_s - t, trial.slopes) if plain else None
        return trial, here.state

    def _locate(self, here: "_StepStart", dt: float, locate_s: float) -> "_Trial":
        """Bisect (t, t + dt] for the first instant something changed; end the step there."""
        low, high = 0.0, dt
        found: _Trial | None = None
        while high - low > locate_s:
            middle = 0.5 * (low + high)
            trial = self._trial(here, middle)
            if trial.differs_from(here):
                high, found = middle, trial
            else:
                low = middle
        if found is None or found.t_end_s != here.t_s + high:
            found = self._trial(here, high)
        if len(self.located) < _LOCATED_KEPT:
            self.located.append(Crossing(here.t_s, here.t_s + low, here.t_s + high))
        return found

    def _trial(self, here: "_StepStart", dt: float) -> "_Trial":
        """Integrate from the snapshot over `dt` and look at the plant and the BMS at the end.

        Euler predicts with the start currents held. The corrector then moves the charge,
        polarisation and temperatures onto the ramp that ends at the currents found there,
        twice: the second pass starts from the corrected state, so Euler's error no longer
        biases the step. The currents' curvature (this step's slope against the last one's)
        bends the ramp. The end currents are read just before the end, so what ends with the
        step (a crank, a short, an absorption stage) is not smeared over it; only then do the
        devices' stages and the batteries' monitors see the step.
        """
        system = self.system
        if self._advanced:
            system.restore(here.state)
        self._advanced = True
        t, op = here.t_s, here.op
        t_end = t + dt
        overheat = system.advance(t, dt, op, self.outputs, latch=False)
        self._update_surroundings(t_end)
        op_predicted = system.solve(t_end - _LEFT_LIMIT_S, self.outputs)
        system.correct_for_ramp(op, op_predicted, dt, self.outputs, here.ambient_c)
        op_corrected = system.solve(t_end - _LEFT_LIMIT_S, self.outputs)
        system.move_ramp_end(op_predicted, op_corrected, dt, self.outputs)
        slopes = self._current_slopes(op, op_corrected, dt)
        curvatures = self._curvatures(slopes, dt)
        if curvatures is not None:
            system.bend_ramp(curvatures, op_corrected, dt)
        system.advance_devices(here.context, dt, op)
        op_end = system.solve(t_end, self.outputs)
        system.look(t_end, op_end)
        return _Trial(
            t_end_s=t_end,
            op_end=op_end,
            slopes=slopes,
            curvatures=curvatures,
            stiffness=_stiffness(op, op_predicted, op_corrected),
            overheat=overheat,
            changed=self._controller_would_change(op_end, t_end, here.limit_s, here.result),
            signature=system.discrete_state(t_end, op_end, self.outputs),
        )

    def _controller_would_change(
        self, op_end: OperatingPoint, t_end: float, limit_s: float, result: StepResult
    ) -> bool:
        """Whether the BMS would decide differently at `t_end` because its inputs moved.

        Asked of a copy, so the real controller never sees a trial. Before `limit_s` no timer
        of its own expires, so any event, changed output or moved deadline (a timer started
        or stopped) is the inputs' doing; at `limit_s` the answer is compared with what the
        unchanged inputs would give then.
        """
        probe = copy.copy(self.controller)
        moved = probe.step(self.system.measure(op_end, self.outputs), t_end)
        if t_end < limit_s - _TIME_EPS_S:
            still = result  # what the unchanged inputs give until the limit
            if moved.events:
                return True
        else:
            still = copy.copy(self.controller).step(self._inputs, t_end)
            if moved.events != still.events:
                return True
        # a timer that starts or stops (the 10 s hold, a debounce) moves the next deadline
        return moved.next_deadline_s != still.next_deadline_s or not _same_decision(
            moved.outputs, still.outputs
        )

    def _current_slopes(
        self, op: OperatingPoint, op_end: OperatingPoint, dt: float
    ) -> tuple[float, ...]:
        """How fast each battery's current (and the starter battery's, last) changes in a step."""
        slopes = [
            (i1 - i0) / dt
            for i0, i1 in zip(op.battery_currents_a, op_end.battery_currents_a, strict=True)
        ]
        if self.system.starter is not None:
            slopes.append((op_end.starter_current_a - op.starter_current_a) / dt)
        return tuple(slopes)

    def _curvatures(self, slopes: tuple[float, ...], dt: float) -> tuple[float, ...] | None:
        """Each current's second derivative, from this step's slope and the previous one's.

        None after anything happened (an event, a crossing, a deadline): a kink there is no
        curvature.
        """
        previous = self._previous_slopes
        if previous is None:
            return None
        dt_prev, slopes_prev = previous
        span = 0.5 * (dt + dt_prev)
        return tuple((a - b) / span for a, b in zip(slopes, slopes_prev, strict=True))

    def _capacities_ah(self) -> tuple[float, ...]:
        system = self.system
        capacities = [battery.capacity_ah for battery in system.batteries]
        if system.starter is not None:
            capacities.append(system.starter.capacity_ah)
        return tuple(capacities)

    def _step_excess(
        self, stepper: AdaptiveStep, here: "_StepStart", trial: "_Trial", dt: float
    ) -> float:
        """How far over its tolerances a tried step is (1: just right).

        Three estimates, each scaled to the step as it grows with it:
        * Euler's error, half the current's change times the step (grows with dt^2): a bound
          on how far the currents may move within one step;
        * the error left after the curvature correction, taken as the trapezoid's own
          dt^3 |I''| / 12 (grows with dt^3);
        * the ambient's change, which the step holds (grows with dt).
        """
        hours_per_s = 1.0 / 3600.0
        capacities = self._capacities_ah()
        slopes = trial.slopes
        euler_pct = (
            100.0
            * 0.5
            * max(abs(a) / c for a, c in zip(slopes, capacities, strict=True))
            * dt
            * dt
            * hours_per_s
        )
        excess = math.sqrt(euler_pct / stepper.charge_tolerance_pct)
        if trial.curvatures is not None:
            curvature = max(abs(k) / c for k, c in zip(trial.curvatures, capacities, strict=True))
            trapezoid_pct = 100.0 * dt**3 * curvature / 12.0 * hours_per_s
            excess = max(excess, (trapezoid_pct / stepper.trapezoid_tolerance_pct) ** (1 / 3))
        ambient_change_c = abs(self.system.surroundings.ambient_c - here.ambient_c)
        excess = max(excess, trial.stiffness / stepper.stiffness_limit)
        return max(excess, ambient_change_c / stepper.ambient_step_c)

    # --- timeline -------------------------------------------------------------------------------

    def _next_timeline_s(self) -> float:
        candidates = [end for end, _ in self._pending_ends]
        if self._next_entry is not None:
            candidates.append(self._next_entry[0])
        return min(candidates, default=math.inf)

    def _apply_due(self, t: float) -> Iterator[Event]:
        for end_s, what in list(self._pending_ends):
            if end_s <= t + _TIME_EPS_S:
                self._pending_ends.remove((end_s, what))
                yield from self._end(what, t)
        while self._next_entry is not None and self._next_entry[0] <= t + _TIME_EPS_S:
            entry = self._next_entry[1]
            self._next_entry = next(self._timeline, None)
            yield from self._apply(entry, t)

    def _end(self, what: str, t: float) -> Iterator[Event]:
        if what == "short":
            self.system.faults.system_plus_short_ohm = None
            yield FaultInjected(t, "system-plus-short", "the short is gone")
        # a crank ends by itself (StarterBattery.load_a); nothing to undo

    def _apply(self, entry: sc.TimelineBase, t: float) -> Iterator[Event]:
        system = self.system
        alternator = system.alternator
        if isinstance(entry, sc.FaultBase):
            yield from self._fault(entry, t)
            return
        detail = ""
        if isinstance(entry, sc.EngineStart):
            if alternator is not None:
                alternator.running = True
            if entry.crank and system.starter is not None:
                system.starter.crank_until_s = t + system.starter.crank_duration_s
                self._pending_ends.append((system.starter.crank_until_s, "crank"))
                detail = "cranking"
        elif isinstance(entry, sc.EngineStop):
            if alternator is not None:
                alternator.running = False
        elif isinstance(entry, sc.AlternatorModeChange):
            if alternator is not None:
                alternator.smart_mode = entry.mode == "smart"
            detail = entry.mode
        elif isinstance(entry, sc.ShorePower):
            system.surroundings.shore_power = entry.on
            detail = "on" if entry.on else "off"
        elif isinstance(entry, sc.SetDevice):
            changes = entry.changes()
            for device in system.devices:
                if device.name == entry.device:
                    device.set(**changes)
            detail = f"{entry.device}: " + ", ".join(f"{k}={v}" for k, v in changes.items())
        elif isinstance(entry, sc.RemoteSwitch):
            system.remote.closed = entry.closed
            detail = "closed" if entry.closed else "open"
        elif isinstance(entry, sc.SoftSwitch):
            yield from self._change_setting({"soft_switch_on": entry.on}, t)
            detail = "on" if entry.on else "off"
        elif isinstance(entry, sc.SettingChange):
            yield from self._change_setting({entry.name: entry.value}, t)
            detail = f"{entry.name}={entry.value}"
        elif isinstance(entry, sc.AmbientChange):
            self._ambient_c = entry.ambient_c
            detail = f"{entry.ambient_c:g} °C"
        elif isinstance(entry, sc.SolarChange):
            self._clear_sky = entry.clear_sky_fraction
            detail = f"clear sky {entry.clear_sky_fraction:g}"
        elif isinstance(entry, sc.Note):
            detail = entry.text
        self._update_surroundings(t)
        yield TimelineApplied(t, str(getattr(entry, "action", "")), detail)

    def _change_setting(self, changes: dict[str, object], t: float) -> Iterator[Event]:
        controller = self.controller
        yield from controller.change_settings(changes, pin=controller.settings.pin, now_s=t)

    def _fault(self, entry: sc.FaultBase, t: float) -> Iterator[Event]:
        faults = self.system.faults
        batteries = self.system.batteries
        detail = ""
        if isinstance(entry, sc.BmsCableUnplugged):
            faults.chain_unplugged = True
        elif isinstance(entry, sc.BmsCablePlugged):
            faults.chain_unplugged = False
        elif isinstance(entry, sc.WeakCell):
            cell = batteries[entry.battery - 1].cells[entry.cell - 1]
            cell.charge_ah *= entry.capacity_factor
            cell.capacity_ah *= entry.capacity_factor
            detail = f"battery {entry.battery} cell {entry.cell} at {entry.capacity_factor:.0%}"
        elif isinstance(entry, sc.CellResistance):
            batteries[entry.battery - 1].cells[entry.cell - 1].r0_ohm *= entry.factor
            detail = f"battery {entry.battery} cell {entry.cell} resistance x{entry.factor:g}"
        elif isinstance(entry, sc.SystemPlusShort):
            faults.system_plus_short_ohm = entry.resistance_ohm
            self._pending_ends.append((t + entry.duration_s, "short"))
            detail = f"{entry.resistance_ohm * 1000:g} mOhm for {entry.duration_s:g} s"
        elif isinstance(entry, sc.FuseBlown):
            faults.fuse_blown = True
        elif isinstance(entry, sc.FuseReplaced):
            faults.fuse_blown = False
        elif isinstance(entry, sc.ConfigCorrupted):
            self.controller.mark_config_corrupted()
        elif isinstance(entry, sc.CalibrationLost):
            faults.calibration_lost = True
        elif isinstance(entry, sc.ReferenceFailed):
            faults.reference_failed = True
        elif isinstance(entry, sc.RemotePlugRemoved):
            faults.remote_plug_removed = True
        elif isinstance(entry, sc.RemotePlugInserted):
            faults.remote_plug_removed = False
        elif isinstance(entry, sc.LooseConnection):
            battery = batteries[entry.battery - 1]
            battery.options = dataclasses.replace(
                battery.options, connection_resistance_ohm=entry.resistance_ohm
            )
            detail = f"battery {entry.battery}: {entry.resistance_ohm * 1000:g} mOhm"
        elif isinstance(entry, sc.Heat):
            faults.bms_extra_c = entry.bms_extra_c
            detail = f"+{entry.bms_extra_c:g} °C around the BMS"
        elif isinstance(entry, sc.PrealarmOutputOverload):
            faults.prealarm_overload_a = entry.current_a
            detail = f"{entry.current_a:g} A"
        yield FaultInjected(t, str(getattr(entry, "fault", "")), detail)

    # --- plant bookkeeping ----------------------------------------------------------------------

    def _update_surroundings(self, t: float) -> None:
        surroundings = self.system.surroundings
        surroundings.ambient_c = self.scenario.ambient_c_at(t, self._ambient_c)
        surroundings.solar_fraction = self.scenario.sun_fraction_at(t, self._clear_sky)

    def _chain_lines(self) -> list[tuple[bool, bool, bool]]:
        return [
            (b.allowed_to_charge, b.allowed_to_discharge, b.prealarm_line)
            for b in self.system.batteries
        ]

    def _plant_events(self, t: float) -> Iterator[Event]:
        lines = self._chain_lines()
        names = ("allowed to charge", "allowed to discharge", "pre-alarm")
        for index, (old, new) in enumerate(zip(self._chain_state, lines, strict=True)):
            for name, was, now in zip(names, old, new, strict=True):
                if was != now:
                    yield ChainSignalChanged(t, index + 1, name, now)
        self._chain_state = lines
        for index, battery in enumerate(self.system.batteries):
            if battery.damaged and not self._damaged[index]:
                self._damaged[index] = True
                at = battery.damaged_at_s if battery.damaged_at_s is not None else t
                yield BatteryDamaged(at, index + 1)


_STIFFNESS_FLOOR_A = 1e-6
"""Current changes below this are solver noise, not a loop's answer (the solve holds 1e-8 A)."""


def _stiffness(
    start: OperatingPoint, predicted: OperatingPoint, corrected: OperatingPoint
) -> float:
    """The step times the decay rate of the fastest loop its currents feel (z = h lambda).

    A charger regulating the bank voltage (or the polarisation branch) feeds the charge back
    into the current: for I' = lambda (I - I_eq), Euler's end current moves by z (I_0 - I_eq)
    and the corrector's moves it by z^2 / 2 of that again; their ratio gives |z| / 2. Past
    |z| ~ 1 the explicit corrector rings instead of decaying (an error of stability that no
    accuracy estimate sees), so the step is kept below it.
    """
    worst = 0.0
    for i0, i1, i2 in zip(
        start.battery_currents_a,
        predicted.battery_currents_a,
        corrected.battery_currents_a,
        strict=True,
    ):
        euler_a = i1 - i0
        if abs(euler_a) > _STIFFNESS_FLOOR_A:
            worst = max(worst, 2.0 * abs(i2 - i1) / abs(euler_a))
    return worst


def _powers_differently(old: Outputs, new: Outputs) -> bool:
    """Whether the plant sees a difference (LEDs and codes alone change nothing physical)."""
    return (
        old.ab_enabled != new.ab_enabled
        or old.ab_fuse_drop_setpoint_v != new.ab_fuse_drop_setpoint_v
        or old.system_plus_charge_allowed != new.system_plus_charge_allowed
        or old.system_plus_discharge_allowed != new.system_plus_discharge_allowed
        or old.load_disconnect is not new.load_disconnect
        or old.charge_disconnect is not new.charge_disconnect
        or old.prealarm is not new.prealarm
        or old.supply_current_a != new.supply_current_a
    )


def _same_decision(a: Outputs, b: Outputs) -> bool:
    """The same decision, but for the continuously derated AB set point."""
    return (
        a.ab_enabled == b.ab_enabled
        and a.system_plus_charge_allowed == b.system_plus_charge_allowed
        and a.system_plus_discharge_allowed == b.system_plus_discharge_allowed
        and a.load_disconnect is b.load_disconnect
        and a.charge_disconnect is b.charge_disconnect
        and a.prealarm is b.prealarm
        and a.prealarm_alarm == b.prealarm_alarm
        and a.leds == b.leds
        and a.codes == b.codes
        and a.system_on == b.system_on
        and a.bms_active == b.bms_active
        and a.safe_state == b.safe_state
        and a.supply_current_a == b.supply_current_a
    )


@dataclasses.dataclass(frozen=True, slots=True)
class _StepStart:
    """Where a fast step starts: the state to come back to and what was decided there."""

    state: SystemState
    t_s: float
    op: OperatingPoint
    limit_s: float
    """The next deadline, timeline entry or device timer: the step goes no further."""
    result: StepResult
    signature: tuple[object, ...]
    """The plant's latches at the start."""
    ambient_c: float
    context: DeviceContext
    """What the devices saw at the start: their stages and timers step from it."""


@dataclasses.dataclass(frozen=True, slots=True)
class _Trial:
    """One tried step: where it ended and what the plant and the BMS looked like there."""

    t_end_s: float
    op_end: OperatingPoint
    slopes: tuple[float, ...]
    """Each battery's current change per second over the step (the starter battery's last)."""
    curvatures: tuple[float, ...] | None
    """Their second derivatives, where the previous step tells them."""
    stiffness: float
    """The step times the decay rate of the fastest loop the currents feel (`_stiffness`)."""
    overheat: bool
    changed: bool
    """The controller would decide differently at the end."""
    signature: tuple[object, ...]

    def differs_from(self, start: _StepStart) -> bool:
        """Whether something crossed a threshold during the step."""
        return self.changed or self.signature != start.signature


def codes_text(codes: frozenset[Code]) -> str:
    """Codes as one trace cell, in table order ("A-B11 W-B12")."""
    return " ".join(code.value for code in Code if code in codes)
