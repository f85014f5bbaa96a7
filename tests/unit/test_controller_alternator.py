"""The controller's Alternator / Starter Batt+ port: ALT-1, ALT-2, ALT-5...ALT-10."""

import dataclasses
import math

import pytest

from smartbms.core import NO_DEADLINE, Code, Controller, FuseType, Inputs
from smartbms.core.events import (
    AlternatorInputDisabled,
    AlternatorInputEnabled,
    AlternatorOffReason,
    ChargeLimitReached,
    ChargeLimitReleased,
    CodeCleared,
    CodeRaised,
    InputOverVoltageCleared,
    InputOverVoltageDetected,
)
from smartbms.core.power_stage import ab_port_current_a
from tests.unit.helpers import (
    ALTERNATOR,
    IDLE,
    PIN,
    controller,
    events_in,
    fused_controller,
    of_type,
    step_deadlines,
    step_range,
)


def _engaged(ctrl: Controller, inputs: Inputs = ALTERNATOR, start_s: float = 0.0) -> None:
    """Bring the AB port to enabled: conditions at start_s, debounce over at start_s + 1 s."""
    ctrl.step(inputs, start_s)
    assert ctrl.step(inputs, start_s + 1.0).outputs.ab_enabled


# --- ALT-1: current flows only while V_AB > 13.0 V (1 s debounce) ---------------------------------


@pytest.mark.req("ALT-1")
@pytest.mark.parametrize("ab_v", [0.0, 12.0, 12.99, 13.0])
def test_alt1_at_or_below_13v0_the_ab_port_never_enables(ab_v: float) -> None:
    """ALT-1: 12.99 V and 13.00 V exactly (strictly greater needed): no AB current path ever."""
    ctrl = controller(fuse_type="125A")
    run = step_range(ctrl, Inputs(ab_voltage_v=ab_v), 0.0, 30.0, 0.25)
    for _, result in run:
        assert result.outputs.ab_enabled is False
        assert result.outputs.ab_fuse_drop_setpoint_v == 0.0
        assert result.next_deadline_s == NO_DEADLINE
        assert (
            ab_port_current_a(
                ab_voltage_v=ab_v,
                bank_voltage_v=12.0,
                path_resistance_ohm=0.01,
                enabled=result.outputs.ab_enabled,
                fuse_drop_setpoint_v=result.outputs.ab_fuse_drop_setpoint_v,
                installed_fuse=FuseType.MEGA_125A,
            )
            == 0.0
        )
    assert of_type(events_in(run), AlternatorInputEnabled) == []


@pytest.mark.req("ALT-1")
def test_alt1_13v01_held_enables_at_exactly_1s_not_at_0s99() -> None:
    """ALT-1: 13.01 V held: not enabled at 0.99 s, enabled at exactly ALT_ENGAGE_DEBOUNCE_S."""
    ctrl = controller()
    inputs = Inputs(ab_voltage_v=13.01)
    first = ctrl.step(inputs, 0.0)
    assert not first.outputs.ab_enabled
    assert first.next_deadline_s == 1.0
    early = ctrl.step(inputs, 0.99)
    assert not early.outputs.ab_enabled
    assert early.next_deadline_s == 1.0
    assert early.events == ()
    on_time = ctrl.step(inputs, 1.0)
    assert on_time.outputs.ab_enabled
    assert on_time.outputs.ab_fuse_drop_setpoint_v == 0.050
    assert on_time.events == (AlternatorInputEnabled(1.0),)
    assert on_time.next_deadline_s == NO_DEADLINE


@pytest.mark.req("ALT-1")
def test_alt1_stepping_at_next_deadline_fires_the_engage() -> None:
    """ALT-1: the debounce end is returned as next_deadline_s; stepping there enables the port."""
    ctrl = controller()
    run = step_deadlines(ctrl, Inputs(ab_voltage_v=13.01), 7.25, 100.0)
    assert [t for t, _ in run] == [7.25, 8.25]
    assert run[-1][1].outputs.ab_enabled
    assert of_type(events_in(run), AlternatorInputEnabled) == [AlternatorInputEnabled(8.25)]


