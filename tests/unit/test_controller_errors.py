"""Codes and the safe state: ERR-1...ERR-9 and SAFE."""

import dataclasses

import pytest

from smartbms.core import (
    NO_DEADLINE,
    Code,
    Controller,
    FuseType,
    Inputs,
    LedMode,
    Level,
    Outputs,
    Settings,
    StepResult,
)
from smartbms.core.events import (
    AlternatorInputEnabled,
    CodeCleared,
    CodeRaised,
    FactoryResetDone,
    PowerLost,
    PowerRestored,
    SafeStateEntered,
    SafeStateLeft,
)
from tests.unit.helpers import ALTERNATOR, IDLE, PIN, controller, events_in, of_type, step_range

UNPOWERED = dataclasses.replace(IDLE, powered=False)

BUSY = Inputs(
    ab_voltage_v=14.4,
    chain_prealarm=True,
    alternator_fuse_drop_v=0.03,
    app_connected=True,
)
"""Everything that would normally make the BMS drive something: alternator, pre-alarm, app."""


def _assert_safe(out: Outputs, code: Code) -> None:
    """SAFE: AB off, System+ off both ways, outputs floating, error LED pattern, code shown."""
    assert out.safe_state
    assert code in out.codes
    assert not out.ab_enabled
    assert out.ab_fuse_drop_setpoint_v == 0.0
    assert not out.system_plus_charge_allowed
    assert not out.system_plus_discharge_allowed
    assert out.load_disconnect is Level.FLOATING
    assert out.charge_disconnect is Level.FLOATING
    assert out.prealarm is Level.FLOATING
    assert not out.prealarm_alarm
    assert out.leds.bms_active is LedMode.BLINK  # the error pattern
    assert out.leds.alternator_charging is LedMode.OFF
    assert out.leds.charge_disconnect is LedMode.OFF
    assert out.leds.load_disconnect is LedMode.OFF
    assert out.leds.system_plus_charging is LedMode.OFF


def _assert_normal(out: Outputs) -> None:
    assert not out.safe_state
    assert out.load_disconnect is Level.HIGH
    assert out.charge_disconnect is Level.HIGH
    assert out.system_plus_charge_allowed
    assert out.system_plus_discharge_allowed
    assert out.leds.bms_active is LedMode.ON


def _run_safe(ctrl: Controller, inputs: Inputs, code: Code) -> list[tuple[float, StepResult]]:
    run = step_range(ctrl, inputs, 0.0, 20.0, 0.5)
    for _, result in run:
        _assert_safe(result.outputs, code)
        # The app still connects and shows the code with its remedy (blue LED steady).
        assert result.outputs.leds.bluetooth is LedMode.ON
        assert result.readings.bank_voltage_v == inputs.bank_voltage_v
    assert of_type(events_in(run), AlternatorInputEnabled) == []
    return run


# --- E-codes: the safe state ----------------------------------------------------------------------


@pytest.mark.req("ERR-1", "SAFE", "ERR-9")
def test_err1_e_b30_calibration_failure_holds_the_safe_state() -> None:
    """ERR-1/SAFE/ERR-9: calibration data corrupt -> E-B30 and SAFE, with its App. B text."""
    run = _run_safe(controller(), dataclasses.replace(BUSY, calibration_ok=False), Code.E_B30)
    assert run[0][1].events[:2] == (SafeStateEntered(0.0), CodeRaised(0.0, Code.E_B30))
    assert "calibration" in Code.E_B30.info.cause
    assert "replaced" in Code.E_B30.info.remedy[0]


@pytest.mark.req("ERR-4", "SAFE", "ERR-9")
def test_err4_e_b33_reference_failure_holds_the_safe_state() -> None:
    """ERR-4/SAFE/ERR-9: reference voltage failure -> E-B33 and SAFE, with its App. B text."""
    run = _run_safe(controller(), dataclasses.replace(BUSY, reference_ok=False), Code.E_B33)
    assert run[0][1].events[:2] == (SafeStateEntered(0.0), CodeRaised(0.0, Code.E_B33))
    assert "reference voltage" in Code.E_B33.info.cause
    assert "replaced" in Code.E_B33.info.remedy[0]


