"""The Smart BMS 12-200's decisions, as a pure, deterministic state machine.

Theory of operation
-------------------
The caller samples the terminals (`Inputs`) and calls `step(inputs, now_s)`. The controller never
reads a clock: every timer is a time stamp compared with `now_s`, and every step returns the
earliest future time at which a timer would change an output even if no input changed
(`next_deadline_s`). A simulator can therefore jump straight to that time, and a live loop can
sleep until then; both call the controller the same way and get the same answers.

Each step derives, in order:

1. **Power.** Without supply every output is dead. The outage is timed, because the E-B31
   recovery needs a factory reset followed by at least 3 minutes without power (ERR-2).
2. **System on/off.** The remote terminal (loop L-H, V_L < 5 V or V_H > 3 V) and the soft
   switch. With "Switch everything off" an OFF system also stops the BMS functionality (REM-2).
3. **Codes and the safe state.** Internal self-tests (E-B30, E-B33), the configuration (E-B31)
   and the chain (E-B32) hold the BMS in the safe state: everything open or floating (SAFE).
4. **Alarms.** The chain's ATD and pre-alarm lines drive the pre-alarm output and the load
   disconnect, which never follows less than 30 s after the pre-alarm rose (OUT-4). When the
   BMS (re)starts with ATD already withdrawn the loads were off already and stay off (REM-4).
5. **The AB port.** It closes once all of its conditions (13.0 V < V_AB <= 16 V, ATC, system on,
   no safe state, not over-temperature) have held for 1 s, and while the charge limit is not
   latched; it opens the moment any condition fails. The charge limit latches at the limit and
   releases after 10 consecutive seconds at or below limit - 0.5 V (ALT-5).
6. **System+.** Charge needs ATC, discharge needs no load disconnect; both need the system on and
   no safe state. Over-currents trip it (A-A12) with timed retries and a lock-out (SP-5).
7. **Outputs, LEDs, readings, events.** Events are the differences between this step's outputs
   and the previous step's, plus the one-off happenings (trips, retries, settings).
"""

import dataclasses
import functools
import math
from collections.abc import Mapping
from typing import NamedTuple

from smartbms.core import constants as c
from smartbms.core.codes import Code
from smartbms.core.events import (
    UNDER_VOLTAGE,
    AlternatorInputDisabled,
    AlternatorInputEnabled,
    AlternatorOffReason,
    ChargeDisconnected,
    ChargeLimitReached,
    ChargeLimitReleased,
    ChargeReconnected,
    CodeCleared,
    CodeRaised,
    Event,
    FactoryResetDone,
    InputOverVoltageCleared,
    InputOverVoltageDetected,
    LoadDisconnected,
    LoadReconnected,
    PowerLost,
    PowerRestored,
    PreAlarmCause,
    PreAlarmCleared,
    PreAlarmOutputDamaged,
    PreAlarmRaised,
    SafeStateEntered,
    SafeStateLeft,
    SettingsChanged,
    SystemPlusChanged,
    SystemPlusLockedOut,
    SystemPlusRetried,
    SystemPlusTripped,
    SystemSwitchedOff,
    SystemSwitchedOn,
    TripCause,
)
from smartbms.core.fuses import FUSE_CURRENT_LIMIT_A, FuseType
from smartbms.core.settings import (
    PairingError,
    PreAlarmMode,
    PreAlarmUsage,
    RemoteFunction,
    Settings,
)
from smartbms.core.signals import (
    ALL_OPEN,
    NO_DEADLINE,
    Inputs,
    LedMode,
    Leds,
    Level,
    Outputs,
    Readings,
)


class _Decision(NamedTuple):
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
    system_on: bool
    bms_active: bool
    alternator_flowing: bool
    app_connected: bool
    remote_function: RemoteFunction


_BIT = {code: 1 << index for index, code in enumerate(Code)}
_ERROR_BITS = _BIT[Code.E_B30] | _BIT[Code.E_B31] | _BIT[Code.E_B32] | _BIT[Code.E_B33]
_AMPERES_PER_VOLT = {fuse: 1.0 / fuse.sense_resistance_ohm for fuse in FUSE_CURRENT_LIMIT_A}
_PERCENT_PER_VOLT = {
    fuse: 100.0 * per_volt / fuse.current_limit_a for fuse, per_volt in _AMPERES_PER_VOLT.items()
}
"""ALT-10's percentage straight from the fuse drop (a step computes it every time)."""