@pytest.mark.req("ALT-1")
@pytest.mark.parametrize("low_v", [13.0, 12.99, 11.0])
def test_alt1_drops_at_once_when_v_ab_falls_to_13v0(low_v: float) -> None:
    """ALT-1: disengage as soon as V_AB <= 13.0 V, in the same step, with its reason."""
    ctrl = controller()
    _engaged(ctrl, Inputs(ab_voltage_v=13.01))
    result = ctrl.step(Inputs(ab_voltage_v=low_v), 1.5)
    assert not result.outputs.ab_enabled
    assert result.outputs.ab_fuse_drop_setpoint_v == 0.0
    assert of_type(result.events, AlternatorInputDisabled) == [
        AlternatorInputDisabled(1.5, AlternatorOffReason.INPUT_TOO_LOW)
    ]


@pytest.mark.req("ALT-1")
def test_alt1_a_dip_to_13v0_restarts_the_debounce() -> None:
    """ALT-1: V_AB > 13.0 V must hold for 1 s *in a row*: a dip restarts the debounce."""
    ctrl = controller()
    high = Inputs(ab_voltage_v=13.01)
    ctrl.step(high, 0.0)
    ctrl.step(Inputs(ab_voltage_v=13.0), 0.5)
    restart = ctrl.step(high, 0.6)
    assert restart.next_deadline_s == pytest.approx(1.6)
    assert not ctrl.step(high, 1.0).outputs.ab_enabled
    assert not ctrl.step(high, 1.59).outputs.ab_enabled
    assert ctrl.step(high, 1.6).outputs.ab_enabled


# --- ALT-2: one way -------------------------------------------------------------------------------


@pytest.mark.req("ALT-2")
@pytest.mark.parametrize(("ab_v", "bank_v"), [(13.1, 13.5), (13.5, 13.5), (14.0, 13.2)])
def test_alt2_enabled_port_current_never_negative(ab_v: float, bank_v: float) -> None:
    """ALT-2: even with the port enabled and V_AB below the bank, the current is >= 0."""
    ctrl = controller(fuse_type="125A")
    inputs = Inputs(ab_voltage_v=ab_v, bank_voltage_v=bank_v)
    _engaged(ctrl, inputs)
    out = ctrl.step(inputs, 2.0).outputs
    current_a = ab_port_current_a(
        ab_voltage_v=ab_v,
        bank_voltage_v=bank_v,
        path_resistance_ohm=0.005,
        enabled=out.ab_enabled,
        fuse_drop_setpoint_v=out.ab_fuse_drop_setpoint_v,
        installed_fuse=FuseType.MEGA_125A,
    )
    assert current_a >= 0.0
    assert (current_a > 0.0) == (ab_v > bank_v)


@pytest.mark.req("ALT-2", "ALT-10")
def test_alt2_readings_never_show_a_negative_alternator_current() -> None:
    """ALT-2/ALT-10: a negative fuse drop (noise) is shown as 0 A, never as current back to AB."""
    ctrl = fused_controller(FuseType.MEGA_100A)
    readings = ctrl.step(Inputs(ab_voltage_v=14.0, alternator_fuse_drop_v=-0.002), 0.0).readings
    assert readings.alternator_current_a == 0.0
    assert readings.alternator_current_pct == 0.0


# --- ALT-5: battery charge limit ------------------------------------------------------------------


def _at(bank_v: float, ab_v: float = 14.4) -> Inputs:
    return Inputs(ab_voltage_v=ab_v, bank_voltage_v=bank_v)


@pytest.mark.req("ALT-5")
def test_alt5_default_limit_14v2_opens_the_port_when_reached() -> None:
    """ALT-5: default 14.2 V: 14.19 V keeps charging; 14.2 V opens the AB port at that step."""
    ctrl = controller()
    assert ctrl.settings.charge_limit_v == 14.2
    _engaged(ctrl, _at(13.5))
    assert ctrl.step(_at(14.19), 5.0).outputs.ab_enabled
    reached = ctrl.step(_at(14.2), 6.0)
    assert not reached.outputs.ab_enabled
    assert reached.outputs.ab_fuse_drop_setpoint_v == 0.0
    assert of_type(reached.events, ChargeLimitReached) == [ChargeLimitReached(6.0, 14.2)]
    assert of_type(reached.events, AlternatorInputDisabled) == [
        AlternatorInputDisabled(6.0, AlternatorOffReason.CHARGE_LIMIT)
    ]
    assert reached.next_deadline_s == NO_DEADLINE


