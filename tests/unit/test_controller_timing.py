"""The controller's clock contract: explicit time, next_deadline_s, events with their times.

Every timer of SPEC.md (ALT-1 debounce, ALT-5 hold, OUT-4 lead, OUT-6 blink, SP-5 retry) is
reported as `next_deadline_s`; a caller that steps only at those times sees exactly what a caller
stepping on a fine grid sees.
"""

import dataclasses

import pytest

from smartbms.core import NO_DEADLINE, Code, Inputs, Level
from smartbms.core.events import (
    AlternatorInputEnabled,
    CodeCleared,
    CodeRaised,
    LoadDisconnected,
    PreAlarmCause,
    PreAlarmCleared,
    PreAlarmRaised,
    SystemPlusChanged,
)
from tests.unit.helpers import (
    ALTERNATOR,
    IDLE,
    controller,
    events_in,
    step_deadlines,
    step_range,
)


@pytest.mark.req("SYS-2", "SYS-3")
def test_a_healthy_start_is_quiet_and_needs_no_timer() -> None:
    """SYS-2/SYS-3: a whole chain, looped remote, nothing on AB: no event, no deadline."""
    result = controller().step(IDLE, 0.0)
    assert result.events == ()
    assert result.next_deadline_s == NO_DEADLINE
    out = result.outputs
    assert out.system_on
    assert out.bms_active
    assert not out.safe_state
    assert out.codes == frozenset()
    assert (out.load_disconnect, out.charge_disconnect, out.prealarm) == (
        Level.HIGH,
        Level.HIGH,
        Level.FLOATING,
    )


def test_time_never_goes_backwards() -> None:
    """The caller's clock must be monotonic: a step into the past is a programmer error."""
    ctrl = controller()
    ctrl.step(IDLE, 10.0)
    ctrl.step(IDLE, 10.0)  # the same instant twice is fine
    with pytest.raises(ValueError, match="backwards"):
        ctrl.step(IDLE, 9.99)


@pytest.mark.req("ALT-1", "OUT-4")
def test_next_deadline_is_the_earliest_pending_timer() -> None:
    """ALT-1/OUT-4: with the AB debounce (1 s) and the OUT-4 lead (30 s) both pending, the
    deadline is the debounce end, then the lead end."""
    ctrl = controller()
    ctrl.step(IDLE, 0.0)
    inputs = dataclasses.replace(ALTERNATOR, allowed_to_discharge=False)
    assert ctrl.step(inputs, 5.0).next_deadline_s == 6.0
    assert ctrl.step(inputs, 6.0).next_deadline_s == 35.0
    assert ctrl.step(inputs, 35.0).next_deadline_s == NO_DEADLINE


@pytest.mark.req("OUT-4", "OUT-6", "OUT-7", "ALT-1", "ERR-6", "ERR-8", "SP-2")
def test_a_discharge_story_event_by_event() -> None:
    """OUT-4/OUT-6/OUT-7/ALT-1/ERR-6/ERR-8/SP-2: alternator starts, pre-alarm (intermittent),
    ATD goes, loads go: every event with its time and its code."""
    ctrl = controller(prealarm_mode="intermittent")
    ctrl.step(IDLE, 0.0)
    run = step_deadlines(ctrl, ALTERNATOR, 10.0, 20.0)
    pre = dataclasses.replace(ALTERNATOR, chain_prealarm=True)
    run += step_deadlines(ctrl, pre, 100.0, 104.0)
    no_atd = dataclasses.replace(pre, allowed_to_discharge=False)
    run += step_deadlines(ctrl, no_atd, 110.0, 1000.0)
    events = events_in(run)
    assert events == [
        AlternatorInputEnabled(11.0),
        CodeRaised(100.0, Code.W_B12),
        PreAlarmRaised(100.0, PreAlarmCause.CHAIN),
        CodeRaised(130.0, Code.A_B11),
        CodeCleared(130.0, Code.W_B12),
        LoadDisconnected(130.0),
        PreAlarmCleared(130.0),
        SystemPlusChanged(130.0, charge_allowed=True, discharge_allowed=False),
    ]
    assert [event.code for event in events] == [
        None,
        Code.W_B12,
        Code.W_B12,
        Code.A_B11,
        Code.W_B12,
        Code.A_B11,
        None,
        None,
    ]
    # Between 110 s and 130 s only the blink edges and the lead end woke the controller.
    times = [t for t, _ in run if 110.0 <= t <= 130.0]
    assert times == [float(t) for t in range(110, 131)]
    levels = [result.outputs.prealarm for t, result in run if 110.0 <= t < 130.0]
    assert levels == [Level.HIGH, Level.FLOATING] * 10


def _scenario() -> list[tuple[float, float, Inputs]]:
    """(start, end, inputs) segments exercising every timer at once."""
    pre = dataclasses.replace(ALTERNATOR, chain_prealarm=True)
    return [
        (0.0, 4.75, IDLE),
        (5.0, 9.75, ALTERNATOR),  # AB debounce -> 6.0
        (10.0, 11.75, dataclasses.replace(ALTERNATOR, bank_voltage_v=14.2)),  # limit
        (12.0, 29.75, dataclasses.replace(ALTERNATOR, bank_voltage_v=13.5)),  # hold -> 22.0
        (30.0, 39.75, pre),  # blink from 30.0
        (40.0, 59.75, dataclasses.replace(pre, system_plus_current_a=-700.0)),  # trips
        (60.0, 99.75, dataclasses.replace(pre, allowed_to_discharge=False)),  # lead -> 60.0
        (100.0, 120.0, ALTERNATOR),
    ]


@pytest.mark.req("ALT-1", "ALT-5", "OUT-4", "OUT-6", "SP-5")
def test_stepping_at_deadlines_sees_what_a_fine_grid_sees() -> None:
    """ALT-1/ALT-5/OUT-4/OUT-6/SP-5: every timer is announced: deadline-driven stepping and a
    0.25 s grid give the same events at the same times."""
    fine = controller(prealarm_mode="intermittent")
    sparse = controller(prealarm_mode="intermittent")
    fine_events = []
    sparse_events = []
    for start_s, end_s, inputs in _scenario():
        fine_events += events_in(step_range(fine, inputs, start_s, end_s, 0.25))
        sparse_events += events_in(step_deadlines(sparse, inputs, start_s, end_s))
    assert sparse_events == fine_events
    assert len(fine_events) > 15
    assert AlternatorInputEnabled(6.0) in fine_events
    assert AlternatorInputEnabled(22.0) in fine_events
    assert LoadDisconnected(60.0) in fine_events  # the pre-alarm had led since 30 s


def test_same_inputs_same_answers() -> None:
    """The controller is deterministic: two instances fed alike agree at every step."""
    first = controller(prealarm_mode="intermittent")
    second = controller(prealarm_mode="intermittent")
    for start_s, end_s, inputs in _scenario():
        for (_, a), (_, b) in zip(
            step_range(first, inputs, start_s, end_s, 0.5),
            step_range(second, inputs, start_s, end_s, 0.5),
            strict=True,
        ):
            assert a == b