@pytest.mark.req("ERR-3", "SAFE", "ERR-9")
def test_err3_e_b32_cable_missing_holds_the_safe_state_and_clears_when_whole() -> None:
    """ERR-3/SAFE/ERR-9: BMS cable unplugged -> E-B32 and SAFE while it lasts; normal once
    replugged."""
    ctrl = controller()
    ctrl.step(IDLE, 0.0)
    broken = dataclasses.replace(BUSY, chain_connected=False)
    entered = ctrl.step(broken, 1.0)
    assert entered.events[:2] == (SafeStateEntered(1.0), CodeRaised(1.0, Code.E_B32))
    for _, result in step_range(ctrl, broken, 1.0, 30.0, 0.5):
        _assert_safe(result.outputs, Code.E_B32)
    whole = ctrl.step(IDLE, 31.0)
    _assert_normal(whole.outputs)
    assert whole.outputs.codes == frozenset()
    assert whole.events[:2] == (SafeStateLeft(31.0), CodeCleared(31.0, Code.E_B32))
    assert "M8" in Code.E_B32.info.cause
    assert any("BMS cables" in step for step in Code.E_B32.info.remedy)


@pytest.mark.req("ERR-2", "SAFE", "ERR-9")
def test_err2_e_b31_from_a_corrupt_store_holds_the_safe_state_on_factory_settings() -> None:
    """ERR-2/SAFE/ERR-9: Controller(config_valid=False): E-B31, SAFE, running on factory
    settings."""
    stored = Settings(fuse_type=FuseType.MEGA_125A, charge_limit_v=13.5, pin="123456")
    ctrl = Controller(stored, config_valid=False)
    assert ctrl.config_fault
    assert ctrl.settings == Settings.factory()
    _run_safe(ctrl, BUSY, Code.E_B31)
    assert "Reset to factory defaults" in Code.E_B31.info.remedy[0]
    assert "3 minutes" in Code.E_B31.info.remedy[1]


@pytest.mark.req("ERR-2", "SAFE")
def test_err2_mark_config_corrupted_latches_e_b31_from_the_next_step() -> None:
    """ERR-2: the store reports corruption while running: E-B31 and SAFE at the next step."""
    ctrl = controller()
    _assert_normal(ctrl.step(IDLE, 0.0).outputs)
    ctrl.mark_config_corrupted()
    assert ctrl.config_fault
    result = ctrl.step(IDLE, 1.0)
    _assert_safe(result.outputs, Code.E_B31)
    assert result.events[:2] == (SafeStateEntered(1.0), CodeRaised(1.0, Code.E_B31))


def _reset_and_unpower(off_s: float) -> tuple[Controller, StepResult]:
    """E-B31, factory reset at 10 s, power lost at 20 s and back after `off_s`."""
    ctrl = Controller(config_valid=False)
    ctrl.step(IDLE, 0.0)
    assert ctrl.factory_reset(pin=PIN, now_s=10.0) == (FactoryResetDone(10.0),)
    after_reset = ctrl.step(IDLE, 10.0)
    _assert_safe(after_reset.outputs, Code.E_B31)  # a reset alone is not enough
    lost = ctrl.step(UNPOWERED, 20.0)
    assert PowerLost(20.0) in lost.events
    return ctrl, ctrl.step(IDLE, 20.0 + off_s)


@pytest.mark.req("ERR-2")
def test_err2_reset_then_179s99_unpowered_is_not_enough() -> None:
    """ERR-2: factory reset, then 2 min 59.99 s without power: still E-B31."""
    ctrl, back = _reset_and_unpower(179.99)
    restored = of_type(back.events, PowerRestored)
    assert len(restored) == 1
    assert restored[0].off_s == pytest.approx(179.99)
    _assert_safe(back.outputs, Code.E_B31)
    assert ctrl.config_fault


