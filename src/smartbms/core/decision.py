"""The controller's memoryless part: what terminals mean, and what a decision shows and reports.

A controller step boils its judgement down to one `Decision`. Equal decisions give equal
Outputs, so the controller builds Outputs and derives events only when the decision changed
(most steps it does not). These are plain functions of values, kept apart from the
controller's timers and latches so that each part stays small enough to read.
"""

import dataclasses
import functools
from typing import NamedTuple

from smartbms.core import constants as c
from smartbms.core.codes import Code
from smartbms.core.events import (
    UNDER_VOLTAGE,
    AlternatorOffReason,
    ChargeDisconnected,
    ChargeReconnected,
    CodeCleared,
    CodeRaised,
    Event,
    LoadDisconnected,
    LoadReconnected,
    PreAlarmCause,
    PreAlarmCleared,
    PreAlarmRaised,
    SafeStateEntered,
    SafeStateLeft,
    SystemPlusChanged,
)
from smartbms.core.fuses import FUSE_CURRENT_LIMIT_A, FuseType
from smartbms.core.settings import PreAlarmUsage, RemoteFunction, Settings
from smartbms.core.signals import (
    ALL_OPEN,
    Inputs,
    LedMode,
    Leds,
    Level,
    Outputs,
    Readings,
    fast_readings,
)

CODE_BIT = {code: 1 << index for index, code in enumerate(Code)}
"""Each code's bit: a step collects its codes as an int and makes a set only on change."""
ERROR_BITS = (
    CODE_BIT[Code.E_B30] | CODE_BIT[Code.E_B31] | CODE_BIT[Code.E_B32] | CODE_BIT[Code.E_B33]
)
"""The error codes: any of them is the safe state (SAFE)."""
_PER_VOLT = {
    fuse: (per_volt, 100.0 * per_volt / fuse.current_limit_a)
    for fuse, per_volt in ((f, 1.0 / f.sense_resistance_ohm) for f in FUSE_CURRENT_LIMIT_A)
}
"""ALT-10: amperes and percent of the fuse rating per volt of fuse drop, per fuse type (one
look-up a step: hashing an enum member runs Python code)."""
_CODE_ORDER = {code: index for index, code in enumerate(Code)}
BASELINE = dataclasses.replace(
    ALL_OPEN,
    system_plus_charge_allowed=True,
    system_plus_discharge_allowed=True,
    load_disconnect=Level.HIGH,
    charge_disconnect=Level.HIGH,
    system_on=True,
    bms_active=True,
)
"""What events are measured against at power-up: a healthy idle BMS, so a normal start is quiet
and a start into a fault reports exactly the fault."""


def code_order(code: Code) -> int:
    """Sort key: codes are reported in the table's order."""
    return _CODE_ORDER[code]


@functools.cache
def code_set(bits: int) -> frozenset[Code]:
    """The codes whose bits are set (a few distinct sets ever occur, so they are cached)."""
    return frozenset(code for code, bit in CODE_BIT.items() if bits & bit)


def remote_terminal_on(inputs: Inputs) -> bool:
    """REM-1: ON when L-H looped, V_L < 5 V or V_H > 3 V; OFF in all other conditions."""
    return (
        inputs.remote_lh_connected
        or inputs.remote_l_voltage_v < c.REMOTE_L_LOW_MAX_V
        or inputs.remote_h_voltage_v > c.REMOTE_H_HIGH_MIN_V
    )


def error_codes(inputs: Inputs, settings: Settings, bms_active: bool, *, config_fault: bool) -> int:
    """The error codes as bits (ERR-1...ERR-4); any of them is the safe state (SAFE).

    Codes travel as bits and become a set only when they change (`code_set`).
    """
    codes = 0
    if not inputs.calibration_ok:
        codes |= CODE_BIT[Code.E_B30]
    if config_fault:
        codes |= CODE_BIT[Code.E_B31]
    if not inputs.reference_ok:
        codes |= CODE_BIT[Code.E_B33]
    if bms_active and (
        not inputs.chain_connected
        or (settings.prealarm_usage is PreAlarmUsage.USE and not inputs.chain_supports_prealarm)
    ):
        codes |= CODE_BIT[Code.E_B32]
    return codes