@pytest.mark.req("ALT-5")
def test_alt5_reenables_exactly_10s_after_the_bank_first_sits_at_13v7() -> None:
    """ALT-5: at or below limit - 0.5 V (13.7 V) for 10 consecutive s: not at 9.9 s, yes at 10."""
    ctrl = controller()
    _engaged(ctrl, _at(13.5))
    ctrl.step(_at(14.2), 6.0)
    above = ctrl.step(_at(13.71), 7.0)
    assert not above.outputs.ab_enabled
    assert above.next_deadline_s == NO_DEADLINE
    first_below = ctrl.step(_at(13.7), 20.0)
    assert not first_below.outputs.ab_enabled
    assert first_below.next_deadline_s == 30.0
    for t in (21.0, 25.0, 29.9, 29.99):
        held = ctrl.step(_at(13.6), t)
        assert not held.outputs.ab_enabled, t
        assert held.next_deadline_s == 30.0
    released = ctrl.step(_at(13.6), 30.0)
    assert released.outputs.ab_enabled
    assert released.events == (ChargeLimitReleased(30.0), AlternatorInputEnabled(30.0))


@pytest.mark.req("ALT-5")
@pytest.mark.parametrize("blip_s", [20.5, 25.0, 29.99])
def test_alt5_any_moment_at_13v71_restarts_the_10s(blip_s: float) -> None:
    """ALT-5: any moment above limit - 0.5 V restarts the 10 s hold."""
    ctrl = controller()
    _engaged(ctrl, _at(13.5))
    ctrl.step(_at(14.2), 6.0)
    ctrl.step(_at(13.7), 20.0)
    blip = ctrl.step(_at(13.71), blip_s)
    assert not blip.outputs.ab_enabled
    assert blip.next_deadline_s == NO_DEADLINE
    back = ctrl.step(_at(13.7), blip_s + 0.01)
    assert back.next_deadline_s == pytest.approx(blip_s + 10.01)
    assert not ctrl.step(_at(13.7), 30.0).outputs.ab_enabled
    assert not ctrl.step(_at(13.7), blip_s + 9.9).outputs.ab_enabled
    assert ctrl.step(_at(13.7), back.next_deadline_s).outputs.ab_enabled


@pytest.mark.req("ALT-5")
def test_alt5_reaching_the_limit_again_restarts_the_hold() -> None:
    """ALT-5: back at the limit during the hold: latched again, the 10 s start over later."""
    ctrl = controller()
    _engaged(ctrl, _at(13.5))
    ctrl.step(_at(14.2), 6.0)
    ctrl.step(_at(13.0), 10.0)
    again = ctrl.step(_at(14.3), 15.0)
    assert again.events == ()  # still latched: no second 'reached' event
    ctrl.step(_at(13.0), 16.0)
    assert not ctrl.step(_at(13.0), 20.0).outputs.ab_enabled
    assert not ctrl.step(_at(13.0), 25.99).outputs.ab_enabled
    assert ctrl.step(_at(13.0), 26.0).outputs.ab_enabled


@pytest.mark.req("ALT-5")
def test_alt5_the_10s_hold_end_is_the_next_deadline() -> None:
    """ALT-5: stepping only at next_deadline_s releases exactly 10 s after the first low sample."""
    ctrl = controller()
    _engaged(ctrl, _at(13.5))
    ctrl.step(_at(14.2), 6.0)
    run = step_deadlines(ctrl, _at(13.2), 12.5, 1000.0)
    assert [t for t, _ in run] == [12.5, 22.5]
    assert of_type(events_in(run), ChargeLimitReleased) == [ChargeLimitReleased(22.5)]
    assert run[-1][1].outputs.ab_enabled


