"""Stateful property tests: random sequences of input changes and time steps against the
controller, with the SPEC's safety rules checked as invariants after every single step.

The machine changes one input group per rule (V_AB, bank voltage, one chain line, the remote
terminal, one setting, the BMS temperature, the System+ load, power, the self-tests, a corrupted
store) and advances time by 1 ms ticks, 0.1-2 s, up to five minutes, or exactly to the
controller's own `next_deadline_s`. Every rule performs exactly one `Controller.step`, so the
invariants see every step and every edge.

A small `Model` tracks, independently of the controller, what the SPEC says the BMS must have
seen (how long V_AB has been above 13.0 V, the ALT-5 charge-limit latch, when the pre-alarm
rose, the A-B15 hysteresis, the E-B31 recovery). The System+ current and the AB fuse drop fed
to the controller come from the previous step's outputs through `power_stage`, as a simulator
would compute them, so a tripped or closed port really carries no current.

Run the bigger randomized exploration (1000 runs per machine instead of 100, random seeds) with:

    .venv/bin/pytest -q -p no:cacheprovider tests/property --hypothesis-profile=dev

The `event(...)` labels in the machine (load disconnect, charge-limit release, A-A12, E-B31
recovery, every controller event kind) say which situations the runs reached; patch
`test_controller_invariants.event` with a counter to tally them.
"""

import copy
import dataclasses
import math
from collections.abc import Callable
from typing import ClassVar

import pytest
from hypothesis import event, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from smartbms.core import constants as c
from smartbms.core.codes import Code
from smartbms.core.controller import Controller, StepResult, alternator_limit_factor
from smartbms.core.events import (
    AlternatorInputDisabled,
    AlternatorInputEnabled,
    ChargeDisconnected,
    ChargeLimitReached,
    ChargeLimitReleased,
    ChargeReconnected,
    CodeCleared,
    CodeRaised,
    Event,
    LoadDisconnected,
    LoadReconnected,
    PreAlarmCleared,
    PreAlarmRaised,
    SafeStateEntered,
    SafeStateLeft,
    SystemPlusChanged,
)
from smartbms.core.fuses import INSTALLABLE_FUSES, FuseType
from smartbms.core.power_stage import ab_port_current_a, system_plus_current_a
from smartbms.core.settings import PreAlarmMode, PreAlarmUsage, RemoteFunction, Settings
from smartbms.core.signals import Inputs, LedMode, Level, Outputs
from tests.property import strategies as bst

PIN = c.DEFAULT_PIN
ERROR_CODES = frozenset({Code.E_B30, Code.E_B31, Code.E_B32, Code.E_B33})

OPERATION_REQUIREMENTS = (
    "ALT-1", "ALT-2", "ALT-3", "ALT-4", "ALT-5", "ALT-6", "ALT-7", "ALT-8", "ALT-9",
    "SP-2", "SP-3", "SP-4", "SP-5", "SP-6",
    "OUT-3", "OUT-4", "OUT-5", "OUT-6", "OUT-7", "OUT-8", "OUT-9",
    "REM-1", "REM-2", "REM-3", "REM-4", "PWR-1",
    "ERR-5", "ERR-6", "ERR-7", "ERR-8",
    "LED-1", "LED-2", "LED-3", "LED-5", "LED-6", "LED-7",
)  # fmt: skip
"""The SPEC IDs the invariants check in normal operation (each is tagged at its invariant)."""
FAULT_REQUIREMENTS = ("SYS-4", "ERR-1", "ERR-2", "ERR-3", "ERR-4", "SAFE")
"""The SPEC IDs only the fault machine reaches."""


def held(since_s: float | None, now_s: float, duration_s: float) -> bool:
    """A condition that became true at `since_s` has held for `duration_s` at `now_s`.

    Written `now >= since + duration` on purpose: that is "at since + duration or later", and the
    same float expression a correct controller uses, so the model never disagrees by one ulp.
    """
    return since_s is not None and now_s >= since_s + duration_s


def remote_on(inputs: Inputs) -> bool:
    """REM-1, written from the SPEC: loop, V_L < 5 V or V_H > 3 V."""
    return (
        inputs.remote_lh_connected
        or inputs.remote_l_voltage_v < c.REMOTE_L_LOW_MAX_V
        or inputs.remote_h_voltage_v > c.REMOTE_H_HIGH_MIN_V
    )


@dataclasses.dataclass(frozen=True, slots=True)
class Expect:
    """What the SPEC derives from one step's inputs, settings and model (no controller state)."""

    powered: bool
    system_on: bool
    bms_active: bool
    errors: frozenset[Code]
    monitoring: bool
    atc: bool
    atd: bool

    @property
    def safe(self) -> bool:
        """SAFE: any E-code active."""
        return bool(self.errors)


