"""The vehicle side of the plant: the alternator (PLT-5), the lead-acid starter battery (PLT-6)
and the BMS's own temperature (PLT-11)."""

import math

import pytest

from smartbms.core import constants as c
from smartbms.plant.vehicle import (
    ALTERNATOR_AT_MAX_FRACTION,
    BMS_HEAT_CAPACITY_J_PER_K,
    BMS_THERMAL_RESISTANCE_K_PER_W,
    LEAD_ACID_CHARGE_EFFICIENCY,
    LEAD_ACID_EMPTY_V,
    LEAD_ACID_FULL_V,
    Alternator,
    BmsThermal,
    StarterBattery,
)

# --- PLT-5: alternator -------------------------------------------------------------------------


def alternator(**kwargs: float | bool | None) -> Alternator:
    params: dict[str, float | bool | None] = {
        "rated_current_a": 120.0,
        "regulated_voltage_v": 14.4,
        "internal_resistance_ohm": 0.005,
        "running": True,
    }
    params.update(kwargs)
    return Alternator(**params)  # type: ignore[arg-type]


@pytest.mark.req("PLT-5")
@pytest.mark.parametrize(
    ("terminal_v", "expected_a"),
    [
        (14.4, 0.0),
        (14.5, 0.0),
        (16.0, 0.0),
        (14.3, 20.0),
        (14.0, 80.0),
        (13.8, 120.0),
        (12.0, 120.0),
    ],
)
def test_plt5_alternator_regulated_current_law_and_rating_clamp(
    terminal_v: float, expected_a: float
) -> None:
    """(set point - V) / R, never negative (a diode bridge), never above the rating."""
    alt = alternator()
    assert alt.set_point_v == 14.4
    assert alt.current_a(terminal_v) == pytest.approx(expected_a, abs=1e-9)


@pytest.mark.req("PLT-5")
def test_plt5_a_stopped_alternator_gives_nothing() -> None:
    alt = alternator(running=False)
    assert alt.current_a(10.0) == 0.0
    assert alt.current_a(14.0) == 0.0


@pytest.mark.req("PLT-5", "ALT-1")
def test_plt5_smart_alternator_drops_its_set_point() -> None:
    alt = alternator(smart_voltage_v=12.5, smart_mode=True)
    assert alt.set_point_v == 12.5
    assert alt.current_a(12.4) == pytest.approx(20.0)
    assert alt.current_a(13.0) == 0.0  # below the BMS's 13.0 V gate it cannot push the bank
    alt.smart_mode = False
    assert alt.set_point_v == 14.4
    assert alt.current_a(14.3) == pytest.approx(20.0)
    # smart mode without a smart voltage keeps the regulated one
    assert alternator(smart_mode=True).set_point_v == 14.4


def run_at(
    alt: Alternator, current_a: float, start_s: float, end_s: float, dt_s: float
) -> list[bool]:
    count = round((end_s - start_s) / dt_s)
    return [alt.advance(current_a, dt_s, start_s + k * dt_s) for k in range(count)]


@pytest.mark.req("PLT-5")
def test_plt5_overheat_risk_after_more_than_300s_at_max_not_at_299s() -> None:
    alt = alternator()
    rated = alt.rated_current_a
    assert c.ALTERNATOR_OVERHEAT_S == 300.0
    assert not any(run_at(alt, rated, 0.0, 299.0, 1.0))
    assert alt.overheat_risk_at_s is None
    assert not alt.advance(rated, 1.0, 299.0)  # exactly 300 s: not yet "more than"
    assert alt.overheat_risk_at_s is None
    assert alt.advance(rated, 1.0, 300.0)  # now 301 s
    assert alt.overheat_risk_at_s == pytest.approx(300.0)
    assert alt.at_max_total_s == pytest.approx(301.0)
    # reported once
    assert not any(run_at(alt, rated, 301.0, 400.0, 1.0))
    assert alt.overheat_risk_at_s == pytest.approx(300.0)


