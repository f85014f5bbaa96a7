"""The intermittent pre-alarm at O(1) per stretch: one step across many of its edges.

The blinking pre-alarm output (OUT-6, 1 s on / 1 s off) announces each edge as a controller
deadline. When the plant is quiet, the fast stepper takes one step across many edges at the
blink's average load (the mean of the operating points with the output high and floating,
weighted by the duty cycle), and the controller's blink phase moves on by itself at the next
step (it counts the edges it passed). Each tried end is looked at with either level, so a
threshold that the output's ripple would cross ends the stretch before it, and plain steps
that land on every edge locate it. docs/performance.md has the rule and the figures.
"""

import copy
import dataclasses
import math

from smartbms.core import constants as c
from smartbms.core.controller import Controller
from smartbms.core.settings import PreAlarmMode
from smartbms.core.signals import Inputs, Level, Outputs
from smartbms.plant.system import OperatingPoint, TwelveVoltSystem
from smartbms.twin.stepper import AdaptiveStep, StepStart, alike, jolt_c


@dataclasses.dataclass(frozen=True, slots=True)
class Blink:
    """The intermittent pre-alarm's square wave from a step's start, as the controller runs it.

    The output is `high` until `edge_s`, then flips every `on_s` / `off_s` seconds (OUT-6).
    """

    edge_s: float
    high: bool
    on_s: float
    off_s: float

    @property
    def period_s(self) -> float:
        """One on and one off."""
        return self.on_s + self.off_s

    @property
    def duty(self) -> float:
        """The share of the time the output is high."""
        return self.on_s / self.period_s

    def level_index(self, t_s: float) -> int:
        """0 while the output is high at `t_s`, 1 while it floats (`Stretch.levels`' order)."""
        return 0 if self.high_at(t_s) else 1

    def high_at(self, t_s: float) -> bool:
        """The level at `t_s` (an edge at `t_s` has already happened, as in the controller)."""
        if t_s < self.edge_s:
            return self.high
        phase_s = math.fmod(t_s - self.edge_s, self.period_s)
        first_s = self.off_s if self.high else self.on_s
        return self.high if phase_s >= first_s else not self.high


@dataclasses.dataclass(frozen=True, slots=True)
class Stretch:
    """A step across the blinking pre-alarm's edges, taken at the blink's average load.

    The plant is integrated at the mean of its operating points with the output high and
    floating (weighted by the duty cycle); each tried end is looked at with both levels, so a
    threshold that the output's ripple would cross ends the stretch before it.
    """

    blink: Blink
    limit_s: float
    """The next deadline that is not a blink edge, timeline entry or device timer."""
    op_mean: OperatingPoint
    """The start's operating point at the average load."""
    levels: tuple[Outputs, Outputs]
    """The outputs with the pre-alarm high, and floating."""
    inputs: tuple[Inputs, Inputs]
    """What the BMS measured at the start at each level."""


def blend(high: OperatingPoint, low: OperatingPoint, weight: float) -> OperatingPoint:
    """`weight` of `high` and the rest of `low`: the mean of a square wave's two levels."""

    def mix(a: float, b: float) -> float:
        return weight * a + (1.0 - weight) * b

    def mix_all(a: tuple[float, ...], b: tuple[float, ...]) -> tuple[float, ...]:
        return tuple(mix(x, y) for x, y in zip(a, b, strict=True))

    return OperatingPoint(
        bank_voltage_v=mix(high.bank_voltage_v, low.bank_voltage_v),
        bank_emf_v=mix(high.bank_emf_v, low.bank_emf_v),
        battery_currents_a=mix_all(high.battery_currents_a, low.battery_currents_a),
        ab_voltage_v=mix(high.ab_voltage_v, low.ab_voltage_v),
        ab_current_a=mix(high.ab_current_a, low.ab_current_a),
        ab_limit_a=mix(high.ab_limit_a, low.ab_limit_a),
        alternator_current_a=mix(high.alternator_current_a, low.alternator_current_a),
        starter_current_a=mix(high.starter_current_a, low.starter_current_a),
        system_plus_voltage_v=mix(high.system_plus_voltage_v, low.system_plus_voltage_v),
        system_plus_current_a=mix(high.system_plus_current_a, low.system_plus_current_a),
        device_currents_a=mix_all(high.device_currents_a, low.device_currents_a),
        bms_draw_a=mix(high.bms_draw_a, low.bms_draw_a),
        short_current_a=mix(high.short_current_a, low.short_current_a),
    )


