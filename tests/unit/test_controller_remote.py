"""Remote on/off terminal, soft switch and own consumption: REM-1...REM-4, PWR-1."""

import dataclasses

import pytest

from smartbms.core import Code, Controller, Inputs, LedMode, Level, remote_terminal_on
from smartbms.core.events import SystemSwitchedOff, SystemSwitchedOn
from tests.unit.helpers import ALTERNATOR, IDLE, PIN, controller, step_range

EVERYTHING = "switch everything off"
AB_AND_SP = "alternator and system+ only"


def _terminal(*, looped: bool = False, l_v: float = 13.2, h_v: float = 0.0) -> Inputs:
    """The remote plug: looped or not, and the voltages at L (pull-up) and H (pull-down)."""
    return Inputs(remote_lh_connected=looped, remote_l_voltage_v=l_v, remote_h_voltage_v=h_v)


OFF = _terminal()
"""Plug removed / open switch: L floats up to about the bank voltage, H down to 0 V."""


def _off(inputs: Inputs) -> Inputs:
    return dataclasses.replace(
        inputs, remote_lh_connected=False, remote_l_voltage_v=13.2, remote_h_voltage_v=0.0
    )


# --- REM-1: terminal states -----------------------------------------------------------------------


@pytest.mark.req("REM-1")
@pytest.mark.parametrize(
    ("inputs", "on"),
    [
        (_terminal(looped=True), True),
        (_terminal(looped=True, l_v=13.2, h_v=13.2), True),
        (_terminal(l_v=0.0), True),
        (_terminal(l_v=4.99), True),
        (_terminal(l_v=5.0), False),
        (_terminal(l_v=5.01), False),
        (_terminal(h_v=3.01), True),
        (_terminal(h_v=13.2), True),
        (_terminal(h_v=3.0), False),
        (_terminal(h_v=2.99), False),
        (_terminal(l_v=5.0, h_v=3.0), False),
        (_terminal(), False),
    ],
)
def test_rem1_terminal_states_to_the_volt(inputs: Inputs, on: bool) -> None:
    """REM-1: ON if L-H looped, V_L < 5 V (4.99 ON, 5.00 OFF) or V_H > 3 V (3.01 ON, 3.00 OFF);
    OFF otherwise (nothing connected)."""
    assert remote_terminal_on(inputs) is on
    assert controller().step(inputs, 0.0).outputs.system_on is on


@pytest.mark.req("REM-1")
def test_rem1_factory_wire_loop_is_on() -> None:
    """REM-1: the default inputs model the pre-installed wire loop: the system is ON."""
    assert IDLE.remote_lh_connected
    assert controller().step(IDLE, 0.0).outputs.system_on


@pytest.mark.req("REM-1")
def test_rem1_switching_events_carry_the_time_and_the_cause() -> None:
    """REM-1: pulling the plug switches off (event: remote_on False); replugging switches on."""
    ctrl = controller()
    ctrl.step(IDLE, 0.0)
    off = ctrl.step(OFF, 12.5)
    assert SystemSwitchedOff(12.5, remote_on=False, soft_switch_on=True) in off.events
    assert not off.outputs.system_on
    on = ctrl.step(IDLE, 20.0)
    assert SystemSwitchedOn(20.0) in on.events
    assert on.outputs.system_on


# --- REM-2: remote function -----------------------------------------------------------------------