@dataclasses.dataclass
class Model:
    """The SPEC's memory of the past, kept by the test (never read from the controller)."""

    powered: bool = False
    power_lost_at_s: float | None = None
    config_fault: bool = False
    """ERR-2: E-B31 latched until factory reset + >= 3 min without power."""
    reset_done_at_s: float | None = None
    over_temperature: bool = False
    """ALT-8 / A-B15: set at >= 85 °C, cleared at <= 70 °C."""
    limit_latched: bool = False
    """ALT-5: set at bank >= limit, released after 10 s in a row at <= limit - 0.5 V."""
    limit_latched_now: bool = False
    limit_released_now: bool = False
    below_release_since_s: float | None = None
    ab_above_since_s: float | None = None
    """ALT-1: V_AB > 13.0 V continuously since."""
    peak_since_s: float | None = None
    """SP-5: discharge above 400 A continuously since (at the port's input)."""
    overload_since_s: float | None = None
    """SP-5: |current| above 200 A continuously since."""
    prealarm_since_s: float | None = None
    """OUT-4: `outputs.prealarm_alarm` has been True continuously since (observed)."""
    last_ab_rise_s: float | None = None
    """ALT-1: the last rising edge of `outputs.ab_enabled` (observed)."""


@dataclasses.dataclass(frozen=True, slots=True)
class StepOp:
    """One recorded `step` call and what it returned."""

    inputs: Inputs
    now_s: float
    result: StepResult


@dataclasses.dataclass(frozen=True, slots=True)
class SettingsOp:
    """One recorded `change_settings` call and the events it returned."""

    changes: dict[str, object]
    now_s: float
    events: tuple[Event, ...]


@dataclasses.dataclass(frozen=True, slots=True)
class ResetOp:
    """One recorded `factory_reset` call and the events it returned."""

    now_s: float
    events: tuple[Event, ...]


@dataclasses.dataclass(frozen=True, slots=True)
class CorruptOp:
    """One recorded `mark_config_corrupted` call."""


Op = StepOp | SettingsOp | ResetOp | CorruptOp


def replay_and_compare(initial: Settings, config_valid: bool, history: list[Op]) -> None:
    """Determinism: the same calls on a fresh controller give identical answers at every step."""
    fresh = Controller(initial, config_valid=config_valid)
    for index, op in enumerate(history):
        if isinstance(op, StepOp):
            again = fresh.step(op.inputs, op.now_s)
            assert again == op.result, f"replay differs at call {index} (t={op.now_s})"
        elif isinstance(op, SettingsOp):
            events = fresh.change_settings(op.changes, pin=PIN, now_s=op.now_s)
            assert events == op.events, f"replay differs at call {index}"
        elif isinstance(op, ResetOp):
            assert fresh.factory_reset(pin=PIN, now_s=op.now_s) == op.events
        else:
            fresh.mark_config_corrupted()


# The external circuits every AB check is evaluated against: each installed fuse, a stiff and a
# soft source path, the sampled voltages and some extreme ones (bank far above AB included).
_PATH_RESISTANCES_OHM = (1e-4, 1e-2, 1.0)
_FIXED_VOLTAGE_PAIRS_V = ((30.0, 0.0), (16.0, 12.0), (0.0, 30.0), (12.0, 14.6))
_MOSTLY_OK = st.sampled_from([True] * 7 + [False])
"""A fault line that is mostly healthy: faults come and go instead of sticking for the run."""
_UNRESTRICTED_SP_A = (-700.0, -600.5, -400.5, -200.5, -1.0, 0.0, 1.0, 200.5, 700.0)


