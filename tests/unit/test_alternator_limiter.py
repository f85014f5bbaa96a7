"""ALT-1 as a current limiter (issue 12 part 1): an engaged AB port backs its current off to hold
V_AB at 13.0 V + ALT_HOLD_MARGIN_V = 13.05 V when the source sags, the rest of the drop is BMS
heat (PLT-11), and it lets go only when V_AB is at or below 13.0 V with no current left."""

import dataclasses

import pytest

from smartbms.core import constants as c
from smartbms.core.fuses import FuseType
from smartbms.core.power_stage import AB_HOLD_V, ab_port_current_a
from smartbms.core.signals import ALL_OPEN
from smartbms.plant.battery import BatteryOptions, LithiumBattery
from smartbms.plant.params import battery_model
from smartbms.plant.system import OperatingPoint, TwelveVoltSystem
from smartbms.plant.vehicle import Alternator, StarterBattery

ENGAGED = dataclasses.replace(
    ALL_OPEN,
    ab_enabled=True,
    ab_fuse_drop_setpoint_v=c.FUSE_SENSE_REF_V,
    system_on=True,
    bms_active=True,
    supply_current_a=c.SUPPLY_ON_A,
)
OPEN = dataclasses.replace(ENGAGED, ab_enabled=False, ab_fuse_drop_setpoint_v=0.0)


def system(
    *, rated_a: float = 50.0, set_v: float = 14.4, soc_pct: float = 5.0, fuse: FuseType
) -> TwelveVoltSystem:
    battery = LithiumBattery(battery_model("LFP-Smart 12.8/200"), BatteryOptions(soc_pct=soc_pct))
    alternator = Alternator(rated_current_a=rated_a, regulated_voltage_v=set_v, running=True)
    return TwelveVoltSystem(
        batteries=[battery],
        devices=[],
        installed_fuse=fuse,
        alternator=alternator,
        starter=StarterBattery(soc_pct=90.0),
    )


def kcl_at_ab(op: OperatingPoint, plant: TwelveVoltSystem, now_s: float = 0.0) -> float:
    assert plant.starter is not None
    load_a = plant.starter.load_a(now_s)
    return op.alternator_current_a - op.ab_current_a - op.starter_current_a - load_a


@pytest.mark.req("ALT-1", "PLT-11")
def test_alt1_a_small_alternator_on_a_flat_bank_is_held_at_13_05_v() -> None:
    """50 A alternator, 125 A fuse (100 A limit), bank at 5 %: not enough to keep 13.0 V at the
    limit, so the limiter holds V_AB at 13.0 + 0.05 V and passes what is left (about 49 A)."""
    assert c.ALT_ENGAGE_V == 13.0
    assert c.ALT_HOLD_MARGIN_V == 0.05
    assert pytest.approx(13.05) == AB_HOLD_V
    plant = system(fuse=FuseType.MEGA_125A)
    op = plant.solve(0.0, ENGAGED)
    assert op.ab_voltage_v == pytest.approx(13.05, abs=1e-9)
    assert op.ab_voltage_v > c.ALT_ENGAGE_V  # the gate stays engaged: no chatter
    assert op.alternator_current_a == pytest.approx(50.0)  # the alternator gives all it has
    assert 45.0 < op.ab_current_a < op.ab_limit_a  # backed off from the 100 A limit
    assert kcl_at_ab(op, plant) == pytest.approx(0.0, abs=1e-9)
    # the held drop is heat in the BMS (PLT-11): more than the switches alone would make
    heat_w = plant._bms_heat_w(op, ENGAGED)  # white box
    drop_v = op.ab_voltage_v - op.bank_voltage_v
    assert heat_w > 0.5 * op.ab_current_a * drop_v > 5.0


@pytest.mark.req("ALT-1")
def test_alt1_without_the_hold_the_same_port_would_pull_v_ab_below_13_v() -> None:
    """What the issue saw: at the full limit V_AB sits at or below the gate (the old chatter)."""
    plant = system(fuse=FuseType.MEGA_125A)
    held = plant.solve(0.0, ENGAGED)
    unheld_v, unheld_a, _, _ = plant._solve_ab_node(
        plant._ab_side(0.0), held.bank_voltage_v, held.ab_limit_a
    )
    assert unheld_v <= c.ALT_ENGAGE_V
    assert unheld_a >= held.ab_current_a


