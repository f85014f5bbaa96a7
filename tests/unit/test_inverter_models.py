"""Inverter efficiency curves and zero-load power per model class (issue 13, part 6)."""

import pytest

from smartbms.core.signals import Level
from smartbms.plant.devices import DeviceContext, Inverter, InverterCharger
from smartbms.plant.devices.inverter_models import (
    INVERTER_MODELS,
    PEAK_AT_FRACTION,
    EfficiencyCurve,
    inverter_model,
)
from smartbms.scenario import ScenarioError, parse_scenario

CTX = DeviceContext(
    now_s=0.0,
    shore_power=False,
    solar_fraction=0.0,
    ambient_c=20.0,
    load_disconnect=Level.HIGH,
    charge_disconnect=Level.HIGH,
    prealarm=Level.FLOATING,
)


@pytest.mark.parametrize(
    ("name", "rated_w", "peak_pct", "no_load_w"),
    [
        ("MultiPlus 12/500/20", 430.0, 90.0, 6.0),
        ("MultiPlus 12/800/35", 700.0, 92.0, 7.0),
        ("MultiPlus 12/1200/50", 1000.0, 93.0, 10.0),
    ],
)
def test_multiplus_12v_figures_are_victrons(
    name: str, rated_w: float, peak_pct: float, no_load_w: float
) -> None:
    """MultiPlus 12 V 500-1200 VA manual, §7.1 Technical specifications
    (victronenergy.com/media/pg/MultiPlus_12V_500-1200VA_120Vac/en/technical-data.html):
    continuous output 430 / 700 / 1000 W at 25 °C, maximum efficiency 90 / 92 / 93 %, zero-load
    power 6 / 7 / 10 W."""
    model = inverter_model(name)
    assert model.confirmed
    assert (model.rated_power_w, model.peak_efficiency_pct, model.no_load_w) == (
        rated_w,
        peak_pct,
        no_load_w,
    )


@pytest.mark.parametrize("name", sorted(INVERTER_MODELS))
def test_every_curve_peaks_at_its_published_efficiency_at_40_pct_of_its_rating(name: str) -> None:
    """Decided (inverter_models): the published maximum efficiency at 40 % of the rating."""
    model = INVERTER_MODELS[name]
    curve = EfficiencyCurve.from_peak(
        rated_power_w=model.rated_power_w,
        peak_efficiency_pct=model.peak_efficiency_pct,
        no_load_w=model.no_load_w,
    )
    peak_w = PEAK_AT_FRACTION * model.rated_power_w
    assert curve.efficiency_pct(peak_w) == pytest.approx(model.peak_efficiency_pct, abs=1e-9)
    for fraction in (0.05, 0.2, 0.39, 0.41, 0.7, 1.0):
        assert curve.efficiency_pct(fraction * model.rated_power_w) < model.peak_efficiency_pct
    assert curve.dc_power_w(0.0) == pytest.approx(model.no_load_w)


def test_a_multiplus_12_1200_at_light_and_full_load() -> None:
    """The curve through 93 % at 400 W and 10 W at no load: 88 % at 100 W, 91 % at 1,000 W
    (sine inverters lose efficiency at both ends: fixed losses at light load, I²R at full)."""
    curve = EfficiencyCurve.from_peak(
        rated_power_w=1000.0, peak_efficiency_pct=93.0, no_load_w=10.0
    )
    assert curve.efficiency_pct(100.0) == pytest.approx(88.0, abs=0.5)
    assert curve.efficiency_pct(1000.0) == pytest.approx(91.0, abs=0.5)


def test_an_inverter_draws_its_zero_load_power_while_on_and_its_curve_under_load() -> None:
    inverter = Inverter(model="MultiPlus 12/1200/50")
    assert inverter.idle_w == 10.0
    assert inverter.current_a(CTX, 12.5) == pytest.approx(-10.0 / 12.5)
    inverter.set(ac_load_w=400.0)
    assert inverter.current_a(CTX, 12.5) == pytest.approx(-(400.0 / 0.93) / 12.5)


def test_the_defaults_are_a_phoenix_12_1200_and_a_multiplus_12_1600() -> None:
    assert Inverter().model == "Phoenix 12/1200"
    assert InverterCharger().model == "MultiPlus 12/1600/70"


def test_a_flat_efficiency_and_an_own_zero_load_power_override_the_curve() -> None:
    inverter = Inverter(ac_load_w=1000.0, efficiency_pct=90.0, idle_w=8.0)
    assert inverter.dc_power_w == pytest.approx(1000.0 / 0.9 + 8.0)
    assert Inverter(idle_w=3.0).idle_w == 3.0


def test_an_unknown_model_is_refused_by_the_device_and_the_scenario() -> None:
    with pytest.raises(ValueError, match="unknown inverter model 'Phoenix 12/9999'"):
        Inverter(model="Phoenix 12/9999")
    text = """
[scenario]
name = "x"
duration_h = 1

[[battery]]
model = "LFP-Smart 12.8/100"

[[device]]
name = "inv"
type = "inverter"
connection = "system+"
model = "Phoenix 12/9999"
"""
    with pytest.raises(ScenarioError, match="unknown inverter model"):
        parse_scenario(text, "x.toml")
