"""The LFP cell against public data, and the battery's current rating (issue 13).

Each test names its source; the numbers live in plant/params/lfp_cell.toml and batteries.toml
(docs/parameters.md lists them).
"""

import itertools

import pytest

from smartbms.core import constants as c
from smartbms.plant.battery import OVERLOAD_HOLD_S, BatteryOptions, LithiumBattery
from smartbms.plant.events import BatteryOverloaded
from smartbms.plant.params import battery_model, cell_model
from smartbms.scenario import parse_scenario
from smartbms.sim.runner import Simulation

B200 = "LFP-Smart 12.8/200"
B100 = "LFP-Smart 12.8/100"

LIBRESOLAR_OCV_V = {
    100: 3.392, 95: 3.314, 90: 3.309, 85: 3.308, 80: 3.304, 75: 3.296, 70: 3.283, 65: 3.275,
    60: 3.271, 55: 3.268, 50: 3.265, 45: 3.264, 40: 3.262, 35: 3.252, 30: 3.240, 25: 3.226,
    20: 3.213, 15: 3.190, 10: 3.177, 5: 3.132, 0: 2.833,
}  # fmt: skip
"""LibreSolar bms-firmware, app/src/bms_common.c, `ocv_lfp[]` (100, 95, ..., 0 %)."""

VICTRON_CAPACITY_AH = {
    "LFP-Smart 12.8/50": (50, 40, 25),
    "LFP-Smart 12.8/100": (100, 80, 50),
    "LFP-Smart 12.8/160": (160, 130, 80),
    "LFP-Smart 12.8/180": (180, 150, 90),
    "LFP-Smart 12.8/200": (200, 160, 100),
    "LFP-Smart 12.8/330": (330, 260, 160),
}
"""Victron Lithium Battery Smart manual, technical data: capacity at 25, 0 and -20 °C."""


def battery(model: str = B200, **options: object) -> LithiumBattery:
    return LithiumBattery(battery_model(model), BatteryOptions(**options))  # type: ignore[arg-type]


def overloaded_at(bat: LithiumBattery) -> float | None:
    """A call, so the type checker does not pin the value between steps."""
    return bat.overloaded_at_s


def terminal_v(bat: LithiumBattery, current_a: float) -> float:
    return bat.emf_v() + current_a * bat.resistance_ohm()


# --- the open-circuit curve ----------------------------------------------------------------------


@pytest.mark.req("PLT-1")
@pytest.mark.parametrize("soc_pct", range(10, 91, 5))
def test_ocv_follows_libresolar_within_20_mv_from_10_to_90_pct(soc_pct: int) -> None:
    cm = cell_model()
    mid_v = cm.ocv_v(float(soc_pct))
    reference_v = LIBRESOLAR_OCV_V[soc_pct]
    # the rest curve itself, and both hysteresis branches around it
    for branch in (-1.0, 0.0, 1.0):
        branch_v = mid_v + branch * cm.hysteresis_half_gap_v
        assert branch_v == pytest.approx(reference_v, abs=0.020)
    assert mid_v == pytest.approx(reference_v, abs=0.002)


@pytest.mark.req("PLT-1")
def test_a_rested_full_cell_sits_near_3v35_to_3v40() -> None:
    """Issue 13: rested full LFP near 3.35-3.40 V (LibreSolar: 3.392 V at 100 %)."""
    assert 3.35 <= cell_model().ocv_v(100.0) <= 3.40


@pytest.mark.req("PLT-1", "PLT-3")
def test_the_reserve_is_1_pct_at_2v8_and_three_quarters_at_2v6() -> None:
    """BMS manual §3.1: ~1 Ah per 100 Ah after a shutdown (2.8 V default); battery manual
    §7.3: about 1 % at 2.6 V. Checked by discharging slowly (0.01 C) to each cut-off."""
    for cutoff_v, low, high in ((2.8, 0.9, 1.15), (2.6, 0.65, 0.9)):
        bat = battery(soc_pct=3.0, cell_under_voltage_v=cutoff_v)
        t = 0.0
        while bat.allowed_to_discharge:
            bat.advance(-2.0, 30.0, 25.0, t + 30.0)
            t += 30.0
        assert low <= 100.0 * bat.charge_ah / bat.capacity_ah <= high, cutoff_v
        assert not bat.damaged


# --- charge side, relaxation, hysteresis ---------------------------------------------------------


def charge_to(bat: LithiumBattery, current_a: float, limit_v: float, *, hold_s: float) -> float:
    """Charge at `current_a` until the terminals reach `limit_v`, then hold it for `hold_s`."""
    t = 0.0
    while terminal_v(bat, current_a) < limit_v:
        bat.advance(current_a, 10.0, 25.0, t + 10.0)
        t += 10.0
    held = 0.0
    while held < hold_s:
        current = (limit_v - bat.emf_v()) / bat.resistance_ohm()
        bat.advance(current, 1.0, 25.0, t + 1.0)
        t += 1.0
        held += 1.0
    return t