class OperationMachine(RuleBasedStateMachine):
    """Random operation (no faults): input/time sequences, the safety rules as invariants.

    The BMS stays powered, its self-tests pass, the chain is whole and the store sound, so the
    runs get deep into the timing rules (debounce, charge limit, pre-alarm lead, System+ trips).
    `FaultMachine` adds the faults.
    """

    faults: ClassVar[bool] = False

    def __init__(self) -> None:
        super().__init__()
        self.controller = Controller()
        self.initial_settings = Settings.factory()
        self.config_valid = True
        self.installed_fuse = FuseType.MEGA_125A
        self.path_resistance_ohm = 0.01
        self.now_s = 0.0
        self.inputs = Inputs()
        """The inputs as the rules set them; `sent` adds the port currents from the physics."""
        self.sp_unrestricted_a = 0.0
        self.sent = Inputs()
        self.result: StepResult | None = None
        self.previous: Outputs | None = None
        self.model = Model()
        self.before = Model()
        self.expect = self._expectations()
        self.history: list[Op] = []

    # --- plumbing ---------------------------------------------------------------------------

    @property
    def out(self) -> Outputs:
        assert self.result is not None
        return self.result.outputs

    @property
    def last(self) -> StepResult:
        assert self.result is not None
        return self.result

    def _physics(self) -> Inputs:
        """The inputs with the currents the previous outputs let through (`power_stage`)."""
        prev = self.previous
        inputs = self.inputs
        if prev is None:
            return dataclasses.replace(
                inputs, system_plus_current_a=0.0, alternator_fuse_drop_v=0.0
            )
        sp_a = system_plus_current_a(
            unrestricted_current_a=self.sp_unrestricted_a,
            charge_allowed=prev.system_plus_charge_allowed,
            discharge_allowed=prev.system_plus_discharge_allowed,
        )
        ab_a = ab_port_current_a(
            ab_voltage_v=inputs.ab_voltage_v,
            bank_voltage_v=inputs.bank_voltage_v,
            path_resistance_ohm=self.path_resistance_ohm,
            enabled=prev.ab_enabled,
            fuse_drop_setpoint_v=prev.ab_fuse_drop_setpoint_v,
            installed_fuse=self.installed_fuse,
        )
        return dataclasses.replace(
            inputs,
            system_plus_current_a=sp_a,
            alternator_fuse_drop_v=ab_a * self.installed_fuse.sense_resistance_ohm,
        )

    def _step(self) -> None:
        """Exactly one controller step at `now_s`, then the model catches up."""
        self.previous = self.result.outputs if self.result is not None else None
        self.sent = self._physics()
        self.result = self.controller.step(self.sent, self.now_s)
        self.history.append(StepOp(self.sent, self.now_s, self.result))
        self.before = dataclasses.replace(self.model)
        self._advance_model()
        self.expect = self._expectations()

    def _advance_model(self) -> None:
        m, i, now = self.model, self.sent, self.now_s
        m.limit_latched_now = m.limit_released_now = False
        if not i.powered:
            if m.powered:
                m.power_lost_at_s = now
            m.powered = False
        else:
            self._model_powered()
        self._model_timers()
        self._model_edges()

    def _model_powered(self) -> None:
        """The model's latches while the BMS has supply (ERR-2 recovery, ALT-8, ALT-5)."""
        m, i, now = self.model, self.sent, self.now_s
        if not m.powered:
            # ERR-2: factory reset, then >= 3 min without power, clears E-B31. Everything
            # volatile (latches, timers) starts afresh (the controller's documented choice).
            if (
                m.config_fault
                and m.reset_done_at_s is not None
                and m.power_lost_at_s is not None
                and m.reset_done_at_s <= m.power_lost_at_s
                and now - m.power_lost_at_s >= c.E_B31_POWER_OFF_MIN_S
            ):
                m.config_fault = False
                m.reset_done_at_s = None
                event("E-B31 recovered")
            m.over_temperature = m.limit_latched = False
        m.powered = True
        # ALT-8 hysteresis
        if i.internal_temperature_c >= c.BMS_OVERTEMP_TRIP_C:
            m.over_temperature = True
        elif i.internal_temperature_c <= c.BMS_OVERTEMP_RELEASE_C:
            m.over_temperature = False
        # ALT-5: latch at the limit; release after 10 s in a row at <= limit - 0.5 V
        limit_v = self.controller.settings.charge_limit_v
        if i.bank_voltage_v <= limit_v - c.ALT_RECONNECT_HYST_V:
            if m.below_release_since_s is None:
                m.below_release_since_s = now
        else:
            m.below_release_since_s = None
        if i.bank_voltage_v >= limit_v:
            m.limit_latched_now = not m.limit_latched
            m.limit_latched = True
        elif m.limit_latched and held(m.below_release_since_s, now, c.ALT_RECONNECT_HOLD_S):
            m.limit_latched = False
            m.limit_released_now = True

    def _model_timers(self) -> None:
        """How long V_AB has been above 13.0 V (ALT-1) and System+ over-current (SP-5)."""
        m, i, now = self.model, self.sent, self.now_s
        if i.ab_voltage_v > c.ALT_ENGAGE_V:
            if m.ab_above_since_s is None:
                m.ab_above_since_s = now
        else:
            m.ab_above_since_s = None
        discharge_a = -i.system_plus_current_a
        if discharge_a > c.SP_PEAK_A:
            m.peak_since_s = now if m.peak_since_s is None else m.peak_since_s
        else:
            m.peak_since_s = None
        if abs(i.system_plus_current_a) > c.SP_CONTINUOUS_A:
            m.overload_since_s = now if m.overload_since_s is None else m.overload_since_s
        else:
            m.overload_since_s = None

    def _model_edges(self) -> None:
        """The observed output edges and events."""
        m, now = self.model, self.now_s
        out = self.out
        was_enabled = self.previous is not None and self.previous.ab_enabled
        if out.ab_enabled and not was_enabled:
            m.last_ab_rise_s = now
        if out.prealarm_alarm:
            if m.prealarm_since_s is None:
                m.prealarm_since_s = now
        else:
            m.prealarm_since_s = None
        for e in self.last.events:
            event(f"event {e.kind}")
            if isinstance(e, CodeRaised):
                event(f"raised {e.raised.value}")

    def _expectations(self) -> Expect:
        i = self.sent
        s = self.controller.settings
        if not i.powered:
            return Expect(False, False, False, frozenset(), False, False, False)
        system_on = remote_on(i) and s.soft_switch_on
        bms_active = system_on or s.remote_function is RemoteFunction.ALTERNATOR_AND_SYSTEM_PLUS
        errors = set()
        if not i.calibration_ok:
            errors.add(Code.E_B30)
        if self.model.config_fault:
            errors.add(Code.E_B31)
        if not i.reference_ok:
            errors.add(Code.E_B33)
        if bms_active and (
            not i.chain_connected
            or (s.prealarm_usage is PreAlarmUsage.USE and not i.chain_supports_prealarm)
        ):
            errors.add(Code.E_B32)
        monitoring = bms_active and not errors
        return Expect(
            powered=True,
            system_on=system_on,
            bms_active=bms_active,
            errors=frozenset(errors),
            monitoring=monitoring,
            atc=i.allowed_to_charge,
            atd=i.allowed_to_discharge,
        )

    def _set(self, **changes: object) -> None:
        self.inputs = dataclasses.replace(self.inputs, **changes)  # type: ignore[arg-type]
        self._step()

    # --- start ------------------------------------------------------------------------------

    @initialize(
        initial=bst.settings_values,
        config_valid=st.sampled_from([True] * 7 + [False]),
        installed=bst.installed_fuses,
        path_resistance_ohm=st.sampled_from(_PATH_RESISTANCES_OHM),
        ab_voltage_v=bst.ab_voltages_v,
    )
    def start(
        self,
        initial: Settings,
        config_valid: bool,
        installed: FuseType,
        path_resistance_ohm: float,
        ab_voltage_v: float,
    ) -> None:
        self.initial_settings = initial
        config_valid = config_valid or not self.faults
        self.config_valid = config_valid
        self.controller = Controller(initial, config_valid=config_valid)
        self.model.config_fault = not config_valid
        self.installed_fuse = installed
        self.path_resistance_ohm = path_resistance_ohm
        self._set(ab_voltage_v=ab_voltage_v)

    # --- input rules: one group at a time ---------------------------------------------------

    @rule(volts=bst.ab_voltages_v)
    def set_ab_voltage(self, volts: float) -> None:
        self._set(ab_voltage_v=volts)

    @rule(offset_v=bst.bank_offsets_v)
    def set_bank_near_charge_limit(self, offset_v: float) -> None:
        self._set(bank_voltage_v=self.controller.settings.charge_limit_v + offset_v)

    @rule(volts=bst.bank_voltages_v)
    def set_bank_voltage(self, volts: float) -> None:
        self._set(bank_voltage_v=volts)

    @rule(
        line=st.sampled_from(["allowed_to_charge", "allowed_to_discharge", "chain_prealarm"]),
        value=st.booleans(),
    )
    def set_chain_line(self, line: str, value: bool) -> None:
        self._set(**{line: value})

    @rule(
        looped=st.sampled_from([True, True, False]),
        l_v=bst.remote_l_voltages_v,
        h_v=bst.remote_h_voltages_v,
    )
    def set_remote_terminal(self, looped: bool, l_v: float, h_v: float) -> None:
        self._set(remote_lh_connected=looped, remote_l_voltage_v=l_v, remote_h_voltage_v=h_v)

    @precondition(lambda self: self.sent.powered)  # the app needs a powered BMS
    @rule(change=bst.one_setting_change)
    def change_setting(self, change: tuple[str, object]) -> None:
        changes = dict([change])
        events = self.controller.change_settings(changes, pin=PIN, now_s=self.now_s)
        self.history.append(SettingsOp(changes, self.now_s, events))
        self._step()

    @rule(celsius=bst.temperatures_c)
    def set_temperature(self, celsius: float) -> None:
        self._set(internal_temperature_c=celsius)

    @rule(amps=bst.system_plus_currents_a)
    def set_system_plus_load(self, amps: float) -> None:
        self.sp_unrestricted_a = amps
        self._step()

    # --- time rules -------------------------------------------------------------------------

    @rule(ticks=st.integers(1, 5))
    def tick_milliseconds(self, ticks: int) -> None:
        self.now_s += ticks * 0.001
        self._step()

    @rule(dt_s=st.floats(0.1, 2.0))
    def advance_seconds(self, dt_s: float) -> None:
        self.now_s += dt_s
        self._step()

    @rule(dt_s=st.floats(2.0, 300.0))
    def advance_minutes(self, dt_s: float) -> None:
        self.now_s += dt_s
        self._step()

    @precondition(lambda self: math.isfinite(self.last.next_deadline_s))
    @rule()
    def advance_to_deadline(self) -> None:
        self.now_s = self.last.next_deadline_s
        self._step()

    # --- invariants -------------------------------------------------------------------------

    @invariant()
    def unpowered_is_dead(self) -> None:
        """SYS-4, PWR-1: without supply every output is off/floating and nothing is drawn."""
        if self.expect.powered:
            return
        out = self.out
        assert not out.ab_enabled
        assert not out.system_plus_charge_allowed
        assert not out.system_plus_discharge_allowed
        assert out.load_disconnect is out.charge_disconnect is out.prealarm is Level.FLOATING
        assert out.codes == frozenset()
        assert out.supply_current_a == 0.0

    @invariant()
    def system_state_and_supply_current(self) -> None:
        """REM-1, REM-2, REM-3, PWR-1: on/off from terminal and soft switch; supply current."""
        ex, out = self.expect, self.out
        if not ex.powered:
            return
        assert out.system_on == ex.system_on
        assert out.bms_active == ex.bms_active
        # PWR-1: exactly one of the three figures of manual §4
        assert out.supply_current_a in {
            c.SUPPLY_ON_A,
            c.SUPPLY_OFF_ACTIVE_A,
            c.SUPPLY_OFF_DISABLED_A,
        }
        if ex.system_on:
            assert out.supply_current_a == c.SUPPLY_ON_A
        elif ex.bms_active:
            assert out.supply_current_a == c.SUPPLY_OFF_ACTIVE_A
        else:
            assert out.supply_current_a == c.SUPPLY_OFF_DISABLED_A

    @invariant()
    def error_codes_and_safe_state(self) -> None:
        """ERR-1, ERR-2, ERR-3, ERR-4, SAFE: E-codes as the SPEC derives them; safe iff any."""
        ex, out = self.expect, self.out
        assert out.codes & ERROR_CODES == ex.errors
        assert out.safe_state == ex.safe

    @invariant()
    def safe_state_opens_everything(self) -> None:
        """SAFE: any E-code => AB off, System+ off both ways, all outputs floating, LED blinks."""
        out = self.out
        if not out.codes & ERROR_CODES:
            return
        assert out.safe_state
        assert not out.ab_enabled
        assert out.ab_fuse_drop_setpoint_v == 0.0
        assert not out.system_plus_charge_allowed
        assert not out.system_plus_discharge_allowed
        assert out.load_disconnect is Level.FLOATING
        assert out.charge_disconnect is Level.FLOATING
        assert out.prealarm is Level.FLOATING
        assert out.leds.bms_active is LedMode.BLINK

    @invariant()
    def alarm_codes_consistent(self) -> None:
        """ERR-6 (A-B11), ERR-7 (A-B15), ERR-8 (W-B12).

        A-B11 iff the load is disconnected by under-voltage (floating while monitoring), and only
        with ATD withdrawn; W-B12 iff the pre-alarm is raised; A-B15 iff the SPEC's hysteresis
        says the BMS is over-temperature.
        """
        ex, out = self.expect, self.out
        disconnected_by_uv = ex.monitoring and out.load_disconnect is Level.FLOATING
        assert (Code.A_B11 in out.codes) == disconnected_by_uv
        if Code.A_B11 in out.codes:
            assert not ex.atd
        assert (Code.W_B12 in out.codes) == out.prealarm_alarm
        if ex.powered:
            assert (Code.A_B15 in out.codes) == self.model.over_temperature

    @invariant()
    def ab_port_off_when_it_must_be(self) -> None:
        """ALT-1, ALT-5, ALT-6, ALT-7, ALT-8, ALT-9, SAFE: no AB current path unless allowed.

        The AB port must be open (and carry exactly 0 A in any external circuit) with ATC
        withdrawn, in the safe state, with the system off, at V_AB <= 13.0 V or > 16 V, when the
        BMS is over-temperature, or while the charge limit is latched.
        """
        ex, i, out = self.expect, self.sent, self.out
        must_be_off = (
            not ex.powered
            or not ex.atc
            or ex.safe
            or not ex.system_on
            or i.ab_voltage_v <= c.ALT_ENGAGE_V
            or i.ab_voltage_v > c.ALT_INPUT_MAX_V
            or self.model.over_temperature
            or self.model.limit_latched
            or i.bank_voltage_v >= self.controller.settings.charge_limit_v
        )
        if must_be_off:
            assert not out.ab_enabled
            for amps in self._ab_currents_a():
                assert amps == 0.0

    @invariant()
    def ab_port_one_way_and_fuse_limited(self) -> None:
        """ALT-2, ALT-3, ALT-4, ALT-8: AB current >= 0 for any voltages (never bank -> AB), and
        never above the *installed* fuse's limit, derated by the BMS temperature.
        """
        out = self.out
        assert 0.0 <= out.ab_fuse_drop_setpoint_v <= c.FUSE_SENSE_REF_V
        factor = alternator_limit_factor(self.sent.internal_temperature_c)
        for fuse, v_ab, v_bank, amps in self._ab_circuits():
            assert amps >= 0.0
            assert amps <= fuse.current_limit_a * factor * (1 + 1e-9) + 1e-12
            if v_bank >= v_ab:
                assert amps == 0.0, "current from the bank back to AB"

    @invariant()
    def ab_engages_without_chatter(self) -> None:
        """ALT-1 (debounce), ALT-5: a rising edge of the AB port needs V_AB > 13.0 V for >= 1 s,
        comes >= 1 s after the previous rising edge, and never while the charge limit latch
        (released only after 10 s in a row at <= limit - 0.5 V) holds.
        """
        out, prev = self.out, self.previous
        rose = out.ab_enabled and not (prev is not None and prev.ab_enabled)
        if not rose:
            return
        event("AB rising edge")
        now = self.now_s
        assert held(self.model.ab_above_since_s, now, c.ALT_ENGAGE_DEBOUNCE_S)
        if self.before.last_ab_rise_s is not None:
            assert held(self.before.last_ab_rise_s, now, c.ALT_ENGAGE_DEBOUNCE_S)
        assert not self.model.limit_latched

    @invariant()
    def charge_limit_events_match_the_spec(self) -> None:
        """ALT-5: ChargeLimitReached exactly when the bank reaches the limit (latch sets);
        ChargeLimitReleased exactly after 10 consecutive seconds at <= limit - 0.5 V.
        """
        kinds = [type(e) for e in self.last.events]
        assert (ChargeLimitReached in kinds) == self.model.limit_latched_now
        assert (ChargeLimitReleased in kinds) == self.model.limit_released_now
        if self.model.limit_released_now:
            event("charge limit released")

    @invariant()
    def charge_not_allowed_closes_charge_paths(self) -> None:
        """ALT-6, SP-3, OUT-3, REM-4: ATC withdrawn => AB off, no System+ charge, charge
        disconnect floating; charge disconnect is high exactly while monitoring with ATC.
        """
        ex, out = self.expect, self.out
        if not ex.atc:
            assert not out.ab_enabled
            assert not out.system_plus_charge_allowed
            assert out.charge_disconnect is Level.FLOATING
        assert (out.charge_disconnect is Level.HIGH) == (ex.monitoring and ex.atc)

    @invariant()
    def system_off(self) -> None:
        """ALT-7, SP-4, REM-2, REM-3: system off => AB and System+ off in both modes; with
        "switch everything off" also load, charge disconnect and pre-alarm floating.
        """
        ex, out = self.expect, self.out
        if ex.system_on:
            return
        assert not out.ab_enabled
        assert not out.system_plus_charge_allowed
        assert not out.system_plus_discharge_allowed
        if self.controller.settings.remote_function is RemoteFunction.EVERYTHING:
            assert not out.bms_active
            assert out.load_disconnect is Level.FLOATING
            assert out.charge_disconnect is Level.FLOATING
            assert out.prealarm is Level.FLOATING

    @invariant()
    def system_plus_directions(self) -> None:
        """SP-2, SP-3, SP-5, SP-6: what the port allows, and no current the wrong way.

        With the system on, no safe state and no A-A12, charge is allowed iff ATC and discharge
        iff the load disconnect is high (SP-2: both stop at the same step). A-A12 opens both.
        For any external circuit the port passes no current in a forbidden direction (SP-6).
        """
        ex, out = self.expect, self.out
        charge, discharge = out.system_plus_charge_allowed, out.system_plus_discharge_allowed
        if Code.A_A12 in out.codes:
            assert not charge
            assert not discharge
        elif ex.system_on and not ex.safe:
            assert charge == ex.atc
            assert discharge == (out.load_disconnect is Level.HIGH)
        if Code.A_B11 in out.codes:
            assert not discharge
        for unrestricted_a in (*_UNRESTRICTED_SP_A, self.sp_unrestricted_a):
            amps = system_plus_current_a(
                unrestricted_current_a=unrestricted_a,
                charge_allowed=charge,
                discharge_allowed=discharge,
            )
            if not charge:
                assert amps <= 0.0
            if not discharge:
                assert amps >= 0.0
            if charge and discharge:
                assert amps == unrestricted_a

    @invariant()
    def system_plus_trips_only_on_over_current(self) -> None:
        """SP-5, ERR-5: discharge above 600 A => A-A12 at once; A-A12 newly raised only after a
        short (> 600 A), > 400 A discharge for 0.5 s, or > 200 A for 60 s at the port.
        """
        out, i, m, now = self.out, self.sent, self.model, self.now_s
        if not self.expect.powered:
            return
        if -i.system_plus_current_a > c.SP_SHORT_CIRCUIT_A:
            assert Code.A_A12 in out.codes
        prev = self.previous
        newly = Code.A_A12 in out.codes and (prev is None or Code.A_A12 not in prev.codes)
        if newly:
            event("A-A12 raised")
            assert (
                -i.system_plus_current_a > c.SP_SHORT_CIRCUIT_A
                or held(m.peak_since_s, now, c.SP_PEAK_MAX_S)
                or held(m.overload_since_s, now, c.SP_OVERLOAD_MAX_S)
            )

    @invariant()
    def load_disconnect_timing(self) -> None:
        """OUT-4, OUT-7, OUT-8, SP-2, REM-4: the load disconnect follows the pre-alarm.

        A HIGH -> FLOATING edge of the load disconnect while the BMS is powered and monitoring
        (not power loss, not "switch everything off", not the safe state) comes >= 30 s after the
        pre-alarm rose, and System+ discharge stops in that same step. With ATD withdrawn the
        pre-alarm is up or the load already disconnected, and 30 s after the pre-alarm rose the
        load is disconnected. After the disconnect the pre-alarm is floating (OUT-7). With ATD
        back the load disconnect is high (OUT-8).
        """
        ex, out, prev, now = self.expect, self.out, self.previous, self.now_s
        fell = (
            prev is not None
            and self.before.powered
            and prev.load_disconnect is Level.HIGH
            and out.load_disconnect is Level.FLOATING
        )
        if fell and ex.monitoring:
            event("load disconnect by under-voltage")
            assert held(self.before.prealarm_since_s, now, c.PREALARM_MIN_LEAD_S)
            assert not out.system_plus_discharge_allowed
        if Code.A_B11 in out.codes:
            assert out.prealarm is Level.FLOATING
            assert not out.prealarm_alarm
        if ex.monitoring and not ex.atd:
            assert out.prealarm_alarm or Code.A_B11 in out.codes
            if held(self.before.prealarm_since_s, now, c.PREALARM_MIN_LEAD_S):
                assert out.load_disconnect is Level.FLOATING
        if ex.monitoring and ex.atd:
            assert out.load_disconnect is Level.HIGH

    @invariant()
    def prealarm_follows_the_chain(self) -> None:
        """OUT-5, OUT-6, OUT-8, OUT-9: with ATD present the pre-alarm is raised iff the chain is
        in pre-alarm and its use is enabled; the terminal is high only while raised, and steady
        high in continuous mode.
        """
        ex, i, out = self.expect, self.sent, self.out
        use = self.controller.settings.prealarm_usage is PreAlarmUsage.USE
        if ex.monitoring and ex.atd:
            assert out.prealarm_alarm == (i.chain_prealarm and use)
        if out.prealarm is Level.HIGH:
            assert out.prealarm_alarm
        continuous = self.controller.settings.prealarm_mode is PreAlarmMode.CONTINUOUS
        if out.prealarm_alarm and continuous:
            assert out.prealarm is Level.HIGH

    @invariant()
    def leds_mirror_the_outputs(self) -> None:
        """LED-1, LED-2, LED-3, LED-5, LED-6, LED-7 follow the outputs they show."""
        out = self.out
        leds = out.leds
        if leds.alternator_charging is LedMode.ON:
            assert out.ab_enabled
        assert (leds.over_temperature is LedMode.ON) == (Code.A_B15 in out.codes)
        if self.expect.powered:
            expected = (
                LedMode.BLINK if out.safe_state else (LedMode.ON if out.bms_active else LedMode.OFF)
            )
            assert leds.bms_active is expected
        assert (leds.charge_disconnect is LedMode.ON) == (out.charge_disconnect is Level.HIGH)
        assert (leds.load_disconnect is LedMode.ON) == (out.load_disconnect is Level.HIGH)
        assert (leds.system_plus_charging is LedMode.ON) == out.system_plus_charge_allowed

    @invariant()
    def events_are_the_output_edges(self) -> None:
        """Events are the differences between consecutive powered steps (ARCHITECTURE.md):
        every edge of a port, an output or a code has its event, and no event lacks its edge.
        """
        prev, out = self.previous, self.out
        if prev is None or not self.before.powered or not self.expect.powered:
            return
        kinds = {type(e) for e in self.last.events}

        def edge(before: bool, after: bool, up: type[Event], down: type[Event]) -> None:
            assert (up in kinds) == (after and not before)
            assert (down in kinds) == (before and not after)

        edge(prev.ab_enabled, out.ab_enabled, AlternatorInputEnabled, AlternatorInputDisabled)
        high = Level.HIGH
        edge(
            prev.load_disconnect is not high,
            out.load_disconnect is not high,
            LoadDisconnected,
            LoadReconnected,
        )
        edge(
            prev.charge_disconnect is not high,
            out.charge_disconnect is not high,
            ChargeDisconnected,
            ChargeReconnected,
        )
        edge(prev.prealarm_alarm, out.prealarm_alarm, PreAlarmRaised, PreAlarmCleared)
        edge(prev.safe_state, out.safe_state, SafeStateEntered, SafeStateLeft)
        raised = {e.raised for e in self.last.events if isinstance(e, CodeRaised)}
        cleared = {e.cleared for e in self.last.events if isinstance(e, CodeCleared)}
        assert raised == out.codes - prev.codes
        assert cleared == prev.codes - out.codes
        sp_changed = (
            prev.system_plus_charge_allowed != out.system_plus_charge_allowed
            or prev.system_plus_discharge_allowed != out.system_plus_discharge_allowed
        )
        assert (SystemPlusChanged in kinds) == sp_changed

    @invariant()
    def no_surprise_between_deadlines(self) -> None:
        """The deadline contract (sans-IO core, ARCHITECTURE.md): `next_deadline_s` is after
        now (or inf), and a step with unchanged inputs at any time strictly before it gives no
        events and the same outputs. A simulator relies on this to skip straight to the deadline.

        The probe's own deadline may be later than the announced one (an early wake-up that
        finds nothing to do is harmless) but never earlier (that would be a missed change).
        """
        now, deadline = self.now_s, self.last.next_deadline_s
        assert deadline > now
        if math.isinf(deadline):
            probes = [now + 0.001, now + 3600.0]
        else:
            probes = [now + (deadline - now) / 2, math.nextafter(deadline, -math.inf)]
        for probe_s in probes:
            if not now < probe_s < deadline:
                continue
            twin = copy.deepcopy(self.controller)
            again = twin.step(self.sent, probe_s)
            assert again.events == (), f"events at {probe_s} before the deadline {deadline}"
            assert again.outputs == self.out, f"outputs changed at {probe_s} < {deadline}"
            assert again.next_deadline_s >= deadline

    # --- helpers ----------------------------------------------------------------------------

    def _ab_circuits(self) -> list[tuple[FuseType, float, float, float]]:
        """(installed fuse, V_AB, V_bank, AB current) over a grid of external circuits."""
        out, i = self.out, self.sent
        pairs = (
            (i.ab_voltage_v, i.bank_voltage_v),
            (i.ab_voltage_v, 0.0),
            *_FIXED_VOLTAGE_PAIRS_V,
        )
        return [
            (
                fuse,
                v_ab,
                v_bank,
                ab_port_current_a(
                    ab_voltage_v=v_ab,
                    bank_voltage_v=v_bank,
                    path_resistance_ohm=r_ohm,
                    enabled=out.ab_enabled,
                    fuse_drop_setpoint_v=out.ab_fuse_drop_setpoint_v,
                    installed_fuse=fuse,
                ),
            )
            for fuse in INSTALLABLE_FUSES
            for r_ohm in _PATH_RESISTANCES_OHM
            for v_ab, v_bank in pairs
        ]

    def _ab_currents_a(self) -> list[float]:
        return [amps for *_, amps in self._ab_circuits()]

    def teardown(self) -> None:
        """Determinism (see `replay_and_compare`), once per run over the whole history."""
        if self.history:
            replay_and_compare(self.initial_settings, self.config_valid, self.history)


