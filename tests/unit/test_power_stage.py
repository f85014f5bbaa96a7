"""The power stage's physics: AB limiter (ALT-2/3/4), System+ diode (SP-6), outputs (OUT-1/2/5)."""

import math

import pytest

from smartbms.core import Controller, Inputs, Level
from smartbms.core.constants import FUSE_SENSE_REF_V
from smartbms.core.fuses import INSTALLABLE_FUSES, FuseType
from smartbms.core.power_stage import (
    ab_port_current_a,
    disconnect_output,
    prealarm_output,
    system_plus_current_a,
)
from smartbms.core.signals import Readings
from tests.unit.helpers import controller

TABLE_1 = [
    (FuseType.MEGA_125A, 100.0),
    (FuseType.MEGA_100A, 90.0),
    (FuseType.MEGA_80A, 60.0),
    (FuseType.MEGA_60A, 50.0),
    (FuseType.ATO_2X30A, 40.0),
    (FuseType.ATO_2X20A, 25.0),
    (FuseType.ATO_2X15A, 20.0),
    (FuseType.ATO_2X10A, 12.0),
    (FuseType.ATO_2X7_5A, 9.0),
]


def _ab(
    ab_v: float,
    bank_v: float = 13.2,
    *,
    r_ohm: float = 0.001,
    enabled: bool = True,
    setpoint_v: float = FUSE_SENSE_REF_V,
    fuse: FuseType = FuseType.MEGA_125A,
) -> float:
    return ab_port_current_a(
        ab_voltage_v=ab_v,
        bank_voltage_v=bank_v,
        path_resistance_ohm=r_ohm,
        enabled=enabled,
        fuse_drop_setpoint_v=setpoint_v,
        installed_fuse=fuse,
    )


def _readings(ctrl: Controller, drop_v: float) -> Readings:
    return ctrl.step(Inputs(ab_voltage_v=14.4, alternator_fuse_drop_v=drop_v), 0.0).readings


# --- AB port -------------------------------------------------------------------------------------


@pytest.mark.req("ALT-3", "ALT-4")
@pytest.mark.parametrize(("fuse", "limit_a"), TABLE_1)
def test_alt3_alt4_ab_current_saturates_exactly_at_the_installed_fuse_limit(
    fuse: FuseType, limit_a: float
) -> None:
    """ALT-3/ALT-4: a stiff source pushes far more; the limiter lets exactly the limit through."""
    # 1.2 V across 1 mOhm would be 1200 A unlimited.
    assert _ab(14.4, 13.2, fuse=fuse) == pytest.approx(limit_a, rel=1e-12)
    # Below the limit the path resistance decides: limit - 1 A flows unchanged.
    r_ohm = 0.1
    below_a = limit_a - 1.0
    assert _ab(13.2 + below_a * r_ohm, 13.2, r_ohm=r_ohm, fuse=fuse) == pytest.approx(below_a)
    # Exactly at the limit: still exactly the limit.
    assert _ab(13.2 + limit_a * r_ohm, 13.2, r_ohm=r_ohm, fuse=fuse) == pytest.approx(limit_a)


@pytest.mark.req("ALT-3")
def test_alt3_maximum_alternator_current_is_100a_with_the_125a_fuse() -> None:
    """ALT-3: no installable fuse lets more than 100 A through, whatever the source."""
    worst = max(_ab(16.0, 10.0, r_ohm=1e-6, fuse=fuse) for fuse in INSTALLABLE_FUSES)
    assert worst == pytest.approx(100.0, rel=1e-12)


@pytest.mark.req("ALT-4")
def test_alt4_limit_follows_the_fuse_drop_setpoint_derated() -> None:
    """ALT-4: the limit is setpoint / R(installed fuse): half the set point, half the limit."""
    assert _ab(14.4, 13.2, setpoint_v=FUSE_SENSE_REF_V / 2, fuse=FuseType.MEGA_100A) == (
        pytest.approx(45.0)
    )
    assert _ab(14.4, 13.2, setpoint_v=0.0, fuse=FuseType.MEGA_100A) == 0.0
    assert _ab(14.4, 13.2, setpoint_v=-0.01, fuse=FuseType.MEGA_100A) == 0.0


