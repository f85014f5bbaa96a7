"""The controller's door: wrong types and bad times are refused, failed measurements gate paths.

Each of the bugs found by feeding the controller what a failing sensor or a careless caller
would (issue 11) is pinned here first: a NaN bank voltage released the charge limit and enabled
the AB port, a NaN temperature kept the port on with a NaN set point, a NaN System+ current hid
a short (A-A12), the string "false" counted as a true ATC line, and `now_s = inf` jammed the
timers. Then the rules: which paths each measurement gates, the recovery time, and that a failed
measurement is not E-B33 (no code, no safe state).
"""

import dataclasses
import math

import pytest

from smartbms.core import Controller, Inputs
from smartbms.core import constants as c
from smartbms.core.codes import Code
from smartbms.core.events import (
    AlternatorInputDisabled,
    AlternatorInputEnabled,
    AlternatorOffReason,
    ChargeLimitReleased,
    MeasurementInvalid,
    MeasurementRecovered,
    PreAlarmOutputDamaged,
    SystemPlusTripped,
    SystemSwitchedOff,
)
from smartbms.core.signals import Level
from smartbms.core.validate import MEASURED, SWITCHES
from tests.unit.helpers import (
    ALTERNATOR,
    IDLE,
    events_in,
    fused_controller,
    of_type,
    step_deadlines,
    step_range,
)

RECOVERY_S = c.MEASUREMENT_RECOVERY_S
NAN = math.nan
LIMIT_V = c.CHARGE_LIMIT_DEFAULT_V
SHORT = dataclasses.replace(IDLE, system_plus_current_a=-(c.SP_SHORT_CIRCUIT_A + 1.0))
FLOAT_FIELDS = [name for name, _, _ in MEASURED]
HOSTILE = [NAN, math.inf, -math.inf, 1e300, -1e300, 10**400]


def changed(inputs: Inputs, *names: str, value: object) -> Inputs:
    """`inputs` with each named field set to `value`, whatever its type (the door's business)."""
    return dataclasses.replace(inputs, **dict.fromkeys(names, value))  # type: ignore[arg-type]


def running_alternator(ctrl: Controller, until_s: float = 2.0) -> None:
    """Step ALTERNATOR from 0 s until the AB port has been enabled."""
    results = step_range(ctrl, ALTERNATOR, 0.0, until_s, 0.5)
    assert results[-1][1].outputs.ab_enabled


# --- the bugs of issue 11 ------------------------------------------------------------------------


@pytest.mark.req("ALT-5")
def test_a_nan_bank_voltage_keeps_the_charge_limit_latched() -> None:
    """Was: NaN >= limit is False, so the latch released and the AB port closed again."""
    ctrl = fused_controller()
    running_alternator(ctrl)
    latched = ctrl.step(dataclasses.replace(ALTERNATOR, bank_voltage_v=LIMIT_V), 3.0)
    assert not latched.outputs.ab_enabled
    failing = dataclasses.replace(ALTERNATOR, bank_voltage_v=NAN)
    results = step_range(ctrl, failing, 4.0, 30.0, 0.5)
    assert not any(r.outputs.ab_enabled for _, r in results)
    events = events_in(results)
    assert of_type(events, ChargeLimitReleased) == []
    assert of_type(events, MeasurementInvalid) == [MeasurementInvalid(4.0, "bank_voltage_v", "nan")]
    # valid again and 0.5 V below: the 10 s of ALT-5 count from the first valid reading
    low = dataclasses.replace(ALTERNATOR, bank_voltage_v=LIMIT_V - 0.6)
    back = step_range(ctrl, low, 30.0, 45.0, 0.5)
    released = of_type(events_in(back), ChargeLimitReleased)
    assert released == [ChargeLimitReleased(30.0 + c.ALT_RECONNECT_HOLD_S)]
    enabled = [t for t, r in back if AlternatorInputEnabled in {type(e) for e in r.events}]
    assert enabled == [30.0 + RECOVERY_S + c.ALT_ENGAGE_DEBOUNCE_S]


@pytest.mark.req("ALT-1", "ALT-5")
def test_a_nan_bank_voltage_never_enables_the_ab_port() -> None:
    ctrl = fused_controller()
    failing = dataclasses.replace(ALTERNATOR, bank_voltage_v=NAN)
    results = step_range(ctrl, failing, 0.0, 20.0, 0.25)
    assert not any(r.outputs.ab_enabled for _, r in results)