@pytest.mark.req("PLT-1")
@pytest.mark.parametrize("hold_s", [0.0, 4 * 3600.0])
@pytest.mark.parametrize("charge_c", [0.2, 0.5])
def test_a_bank_charged_to_14v2_rests_at_13v3_to_13v6_within_an_hour(
    charge_c: float, hold_s: float
) -> None:
    """Issue 13: a full LFP bank at rest reads 13.3-13.6 V within the hour, not 14.2 V; also
    after hours of absorption at 14.2 V (Victron's recommended charge voltage)."""
    bat = battery(soc_pct=80.0)
    t = charge_to(bat, charge_c * bat.capacity_ah, 14.2, hold_s=hold_s)
    assert bat.soc_pct >= 99.5
    for _ in range(3600):
        bat.advance(0.0, 1.0, 25.0, t + 1.0)
        t += 1.0
    assert 13.3 <= bat.emf_v() <= 13.6
    assert bat.soc_pct == pytest.approx(100.0, abs=0.05)  # full, not over-full


@pytest.mark.req("PLT-1")
def test_absorption_at_14v2_tapers_to_a_small_tail_current() -> None:
    """A full battery held at the charge voltage takes about 1 % of C, not amperes for ever."""
    bat = battery(soc_pct=80.0)
    charge_to(bat, 40.0, 14.2, hold_s=2 * 3600.0)
    tail_a = (14.2 - bat.emf_v()) / bat.resistance_ohm()
    assert 0.0 < tail_a < 0.02 * bat.capacity_ah


@pytest.mark.req("PLT-1")
def test_hysteresis_charge_branch_above_discharge_branch_by_about_20_mv() -> None:
    """Dreyer et al. 2010: LFP's charge/discharge OCV gap is about 20 mV on the plateau."""
    charged, discharged = battery(soc_pct=45.0), battery(soc_pct=65.0)
    t = 0.0
    for _ in range(180):  # 10 % of capacity each way at 0.2 C, to 50 %
        charged.advance(40.0, 10.0, 25.0, t + 10.0)
        discharged.advance(-40.0, 10.0, 25.0, t + 10.0)
        t += 10.0
    for _ in range(3600):  # an hour at rest: the polarisation relaxes, the hysteresis stays
        charged.advance(0.0, 1.0, 25.0, t + 1.0)
        discharged.advance(0.0, 1.0, 25.0, t + 1.0)
        t += 1.0
    assert charged.soc_pct == pytest.approx(discharged.soc_pct, abs=0.01)
    gap_per_cell_v = (charged.emf_v() - discharged.emf_v()) / 4
    assert gap_per_cell_v == pytest.approx(0.020, abs=0.002)


def round_trip(model: str, charge_c: float, discharge_c: float) -> float:
    """Energy out / energy in at the terminals: 10 % -> 90 % -> (30 min rest) -> 10 %."""
    bat = battery(model, soc_pct=10.0)
    capacity_ah = bat.capacity_ah
    energy_in = energy_out = t = 0.0
    current = charge_c * capacity_ah
    while bat.soc_pct < 90.0:
        before = terminal_v(bat, current)
        bat.advance(current, 1.0, 25.0, t + 1.0)
        energy_in += current * 0.5 * (before + terminal_v(bat, current))
        t += 1.0
    for _ in range(1800):
        bat.advance(0.0, 1.0, 25.0, t + 1.0)
        t += 1.0
    current = -discharge_c * capacity_ah
    while bat.soc_pct > 10.0:
        before = terminal_v(bat, current)
        bat.advance(current, 1.0, 25.0, t + 1.0)
        energy_out -= current * 0.5 * (before + terminal_v(bat, current))
        t += 1.0
    return energy_out / energy_in


@pytest.mark.req("PLT-1")
@pytest.mark.parametrize("model", [B200, B100])
def test_round_trip_efficiency_is_near_victrons_92_pct(model: str) -> None:
    """Victron data sheet: round trip efficiency 92 %; at its recommended charge current
    (0.5 C) and its capacity's discharge condition (1 C)."""
    assert 0.90 <= round_trip(model, 0.5, 1.0) <= 0.94


# --- capacity vs temperature ---------------------------------------------------------------------


@pytest.mark.req("PLT-1")
@pytest.mark.parametrize("model", sorted(VICTRON_CAPACITY_AH))
def test_capacity_at_25_0_and_minus_20c_matches_the_data_sheet(model: str) -> None:
    cm = cell_model()
    at_25, at_0, at_minus_20 = VICTRON_CAPACITY_AH[model]
    capacity_ah = battery_model(model).capacity_ah
    assert capacity_ah == at_25
    assert capacity_ah * cm.capacity_fraction(25.0) == pytest.approx(at_25)
    assert capacity_ah * cm.capacity_fraction(0.0) == pytest.approx(at_0, rel=0.04)
    assert capacity_ah * cm.capacity_fraction(-20.0) == pytest.approx(at_minus_20, rel=0.04)


