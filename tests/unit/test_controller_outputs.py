"""The controller's three plug outputs and the chain: SYS-2, SYS-3, OUT-3...OUT-9."""

import dataclasses

import pytest

from smartbms.core import NO_DEADLINE, Code, Controller, Inputs, Level, Outputs
from smartbms.core.events import (
    ChargeDisconnected,
    ChargeReconnected,
    CodeCleared,
    CodeRaised,
    LoadDisconnected,
    LoadReconnected,
    PreAlarmCause,
    PreAlarmCleared,
    PreAlarmOutputDamaged,
    PreAlarmRaised,
    SystemPlusChanged,
)
from smartbms.core.power_stage import prealarm_output
from tests.unit.helpers import (
    IDLE,
    PIN,
    controller,
    events_in,
    kinds,
    of_type,
    step_deadlines,
    step_range,
)

PRE = dataclasses.replace(IDLE, chain_prealarm=True)
"""The chain is in pre-alarm (some cell at 3.1 V); discharge still allowed."""
NO_ATD = dataclasses.replace(IDLE, allowed_to_discharge=False)
"""ATD withdrawn, no pre-alarm on the chain line."""
PRE_NO_ATD = dataclasses.replace(NO_ATD, chain_prealarm=True)
"""ATD withdrawn while the chain is in pre-alarm."""
NO_ATC = dataclasses.replace(IDLE, allowed_to_charge=False)


def _started(ctrl: Controller | None = None) -> Controller:
    """A controller that has seen a healthy chain at t = 0 (the alarm machine runs)."""
    ctrl = ctrl or controller()
    first = ctrl.step(IDLE, 0.0)
    assert first.events == ()
    assert first.outputs.load_disconnect is Level.HIGH
    assert first.outputs.charge_disconnect is Level.HIGH
    assert first.outputs.prealarm is Level.FLOATING
    return ctrl


def _levels(out: Outputs) -> tuple[Level, Level, Level]:
    return out.load_disconnect, out.charge_disconnect, out.prealarm


# --- SYS-2 / SYS-3 --------------------------------------------------------------------------------


@pytest.mark.req("SYS-2")
def test_sys2_the_controller_sees_and_drives_every_connection() -> None:
    """SYS-2: AB, Li+, System+, remote L/H, chain in; Load/Charge disconnect, pre-alarm out."""
    inputs = Inputs(
        bank_voltage_v=13.3,
        ab_voltage_v=14.1,
        system_plus_voltage_v=13.25,
        remote_lh_connected=False,
        remote_l_voltage_v=0.2,
        remote_h_voltage_v=0.0,
    )
    result = controller().step(inputs, 0.0)
    assert result.readings.bank_voltage_v == 13.3
    assert result.readings.ab_voltage_v == 14.1
    assert result.readings.system_plus_voltage_v == 13.25
    assert result.outputs.system_on  # L pulled to minus
    assert _levels(result.outputs) == (Level.HIGH, Level.HIGH, Level.FLOATING)
    names = {field.name for field in dataclasses.fields(Inputs)}
    assert {
        "bank_voltage_v",
        "ab_voltage_v",
        "system_plus_voltage_v",
        "remote_lh_connected",
        "remote_l_voltage_v",
        "remote_h_voltage_v",
        "chain_connected",
        "allowed_to_charge",
        "allowed_to_discharge",
        "chain_prealarm",
    } <= names


@pytest.mark.req("SYS-3", "OUT-3", "ALT-6", "SP-3")
def test_sys3_atc_line_withdrawn_stops_every_charge_path() -> None:
    """SYS-3/OUT-3/ALT-6/SP-3: the chain's ATC line: Charge disconnect floats, AB opens, System+
    stops charge."""
    ctrl = _started()
    charging = Inputs(ab_voltage_v=14.0)
    ctrl.step(charging, 1.0)
    assert ctrl.step(charging, 2.0).outputs.ab_enabled
    out = ctrl.step(dataclasses.replace(charging, allowed_to_charge=False), 3.0).outputs
    assert out.charge_disconnect is Level.FLOATING
    assert not out.ab_enabled
    assert not out.system_plus_charge_allowed
    assert out.system_plus_discharge_allowed
    assert out.load_disconnect is Level.HIGH


