"""The fast stepper stays calm (issue 12, part 3), and stays exact and reproducible doing so.

- A blinking pre-alarm costs O(1) per stretch: within 3x the steps of the continuous mode.
- A small event (a fridge on a big bank) keeps the step size; a jolt restarts it at 5 s.
- A latch that chatters (A -> B -> A -> B within 1 s) is a steady state, not re-located.
- A cold inverter's cycles waste no step: a knot is met in one step, latches that settle at
  once after a load disconnect take no 1 ms step of their own.
- A charge-limit cycle (a big alternator on a full bank) takes a handful of steps.
- Whatever the twin is driven with, the steps and events are the same; snapshots go on alike.
Accuracy against the 100 ms reference is in `test_equivalence.py` (the stress cases).
"""

import collections
import functools
import itertools
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


# --- the cold inverter (issue 12): 1,500 W from a 50 Ah battery at -5 °C ---------------------

Steps = tuple[tuple[float, float], ...]


@functools.cache
def _stepped(name: str) -> tuple[Scenario, int, tuple[Event, ...], Steps]:
    scenario = _stress(name)
    steps: list[tuple[float, float]] = []
    result = Simulation(scenario).run(on_step=lambda t, dt, _state: steps.append((t, dt)))
    return scenario, result.steps, tuple(result.events), tuple(steps)


def _wasted(name: str) -> list[tuple[float, float]]:
    """Steps under 1 % of the one before them (or under 10 ms) that start at no event."""
    scenario, _, events, steps = _stepped(name)
    at_events = {round(e.t_s, 6) for e in events}
    return [
        (t, dt)
        for (_, before), (t, dt) in itertools.pairwise(steps)
        if 0.0 < dt < max(0.01 * before, 0.01)
        and round(t, 6) not in at_events
        and t + dt < scenario.duration_s
    ]


def test_the_cold_inverter_cycles_without_wasted_steps() -> None:
    """Issue 12: the cold battery warms under 130-160 A, and its usable capacity with it, so
    its SoC falls only 2/3 as fast as the current says: each knot took seven ever shorter
    steps (2.2 s, 0.7 s, ... 3 ms). After each load disconnect the battery's overload watch
    and the inverter's supply latches settled 1 ms in, a step of its own. Neither is left, in
    15 cycles; the steps per simulated hour fell from 149 to 132 (105.5 since a plain bend is
    judged on a third slope, 96.5 since the probe after a jolt goes on), each event kind stays
    at most 30 per hour."""
    scenario, steps, events, _ = _stepped("cold-small-bank-inverter")
    assert _wasted("cold-small-bank-inverter") == []
    hours = scenario.duration_s / HOUR_S
    assert steps / hours <= 100.0, steps
    kinds = collections.Counter(e.kind for e in events)
    assert kinds["LoadDisconnected"] >= 15  # it does cycle
    assert max(kinds.values()) / hours <= 30.0, kinds.most_common(3)


def test_the_cold_inverter_runs_at_most_100_steps_per_simulated_hour() -> None:
    """Issue 12's goal for every stress case: at most 100 steps per simulated hour (96.5 since
    the step after each load disconnect's probe goes on as far as its estimates allow: the
    release crossing ~55 s later ends it, where the probe and a step to it were two)."""
    scenario, steps, _, _ = _stepped("cold-small-bank-inverter")
    assert steps / (scenario.duration_s / HOUR_S) <= 100.0, steps


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("cold-small-bank-inverter", "LoadDisconnected"),
        ("full-bank-big-alternator", "ChargeLimitReached"),
    ],
)
def test_a_jolt_that_starts_no_transient_is_not_stepped_at_the_probe(name: str, kind: str) -> None:
    """Issue 12: after a disconnect the battery carries a constant load (or none), and nothing
    decays in its current. The 5 s probe after that jolt measured as much; the step now goes on
    as far as the probe's estimates allow, here to the located release (the cold battery's
    release level ~55 s later, the full bank's 13.7 V ~110 s later): one step, not three."""
    _, _, events, steps = _stepped(name)
    starts = dict(steps)
    after = [round(e.t_s, 6) for e in events if e.kind == kind]
    assert len(after) >= 15
    lengths = [dt for t, dt in starts.items() if round(t, 6) in after]
    assert len(lengths) == len(after)
    assert min(lengths) > 30.0, sorted(lengths)[:3]


def test_a_step_aimed_at_a_knot_lands_on_it() -> None:
    """A flat bank on an alternator: the knots are timed with the warming of the charge too,
    and a long step that ends a hair short (43 ms after 82 s) goes on to the knot instead of
    leaving a step of its own (16 such steps in 6 h before)."""
    assert _wasted("flat-bank-small-alternator") == []


def test_a_charge_limit_cycle_takes_a_handful_of_steps() -> None:
    """Issue 12: a nearly full 100 Ah bank on a 180 A alternator reaches the charge limit
    every ~145 s (18 cycles per hour while the engine runs). Each cycle was 11-12 steps, 222.5
    per simulated hour: the charging steps held at the 5 s floor by what two corrector passes
    leave (Aitken's extrapolation had taken it away) and by the trapezoid's own error on the
    alternator's decaying current (now bent onto the loop's exponential), the rest after the
    disconnect growth-limited from its 5 s probe. Now 7 a cycle (148.5 per hour): 5 of
    charging, 1 of rest (the probe after the disconnect goes on as far as its estimates allow,
    to the located release), the 10 s hold. The issue's goal of 100 per hour is not reached
    (4-5 charging steps are what the tolerances hold there); no BMS event kind more than 30
    times an hour."""
    scenario = _stress("full-bank-big-alternator")
    result = Simulation(scenario).run()
    hours = scenario.duration_s / HOUR_S
    assert result.steps / hours <= 150, result.steps
    kinds = collections.Counter(e.kind for e in result.events)
    assert max(kinds.values()) / hours <= 30, kinds.most_common(3)
    assert kinds["ChargeLimitReached"] >= 30  # the cycles are still there: ~18 an hour


# --- driven in pieces, forked: the same ------------------------------------------------------

CALM = [
    ("parked-buzzer-intermittent", 30.0),  # stretches across the blink
    ("inverter-loose-connection", 0.5),  # chatter
    ("fridge-cycling", 6.0),  # small commands
    ("cold-small-bank-inverter", 1.0),  # knots met, latches that settle at once
    ("full-bank-big-alternator", 0.3),  # bent onto the transient: three steps' slopes kept
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
