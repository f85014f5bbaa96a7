"""The Smart BMS 12-200's decisions, as a pure, deterministic state machine.

Theory of operation
-------------------
The caller samples the terminals (`Inputs`) and calls `step(inputs, now_s)`. The controller never
reads a clock: every timer is a `Hold` (a start time) compared with `now_s`, and every step
returns the earliest future time at which a timer would change an output even if no input
changed (`next_deadline_s`). A simulator can therefore jump straight to that time, and a live
loop can sleep until then; both call the controller the same way and get the same answers.

Each step first checks its door (`smartbms.core.validate`): a wrong type or a bad `now_s` is
refused before anything changes. A non-finite or impossible reading is a failed measurement: it
is never used as a number (no latch or timer moves on it), and the paths it gates stay on their
safe side until it has read valid for a while. Then it derives, in order, one method per phase:

1. **Power** (`_admit`). Without supply every output is dead. The outage is timed, because the
   E-B31 recovery needs a factory reset followed by at least 3 minutes without power (ERR-2).
2. **System on/off** (`_switch_system`). The remote terminal (loop L-H, V_L < 5 V or
   V_H > 3 V) and the soft switch. With "Switch everything off" an OFF system also stops the
   BMS functionality (REM-2).
3. **Codes and the safe state** (`decision.error_codes`). Internal self-tests (E-B30, E-B33), the
   configuration (E-B31) and the chain (E-B32) hold the BMS in the safe state: everything open
   or floating (SAFE).
4. **Alarms** (`_alarms`). The chain's ATD and pre-alarm lines drive the pre-alarm output and
   the load disconnect, which never follows less than 30 s after the pre-alarm rose (OUT-4).
   When the BMS (re)starts with ATD already withdrawn the loads were off already and stay off
   (REM-4).
5. **The AB port** (`_alternator_port`). It closes once all of its conditions
   (13.0 V < V_AB <= 16 V, ATC, system on, no safe state, not over-temperature) have held for
   1 s, and while the charge limit is not latched; it opens the moment any condition fails.
   The charge limit latches at the limit and releases after 10 consecutive seconds at or below
   limit - 0.5 V (ALT-5).
6. **System+** (`_system_plus_port`). Charge needs ATC, discharge needs no load disconnect; both
   need the system on and no safe state. Over-currents trip it (A-A12) with timed retries and a
   lock-out (SP-5).
7. **Outputs, LEDs, readings, events** (`step`, `_publish`, `smartbms.core.decision`). Events
   are the differences between this step's outputs and the previous step's, plus the one-off
   happenings (trips, retries, settings).
"""

import math
from collections.abc import Mapping

from smartbms.core import constants as c
from smartbms.core.controller_state import ControllerState
from smartbms.core.decision import (
    BASELINE,
    Decision,
    DecisionFields,
    ab_off_reason,
    alarm_codes,
    alternator_limit_factor,
    code_order,
    error_codes,
    output_events,
    outputs_of,
    readings_of,
    remote_terminal_on,
)
from smartbms.core.events import (
    AlternatorInputDisabled,
    AlternatorInputEnabled,
    AlternatorOffReason,
    ChargeLimitReached,
    ChargeLimitReleased,
    CodeCleared,
    Event,
    FactoryResetDone,
    InputOverVoltageCleared,
    InputOverVoltageDetected,
    PowerLost,
    PowerRestored,
    PreAlarmCause,
    PreAlarmOutputDamaged,
    SettingsChanged,
    SystemPlusLockedOut,
    SystemPlusRetried,
    SystemPlusTripped,
    SystemSwitchedOff,
    SystemSwitchedOn,
    TripCause,
)
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
    Level,
    StepResult,
    fast_step_result,
)
from smartbms.core.timing import Hold
from smartbms.core.validate import (
    AB,
    AB_PORT_GATES,
    BANK,
    FUSE_DROP,
    PREALARM_A,
    REMOTE_GATES,
    SYSTEM_PLUS_A,
    SYSTEM_PLUS_GATES,
    TEMPERATURE,
    MeasurementWatch,
    inputs_ok,
    measurement_failures,
    refuse_time,
)

