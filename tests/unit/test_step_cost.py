"""What makes a fast step cheaper (issue 18, part 5) without changing what it computes: the AB
node's root found from a hint (ALT-2, ALT-4: the same root as the walk over every breakpoint),
the bank solve started where the EMF moved the last root (PLT-4: Kirchhoff at the bank node to
the same tolerance, and a restored twin solving alike), and the guessed end of a smooth step
with the loop's rate measured apart (`twin/guess.py`)."""

import dataclasses

import pytest

from smartbms.core.signals import ALL_OPEN
from smartbms.plant.roots import falling_root
from smartbms.plant.system import SOLVE_TOLERANCE_A, OperatingPoint, SystemState
from smartbms.scenario import load_scenario
from smartbms.twin import guess
from smartbms.twin.build import build_system
from smartbms.twin.stepper import Slopes, StepStart
from tests.scenarios.helpers import EXAMPLES
from tests.unit.points import operating_point

# --- the AB node's root ---------------------------------------------------------------------------


def _walk(net: object, ends: list[float]) -> float:
    """The plain walk from below: the first segment where net goes from >= 0 to <= 0."""
    assert callable(net)
    v0, h0 = ends[0], net(ends[0])
    for v1 in ends[1:]:
        h1 = net(v1)
        if h0 >= 0.0 >= h1:
            return float(v0 if h0 == h1 else v0 + (v1 - v0) * h0 / (h0 - h1))
        v0, h0 = v1, h1
    return ends[-1]


NETS = {
    "crossing inside a segment": (lambda v: 13.9 - v, [0.0, 12.0, 13.0, 14.0, 15.0, 60.0]),
    "zero at a breakpoint": (lambda v: max(13.0 - v, 0.0) - max(v - 13.0, 0.0), [0.0, 13.0, 60.0]),
    "flat at zero over a segment": (
        lambda v: max(12.0 - v, 0.0) - max(v - 13.0, 0.0),
        [0.0, 12.0, 13.0, 60.0],
    ),
    "no root: above zero everywhere": (lambda v: 100.0 - v, [0.0, 13.0, 60.0]),
    "no root: below zero everywhere": (lambda v: -1.0 - v, [0.0, 13.0, 60.0]),
}


@pytest.mark.parametrize("name", NETS)
@pytest.mark.parametrize("hint", [None, -1, 0, 1, 2, 3, 4, 99])
def test_the_ab_roots_hint_never_changes_the_answer(name: str, hint: int | None) -> None:
    net, ends = NETS[name]
    hints = {} if hint is None else {True: hint}
    assert falling_root(net, ends, hints, True) == _walk(net, ends)  # exactly


def test_the_ab_root_is_looked_for_first_where_it_was() -> None:
    calls: list[float] = []

    def net(v: float) -> float:
        calls.append(v)
        return 13.9 - v

    ends = [0.0, 12.0, 13.0, 14.0, 15.0, 60.0]
    hints: dict[bool, int] = {}
    falling_root(net, ends, hints, False)
    assert hints == {False: 2}  # the segment (13, 14)
    calls.clear()
    assert falling_root(net, ends, hints, False) == pytest.approx(13.9)
    assert calls == [13.0, 14.0]  # two evaluations, not a walk from below


# --- the bank solve's start -----------------------------------------------------------------------


def test_the_bank_solve_holds_kirchhoff_after_the_emf_moved() -> None:
    """PLT-4: after a charge change the solve starts off the old root and still lands on it."""
    system = build_system(load_scenario(EXAMPLES / "manual-figure-1.toml"))
    first = system.solve(0.0, ALL_OPEN)
    for battery in system.batteries:
        for cell in battery.cells:
            cell.charge_ah += 0.5  # an EMF step, as a corrector pass makes
    moved = system.solve(0.0, ALL_OPEN)
    assert moved.bank_voltage_v > first.bank_voltage_v
    inflow_a = moved.ab_current_a + moved.system_plus_current_a - moved.bms_draw_a
    inflow_a += sum(
        a
        for a, device in zip(moved.device_currents_a, system.devices, strict=True)
        if device.connection.name == "BANK"
    )
    assert moved.bank_current_a == pytest.approx(inflow_a, abs=10 * SOLVE_TOLERANCE_A)