class FaultMachine(OperationMachine):
    """`OperationMachine` plus the faults: power loss, broken chain wiring, failed self-tests,
    a corrupted settings store and the factory reset (E-B30...E-B33, SAFE, ERR-2 recovery).
    """

    faults: ClassVar[bool] = True

    @rule(wiring=st.sampled_from(["chain_connected", "chain_supports_prealarm"]), ok=_MOSTLY_OK)
    def set_chain_wiring(self, wiring: str, ok: bool) -> None:
        self._set(**{wiring: ok})

    @precondition(lambda self: self.sent.powered)
    @rule()
    def factory_reset(self) -> None:
        events = self.controller.factory_reset(pin=PIN, now_s=self.now_s)
        self.history.append(ResetOp(self.now_s, events))
        if self.model.config_fault:
            self.model.reset_done_at_s = self.now_s
        self._step()

    @rule(powered=st.booleans(), store_corrupted=st.sampled_from([False] * 9 + [True]))
    def set_power(self, powered: bool, store_corrupted: bool) -> None:
        """Power loss / return; on return the store may report corrupted settings (ERR-2)."""
        if powered and not self.sent.powered and store_corrupted:
            self._corrupt()
        self._set(powered=powered)

    @rule(check=st.sampled_from(["calibration_ok", "reference_ok"]), ok=_MOSTLY_OK)
    def set_self_test(self, check: str, ok: bool) -> None:
        self._set(**{check: ok})

    @rule(really=st.sampled_from([False] * 15 + [True]))
    def corrupt_stored_settings(self, really: bool) -> None:
        """`mark_config_corrupted` at a random moment (rarely: recovery takes minutes)."""
        if really:
            self._corrupt()
        self._step()

    def _corrupt(self) -> None:
        self.controller.mark_config_corrupted()
        self.history.append(CorruptOp())
        self.model.config_fault = True
        self.model.reset_done_at_s = None