@pytest.mark.req("ALT-5", "CFG-1")
@pytest.mark.parametrize(
    ("limit_v", "below_v", "just_above_v", "release_v"),
    [(13.0, 12.99, 12.51, 12.5), (15.3, 15.29, 14.81, 14.8), (14.4, 14.39, 13.91, 13.9)],
)
def test_alt5_custom_limits_latch_and_release_at_limit_minus_0v5(
    limit_v: float, below_v: float, just_above_v: float, release_v: float
) -> None:
    """ALT-5/CFG-1: the 13.0 V and 15.3 V ends of the range (and 14.4 V) behave the same way."""
    ctrl = controller(charge_limit_v=limit_v)
    _engaged(ctrl, _at(below_v, ab_v=15.5))
    assert ctrl.step(_at(below_v, ab_v=15.5), 2.0).outputs.ab_enabled
    assert not ctrl.step(_at(limit_v, ab_v=15.5), 3.0).outputs.ab_enabled
    assert ctrl.step(_at(just_above_v, ab_v=15.5), 4.0).next_deadline_s == NO_DEADLINE
    assert ctrl.step(_at(release_v, ab_v=15.5), 5.0).next_deadline_s == 15.0
    assert not ctrl.step(_at(release_v, ab_v=15.5), 14.99).outputs.ab_enabled
    assert ctrl.step(_at(release_v, ab_v=15.5), 15.0).outputs.ab_enabled


@pytest.mark.req("ALT-5", "CFG-1")
def test_alt5_a_new_charge_limit_applies_at_the_next_step() -> None:
    """ALT-5/CFG-1: lowering the limit below the bank voltage opens the port at the next step."""
    ctrl = controller()
    _engaged(ctrl, _at(13.5))
    ctrl.change_settings({"charge_limit_v": 13.4}, pin=PIN, now_s=2.0)
    result = ctrl.step(_at(13.5), 2.0)
    assert not result.outputs.ab_enabled
    assert of_type(result.events, ChargeLimitReached) == [ChargeLimitReached(2.0, 13.5)]


@pytest.mark.req("ALT-5")
def test_alt5_latch_holds_while_the_alternator_is_off() -> None:
    """ALT-5: the limit reached by another charger keeps the AB port off until the 10 s hold."""
    ctrl = controller()
    ctrl.step(_at(14.25, ab_v=0.0), 0.0)  # e.g. a charger on System+ lifted the bank
    ctrl.step(_at(13.6, ab_v=0.0), 1.0)
    assert not ctrl.step(_at(13.6, ab_v=14.4), 5.0).outputs.ab_enabled
    assert not ctrl.step(_at(13.6, ab_v=14.4), 10.99).outputs.ab_enabled
    assert ctrl.step(_at(13.6, ab_v=14.4), 11.0).outputs.ab_enabled


# --- ALT-6 / ALT-7: ATC and system on/off ---------------------------------------------------------


@pytest.mark.req("ALT-6")
def test_alt6_ab_off_while_atc_is_withdrawn() -> None:
    """ALT-6: ATC withdrawn opens the port at once and keeps it open; it returns after ATC does."""
    ctrl = controller()
    _engaged(ctrl)
    no_atc = dataclasses.replace(ALTERNATOR, allowed_to_charge=False)
    cut = ctrl.step(no_atc, 2.0)
    assert not cut.outputs.ab_enabled
    assert of_type(cut.events, AlternatorInputDisabled) == [
        AlternatorInputDisabled(2.0, AlternatorOffReason.CHARGE_NOT_ALLOWED)
    ]
    for _, result in step_range(ctrl, no_atc, 2.0, 60.0, 0.5):
        assert not result.outputs.ab_enabled
        assert result.outputs.ab_fuse_drop_setpoint_v == 0.0
    ctrl.step(ALTERNATOR, 61.0)
    assert ctrl.step(ALTERNATOR, 62.0).outputs.ab_enabled


@pytest.mark.req("ALT-6")
def test_alt6_atc_withdrawn_before_the_alternator_starts_keeps_it_off() -> None:
    """ALT-6: the port never closes while ATC is withdrawn, however long V_AB is high."""
    ctrl = controller()
    no_atc = dataclasses.replace(ALTERNATOR, allowed_to_charge=False)
    run = step_range(ctrl, no_atc, 0.0, 20.0, 0.5)
    assert not any(result.outputs.ab_enabled for _, result in run)
    assert of_type(events_in(run), AlternatorInputEnabled) == []


