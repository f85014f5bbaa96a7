"""The deadline contract of the sans-IO core (ARCHITECTURE.md), focused on the timer with the
most arithmetic: the intermittent pre-alarm blink (OUT-6).

A simulator jumps from one `next_deadline_s` to the next. That is only exact if nothing changes
strictly before the announced deadline (no surprise), and a blink deadline is worth having only
if the terminal really changes there. The stateful machines check the first half on every step;
this test aims straight at the blink's floating-point edge arithmetic: a pre-alarm raised at an
arbitrary time, then arbitrary jumps and jumps to the deadline.

The bigger randomized run: `.venv/bin/pytest tests/property --hypothesis-profile=dev`.
"""

import copy
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smartbms.core.controller import Controller, StepResult
from smartbms.core.settings import PreAlarmMode, Settings
from smartbms.core.signals import Inputs


def check_blink_deadline(
    controller: Controller, inputs: Inputs, result: StepResult, now_s: float
) -> None:
    """No change strictly before the deadline; the terminal flips exactly at it."""
    deadline_s = result.next_deadline_s
    assert now_s < deadline_s < math.inf
    just_before_s = math.nextafter(deadline_s, -math.inf)
    if just_before_s > now_s:
        before = copy.deepcopy(controller).step(inputs, just_before_s)
        assert before.events == ()
        assert before.outputs == result.outputs, (
            f"pre-alarm already {before.outputs.prealarm} at {just_before_s!r}, before the "
            f"deadline {deadline_s!r} announced at {now_s!r}"
        )
    at = copy.deepcopy(controller).step(inputs, deadline_s)
    assert at.outputs.prealarm is not result.outputs.prealarm, (
        f"deadline {deadline_s!r} announced at {now_s!r}: no blink edge there"
    )


@pytest.mark.req("OUT-6")
@given(
    raised_at_s=st.floats(0.0, 1e5),
    jumps_s=st.lists(st.floats(0.0, 100.0), min_size=1, max_size=20),
)
def test_intermittent_prealarm_edges_come_exactly_at_the_deadline(
    raised_at_s: float, jumps_s: list[float]
) -> None:
    """OUT-6 + deadline contract: a blinking pre-alarm changes exactly at `next_deadline_s`."""
    controller = Controller(Settings(prealarm_mode=PreAlarmMode.INTERMITTENT))
    controller.step(Inputs(), 0.0)
    inputs = Inputs(chain_prealarm=True)
    now_s = raised_at_s
    result = controller.step(inputs, now_s)
    check_blink_deadline(controller, inputs, result, now_s)
    for jump_s in jumps_s:
        now_s += jump_s  # an arbitrary moment (another input's sample) ...
        result = controller.step(inputs, now_s)
        check_blink_deadline(controller, inputs, result, now_s)
        now_s = result.next_deadline_s  # ... then straight to the deadline
        result = controller.step(inputs, now_s)
        check_blink_deadline(controller, inputs, result, now_s)