@pytest.mark.req("PLT-1")
def test_capacity_is_a_smooth_curve_between_the_points() -> None:
    """Issue 13: no straight line from 0 to 25 °C (which left only 96 % usable at 20 °C)."""
    cm = cell_model()
    assert cm.capacity_fraction(20.0) >= 0.98
    # -10 °C lies between the data sheet's 80 % at 0 °C and 50 % at -20 °C
    assert 0.60 <= cm.capacity_fraction(-10.0) <= 0.70
    assert cm.capacity_fraction(40.0) == 1.0
    fractions = [cm.capacity_fraction(t / 10.0) for t in range(-200, 451)]
    steps = [b - a for a, b in itertools.pairwise(fractions)]
    assert all(step >= 0.0 for step in steps)
    # smooth: neighbouring slopes differ little (no kink at 0 °C; it is held flat below
    # -20 °C, where discharge stops)
    assert max(abs(b - a) for a, b in itertools.pairwise(steps)) < 2e-4


def test_the_capacity_curve_s_slope_is_its_derivative() -> None:
    """What times a warming cell's knots (issue 12): the slope of the usable fraction."""
    curve = cell_model().capacity_fraction
    for t in (-15.0, -5.0, 0.0, 10.0, 20.0, 24.0):
        numeric = (curve(t + 1e-4) - curve(t - 1e-4)) / 2e-4
        assert curve.slope_per_c(t) == pytest.approx(numeric, rel=1e-5)
    assert curve.slope_per_c(25.0) == curve.slope_per_c(40.0) == 0.0  # full from 25 °C
    assert curve.slope_per_c(-20.0) == curve.slope_per_c(-30.0) == 0.0  # held below -20 °C


# --- current rating (issue 13 part 5) ------------------------------------------------------------


@pytest.mark.req("PLT-1")
def test_overloaded_after_10_s_above_the_maximum_continuous_current_and_not_before() -> None:
    """Victron data sheet: 100 Ah battery, maximum continuous discharge current 200 A."""
    bat = battery(B100, soc_pct=90.0)
    assert battery_model(B100).max_discharge_a == 200.0
    t = 0.0
    for _ in range(95):  # 9.5 s at 280 A
        bat.advance(-280.0, 0.1, 25.0, t + 0.1)
        t += 0.1
    assert overloaded_at(bat) is None
    assert bat.overload_within(0.0, t) is None
    for _ in range(10):
        bat.advance(-280.0, 0.1, 25.0, t + 0.1)
        t += 0.1
    assert overloaded_at(bat) == pytest.approx(0.1 + OVERLOAD_HOLD_S)
    found = bat.overload_within(t - 1.0, t)
    assert found is not None
    at_s, current_a, rating_a, duration_s = found
    assert (current_a, rating_a, duration_s) == (-280.0, 200.0, OVERLOAD_HOLD_S)
    assert at_s == overloaded_at(bat)
    # once a stretch: later steps of the same stretch report nothing new
    bat.advance(-280.0, 60.0, 25.0, t + 60.0)
    assert bat.overload_within(t, t + 60.0) is None


@pytest.mark.req("PLT-1")
def test_at_the_rating_or_in_short_bursts_is_no_overload() -> None:
    bat = battery(B100, soc_pct=90.0)
    t = 0.0
    for _ in range(60):  # at the rating for a minute
        bat.advance(-200.0, 1.0, 25.0, t + 1.0)
        t += 1.0
    for _ in range(5):  # 9 s above it, 1 s below, five times
        for current in [-300.0] * 9 + [-100.0]:
            bat.advance(current, 1.0, 25.0, t + 1.0)
            t += 1.0
    assert overloaded_at(bat) is None
    assert min(bat.cell_voltages_v(0.0)) > c.CELL_UV_DEFAULT_V


OVERLOAD_SCENARIO = """
[scenario]
name = "inverter on one battery"
duration_h = 0.5

[bms]
installed_fuse = "125A"

[[battery]]
model = "LFP-Smart 12.8/100"
soc_pct = 95

[[device]]
name = "3 kW inverter's draw"
type = "dc-load"
current_a = 280
"""


@pytest.mark.req("PLT-1")
def test_the_twin_reports_the_overload_once_and_the_summary_follows_it() -> None:
    """Issue 13: 280 A from a 100 Ah battery rated 200 A, for as long as the battery lasts."""
    result = Simulation(parse_scenario(OVERLOAD_SCENARIO, "overload")).run()
    overloads = [e for e in result.events if isinstance(e, BatteryOverloaded)]
    assert len(overloads) == 1
    (event,) = overloads
    assert event.t_s == pytest.approx(OVERLOAD_HOLD_S, abs=0.5)
    assert (event.battery, event.rating_a) == (1, 200.0)
    assert event.current_a == pytest.approx(-280.0, rel=0.01)
    (summed,) = result.summary.battery_overloads
    assert summed.highest_current_a == pytest.approx(280.0, rel=0.01)
    # on the bank directly, nothing cuts it: above the rating to the end of the run
    assert summed.duration_s == pytest.approx(result.summary.duration_s, abs=1.0)