@pytest.mark.req("ALT-8")
def test_a_nan_temperature_opens_the_ab_port_and_the_set_point_is_a_number() -> None:
    """Was: the port stayed on with a NaN fuse-drop set point (NaN >= 85 °C is False)."""
    ctrl = fused_controller()
    running_alternator(ctrl)
    result = ctrl.step(dataclasses.replace(ALTERNATOR, internal_temperature_c=NAN), 3.0)
    out = result.outputs
    assert not out.ab_enabled
    assert out.ab_fuse_drop_setpoint_v == 0.0
    assert AlternatorInputDisabled(3.0, AlternatorOffReason.MEASUREMENT_INVALID) in result.events
    assert Code.A_B15 not in out.codes  # an unknown temperature is not over-temperature
    for _, later in step_range(ctrl, ALTERNATOR, 3.5, 3.0 + RECOVERY_S, 0.5)[:-1]:
        assert not later.outputs.ab_enabled


@pytest.mark.req("SP-5", "ERR-5")
def test_a_nan_system_plus_current_cuts_system_plus_both_ways() -> None:
    """Was: NaN > 600 A is False, so a short went unseen with the port closed."""
    ctrl = fused_controller()
    ctrl.step(IDLE, 0.0)
    out = ctrl.step(dataclasses.replace(IDLE, system_plus_current_a=NAN), 1.0).outputs
    assert not out.system_plus_charge_allowed
    assert not out.system_plus_discharge_allowed
    assert out.load_disconnect is Level.HIGH  # the loads' own output follows ATD only
    assert not out.safe_state
    assert out.codes == frozenset()
    back = step_range(ctrl, IDLE, 2.0, 1.0 + RECOVERY_S + 1.0, 0.5)
    allowed = [t for t, r in back if r.outputs.system_plus_discharge_allowed]
    assert allowed[0] == 2.0 + RECOVERY_S


@pytest.mark.req("SP-5", "ERR-5")
def test_a_short_still_trips_a_a12_around_a_failed_current_reading() -> None:
    ctrl = fused_controller()
    ctrl.step(IDLE, 0.0)
    ctrl.step(dataclasses.replace(IDLE, system_plus_current_a=NAN), 1.0)
    during = ctrl.step(SHORT, 2.0)  # a valid reading trips even while the field recovers
    assert Code.A_A12 in during.outputs.codes
    assert of_type(during.events, SystemPlusTripped)
    fresh = fused_controller()
    fresh.step(IDLE, 0.0)
    assert Code.A_A12 in fresh.step(SHORT, 1.0).outputs.codes


def test_the_string_false_is_refused_and_changes_nothing() -> None:
    """Was: "false" is truthy, so it counted as ATC given and enabled charging."""
    ctrl = fused_controller()
    ctrl.step(dataclasses.replace(ALTERNATOR, allowed_to_charge=False), 0.0)
    before = ctrl.snapshot()
    wrong = dataclasses.replace(ALTERNATOR, allowed_to_charge="false")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="allowed_to_charge"):
        ctrl.step(wrong, 5.0)
    assert ctrl.snapshot() == before


@pytest.mark.parametrize("now_s", [math.inf, NAN, -math.inf])
def test_a_non_finite_now_is_refused_and_changes_nothing(now_s: float) -> None:
    """Was: `now_s = inf` completed every hold at once and left the controller stuck."""
    ctrl = fused_controller()
    ctrl.step(ALTERNATOR, 0.0)
    before = ctrl.snapshot()
    with pytest.raises(ValueError, match="now_s must be finite"):
        ctrl.step(ALTERNATOR, now_s)
    assert ctrl.snapshot() == before
    assert ctrl.step(ALTERNATOR, 1.0).outputs.ab_enabled  # and it goes on as if never asked


def test_a_non_finite_first_now_is_refused() -> None:
    ctrl = fused_controller()
    before = ctrl.snapshot()
    with pytest.raises(ValueError, match="finite"):
        ctrl.step(IDLE, -math.inf)
    assert ctrl.snapshot() == before


def test_time_going_backwards_is_refused_and_changes_nothing() -> None:
    ctrl = fused_controller()
    ctrl.step(IDLE, 5.0)
    before = ctrl.snapshot()
    with pytest.raises(ValueError, match="backwards"):
        ctrl.step(IDLE, 4.999)
    assert ctrl.snapshot() == before
    ctrl.step(IDLE, 5.0)  # the same time again is fine