def alarm_codes(
    load_disconnected: bool, prealarm_alarm: bool, over_temperature: bool, sp_tripped: bool
) -> int:
    """The alarm and warning codes as bits, from what the phases latched this step."""
    codes = 0
    if load_disconnected:
        codes |= CODE_BIT[Code.A_B11]
    if prealarm_alarm:
        codes |= CODE_BIT[Code.W_B12]
    if over_temperature:
        codes |= CODE_BIT[Code.A_B15]
    if sp_tripped:
        codes |= CODE_BIT[Code.A_A12]
    return codes


def alternator_limit_factor(internal_temperature_c: float) -> float:
    """ALT-8: 1 up to 75 °C, falling linearly to 0 at 85 °C."""
    if internal_temperature_c <= c.BMS_DERATE_START_C:
        return 1.0
    if internal_temperature_c >= c.BMS_OVERTEMP_TRIP_C:
        return 0.0
    span = c.BMS_OVERTEMP_TRIP_C - c.BMS_DERATE_START_C
    return (c.BMS_OVERTEMP_TRIP_C - internal_temperature_c) / span


def ab_off_reason(
    ab_voltage_v: float,
    *,
    system_on: bool,
    safe: bool,
    atc: bool,
    over_temperature: bool,
    measurement_failed: bool,
) -> AlternatorOffReason:
    """Why the AB port opened, the most fundamental reason first (for the event)."""
    if safe:
        return AlternatorOffReason.SAFE_STATE
    if measurement_failed:
        return AlternatorOffReason.MEASUREMENT_INVALID
    if not system_on:
        return AlternatorOffReason.SYSTEM_OFF
    if not atc:
        return AlternatorOffReason.CHARGE_NOT_ALLOWED
    if over_temperature:
        return AlternatorOffReason.OVER_TEMPERATURE
    if ab_voltage_v > c.ALT_INPUT_MAX_V:
        return AlternatorOffReason.INPUT_OVER_VOLTAGE
    if ab_voltage_v <= c.ALT_ENGAGE_V:
        return AlternatorOffReason.INPUT_TOO_LOW
    return AlternatorOffReason.CHARGE_LIMIT


def supply_current_a(system_on: bool, remote_function: RemoteFunction) -> float:
    """PWR-1: 17.5 mA on; off: 6.5 mA with BMS functions active, 4.5 mA with them disabled."""
    if system_on:
        return c.SUPPLY_ON_A
    if remote_function is RemoteFunction.ALTERNATOR_AND_SYSTEM_PLUS:
        return c.SUPPLY_OFF_ACTIVE_A
    return c.SUPPLY_OFF_DISABLED_A


class Decision(NamedTuple):
    """Everything one step decided; equal decisions give the same Outputs value."""

    ab_enabled: bool
    setpoint_v: float
    charge_allowed: bool
    discharge_allowed: bool
    load_high: bool
    atc: bool
    prealarm_level: Level
    prealarm_alarm: bool
    codes: int
    """The active codes as bits (`CODE_BIT`)."""
    system_on: bool
    bms_active: bool
    alternator_flowing: bool
    app_connected: bool
    remote_function: RemoteFunction


def outputs_of(d: Decision) -> Outputs:
    """Build the Outputs value, LEDs included, for a decision."""
    codes = d.codes
    safe = bool(codes & ERROR_BITS)
    leds = Leds(
        alternator_charging=LedMode.ON if d.alternator_flowing else LedMode.OFF,
        over_temperature=LedMode.ON if codes & CODE_BIT[Code.A_B15] else LedMode.OFF,
        bms_active=LedMode.BLINK if safe else (LedMode.ON if d.bms_active else LedMode.OFF),
        bluetooth=LedMode.ON if d.app_connected else LedMode.BLINK,
        charge_disconnect=LedMode.ON if d.atc else LedMode.OFF,
        load_disconnect=LedMode.ON if d.load_high else LedMode.OFF,
        system_plus_charging=LedMode.ON if d.charge_allowed else LedMode.OFF,
    )
    return Outputs(
        ab_enabled=d.ab_enabled,
        ab_fuse_drop_setpoint_v=d.setpoint_v,
        system_plus_charge_allowed=d.charge_allowed,
        system_plus_discharge_allowed=d.discharge_allowed,
        load_disconnect=Level.HIGH if d.load_high else Level.FLOATING,
        charge_disconnect=Level.HIGH if d.atc else Level.FLOATING,
        prealarm=d.prealarm_level,
        prealarm_alarm=d.prealarm_alarm,
        leds=leds,
        codes=code_set(codes),
        system_on=d.system_on,
        bms_active=d.bms_active,
        safe_state=safe,
        supply_current_a=supply_current_a(d.system_on, d.remote_function),
    )