def _remote_off(inputs: Inputs) -> Inputs:
    return dataclasses.replace(
        inputs, remote_lh_connected=False, remote_l_voltage_v=13.2, remote_h_voltage_v=0.0
    )


@pytest.mark.req("ALT-7", "REM-2")
@pytest.mark.parametrize("function", ["alternator and system+ only", "switch everything off"])
def test_alt7_ab_off_while_remote_off_in_both_functions(function: str) -> None:
    """ALT-7/REM-2: remote OFF opens the AB port in both remote-function settings."""
    ctrl = controller(remote_function=function)
    _engaged(ctrl)
    off = ctrl.step(_remote_off(ALTERNATOR), 2.0)
    assert not off.outputs.ab_enabled
    assert of_type(off.events, AlternatorInputDisabled) == [
        AlternatorInputDisabled(2.0, AlternatorOffReason.SYSTEM_OFF)
    ]
    for _, result in step_range(ctrl, _remote_off(ALTERNATOR), 2.0, 30.0, 1.0):
        assert not result.outputs.ab_enabled


@pytest.mark.req("ALT-7", "REM-3")
@pytest.mark.parametrize("function", ["alternator and system+ only", "switch everything off"])
def test_alt7_ab_off_while_soft_switch_off_in_both_functions(function: str) -> None:
    """ALT-7/REM-3: soft switch OFF opens the AB port; ON again closes it after the debounce."""
    ctrl = controller(remote_function=function)
    _engaged(ctrl)
    ctrl.change_settings({"soft_switch_on": False}, pin=PIN, now_s=2.0)
    for _, result in step_range(ctrl, ALTERNATOR, 2.0, 30.0, 1.0):
        assert not result.outputs.ab_enabled
    ctrl.change_settings({"soft_switch_on": True}, pin=PIN, now_s=31.0)
    assert not ctrl.step(ALTERNATOR, 31.0).outputs.ab_enabled
    assert ctrl.step(ALTERNATOR, 32.0).outputs.ab_enabled


# --- ALT-8: BMS over-temperature ------------------------------------------------------------------


def _hot(temperature_c: float) -> Inputs:
    return dataclasses.replace(ALTERNATOR, internal_temperature_c=temperature_c)


@pytest.mark.req("ALT-8")
@pytest.mark.parametrize(
    ("temperature_c", "factor"),
    [(25.0, 1.0), (74.9, 1.0), (75.0, 1.0), (77.5, 0.75), (80.0, 0.5), (84.0, 0.1)],
)
def test_alt8_current_limit_derates_linearly_from_75c_to_85c(
    temperature_c: float, factor: float
) -> None:
    """ALT-8: 100 % at 75 °C, 50 % at 80 °C, linear in between; the port stays enabled."""
    ctrl = controller()
    _engaged(ctrl, _hot(temperature_c))
    out = ctrl.step(_hot(temperature_c), 2.0).outputs
    assert out.ab_enabled
    assert out.ab_fuse_drop_setpoint_v == pytest.approx(0.050 * factor, abs=1e-12)
    assert Code.A_B15 not in out.codes
    # The real current limit follows: 90 A with a 100 A fuse, times the factor.
    limit_a = ab_port_current_a(
        ab_voltage_v=14.4,
        bank_voltage_v=13.2,
        path_resistance_ohm=0.001,
        enabled=out.ab_enabled,
        fuse_drop_setpoint_v=out.ab_fuse_drop_setpoint_v,
        installed_fuse=FuseType.MEGA_100A,
    )
    assert limit_a == pytest.approx(90.0 * factor)