@pytest.mark.parametrize("now_s", ["1.0", None, [1.0]])
def test_a_now_that_is_not_a_number_is_a_type_error(now_s: object) -> None:
    ctrl = fused_controller()
    ctrl.step(IDLE, 0.0)
    before = ctrl.snapshot()
    with pytest.raises(TypeError, match="now_s"):
        ctrl.step(IDLE, now_s)  # type: ignore[arg-type]
    assert ctrl.snapshot() == before


# --- wrong types ---------------------------------------------------------------------------------

WRONG_FOR_BOOL: list[object] = ["false", "true", "", 0, 1, 1.0, None, [True]]
WRONG_FOR_FLOAT: list[object] = ["13.2", "nan", True, False, None, b"1", 1j, [13.2]]


@pytest.mark.parametrize("name", SWITCHES)
@pytest.mark.parametrize("value", WRONG_FOR_BOOL)
def test_a_bool_field_takes_only_true_or_false(name: str, value: object) -> None:
    ctrl = fused_controller()
    ctrl.step(ALTERNATOR, 0.0)
    before = ctrl.snapshot()
    with pytest.raises(TypeError, match=f"Inputs.{name} must be True or False"):
        ctrl.step(changed(ALTERNATOR, name, value=value), 1.0)
    assert ctrl.snapshot() == before


@pytest.mark.parametrize("name", FLOAT_FIELDS)
@pytest.mark.parametrize("value", WRONG_FOR_FLOAT)
def test_a_float_field_takes_only_a_number(name: str, value: object) -> None:
    ctrl = fused_controller()
    ctrl.step(ALTERNATOR, 0.0)
    before = ctrl.snapshot()
    with pytest.raises(TypeError, match=f"Inputs.{name} must be a number"):
        ctrl.step(changed(ALTERNATOR, name, value=value), 1.0)
    assert ctrl.snapshot() == before


def test_an_int_is_a_number() -> None:
    as_floats = Inputs(ab_voltage_v=14.0, bank_voltage_v=13.0, internal_temperature_c=30.0)
    as_ints = Inputs(ab_voltage_v=14, bank_voltage_v=13, internal_temperature_c=30)
    a, b = fused_controller(), fused_controller()
    for now_s in (0.0, 0.5, 1.0, 1.5):
        assert a.step(as_floats, now_s) == b.step(as_ints, now_s)


def test_a_wrong_type_is_refused_even_unpowered() -> None:
    ctrl = fused_controller()
    with pytest.raises(TypeError, match="ab_voltage_v"):
        ctrl.step(Inputs(powered=False, ab_voltage_v="0"), 0.0)  # type: ignore[arg-type]


# --- failed measurements: events, gates, recovery -------------------------------------------------


@pytest.mark.parametrize("name", FLOAT_FIELDS)
@pytest.mark.parametrize("value", HOSTILE)
def test_each_failed_measurement_is_reported_once_and_recovers(name: str, value: float) -> None:
    ctrl = fused_controller()
    ctrl.step(IDLE, 0.0)
    failing = changed(IDLE, name, value=value)
    results = step_range(ctrl, failing, 1.0, 5.0, 0.5)
    invalid = of_type(events_in(results), MeasurementInvalid)
    assert [(e.t_s, e.field) for e in invalid] == [(1.0, name)]
    assert invalid[0].value in {
        "nan",
        "inf",
        "-inf",
        "1e+300",
        "-1e+300",
        "an integer of 1329 bits",
    }
    assert results[-1][1].next_deadline_s == math.inf  # nothing to wait for while it fails
    first_valid = ctrl.step(IDLE, 6.0)
    assert first_valid.next_deadline_s == 6.0 + RECOVERY_S  # the recovery is a deadline
    assert ctrl.step(IDLE, 6.0 + RECOVERY_S - 0.001).events == ()
    recovered = ctrl.step(IDLE, 6.0 + RECOVERY_S)
    assert MeasurementRecovered(6.0 + RECOVERY_S, name) in recovered.events


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("bank_voltage_v", c.MEASURABLE_V),
        ("ab_voltage_v", -c.MEASURABLE_V),
        ("system_plus_current_a", -c.MEASURABLE_SYSTEM_PLUS_A),
        ("internal_temperature_c", c.MEASURABLE_MIN_C),
        ("internal_temperature_c", c.MEASURABLE_MAX_C),
        ("prealarm_output_current_a", c.MEASURABLE_PREALARM_A),
    ],
)
def test_the_ranges_are_inclusive(name: str, value: float) -> None:
    ctrl = fused_controller()
    inside = ctrl.step(changed(IDLE, name, value=value), 0.0)
    assert of_type(inside.events, MeasurementInvalid) == []
    outside = ctrl.step(changed(IDLE, name, value=value * (1 + 1e-12)), 1.0)
    assert [e.field for e in of_type(outside.events, MeasurementInvalid)] == [name]


