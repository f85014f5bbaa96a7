"""The fast stepper stays calm (issue 12, part 3), and stays exact and reproducible doing so.

- A blinking pre-alarm costs O(1) per stretch: within 3x the steps of the continuous mode.
- A small event (a fridge on a big bank) keeps the step size; a jolt restarts it at 5 s.
- A latch that chatters (A -> B -> A -> B within 1 s) is a steady state, not re-located.
- Whatever the twin is driven with, the steps and events are the same; snapshots go on alike.
Accuracy against the 100 ms reference is in `test_equivalence.py` (the stress cases).
"""

import functools
import pickle

import pytest

from smartbms.core.events import Event
from smartbms.scenario import Scenario, load_scenario, parse_scenario
from smartbms.sim.runner import Simulation
from smartbms.twin import Twin
from tests.scenarios.helpers import HOUR_S, STRESS, until

INTERMITTENT = 'prealarm_mode = "intermittent"'


@functools.cache
def _stress(name: str, *, continuous: bool = False, end_h: float | None = None) -> Scenario:
    path = STRESS / f"{name}.toml"
    if continuous:
        text = path.read_text(encoding="utf-8")
        assert INTERMITTENT in text
        scenario = parse_scenario(
            text.replace(INTERMITTENT, 'prealarm_mode = "continuous"'), f"{name} (continuous)"
        )
    else:
        scenario = load_scenario(path)
    return scenario if end_h is None else until(scenario, end_h * HOUR_S)


def _steps(scenario: Scenario) -> int:
    return Simulation(scenario).run().steps


@pytest.mark.req("OUT-6")
@pytest.mark.parametrize("name", ["parked-buzzer-intermittent", "figure-1-extra-10w"])
def test_a_blinking_prealarm_costs_within_3x_of_a_steady_one(name: str) -> None:
    blinking = _steps(_stress(name))
    steady = _steps(_stress(name, continuous=True))
    assert blinking <= 3 * steady, (blinking, steady)


def test_the_blink_stretch_looks_at_both_levels() -> None:
    """Hours of blinking are a handful of steps, and the BMS still sees the disconnect."""
    scenario = _stress("parked-buzzer-intermittent", end_h=30.0)
    result = Simulation(scenario).run()
    kinds = [e.kind for e in result.events]
    assert "PreAlarmRaised" in kinds
    assert "LoadDisconnected" in kinds  # after ~26 h of blinking
    assert result.steps < 200


def test_a_small_command_keeps_the_step_size() -> None:
    """A 45 W fridge cycling on a 400 Ah bank: two steps per cycle, not a restart at 5 s each."""
    scenario = _stress("fridge-cycling", end_h=24.0)
    steps = _steps(scenario)
    cycles = 24 * 6
    assert steps <= 3 * cycles, steps


def test_a_chattering_latch_is_a_steady_state() -> None:
    """The inverter's low-battery latch on a loose connection: not bisected to 10 ms forever."""
    scenario = _stress("inverter-loose-connection", end_h=0.5)
    simulation = Simulation(scenario)
    result = simulation.run()
    located = simulation.twin._engine.located  # white box
    assert result.steps < 1000  # was ~100 per simulated second
    assert len(located) < 20  # three to recognise it, then no more
    for crossing in located:
        assert 0.0 < crossing.at_s - crossing.after_s <= 0.010 + 1e-9


# --- driven in pieces, forked: the same ------------------------------------------------------

CALM = [
    ("parked-buzzer-intermittent", 30.0),  # stretches across the blink
    ("inverter-loose-connection", 0.5),  # chatter
    ("fridge-cycling", 6.0),  # small commands
]


@functools.cache
def _uninterrupted(name: str, end_h: float) -> tuple[tuple[Event, ...], object]:
    twin = Twin.from_scenario(_stress(name, end_h=end_h))
    events = twin.advance_to(end_h * HOUR_S)
    return events, twin.state


@pytest.mark.parametrize(("name", "end_h"), CALM)
def test_driven_in_pieces_the_calm_stepper_takes_the_same_steps(name: str, end_h: float) -> None:
    events, state = _uninterrupted(name, end_h)
    end_s = end_h * HOUR_S
    twin = Twin.from_scenario(_stress(name, end_h=end_h))
    got: list[Event] = []
    targets = sorted({*(end_s * k / 37 for k in range(37)), *(e.t_s for e in events[::2])})
    for t in [*targets, end_s]:
        got += twin.advance_to(max(t, twin.now_s))
        assert twin.state.t_s == twin.now_s
    assert tuple(got) == events
    assert twin.state == state


@pytest.mark.parametrize(("name", "end_h"), CALM)
@pytest.mark.parametrize("fork", [0.31, 0.77])
def test_a_calm_snapshot_goes_on_with_identical_events(
    name: str, end_h: float, fork: float
) -> None:
    events, state = _uninterrupted(name, end_h)
    end_s = end_h * HOUR_S
    twin = Twin.from_scenario(_stress(name, end_h=end_h))
    before = twin.advance_to(fork * end_s)
    forked = Twin.restore(pickle.loads(pickle.dumps(twin.snapshot())))  # noqa: S301  # ours
    assert forked.state == twin.state
    after = forked.advance_to(end_s)
    assert before + after == events
    assert forked.state == state