@pytest.mark.req("ALT-8", "ERR-7")
def test_alt8_at_85c_the_port_opens_with_a_b15_and_stays_open_until_70c() -> None:
    """ALT-8/ERR-7: 0 % and A-B15 at 85 °C; A-B15 and the open port hold until the BMS is <= 70
    °C."""
    ctrl = controller()
    _engaged(ctrl, _hot(84.99))
    trip = ctrl.step(_hot(85.0), 2.0)
    assert not trip.outputs.ab_enabled
    assert trip.outputs.ab_fuse_drop_setpoint_v == 0.0
    assert Code.A_B15 in trip.outputs.codes
    assert CodeRaised(2.0, Code.A_B15) in trip.events
    assert AlternatorInputDisabled(2.0, AlternatorOffReason.OVER_TEMPERATURE) in trip.events
    for t, temperature_c in [(3.0, 84.0), (5.0, 80.0), (8.0, 75.0), (10.0, 70.01)]:
        cooling = ctrl.step(_hot(temperature_c), t)
        assert not cooling.outputs.ab_enabled, temperature_c
        assert Code.A_B15 in cooling.outputs.codes, temperature_c
    released = ctrl.step(_hot(70.0), 20.0)
    assert Code.A_B15 not in released.outputs.codes
    assert CodeCleared(20.0, Code.A_B15) in released.events
    # The port then closes after the usual 1 s of good conditions, at full current.
    assert released.next_deadline_s == 21.0
    back = ctrl.step(_hot(70.0), 21.0)
    assert back.outputs.ab_enabled
    assert back.outputs.ab_fuse_drop_setpoint_v == 0.050


@pytest.mark.req("ALT-8")
def test_alt8_never_engages_while_over_temperature() -> None:
    """ALT-8: starting hot, the port stays open for as long as A-B15 holds."""
    ctrl = controller()
    run = step_range(ctrl, _hot(86.0), 0.0, 10.0, 0.5)
    run += step_range(ctrl, _hot(71.0), 10.5, 30.0, 0.5)
    assert not any(result.outputs.ab_enabled for _, result in run)
    assert all(Code.A_B15 in result.outputs.codes for _, result in run)


# --- ALT-9: input over-voltage --------------------------------------------------------------------


@pytest.mark.req("ALT-9")
def test_alt9_above_16v_the_port_opens_and_logs_input_over_voltage() -> None:
    """ALT-9: 16.01 V: port off and an InputOverVoltageDetected event; 16.0 V is still fine."""
    ctrl = controller()
    _engaged(ctrl, Inputs(ab_voltage_v=16.0))
    assert ctrl.step(Inputs(ab_voltage_v=16.0), 2.0).outputs.ab_enabled
    surge = ctrl.step(Inputs(ab_voltage_v=16.01), 3.0)
    assert not surge.outputs.ab_enabled
    assert surge.outputs.ab_fuse_drop_setpoint_v == 0.0
    assert of_type(surge.events, InputOverVoltageDetected) == [InputOverVoltageDetected(3.0, 16.01)]
    assert of_type(surge.events, AlternatorInputDisabled) == [
        AlternatorInputDisabled(3.0, AlternatorOffReason.INPUT_OVER_VOLTAGE)
    ]
    assert surge.outputs.codes == frozenset()  # no user code in the manual
    held = step_range(ctrl, Inputs(ab_voltage_v=18.0), 3.5, 20.0, 0.5)
    assert not any(result.outputs.ab_enabled for _, result in held)
    assert of_type(events_in(held), InputOverVoltageDetected) == []  # logged once
    back = ctrl.step(Inputs(ab_voltage_v=14.4), 21.0)
    assert of_type(back.events, InputOverVoltageCleared) == [InputOverVoltageCleared(21.0)]
    assert not back.outputs.ab_enabled
    assert ctrl.step(Inputs(ab_voltage_v=14.4), 22.0).outputs.ab_enabled


@pytest.mark.req("ALT-9")
def test_alt9_over_voltage_is_logged_even_while_the_port_is_open() -> None:
    """ALT-9: a transient above 16 V is logged whatever the port was doing."""
    ctrl = controller()
    ctrl.step(IDLE, 0.0)
    result = ctrl.step(Inputs(ab_voltage_v=17.5), 1.0)
    assert result.events == (InputOverVoltageDetected(1.0, 17.5),)
    assert not result.outputs.ab_enabled


# --- ALT-10: alternator current and percentage ----------------------------------------------------