@pytest.mark.req("SYS-3", "OUT-4")
def test_sys3_atd_line_withdrawn_leads_to_load_disconnect() -> None:
    """SYS-3/OUT-4: the chain's ATD line drives the pre-alarm and, 30 s later, the load
    disconnect."""
    ctrl = _started()
    run = step_deadlines(ctrl, NO_ATD, 1.0, 1000.0)
    assert [t for t, _ in run] == [1.0, 31.0]
    assert run[-1][1].outputs.load_disconnect is Level.FLOATING
    assert run[-1][1].outputs.charge_disconnect is Level.HIGH


@pytest.mark.req("SYS-3", "OUT-5")
def test_sys3_prealarm_line_drives_the_prealarm_output() -> None:
    """SYS-3/OUT-5: the chain's pre-alarm line raises the pre-alarm output; nothing else changes."""
    ctrl = _started()
    out = ctrl.step(PRE, 1.0).outputs
    assert _levels(out) == (Level.HIGH, Level.HIGH, Level.HIGH)
    assert out.system_plus_discharge_allowed
    assert ctrl.step(IDLE, 2.0).outputs.prealarm is Level.FLOATING


@pytest.mark.req("SYS-3", "ERR-3")
def test_sys3_broken_chain_is_e_b32() -> None:
    """SYS-3/ERR-3: the chain is a loop through every battery: an open loop is E-B32."""
    ctrl = _started()
    out = ctrl.step(dataclasses.replace(IDLE, chain_connected=False), 1.0).outputs
    assert Code.E_B32 in out.codes
    assert out.safe_state


# --- OUT-3: Charge disconnect ---------------------------------------------------------------------


@pytest.mark.req("OUT-3")
def test_out3_charge_disconnect_floats_while_atc_withdrawn_and_returns() -> None:
    """OUT-3: free floating at once while ATC is withdrawn; high again when ATC returns."""
    ctrl = _started()
    cut = ctrl.step(NO_ATC, 5.0)
    assert cut.outputs.charge_disconnect is Level.FLOATING
    assert ChargeDisconnected(5.0) in cut.events
    for _, result in step_range(ctrl, NO_ATC, 5.0, 100.0, 5.0):
        assert result.outputs.charge_disconnect is Level.FLOATING
        assert result.outputs.load_disconnect is Level.HIGH
    back = ctrl.step(IDLE, 101.0)
    assert back.outputs.charge_disconnect is Level.HIGH
    assert ChargeReconnected(101.0) in back.events


# --- OUT-4 / OUT-7: load disconnect never earlier than 30 s after the pre-alarm -------------------


@pytest.mark.req("OUT-4", "OUT-7", "SP-2", "ERR-6", "ERR-8")
def test_out4_chain_prealarm_first_then_atd_at_5s_disconnects_30s_after_the_prealarm() -> None:
    """OUT-4/OUT-7/SP-2/ERR-6/ERR-8: pre-alarm at 10 s, ATD gone at 15 s: still high at 39.99 s,
    floating at 40.0 s."""
    ctrl = _started()
    raised = ctrl.step(PRE, 10.0)
    assert raised.outputs.prealarm is Level.HIGH
    assert raised.next_deadline_s == NO_DEADLINE
    assert raised.events == (
        CodeRaised(10.0, Code.W_B12),
        PreAlarmRaised(10.0, PreAlarmCause.CHAIN),
    )
    atd_gone = ctrl.step(PRE_NO_ATD, 15.0)
    assert atd_gone.events == ()
    assert atd_gone.next_deadline_s == 40.0
    for t in (20.0, 39.0, 39.99):
        waiting = ctrl.step(PRE_NO_ATD, t)
        assert _levels(waiting.outputs) == (Level.HIGH, Level.HIGH, Level.HIGH), t
        assert waiting.outputs.system_plus_discharge_allowed, t
        assert waiting.next_deadline_s == 40.0
    done = ctrl.step(PRE_NO_ATD, 40.0)
    assert _levels(done.outputs) == (Level.FLOATING, Level.HIGH, Level.FLOATING)
    assert done.outputs.codes == frozenset({Code.A_B11})
    assert not done.outputs.system_plus_discharge_allowed  # SP-2: the same instant
    assert done.outputs.system_plus_charge_allowed
    assert done.events == (
        CodeRaised(40.0, Code.A_B11),
        CodeCleared(40.0, Code.W_B12),
        LoadDisconnected(40.0),
        PreAlarmCleared(40.0),
        SystemPlusChanged(40.0, charge_allowed=True, discharge_allowed=False),
    )
    assert done.next_deadline_s == NO_DEADLINE