@functools.cache
def _code_set(bits: int) -> frozenset[Code]:
    """The codes whose bits are set (a few distinct sets ever occur, so they are cached)."""
    return frozenset(code for code, bit in _BIT.items() if bits & bit)


@dataclasses.dataclass(frozen=True, slots=True)
class StepResult:
    """What one step decided, what happened, and when to call again at the latest."""

    outputs: Outputs
    readings: Readings
    events: tuple[Event, ...]
    next_deadline_s: float
    """Call `step` again at this time even if no input changes (`math.inf`: no timer runs)."""


def remote_terminal_on(inputs: Inputs) -> bool:
    """REM-1: ON when L-H looped, V_L < 5 V or V_H > 3 V; OFF in all other conditions."""
    return (
        inputs.remote_lh_connected
        or inputs.remote_l_voltage_v < c.REMOTE_L_LOW_MAX_V
        or inputs.remote_h_voltage_v > c.REMOTE_H_HIGH_MIN_V
    )


def alternator_limit_factor(internal_temperature_c: float) -> float:
    """ALT-8: 1 up to 75 °C, falling linearly to 0 at 85 °C."""
    if internal_temperature_c <= c.BMS_DERATE_START_C:
        return 1.0
    if internal_temperature_c >= c.BMS_OVERTEMP_TRIP_C:
        return 0.0
    span = c.BMS_OVERTEMP_TRIP_C - c.BMS_DERATE_START_C
    return (c.BMS_OVERTEMP_TRIP_C - internal_temperature_c) / span


def supply_current_a(system_on: bool, remote_function: RemoteFunction) -> float:
    """PWR-1: 17.5 mA on; off: 6.5 mA with BMS functions active, 4.5 mA with them disabled."""
    if system_on:
        return c.SUPPLY_ON_A
    if remote_function is RemoteFunction.ALTERNATOR_AND_SYSTEM_PLUS:
        return c.SUPPLY_OFF_ACTIVE_A
    return c.SUPPLY_OFF_DISABLED_A