@pytest.mark.req("ALT-4", "ALT-10")
def test_alt4_125a_installed_with_setting_60a_limits_100a_and_shows_50a_100pct() -> None:
    """ALT-4/ALT-10: real limit from the installed 125 A fuse; display from the 60 A setting
    (wrong)."""
    installed = FuseType.MEGA_125A
    current_a = _ab(14.4, 13.2, fuse=installed)
    assert current_a == pytest.approx(100.0)
    drop_v = current_a * installed.sense_resistance_ohm
    assert drop_v == pytest.approx(0.050)
    ctrl = controller(fuse_type="60A")
    readings = _readings(ctrl, drop_v)
    assert readings.alternator_current_a == pytest.approx(50.0)
    assert readings.alternator_current_pct == pytest.approx(100.0)
    assert readings.fuse_type_prompt is False


@pytest.mark.req("ALT-4", "ALT-10")
def test_alt4_small_fuse_installed_with_setting_125a_limits_9a_and_shows_100a() -> None:
    """ALT-4/ALT-10: 2x7.5 A installed, 125 A configured: 9 A really flows, the app shows 100 A,
    100 %."""
    installed = FuseType.ATO_2X7_5A
    current_a = _ab(14.4, 13.2, fuse=installed)
    assert current_a == pytest.approx(9.0)
    drop_v = current_a * installed.sense_resistance_ohm
    readings = _readings(controller(fuse_type="125A"), drop_v)
    assert readings.alternator_current_a == pytest.approx(100.0)
    assert readings.alternator_current_pct == pytest.approx(100.0)


@pytest.mark.req("ALT-2")
@pytest.mark.parametrize(
    ("ab_v", "bank_v"),
    [(12.0, 13.2), (13.2, 13.2), (13.01, 13.3), (0.0, 14.4), (-5.0, 13.0)],
)
def test_alt2_no_current_from_the_bank_back_to_ab(ab_v: float, bank_v: float) -> None:
    """ALT-2: one way only: with V_AB at or below the bank, the AB current is exactly 0."""
    for fuse in INSTALLABLE_FUSES:
        assert _ab(ab_v, bank_v, fuse=fuse) == 0.0


@pytest.mark.req("ALT-1", "ALT-2")
def test_alt1_disabled_port_carries_nothing() -> None:
    """ALT-1/ALT-2: an open AB port carries nothing, however high V_AB is."""
    assert _ab(15.0, 13.2, enabled=False) == 0.0


@pytest.mark.req("ALT-3")
def test_alt3_no_fuse_installed_carries_nothing() -> None:
    """ALT-3: a port without a fuse conducts nothing (the fuse is the current path)."""
    assert _ab(15.0, 13.2, fuse=FuseType.NOT_SET) == 0.0


def test_ab_path_resistance_must_be_positive() -> None:
    """A zero or negative path resistance is a programmer error."""
    with pytest.raises(ValueError, match="positive"):
        _ab(14.0, 13.2, r_ohm=0.0)


# --- System+ -------------------------------------------------------------------------------------


@pytest.mark.req("SP-6", "SP-2")
@pytest.mark.parametrize("current_a", [-400.0, -200.0, -0.001])
def test_sp6_discharge_blocked_charge_passes_when_only_charge_allowed(current_a: float) -> None:
    """SP-6/SP-2: discharge forbidden -> exactly 0 A out; charge flows like through a diode."""
    assert (
        system_plus_current_a(
            unrestricted_current_a=current_a, charge_allowed=True, discharge_allowed=False
        )
        == 0.0
    )
    assert system_plus_current_a(
        unrestricted_current_a=-current_a, charge_allowed=True, discharge_allowed=False
    ) == (-current_a)


@pytest.mark.req("SP-6", "SP-3")
@pytest.mark.parametrize("current_a", [0.001, 50.0, 200.0])
def test_sp6_charge_blocked_discharge_passes_when_only_discharge_allowed(
    current_a: float,
) -> None:
    """SP-6/SP-3: charge forbidden -> exactly 0 A in; discharge flows."""
    assert (
        system_plus_current_a(
            unrestricted_current_a=current_a, charge_allowed=False, discharge_allowed=True
        )
        == 0.0
    )
    assert system_plus_current_a(
        unrestricted_current_a=-current_a, charge_allowed=False, discharge_allowed=True
    ) == (-current_a)