@pytest.mark.req("OUT-4")
def test_out4_stepping_at_the_deadline_fires_the_disconnect() -> None:
    """OUT-4: the 30 s lead end is next_deadline_s; stepping there disconnects."""
    ctrl = _started()
    ctrl.step(PRE, 10.0)
    run = step_deadlines(ctrl, PRE_NO_ATD, 15.0, 1000.0)
    assert [t for t, _ in run] == [15.0, 40.0]
    assert of_type(events_in(run), LoadDisconnected) == [LoadDisconnected(40.0)]


@pytest.mark.req("OUT-4", "SP-2")
def test_out4_atd_dropping_100s_after_the_prealarm_disconnects_at_once() -> None:
    """OUT-4/SP-2: the pre-alarm has led by more than 30 s already: disconnect in the same step."""
    ctrl = _started()
    ctrl.step(PRE, 10.0)
    for _, result in step_range(ctrl, PRE, 10.0, 110.0, 10.0):
        assert result.outputs.load_disconnect is Level.HIGH
    done = ctrl.step(PRE_NO_ATD, 110.0)
    assert done.outputs.load_disconnect is Level.FLOATING
    assert not done.outputs.system_plus_discharge_allowed
    assert LoadDisconnected(110.0) in done.events
    assert done.outputs.prealarm is Level.FLOATING


@pytest.mark.req("OUT-4", "OUT-5", "ERR-8")
def test_out4_atd_without_prealarm_raises_it_then_disconnects_30s_later() -> None:
    """OUT-4/OUT-5/ERR-8: ATD withdrawn with no preceding pre-alarm: pre-alarm high now,
    disconnect at +30 s."""
    ctrl = _started()
    first = ctrl.step(NO_ATD, 10.0)
    assert _levels(first.outputs) == (Level.HIGH, Level.HIGH, Level.HIGH)
    assert first.outputs.prealarm_alarm
    assert first.outputs.system_plus_discharge_allowed
    assert first.events == (
        CodeRaised(10.0, Code.W_B12),
        PreAlarmRaised(10.0, PreAlarmCause.UNDER_VOLTAGE),
    )
    assert first.next_deadline_s == 40.0
    still = ctrl.step(NO_ATD, 39.99)
    assert still.outputs.load_disconnect is Level.HIGH
    assert still.outputs.prealarm is Level.HIGH
    done = ctrl.step(NO_ATD, 40.0)
    assert _levels(done.outputs) == (Level.FLOATING, Level.HIGH, Level.FLOATING)
    assert LoadDisconnected(40.0) in done.events
    assert PreAlarmCleared(40.0) in done.events


@pytest.mark.req("OUT-4")
def test_out4_a_prealarm_that_cleared_does_not_count_as_lead() -> None:
    """OUT-4: the 30 s count from the pre-alarm that is *on* when ATD goes, not an old one."""
    ctrl = _started()
    ctrl.step(PRE, 0.0)
    ctrl.step(IDLE, 50.0)  # the chain recovered
    fresh = ctrl.step(NO_ATD, 100.0)
    assert fresh.outputs.load_disconnect is Level.HIGH
    assert fresh.next_deadline_s == 130.0


@pytest.mark.req("OUT-4", "OUT-5")
def test_out4_countdown_continues_when_the_chain_prealarm_clears_meanwhile() -> None:
    """OUT-5: the pre-alarm stays high while OUT-4's countdown runs, whatever the chain line."""
    ctrl = _started()
    ctrl.step(PRE, 10.0)
    ctrl.step(PRE_NO_ATD, 15.0)
    mid = ctrl.step(NO_ATD, 20.0)
    assert mid.outputs.prealarm is Level.HIGH
    assert mid.next_deadline_s == 40.0
    assert ctrl.step(NO_ATD, 40.0).outputs.load_disconnect is Level.FLOATING


@pytest.mark.req("OUT-4", "OUT-8")
def test_out4_atd_returning_during_the_countdown_cancels_it() -> None:
    """OUT-4/OUT-8: ATD back before the 30 s are up: no disconnect; the pre-alarm clears."""
    ctrl = _started()
    ctrl.step(NO_ATD, 10.0)
    back = ctrl.step(IDLE, 25.0)
    assert _levels(back.outputs) == (Level.HIGH, Level.HIGH, Level.FLOATING)
    assert back.next_deadline_s == NO_DEADLINE
    assert PreAlarmCleared(25.0) in back.events
    later = step_range(ctrl, IDLE, 25.0, 100.0, 5.0)
    assert of_type(events_in(later), LoadDisconnected) == []