_BASELINE = dataclasses.replace(
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


class Controller:
    """The Smart BMS 12-200's brain. Feed it `Inputs` and `now_s`; it never reads a clock.

    `settings` are the stored settings; `config_valid=False` means the store found them missing
    or corrupted: the controller then runs on factory settings in the safe state with E-B31.
    """

    __slots__ = (
        "_ab_enabled",
        "_ab_ready_since_s",
        "_alarm_machine_running",
        "_below_release_since_s",
        "_blink_edge_s",
        "_blink_for_s",
        "_blink_high",
        "_charge_limited",
        "_config_fault",
        "_input_over_voltage",
        "_last_now_s",
        "_load_disconnected",
        "_over_temperature",
        "_overload_since_s",
        "_peak_since_s",
        "_power_lost_at_s",
        "_powered",
        "_prealarm_cause",
        "_prealarm_damaged",
        "_prealarm_since_s",
        "_previous",
        "_previous_key",
        "_reset_done_at_s",
        "_settings",
        "_sp_locked_out",
        "_sp_retries_s",
        "_sp_retry_due_s",
        "_sp_tripped",
        "_system_on",
    )

    def __init__(self, settings: Settings | None = None, *, config_valid: bool = True) -> None:
        self._settings = Settings.factory() if settings is None or not config_valid else settings
        self._config_fault = not config_valid
        self._reset_done_at_s: float | None = None
        self._last_now_s = -math.inf
        self._powered = False
        self._power_lost_at_s: float | None = None
        self._prealarm_damaged = False
        self._previous = _BASELINE
        self._previous_key: _Decision | None = None
        self._reset_volatile_state()

    def _reset_volatile_state(self) -> None:
        """Forget everything a power cycle forgets (timers, latches, trip history)."""
        self._system_on = True
        self._ab_enabled = False
        self._ab_ready_since_s: float | None = None
        self._charge_limited = False
        self._below_release_since_s: float | None = None
        self._input_over_voltage = False
        self._over_temperature = False
        self._alarm_machine_running = False
        self._load_disconnected = False
        self._prealarm_since_s: float | None = None
        self._prealarm_cause = PreAlarmCause.CHAIN
        self._blink_for_s: float | None = None
        self._blink_high = True
        self._blink_edge_s = math.inf
        self._sp_tripped = False
        self._sp_locked_out = False
        self._sp_retry_due_s = math.inf
        self._sp_retries_s: tuple[float, ...] = ()
        self._peak_since_s: float | None = None
        self._overload_since_s: float | None = None

    # --- settings (CFG-1, CFG-2, CFG-4, CFG-5, ERR-2) -----------------------------------------

    @property
    def settings(self) -> Settings:
        """The settings in force."""
        return self._settings

    @property
    def config_fault(self) -> bool:
        """E-B31 is latched (stored configuration corrupted or missing, not yet recovered)."""
        return self._config_fault

    def check_pin(self, pin: str) -> bool:
        """Pairing: True when `pin` is the current PIN (CFG-5)."""
        return pin == self._settings.pin

    def change_settings(
        self, changes: Mapping[str, object], *, pin: str, now_s: float
    ) -> tuple[Event, ...]:
        """Apply settings changes for a paired session, all or nothing (CFG-2, CFG-5).

        Raises `PairingError` with a wrong PIN and `SettingsError` (naming the setting and the
        allowed range) for a refused value; in both cases nothing changes.
        """
        self._require_paired(pin)
        new = self._settings.changed(**changes)
        old_values = self._settings.to_mapping()
        events = tuple(
            SettingsChanged(
                now_s,
                name,
                "******" if name == "pin" else old_values[name],
                "******" if name == "pin" else value,
            )
            for name, value in new.to_mapping().items()
            if value != old_values[name]
        )
        self._settings = new
        return events

    def factory_reset(self, *, pin: str, now_s: float) -> tuple[Event, ...]:
        """Restore every factory setting (CFG-4); the first step of the E-B31 recovery."""
        self._require_paired(pin)
        self._settings = Settings.factory()
        if self._config_fault:
            self._reset_done_at_s = now_s
        return (FactoryResetDone(now_s),)

    def mark_config_corrupted(self) -> None:
        """The settings store reported corruption: latch E-B31 from the next step on (ERR-2)."""
        self._config_fault = True
        self._reset_done_at_s = None

    def _require_paired(self, pin: str) -> None:
        if not self.check_pin(pin):
            msg = "wrong PIN: pair with the device's PIN before changing settings"
            raise PairingError(msg)

    # --- the step -----------------------------------------------------------------------------

    def step(self, inputs: Inputs, now_s: float) -> StepResult:
        """Decide the outputs for the inputs sampled at `now_s` (never earlier than the last)."""
        if not now_s >= self._last_now_s:
            msg = f"time went backwards: {now_s} after {self._last_now_s}"
            raise ValueError(msg)
        self._last_now_s = now_s
        events: list[Event] = []

        if not inputs.powered:
            return self._step_unpowered(inputs, now_s, events)
        if not self._powered:
            self._power_up(now_s, events)

        settings = self._settings
        deadline = NO_DEADLINE

        # 2. system on/off and BMS functionality (REM-1...REM-3)
        remote_on = remote_terminal_on(inputs)
        system_on = remote_on and settings.soft_switch_on
        if system_on != self._system_on:
            self._system_on = system_on
            if system_on:
                events.append(SystemSwitchedOn(now_s))
            else:
                events.append(SystemSwitchedOff(now_s, remote_on, settings.soft_switch_on))
                self._clear_system_plus_trips()  # SP-5: off and on again clears the lock-out
        bms_active = (
            system_on or settings.remote_function is RemoteFunction.ALTERNATOR_AND_SYSTEM_PLUS
        )

        # 3. codes and the safe state (ERR-1...ERR-4, SAFE); codes as bits, a set only on change
        codes = 0
        if not inputs.calibration_ok:
            codes |= _BIT[Code.E_B30]
        if self._config_fault:
            codes |= _BIT[Code.E_B31]
        if not inputs.reference_ok:
            codes |= _BIT[Code.E_B33]
        if bms_active and (
            not inputs.chain_connected
            or (settings.prealarm_usage is PreAlarmUsage.USE and not inputs.chain_supports_prealarm)
        ):
            codes |= _BIT[Code.E_B32]
        safe = bool(codes & _ERROR_BITS)
        monitoring = bms_active and not safe
        atc = monitoring and inputs.allowed_to_charge
        atd = inputs.allowed_to_discharge
        chain_prealarm = inputs.chain_prealarm and settings.prealarm_usage is PreAlarmUsage.USE

        # 4. alarms: pre-alarm and load disconnect (OUT-4...OUT-9, REM-4)
        if monitoring:
            deadline = min(deadline, self._run_alarms(atd, chain_prealarm, now_s))
        else:
            self._alarm_machine_running = False
            self._load_disconnected = False
            self._prealarm_since_s = None
        prealarm_alarm = self._prealarm_since_s is not None
        prealarm_level = Level.FLOATING
        if prealarm_alarm and not self._prealarm_damaged:
            prealarm_level, edge_s = self._prealarm_wave(now_s)
            deadline = min(deadline, edge_s)
        if prealarm_level is Level.HIGH and inputs.prealarm_output_current_a > c.PREALARM_MAX_A:
            self._prealarm_damaged = True
            events.append(PreAlarmOutputDamaged(now_s, inputs.prealarm_output_current_a))
            prealarm_level = Level.FLOATING
        if self._load_disconnected:
            codes |= _BIT[Code.A_B11]
        if prealarm_alarm:
            codes |= _BIT[Code.W_B12]

        # 5. the AB port (ALT-1, ALT-5...ALT-9)
        ab_v = inputs.ab_voltage_v
        if ab_v > c.ALT_INPUT_MAX_V and not self._input_over_voltage:
            self._input_over_voltage = True
            events.append(InputOverVoltageDetected(now_s, ab_v))
        elif ab_v <= c.ALT_INPUT_MAX_V and self._input_over_voltage:
            self._input_over_voltage = False
            events.append(InputOverVoltageCleared(now_s))
        temperature_c = inputs.internal_temperature_c
        if temperature_c >= c.BMS_OVERTEMP_TRIP_C:
            self._over_temperature = True
        elif temperature_c <= c.BMS_OVERTEMP_RELEASE_C:
            self._over_temperature = False
        if self._over_temperature:
            codes |= _BIT[Code.A_B15]
        deadline = min(deadline, self._run_charge_limit(inputs.bank_voltage_v, now_s, events))
        ab_ready = (
            system_on
            and atc
            and not self._over_temperature
            and c.ALT_ENGAGE_V < ab_v <= c.ALT_INPUT_MAX_V
        )
        if not ab_ready:
            self._ab_ready_since_s = None
        elif self._ab_ready_since_s is None:
            self._ab_ready_since_s = now_s
        ab_enabled = False
        if self._ab_ready_since_s is not None and not self._charge_limited:
            engage_at_s = self._ab_ready_since_s + c.ALT_ENGAGE_DEBOUNCE_S
            if now_s >= engage_at_s:
                ab_enabled = True
            else:
                deadline = min(deadline, engage_at_s)
        if ab_enabled != self._ab_enabled:
            self._ab_enabled = ab_enabled
            if ab_enabled:
                events.append(AlternatorInputEnabled(now_s))
            else:
                reason = self._ab_off_reason(inputs, system_on, safe, atc)
                events.append(AlternatorInputDisabled(now_s, reason))
        setpoint_v = (
            c.FUSE_SENSE_REF_V * alternator_limit_factor(temperature_c) if ab_enabled else 0.0
        )

        # 6. System+ (SP-1...SP-6)
        deadline = min(deadline, self._run_system_plus(inputs, now_s, events))
        if self._sp_tripped:
            codes |= _BIT[Code.A_A12]
        port_usable = system_on and not safe and not self._sp_tripped
        charge_allowed = port_usable and atc
        discharge_allowed = port_usable and not self._load_disconnected

        # 7. outputs, LEDs, readings, events. Most steps decide exactly what the previous one
        # did: then the previous Outputs value is returned again and no events are derived.
        load_high = monitoring and not self._load_disconnected
        alternator_flowing = (
            ab_enabled and inputs.alternator_fuse_drop_v > c.ALT_CHARGING_MIN_DROP_V
        )
        key = _Decision(
            ab_enabled,
            setpoint_v,
            charge_allowed,
            discharge_allowed,
            load_high,
            atc,
            prealarm_level,
            prealarm_alarm,
            codes,
            system_on,
            bms_active,
            alternator_flowing,
            inputs.app_connected,
            settings.remote_function,
        )
        if key != self._previous_key:
            outputs = self._outputs(key)
            self._diff(self._previous, outputs, now_s, events)
            self._previous = outputs
            self._previous_key = key
        return StepResult(self._previous, self._readings(inputs), tuple(events), deadline)

    @staticmethod
    def _outputs(d: "_Decision") -> Outputs:
        """Build the Outputs value for a decision (see the end of `step`)."""
        codes = d.codes
        safe = bool(codes & _ERROR_BITS)
        leds = Leds(
            alternator_charging=LedMode.ON if d.alternator_flowing else LedMode.OFF,
            over_temperature=LedMode.ON if codes & _BIT[Code.A_B15] else LedMode.OFF,
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
            codes=_code_set(codes),
            system_on=d.system_on,
            bms_active=d.bms_active,
            safe_state=safe,
            supply_current_a=supply_current_a(d.system_on, d.remote_function),
        )

    # --- pieces of the step -------------------------------------------------------------------

    def _step_unpowered(self, inputs: Inputs, now_s: float, events: list[Event]) -> StepResult:
        if self._powered:
            self._powered = False
            self._power_lost_at_s = now_s
            events.append(PowerLost(now_s))
            if self._ab_enabled:
                events.append(AlternatorInputDisabled(now_s, AlternatorOffReason.POWER_LOST))
            events.extend(
                CodeCleared(now_s, code) for code in sorted(self._previous.codes, key=_code_order)
            )
            self._previous = _BASELINE
            self._previous_key = None
            self._ab_enabled = False
        return StepResult(ALL_OPEN, self._readings(inputs), tuple(events), NO_DEADLINE)

    def _power_up(self, now_s: float, events: list[Event]) -> None:
        self._powered = True
        if self._power_lost_at_s is not None:
            off_s = now_s - self._power_lost_at_s
            events.append(PowerRestored(now_s, off_s))
            reset_at = self._reset_done_at_s
            if (
                self._config_fault
                and reset_at is not None
                and reset_at <= self._power_lost_at_s
                and off_s >= c.E_B31_POWER_OFF_MIN_S
            ):
                self._config_fault = False
                self._reset_done_at_s = None
        self._power_lost_at_s = None
        self._reset_volatile_state()

    def _run_alarms(self, atd: bool, chain_prealarm: bool, now_s: float) -> float:
        """Advance the pre-alarm / load-disconnect machine; return its next deadline."""
        starting = not self._alarm_machine_running
        self._alarm_machine_running = True
        if not atd:
            if self._load_disconnected:
                return NO_DEADLINE
            if starting:
                # REM-4: the loads were already off (BMS off, safe state or just powered):
                # the protection applies at once, without a fresh 30 s of load.
                self._load_disconnected = True
                self._prealarm_since_s = None
                return NO_DEADLINE
            if self._prealarm_since_s is None:
                self._prealarm_since_s = now_s
                self._prealarm_cause = PreAlarmCause.UNDER_VOLTAGE
            disconnect_at_s = self._prealarm_since_s + c.PREALARM_MIN_LEAD_S
            if now_s >= disconnect_at_s:
                self._load_disconnected = True
                self._prealarm_since_s = None  # OUT-7: the alarm must not drain the battery
                return NO_DEADLINE
            return disconnect_at_s
        self._load_disconnected = False  # OUT-8: ATD is back
        if not chain_prealarm:
            self._prealarm_since_s = None
        elif self._prealarm_since_s is None:
            self._prealarm_since_s = now_s
            self._prealarm_cause = PreAlarmCause.CHAIN
        return NO_DEADLINE

    def _prealarm_wave(self, now_s: float) -> tuple[Level, float]:
        """The pre-alarm terminal now, and when it next changes by itself (OUT-6).

        The next edge is kept as state and moved on by exactly ON or OFF seconds, so the level
        flips exactly at the deadline announced before, never a rounding step earlier.
        """
        if self._settings.prealarm_mode is PreAlarmMode.CONTINUOUS:
            self._blink_for_s = None
            return Level.HIGH, NO_DEADLINE
        start_s = self._prealarm_since_s
        assert start_s is not None  # noqa: S101  # caller checked
        if self._blink_for_s != start_s:  # a new alarm, or intermittent mode just chosen
            self._blink_for_s = start_s
            period_s = c.PREALARM_BLINK_ON_S + c.PREALARM_BLINK_OFF_S
            cycles = math.floor((now_s - start_s) / period_s)
            if start_s + cycles * period_s > now_s:
                cycles -= 1
            cycle_start_s = start_s + cycles * period_s
            self._blink_high = True
            self._blink_edge_s = cycle_start_s + c.PREALARM_BLINK_ON_S
        while now_s >= self._blink_edge_s:
            if self._blink_high:
                self._blink_high = False
                self._blink_edge_s += c.PREALARM_BLINK_OFF_S
            else:
                self._blink_high = True
                self._blink_edge_s += c.PREALARM_BLINK_ON_S
        return (Level.HIGH if self._blink_high else Level.FLOATING), self._blink_edge_s

    def _run_charge_limit(self, bank_v: float, now_s: float, events: list[Event]) -> float:
        """ALT-5: latch at the limit; release after 10 s in a row at or below limit - 0.5 V."""
        limit_v = self._settings.charge_limit_v
        if bank_v >= limit_v:
            if not self._charge_limited:
                self._charge_limited = True
                events.append(ChargeLimitReached(now_s, bank_v))
            self._below_release_since_s = None
            return NO_DEADLINE
        if not self._charge_limited:
            return NO_DEADLINE
        if bank_v > limit_v - c.ALT_RECONNECT_HYST_V:
            self._below_release_since_s = None  # any moment above restarts the 10 s
            return NO_DEADLINE
        if self._below_release_since_s is None:
            self._below_release_since_s = now_s
        release_at_s = self._below_release_since_s + c.ALT_RECONNECT_HOLD_S
        if now_s >= release_at_s:
            self._charge_limited = False
            self._below_release_since_s = None
            events.append(ChargeLimitReleased(now_s))
            return NO_DEADLINE
        return release_at_s

    def _run_system_plus(self, inputs: Inputs, now_s: float, events: list[Event]) -> float:
        """SP-5: trip on short, peak or continuous overload; retry, then lock out."""
        if self._sp_tripped:
            if self._sp_locked_out:
                return NO_DEADLINE
            if now_s < self._sp_retry_due_s:
                return self._sp_retry_due_s
            self._sp_tripped = False
            window_start_s = now_s - c.SP_RETRY_WINDOW_S
            self._sp_retries_s = (
                *(t for t in self._sp_retries_s if t > window_start_s),
                now_s,
            )
            events.append(SystemPlusRetried(now_s, len(self._sp_retries_s)))
        current_a = inputs.system_plus_current_a
        discharge_a = -current_a
        deadline = NO_DEADLINE
        cause: TripCause | None = None
        if discharge_a > c.SP_SHORT_CIRCUIT_A:
            cause = TripCause.SHORT_CIRCUIT
        if discharge_a > c.SP_PEAK_A:
            if self._peak_since_s is None:
                self._peak_since_s = now_s
            peak_end_s = self._peak_since_s + c.SP_PEAK_MAX_S
            if now_s >= peak_end_s:
                cause = cause or TripCause.PEAK_OVERLOAD
            else:
                deadline = min(deadline, peak_end_s)
        else:
            self._peak_since_s = None
        if abs(current_a) > c.SP_CONTINUOUS_A:
            if self._overload_since_s is None:
                self._overload_since_s = now_s
            overload_end_s = self._overload_since_s + c.SP_OVERLOAD_MAX_S
            if now_s >= overload_end_s:
                cause = cause or TripCause.CONTINUOUS_OVERLOAD
            else:
                deadline = min(deadline, overload_end_s)
        else:
            self._overload_since_s = None
        if cause is None:
            return deadline
        self._sp_tripped = True
        self._peak_since_s = None
        self._overload_since_s = None
        events.append(SystemPlusTripped(now_s, cause, current_a))
        window_start_s = now_s - c.SP_RETRY_WINDOW_S
        recent = sum(1 for t in self._sp_retries_s if t > window_start_s)
        if recent >= c.SP_RETRY_MAX:
            self._sp_locked_out = True
            events.append(SystemPlusLockedOut(now_s))
            return NO_DEADLINE
        self._sp_retry_due_s = now_s + c.SP_RETRY_DELAY_S
        return self._sp_retry_due_s

    def _clear_system_plus_trips(self) -> None:
        self._sp_tripped = False
        self._sp_locked_out = False
        self._sp_retry_due_s = math.inf
        self._sp_retries_s = ()
        self._peak_since_s = None
        self._overload_since_s = None

    def _ab_off_reason(
        self, inputs: Inputs, system_on: bool, safe: bool, atc: bool
    ) -> AlternatorOffReason:
        if safe:
            return AlternatorOffReason.SAFE_STATE
        if not system_on:
            return AlternatorOffReason.SYSTEM_OFF
        if not atc:
            return AlternatorOffReason.CHARGE_NOT_ALLOWED
        if self._over_temperature:
            return AlternatorOffReason.OVER_TEMPERATURE
        if inputs.ab_voltage_v > c.ALT_INPUT_MAX_V:
            return AlternatorOffReason.INPUT_OVER_VOLTAGE
        if inputs.ab_voltage_v <= c.ALT_ENGAGE_V:
            return AlternatorOffReason.INPUT_TOO_LOW
        return AlternatorOffReason.CHARGE_LIMIT

    def _readings(self, inputs: Inputs) -> Readings:
        """ALT-10: current from the fuse drop and the *configured* fuse type, or nothing."""
        fuse = self._settings.fuse_type
        if fuse is FuseType.NOT_SET or not inputs.powered:
            return Readings(
                bank_voltage_v=inputs.bank_voltage_v,
                ab_voltage_v=inputs.ab_voltage_v,
                system_plus_voltage_v=inputs.system_plus_voltage_v,
                alternator_current_a=None,
                alternator_current_pct=None,
                fuse_type_prompt=fuse is FuseType.NOT_SET,
            )
        drop_v = max(inputs.alternator_fuse_drop_v, 0.0)
        return Readings(
            bank_voltage_v=inputs.bank_voltage_v,
            ab_voltage_v=inputs.ab_voltage_v,
            system_plus_voltage_v=inputs.system_plus_voltage_v,
            alternator_current_a=drop_v * _AMPERES_PER_VOLT[fuse],
            alternator_current_pct=drop_v * _PERCENT_PER_VOLT[fuse],
            fuse_type_prompt=False,
        )

    def _diff(self, old: Outputs, new: Outputs, now_s: float, events: list[Event]) -> None:
        """Turn output changes into events, in a fixed, readable order."""
        if new.safe_state and not old.safe_state:
            events.append(SafeStateEntered(now_s))
        elif old.safe_state and not new.safe_state:
            events.append(SafeStateLeft(now_s))
        for code in sorted(new.codes - old.codes, key=_code_order):
            events.append(CodeRaised(now_s, code))
        for code in sorted(old.codes - new.codes, key=_code_order):
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
                PreAlarmRaised(now_s, self._prealarm_cause)
                if new.prealarm_alarm
                else PreAlarmCleared(now_s)
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


_CODE_ORDER = {code: index for index, code in enumerate(Code)}


def _code_order(code: Code) -> int:
    return _CODE_ORDER[code]