def test_an_invalid_reading_during_the_recovery_starts_it_again() -> None:
    ctrl = fused_controller()
    ctrl.step(IDLE, 0.0)
    failing = dataclasses.replace(IDLE, ab_voltage_v=math.inf)
    ctrl.step(failing, 1.0)
    ctrl.step(IDLE, 2.0)
    again = ctrl.step(failing, 2.0 + RECOVERY_S - 1.0)
    assert of_type(again.events, MeasurementInvalid) == []  # still the same failure
    ctrl.step(IDLE, 2.0 + RECOVERY_S)
    quiet = ctrl.step(IDLE, 2.0 + 2 * RECOVERY_S - 0.5)
    assert of_type(quiet.events, MeasurementRecovered) == []
    done = ctrl.step(IDLE, 2.0 + 2 * RECOVERY_S)
    assert of_type(done.events, MeasurementRecovered) == [
        MeasurementRecovered(2.0 + 2 * RECOVERY_S, "ab_voltage_v")
    ]


@pytest.mark.parametrize(
    "name",
    ["ab_voltage_v", "bank_voltage_v", "alternator_fuse_drop_v", "internal_temperature_c"],
)
@pytest.mark.req("ALT-1", "ALT-4", "ALT-5", "ALT-8")
def test_the_ab_port_opens_on_any_measurement_it_needs(name: str) -> None:
    ctrl = fused_controller()
    running_alternator(ctrl)
    failing = ctrl.step(changed(ALTERNATOR, name, value=NAN), 3.0)
    assert not failing.outputs.ab_enabled
    assert failing.outputs.leds.alternator_charging.value == "off"
    back = step_range(ctrl, ALTERNATOR, 4.0, 20.0, 0.5)
    enabled = [t for t, r in back if r.outputs.ab_enabled]
    assert enabled[0] == 4.0 + RECOVERY_S + c.ALT_ENGAGE_DEBOUNCE_S  # recovery, then ALT-1


def test_a_failed_fuse_drop_shows_no_current() -> None:
    ctrl = fused_controller()
    shown = ctrl.step(dataclasses.replace(IDLE, alternator_fuse_drop_v=0.01), 0.0).readings
    assert shown.alternator_current_a is not None
    hidden = ctrl.step(dataclasses.replace(IDLE, alternator_fuse_drop_v=NAN), 1.0).readings
    assert hidden.alternator_current_a is None
    assert hidden.alternator_current_pct is None
    assert not hidden.fuse_type_prompt


@pytest.mark.req("REM-1", "ALT-7", "SP-4", "SP-5")
def test_a_failed_remote_reading_holds_the_system_state_and_cuts_the_ports() -> None:
    """Not a switch-off: the lock-out is not cleared, and no SystemSwitchedOff is reported."""
    ctrl = fused_controller()
    running_alternator(ctrl)
    for t_s in (3.0, 13.0, 23.0, 33.0):  # trip, then three retries into the short: lock-out
        ctrl.step(dataclasses.replace(SHORT, ab_voltage_v=14.0), t_s)
    assert Code.A_A12 in ctrl.step(ALTERNATOR, 34.0).outputs.codes
    unlooped = dataclasses.replace(ALTERNATOR, remote_lh_connected=False, remote_l_voltage_v=NAN)
    result = ctrl.step(unlooped, 35.0)
    out = result.outputs
    assert out.system_on
    assert of_type(result.events, SystemSwitchedOff) == []
    assert not out.ab_enabled
    assert not out.system_plus_charge_allowed
    assert not out.system_plus_discharge_allowed
    assert Code.A_A12 in out.codes  # still locked out
    looped_again = step_range(ctrl, ALTERNATOR, 36.0, 36.0 + RECOVERY_S + 2.0, 0.5)
    assert all(Code.A_A12 in r.outputs.codes for _, r in looped_again)


