"""How the twin moves through time: the two steppers and what one step of the fast one is.

* `FixedStep(dt)` is the plain reference: every dt on a fixed grid, whatever happens (a deadline,
  a command or a crossing between two grid points is seen at the next one, as by a real sampled
  loop), each step integrated at its start currents.
* `AdaptiveStep()` is the default, event-driven: long steps through quiet stretches, ending
  exactly on controller deadlines, commands, device timers and the knots of the cells'
  open-circuit curve; each step is tried on a snapshot of the plant, integrated by Heun's method
  with two corrector passes (a third where two leave an error worth it; on smooth stretches the
  first ramps to a guess of the end, `twin/guess.py`) and a curvature correction (onto the
  loop's own exponential in the transient after a jolt, `choose_bend`), shortened by
  error control (the corrector's residual, the trapezoid's own error, the stiffness), and when
  the plant's latches or the controller's decision changed inside it, the crossing is bisected
  to within 1 ms and the step ends there. docs/performance.md explains the method.
"""

import dataclasses
import math
from typing import NamedTuple

from smartbms.core.controller import StepResult
from smartbms.core.signals import Outputs
from smartbms.plant.devices import DeviceContext
from smartbms.plant.system import (
    CONVERGED_RATIO_MAX,
    CONVERGED_RATIO_MIN,
    OperatingPoint,
    SystemState,
    series_sum_factor,
)


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
    a knot of a cell's curve, the proposed step. The step is tried on a snapshot of the plant;
    it is taken back and shortened when its estimated charge errors (what the corrector left
    unconverged, the trapezoid's) are above their tolerances or it is too long for the
    stiffest loop (error control, `step_excess`), and when the plant's latches or the
    controller's decision changed inside it, the crossing is located by bisection to within
    `locate_s` and the step ends just after it.
    """

    max_dt_s: float = 3600.0
    """The longest step: an hour of a parked system with nothing changing."""
    restart_dt_s: float = 5.0
    """The first step after a jolt (see `jolt_c`): the plant relaxes after it. Also the shortest
    step error control asks for (a step is never shortened below it for accuracy alone)."""
    jolt_c: float = 0.05
    """A jolt: across an event (a command, the BMS's decision), some battery's current changed by
    more than this fraction of its capacity per hour (0.05 C: 10 A on a 200 Ah battery). Only
    then does the next step start again at `restart_dt_s`; after a smaller change (a fridge
    switching on a big bank, an LED or a code) it starts at the size it had."""
    locate_s: float = 0.001
    """A crossing is placed at most this long after the true one (issue: 10 ms). The plant
    integrates on past it meanwhile, and where a crossing starts a limit cycle (a charge limit
    and its release, every few minutes) that overshoot feeds the next cycle: at 10 ms the
    cycles drifted 25-30 ms each against the converged run (issue 13), at 1 ms 2-5 ms."""
    charge_tolerance_pct: float = 0.0005
    """Largest charge error a held current may make, in % of a battery's capacity: how far the
    blinking pre-alarm's two levels may move the currents for a stretch to step across them
    at their average (`twin/blink.py`). No bound on a plain step: what it stood in for is
    `corrector_tolerance_pct`."""
    trapezoid_tolerance_pct: float = 1e-5
    """Largest estimated error of the trapezoid a step takes, in % of a battery's capacity."""
    corrector_tolerance_pct: float = 2e-6
    """Largest estimated error the corrector leaves unconverged (`corrector_residual`), in %
    of a battery's capacity."""
    max_growth: float = 4.0
    """A full step lets the next grow by at most this factor (to 0.9 of what error control
    would allow); one that error control had to shorten does not let it grow."""
    ambient_step_c: float = 0.5
    """Largest change of the ambient temperature over one step (it is held within a step)."""
    stiffness_limit: float = 4.0
    """Largest step times decay rate of the fastest loop the currents feel (`stiffness`): at
    most 4, where the extrapolation to the corrector's fixed point trusts its measured ratio
    (`converged_end_currents`) and the trapezoid still damps the loop's transient by 3 a step."""
    chatter_window_s: float = 1.0
    """Chatter: the plant's latches were located flipping A -> B -> A -> B (three crossings
    within this long, with no command, no BMS event and no change of the BMS's outputs; a
    timer of its own may start and stop with them). From then on a step that flips them
    between A and B is taken as tried, `restart_dt_s` at most, instead of being bisected to
    `locate_s` again: a switching loop that keeps coming back to the same state is a steady
    state, not a crossing to locate. It ends with any step that does not flip them, and with
    any command or BMS event."""
    name: str = "adaptive"

    def __post_init__(self) -> None:
        if not 0.0 < self.locate_s <= self.restart_dt_s <= self.max_dt_s:
            msg = "need 0 < locate_s <= restart_dt_s <= max_dt_s"
            raise ValueError(msg)
        if not 0.0 < self.stiffness_limit <= -2.0 * CONVERGED_RATIO_MIN:
            msg = f"need 0 < stiffness_limit <= {-2.0 * CONVERGED_RATIO_MIN}"
            raise ValueError(msg)


Stepper = FixedStep | AdaptiveStep
"""Either stepper."""


@dataclasses.dataclass(frozen=True, slots=True)
class Crossing:
    """A threshold crossing the fast stepper located: it lies in (after_s, at_s]."""

    step_start_s: float
    after_s: float
    """The latest time seen without it."""
    at_s: float
    """Where the step ended, the earliest time seen with it."""


_STIFFNESS_FLOOR_A = 1e-6
"""Current changes below this are solver noise, not a loop's answer (the solve holds 1e-8 A)."""
_SLOW_LOOP = 1e-4
"""Below this step times decay rate a loop's transient is not told from a curvature of its own
(the exponential's fit is ill-conditioned): the plain curvature of two steps' slopes stands."""
ITERATION_STIFFNESS = 1.0
"""Past this step times decay rate the corrector's passes shrink by less than half (r = -z / 2):
two leave too much, and a third pass measures the ratio for the extrapolation to the fixed
point (`converged_end_currents`)."""


def stiffness(start: OperatingPoint, predicted: OperatingPoint, corrected: OperatingPoint) -> float:
    """The step times the decay rate of the fastest loop its currents feel (z = h lambda).

    A charger regulating the bank voltage (or the polarisation branch) feeds the charge back
    into the current: for I' = lambda (I - I_eq), Euler's end current moves by z (I_0 - I_eq)
    and the corrector's moves it by z^2 / 2 of that again; their ratio gives |z| / 2. Past
    |z| ~ 1 the passes shrink slowly, past 2 they ring instead of decaying (an error of
    stability that no accuracy estimate sees): a third pass then measures their ratio and the
    end goes to their fixed point, the implicit trapezoid (`converged_end_currents`, exact on
    a linear loop; A-stable: it damps the loop's transient by (1 - |z| / 2) / (1 + |z| / 2)
    a step, -1/3 at |z| = 4). The step is kept below that (`AdaptiveStep.stiffness_limit`).
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


def moved(start: OperatingPoint, predicted: OperatingPoint) -> bool:
    """Whether a battery's current moved enough for `stiffness` to tell the loop's rate."""
    return any(
        abs(i1 - i0) > _STIFFNESS_FLOOR_A
        for i0, i1 in zip(start.battery_currents_a, predicted.battery_currents_a, strict=True)
    )


def corrector_residual(
    start: OperatingPoint,
    predicted: OperatingPoint,
    corrected: OperatingPoint,
    dt: float,
    *,
    starter: bool,
    guessed_stiffness: float | None = None,
    third: OperatingPoint | None = None,
) -> tuple[float, ...]:
    """The charge error (A s) the corrector leaves in each battery (the starter battery last).

    Heun's two passes are the first two rounds of the fixed-point iteration for the implicit
    trapezoid: each round moves the end current by z / 2 of the last one's move (z = h lambda,
    `stiffness`; Euler's own end current is round zero). So the second pass, which moved the
    charge by dt |I_2 - I_1| / 2, leaves about |I_2 - I_1| / |I_1 - I_0| of that unconverged,
    with the same sign step after step. This is the error that drifts: in a taper (Figure 1,
    up to 116 uAh a step where the trapezoid's estimate said 6) and in how the current splits
    between parallel batteries (a weak cell's battery ~40 uAh a step against ~2). On a
    linear loop the estimate is 1 + |z| / 2 times what is left; against the same step in 50
    fine sub-steps (Figure 1's taper, the weak cell) it was 1-3.5 times the error.

    When `predicted` was guessed (`twin/guess.py`) rather than solved at Euler's end, its move
    from the start is the slopes' and says nothing of the loop: each round then shrinks by
    z / 2 with z the step's `guessed_stiffness`, measured on an earlier trial.
    """
    pairs = list(
        zip(
            channels(start, starter=starter),
            channels(predicted, starter=starter),
            channels(corrected, starter=starter),
            strict=True,
        )
    )
    if third is not None and guessed_stiffness is None:
        return _extrapolated_residual(pairs, channels(third, starter=starter), dt)
    residuals = []
    for i0, i1, i2 in pairs:
        moved = abs(i2 - i1)
        euler = abs(i1 - i0)
        if guessed_stiffness is not None:
            ratio = min(0.5 * guessed_stiffness, 1.0)
        else:
            ratio = min(moved / euler, 1.0) if euler > _STIFFNESS_FLOOR_A else 1.0
        residuals.append(0.5 * dt * moved * ratio)
    return tuple(residuals)


def channels(op: OperatingPoint, *, starter: bool) -> tuple[float, ...]:
    """The batteries' currents and, last, the starter battery's (if there is one)."""
    return op.charge_currents_a if starter else op.battery_currents_a


def _extrapolated_residual(
    pairs: list[tuple[float, float, float]], third: tuple[float, ...], dt: float
) -> tuple[float, ...]:
    """What Aitken's extrapolation of three passes leaves (A s), per current.

    Euler's end (round one: the ramp to the start current), the corrected end and the third
    pass are the first three rounds of the fixed-point iteration for the implicit trapezoid.
    On a linear loop every round's move is the last one's times the same ratio r, and the
    extrapolation (`converged_end_currents`, with the ratio of the last two moves, projected
    over all currents) is exact. What it leaves is how far the ratio is not constant (the
    loop's nonlinearity, modes of different rates mixing): the sum it added, r / (1 - r) of
    the last move, taken with each current's earlier ratio (its second move over Euler's)
    instead of the last one, differs by the extrapolation's own uncertainty.
    """
    first = [i1 - i0 for i0, i1, _ in pairs]
    second = [i2 - i1 for _, i1, i2 in pairs]
    last = [i3 - i2 for (_, _, i2), i3 in zip(pairs, third, strict=True)]
    size = sum(d * d for d in second)
    if size <= _STIFFNESS_FLOOR_A * _STIFFNESS_FLOOR_A:
        return tuple(0.5 * dt * abs(m) for m in last)
    used = series_sum_factor(sum(d * e for d, e in zip(second, last, strict=True)) / size)
    residuals = []
    for m1, m2, m3 in zip(first, second, last, strict=True):
        earlier = series_sum_factor(m2 / m1) if abs(m1) > _STIFFNESS_FLOOR_A else 1.0
        residuals.append(0.5 * dt * abs(m3) * abs(used - earlier))
    return tuple(residuals)


def _exponential_bend(z: float) -> float:
    """1 / (1 - e^z) + 1 / z - 1 / 2: the trapezoid's error on e^(z t / dt), per change and step.

    A current relaxing as I_eq + A e^(lambda t) over a step dt (z = lambda dt) changes by
    D = I_0 - I_end; its integral is the trapezoid's minus D dt times this. For a small z it
    is -z / 12 (the trapezoid's dt^3 I'' / 12 with I'' = lambda I').
    """
    if abs(z) < 1e-3:
        return -z / 12.0 + z**3 / 720.0
    return -1.0 / math.expm1(z) + 1.0 / z - 0.5


def loop_rates(
    start: OperatingPoint,
    predicted: OperatingPoint,
    corrected: OperatingPoint,
    dt: float,
    *,
    starter: bool,
) -> tuple[float, ...] | None:
    """Each current's decay rate lambda (1/s) in the loop the corrector measured, or None.

    The corrector's second pass moves each end current by z / 2 of Euler's move (z = h
    lambda; `stiffness`), signed: a relaxing loop (lambda < 0) moves it back. None when a
    current moved but not as a relaxing loop does (a source ramping on its own, a loop
    that runs away, one too stiff to read): its curvature is then not the loop's.
    """
    rates = []
    for i0, i1, i2 in zip(
        channels(start, starter=starter),
        channels(predicted, starter=starter),
        channels(corrected, starter=starter),
        strict=True,
    ):
        euler = i1 - i0
        if abs(euler) <= _STIFFNESS_FLOOR_A or abs(i2 - i1) <= _STIFFNESS_FLOOR_A:
            rates.append(0.0)
            continue
        ratio = (i2 - i1) / euler
        if not -CONVERGED_RATIO_MAX <= ratio < 0.0:
            return None
        rates.append(2.0 * ratio / dt)
    return tuple(rates)


class Slopes(NamedTuple):
    """The currents' mean slopes over the last plain step (and the one before it, if plain)."""

    dt_s: float
    slopes: tuple[float, ...]
    earlier: tuple[float, tuple[float, ...]] | None = None
    """The step before's length and slopes: a third look at the currents' shape."""
    rates: tuple[float, ...] | None = None
    """The loop's rates the last step measured (`loop_rates`; None: none)."""
    after_jolt: bool = False
    """The plain steps these slopes close began right after a jolt: a transient's."""


class Bend(NamedTuple):
    """How a step's ramp is bent, and what is left of the curvature for error control."""

    curvatures: tuple[float, ...] | None
    """Bend the ramp by these (A/s^2; None: not at all)."""
    left: tuple[float, ...] | None
    """The curvature the bend may have missed (None: unknown, the currents are taken to bend
    on the step's own time scale)."""
    order: int = 3
    """How the error left grows with the step: 3 where `left` is a curvature, 4 where it is
    a curvature's change over a step (the error of a bend that fits the slopes)."""
    shaped: bool = False
    """Bent onto the loop's transient (`choose_bend`), not by the plain curvature."""


def _mean_slope(rate: float, start: float, end: float) -> float:
    """The mean slope of e^(rate t) over (start, end): (e^(rate end) - e^(rate start)) / span."""
    return (math.exp(rate * end) - math.exp(rate * start)) / (end - start)


def _fit(
    rate: float, slope: float, dt: float, slope_p: float, dt_p: float
) -> tuple[float, float] | None:
    """(r, A) of I = I_0 + r t + A e^(rate t) with these mean slopes over (0, dt), (-dt_p, 0).

    None where the loop is too slow to tell its transient from a curvature of its own.
    """
    if abs(rate) * max(dt, dt_p) < _SLOW_LOOP:
        return None
    e_this = math.expm1(rate * dt) / dt
    e_prev = -math.expm1(-rate * dt_p) / dt_p
    amplitude = (slope - slope_p) / (e_this - e_prev)
    return slope - amplitude * e_this, amplitude


def _transient_curvature(rate: float, amplitude: float, dt: float) -> float:
    """The curvature that bends a ramp onto A e^(rate t) over (0, dt): same ends, same integral.

    The ramp bent by I'' (t^2 - dt t) / 2 (`bend_ramp`) loses dt^3 I'' / 12; the exponential's
    integral is the ramp's minus A (1 - e^z) dt g(z) (`_exponential_bend`, z = rate dt). For a
    short step it is A rate^2, the exponential's own curvature.
    """
    z = rate * dt
    return -12.0 * amplitude * math.expm1(z) * _exponential_bend(z) / (dt * dt)


def choose_bend(
    slopes: tuple[float, ...],
    rates: tuple[float, ...] | None,
    dt: float,
    previous: Slopes | None,
    capacities_ah: tuple[float, ...],
    *,
    jolted: bool,
) -> Bend:
    """The bend of a step's ramp: onto the loop's transient, where the slopes say it fits.

    Each current is taken as I_0 + r t + A e^(lambda t): a source or an equilibrium moving
    at r and the loop's transient, decaying at the rate lambda the corrector measured
    (`loop_rates`). With the slope of the step before, r and A are known and the ramp is
    bent onto that shape exactly; without it, right after a jolt (which starts a transient),
    onto the transient alone (r = 0). The shape is judged on one more slope: its miss on
    the step before that (a curvature's change), or, with only one step before, the
    transient alone's miss on it (a curvature). It is taken only where it misses that slope
    by less than the plain curvature of two steps' slopes does (a quadratic through them;
    with only one step before, a ramp): a current that follows a slowly moving equilibrium,
    or bends at a knot of the cell's curve, has no transient to bend onto, and keeps the
    plain bend (`_plain_bend`: judged on the third slope too, where there is one).
    """
    plain = _plain_bend(slopes, dt, previous)
    if rates is None or (previous is not None and not previous.after_jolt):
        return plain
    if previous is None:
        if not jolted:
            return plain
        transient = tuple(
            _transient_curvature(rate, slope * dt / math.expm1(rate * dt), dt)
            if abs(rate) * dt >= _SLOW_LOOP
            else 0.0
            for slope, rate in zip(slopes, rates, strict=True)
        )
        return Bend(transient, None, shaped=True)
    dt_p, slopes_p, earlier, rates_p = previous[:4]
    if not _same_rates(rates, rates_p):
        return plain  # the loop changed (a knot, a device's regime): no one exponential
    span = 0.5 * (dt + dt_p)
    curvatures: list[float] = []
    left: list[float] = []
    quadratic_left: list[float] = []
    for index, (slope, rate, slope_p) in enumerate(zip(slopes, rates, slopes_p, strict=True)):
        quadratic = (slope - slope_p) / span
        if earlier is None:  # the transient alone, judged on the slope before
            if abs(rate) * dt < _SLOW_LOOP:  # a slow loop: the curvature of the two slopes
                curvatures.append(quadratic)
                left.append(quadratic)
                continue
            amplitude = slope * dt / math.expm1(rate * dt)
            curvatures.append(_transient_curvature(rate, amplitude, dt))
            left.append((slope_p - amplitude * _mean_slope(rate, -dt_p, 0.0)) / span)
            continue
        dt_pp, slopes_pp = earlier
        span_pp = 0.5 * (dt_pp + dt_p)
        quadratic_pp = slope - quadratic * (0.5 * dt + dt_p + 0.5 * dt_pp)
        quadratic_left.append((slopes_pp[index] - quadratic_pp) / span_pp)
        fitted = _fit(rate, slope, dt, slope_p, dt_p)
        if fitted is None:  # a slow loop: the quadratic
            curvatures.append(quadratic)
            left.append(quadratic_left[-1])
            continue
        ramp, amplitude = fitted
        curvatures.append(_transient_curvature(rate, amplitude, dt))
        model_pp = ramp + amplitude * _mean_slope(rate, -dt_p - dt_pp, -dt_p)
        left.append((slopes_pp[index] - model_pp) / span_pp)
    shaped = Bend(tuple(curvatures), tuple(left), 3 if earlier is None else 4, shaped=True)
    rival = plain if earlier is None else Bend(None, tuple(quadratic_left), 4)
    if _bend_error(rival, dt, capacities_ah) <= _bend_error(shaped, dt, capacities_ah):
        return plain
    return shaped


_SAME_RATE = 0.1
"""Two steps see one loop when each current's rate differs by at most this share."""


def _same_rates(rates: tuple[float, ...], before: tuple[float, ...] | None) -> bool:
    """Whether the loop relaxes at the same rates as in the step before (one exponential)."""
    if before is None:
        return False
    return all(
        abs(a - b) <= _SAME_RATE * max(abs(a), abs(b)) for a, b in zip(rates, before, strict=True)
    )


def _plain_bend(slopes: tuple[float, ...], dt: float, previous: Slopes | None) -> Bend:
    """The curvature of this step's and the last one's slopes, judged on a third where known.

    With a third slope (the step before the last) the bend is judged by its miss on it: the
    quadratic through the two slopes, extended, against the one before (a curvature's change,
    the error of a bend that fits, growing with dt^4). Without it, by its own size (dt^3).
    """
    if previous is None:
        return Bend(None, None)
    dt_p, slopes_p, earlier = previous[:3]
    span = 0.5 * (dt + dt_p)
    curvatures = tuple((a - b) / span for a, b in zip(slopes, slopes_p, strict=True))
    if earlier is None:
        return Bend(curvatures, curvatures)
    dt_pp, slopes_pp = earlier
    reach = 0.5 * dt + dt_p + 0.5 * dt_pp
    span_pp = 0.5 * (dt_pp + dt_p)
    left = tuple(
        (slope_pp - (slope - curvature * reach)) / span_pp
        for slope, curvature, slope_pp in zip(slopes, curvatures, slopes_pp, strict=True)
    )
    return Bend(curvatures, left, 4)


def _bend_error(bend: Bend, dt: float, capacities_ah: tuple[float, ...]) -> float:
    """The largest share of a battery's capacity the bend may miss (dt^3 |left| / 12 / C)."""
    if bend.left is None:
        return math.inf
    return max(dt**3 * abs(k) / 12.0 / c for k, c in zip(bend.left, capacities_ah, strict=True))


def jolt_c(
    before: OperatingPoint, after: OperatingPoint, capacities_ah: tuple[float, ...]
) -> float:
    """How hard an event jolted the batteries: the largest current change per capacity (1/h).

    `capacities_ah` are the batteries' and, last, the starter battery's (if there is one).
    """
    starter = len(capacities_ah) > len(before.battery_currents_a)
    currents = zip(channels(before, starter=starter), channels(after, starter=starter), strict=True)
    changes = [abs(i1 - i0) for i0, i1 in currents]
    return max((a / c for a, c in zip(changes, capacities_ah, strict=True)), default=0.0)


def powers_differently(old: Outputs, new: Outputs) -> bool:
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


def same_decision(a: Outputs, b: Outputs) -> bool:
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
class StepStart:
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
    capacities_ah: tuple[float, ...]
    """Each battery's capacity and, last, the starter battery's (if any): what error control
    scales each current's error by, taken once per step (a fault changes it only between)."""


@dataclasses.dataclass(frozen=True, slots=True)
class Trial:
    """One tried step: where it ended and what the plant and the BMS looked like there."""

    t_end_s: float
    op_end: OperatingPoint
    slopes: tuple[float, ...]
    """Each battery's current change per second over the step (the starter battery's last)."""
    curvatures: tuple[float, ...] | None
    """The curvature the step's bend may have missed (`Bend.left`; None: unknown)."""
    residuals: tuple[float, ...]
    """The charge (A s) the corrector left unconverged in each (`corrector_residual`)."""
    stiffness: float
    """The step times the decay rate of the fastest loop the currents feel (`stiffness`)."""
    overheat: bool
    changed: bool
    """The controller would decide differently at the end (or a timer of its own moved)."""
    signature: tuple[object, ...]
    decided: bool = False
    """The controller would report an event or change an output at the end (not just a timer)."""
    rates: tuple[float, ...] | None = None
    """The loop's rate for each current (`loop_rates`; None: not measured)."""
    bend_order: int = 3
    """How the error of the bend grows with the step (`Bend.order`)."""
    loop_rate: tuple[float, float, float] | None = None
    """The stiffness per second of step, the step and the bank equation's slope it was
    measured with (None: not measured; see `Engine._loop_rate`)."""

    def differs_from(self, start: StepStart) -> bool:
        """Whether something crossed a threshold during the step."""
        return self.changed or self.signature != start.signature


def nested_curvatures(shorter: Trial, longer: Trial) -> tuple[float, ...]:
    """Each current's curvature from the mean slopes of two trials from one start (A/s^2).

    For I = I_0 + a t + b t^2 / 2 the mean slope over (0, h) is a + b h / 2: two lengths
    give b. The first step after a kink has no slope before it and only a guess of its
    curvature (`step_excess`); tried at two lengths, it has this measure of its own.
    """
    span = longer.t_end_s - shorter.t_end_s  # both start at the same instant
    return tuple(2.0 * (b - a) / span for a, b in zip(shorter.slopes, longer.slopes, strict=True))


def step_excess(
    stepper: AdaptiveStep,
    trial: Trial,
    dt: float,
    capacities_ah: tuple[float, ...],
    ambient_change_c: float,
) -> float:
    """How far over its tolerances a tried step is (1: just right).

    Each estimate is scaled to the step as it grows with it:
    * what the corrector leaves unconverged (`corrector_residual`, grows with dt^4);
    * the error left after the bend (`choose_bend`), dt^3 |I''| / 12 with I'' what the bend
      may have missed: the plain curvature itself (grows with dt^3), or, bent onto a
      transient and judged on a third slope, that shape's miss, a curvature's change (grows
      with dt^4). Without one (the first step after a kink) the currents are taken to bend
      on the step's own time scale, |I''| = 2 |I'| / dt, so a step that nothing has checked
      yet cannot run far past what the next one would allow;
    * the stiffness of the fastest loop (`stiffness`), and the ambient's change, which the step
      holds (grows with dt).
    Euler's error (half the current's change times the step) is not bounded: it bounded the
    corrector's residual only indirectly, three steps in four, at twice the steps.
    """
    hours_per_s = 1.0 / 3600.0
    slope = max(abs(a) / c for a, c in zip(trial.slopes, capacities_ah, strict=True))
    residual = max(r / c for r, c in zip(trial.residuals, capacities_ah, strict=True))
    residual_pct = 100.0 * residual * hours_per_s
    excess = math.sqrt(math.sqrt(residual_pct / stepper.corrector_tolerance_pct))
    if trial.curvatures is not None:
        curvature = max(abs(k) / c for k, c in zip(trial.curvatures, capacities_ah, strict=True))
    else:
        curvature = 2.0 * slope / dt
    trapezoid_pct = 100.0 * dt**3 * curvature / 12.0 * hours_per_s
    trapezoid = trapezoid_pct / stepper.trapezoid_tolerance_pct
    # each estimate is taken to the root that makes it grow as dt does, so that the step it
    # asks for (0.9 / excess of this one) meets the tolerance at once: the guessed curvature
    # shrinks with the step, so that trapezoid grows with dt^2 only
    if trial.curvatures is None:
        excess = max(excess, math.sqrt(trapezoid))
    elif trial.bend_order == 3:
        excess = max(excess, math.cbrt(trapezoid))
    else:
        excess = max(excess, math.sqrt(math.sqrt(trapezoid)))
    excess = max(excess, trial.stiffness / stepper.stiffness_limit)
    return max(excess, ambient_change_c / stepper.ambient_step_c)


def alike(a: StepResult, b: StepResult) -> bool:
    """The same events, deadline and decision (two looks of the BMS at one instant)."""
    return (
        a.events == b.events
        and a.next_deadline_s == b.next_deadline_s
        and same_decision(a.outputs, b.outputs)
    )