@pytest.mark.req("SP-6", "SP-4", "SP-1")
@pytest.mark.parametrize("current_a", [-400.0, -200.0, 0.0, 200.0])
def test_sp6_both_or_neither_direction(current_a: float) -> None:
    """SP-1: both allowed -> bidirectional; SP-4: neither -> 0 A both ways."""
    assert (
        system_plus_current_a(
            unrestricted_current_a=current_a, charge_allowed=True, discharge_allowed=True
        )
        == current_a
    )
    assert (
        system_plus_current_a(
            unrestricted_current_a=current_a, charge_allowed=False, discharge_allowed=False
        )
        == 0.0
    )


# --- Load / Charge disconnect outputs ------------------------------------------------------------


@pytest.mark.req("OUT-1", "OUT-2")
@pytest.mark.parametrize("bank_v", [10.0, 13.2, 14.4])
def test_out1_out2_high_is_bank_minus_0v1_open_circuit(bank_v: float) -> None:
    """OUT-1/OUT-2: high = V_bank - 0.1 V, no current into an open terminal."""
    voltage_v, current_a = disconnect_output(Level.HIGH, bank_v, math.inf)
    assert voltage_v == pytest.approx(bank_v - 0.1)
    assert current_a == 0.0


@pytest.mark.req("OUT-1", "OUT-2")
def test_out1_out2_light_load_sees_full_voltage_up_to_10ma() -> None:
    """OUT-1/OUT-2: a load drawing up to 10 mA gets V_bank - 0.1 V."""
    # 13.1 V over 1310 Ohm = exactly 10 mA.
    voltage_v, current_a = disconnect_output(Level.HIGH, 13.2, 1310.0)
    assert voltage_v == pytest.approx(13.1)
    assert current_a == pytest.approx(0.010)
    voltage_v, current_a = disconnect_output(Level.HIGH, 13.2, 13_100.0)
    assert voltage_v == pytest.approx(13.1)
    assert current_a == pytest.approx(0.001)


@pytest.mark.req("OUT-1", "OUT-2")
def test_out1_out2_heavier_load_sags_at_10ma_limit() -> None:
    """OUT-1/OUT-2: a load wanting more than 10 mA gets 10 mA and a sagging voltage."""
    voltage_v, current_a = disconnect_output(Level.HIGH, 13.2, 100.0)  # wants 131 mA
    assert current_a == pytest.approx(0.010)
    assert voltage_v == pytest.approx(1.0)  # 10 mA x 100 Ohm
    voltage_v, current_a = disconnect_output(Level.HIGH, 13.2, 1000.0)  # wants 13.1 mA
    assert current_a == pytest.approx(0.010)
    assert voltage_v == pytest.approx(10.0)


@pytest.mark.req("OUT-1", "OUT-2")
@pytest.mark.parametrize("load_ohm", [0.0, -1.0])
def test_out1_out2_short_circuit_reads_0v_at_10ma(load_ohm: float) -> None:
    """OUT-1/OUT-2: short-circuit protected: a short draws 10 mA at 0 V, nothing breaks."""
    voltage_v, current_a = disconnect_output(Level.HIGH, 13.2, load_ohm)
    assert voltage_v == 0.0
    assert current_a == pytest.approx(0.010)
    # ... and the output works again once the short is gone.
    assert disconnect_output(Level.HIGH, 13.2, math.inf)[0] == pytest.approx(13.1)


@pytest.mark.req("OUT-1", "OUT-2")
@pytest.mark.parametrize("load_ohm", [math.inf, 1000.0, 10.0, 0.0])
def test_out1_out2_floating_sinks_and_sources_nothing(load_ohm: float) -> None:
    """OUT-1/OUT-2: floating = open circuit: 0 V on the load, 0 A (sink current 0 A)."""
    assert disconnect_output(Level.FLOATING, 13.2, load_ohm) == (0.0, 0.0)


@pytest.mark.req("OUT-5")
def test_out5_prealarm_output_is_bank_voltage_when_high_else_floating() -> None:
    """OUT-5: pre-alarm high = V_bank (not V_bank - 0.1 V); floating = 0 V."""
    assert prealarm_output(Level.HIGH, 13.2) == 13.2
    assert prealarm_output(Level.FLOATING, 13.2) == 0.0
