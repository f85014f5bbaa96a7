"""Did anything cross? The BMS's side of the question, asked at the end of a tried step."""

import copy

from smartbms.core.controller import Controller
from smartbms.core.signals import Inputs
from smartbms.twin.stepper import StepStart, same_decision

TIME_EPS_S = 1e-9
"""Times closer than this are the same instant (the engine's)."""


def controller_would_change(
    controller: Controller, inputs_end: Inputs, inputs_start: Inputs, t_end: float, here: StepStart
) -> int:
    """Whether the BMS would decide differently at `t_end` because its inputs moved.

    0: no; 1: only a timer of its own started or stopped (its next deadline moved); 2: an
    event or a different decision. Asked of a copy, so the real controller never sees a
    trial. Before the step's limit no timer of its own expires, so any event, changed output or
    moved deadline is the inputs' doing; at the limit the answer is compared with what the
    unchanged inputs (`inputs_start`) would give then.
    """
    moved = copy.copy(controller).step(inputs_end, t_end)
    if t_end < here.limit_s - TIME_EPS_S:
        still = here.result  # what the unchanged inputs give until the limit
        if moved.events:
            return 2
    else:
        still = copy.copy(controller).step(inputs_start, t_end)
        if moved.events != still.events:
            return 2
    if not same_decision(moved.outputs, still.outputs):
        return 2
    # a timer that starts or stops (the 10 s hold, a debounce) moves the next deadline
    return int(moved.next_deadline_s != still.next_deadline_s)