def stretch_at(  # noqa: PLR0917  # the engine's parts, each once
    stepper: AdaptiveStep,
    here: StepStart,
    system: TwelveVoltSystem,
    controller: Controller,
    decided: tuple[Outputs, Inputs],
    due_s: float,
    capacities_ah: tuple[float, ...],
) -> Stretch | None:
    """A step across the blink's edges from `here`, when the plant is quiet enough for one.

    `decided`: the outputs in force and the inputs they were decided on; `due_s`: the next
    command or the horizon. Quiet: the pre-alarm blinks and nothing but its edges is due for
    two periods; the two levels move each battery's current by less than the charge
    tolerance allows over one half-period; and the plant's latches, the devices' timers and
    the BMS's decision are the same at both levels. The solver's guess moves (the caller
    restores the snapshot).
    """
    t = here.t_s
    outputs, measured = decided
    if (
        not outputs.prealarm_alarm
        or controller.settings.prealarm_mode is not PreAlarmMode.INTERMITTENT
    ):
        return None
    phase = controller.snapshot()
    if (
        phase.prealarm_damaged
        or phase.blink_for_s is None
        or here.result.next_deadline_s != phase.blink_edge_s
    ):
        return None
    blink = Blink(
        phase.blink_edge_s, phase.blink_high, c.PREALARM_BLINK_ON_S, c.PREALARM_BLINK_OFF_S
    )
    # the BMS's own deadlines but the blink's: ask a copy with the output steady
    steady = copy.copy(controller)
    steady.change_settings(
        {"prealarm_mode": PreAlarmMode.CONTINUOUS.value}, pin=steady.settings.pin, now_s=t
    )
    levels = (
        dataclasses.replace(outputs, prealarm=Level.HIGH),
        dataclasses.replace(outputs, prealarm=Level.FLOATING),
    )
    devices_s = {system.next_device_change_s(t, level) for level in levels}
    limit_s = min(steady.step(measured, t).next_deadline_s, due_s, *devices_s)
    if len(devices_s) > 1 or limit_s - t < 2.0 * blink.period_s:
        return None
    ops = (system.solve(t, levels[0]), system.solve(t, levels[1]))
    inputs = (system.measure(ops[0], levels[0]), system.measure(ops[1], levels[1]))
    if inputs[0].prealarm_output_current_a > c.PREALARM_MAX_A:
        return None  # the first high edge damages the output (OUT-9): step onto it
    half_s = max(blink.on_s, blink.off_s)
    ripple_pct = 100.0 * jolt_c(ops[0], ops[1], capacities_ah) * half_s / 3600.0
    if ripple_pct > stepper.charge_tolerance_pct:
        return None
    for op, level in zip(ops, levels, strict=True):
        if system.discrete_state(t, op, level) != here.signature:
            return None
    high, floating = (copy.copy(controller).step(level_inputs, t) for level_inputs in inputs)
    if not alike(high, floating):
        return None
    return Stretch(blink, limit_s, blend(ops[0], ops[1], blink.duty), levels, inputs)


def mean_solve(system: TwelveVoltSystem, stretch: Stretch, t: float) -> OperatingPoint:
    """The network at the blink's average load: its two levels' operating points, blended."""
    high, floating = stretch.levels
    return blend(system.solve(t, high), system.solve(t, floating), stretch.blink.duty)


def either_level_crosses(
    system: TwelveVoltSystem,
    controller: Controller,
    here: StepStart,
    stretch: Stretch,
    t_end: float,
) -> bool:
    """Whether, with the output high or floating, the plant or the BMS would change at t_end."""
    saved = system.snapshot()
    try:
        for level, start_inputs in zip(stretch.levels, stretch.inputs, strict=True):
            op = system.solve(t_end, level)
            system.look(t_end, op)
            if system.discrete_state(t_end, op, level) != here.signature:
                return True
            moved = copy.copy(controller).step(system.measure(op, level), t_end)
            still = copy.copy(controller).step(start_inputs, t_end)
            if not alike(moved, still):
                return True
            system.restore(saved)
        return False
    finally:
        system.restore(saved)