def test_the_soft_switch_still_turns_the_system_off_with_a_failed_remote_reading() -> None:
    ctrl = fused_controller()
    ctrl.step(IDLE, 0.0)
    unlooped = dataclasses.replace(IDLE, remote_lh_connected=False, remote_h_voltage_v=math.inf)
    ctrl.step(unlooped, 1.0)
    ctrl.change_settings({"soft_switch_on": False}, pin="000000", now_s=2.0)
    result = ctrl.step(unlooped, 2.0)
    assert not result.outputs.system_on
    assert of_type(result.events, SystemSwitchedOff) == [SystemSwitchedOff(2.0, True, False)]
    ctrl.change_settings({"soft_switch_on": True}, pin="000000", now_s=3.0)
    assert not ctrl.step(unlooped, 3.0).outputs.system_on  # ON needs a trusted terminal


@pytest.mark.req("OUT-5")
def test_a_failed_prealarm_current_does_not_break_the_output() -> None:
    ctrl = fused_controller()
    alarm = dataclasses.replace(IDLE, chain_prealarm=True)
    ctrl.step(alarm, 0.0)
    result = ctrl.step(dataclasses.replace(alarm, prealarm_output_current_a=math.inf), 1.0)
    assert of_type(result.events, PreAlarmOutputDamaged) == []
    assert result.outputs.prealarm is Level.HIGH  # it keeps warning
    overload = dataclasses.replace(alarm, prealarm_output_current_a=c.PREALARM_MAX_A + 1.0)
    assert of_type(ctrl.step(overload, 2.0).events, PreAlarmOutputDamaged)  # a valid reading


def test_a_failed_system_plus_voltage_is_reported_and_gates_nothing() -> None:
    ctrl = fused_controller()
    running_alternator(ctrl)
    result = ctrl.step(dataclasses.replace(ALTERNATOR, system_plus_voltage_v=NAN), 3.0)
    assert [e.field for e in of_type(result.events, MeasurementInvalid)] == [
        "system_plus_voltage_v"
    ]
    out = result.outputs
    assert out.ab_enabled
    assert out.system_plus_charge_allowed
    assert out.system_plus_discharge_allowed


@pytest.mark.req("ERR-4", "SAFE")
def test_a_failed_measurement_is_not_e_b33() -> None:
    """E-B33 (the reference) is the full safe state for good; a failed reading is neither."""
    ctrl = fused_controller()
    ctrl.step(IDLE, 0.0)
    every = changed(IDLE, *FLOAT_FIELDS, value=NAN)
    out = ctrl.step(every, 1.0).outputs
    assert not out.safe_state
    assert out.codes == frozenset()
    assert out.charge_disconnect is Level.HIGH  # the chain's ATC still drives its output
    reference = ctrl.step(dataclasses.replace(IDLE, reference_ok=False), 2.0).outputs
    assert reference.safe_state
    assert Code.E_B33 in reference.codes


def test_a_power_cycle_keeps_the_failure_and_restarts_its_recovery() -> None:
    ctrl = fused_controller()
    ctrl.step(IDLE, 0.0)
    ctrl.step(dataclasses.replace(IDLE, system_plus_current_a=NAN), 1.0)
    ctrl.step(dataclasses.replace(IDLE, powered=False), 2.0)
    up = ctrl.step(IDLE, 50.0)
    assert not up.outputs.system_plus_discharge_allowed
    assert up.next_deadline_s == 50.0 + RECOVERY_S
    assert ctrl.step(IDLE, 50.0 + RECOVERY_S).outputs.system_plus_discharge_allowed


def test_an_unpowered_bms_judges_no_measurement() -> None:
    ctrl = fused_controller()
    ctrl.step(IDLE, 0.0)
    dead = ctrl.step(Inputs(powered=False, bank_voltage_v=NAN), 1.0)
    assert of_type(dead.events, MeasurementInvalid) == []