@pytest.mark.req("ALT-1")
def test_alt1_a_strong_source_is_not_held() -> None:
    """A 180 A alternator on a 125 A fuse keeps V_AB well above 13.05 V at the 100 A limit."""
    plant = system(rated_a=180.0, fuse=FuseType.MEGA_125A, soc_pct=50.0)
    op = plant.solve(0.0, ENGAGED)
    assert op.ab_current_a == pytest.approx(op.ab_limit_a)
    assert op.ab_voltage_v > AB_HOLD_V + 0.1


@pytest.mark.req("ALT-1")
@pytest.mark.parametrize("set_v", [12.5, 13.0, 13.04])
def test_alt1_a_source_below_the_hold_gives_nothing_and_v_ab_is_its_own(set_v: float) -> None:
    """A smart alternator resting at or below 13.05 V: the port carries nothing; V_AB is where
    the source and the starter battery leave it (at or below 13.0 V the BMS lets go)."""
    plant = system(rated_a=150.0, set_v=set_v, fuse=FuseType.MEGA_100A, soc_pct=8.0)
    op = plant.solve(0.0, ENGAGED)
    assert op.ab_current_a == 0.0
    assert op.ab_voltage_v <= AB_HOLD_V
    assert op.ab_voltage_v == pytest.approx(plant.solve(0.0, OPEN).ab_voltage_v)


@pytest.mark.req("ALT-1")
def test_alt1_a_smart_alternator_just_above_the_hold_gives_its_surplus() -> None:
    """13.1 V set point, 5 mOhm: 10 A at 13.05 V, less the starter battery's share."""
    plant = system(rated_a=150.0, set_v=13.1, fuse=FuseType.MEGA_100A, soc_pct=8.0)
    op = plant.solve(0.0, ENGAGED)
    assert op.ab_voltage_v == pytest.approx(13.05)
    assert op.alternator_current_a == pytest.approx(10.0)
    assert 0.0 < op.ab_current_a < 10.0
    assert kcl_at_ab(op, plant) == pytest.approx(0.0, abs=1e-9)


@pytest.mark.req("ALT-1", "ALT-2")
def test_alt1_engine_off_backs_the_current_to_zero_at_or_below_13_v() -> None:
    plant = system(fuse=FuseType.MEGA_125A)
    assert plant.alternator is not None
    plant.alternator.running = False
    op = plant.solve(0.0, ENGAGED)
    assert op.ab_current_a == 0.0
    assert op.ab_voltage_v <= c.ALT_ENGAGE_V


@pytest.mark.req("ALT-1")
def test_alt1_the_held_current_is_monotone_in_the_bank_voltage() -> None:
    """The bank node's solve needs I_AB(V_bank) non-increasing and continuous: the hold and the
    ordinary port meet where the bank is just low enough to take the source's surplus."""
    plant = system(fuse=FuseType.MEGA_125A)
    held = plant._solve_ab_hold(plant._ab_side(0.0), 100.0)  # white box
    assert held is not None
    path_ohm = plant._ab_path_resistance_ohm()
    edge_v = AB_HOLD_V - held[1] * path_ohm
    previous = float("inf")
    for k in range(-50, 51):
        bank_v = edge_v + k * 0.002
        ab_a = (
            held[1]
            if bank_v <= edge_v
            else plant._solve_ab_node(plant._ab_side(0.0), bank_v, 100.0)[1]
        )
        assert ab_a <= previous + 1e-9
        previous = ab_a
    just_above = plant._solve_ab_node(plant._ab_side(0.0), edge_v + 1e-9, 100.0)
    assert just_above[1] == pytest.approx(held[1], abs=1e-5)
    assert just_above[0] == pytest.approx(AB_HOLD_V, abs=1e-6)


@pytest.mark.req("ALT-1", "ALT-4")
def test_alt1_power_stage_never_takes_more_than_the_source_gives_at_the_hold() -> None:
    common: dict[str, object] = {
        "ab_voltage_v": 14.0,
        "bank_voltage_v": 13.0,
        "path_resistance_ohm": 0.005,
        "enabled": True,
        "fuse_drop_setpoint_v": c.FUSE_SENSE_REF_V,
        "installed_fuse": FuseType.MEGA_125A,
    }
    assert ab_port_current_a(**common) == pytest.approx(100.0)  # type: ignore[arg-type]
    assert ab_port_current_a(**common, source_at_hold_a=42.0) == pytest.approx(42.0)  # type: ignore[arg-type]
    assert ab_port_current_a(**common, source_at_hold_a=-3.0) == 0.0  # type: ignore[arg-type]
