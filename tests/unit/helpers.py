"""Shared builders and a tiny driver for the controller's unit tests.

The controller is pure and never reads a clock, so a test drives it by handing it literal
`Inputs` and an explicit `now_s`. `step_range` samples a time range at a fixed `dt`;
`step_deadlines` jumps from one `next_deadline_s` to the next, the way the simulator does.
"""

import math
from collections.abc import Iterable, Sequence
from typing import TypeVar

from smartbms.core import Controller, Inputs, Settings, StepResult
from smartbms.core.events import Event
from smartbms.core.fuses import FuseType

PIN = "000000"
"""The factory PIN (CFG-5)."""

E = TypeVar("E", bound=Event)

IDLE = Inputs()
"""A healthy, idle system: chain whole, ATC/ATD given, no pre-alarm, remote looped, AB at 0 V."""

ALTERNATOR = Inputs(ab_voltage_v=14.0)
"""A running alternator: V_AB well above 13.0 V, bank at 13.2 V (below every charge limit)."""


def controller(**settings: object) -> Controller:
    """A fresh controller on factory settings changed by `settings` (plain values or enums)."""
    return Controller(Settings.factory().changed(**settings))


def fused_controller(fuse: FuseType = FuseType.MEGA_100A, **settings: object) -> Controller:
    """A controller whose fuse type is set (so readings are shown)."""
    return controller(fuse_type=fuse, **settings)


def step_range(
    ctrl: Controller, inputs: Inputs, start_s: float, end_s: float, dt_s: float
) -> list[tuple[float, StepResult]]:
    """Step at start_s, start_s + dt_s, ... up to and including end_s, with the same inputs.

    Times are computed as start + i * dt (rounded to the nanosecond) so they do not drift.
    """
    count = math.floor((end_s - start_s) / dt_s + 1e-9)
    out: list[tuple[float, StepResult]] = []
    for index in range(count + 1):
        now_s = round(start_s + index * dt_s, 9)
        out.append((now_s, ctrl.step(inputs, now_s)))
    if out[-1][0] < end_s:
        out.append((end_s, ctrl.step(inputs, end_s)))
    return out


def step_deadlines(
    ctrl: Controller, inputs: Inputs, start_s: float, end_s: float
) -> list[tuple[float, StepResult]]:
    """Step at start_s, then exactly at each `next_deadline_s` while it is at most end_s."""
    out = [(start_s, ctrl.step(inputs, start_s))]
    while True:
        deadline = out[-1][1].next_deadline_s
        if deadline > end_s:
            return out
        out.append((deadline, ctrl.step(inputs, deadline)))


def events_in(results: Iterable[tuple[float, StepResult]]) -> list[Event]:
    """Every event of a run, in order."""
    return [event for _, result in results for event in result.events]


def of_type(events: Iterable[Event], kind: type[E]) -> list[E]:
    """The events of one type, in order."""
    return [event for event in events if isinstance(event, kind)]


def kinds(events: Sequence[Event]) -> list[str]:
    """The events' names, in order."""
    return [event.kind for event in events]
