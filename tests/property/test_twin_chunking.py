"""The twin's steps never depend on how it is driven, and a fork goes on exactly like the original.

Hypothesis draws random chunkings of every example (a few long calls, many tiny ones, calls that
land exactly on events, state reads in between) and random instants to fork at; the events must
be identical to one uninterrupted run, to the last bit of every time and value.
"""

import functools
import pickle
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smartbms.core.events import Event
from smartbms.scenario import Scenario, load_scenario
from smartbms.twin import Twin
from smartbms.twin.commands import EngineStop

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
NAMES = sorted(p.stem for p in EXAMPLES.glob("*.toml"))
WINDOW_S = 6 * 3600.0
"""Each example is driven over its first hours (its whole length when shorter): long enough for
its timeline and protections, short enough to run dozens of times."""


@functools.cache
def scenario(name: str) -> Scenario:
    """An example, cut to the window."""
    loaded = load_scenario(EXAMPLES / f"{name}.toml")
    if loaded.duration_s <= WINDOW_S:
        return loaded
    section = loaded.scenario.model_copy(update={"duration_s": WINDOW_S})
    return loaded.model_copy(update={"scenario": section})


@functools.cache
def reference(name: str) -> tuple[Event, ...]:
    """The events of one uninterrupted call."""
    twin = Twin.from_scenario(scenario(name))
    return twin.advance_to(scenario(name).duration_s)


fractions = st.lists(st.floats(0.0, 1.0), min_size=1, max_size=40)


@pytest.mark.parametrize("name", NAMES)
@settings(max_examples=4)
@given(cuts=fractions, read_state=st.booleans(), on_events=st.booleans())
def test_any_chunking_gives_the_same_events(
    name: str, cuts: list[float], read_state: bool, on_events: bool
) -> None:
    end_s = scenario(name).duration_s
    targets = sorted(end_s * f for f in cuts)
    if on_events:  # also stop exactly on the reference's event times
        targets = sorted({*targets, *(e.t_s for e in reference(name)[::3])})
    twin = Twin.from_scenario(scenario(name))
    events: list[Event] = []
    for t in [*targets, end_s]:
        events += twin.advance_to(max(t, twin.now_s))
        if read_state:
            assert twin.state.t_s == twin.now_s
    assert tuple(events) == reference(name)


@pytest.mark.parametrize("name", ["manual-figure-1", "system-plus-short", "weak-cell"])
@settings(max_examples=5)
@given(fork=st.floats(0.0, 1.0), through_pickle=st.booleans())
def test_a_snapshot_goes_on_with_identical_events(
    name: str, fork: float, through_pickle: bool
) -> None:
    end_s = scenario(name).duration_s
    fork_s = fork * end_s
    twin = Twin.from_scenario(scenario(name))
    before = twin.advance_to(fork_s)
    snap = twin.snapshot()
    if through_pickle:
        snap = pickle.loads(pickle.dumps(snap))  # noqa: S301  # our own bytes
    forked = Twin.restore(snap)
    assert forked.now_s == fork_s
    assert forked.state == twin.state
    after = forked.advance_to(end_s)
    assert before + after == reference(name)
    assert twin.advance_to(end_s) == after  # the original is not disturbed by its fork


@settings(max_examples=5)
@given(fork=st.floats(0.01, 0.99))
def test_a_command_right_after_a_restore_acts_at_the_restored_time(fork: float) -> None:
    """The restored twin sits inside a step it has not planned: the command still lands at its
    own time, as on the original."""
    end_s = scenario("manual-figure-1").duration_s
    original = Twin.from_scenario(scenario("manual-figure-1"))
    original.advance_to(fork * end_s)
    forked = Twin.restore(original.snapshot())
    command = EngineStop()
    assert forked.apply(command) == original.apply(command)
    assert forked.advance_to(end_s) == original.advance_to(end_s)
