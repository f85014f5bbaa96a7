"""The fast stepper against the fixed 100 ms reference, example by example (issue 4).

Each case runs an example (or, where the reference would take over a minute, a window of at
least 6 simulated hours that holds the example's key events) twice: with the default fast stepper
and with `FixedStep(0.1)`. Before a window the reference is brought there by the fast stepper, so
both start the window from the same state. Within the window they must show the same events in
the same order, each within 0.2 s; every battery's final state of charge within 0.1 % (absolute);
and the same verdicts in the summary.
"""

import dataclasses

import pytest

from smartbms.core.events import Event
from smartbms.scenario import load_scenario
from smartbms.sim.runner import AdaptiveStep, FixedStep, Simulation
from tests.scenarios.helpers import EXAMPLES, HOUR_S, STRESS, identity, until

EVENT_TIME_TOLERANCE_S = 0.2
SOC_TOLERANCE_PCT = 0.1

# (example, window start h, window end h): the whole example where the reference takes under a
# minute, else 6 h around what the example is about.
CASES: list[tuple[str, float, float]] = [
    ("bms-cable-unplugged", 0.0, 1.0),
    # warm-up, ATC back, charge limit reached, released and reached again four times before the
    # engine stops (5.0 h); the release after it (5.008 h, the bank relaxing at ~0.1 mV/s) is
    # left to test_fast_accuracy: the 100 ms reference sees it 0.43 s late (the fast stepper is
    # within 1 ms of the converged run there)
    ("cold-morning", 0.0, 5.0),
    ("fuse-mismatch", 0.0, 1.5),
    # drive out, charge limit, release under the evening loads
    ("manual-figure-1", 0.0, 6.0),
    ("manual-figure-2", 0.4, 6.4),  # pre-alarm, load disconnect 30 s later, recovery on shore
    ("residual-drain-200ah", 0.0, 6.0),  # pre-alarm, load disconnect, switched off
    ("residual-drain-200ah", 181.0, 187.0),  # the deep-discharge damage
    ("residual-drain-200ah-alternator-only", 0.0, 6.0),
    ("residual-drain-200ah-remote-on", 0.0, 6.0),
    ("smart-alternator", 0.0, 2.0),
    ("system-plus-short", 0.0, 10.0 / 60.0),
    ("weak-cell", 1.5, 7.5),  # the weak cell trips the bank, recharge, over-voltage
]
VERDICTS = (
    "battery_damaged",
    "alternator_overheating_risk",
    "codes_seen",
    "event_counts",
)


@dataclasses.dataclass(frozen=True, slots=True)
class Outcome:
    """What one run showed inside the window."""

    events: list[Event]
    socs_pct: list[float]
    summary: dict[str, object]


def _outcome(name: str, start_h: float, end_h: float, reference: bool) -> Outcome:
    folder = EXAMPLES if (EXAMPLES / f"{name}.toml").exists() else STRESS
    scenario = until(load_scenario(folder / f"{name}.toml"), end_h * HOUR_S)
    stepper = FixedStep(0.1, from_s=start_h * HOUR_S) if reference else AdaptiveStep()
    simulation = Simulation(scenario, stepper=stepper)
    result = simulation.run()
    inside = [e for e in result.events if e.t_s >= start_h * HOUR_S - 1e-9]
    socs = [battery.soc_pct for battery in simulation.twin.state.batteries]
    return Outcome(inside, socs, result.summary.to_dict())


STRESS_CASES: list[tuple[str, float, float, str | None]] = [
    ("flat-bank-small-alternator", 0.0, 6.0, None),  # the AB gate at its 1 s deadline, 4 h
    ("fridge-cycling", 0.0, 6.0, None),  # small commands: the step keeps its size across them
    # one charge-limit cycle and a half: the reference gains ~0.25 s per cycle on the converged
    # answer (its held currents). 0.14 h (was 0.3 h) since the new LFP cell (issue 13): its
    # over-full charge relaxes with 900 s, so the limit now cycles every 145 s (0.3 h held five
    # cycles); the fast stepper's own drift is test_fast_accuracy's (~50 ms a cycle, open)
    ("full-bank-big-alternator", 0.0, 0.14, None),
    ("figure-1-extra-10w", 40.0, 46.0, None),  # pre-alarm, 3 h of blinking, the drive home
    # the inverter's own monitor: 9.3 V shutdown, 30 s restarts, gives up after three
    ("inverter-loose-connection", 0.0, 2.0, None),
    ("multiplus-system-plus-cable", 0.0, 2.0, None),
    # the inverter and the cold cells' under-voltage, one cycle: each reconnect pulls a cell
    # under 2.8 V at once, which the reference sees one 100 ms step late (the fast stepper
    # within 10 ms), so the reference falls ~0.09 s further behind with every cycle
    ("cold-small-bank-inverter", 0.0, 0.19, None),
    ("parked-buzzer-intermittent", 0.0, 6.0, None),  # the pre-alarm rises and blinks
    ("parked-buzzer-intermittent", 24.0, 30.0, None),  # blinking up to the load disconnect
    ("smart-alternator-low-bank", 0.0, 4.0, None),  # the AB gate against the sag, 3.5 h
]
"""The stress set (benchmarks/stress, issue 12): windows of at most 6 h where it is hardest."""


