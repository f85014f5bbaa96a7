"""Focused no-chatter properties: an input hovering at a threshold does not make the AB port
toggle faster than its debounce (ALT-1) or its charge-limit hold (ALT-5) allows.

Each example is a list of (value, hold time) samples. The runner behaves like the simulator:
it steps at every sample and, while a sample holds, at every `next_deadline_s` the controller
asks for. A "toggle" is an on -> off -> on cycle, counted by its rising edge; with the port
starting open there are never more falling edges than rising ones.

The bigger randomized run: `.venv/bin/pytest tests/property --hypothesis-profile=dev`.
"""

import itertools
import math

import pytest
from hypothesis import event, given
from hypothesis import strategies as st

from smartbms.core import constants as c
from smartbms.core.controller import Controller
from smartbms.core.settings import Settings
from smartbms.core.signals import Inputs
from tests.property import strategies as bst

hold_times_s = st.one_of(st.floats(0.001, 0.05), st.floats(0.05, 1.5))
"""Fine steps, and holds long enough for the 1 s debounce to complete."""
long_hold_times_s = st.one_of(hold_times_s, st.floats(1.5, 12.0))
"""... and holds long enough for the 10 s charge-limit release."""


def run(
    controller: Controller, samples: list[tuple[Inputs, float]]
) -> tuple[float, list[float], list[float], list[tuple[float, Inputs]]]:
    """Drive `controller` like the simulator; return (T, rise times, fall times, steps)."""
    now_s = 0.0
    enabled = False
    rises: list[float] = []
    falls: list[float] = []
    steps: list[tuple[float, Inputs]] = []

    def step(inputs: Inputs, at_s: float) -> float:
        nonlocal enabled
        result = controller.step(inputs, at_s)
        steps.append((at_s, inputs))
        if result.outputs.ab_enabled and not enabled:
            rises.append(at_s)
        if enabled and not result.outputs.ab_enabled:
            falls.append(at_s)
        enabled = result.outputs.ab_enabled
        return result.next_deadline_s

    for inputs, hold_s in samples:
        deadline_s = step(inputs, now_s)
        end_s = now_s + hold_s
        while deadline_s < end_s:
            deadline_s = step(inputs, deadline_s)
        now_s = end_s
    return now_s, rises, falls, steps


@pytest.mark.req("ALT-1")
@given(
    samples=st.lists(
        st.tuples(
            st.one_of(bst.around(c.ALT_ENGAGE_V, 0.05), st.floats(12.95, 13.05)), hold_times_s
        ),
        min_size=20,
        max_size=200,
    )
)
def test_ab_voltage_hovering_at_13v_does_not_chatter(samples: list[tuple[float, float]]) -> None:
    """ALT-1: V_AB wandering in [12.95, 13.05] V toggles the AB port at most T / 1 s + 1 times.

    Also: rising edges are >= ALT_ENGAGE_DEBOUNCE_S apart, and each comes after V_AB has been
    above 13.0 V without a break for ALT_ENGAGE_DEBOUNCE_S.
    """
    controller = Controller()
    span_s, rises, falls, steps = run(
        controller, [(Inputs(ab_voltage_v=volts), hold_s) for volts, hold_s in samples]
    )
    event(f"rising edges: {min(len(rises), 3)}{'+' if len(rises) >= 3 else ''}")
    assert len(rises) <= span_s / c.ALT_ENGAGE_DEBOUNCE_S + 1
    assert len(falls) <= len(rises)
    for earlier, later in itertools.pairwise(rises):
        assert later >= earlier + c.ALT_ENGAGE_DEBOUNCE_S
    for rise_s in rises:
        above_since_s = math.inf
        for at_s, inputs in steps:
            if at_s > rise_s:
                break
            if inputs.ab_voltage_v > c.ALT_ENGAGE_V:
                above_since_s = min(above_since_s, at_s)
            else:
                above_since_s = math.inf
        assert rise_s >= above_since_s + c.ALT_ENGAGE_DEBOUNCE_S


@pytest.mark.req("ALT-5")
@given(
    limit_v=bst.charge_limits_v,
    samples=st.lists(
        st.tuples(
            st.one_of(bst.around(-c.ALT_RECONNECT_HYST_V, 0.05), bst.around(0.0, 0.02)),
            long_hold_times_s,
        ),
        min_size=20,
        max_size=200,
    ),
)
def test_bank_hovering_at_the_charge_limit_does_not_chatter(
    limit_v: float, samples: list[tuple[float, float]]
) -> None:
    """ALT-5: a bank hovering around the charge limit and limit - 0.5 V, with the alternator
    at 14.4 V, re-enables the AB port at most T / 10 s + 1 times, rising edges >= 10 s apart.
    """
    controller = Controller(Settings(charge_limit_v=limit_v))
    limit_v = controller.settings.charge_limit_v
    span_s, rises, falls, _ = run(
        controller,
        [
            (Inputs(ab_voltage_v=14.4, bank_voltage_v=limit_v + offset_v), hold_s)
            for offset_v, hold_s in samples
        ],
    )
    event(f"rising edges: {min(len(rises), 3)}{'+' if len(rises) >= 3 else ''}")
    assert len(rises) <= span_s / c.ALT_RECONNECT_HOLD_S + 1
    assert len(falls) <= len(rises)
    for earlier, later in itertools.pairwise(rises):
        assert later >= earlier + c.ALT_RECONNECT_HOLD_S