def reqs(*ids: str) -> Callable[[Callable[[], None]], Callable[[], None]]:
    """Mark a test with one `pytest.mark.req(ID)` per requirement it proves."""

    def mark(test: Callable[[], None]) -> Callable[[], None]:
        for req_id in ids:
            test = pytest.mark.req(req_id)(test)
        return test

    return mark


def _machine_settings() -> settings:
    """Half the active profile's examples (`ci`: 100 runs, `dev`: 1000), 100 steps each."""
    return settings(max_examples=max(10, settings().max_examples // 2), stateful_step_count=100)


@reqs(*OPERATION_REQUIREMENTS)
def test_operation_safety_invariants() -> None:
    """Random operation without faults keeps every safety invariant at every step.

    ALT-1 ALT-2 ALT-3 ALT-4 ALT-5 ALT-6 ALT-7 ALT-8 ALT-9 SP-2 SP-3 SP-4 SP-5 SP-6 OUT-3 OUT-4
    OUT-5 OUT-6 OUT-7 OUT-8 OUT-9 REM-1 REM-2 REM-3 REM-4 PWR-1 ERR-5 ERR-6 ERR-7 ERR-8 LED-1
    LED-2 LED-3 LED-5 LED-6 LED-7; plus the deadline contract (no surprise before
    `next_deadline_s`) and determinism (the recorded history replayed on a fresh controller).
    """
    run_state_machine_as_test(OperationMachine, settings=_machine_settings())


@reqs(*OPERATION_REQUIREMENTS, *FAULT_REQUIREMENTS)
def test_fault_safety_invariants() -> None:
    """Random operation with faults keeps every safety invariant at every step.

    Everything `test_operation_safety_invariants` checks, plus power loss, the safe state and the
    error codes: SYS-4 ERR-1 ERR-2 ERR-3 ERR-4 SAFE.
    """
    run_state_machine_as_test(FaultMachine, settings=_machine_settings())