@pytest.mark.req("PLT-5")
def test_plt5_overheat_timer_resets_when_output_drops() -> None:
    alt = alternator()
    rated = alt.rated_current_a
    assert not any(run_at(alt, rated, 0.0, 200.0, 1.0))
    since_s = alt.at_max_since_s
    assert since_s == 0.0
    assert not alt.advance(0.9 * rated, 1.0, 200.0)  # below 98 %: not at max
    assert alt.at_max_since_s is None
    assert not any(run_at(alt, rated, 201.0, 501.0, 1.0))  # another 300 s, not more
    assert alt.overheat_risk_at_s is None
    assert alt.advance(rated, 1.0, 501.0)
    assert alt.overheat_risk_at_s == pytest.approx(201.0 + 300.0)


@pytest.mark.req("PLT-5")
def test_plt5_at_max_means_at_least_98_pct_of_the_rating() -> None:
    alt = alternator()
    just_below = (ALTERNATOR_AT_MAX_FRACTION - 0.001) * alt.rated_current_a
    assert not any(run_at(alt, just_below, 0.0, 600.0, 10.0))
    assert alt.at_max_total_s == 0.0
    at_max = ALTERNATOR_AT_MAX_FRACTION * alt.rated_current_a
    assert any(run_at(alt, at_max, 600.0, 1000.0, 10.0))


@pytest.mark.req("PLT-5")
def test_plt5_one_long_step_past_300s_flags_with_the_exact_time() -> None:
    alt = alternator()
    assert alt.advance(alt.rated_current_a, 301.0, 50.0)
    assert alt.overheat_risk_at_s == pytest.approx(350.0)


@pytest.mark.req("PLT-5")
def test_plt5_a_stopped_alternator_never_overheats() -> None:
    alt = alternator(running=False)
    assert not any(run_at(alt, alt.rated_current_a, 0.0, 1000.0, 10.0))
    assert alt.at_max_total_s == 0.0


# --- PLT-6: starter battery --------------------------------------------------------------------


@pytest.mark.req("PLT-6")
@pytest.mark.parametrize(
    ("soc_pct", "expected_v"),
    [
        (0.0, LEAD_ACID_EMPTY_V),
        (50.0, (LEAD_ACID_EMPTY_V + LEAD_ACID_FULL_V) / 2),
        (100.0, LEAD_ACID_FULL_V),
        (-5.0, LEAD_ACID_EMPTY_V),
        (105.0, LEAD_ACID_FULL_V),
    ],
)
def test_plt6_starter_ocv_by_soc(soc_pct: float, expected_v: float) -> None:
    assert StarterBattery(soc_pct=soc_pct).ocv_v == pytest.approx(expected_v)


@pytest.mark.req("PLT-6")
def test_plt6_starter_ocv_is_a_lead_acid_range() -> None:
    assert 11.5 <= LEAD_ACID_EMPTY_V < LEAD_ACID_FULL_V <= 12.9
    socs = range(0, 101, 5)
    volts = [StarterBattery(soc_pct=s).ocv_v for s in socs]
    assert volts == sorted(volts)


@pytest.mark.req("PLT-6")
def test_plt6_charge_acceptance_falls_as_it_fills() -> None:
    currents = [StarterBattery(soc_pct=s).current_a(14.2) for s in (20.0, 50.0, 80.0, 95.0, 100.0)]
    assert all(i > 0.0 for i in currents)
    assert currents == sorted(currents, reverse=True)
    assert currents[0] > 5 * currents[-1]
    full = StarterBattery(soc_pct=100.0)
    assert full.resistance_ohm(True) > 10 * full.resistance_ohm(False)
    # discharge resistance does not depend on the charge
    assert StarterBattery(soc_pct=10.0).resistance_ohm(False) == full.resistance_ohm(False)


@pytest.mark.req("PLT-6")
def test_plt6_starter_thevenin_current() -> None:
    st = StarterBattery(soc_pct=50.0, internal_resistance_ohm=0.006)
    assert st.current_a(st.ocv_v) == pytest.approx(0.0)
    assert st.current_a(st.ocv_v - 0.6) == pytest.approx(-100.0)
    assert st.current_a(st.ocv_v + 0.6) == pytest.approx(0.6 / st.resistance_ohm(True))