@pytest.mark.req("REM-2", "ALT-7", "SP-4")
def test_rem2_alternator_and_system_plus_only_keeps_the_bms_working() -> None:
    """REM-2/ALT-7/SP-4, default function: OFF disables AB and System+ both ways; chain
    monitoring, Load/Charge disconnect and the pre-alarm stay active."""
    ctrl = controller()
    assert ctrl.settings.remote_function.value == AB_AND_SP
    ctrl.step(ALTERNATOR, 0.0)
    ctrl.step(ALTERNATOR, 1.0)
    off = ctrl.step(_off(ALTERNATOR), 2.0).outputs
    assert not off.system_on
    assert off.bms_active
    assert not off.ab_enabled
    assert not off.system_plus_charge_allowed
    assert not off.system_plus_discharge_allowed
    assert off.load_disconnect is Level.HIGH
    assert off.charge_disconnect is Level.HIGH
    assert off.leds.bms_active is LedMode.ON
    # The chain is still watched: ATC, pre-alarm and ATD all act while OFF.
    no_atc = ctrl.step(_off(dataclasses.replace(IDLE, allowed_to_charge=False)), 3.0).outputs
    assert no_atc.charge_disconnect is Level.FLOATING
    pre = ctrl.step(_off(dataclasses.replace(IDLE, chain_prealarm=True)), 4.0).outputs
    assert pre.prealarm is Level.HIGH
    assert Code.W_B12 in pre.codes
    no_atd = _off(dataclasses.replace(IDLE, chain_prealarm=True, allowed_to_discharge=False))
    assert ctrl.step(no_atd, 33.99).outputs.load_disconnect is Level.HIGH
    gone = ctrl.step(no_atd, 34.0).outputs
    assert gone.load_disconnect is Level.FLOATING
    assert Code.A_B11 in gone.codes
    broken = ctrl.step(_off(dataclasses.replace(IDLE, chain_connected=False)), 35.0).outputs
    assert Code.E_B32 in broken.codes


@pytest.mark.req("REM-2", "ALT-7", "SP-4")
def test_rem2_switch_everything_off_floats_every_output_and_stops_the_bms() -> None:
    """REM-2/ALT-7/SP-4, 'Switch everything off': OFF also floats Load/Charge disconnect and
    the pre-alarm; BMS functionality is disabled (no chain monitoring)."""
    ctrl = controller(remote_function=EVERYTHING)
    ctrl.step(ALTERNATOR, 0.0)
    on = ctrl.step(ALTERNATOR, 1.0).outputs
    assert on.ab_enabled
    assert on.bms_active
    alarm = _off(dataclasses.replace(ALTERNATOR, chain_prealarm=True))
    for _, result in step_range(ctrl, alarm, 2.0, 60.0, 1.0):
        out = result.outputs
        assert not out.system_on
        assert not out.bms_active
        assert not out.ab_enabled
        assert not out.system_plus_charge_allowed
        assert not out.system_plus_discharge_allowed
        assert out.load_disconnect is Level.FLOATING
        assert out.charge_disconnect is Level.FLOATING
        assert out.prealarm is Level.FLOATING
        assert not out.prealarm_alarm
        assert out.leds.bms_active is LedMode.OFF
        assert out.codes == frozenset()
    # Disabled BMS functionality: a broken chain is not even noticed.
    broken = _off(dataclasses.replace(IDLE, chain_connected=False))
    assert ctrl.step(broken, 61.0).outputs.codes == frozenset()


@pytest.mark.req("REM-2")
@pytest.mark.parametrize("function", [AB_AND_SP, EVERYTHING])
def test_rem2_on_again_restores_normal_operation(function: str) -> None:
    """REM-2: switching back ON restores outputs and ports (AB after its 1 s debounce)."""
    ctrl = controller(remote_function=function)
    ctrl.step(_off(ALTERNATOR), 0.0)
    on = ctrl.step(ALTERNATOR, 10.0).outputs
    assert on.system_on
    assert on.bms_active
    assert (on.load_disconnect, on.charge_disconnect) == (Level.HIGH, Level.HIGH)
    assert on.system_plus_charge_allowed
    assert on.system_plus_discharge_allowed
    assert not on.ab_enabled
    assert ctrl.step(ALTERNATOR, 11.0).outputs.ab_enabled


# --- REM-3: soft switch ---------------------------------------------------------------------------


