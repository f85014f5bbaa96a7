"""`Hold`, the one debounce behind every delay: when it starts, breaks, fires, and its deadline.

The controller and the stepper rely on two promises: a look that changes nothing returns the
same object (a quiet step allocates nothing), and `due_s` is exactly the instant at which
`done` turns true, so a stepper that lands on the deadline sees the timer fire there and not a
rounding step later or earlier.
"""

import copy
import dataclasses
import math
import pickle

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smartbms.core.timing import Hold

IDLE = Hold(1.0)


def test_an_idle_hold_is_not_running_never_due_and_never_done() -> None:
    assert not IDLE.running
    assert IDLE.since_s is None
    assert IDLE.due_s == math.inf
    assert not IDLE.done(1e12)
    assert not IDLE.done(0.0, slack_s=1e9)


def test_look_starts_at_the_first_holding_look_and_keeps_that_start() -> None:
    started = IDLE.look(True, 5.0)
    assert started == Hold(1.0, 5.0)
    assert started.running
    assert started.look(True, 5.5) is started  # still holding: the same value, no allocation
    assert started.look(True, 7.0).since_s == 5.0


def test_look_forgets_the_moment_the_condition_breaks() -> None:
    broken = IDLE.look(True, 5.0).look(False, 5.9)
    assert broken == IDLE
    assert not broken.running
    restarted = broken.look(True, 6.0)
    assert restarted.since_s == 6.0
    assert not restarted.done(6.9)
    assert restarted.done(7.0)


def test_quiet_looks_return_the_same_object() -> None:
    assert IDLE.look(False, 3.0) is IDLE
    assert IDLE.stop() is IDLE
    running = IDLE.start(2.0)
    assert running.start(3.0) is running  # start does not restart a running hold
    assert running.look(True, 4.0) is running


def test_start_and_stop() -> None:
    running = IDLE.start(2.0)
    assert running.since_s == 2.0
    assert running.hold_s == 1.0
    assert running.stop() == IDLE
    assert running.stop().hold_s == 1.0


@pytest.mark.parametrize(
    ("hold_s", "since_s"),
    [(1.0, 0.0), (10.0, 0.1 + 0.2), (0.5, 1e9 + 0.1), (30.0, 123.456789), (60.0, 2.0**-30)],
)
def test_due_is_exactly_where_done_turns_true(hold_s: float, since_s: float) -> None:
    """The deadline announced is the first instant at which it fires: stepping exactly onto
    it fires, the float just before it does not."""
    hold = Hold(hold_s, since_s)
    due_s = hold.due_s
    assert due_s == since_s + hold_s
    assert hold.done(due_s)
    assert not hold.done(math.nextafter(due_s, -math.inf))
    assert hold.done(math.nextafter(due_s, math.inf))


def test_slack_fires_that_much_early_and_no_more() -> None:
    hold = Hold(10.0, 0.0)
    assert hold.done(9.999, slack_s=0.001)
    assert not hold.done(9.998, slack_s=0.001)


def test_a_hold_is_a_frozen_picklable_value() -> None:
    hold = Hold(10.0, 3.0)
    with pytest.raises(dataclasses.FrozenInstanceError):
        hold.since_s = 4.0  # type: ignore[misc]
    assert not hasattr(hold, "__dict__")
    assert pickle.loads(pickle.dumps(hold)) == hold  # noqa: S301  # our own bytes
    assert copy.copy(hold) == hold
    assert hash(hold) == hash(Hold(10.0, 3.0))


_looks = st.lists(st.tuples(st.booleans(), st.floats(0.0, 3.0)), max_size=40)


@given(hold_s=st.sampled_from([0.5, 1.0, 10.0]), looks=_looks)
def test_done_means_held_without_a_break_for_the_whole_time(
    hold_s: float, looks: list[tuple[bool, float]]
) -> None:
    """Against a plain reference: the start of the current unbroken run of holding looks."""
    hold = Hold(hold_s)
    now_s = 0.0
    run_start_s: float | None = None
    for holding, dt_s in looks:
        now_s += dt_s
        hold = hold.look(holding, now_s)
        if not holding:
            run_start_s = None
        elif run_start_s is None:
            run_start_s = now_s
        assert hold.since_s == run_start_s
        assert hold.running == (run_start_s is not None)
        expected_done = run_start_s is not None and now_s >= run_start_s + hold_s
        assert hold.done(now_s) == expected_done
        assert hold.due_s == (math.inf if run_start_s is None else run_start_s + hold_s)