@pytest.mark.req("PLT-6")
def test_plt6_cranking_draw_only_during_the_crank_window() -> None:
    st = StarterBattery(crank_current_a=250.0, standby_current_a=0.02, crank_duration_s=2.0)
    assert st.load_a(0.0) == pytest.approx(0.02)  # never cranked
    st.crank_until_s = 10.0 + st.crank_duration_s
    assert st.load_a(9.0) == pytest.approx(250.02)  # the window is set from the start
    assert st.load_a(10.0) == pytest.approx(250.02)
    assert st.load_a(11.999) == pytest.approx(250.02)
    assert st.load_a(12.0) == pytest.approx(0.02)
    assert st.load_a(100.0) == pytest.approx(0.02)


@pytest.mark.req("PLT-6")
def test_plt6_starter_coulomb_counting_with_charge_efficiency() -> None:
    st = StarterBattery(capacity_ah=70.0, soc_pct=50.0)
    st.advance(10.0, 13.8, 3600.0)
    assert st.soc_pct == pytest.approx(50.0 + 100.0 * 10.0 * LEAD_ACID_CHARGE_EFFICIENCY / 70.0)
    before = st.soc_pct
    st.advance(-7.0, 12.1, 3600.0)
    assert st.soc_pct == pytest.approx(before - 10.0)
    assert st.lowest_voltage_v == pytest.approx(12.1)
    st.advance(-250.0, 9.5, 2.0)
    assert st.lowest_voltage_v == pytest.approx(9.5)
    st.advance(-1000.0, 12.0, 3600.0)
    assert st.soc_pct == 0.0  # clamped
    st.advance(1000.0, 14.0, 3600.0)
    assert st.soc_pct == 100.0


# --- PLT-11: the BMS's temperature -------------------------------------------------------------


@pytest.mark.req("PLT-11")
@pytest.mark.parametrize(
    ("start_c", "heat_w", "surroundings_c", "dt_s"),
    [(20.0, 10.0, 30.0, 600.0), (60.0, 0.0, -10.0, 100.0), (25.0, 40.0, 25.0, 5000.0)],
)
def test_plt11_bms_first_order_approach_to_ambient_plus_heat(
    start_c: float, heat_w: float, surroundings_c: float, dt_s: float
) -> None:
    thermal = BmsThermal(start_c)
    thermal.advance(heat_w, surroundings_c, dt_s)
    tau = BMS_HEAT_CAPACITY_J_PER_K * BMS_THERMAL_RESISTANCE_K_PER_W
    target = surroundings_c + heat_w * BMS_THERMAL_RESISTANCE_K_PER_W
    expected = target + (start_c - target) * math.exp(-dt_s / tau)
    assert thermal.temperature_c == pytest.approx(expected, abs=1e-9)


@pytest.mark.req("PLT-11")
def test_plt11_bms_thermal_step_is_exact_whatever_the_step_size() -> None:
    one = BmsThermal(20.0)
    one.advance(30.0, 35.0, 3600.0)
    many = BmsThermal(20.0)
    for _ in range(3600):
        many.advance(30.0, 35.0, 1.0)
    assert many.temperature_c == pytest.approx(one.temperature_c, abs=1e-9)


@pytest.mark.req("PLT-11", "ALT-8")
def test_plt11_bms_settles_at_ambient_plus_p_times_rth() -> None:
    thermal = BmsThermal(20.0)
    thermal.advance(40.0, 45.0, 100 * BMS_HEAT_CAPACITY_J_PER_K * BMS_THERMAL_RESISTANCE_K_PER_W)
    assert thermal.temperature_c == pytest.approx(45.0 + 40.0 * BMS_THERMAL_RESISTANCE_K_PER_W)
    assert thermal.temperature_c > c.BMS_DERATE_START_C - 20.0  # a hot bay brings it near derating
    thermal.advance(0.0, 20.0, 1e9)
    assert thermal.temperature_c == pytest.approx(20.0)
    still = BmsThermal(33.0)
    still.advance(0.0, 33.0, 1234.0)
    assert still.temperature_c == 33.0