__all__ = [
    "Controller",
    "ControllerState",
    "StepResult",
    "alternator_limit_factor",
    "remote_terminal_on",
]


_AB_READY = Hold(c.ALT_ENGAGE_DEBOUNCE_S)
_CHARGE_RELEASE = Hold(c.ALT_RECONNECT_HOLD_S)
_PREALARM = Hold(c.PREALARM_MIN_LEAD_S)
_SP_RETRY = Hold(c.SP_RETRY_DELAY_S)
_PEAK = Hold(c.SP_PEAK_MAX_S)
_OVERLOAD = Hold(c.SP_OVERLOAD_MAX_S)
"""The controller's timers, idle (ALT-1, ALT-5, OUT-4, SP-5)."""
_INF, _MINUS_INF = math.inf, -math.inf


class Controller:
    """The Smart BMS 12-200's brain. Feed it `Inputs` and `now_s`; it never reads a clock.

    `settings` are the stored settings; `config_valid=False` means the store found them missing
    or corrupted: the controller then runs on factory settings in the safe state with E-B31.
    Its whole memory is one `ControllerState` value: `snapshot`, `restore` and `from_state`.
    """

    __slots__ = (
        "_ab_enabled", "_ab_ready", "_alarm_machine_running", "_blink_edge_s", "_blink_for_s",
        "_blink_high", "_charge_limited", "_charge_release", "_config_fault", "_input_over_voltage",
        "_last_now_s", "_load_disconnected", "_measurements", "_over_temperature", "_overload",
        "_peak", "_power_lost_at_s", "_powered", "_prealarm", "_prealarm_cause",
        "_prealarm_damaged", "_previous", "_previous_decision", "_reset_done_at_s", "_settings",
        "_sp_locked_out", "_sp_retries_s", "_sp_retry", "_sp_tripped", "_system_on",
    )  # fmt: skip

    def __init__(self, settings: Settings | None = None, *, config_valid: bool = True) -> None:
        self._settings = Settings.factory() if settings is None or not config_valid else settings
        self._config_fault = not config_valid
        self._reset_done_at_s: float | None = None
        self._last_now_s = -math.inf
        self._powered = False
        self._power_lost_at_s: float | None = None
        self._prealarm_damaged = False
        self._measurements = MeasurementWatch()
        self._previous = BASELINE
        self._previous_decision: Decision | None = None
        self._reset_volatile_state()

    def _reset_volatile_state(self) -> None:
        """Forget everything a power cycle forgets (timers, latches, trip history)."""
        self._system_on = True
        self._ab_enabled = False
        self._ab_ready = _AB_READY
        self._charge_limited = False
        self._charge_release = _CHARGE_RELEASE
        self._input_over_voltage = False
        self._over_temperature = False
        self._alarm_machine_running = False
        self._load_disconnected = False
        self._prealarm = _PREALARM
        self._prealarm_cause = PreAlarmCause.CHAIN
        self._blink_for_s: float | None = None
        self._blink_high = True
        self._blink_edge_s = math.inf
        self._sp_tripped = False
        self._sp_locked_out = False
        self._sp_retry = _SP_RETRY
        self._sp_retries_s: tuple[float, ...] = ()
        self._peak = _PEAK
        self._overload = _OVERLOAD

    # --- state (snapshots for the twin) --------------------------------------------------------

    def snapshot(self) -> ControllerState:
        """Everything this controller remembers, as one frozen value (see `restore`)."""
        return ControllerState(
            settings=self._settings,
            config_fault=self._config_fault,
            reset_done_at_s=self._reset_done_at_s,
            last_now_s=self._last_now_s,
            powered=self._powered,
            power_lost_at_s=self._power_lost_at_s,
            prealarm_damaged=self._prealarm_damaged,
            measurements=self._measurements,
            previous=self._previous,
            previous_decision=self._previous_decision,
            system_on=self._system_on,
            ab_enabled=self._ab_enabled,
            ab_ready=self._ab_ready,
            charge_limited=self._charge_limited,
            charge_release=self._charge_release,
            input_over_voltage=self._input_over_voltage,
            over_temperature=self._over_temperature,
            alarm_machine_running=self._alarm_machine_running,
            load_disconnected=self._load_disconnected,
            prealarm=self._prealarm,
            prealarm_cause=self._prealarm_cause,
            blink_for_s=self._blink_for_s,
            blink_high=self._blink_high,
            blink_edge_s=self._blink_edge_s,
            sp_tripped=self._sp_tripped,
            sp_locked_out=self._sp_locked_out,
            sp_retry=self._sp_retry,
            sp_retries_s=self._sp_retries_s,
            peak=self._peak,
            overload=self._overload,
        )

    def restore(self, state: ControllerState) -> None:
        """Continue exactly as the controller `state` was taken from would (every field is set)."""
        self._settings = state.settings
        self._config_fault = state.config_fault
        self._reset_done_at_s = state.reset_done_at_s
        self._last_now_s = state.last_now_s
        self._powered = state.powered
        self._power_lost_at_s = state.power_lost_at_s
        self._prealarm_damaged = state.prealarm_damaged
        self._measurements = state.measurements
        self._previous = state.previous
        self._previous_decision = state.previous_decision
        self._system_on = state.system_on
        self._ab_enabled = state.ab_enabled
        self._ab_ready = state.ab_ready
        self._charge_limited = state.charge_limited
        self._charge_release = state.charge_release
        self._input_over_voltage = state.input_over_voltage
        self._over_temperature = state.over_temperature
        self._alarm_machine_running = state.alarm_machine_running
        self._load_disconnected = state.load_disconnected
        self._prealarm = state.prealarm
        self._prealarm_cause = state.prealarm_cause
        self._blink_for_s = state.blink_for_s
        self._blink_high = state.blink_high
        self._blink_edge_s = state.blink_edge_s
        self._sp_tripped = state.sp_tripped
        self._sp_locked_out = state.sp_locked_out
        self._sp_retry = state.sp_retry
        self._sp_retries_s = state.sp_retries_s
        self._peak = state.peak
        self._overload = state.overload

    def __copy__(self) -> "Controller":
        """A copy that shares every (immutable) value: the simulator's cheap probe.

        Written out because it is on the simulator's hot path: about ten times faster than
        `copy.copy`'s generic route through the slots.
        """
        new = Controller.__new__(Controller)
        new._ab_enabled = self._ab_enabled
        new._ab_ready = self._ab_ready
        new._alarm_machine_running = self._alarm_machine_running
        new._blink_edge_s = self._blink_edge_s
        new._blink_for_s = self._blink_for_s
        new._blink_high = self._blink_high
        new._charge_limited = self._charge_limited
        new._charge_release = self._charge_release
        new._config_fault = self._config_fault
        new._input_over_voltage = self._input_over_voltage
        new._last_now_s = self._last_now_s
        new._load_disconnected = self._load_disconnected
        new._measurements = self._measurements
        new._over_temperature = self._over_temperature
        new._overload = self._overload
        new._peak = self._peak
        new._power_lost_at_s = self._power_lost_at_s
        new._powered = self._powered
        new._prealarm = self._prealarm
        new._prealarm_cause = self._prealarm_cause
        new._prealarm_damaged = self._prealarm_damaged
        new._previous = self._previous
        new._previous_decision = self._previous_decision
        new._reset_done_at_s = self._reset_done_at_s
        new._settings = self._settings
        new._sp_locked_out = self._sp_locked_out
        new._sp_retries_s = self._sp_retries_s
        new._sp_retry = self._sp_retry
        new._sp_tripped = self._sp_tripped
        new._system_on = self._system_on
        return new

    @classmethod
    def from_state(cls, state: ControllerState) -> "Controller":
        """A new controller that continues from `state` (a fork: the source is not shared)."""
        controller = cls.__new__(cls)
        controller.restore(state)
        return controller

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
        """Decide the outputs for the inputs sampled at `now_s` (finite, never before the last).

        A wrong type in `inputs` (TypeError) or a bad `now_s` (ValueError) is refused before
        anything changes. The phases run in the order of the module docstring: each one reads
        what the earlier ones decided, and the events come out in that order.
        """
        try:
            time_bad = not self._last_now_s <= now_s < _INF or now_s == _MINUS_INF
        except TypeError:
            time_bad = True
        if time_bad:
            refuse_time(now_s, self._last_now_s)
        bad = 0 if inputs_ok(inputs) else measurement_failures(inputs)
        events: list[Event] = []
        if not self._admit(inputs, now_s, events):
            return fast_step_result(
                ALL_OPEN, readings_of(inputs, self._settings.fuse_type), tuple(events), NO_DEADLINE
            )
        measure_due_s = NO_DEADLINE
        if bad or self._measurements.failed:
            self._measurements, measure_due_s = self._measurements.look(inputs, bad, now_s, events)
        settings = self._settings
        system_on = self._switch_system(inputs, settings, now_s, events)
        bms_active = (
            system_on or settings.remote_function is RemoteFunction.ALTERNATOR_AND_SYSTEM_PLUS
        )
        errors = error_codes(inputs, settings, bms_active, config_fault=self._config_fault)
        safe = errors != 0
        monitoring = bms_active and not safe
        atc = monitoring and inputs.allowed_to_charge
        prealarm_level, alarm_due_s = self._alarms(
            inputs, settings, monitoring, now_s, events, bad=bad
        )
        setpoint_v, ab_due_s = self._alternator_port(
            inputs, now_s, events, system_on=system_on, safe=safe, atc=atc, bad=bad
        )
        sp_gated = self._measurements.failed & SYSTEM_PLUS_GATES
        sp_due_s = self._system_plus_port(inputs, now_s, events, bad=bad)

        # outputs: most steps decide exactly what the previous one did; then the previous
        # Outputs value is returned again and no events are derived.
        ab_enabled = self._ab_enabled
        load_disconnected = self._load_disconnected
        prealarm_alarm = self._prealarm.running
        port_usable = system_on and not safe and not self._sp_tripped and not sp_gated
        decision: DecisionFields = (
            ab_enabled,
            setpoint_v,
            port_usable and atc,
            port_usable and not load_disconnected,
            monitoring and not load_disconnected,
            atc,
            prealarm_level,
            prealarm_alarm,
            errors
            | alarm_codes(
                self._load_disconnected, prealarm_alarm, self._over_temperature, self._sp_tripped
            ),
            system_on,
            bms_active,
            ab_enabled and inputs.alternator_fuse_drop_v > c.ALT_CHARGING_MIN_DROP_V,
            inputs.app_connected,
            settings.remote_function,
        )
        if decision != self._previous_decision:
            self._publish(Decision._make(decision), now_s, events)
        return fast_step_result(
            self._previous,
            readings_of(inputs, settings.fuse_type, drop_valid=not bad & FUSE_DROP),
            tuple(events),
            min(alarm_due_s, ab_due_s, sp_due_s, measure_due_s),
        )

    # --- phases of the step -------------------------------------------------------------------

    def _admit(self, inputs: Inputs, now_s: float, events: list[Event]) -> bool:
        """Take the (checked) time and follow the supply; False when unpowered (all dead).

        Time only moves forward because every timer compares stamps with `now_s`. The outage is
        timed because the E-B31 recovery needs at least 3 minutes without power (ERR-2).
        """
        self._last_now_s = now_s
        if not inputs.powered:
            if self._powered:
                self._power_down(now_s, events)
            return False
        if not self._powered:
            self._power_up(now_s, events)
        return True

    def _switch_system(
        self, inputs: Inputs, settings: Settings, now_s: float, events: list[Event]
    ) -> bool:
        """System on/off from the remote terminal and the soft switch (REM-1...REM-3).

        Switching off clears the System+ lock-out (SP-5: off and on again is the reset). A
        failed L or H reading leaves the terminal at its last known state: no switch is seen,
        no lock-out cleared; the soft switch still turns the system off.
        """
        remote_on = (
            self._system_on
            if self._measurements.failed & REMOTE_GATES
            else remote_terminal_on(inputs)
        )
        system_on = remote_on and settings.soft_switch_on
        if system_on != self._system_on:
            self._system_on = system_on
            if system_on:
                events.append(SystemSwitchedOn(now_s))
            else:
                events.append(SystemSwitchedOff(now_s, remote_on, settings.soft_switch_on))
                self._clear_system_plus_trips()
        return system_on

    def _alarms(
        self,
        inputs: Inputs,
        settings: Settings,
        monitoring: bool,
        now_s: float,
        events: list[Event],
        *,
        bad: int,
    ) -> tuple[Level, float]:
        """The pre-alarm terminal and the load disconnect (OUT-4...OUT-9, REM-4).

        Only a monitoring BMS runs the alarm machine; otherwise it restarts from scratch, so a
        start with ATD already withdrawn keeps the loads off (REM-4). Returns the pre-alarm
        level and the next deadline (the disconnect, or the blink's next edge). An invalid
        reading of its current (in `bad`) leaves the output warning, unjudged.
        """
        deadline = NO_DEADLINE
        if monitoring:
            chain_prealarm = inputs.chain_prealarm and settings.prealarm_usage is PreAlarmUsage.USE
            deadline = self._run_alarms(inputs.allowed_to_discharge, chain_prealarm, now_s)
        else:
            self._alarm_machine_running = False
            self._load_disconnected = False
            self._prealarm = self._prealarm.stop()
        if not self._prealarm.running or self._prealarm_damaged:
            return Level.FLOATING, deadline
        level, edge_s = self._prealarm_wave(now_s)
        if (
            level is Level.HIGH
            and not bad & PREALARM_A
            and inputs.prealarm_output_current_a > c.PREALARM_MAX_A
        ):
            self._prealarm_damaged = True  # OUT-9: the output stays floating from now on
            events.append(PreAlarmOutputDamaged(now_s, inputs.prealarm_output_current_a))
            level = Level.FLOATING
        return level, min(deadline, edge_s)

    def _alternator_port(
        self,
        inputs: Inputs,
        now_s: float,
        events: list[Event],
        *,
        system_on: bool,
        safe: bool,
        atc: bool,
        bad: int,
    ) -> tuple[float, float]:
        """The AB port (ALT-1, ALT-5...ALT-9); returns its fuse-drop set point and deadline.

        It closes once all of its conditions have held for 1 s and while the charge limit is
        not latched, and opens the moment any condition fails or a measurement it needs has
        failed (until it recovers). An invalid reading (in `bad`) moves no latch.
        """
        ab_v = inputs.ab_voltage_v
        if bad & AB:
            pass
        elif ab_v > c.ALT_INPUT_MAX_V and not self._input_over_voltage:
            self._input_over_voltage = True
            events.append(InputOverVoltageDetected(now_s, ab_v))
        elif ab_v <= c.ALT_INPUT_MAX_V and self._input_over_voltage:
            self._input_over_voltage = False
            events.append(InputOverVoltageCleared(now_s))
        temperature_c = inputs.internal_temperature_c
        if bad & TEMPERATURE:
            pass
        elif temperature_c >= c.BMS_OVERTEMP_TRIP_C:
            self._over_temperature = True
        elif temperature_c <= c.BMS_OVERTEMP_RELEASE_C:
            self._over_temperature = False
        if bad & BANK:  # no moment below the limit: it stays latched, its 10 s start again
            self._charge_release = self._charge_release.stop()
            deadline = NO_DEADLINE
        else:
            deadline = self._run_charge_limit(inputs.bank_voltage_v, now_s, events)
        gated = self._measurements.failed & AB_PORT_GATES != 0
        ready = self._ab_ready = self._ab_ready.look(
            not gated
            and system_on
            and atc
            and not self._over_temperature
            and c.ALT_ENGAGE_V < ab_v <= c.ALT_INPUT_MAX_V,
            now_s,
        )
        ab_enabled = False
        if not self._charge_limited:
            if ready.done(now_s):
                ab_enabled = True
            elif ready.running:
                deadline = min(deadline, ready.due_s)
        if ab_enabled != self._ab_enabled:
            self._ab_enabled = ab_enabled
            if ab_enabled:
                events.append(AlternatorInputEnabled(now_s))
            else:
                reason = ab_off_reason(
                    inputs.ab_voltage_v,
                    system_on=system_on,
                    safe=safe,
                    atc=atc,
                    over_temperature=self._over_temperature,
                    measurement_failed=gated,
                )
                events.append(AlternatorInputDisabled(now_s, reason))
        if not ab_enabled:
            return 0.0, deadline
        return c.FUSE_SENSE_REF_V * alternator_limit_factor(temperature_c), deadline

    def _system_plus_port(
        self, inputs: Inputs, now_s: float, events: list[Event], *, bad: int
    ) -> float:
        """System+ (SP-5): trip on short, peak or continuous overload; retry, then lock out.

        Returns the next deadline. Whether the port may charge or discharge follows in `step`
        from the trip and the other phases (SP-1...SP-4). While a measurement it needs has
        failed the port is cut and does not retry; an invalid current (in `bad`) breaks the
        holds, and a valid one trips as ever, recovering or not.
        """
        if self._sp_tripped:
            if self._sp_locked_out or self._measurements.failed & SYSTEM_PLUS_GATES:
                return NO_DEADLINE  # failed: the measurement's recovery deadline wakes it
            if not self._sp_retry.done(now_s):
                return self._sp_retry.due_s
            self._retry_system_plus(now_s, events)
        if bad & SYSTEM_PLUS_A:
            self._peak = self._peak.stop()
            self._overload = self._overload.stop()
            return NO_DEADLINE
        current_a = inputs.system_plus_current_a
        discharge_a = -current_a
        deadline = NO_DEADLINE
        cause: TripCause | None = None
        if discharge_a > c.SP_SHORT_CIRCUIT_A:
            cause = TripCause.SHORT_CIRCUIT
        if discharge_a > c.SP_PEAK_A:
            peak = self._peak = self._peak.start(now_s)
            if peak.done(now_s):
                cause = cause or TripCause.PEAK_OVERLOAD
            else:
                deadline = peak.due_s
        else:
            self._peak = self._peak.stop()
        if abs(current_a) > c.SP_CONTINUOUS_A:
            overload = self._overload = self._overload.start(now_s)
            if overload.done(now_s):
                cause = cause or TripCause.CONTINUOUS_OVERLOAD
            else:
                deadline = min(deadline, overload.due_s)
        else:
            self._overload = self._overload.stop()
        if cause is None:
            return deadline
        return self._trip_system_plus(cause, current_a, now_s, events)

    def _publish(self, decision: Decision, now_s: float, events: list[Event]) -> None:
        """A new decision: build its Outputs (LEDs, codes) and report what changed as events."""
        outputs = outputs_of(decision)
        output_events(self._previous, outputs, now_s, self._prealarm_cause, events)
        self._previous = outputs
        self._previous_decision = decision

    # --- pieces of the phases -----------------------------------------------------------------

    def _power_down(self, now_s: float, events: list[Event]) -> None:
        """Supply lost: everything opens at once, and every active code is cleared."""
        self._powered = False
        self._power_lost_at_s = now_s
        events.append(PowerLost(now_s))
        if self._ab_enabled:
            events.append(AlternatorInputDisabled(now_s, AlternatorOffReason.POWER_LOST))
        events.extend(
            CodeCleared(now_s, code) for code in sorted(self._previous.codes, key=code_order)
        )
        self._previous = BASELINE
        self._previous_decision = None
        self._ab_enabled = False

    def _power_up(self, now_s: float, events: list[Event]) -> None:
        """Supply back: forget the volatile state; complete the E-B31 recovery if it is due.

        The outage is a measured length (reported, and compared once with 3 minutes), not a
        hold with a deadline, so it stays a time stamp rather than a `Hold`.
        """
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
        self._measurements = self._measurements.restarted()
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
                self._prealarm = self._prealarm.stop()
                return NO_DEADLINE
            if not self._prealarm.running:
                self._prealarm = self._prealarm.start(now_s)
                self._prealarm_cause = PreAlarmCause.UNDER_VOLTAGE
            if self._prealarm.done(now_s):
                self._load_disconnected = True
                self._prealarm = self._prealarm.stop()  # OUT-7: must not drain the battery
                return NO_DEADLINE
            return self._prealarm.due_s
        self._load_disconnected = False  # OUT-8: ATD is back
        if not chain_prealarm:
            self._prealarm = self._prealarm.stop()
        elif not self._prealarm.running:
            self._prealarm = self._prealarm.start(now_s)
            self._prealarm_cause = PreAlarmCause.CHAIN
        return NO_DEADLINE

    def _prealarm_wave(self, now_s: float) -> tuple[Level, float]:
        """The pre-alarm terminal now, and when it next changes by itself (OUT-6).

        The next edge is kept as state and moved on by exactly ON or OFF seconds, so the level
        flips exactly at the deadline announced before, never a rounding step earlier. This is
        a square wave, not a hold: it stays as edges rather than `Hold` values, since a Hold
        restarted at each edge would add up its delays the same way with more allocation.
        """
        if self._settings.prealarm_mode is PreAlarmMode.CONTINUOUS:
            self._blink_for_s = None
            return Level.HIGH, NO_DEADLINE
        start_s = self._prealarm.since_s
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
            self._charge_release = self._charge_release.stop()
            return NO_DEADLINE
        if not self._charge_limited:
            return NO_DEADLINE
        if bank_v > limit_v - c.ALT_RECONNECT_HYST_V:
            self._charge_release = self._charge_release.stop()  # any moment above restarts it
            return NO_DEADLINE
        release = self._charge_release = self._charge_release.start(now_s)
        if release.done(now_s):
            self._charge_limited = False
            self._charge_release = release.stop()
            events.append(ChargeLimitReleased(now_s))
            return NO_DEADLINE
        return release.due_s

    def _retry_system_plus(self, now_s: float, events: list[Event]) -> None:
        """SP-5: the retry delay is over; close System+ again and count the retry."""
        self._sp_tripped = False
        self._sp_retry = self._sp_retry.stop()
        window_start_s = now_s - c.SP_RETRY_WINDOW_S
        self._sp_retries_s = (
            *(t for t in self._sp_retries_s if t > window_start_s),
            now_s,
        )
        events.append(SystemPlusRetried(now_s, len(self._sp_retries_s)))

    def _trip_system_plus(
        self, cause: TripCause, current_a: float, now_s: float, events: list[Event]
    ) -> float:
        """SP-5: open System+; retry after the delay unless it retried too often (lock-out)."""
        self._sp_tripped = True
        self._peak = self._peak.stop()
        self._overload = self._overload.stop()
        events.append(SystemPlusTripped(now_s, cause, current_a))
        window_start_s = now_s - c.SP_RETRY_WINDOW_S
        recent = sum(1 for t in self._sp_retries_s if t > window_start_s)
        if recent >= c.SP_RETRY_MAX:
            self._sp_locked_out = True
            events.append(SystemPlusLockedOut(now_s))
            return NO_DEADLINE
        self._sp_retry = _SP_RETRY.start(now_s)
        return self._sp_retry.due_s

    def _clear_system_plus_trips(self) -> None:
        self._sp_tripped = False
        self._sp_locked_out = False
        self._sp_retry = self._sp_retry.stop()
        self._sp_retries_s = ()
        self._peak = self._peak.stop()
        self._overload = self._overload.stop()