@pytest.mark.req("ALT-10")
def test_alt10_fuse_not_set_shows_no_current_and_prompts() -> None:
    """ALT-10: fuse type never set: current and percentage are None and the app prompts."""
    ctrl = controller()
    assert ctrl.settings.fuse_type is FuseType.NOT_SET
    readings = ctrl.step(Inputs(ab_voltage_v=14.0, alternator_fuse_drop_v=0.02), 0.0).readings
    assert readings.alternator_current_a is None
    assert readings.alternator_current_pct is None
    assert readings.fuse_type_prompt is True
    assert readings.bank_voltage_v == 13.2
    assert readings.ab_voltage_v == 14.0


@pytest.mark.req("ALT-10")
@pytest.mark.parametrize(
    ("fuse", "drop_v", "current_a", "pct"),
    [
        (FuseType.MEGA_125A, 0.050, 100.0, 100.0),
        (FuseType.MEGA_125A, 0.025, 50.0, 50.0),
        (FuseType.MEGA_100A, 0.025, 45.0, 50.0),
        (FuseType.MEGA_80A, 0.010, 12.0, 20.0),
        (FuseType.MEGA_60A, 0.040, 40.0, 80.0),
        (FuseType.ATO_2X30A, 0.050, 40.0, 100.0),
        (FuseType.ATO_2X20A, 0.005, 2.5, 10.0),
        (FuseType.ATO_2X15A, 0.030, 12.0, 60.0),
        (FuseType.ATO_2X10A, 0.050, 12.0, 100.0),
        (FuseType.ATO_2X7_5A, 0.0, 0.0, 0.0),
    ],
)
def test_alt10_percentage_is_current_over_configured_limit(
    fuse: FuseType, drop_v: float, current_a: float, pct: float
) -> None:
    """ALT-10: current = drop / R(configured fuse); pct = current / limit(configured) x 100."""
    ctrl = fused_controller(fuse)
    readings = ctrl.step(Inputs(ab_voltage_v=14.0, alternator_fuse_drop_v=drop_v), 0.0).readings
    assert readings.alternator_current_a == pytest.approx(current_a)
    assert readings.alternator_current_pct == pytest.approx(pct)
    assert readings.fuse_type_prompt is False


@pytest.mark.req("ALT-10", "ALT-4")
def test_alt10_mismatched_setting_shows_50a_and_100pct_for_100a_through_a_125a_fuse() -> None:
    """ALT-4/ALT-10: 125 A fuse in, 60 A configured: 100 A flows, the app shows 50 A / 100 %."""
    ctrl = fused_controller(FuseType.MEGA_60A)
    _engaged(ctrl)
    out = ctrl.step(ALTERNATOR, 2.0).outputs
    real_a = ab_port_current_a(
        ab_voltage_v=14.4,
        bank_voltage_v=13.2,
        path_resistance_ohm=0.001,
        enabled=out.ab_enabled,
        fuse_drop_setpoint_v=out.ab_fuse_drop_setpoint_v,
        installed_fuse=FuseType.MEGA_125A,
    )
    assert real_a == pytest.approx(100.0)
    drop_v = real_a * FuseType.MEGA_125A.sense_resistance_ohm
    readings = ctrl.step(dataclasses.replace(ALTERNATOR, alternator_fuse_drop_v=drop_v), 3.0)
    assert readings.readings.alternator_current_a == pytest.approx(50.0)
    assert readings.readings.alternator_current_pct == pytest.approx(100.0)


@pytest.mark.req("ALT-10")
def test_alt10_setting_the_fuse_type_shows_the_current_and_stops_the_prompt() -> None:
    """ALT-10: once the fuse type is set the readings appear; a factory reset hides them again."""
    ctrl = controller()
    inputs = Inputs(ab_voltage_v=14.0, alternator_fuse_drop_v=0.025)
    assert ctrl.step(inputs, 0.0).readings.fuse_type_prompt
    ctrl.change_settings({"fuse_type": "100A"}, pin=PIN, now_s=1.0)
    readings = ctrl.step(inputs, 1.0).readings
    assert readings.fuse_type_prompt is False
    assert readings.alternator_current_a == pytest.approx(45.0)
    ctrl.factory_reset(pin=PIN, now_s=2.0)
    readings = ctrl.step(inputs, 2.0).readings
    assert readings.fuse_type_prompt is True
    assert readings.alternator_current_a is None
    assert not math.isnan(readings.bank_voltage_v)