def test_a_failed_measurement_replays_identically() -> None:
    """Determinism: events carry the value as text, so NaN never makes two runs unequal."""
    script = [
        (IDLE, 0.0),
        (dataclasses.replace(ALTERNATOR, alternator_fuse_drop_v=NAN), 1.0),
        (dataclasses.replace(ALTERNATOR, bank_voltage_v=NAN, internal_temperature_c=NAN), 2.0),
        (ALTERNATOR, 3.0),
        (ALTERNATOR, 3.0 + RECOVERY_S),
    ]
    a, b = fused_controller(), fused_controller()
    for inputs, now_s in script:
        assert a.step(inputs, now_s) == b.step(inputs, now_s)


def test_the_door_knows_every_field_of_inputs() -> None:
    """A new `Inputs` field must be given a type check (and a range, if measured) here."""
    names = {field.name for field in dataclasses.fields(Inputs)}
    assert names == set(FLOAT_FIELDS) | set(SWITCHES)
    assert not set(FLOAT_FIELDS) & set(SWITCHES)


# --- Inputs.checked ----------------------------------------------------------------------------


def test_checked_builds_the_same_inputs() -> None:
    assert Inputs.checked() == Inputs()
    assert Inputs.checked(ab_voltage_v=14.0, powered=False) == Inputs(
        ab_voltage_v=14.0, powered=False
    )
    assert Inputs.checked(bank_voltage_v=13) == Inputs(bank_voltage_v=13)


@pytest.mark.parametrize(
    ("values", "error", "pattern"),
    [
        ({"allowed_to_charge": "false"}, TypeError, "Inputs.allowed_to_charge must be True"),
        ({"bank_voltage_v": "13.2"}, TypeError, "Inputs.bank_voltage_v must be a number"),
        ({"bank_voltage_v": True}, TypeError, "Inputs.bank_voltage_v must be a number"),
        ({"bank_volts": 13.2}, TypeError, "Inputs has no field 'bank_volts'"),
        ({"bank_voltage_v": NAN}, ValueError, r"Inputs.bank_voltage_v must be within .* got nan"),
        ({"system_plus_current_a": -math.inf}, ValueError, "system_plus_current_a"),
        ({"internal_temperature_c": 200.0}, ValueError, r"-55 \.\.\. 150, got 200.0"),
        ({"ab_voltage_v": 10**5000}, ValueError, "an integer of 16610 bits"),
    ],
)
def test_checked_names_the_field(values: dict[str, object], error: type, pattern: str) -> None:
    with pytest.raises(error, match=pattern):
        Inputs.checked(**values)


# --- an invalid reading moves no latch ----------------------------------------------------------


@pytest.mark.req("ALT-8", "ERR-7")
def test_an_impossible_low_temperature_does_not_clear_a_b15() -> None:
    ctrl = fused_controller()
    hot = ctrl.step(dataclasses.replace(IDLE, internal_temperature_c=90.0), 0.0)
    assert Code.A_B15 in hot.outputs.codes
    cold = ctrl.step(dataclasses.replace(IDLE, internal_temperature_c=-math.inf), 1.0)
    assert Code.A_B15 in cold.outputs.codes


@pytest.mark.req("ALT-9")
def test_an_impossible_ab_voltage_does_not_clear_the_input_over_voltage() -> None:
    ctrl = fused_controller()
    ctrl.step(dataclasses.replace(ALTERNATOR, ab_voltage_v=17.0), 0.0)
    result = ctrl.step(dataclasses.replace(ALTERNATOR, ab_voltage_v=-math.inf), 1.0)
    assert [e.kind for e in result.events if "OverVoltage" in e.kind] == []


@pytest.mark.req("SP-5")
def test_system_plus_does_not_retry_while_its_current_reading_is_failed() -> None:
    ctrl = fused_controller()
    ctrl.step(IDLE, 0.0)
    ctrl.step(SHORT, 1.0)  # trip; the retry would be due at 11 s
    failing = dataclasses.replace(IDLE, system_plus_current_a=NAN)
    during = step_range(ctrl, failing, 2.0, 20.0, 1.0)
    assert not any(e.kind == "SystemPlusRetried" for e in events_in(during))
    assert all(Code.A_A12 in r.outputs.codes for _, r in during)
    back = step_deadlines(ctrl, IDLE, 21.0, 40.0)
    retried = [e.t_s for e in events_in(back) if e.kind == "SystemPlusRetried"]
    assert retried == [21.0 + RECOVERY_S]  # woken by the recovery deadline
