"""Integrating one trial of the fast stepper: Euler, Heun's corrector passes, the bend's pass.

The engine decides where a step ends and whether it stands; this module moves the plant over
a tried step. Euler predicts with the start currents held; the corrector then moves the charge,
polarisation and temperatures onto the ramp that ends at the currents solved there, twice (the
second pass starts from the corrected state, so Euler's error no longer biases the step), a
third time where the passes may still err, and on to where they converge (Aitken's
extrapolation, `converged_end_currents`). docs/performance.md, "The method", step 2.
"""

import dataclasses
from collections.abc import Callable
from typing import NamedTuple

from smartbms.core.signals import Outputs
from smartbms.plant.system import OperatingPoint, TwelveVoltSystem, converged_end_currents
from smartbms.twin import guess
from smartbms.twin.guess import LoopRate
from smartbms.twin.stepper import (
    ITERATION_STIFFNESS,
    Slopes,
    StepStart,
    channels,
    corrector_residual,
    loop_rates,
    stiffness,
)

LEFT_LIMIT_S = 1e-7
"""The end currents are read this long before a step's end, so that what ends with the step
(a crank, a short, an absorption stage) is not smeared over it."""


class Passes(NamedTuple):
    """What the corrector's passes over one trial found."""

    overheat: bool
    """The alternator's overheating risk began within the step."""
    predicted: OperatingPoint
    """The end Euler's step (or the guess of it) ramped to."""
    corrected: OperatingPoint
    """The end solved after the first pass."""
    third: OperatingPoint | None
    """The end solved after the second pass (None: no third pass was needed)."""


class Integrated(NamedTuple):
    """A trial integrated: what error control and the bend need of it."""

    overheat: bool
    ramp_end: OperatingPoint
    """Where the corrector's ramp ended (`ramp_end`)."""
    stiffness: float
    """The step times the fastest loop's decay rate (`stiffness`)."""
    loop_rate: LoopRate | None
    """The loop's rate for the steps that follow (None: not known)."""
    residuals: tuple[float, ...]
    """The charge the corrector left unconverged in each battery (`corrector_residual`)."""
    rates: tuple[float, ...] | None
    """Each current's loop rate (`loop_rates`; None: the end was guessed, not measured)."""


def ramp_end(
    predicted: OperatingPoint, corrected: OperatingPoint, third: OperatingPoint | None
) -> OperatingPoint:
    """Where the corrector's ramp ended: the corrected end, or where the passes converge.

    After a third pass the ramp's end currents went on to the passes' sum
    (`converged_end_currents`); the step's slopes, and the bend built on them, take those.
    """
    if third is None:
        return corrected
    ends = converged_end_currents(
        predicted.charge_currents_a, corrected.charge_currents_a, third.charge_currents_a
    )
    return third.with_charge_currents(ends)


def current_slopes(
    op: OperatingPoint, op_end: OperatingPoint, dt: float, *, starter: bool
) -> tuple[float, ...]:
    """How fast each battery's current (and the starter battery's, last) changes in a step."""
    return tuple(
        (i1 - i0) / dt
        for i0, i1 in zip(
            channels(op, starter=starter), channels(op_end, starter=starter), strict=True
        )
    )