@pytest.mark.req("REM-3", "CFG-1")
def test_rem3_system_on_only_while_remote_and_soft_switch_are_both_on() -> None:
    """REM-3/CFG-1: ON = remote terminal ON and soft switch ON; every other combination is OFF."""
    ctrl = controller()
    assert ctrl.step(IDLE, 0.0).outputs.system_on
    ctrl.change_settings({"soft_switch_on": False}, pin=PIN, now_s=1.0)
    soft_off = ctrl.step(IDLE, 1.0)
    assert not soft_off.outputs.system_on
    assert SystemSwitchedOff(1.0, remote_on=True, soft_switch_on=False) in soft_off.events
    assert not ctrl.step(OFF, 2.0).outputs.system_on  # both off
    ctrl.change_settings({"soft_switch_on": True}, pin=PIN, now_s=3.0)
    assert not ctrl.step(OFF, 3.0).outputs.system_on  # remote still off
    back = ctrl.step(IDLE, 4.0)
    assert back.outputs.system_on
    assert SystemSwitchedOn(4.0) in back.events


@pytest.mark.req("REM-3", "REM-2")
def test_rem3_soft_switch_off_with_everything_floats_the_outputs() -> None:
    """REM-3/REM-2: the soft switch acts like the terminal for 'Switch everything off'."""
    ctrl = controller(remote_function=EVERYTHING, soft_switch_on=False)
    out = ctrl.step(IDLE, 0.0).outputs
    assert not out.system_on
    assert not out.bms_active
    assert (out.load_disconnect, out.charge_disconnect) == (Level.FLOATING, Level.FLOATING)


# --- REM-4: OFF and ON never hide a protection ----------------------------------------------------


@pytest.mark.req("REM-4", "ALT-6", "SP-3", "OUT-3")
@pytest.mark.parametrize("function", [AB_AND_SP, EVERYTHING])
def test_rem4_withdrawn_atc_applies_at_the_on_step(function: str) -> None:
    """REM-4/ALT-6/SP-3/OUT-3: ATC withdrawn while OFF: at ON, AB stays off, System+ charge off,
    Charge
    disconnect floating, from the very first step."""
    ctrl = controller(remote_function=function)
    no_atc = dataclasses.replace(ALTERNATOR, allowed_to_charge=False)
    ctrl.step(_off(no_atc), 0.0)
    ctrl.step(_off(no_atc), 5.0)
    for _, result in step_range(ctrl, no_atc, 10.0, 20.0, 0.5):
        out = result.outputs
        assert out.system_on
        assert not out.ab_enabled
        assert not out.system_plus_charge_allowed
        assert out.system_plus_discharge_allowed
        assert out.charge_disconnect is Level.FLOATING


@pytest.mark.req("REM-4", "OUT-4", "SP-2")
def test_rem4_withdrawn_atd_applies_at_on_with_everything_off() -> None:
    """REM-4/OUT-4/SP-2: with 'Switch everything off', ATD withdrawn at ON disconnects at once
    (the loads
    were already off): Load disconnect floating, no System+ discharge, A-B11."""
    ctrl = controller(remote_function=EVERYTHING)
    ctrl.step(IDLE, 0.0)
    no_atd = dataclasses.replace(IDLE, allowed_to_discharge=False)
    ctrl.step(_off(no_atd), 1.0)
    on = ctrl.step(no_atd, 100.0)
    assert on.outputs.system_on
    assert on.outputs.load_disconnect is Level.FLOATING
    assert not on.outputs.system_plus_discharge_allowed
    assert on.outputs.system_plus_charge_allowed
    assert Code.A_B11 in on.outputs.codes


@pytest.mark.req("REM-4", "OUT-4")
def test_rem4_load_disconnect_survives_off_and_on_with_default_function() -> None:
    """REM-4/OUT-4: default function: a load disconnect that happened stays through OFF and ON."""
    ctrl = controller()
    ctrl.step(IDLE, 0.0)
    no_atd = dataclasses.replace(IDLE, allowed_to_discharge=False)
    ctrl.step(no_atd, 1.0)
    ctrl.step(no_atd, 31.0)
    ctrl.step(_off(no_atd), 40.0)
    on = ctrl.step(no_atd, 50.0).outputs
    assert on.load_disconnect is Level.FLOATING
    assert not on.system_plus_discharge_allowed
    assert Code.A_B11 in on.codes