SLOW_RECONNECT = (
    "issue 13's LFP cell: the weak cell's over-voltage reconnect is a crossing at microvolts a "
    "second (the full cell relaxing over 900 s), where 0.02 As moves it 0.25 s. The runs now show "
    "the same events, but the second reconnect (7.5 h) is 1.9 s after the converged run (the "
    "100 ms reference: 0.9 s): the 5 s step that restarts after the trip crosses a current "
    "decaying with ~6 s (restart_dt_s=1 s brings it within 50 ms, at more steps). Known: the "
    "stepper's 5 s restart floor, open with issue 12's step counts."
)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("name", "start_h", "end_h"),
    [
        *(
            pytest.param(
                name,
                a,
                b,
                marks=pytest.mark.xfail(strict=True, reason=SLOW_RECONNECT)
                if (name, a, b) == ("weak-cell", 1.5, 7.5)
                else (),
            )
            for name, a, b in CASES
        ),
        *(
            pytest.param(
                name, a, b, marks=() if why is None else pytest.mark.xfail(strict=True, reason=why)
            )
            for name, a, b, why in STRESS_CASES
        ),
    ],
)
def test_fast_stepper_matches_the_fixed_100_ms_reference(
    name: str, start_h: float, end_h: float
) -> None:
    fast = _outcome(name, start_h, end_h, reference=False)
    reference = _outcome(name, start_h, end_h, reference=True)
    # the same events in the same order
    assert [identity(e) for e in fast.events] == [identity(e) for e in reference.events]
    # each within 0.2 s
    late = [
        (e.kind, e.t_s, r.t_s)
        for e, r in zip(fast.events, reference.events, strict=True)
        if abs(e.t_s - r.t_s) > EVENT_TIME_TOLERANCE_S
    ]
    assert not late, f"{name}: events more than 0.2 s apart (kind, fast, reference): {late}"
    # every battery's final state of charge within 0.1 % (absolute)
    for index, (soc, soc_ref) in enumerate(zip(fast.socs_pct, reference.socs_pct, strict=True)):
        assert soc == pytest.approx(soc_ref, abs=SOC_TOLERANCE_PCT), f"battery {index + 1}"
    # the same verdicts
    for key in VERDICTS:
        assert fast.summary[key] == reference.summary[key], key
    fast_batteries = fast.summary["batteries"]
    reference_batteries = reference.summary["batteries"]
    assert isinstance(fast_batteries, list)
    assert isinstance(reference_batteries, list)
    for ours, theirs in zip(fast_batteries, reference_batteries, strict=True):
        assert ours["damaged"] == theirs["damaged"]
        assert ours["balancer"] == theirs["balancer"]


def test_the_stress_cases_cover_the_stress_set_in_windows_of_at_most_6_h() -> None:
    assert {c[0] for c in STRESS_CASES} == {p.stem for p in STRESS.glob("*.toml")}
    for name, start_h, end_h, _ in STRESS_CASES:
        assert 0.0 < end_h - start_h <= 6.0, name
        assert end_h * HOUR_S <= load_scenario(STRESS / f"{name}.toml").duration_s


SHORTER_WINDOWS = {
    "cold-morning": (
        5.0,
        (
            "at 5.0 h the engine stops and the bank relaxes towards the charge limit's 0.5 V "
            "release at ~0.1 mV/s, so a 100 ms reference step crosses it 0.43 s late (issue 13's "
            "cell); the converged-accuracy test (test_fast_accuracy) covers that release to 5.7 h"
        ),
    ),
}
"""Examples compared over less than 6 h, with the window they get and why."""


def test_the_cases_cover_every_example_and_windows_are_long_enough() -> None:
    names = {p.stem for p in EXAMPLES.glob("*.toml")}
    assert {name for name, _, _ in CASES} == names
    for name, start_h, end_h in CASES:
        duration_h = load_scenario(EXAMPLES / f"{name}.toml").duration_s / HOUR_S
        assert end_h <= duration_h
        shortest_h = SHORTER_WINDOWS[name][0] if name in SHORTER_WINDOWS else 6.0
        assert end_h - start_h >= min(shortest_h, duration_h), name