@pytest.mark.req("OUT-7")
@pytest.mark.parametrize("chain_prealarm", [True, False])
def test_out7_prealarm_floats_after_load_disconnect_and_stays_floating(
    chain_prealarm: bool,
) -> None:
    """OUT-7: after load disconnect the pre-alarm stays floating (it must not drain the bank),
    even while the chain is still in pre-alarm."""
    ctrl = _started()
    inputs = dataclasses.replace(NO_ATD, chain_prealarm=chain_prealarm)
    ctrl.step(dataclasses.replace(IDLE, chain_prealarm=chain_prealarm), 1.0)
    ctrl.step(inputs, 2.0)
    for _, result in step_range(ctrl, inputs, 40.0, 3600.0, 60.0):
        assert result.outputs.load_disconnect is Level.FLOATING
        assert result.outputs.prealarm is Level.FLOATING
        assert not result.outputs.prealarm_alarm
        assert Code.W_B12 not in result.outputs.codes
        assert Code.A_B11 in result.outputs.codes


# --- OUT-5: the pre-alarm output ------------------------------------------------------------------


@pytest.mark.req("OUT-5")
def test_out5_prealarm_is_floating_normally_and_bank_voltage_when_high() -> None:
    """OUT-5: normally floating (0 V on the load); high = V_bank while the chain is in pre-alarm."""
    ctrl = _started()
    idle = ctrl.step(IDLE, 1.0).outputs
    assert idle.prealarm is Level.FLOATING
    assert prealarm_output(idle.prealarm, 13.2) == 0.0
    alarm = ctrl.step(dataclasses.replace(PRE, bank_voltage_v=12.4), 2.0).outputs
    assert alarm.prealarm is Level.HIGH
    assert prealarm_output(alarm.prealarm, 12.4) == 12.4


@pytest.mark.req("OUT-5")
def test_out5_exactly_1a_is_fine() -> None:
    """OUT-5: up to 1 A (inclusive) the pre-alarm output drives its load."""
    ctrl = _started()
    loaded = dataclasses.replace(PRE, prealarm_output_current_a=1.0)
    for _, result in step_range(ctrl, loaded, 1.0, 60.0, 1.0):
        assert result.outputs.prealarm is Level.HIGH
        assert of_type(result.events, PreAlarmOutputDamaged) == []


@pytest.mark.req("OUT-5", "ERR-8")
def test_out5_more_than_1a_damages_the_prealarm_output_for_good() -> None:
    """OUT-5/ERR-8: >1 A: the output is damaged, floats from then on (every later alarm), event
    logged."""
    ctrl = _started()
    ctrl.step(PRE, 1.0)
    damaged = ctrl.step(dataclasses.replace(PRE, prealarm_output_current_a=1.01), 2.0)
    assert damaged.outputs.prealarm is Level.FLOATING
    assert damaged.outputs.prealarm_alarm  # the alarm itself is still raised ...
    assert Code.W_B12 in damaged.outputs.codes  # ... and shown in the app
    assert PreAlarmOutputDamaged(2.0, 1.01) in damaged.events
    for _, result in step_range(ctrl, PRE, 3.0, 10.0, 1.0):
        assert result.outputs.prealarm is Level.FLOATING
    ctrl.step(IDLE, 11.0)
    again = ctrl.step(PRE, 12.0)
    assert again.outputs.prealarm is Level.FLOATING
    assert of_type(again.events, PreAlarmOutputDamaged) == []
    # The load disconnect and its 30 s lead are not affected by the broken output.
    ctrl.step(PRE_NO_ATD, 13.0)
    assert ctrl.step(PRE_NO_ATD, 41.99).outputs.load_disconnect is Level.HIGH
    assert ctrl.step(PRE_NO_ATD, 42.0).outputs.load_disconnect is Level.FLOATING


# --- OUT-6: intermittent pre-alarm ----------------------------------------------------------------


@pytest.mark.req("OUT-6")
def test_out6_continuous_mode_is_steady_high_with_no_deadline() -> None:
    """OUT-6: continuous: steady high, no timer needed."""
    ctrl = _started()
    for _, result in step_range(ctrl, PRE, 1.0, 10.0, 0.25):
        assert result.outputs.prealarm is Level.HIGH
        assert result.next_deadline_s == NO_DEADLINE