@dataclasses.dataclass(slots=True)
class Corrector:
    """Moves the engine's plant over a tried step, from the step's snapshot."""

    system: TwelveVoltSystem
    surroundings_at: Callable[[float], None]
    """Sets the ambient and the sun the plant sees at a time (the engine's world)."""
    third_pass_share: float
    """A third corrector pass when it may move a battery's charge by this share of it."""
    advanced: bool = False
    """The plant moved since the step's snapshot: the next trial restores it first."""

    def integrate_trial(
        self,
        here: StepStart,
        dt: float,
        outputs: Outputs,
        previous_slopes: Slopes | None,
        loop_rate: LoopRate | None,
    ) -> Integrated:
        """`integrate` a plain trial, from a guess of its end where one is good enough (`guess`).

        `previous_slopes` and `loop_rate` are what the last plain step measured; a guess needs
        both and is dropped (the end solved after all) when the loop changed within the step.
        """
        system, op = self.system, here.op
        solve: Callable[[float], OperatingPoint] = lambda at: system.solve(at, outputs)  # noqa: E731
        end = guess.predicted_end(here, dt, previous_slopes, loop_rate)
        passes = self.integrate(here, dt, op, outputs, solve, end_guess=end)
        if end is not None and not guess.same_regime(loop_rate, system.bank_slope):
            end = None  # the loop changed within the step: measure it
            passes = self.integrate(here, dt, op, outputs, solve)
        guessed_z: float | None = None
        rates = None
        starter = system.starter is not None
        if end is None:  # Euler's end was solved: the loop's rate can be read off
            z, loop_rate = guess.measured(
                op, passes.predicted, passes.corrected, dt, system.bank_slope
            )
            rates = loop_rates(op, passes.predicted, passes.corrected, dt, starter=starter)
        else:
            assert loop_rate is not None  # noqa: S101  # a guess needs it
            z = guessed_z = loop_rate[0] * dt
        residuals = corrector_residual(
            op,
            passes.predicted,
            passes.corrected,
            dt,
            starter=starter,
            guessed_stiffness=guessed_z,
            third=passes.third,
        )
        return Integrated(
            passes.overheat,
            ramp_end(passes.predicted, passes.corrected, passes.third),
            z,
            loop_rate,
            residuals,
            rates,
        )

    def integrate(
        self,
        here: StepStart,
        dt: float,
        op: OperatingPoint,
        outputs: Outputs,
        solve: Callable[[float], OperatingPoint],
        *,
        end_guess: OperatingPoint | None = None,
    ) -> Passes:
        """Euler from the snapshot at `op`, then Heun's two corrector passes (`solve`: the end).

        With a guess of the end currents (`guess.predicted_end`) the first pass ramps to it
        instead of to a solve at Euler's end: one solve less. A third pass follows where two
        may still err (`passes_may_err`) or the loop is too stiff for the passes to converge
        by themselves (`ITERATION_STIFFNESS`).
        """
        system = self.system
        if self.advanced:
            system.restore(here.state)
        self.advanced = True
        t_end = here.t_s + dt
        # with a guessed end the correction follows at once: the charge moves only then
        overheat = system.advance(here.t_s, dt, op, outputs, latch=False, held=end_guess is None)
        self.surroundings_at(t_end)
        op_predicted = solve(t_end - LEFT_LIMIT_S) if end_guess is None else end_guess
        system.correct_for_ramp(op, op_predicted, dt, outputs, here.ambient_c)
        op_corrected = solve(t_end - LEFT_LIMIT_S)
        system.move_ramp_end(op_predicted, op_corrected, dt, outputs)
        op_third = None
        if self.passes_may_err(op_predicted, op_corrected, dt, here.capacities_ah) or (
            end_guess is None and stiffness(op, op_predicted, op_corrected) > ITERATION_STIFFNESS
        ):
            # a third pass, and on to where the passes converge (`converged_end_currents`)
            op_third = solve(t_end - LEFT_LIMIT_S)
            system.move_ramp_end(op_corrected, op_third, dt, outputs, guessed=op_predicted)
        return Passes(overheat, op_predicted, op_corrected, op_third)

    def passes_may_err(
        self,
        first: OperatingPoint,
        second: OperatingPoint,
        dt: float,
        capacities_ah: tuple[float, ...],
    ) -> bool:
        """Whether two corrector passes may leave a charge error worth a third.

        Below `ITERATION_STIFFNESS` the next pass would move the end current by at most half
        the last move, the charge by half that times the step: a third pass is solved when
        that could pass the trapezoid's tolerance (and always above it, `integrate`).
        """
        moves = [
            abs(b - a)
            for a, b in zip(first.charge_currents_a, second.charge_currents_a, strict=True)
        ]
        limit = self.third_pass_share * 3600.0 / (0.25 * dt)
        return any(m > limit * c for m, c in zip(moves, capacities_ah, strict=False))

    def bend_feeds_back(
        self, curvatures: tuple[float, ...], z: float, dt: float, capacities_ah: tuple[float, ...]
    ) -> bool:
        """Whether the bend moved a charge enough that the loop's answer to it matters.

        The bend takes dt^3 I'' / 12 off a battery's charge; the loop moves the end current
        by lambda times that, and the ramp the charge by z / 2 of it again: worth a pass when
        that could pass the trapezoid's tolerance (as `passes_may_err`).
        """
        share = self.third_pass_share * 3600.0
        return any(
            0.5 * z * dt**3 * abs(k) / 12.0 > share * c
            for k, c in zip(curvatures, capacities_ah, strict=True)
        )

    def pass_after_bend(
        self,
        here: StepStart,
        ramp_end: OperatingPoint,
        rates: tuple[float, ...] | None,
        dt: float,
        outputs: Outputs,
    ) -> None:
        """One more corrector pass after the bend, on to where such passes converge.

        The corrector converged on the end currents of the unbent ramp; the bend moved the
        charge, and the loop answers that (a charger's current rises as the bank's charge it
        sees falls). Solved again at the end, the ramp's end moves there, and on by the loop's
        ratio r = lambda dt / 2 (`loop_rates`) as a geometric series: r / (1 - r) of that move.
        Without it the bend over-corrected a charger's taper by ~ r (5-10 %, always one way).
        """
        solved = self.system.solve(here.t_s + dt - LEFT_LIMIT_S, outputs)
        before, after = ramp_end.charge_currents_a, solved.charge_currents_a
        ratios = [0.0] * len(after) if rates is None else [0.5 * r * dt for r in rates]
        ratios += [0.0] * (len(after) - len(ratios))
        ends = tuple(
            b + max(r, -0.5) / (1.0 - max(r, -0.5)) * (b - a)
            for a, b, r in zip(before, after, ratios, strict=True)
        )
        self.system.move_ramp_end(ramp_end, solved.with_charge_currents(ends), dt, outputs)