@pytest.mark.req("REM-4", "OUT-4")
def test_rem4_off_and_on_does_not_restart_a_running_30s_countdown() -> None:
    """REM-4/OUT-4: default function: switching OFF/ON during the countdown does not buy 30 s
    more."""
    ctrl = controller()
    ctrl.step(IDLE, 0.0)
    no_atd = dataclasses.replace(IDLE, allowed_to_discharge=False)
    ctrl.step(no_atd, 10.0)
    ctrl.step(_off(no_atd), 20.0)
    on = ctrl.step(no_atd, 25.0)
    assert on.next_deadline_s == 40.0
    assert ctrl.step(no_atd, 39.99).outputs.load_disconnect is Level.HIGH
    assert ctrl.step(no_atd, 40.0).outputs.load_disconnect is Level.FLOATING


@pytest.mark.req("REM-4", "OUT-5")
def test_rem4_active_prealarm_returns_at_on_with_everything_off() -> None:
    """REM-4/OUT-5: a chain pre-alarm that is still on is raised again at the ON step."""
    ctrl = controller(remote_function=EVERYTHING)
    pre = dataclasses.replace(IDLE, chain_prealarm=True)
    ctrl.step(pre, 0.0)
    assert ctrl.step(_off(pre), 1.0).outputs.prealarm is Level.FLOATING
    on = ctrl.step(pre, 2.0).outputs
    assert on.prealarm is Level.HIGH
    assert Code.W_B12 in on.codes


@pytest.mark.req("REM-4", "ALT-8", "ERR-7")
def test_rem4_over_temperature_is_not_reset_by_off_and_on() -> None:
    """REM-4/ALT-8/ERR-7: A-B15 holds through OFF/ON: the AB port stays open while the BMS is
    above 70 °C."""
    ctrl = controller()
    hot = dataclasses.replace(ALTERNATOR, internal_temperature_c=85.0)
    warm = dataclasses.replace(ALTERNATOR, internal_temperature_c=80.0)
    ctrl.step(hot, 0.0)
    ctrl.step(_off(warm), 1.0)
    for _, result in step_range(ctrl, warm, 2.0, 10.0, 0.5):
        assert Code.A_B15 in result.outputs.codes
        assert not result.outputs.ab_enabled


@pytest.mark.req("REM-4", "ALT-5")
def test_rem4_charge_limit_latch_survives_off_and_on() -> None:
    """REM-4: the ALT-5 latch is not reset by OFF/ON; only the 10 s hold below 13.7 V is."""
    ctrl = controller()
    ctrl.step(ALTERNATOR, 0.0)
    full = dataclasses.replace(ALTERNATOR, bank_voltage_v=14.2)
    ctrl.step(full, 1.0)
    ctrl.step(_off(dataclasses.replace(full, bank_voltage_v=14.0)), 2.0)
    resting = dataclasses.replace(ALTERNATOR, bank_voltage_v=14.0)
    for _, result in step_range(ctrl, resting, 3.0, 30.0, 1.0):
        assert not result.outputs.ab_enabled


@pytest.mark.req("REM-4", "OUT-4")
def test_rem4_everything_off_during_the_countdown_disconnects_at_on() -> None:
    """REM-4/OUT-4: 'Switch everything off' during the 30 s lead floats the loads; at ON with
    ATD still withdrawn the protection applies at once (no new 30 s of load)."""
    ctrl = controller(remote_function=EVERYTHING)
    ctrl.step(IDLE, 0.0)
    no_atd = dataclasses.replace(IDLE, allowed_to_discharge=False)
    ctrl.step(no_atd, 10.0)
    off = ctrl.step(_off(no_atd), 15.0).outputs
    assert off.load_disconnect is Level.FLOATING
    on = ctrl.step(no_atd, 16.0)
    assert on.outputs.load_disconnect is Level.FLOATING
    assert not on.outputs.system_plus_discharge_allowed
    assert Code.A_B11 in on.outputs.codes