@pytest.mark.req("ERR-2")
def test_err2_reset_then_3_minutes_unpowered_clears_e_b31() -> None:
    """ERR-2: factory reset, then exactly 180 s without power: E-B31 cleared, normal operation."""
    ctrl, back = _reset_and_unpower(180.0)
    assert not ctrl.config_fault
    assert Code.E_B31 not in back.outputs.codes
    _assert_normal(back.outputs)


@pytest.mark.req("ERR-2")
def test_err2_unpowered_without_a_reset_does_not_clear_e_b31() -> None:
    """ERR-2: 10 minutes without power but no factory reset: E-B31 stays."""
    ctrl = Controller(config_valid=False)
    ctrl.step(IDLE, 0.0)
    ctrl.step(UNPOWERED, 10.0)
    back = ctrl.step(IDLE, 610.0)
    _assert_safe(back.outputs, Code.E_B31)


@pytest.mark.req("ERR-2")
def test_err2_outage_must_follow_the_reset() -> None:
    """ERR-2 (order of App. B: reset, then unpower): an outage before the reset does not count;
    a later 3 minute outage does."""
    ctrl = Controller(config_valid=False)
    ctrl.step(IDLE, 0.0)
    ctrl.step(UNPOWERED, 10.0)
    ctrl.step(IDLE, 400.0)
    ctrl.factory_reset(pin=PIN, now_s=410.0)
    _assert_safe(ctrl.step(IDLE, 410.0).outputs, Code.E_B31)
    ctrl.step(UNPOWERED, 420.0)
    ctrl.step(IDLE, 500.0)  # 80 s: too short
    assert ctrl.config_fault
    ctrl.step(UNPOWERED, 510.0)
    _assert_normal(ctrl.step(IDLE, 690.0).outputs)  # 180 s after the reset: done
    assert not ctrl.config_fault


@pytest.mark.req("SAFE")
def test_safe_unpowered_bms_drives_nothing() -> None:
    """SAFE: without supply every output is dead and no timer runs."""
    ctrl = controller()
    ctrl.step(BUSY, 0.0)
    result = ctrl.step(dataclasses.replace(BUSY, powered=False), 1.0)
    out = result.outputs
    assert not out.ab_enabled
    assert not out.system_plus_charge_allowed
    assert not out.system_plus_discharge_allowed
    assert (out.load_disconnect, out.charge_disconnect, out.prealarm) == (Level.FLOATING,) * 3
    assert out.supply_current_a == 0.0
    assert result.next_deadline_s == NO_DEADLINE


@pytest.mark.req("SAFE", "ERR-3")
def test_safe_overrides_withdrawn_lines_and_alarms() -> None:
    """SAFE/ERR-3: in the safe state there is no pre-alarm and no A-B11, whatever the chain says."""
    ctrl = controller()
    ctrl.step(IDLE, 0.0)
    inputs = dataclasses.replace(
        BUSY, chain_connected=False, allowed_to_discharge=False, allowed_to_charge=False
    )
    for _, result in step_range(ctrl, inputs, 1.0, 100.0, 1.0):
        assert result.outputs.codes == frozenset({Code.E_B32})
        assert result.next_deadline_s == NO_DEADLINE


# --- Alarms and the warning -----------------------------------------------------------------------


@pytest.mark.req("ERR-5")
def test_err5_a_a12_is_raised_by_a_system_plus_short_and_is_not_safe_state() -> None:
    """ERR-5: A-A12 on a System+ short; an alarm, not the safe state: outputs stay high."""
    ctrl = controller()
    ctrl.step(IDLE, 0.0)
    out = ctrl.step(dataclasses.replace(IDLE, system_plus_current_a=-800.0), 1.0).outputs
    assert Code.A_A12 in out.codes
    assert not out.safe_state
    assert out.load_disconnect is Level.HIGH
    assert out.charge_disconnect is Level.HIGH
    assert "200 A continuous" in " ".join(Code.A_A12.info.remedy)