def test_a_restored_system_solves_alike() -> None:
    """The EMF the next solve starts from is part of the snapshot: a fork solves bit for bit."""
    system = build_system(load_scenario(EXAMPLES / "manual-figure-1.toml"))
    system.solve(0.0, ALL_OPEN)
    for battery in system.batteries:
        battery.cells[0].charge_ah += 0.2
    saved = system.snapshot()
    assert isinstance(saved, SystemState)
    assert saved.bank_guess_emf_v == saved.bank_guess_emf_v  # a number, not NaN
    fork = build_system(load_scenario(EXAMPLES / "manual-figure-1.toml"))
    fork.restore(saved)
    assert fork.solve(10.0, ALL_OPEN) == system.solve(10.0, ALL_OPEN)


# --- the guessed end ------------------------------------------------------------------------------


def _start(op: OperatingPoint, bank_slope: float = 1.0) -> StepStart:
    system = build_system(load_scenario(EXAMPLES / "manual-figure-1.toml"))
    state = system.snapshot()._replace(bank_guess_slope=bank_slope)
    capacities = tuple(b.capacity_ah for b in system.batteries)
    if system.starter is not None:
        capacities += (system.starter.capacity_ah,)
    return StepStart(state, 0.0, op, 1e9, None, (), 20.0, None, capacities)  # type: ignore[arg-type]


def test_the_guess_extends_the_last_steps_slopes() -> None:
    here = _start(operating_point(10.0, 4.0, starter_a=2.0))
    slopes = Slopes(30.0, (0.1, -0.2, 0.05))
    end = guess.predicted_end(here, 10.0, slopes, (0.001, 10.0, 1.0))
    assert end is not None
    assert end.battery_currents_a == pytest.approx((11.0, 2.0))
    assert end.starter_current_a == pytest.approx(2.5)
    assert end.bank_voltage_v == here.op.bank_voltage_v  # the rest as at the start


def test_no_guess_without_a_smooth_stretch_a_rate_or_a_steady_regime() -> None:
    here = _start(operating_point(10.0))
    slopes = Slopes(30.0, (0.1,))
    rate = (0.001, 10.0, 1.0)
    assert guess.predicted_end(here, 10.0, None, rate) is None  # after a kink
    assert guess.predicted_end(here, 10.0, slopes, None) is None  # nothing measured
    moved_slope = _start(operating_point(10.0), bank_slope=1.0 + 2 * guess.REGIME_CHANGE)
    assert guess.predicted_end(moved_slope, 10.0, slopes, rate) is None  # a charger took over


def test_no_guess_where_the_step_may_be_stiff() -> None:
    """The stiffness bound grows with the step beyond the one that measured it, never below."""
    here = _start(operating_point(10.0))
    slopes = Slopes(30.0, (0.1,))
    limit = guess.GUESS_MAX_STIFFNESS
    rate = (0.9 * limit / 10.0, 10.0, 1.0)  # z = 0.9 of the limit at 10 s
    assert guess.predicted_end(here, 10.0, slopes, rate) is not None
    assert guess.predicted_end(here, 5.0, slopes, rate) is not None
    assert guess.predicted_end(here, 12.0, slopes, rate) is None


def test_the_rate_is_measured_only_where_a_current_moved() -> None:
    z = -0.5
    start, euler = operating_point(10.0, 4.0), operating_point(10.0 * (1 + z), 4.0)
    corrected = operating_point(10.0 * (1 + z + z * z / 2), 4.0)
    stiffness, rate = guess.measured(start, euler, corrected, 20.0, 1.5)
    assert stiffness == pytest.approx(abs(z))
    assert rate == pytest.approx((abs(z) / 20.0, 20.0, 1.5))
    still = dataclasses.replace(start)
    assert guess.measured(start, still, still, 20.0, 1.5) == (0.0, None)