@pytest.mark.req("REM-4", "SP-5")
def test_rem4_a_short_still_there_after_off_and_on_trips_again_at_once() -> None:
    """REM-4/SP-5: off/on clears the A-A12 lock-out, but a short that is still there trips the
    port again at the first sample that shows it."""
    ctrl = controller()
    ctrl.step(IDLE, 0.0)
    shorted = dataclasses.replace(IDLE, system_plus_current_a=-900.0)
    for t in (1.0, 11.0, 21.0, 31.0):
        ctrl.step(shorted, t)
    ctrl.step(OFF, 40.0)
    on = ctrl.step(IDLE, 41.0)
    assert on.outputs.system_plus_discharge_allowed
    again = ctrl.step(shorted, 41.01)
    assert not again.outputs.system_plus_discharge_allowed
    assert Code.A_A12 in again.outputs.codes


@pytest.mark.req("REM-4", "OUT-4")
def test_rem4_power_up_with_atd_withdrawn_keeps_the_loads_off() -> None:
    """REM-4/OUT-4 (the controller's documented choice): a BMS that (re)starts with ATD already
    withdrawn had its loads off (outputs dead); they stay off: no fresh 30 s of load."""
    ctrl = controller()
    no_atd = dataclasses.replace(IDLE, allowed_to_discharge=False)
    first = ctrl.step(no_atd, 0.0)
    assert first.outputs.load_disconnect is Level.FLOATING
    assert not first.outputs.system_plus_discharge_allowed
    assert first.outputs.prealarm is Level.FLOATING
    assert Code.A_B11 in first.outputs.codes
    # The same after a power cycle of a running BMS.
    ctrl.step(IDLE, 10.0)
    ctrl.step(dataclasses.replace(IDLE, powered=False), 20.0)
    back = ctrl.step(no_atd, 30.0)
    assert back.outputs.load_disconnect is Level.FLOATING
    assert Code.A_B11 in back.outputs.codes


@pytest.mark.req("REM-4", "OUT-5")
def test_rem4_power_up_into_a_chain_prealarm_raises_it_at_once() -> None:
    """REM-4/OUT-5: a pre-alarm present at power-up is raised in the first step."""
    result = controller().step(dataclasses.replace(IDLE, chain_prealarm=True), 0.0)
    assert result.outputs.prealarm is Level.HIGH
    assert Code.W_B12 in result.outputs.codes


# --- PWR-1: own consumption -----------------------------------------------------------------------


def _supply(ctrl: Controller, inputs: Inputs) -> float:
    return ctrl.step(inputs, 0.0).outputs.supply_current_a


@pytest.mark.req("PWR-1")
@pytest.mark.parametrize("function", [AB_AND_SP, EVERYTHING])
def test_pwr1_17ma5_when_remote_on(function: str) -> None:
    """PWR-1: 17.5 mA with the remote ON, whatever the remote function."""
    assert _supply(controller(remote_function=function), IDLE) == 0.0175


@pytest.mark.req("PWR-1")
def test_pwr1_6ma5_when_off_with_bms_functions_active() -> None:
    """PWR-1: 6.5 mA when OFF with 'Alternator and System+ only' (BMS still active)."""
    assert _supply(controller(remote_function=AB_AND_SP), OFF) == 0.0065


@pytest.mark.req("PWR-1")
def test_pwr1_4ma5_when_off_with_bms_functions_disabled() -> None:
    """PWR-1: 4.5 mA when OFF with 'Switch everything off' (BMS functionality disabled)."""
    assert _supply(controller(remote_function=EVERYTHING), OFF) == 0.0045


@pytest.mark.req("PWR-1")
def test_pwr1_output_currents_come_on_top() -> None:
    """PWR-1: the supply figure excludes the outputs: a high pre-alarm or loaded outputs do not
    change it."""
    ctrl = controller()
    loaded = dataclasses.replace(IDLE, chain_prealarm=True, prealarm_output_current_a=0.9)
    assert _supply(ctrl, loaded) == 0.0175