@pytest.mark.req("ERR-6")
def test_err6_a_b11_only_once_load_disconnect_has_happened() -> None:
    """ERR-6: A-B11 = ATD withdrawn *and* load disconnect done (not during the 30 s lead)."""
    ctrl = controller()
    ctrl.step(IDLE, 0.0)
    no_atd = dataclasses.replace(IDLE, allowed_to_discharge=False)
    lead = ctrl.step(no_atd, 1.0)
    assert Code.A_B11 not in lead.outputs.codes
    assert Code.A_B11 not in ctrl.step(no_atd, 30.99).outputs.codes
    done = ctrl.step(no_atd, 31.0)
    assert Code.A_B11 in done.outputs.codes
    assert CodeRaised(31.0, Code.A_B11) in done.events
    assert "does not allow discharge" in Code.A_B11.info.cause
    back = ctrl.step(IDLE, 100.0)
    assert CodeCleared(100.0, Code.A_B11) in back.events


@pytest.mark.req("ERR-7", "LED-2")
def test_err7_a_b15_is_raised_at_85c_with_the_red_led() -> None:
    """ERR-7/LED-2: A-B15 with the red LED at 85 °C; cleared (LED off) at 70 °C."""
    ctrl = controller()
    ctrl.step(IDLE, 0.0)
    hot = ctrl.step(dataclasses.replace(IDLE, internal_temperature_c=85.0), 1.0)
    assert Code.A_B15 in hot.outputs.codes
    assert hot.outputs.leds.over_temperature is LedMode.ON
    assert CodeRaised(1.0, Code.A_B15) in hot.events
    assert not hot.outputs.safe_state
    cool = ctrl.step(dataclasses.replace(IDLE, internal_temperature_c=70.0), 2.0)
    assert Code.A_B15 not in cool.outputs.codes
    assert cool.outputs.leds.over_temperature is LedMode.OFF
    assert "temperature" in Code.A_B15.info.cause


@pytest.mark.req("ERR-8")
def test_err8_w_b12_while_the_prealarm_is_active() -> None:
    """ERR-8: W-B12 rises and falls with the pre-alarm."""
    ctrl = controller()
    ctrl.step(IDLE, 0.0)
    warn = ctrl.step(dataclasses.replace(IDLE, chain_prealarm=True), 1.0)
    assert warn.outputs.codes == frozenset({Code.W_B12})
    assert CodeRaised(1.0, Code.W_B12) in warn.events
    assert "Urgent intervention" in Code.W_B12.info.cause
    calm = ctrl.step(IDLE, 2.0)
    assert calm.outputs.codes == frozenset()
    assert CodeCleared(2.0, Code.W_B12) in calm.events


@pytest.mark.req("ERR-9")
def test_err9_every_code_the_controller_raises_has_its_texts() -> None:
    """ERR-9: each code the controller can show carries a cause and a remedy."""
    ctrl = controller()
    seen: set[Code] = set()
    scenarios = [
        dataclasses.replace(IDLE, calibration_ok=False),
        dataclasses.replace(IDLE, reference_ok=False),
        dataclasses.replace(IDLE, chain_connected=False),
        dataclasses.replace(IDLE, chain_prealarm=True),
        dataclasses.replace(IDLE, internal_temperature_c=90.0),
        dataclasses.replace(IDLE, system_plus_current_a=-1000.0),
    ]
    for index, inputs in enumerate(scenarios):
        seen |= ctrl.step(inputs, float(index)).outputs.codes
    for code in seen:
        assert code.info.cause
        assert code.info.remedy
    assert seen >= {Code.E_B30, Code.E_B33, Code.E_B32, Code.W_B12, Code.A_B15, Code.A_A12}


@pytest.mark.req("SAFE", "ALT-1")
def test_safe_leaving_the_safe_state_rearms_the_ab_debounce() -> None:
    """SAFE/ALT-1: after the error clears, the AB port closes only after its usual 1 s."""
    ctrl = controller()
    ctrl.step(dataclasses.replace(ALTERNATOR, reference_ok=False), 0.0)
    left = ctrl.step(ALTERNATOR, 10.0)
    assert not left.outputs.ab_enabled
    assert left.next_deadline_s == 11.0
    assert ctrl.step(ALTERNATOR, 11.0).outputs.ab_enabled