@pytest.mark.req("OUT-6")
def test_out6_intermittent_is_1s_high_1s_floating_with_edges_as_deadlines() -> None:
    """OUT-6: intermittent: high 1 s, floating 1 s, repeating; each edge is next_deadline_s."""
    ctrl = _started(controller(prealarm_mode="intermittent"))
    start = ctrl.step(PRE, 3.3)
    assert start.outputs.prealarm is Level.HIGH
    assert start.next_deadline_s == pytest.approx(4.3)
    samples = {
        3.8: (Level.HIGH, 4.3),
        4.29: (Level.HIGH, 4.3),
        4.3: (Level.FLOATING, 5.3),
        4.8: (Level.FLOATING, 5.3),
        5.3: (Level.HIGH, 6.3),
        6.3: (Level.FLOATING, 7.3),
        7.29: (Level.FLOATING, 7.3),
        7.3: (Level.HIGH, 8.3),
    }
    for t, (level, edge_s) in samples.items():
        result = ctrl.step(PRE, t)
        assert result.outputs.prealarm is level, t
        assert result.outputs.prealarm_alarm, t
        assert result.next_deadline_s == pytest.approx(edge_s), t
        assert result.events == (), t  # the blink is not an alarm change


@pytest.mark.req("OUT-6")
def test_out6_stepping_at_the_deadlines_alternates_every_second() -> None:
    """OUT-6: driven by next_deadline_s only, the output alternates on whole seconds."""
    ctrl = _started(controller(prealarm_mode="intermittent"))
    run = step_deadlines(ctrl, PRE, 10.0, 20.0)
    assert [t for t, _ in run] == pytest.approx([float(t) for t in range(10, 21)])
    levels = [result.outputs.prealarm for _, result in run]
    assert levels == [Level.HIGH, Level.FLOATING] * 5 + [Level.HIGH]


@pytest.mark.req("OUT-6", "OUT-4")
def test_out6_intermittent_prealarm_keeps_the_30s_lead() -> None:
    """OUT-6/OUT-4: blinking or not, the disconnect comes 30 s after the pre-alarm first rose."""
    ctrl = _started(controller(prealarm_mode="intermittent"))
    ctrl.step(PRE, 10.0)
    run = step_deadlines(ctrl, PRE_NO_ATD, 15.0, 1000.0)
    assert run[-1][0] == 40.0
    assert of_type(events_in(run), LoadDisconnected) == [LoadDisconnected(40.0)]
    assert all(result.outputs.load_disconnect is Level.HIGH for t, result in run if t < 40.0)
    assert run[-1][1].outputs.prealarm is Level.FLOATING
    assert run[-1][1].next_deadline_s == NO_DEADLINE


@pytest.mark.req("OUT-6", "CFG-1")
def test_out6_switching_mode_applies_at_the_next_step() -> None:
    """OUT-6/CFG-1: the pre-alarm mode setting takes effect on a running alarm."""
    ctrl = _started()
    ctrl.step(PRE, 1.0)
    ctrl.change_settings({"prealarm_mode": "intermittent"}, pin=PIN, now_s=2.5)
    assert ctrl.step(PRE, 2.5).outputs.prealarm is Level.FLOATING  # 1.5 s into the cycle
    ctrl.change_settings({"prealarm_mode": "continuous"}, pin=PIN, now_s=2.6)
    assert ctrl.step(PRE, 2.6).outputs.prealarm is Level.HIGH


# --- OUT-8: recovery ------------------------------------------------------------------------------


@pytest.mark.req("OUT-8", "SP-2", "ERR-6")
def test_out8_load_reconnects_and_discharge_returns_when_atd_returns() -> None:
    """OUT-8/SP-2/ERR-6: after charging, ATD returns: Load disconnect high, System+ discharge
    allowed."""
    ctrl = _started()
    ctrl.step(NO_ATD, 10.0)
    ctrl.step(NO_ATD, 40.0)
    back = ctrl.step(IDLE, 500.0)
    out = back.outputs
    assert _levels(out) == (Level.HIGH, Level.HIGH, Level.FLOATING)
    assert out.system_plus_discharge_allowed
    assert Code.A_B11 not in out.codes
    assert back.events == (
        CodeCleared(500.0, Code.A_B11),
        LoadReconnected(500.0),
        SystemPlusChanged(500.0, charge_allowed=True, discharge_allowed=True),
    )


