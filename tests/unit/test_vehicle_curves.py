"""The vehicle side against its sources (issue 13 parts 2 and 4): the starter battery's charge
acceptance (Copetti's lead-acid model) and the alternator's output by speed and heat (Bosch's
characteristic curve, hot derating); sources in plant/params/lead_acid.toml."""

import itertools

import pytest

from smartbms.plant.vehicle import (
    ALTERNATOR_PULLEY_RATIO,
    ALTERNATOR_SPEED_CURVE,
    CRUISING_ENGINE_RPM,
    IDLE_ENGINE_RPM,
    LEAD_ACID_FULL_V,
    Alternator,
    StarterBattery,
)
from smartbms.scenario.installation import AlternatorConfig

# --- PLT-6: charge acceptance ------------------------------------------------------------------


@pytest.mark.req("PLT-6")
@pytest.mark.parametrize("capacity_ah", [45.0, 70.0, 100.0])
def test_plt6_a_full_starter_battery_takes_under_1a_at_14v3(capacity_ah: float) -> None:
    """Issue 13: a full lead-acid battery takes well under 1 A (it took ~13 A)."""
    full = StarterBattery(capacity_ah=capacity_ah, soc_pct=100.0)
    assert full.ocv_v == pytest.approx(LEAD_ACID_FULL_V)
    assert 0.0 < full.current_a(14.3) < 1.0
    assert full.current_a(14.3) < 0.2  # a float current, about 1 mA per Ah


@pytest.mark.req("PLT-6")
def test_plt6_acceptance_falls_steeply_near_full_and_is_amps_when_half_empty() -> None:
    """Copetti's (1 - SoC)^-1.2 term: ~11 A at 50 %, a few A at 90 %, ~1 A at 95 % (70 Ah)."""
    at = {soc: StarterBattery(soc_pct=soc).current_a(14.3) for soc in (30, 50, 80, 90, 95, 99)}
    socs = sorted(at)
    assert all(at[a] > at[b] for a, b in itertools.pairwise(socs))
    assert 8.0 < at[50] < 15.0
    assert 1.5 < at[90] < 4.0
    assert at[99] < 0.5


@pytest.mark.req("PLT-6")
def test_plt6_discharge_keeps_the_internal_resistance() -> None:
    st = StarterBattery(soc_pct=100.0)
    assert st.current_a(st.ocv_v - 0.6) == pytest.approx(-0.6 / st.internal_resistance_ohm)


# --- PLT-5: output by speed and heat --------------------------------------------------------------


def alternator(**kwargs: float) -> Alternator:
    return Alternator(rated_current_a=100.0, running=True, **kwargs)  # type: ignore[arg-type]


@pytest.mark.req("PLT-5")
def test_plt5_the_speed_curve_has_a_cut_in_two_thirds_at_1800_rpm_and_the_rating_at_6000() -> None:
    """Bosch's characteristic: nothing below ~1,000 rpm, ~2/3 at 1,800, rated at 6,000."""
    assert ALTERNATOR_SPEED_CURVE(900.0) == 0.0
    assert ALTERNATOR_SPEED_CURVE(1000.0) == 0.0
    assert 0.55 <= ALTERNATOR_SPEED_CURVE(1800.0) <= 0.7
    assert ALTERNATOR_SPEED_CURVE(6000.0) == 1.0
    assert ALTERNATOR_SPEED_CURVE(9000.0) == 1.0
    rpm = [1000.0 + 250.0 * k for k in range(25)]
    fractions = [ALTERNATOR_SPEED_CURVE(r) for r in rpm]
    assert fractions == sorted(fractions)


@pytest.mark.req("PLT-5")
def test_plt5_an_idling_alternator_gives_60_to_70_pct_cruising_its_rating() -> None:
    assert pytest.approx(2000.0) == IDLE_ENGINE_RPM * ALTERNATOR_PULLEY_RATIO
    idle = alternator(engine_rpm=IDLE_ENGINE_RPM)
    cruising = alternator(engine_rpm=CRUISING_ENGINE_RPM)
    assert 60.0 <= idle.max_current_a(20.0) <= 70.0
    assert cruising.max_current_a(20.0) == pytest.approx(100.0)
    assert idle.current_a(12.0, 20.0) == pytest.approx(idle.max_current_a(20.0))
    assert cruising.current_a(12.0) == pytest.approx(100.0)  # the default: cruising, 25 °C


@pytest.mark.req("PLT-5")
@pytest.mark.parametrize(
    ("surroundings_c", "fraction"), [(-10.0, 1.0), (25.0, 1.0), (35.0, 0.97), (60.0, 0.895)]
)
def test_plt5_hot_derating_3_pct_per_10_c_above_25_c(
    surroundings_c: float, fraction: float
) -> None:
    assert alternator().max_current_a(surroundings_c) == pytest.approx(100.0 * fraction)


@pytest.mark.req("PLT-5")
def test_plt5_at_max_is_the_real_output_against_the_rating() -> None:
    """An idling alternator at its own (speed-limited) maximum is not 'at its rating'."""
    idle = alternator(engine_rpm=IDLE_ENGINE_RPM)
    most = idle.max_current_a(20.0)
    assert not any(idle.advance(most, 10.0, 10.0 * k) for k in range(100))
    assert idle.at_max_since_s is None


@pytest.mark.req("PLT-5")
def test_plt5_the_overheating_flag_comes_once_per_episode() -> None:
    """Flagged after more than 300 s at the rating, once; an engine stop ends the episode."""
    alt = alternator()
    flags = [alt.advance(100.0, 1.0, float(t)) for t in range(600)]
    assert flags.count(True) == 1
    assert alt.overheat_risk_at_s == pytest.approx(300.0)
    alt.running = False
    assert not alt.advance(0.0, 1.0, 600.0)
    assert alt.overheat_risk_at_s is None
    alt.running = True
    flags = [alt.advance(100.0, 1.0, 1000.0 + t) for t in range(400)]
    assert flags.count(True) == 1
    assert alt.overheat_risk_at_s == pytest.approx(1300.0)


def test_the_scenario_speed_field_defaults_to_cruising() -> None:
    assert AlternatorConfig(rated_current_a=90.0).speed == "cruising"
    assert AlternatorConfig(rated_current_a=90.0).engine_rpm == CRUISING_ENGINE_RPM
    assert AlternatorConfig(rated_current_a=90.0, speed="idle").engine_rpm == IDLE_ENGINE_RPM