def output_events(
    old: Outputs, new: Outputs, now_s: float, prealarm_cause: PreAlarmCause, events: list[Event]
) -> None:
    """Append the events for the change from `old` to `new`, in a fixed, readable order.

    `prealarm_cause` is what raised the pre-alarm, should it rise now.
    """
    if new.safe_state and not old.safe_state:
        events.append(SafeStateEntered(now_s))
    elif old.safe_state and not new.safe_state:
        events.append(SafeStateLeft(now_s))
    for code in sorted(new.codes - old.codes, key=code_order):
        events.append(CodeRaised(now_s, code))
    for code in sorted(old.codes - new.codes, key=code_order):
        events.append(CodeCleared(now_s, code))
    if new.load_disconnect is not old.load_disconnect:
        if new.load_disconnect is Level.FLOATING:
            if new.safe_state:
                reason = "safe state"
            elif not new.bms_active:
                reason = "system switched off"
            else:
                reason = UNDER_VOLTAGE
            events.append(LoadDisconnected(now_s, reason))
        else:
            events.append(LoadReconnected(now_s))
    if new.charge_disconnect is not old.charge_disconnect:
        if new.charge_disconnect is Level.FLOATING:
            events.append(ChargeDisconnected(now_s))
        else:
            events.append(ChargeReconnected(now_s))
    if new.prealarm_alarm != old.prealarm_alarm:
        events.append(
            PreAlarmRaised(now_s, prealarm_cause) if new.prealarm_alarm else PreAlarmCleared(now_s)
        )
    if (
        new.system_plus_charge_allowed != old.system_plus_charge_allowed
        or new.system_plus_discharge_allowed != old.system_plus_discharge_allowed
    ):
        events.append(
            SystemPlusChanged(
                now_s, new.system_plus_charge_allowed, new.system_plus_discharge_allowed
            )
        )


def readings_of(inputs: Inputs, fuse: FuseType, *, drop_valid: bool = True) -> Readings:
    """ALT-10: current from the fuse drop and the *configured* fuse type, or nothing.

    Nothing either while the fuse drop reads invalid (`drop_valid` False): a failed measurement
    is shown as no number, never as NaN amperes. The voltages are shown as read.
    """
    if fuse is FuseType.NOT_SET or not inputs.powered or not drop_valid:
        return fast_readings(
            inputs.bank_voltage_v,
            inputs.ab_voltage_v,
            inputs.system_plus_voltage_v,
            None,
            None,
            fuse is FuseType.NOT_SET,
        )
    drop_v = max(inputs.alternator_fuse_drop_v, 0.0)
    amperes_per_volt, percent_per_volt = _PER_VOLT[fuse]
    return fast_readings(
        inputs.bank_voltage_v,
        inputs.ab_voltage_v,
        inputs.system_plus_voltage_v,
        drop_v * amperes_per_volt,
        drop_v * percent_per_volt,
        False,  # fuse_type_prompt
    )


DecisionFields = tuple[
    bool, float, bool, bool, bool, bool, Level, bool, int, bool, bool, bool, bool, RemoteFunction
]
"""A `Decision`'s fields as a plain tuple. A step builds one every time and compares it with the
previous `Decision` (equal as tuples); that is several times cheaper than building the
NamedTuple, which is made only when the decision changed."""