@pytest.mark.req("OUT-8", "OUT-5")
def test_out8_prealarm_clears_only_when_the_chain_prealarm_clears() -> None:
    """OUT-8/OUT-5: ATD back, chain still in pre-alarm: the pre-alarm stays on until the chain
    clears."""
    ctrl = _started()
    ctrl.step(PRE, 10.0)
    ctrl.step(PRE_NO_ATD, 20.0)
    ctrl.step(PRE_NO_ATD, 40.0)
    back = ctrl.step(PRE, 500.0)
    assert back.outputs.load_disconnect is Level.HIGH
    assert back.outputs.prealarm is Level.HIGH
    assert Code.W_B12 in back.outputs.codes
    for _, result in step_range(ctrl, PRE, 500.0, 600.0, 10.0):
        assert result.outputs.prealarm is Level.HIGH
    cleared = ctrl.step(IDLE, 601.0)
    assert cleared.outputs.prealarm is Level.FLOATING
    assert cleared.events == (CodeCleared(601.0, Code.W_B12), PreAlarmCleared(601.0))


# --- OUT-9: pre-alarm usage -----------------------------------------------------------------------


@pytest.mark.req("OUT-9")
def test_out9_not_available_ignores_the_chain_prealarm_line() -> None:
    """OUT-9: 'pre-alarm not available': the chain's line does nothing."""
    ctrl = _started(controller(prealarm_usage="pre-alarm not available"))
    run = step_range(ctrl, PRE, 1.0, 100.0, 1.0)
    for _, result in run:
        assert result.outputs.prealarm is Level.FLOATING
        assert not result.outputs.prealarm_alarm
        assert result.outputs.codes == frozenset()
    assert events_in(run) == []


@pytest.mark.req("OUT-9", "OUT-4")
def test_out9_not_available_uses_only_the_atd_triggered_prealarm() -> None:
    """OUT-9/OUT-4: with 'not available' the pre-alarm rises when ATD goes; disconnect 30 s later,
    however long the (ignored) chain line had been in pre-alarm."""
    ctrl = _started(controller(prealarm_usage="pre-alarm not available"))
    ctrl.step(PRE, 1.0)
    first = ctrl.step(PRE_NO_ATD, 200.0)
    assert first.outputs.prealarm is Level.HIGH
    assert first.outputs.load_disconnect is Level.HIGH
    assert PreAlarmRaised(200.0, PreAlarmCause.UNDER_VOLTAGE) in first.events
    assert first.next_deadline_s == 230.0
    assert ctrl.step(PRE_NO_ATD, 229.99).outputs.load_disconnect is Level.HIGH
    assert ctrl.step(PRE_NO_ATD, 230.0).outputs.load_disconnect is Level.FLOATING


@pytest.mark.req("OUT-9", "ERR-3", "SAFE")
def test_out9_use_prealarm_with_batteries_without_it_is_e_b32() -> None:
    """OUT-9/ERR-3/SAFE: 'use pre-alarm' on a chain whose batteries lack it: E-B32 and the safe
    state."""
    ctrl = _started()
    unsupported = dataclasses.replace(IDLE, chain_supports_prealarm=False)
    result = ctrl.step(unsupported, 1.0)
    assert result.outputs.codes == frozenset({Code.E_B32})
    assert result.outputs.safe_state
    assert CodeRaised(1.0, Code.E_B32) in result.events
    assert "pre-alarm" in Code.E_B32.info.cause


@pytest.mark.req("OUT-9", "ERR-3")
def test_out9_setting_not_available_clears_that_e_b32() -> None:
    """OUT-9/ERR-3: E-B32 clears once the setting fits the batteries."""
    ctrl = _started()
    unsupported = dataclasses.replace(IDLE, chain_supports_prealarm=False)
    ctrl.step(unsupported, 1.0)
    ctrl.change_settings({"prealarm_usage": "pre-alarm not available"}, pin=PIN, now_s=2.0)
    fixed = ctrl.step(unsupported, 2.0)
    assert fixed.outputs.codes == frozenset()
    assert not fixed.outputs.safe_state
    assert CodeCleared(2.0, Code.E_B32) in fixed.events
    assert _levels(fixed.outputs) == (Level.HIGH, Level.HIGH, Level.FLOATING)


@pytest.mark.req("OUT-9")
def test_out9_not_available_with_batteries_without_prealarm_is_fine() -> None:
    """OUT-9: 'not available' + batteries without the feature: no code at all."""
    ctrl = _started(controller(prealarm_usage="pre-alarm not available"))
    unsupported = dataclasses.replace(IDLE, chain_supports_prealarm=False)
    result = ctrl.step(unsupported, 1.0)
    assert result.outputs.codes == frozenset()
    assert kinds(result.events) == []
