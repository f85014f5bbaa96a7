"""A fast step's end currents guessed from the step before, instead of solved at Euler's end.

Each trial of the fast stepper solves the network three times: at Euler's end (the predictor),
at the corrected end, and at the final end. On a smooth stretch the last step's slopes predict
the end currents as well as Euler's solve does (exactly, for currents driven by a ramping
source; as well, for a loop relaxing at I' = lambda (I - I_eq)), so the first corrector pass
ramps to that guess and a trial solves twice. What Euler's solve also gave is the stiffness of
the fastest loop (`stepper.stiffness`); a stretch keeps the rate the last such solve measured
(`LoopRate`). Every kink (an event, a crossing, a deadline, a knot of the cell curve) starts a
stretch with a measured trial again, and so do a jump of the bank equation's slope (a device
answering the voltage differently) and a stiffness near the limit. docs/performance.md has the
figures.
"""

from smartbms.plant.system import OperatingPoint
from smartbms.twin.stepper import Slopes, StepStart, moved, stiffness

LoopRate = tuple[float, float, float]
"""(stiffness per second of step, the step it was measured over, the bank equation's slope
then)."""

REGIME_CHANGE = 0.05
"""A relative change of the bank equation's slope (`TwelveVoltSystem.bank_slope`) this large
means a device changed how it answers the bank voltage (a charger reaching its set point, the
AB port reaching its limit): the loop's rate is measured again."""
GUESS_MAX_STIFFNESS = 0.05
"""The end currents are guessed only where the loop's stiffness is at most this: the single
corrector pass that follows a guess shrinks its error by z / 2 (the two after Euler's solve by
(z / 2)^2), and the estimate of z need not be exact far below the stiffness limit. Nearer the
limit every trial solves at Euler's end and measures z afresh. Measured against the converged
runs of test_fast_accuracy: at 0.25 Figure 1's charge limit came 6 ms further off and the stress
set's charge-limit cycles 0.3 s; at 0.1 the cold morning's first limit 5 ms and the weak cell's
pre-alarm 2 ms; at 0.05 no event is further off than with Euler's solve in every trial (main
at ce09722) but the drain's pre-alarm (+27 ms against +18 ms, of 50), for 2.77 solves per step
instead of 2.71."""


def predicted_end(
    here: StepStart,
    dt: float,
    previous_slopes: Slopes | None,
    rate: LoopRate | None,
) -> OperatingPoint | None:
    """The end the last step's slopes predict (what the ramp reads of it), or None.

    None: no smooth stretch to go by, no measured rate, the bank equation's slope moved since
    it was measured, or the step may be too stiff for a single corrector pass.
    """
    if previous_slopes is None or not same_regime(rate, here.state.bank_guess_slope):
        return None
    assert rate is not None  # noqa: S101  # same_regime needs one
    # the stiffness grows with the step, at most in proportion (the polarisation's share
    # saturates): a bound from the measured one
    if rate[0] * max(dt, rate[1]) > GUESS_MAX_STIFFNESS:
        return None
    slopes = previous_slopes.slopes
    op = here.op
    count = len(op.battery_currents_a)
    currents = tuple(i + s * dt for i, s in zip(op.battery_currents_a, slopes[:count], strict=True))
    starter_a = op.starter_current_a
    if len(slopes) > count:
        starter_a += slopes[count] * dt
    return OperatingPoint(  # the batteries' and the starter's currents; the rest as at the start
        op.bank_voltage_v,
        op.bank_emf_v,
        currents,
        op.ab_voltage_v,
        op.ab_current_a,
        op.ab_limit_a,
        op.alternator_current_a,
        starter_a,
        op.system_plus_voltage_v,
        op.system_plus_current_a,
        op.device_currents_a,
        op.bms_draw_a,
        op.short_current_a,
    )


def same_regime(rate: LoopRate | None, bank_slope: float) -> bool:
    """Whether the bank equation's slope is still the one `rate` was measured at."""
    return rate is not None and abs(bank_slope - rate[2]) <= REGIME_CHANGE * rate[2]


def measured(
    start: OperatingPoint,
    predicted: OperatingPoint,
    corrected: OperatingPoint,
    dt: float,
    bank_slope: float,
) -> tuple[float, LoopRate | None]:
    """A trial's stiffness from Euler's solve, and the rate it gives (None: nothing moved)."""
    z = stiffness(start, predicted, corrected)
    return z, (z / dt, dt, bank_slope) if moved(start, predicted) else None
