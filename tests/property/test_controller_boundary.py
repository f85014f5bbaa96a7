"""Stateful property test of the controller's door: hostile inputs at random times, safety kept.

The machine keeps the physical truth (valid voltages, the System+ load, the chain lines) apart
from what the sensors report: any measured field may read NaN, +-inf, a huge or a just-out-of-
range number (a failing sensor), or a valid but extreme one, at any moment, and any field may be
offered a wrong type (the string "false", a bool for a number, None) or the step a bad `now_s`
(a careless caller). After every step the SPEC's safety rules must still hold:

- ALT-6, SP-3: no charge path (AB port, System+ charge) with ATC withdrawn; a refused call
  (wrong type, bad time) changes nothing at all, so no unknown value can open one;
- ALT-2: the AB port never carries current from the bank back to the starter battery, and its
  set point is always a number within 0 ... 50 mV;
- SP-5, ERR-5: a valid reading of a short on System+ raises A-A12 at once;
- the paths a failed measurement gates stay closed until it has read valid for
  `MEASUREMENT_RECOVERY_S` (and the AB port for its 1 s debounce after that): no chatter;
- ERR-4: a failed measurement is never E-B33 and never the safe state;
- the deadline contract, and determinism (the history, refusals included, replays exactly).

The bigger randomized run: `.venv/bin/pytest tests/property --hypothesis-profile=dev`.
"""

import copy
import dataclasses
import math

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
from smartbms.core.controller import Controller, StepResult
from smartbms.core.controller_state import ControllerState
from smartbms.core.events import MeasurementInvalid, MeasurementRecovered, SystemPlusTripped
from smartbms.core.fuses import INSTALLABLE_FUSES, FuseType
from smartbms.core.power_stage import ab_port_current_a, system_plus_current_a
from smartbms.core.settings import Settings
from smartbms.core.signals import Inputs, Level, Outputs
from tests.property import strategies as bst

PIN = c.DEFAULT_PIN
RECOVERY_S = c.MEASUREMENT_RECOVERY_S
MEASURED = tuple(bst.MEASURABLE_RANGES)
AB_GATES = (
    "bank_voltage_v",
    "ab_voltage_v",
    "alternator_fuse_drop_v",
    "internal_temperature_c",
    "remote_l_voltage_v",
    "remote_h_voltage_v",
)
"""What the AB port needs to know (ALT-1, ALT-4, ALT-5, ALT-7, ALT-8), from the decision."""
SP_GATES = ("system_plus_current_a", "remote_l_voltage_v", "remote_h_voltage_v")
"""What System+ needs to know (SP-4, SP-5)."""
SENSED = ("system_plus_current_a", "alternator_fuse_drop_v")
"""Fields the physics computes each step; a failing sensor overrides them."""
_PATH_RESISTANCES_OHM = (1e-4, 1e-2, 1.0)
_FIXED_VOLTAGE_PAIRS_V = ((30.0, 0.0), (16.0, 12.0), (0.0, 30.0), (12.0, 14.6))


@dataclasses.dataclass(frozen=True, slots=True)
class Stepped:
    """An accepted `step` and its answer."""

    inputs: Inputs
    now_s: float
    result: StepResult


@dataclasses.dataclass(frozen=True, slots=True)
class Refused:
    """A refused `step` and the error type it raised."""

    inputs: Inputs
    now_s: float
    error: type[Exception]


@dataclasses.dataclass(frozen=True, slots=True)
class SettingsCall:
    """An accepted `change_settings`."""

    changes: dict[str, object]
    now_s: float


Call = Stepped | Refused | SettingsCall


def replay(initial: Settings, history: list[Call]) -> None:
    """Determinism: a fresh controller gives the same answers and the same refusals."""
    fresh = Controller(initial)
    for index, call in enumerate(history):
        if isinstance(call, Stepped):
            assert fresh.step(call.inputs, call.now_s) == call.result, f"call {index}"
        elif isinstance(call, Refused):
            with pytest.raises(call.error):
                fresh.step(call.inputs, call.now_s)
        else:
            fresh.change_settings(call.changes, pin=PIN, now_s=call.now_s)


class BoundaryMachine(RuleBasedStateMachine):
    """Random operation with failing sensors and careless callers; safety as invariants."""

    def __init__(self) -> None:
        super().__init__()
        self.initial = Settings.factory()
        self.controller = Controller()
        self.installed_fuse = FuseType.MEGA_125A
        self.path_resistance_ohm = 0.01
        self.now_s = 0.0
        self.truth = Inputs()
        """The physical state, always valid; the currents come from the physics below."""
        self.sp_unrestricted_a = 0.0
        self.sensor: dict[str, object] = {}
        """Readings that differ from the truth (a failing or lying sensor), by field."""
        self.sent = Inputs()
        self.result: StepResult | None = None
        self.previous: Outputs | None = None
        self.last_invalid_s: dict[str, float] = {}
        """When each field last read invalid on a powered step."""
        self.last_ab_rise_s: float | None = None
        self.ab_rose_after_s: float | None = None
        """This step raised the AB port, that long after the previous rise (inf: the first)."""
        self.limit_latched = False
        """ALT-5 as the SPEC says, judged on valid bank readings only (see `_model_limit`)."""
        self.below_since_s: float | None = None
        self.history: list[Call] = []

    @property
    def out(self) -> Outputs:
        assert self.result is not None
        return self.result.outputs

    # --- plumbing ---------------------------------------------------------------------------

    def _readings(self) -> Inputs:
        """What the BMS is handed: the physics' currents, then the failing sensors."""
        prev, truth = self.previous, self.truth
        sp_a, ab_a = 0.0, 0.0
        if prev is not None:
            sp_a = system_plus_current_a(
                unrestricted_current_a=self.sp_unrestricted_a,
                charge_allowed=prev.system_plus_charge_allowed,
                discharge_allowed=prev.system_plus_discharge_allowed,
            )
            ab_a = ab_port_current_a(
                ab_voltage_v=truth.ab_voltage_v,
                bank_voltage_v=truth.bank_voltage_v,
                path_resistance_ohm=self.path_resistance_ohm,
                enabled=prev.ab_enabled,
                fuse_drop_setpoint_v=prev.ab_fuse_drop_setpoint_v,
                installed_fuse=self.installed_fuse,
            )
        physical = dataclasses.replace(
            truth,
            system_plus_current_a=sp_a,
            alternator_fuse_drop_v=ab_a * self.installed_fuse.sense_resistance_ohm,
        )
        return dataclasses.replace(physical, **self.sensor)  # type: ignore[arg-type]

    def _step(self) -> None:
        sent = self._readings()
        result = self.controller.step(sent, self.now_s)
        self.history.append(Stepped(sent, self.now_s, result))
        self.previous = self.result.outputs if self.result is not None else None
        self.sent, self.result = sent, result
        self.ab_rose_after_s = None
        if result.outputs.ab_enabled and not (self.previous and self.previous.ab_enabled):
            last = self.last_ab_rise_s
            self.ab_rose_after_s = math.inf if last is None else self.now_s - last
            self.last_ab_rise_s = self.now_s
        self._model_limit(sent)
        if sent.powered:
            for name in MEASURED:
                if not bst.readable(name, getattr(sent, name)):
                    self.last_invalid_s[name] = self.now_s
        for e in result.events:
            if isinstance(e, MeasurementInvalid | MeasurementRecovered):
                event(f"{e.kind} {e.field}")
        if Code.A_A12 in result.outputs.codes:
            event("A-A12")
        if result.outputs.ab_enabled:
            failing = [name for name in MEASURED if name in self.sensor]
            event(f"AB enabled, sensors overridden: {','.join(failing) or 'none'}")

    def _model_limit(self, sent: Inputs) -> None:
        """ALT-5: latch at the limit; release after 10 s in a row at or below limit - 0.5 V.

        An invalid reading is no moment below the limit: it starts the 10 s again. A power
        cycle forgets the latch (the controller's volatile state).
        """
        bank_v, now = sent.bank_voltage_v, self.now_s
        limit_v = self.controller.settings.charge_limit_v
        if not sent.powered:
            self.limit_latched, self.below_since_s = False, None
        elif (
            not bst.readable("bank_voltage_v", bank_v) or bank_v > limit_v - c.ALT_RECONNECT_HYST_V
        ):
            self.below_since_s = None
            self.limit_latched = self.limit_latched or (
                bst.readable("bank_voltage_v", bank_v) and bank_v >= limit_v
            )
        elif self.limit_latched:
            self.below_since_s = now if self.below_since_s is None else self.below_since_s
            if now >= self.below_since_s + c.ALT_RECONNECT_HOLD_S:
                self.limit_latched, self.below_since_s = False, None

    def _refused(self, inputs: Inputs, now_s: float, error: type[Exception], words: str) -> None:
        """The call must raise `error` mentioning `words` and leave the controller as it was."""
        before: ControllerState = self.controller.snapshot()
        with pytest.raises(error, match=words):
            self.controller.step(inputs, now_s)
        assert self.controller.snapshot() == before, "a refused step changed the controller"
        self.history.append(Refused(inputs, now_s, error))
        event(f"refused {error.__name__}")

    def _gated(self, names: tuple[str, ...], span_s: float) -> bool:
        """One of `names` read invalid less than `span_s` ago."""
        now = self.now_s
        return any(now < self.last_invalid_s.get(name, -math.inf) + span_s for name in names)

    # --- start --------------------------------------------------------------------------------

    @initialize(
        initial=bst.settings_values,
        installed=bst.installed_fuses,
        path_resistance_ohm=st.sampled_from(_PATH_RESISTANCES_OHM),
        ab_voltage_v=bst.ab_voltages_v,
    )
    def start(
        self,
        initial: Settings,
        installed: FuseType,
        path_resistance_ohm: float,
        ab_voltage_v: float,
    ) -> None:
        self.initial = initial
        self.controller = Controller(initial)
        self.installed_fuse = installed
        self.path_resistance_ohm = path_resistance_ohm
        self.truth = dataclasses.replace(self.truth, ab_voltage_v=ab_voltage_v)
        self._step()

    # --- the physical world -------------------------------------------------------------------

    @rule(volts=bst.ab_voltages_v)
    def set_ab_voltage(self, volts: float) -> None:
        self.truth = dataclasses.replace(self.truth, ab_voltage_v=volts)
        self._step()

    @rule(offset_v=bst.bank_offsets_v)
    def set_bank_near_charge_limit(self, offset_v: float) -> None:
        bank_v = self.controller.settings.charge_limit_v + offset_v
        self.truth = dataclasses.replace(self.truth, bank_voltage_v=bank_v)
        self._step()

    @rule(dt_s=st.sampled_from([0.0, 1.0, 1.5, 12.0]))
    def alternator_charges(self, dt_s: float) -> None:
        """Back to a healthy charging system (so the ports have something to lose)."""
        self.truth = dataclasses.replace(
            self.truth,
            powered=True,
            ab_voltage_v=14.0,
            bank_voltage_v=self.controller.settings.charge_limit_v - 0.8,
            internal_temperature_c=25.0,
            allowed_to_charge=True,
            remote_lh_connected=True,
            calibration_ok=True,
            reference_ok=True,
            chain_connected=True,
        )
        self._step()
        if dt_s:
            self.now_s += dt_s
            self._step()

    @rule(celsius=bst.temperatures_c)
    def set_temperature(self, celsius: float) -> None:
        self.truth = dataclasses.replace(self.truth, internal_temperature_c=celsius)
        self._step()

    @rule(amps=bst.system_plus_currents_a)
    def set_system_plus_load(self, amps: float) -> None:
        self.sp_unrestricted_a = amps
        self._step()

    @rule(
        name=st.sampled_from(bst.SWITCH_FIELDS),
        value=st.booleans(),
        weight=st.sampled_from([True] * 3 + [False]),
    )
    def set_switch(self, name: str, value: bool, weight: bool) -> None:
        """One bool line; most lean towards healthy, so the ports get to close."""
        healthy = name not in {"chain_prealarm", "app_connected"}
        if weight and name not in {"chain_prealarm", "app_connected"}:
            value = healthy
        self.truth = dataclasses.replace(self.truth, **{name: value})
        self._step()

    @rule(
        looped=st.sampled_from([True, True, False]),
        l_v=bst.remote_l_voltages_v,
        h_v=bst.remote_h_voltages_v,
    )
    def set_remote_terminal(self, looped: bool, l_v: float, h_v: float) -> None:
        self.truth = dataclasses.replace(
            self.truth, remote_lh_connected=looped, remote_l_voltage_v=l_v, remote_h_voltage_v=h_v
        )
        self._step()

    @precondition(lambda self: self.sent.powered)
    @rule(change=bst.one_setting_change)
    def change_setting(self, change: tuple[str, object]) -> None:
        changes = dict([change])
        self.controller.change_settings(changes, pin=PIN, now_s=self.now_s)
        self.history.append(SettingsCall(changes, self.now_s))
        self._step()

    # --- failing sensors ----------------------------------------------------------------------

    @rule(data=st.data(), name=st.sampled_from(MEASURED))
    def sensor_fails(self, data: st.DataObject, name: str) -> None:
        """A measured field reads NaN, +-inf, a huge or a just-out-of-range number."""
        self.sensor[name] = data.draw(bst.impossible_values(name), label=name)
        self._step()

    @rule(data=st.data(), name=st.sampled_from(MEASURED), dt_s=st.sampled_from([0.001, 0.1, 1.0]))
    def sensor_glitches(self, data: st.DataObject, name: str, dt_s: float) -> None:
        """One impossible reading, then the truth again a moment later (a flickering sensor)."""
        had = self.sensor.pop(name, None)
        self.sensor[name] = data.draw(bst.impossible_values(name), label=name)
        self._step()
        del self.sensor[name]
        if had is not None:
            self.sensor[name] = had
        self.now_s += dt_s
        self._step()

    @rule(data=st.data(), name=st.sampled_from(MEASURED))
    def sensor_reads_extreme(self, data: st.DataObject, name: str) -> None:
        """A measured field reads a valid but extreme number (a lying sensor is still read)."""
        self.sensor[name] = data.draw(bst.extreme_but_readable(name), label=name)
        self._step()

    @precondition(lambda self: bool(self.sensor))
    @rule(data=st.data())
    def sensor_heals(self, data: st.DataObject) -> None:
        name = data.draw(st.sampled_from(sorted(self.sensor)), label="healed")
        del self.sensor[name]
        self._step()

    # --- careless callers ---------------------------------------------------------------------

    @rule(
        name=st.sampled_from(bst.SWITCH_FIELDS),
        value=bst.wrong_for_bool,
        later_s=st.sampled_from([0.0, 0.5]),
    )
    def offer_wrong_type_for_a_bool(self, name: str, value: object, later_s: float) -> None:
        wrong = dataclasses.replace(self._readings(), **{name: value})  # type: ignore[arg-type]
        self._refused(wrong, self.now_s + later_s, TypeError, f"Inputs.{name}")

    @rule(
        name=st.sampled_from(MEASURED),
        value=bst.wrong_for_number,
        later_s=st.sampled_from([0.0, 0.5]),
    )
    def offer_wrong_type_for_a_number(self, name: str, value: object, later_s: float) -> None:
        wrong = dataclasses.replace(self._readings(), **{name: value})  # type: ignore[arg-type]
        self._refused(wrong, self.now_s + later_s, TypeError, f"Inputs.{name}")

    @rule(now_s=st.sampled_from([math.nan, math.inf, -math.inf]))
    def offer_non_finite_time(self, now_s: float) -> None:
        self._refused(self._readings(), now_s, ValueError, "now_s must be finite")

    @precondition(lambda self: self.now_s > 0.0)
    @rule(back_s=st.sampled_from([1e-9, 0.001, 1.0, 1e6]))
    def offer_earlier_time(self, back_s: float) -> None:
        earlier_s = self.now_s - back_s
        if earlier_s < self.now_s:
            self._refused(self._readings(), earlier_s, ValueError, "backwards")

    # --- time ---------------------------------------------------------------------------------

    @rule(ticks=st.integers(1, 5))
    def tick_milliseconds(self, ticks: int) -> None:
        self.now_s += ticks * 0.001
        self._step()

    @rule(dt_s=st.floats(0.1, 2.0))
    def advance_seconds(self, dt_s: float) -> None:
        self.now_s += dt_s
        self._step()

    @rule(dt_s=st.floats(2.0, 30.0))
    def advance_longer(self, dt_s: float) -> None:
        self.now_s += dt_s
        self._step()

    @precondition(lambda self: self.result is not None and self.result.next_deadline_s < math.inf)
    @rule()
    def advance_to_deadline(self) -> None:
        assert self.result is not None
        self.now_s = self.result.next_deadline_s
        self._step()

    # --- invariants ---------------------------------------------------------------------------

    @invariant()
    def no_charge_path_without_atc(self) -> None:
        """ALT-6, SP-3, OUT-3: ATC withdrawn => AB open, no System+ charge, charge disconnect
        floating (a wrong-typed ATC never got this far: it was refused)."""
        if self.result is None or self.sent.allowed_to_charge:
            return
        out = self.out
        assert not out.ab_enabled
        assert not out.system_plus_charge_allowed
        assert out.charge_disconnect is Level.FLOATING

    @invariant()
    def ab_port_one_way_with_a_numeric_set_point(self) -> None:
        """ALT-2, ALT-3: the set point is a number in 0 ... 50 mV (0 while open), and for any
        circuit the AB current is never negative, never above the installed fuse's limit."""
        if self.result is None:
            return
        out = self.out
        setpoint = out.ab_fuse_drop_setpoint_v
        assert type(setpoint) is float
        assert 0.0 <= setpoint <= c.FUSE_SENSE_REF_V
        if not out.ab_enabled:
            assert setpoint == 0.0
        truth = self.truth
        pairs = ((truth.ab_voltage_v, truth.bank_voltage_v), *_FIXED_VOLTAGE_PAIRS_V)
        for fuse in INSTALLABLE_FUSES:
            for r_ohm in _PATH_RESISTANCES_OHM:
                for v_ab, v_bank in pairs:
                    amps = ab_port_current_a(
                        ab_voltage_v=v_ab,
                        bank_voltage_v=v_bank,
                        path_resistance_ohm=r_ohm,
                        enabled=out.ab_enabled,
                        fuse_drop_setpoint_v=setpoint,
                        installed_fuse=fuse,
                    )
                    assert 0.0 <= amps <= fuse.current_limit_a * (1 + 1e-9)
                    if v_bank >= v_ab:
                        assert amps == 0.0, "current from the bank back to the starter battery"

    @invariant()
    def the_charge_limit_holds_through_failed_readings(self) -> None:
        """ALT-5: while the limit is latched (a NaN is never a moment below it) AB is open."""
        if self.result is not None and self.limit_latched:
            assert not self.out.ab_enabled

    @invariant()
    def a_short_trips_a_a12(self) -> None:
        """SP-5, ERR-5: a valid reading of more than 600 A of discharge raises A-A12 at once."""
        if self.result is None or not self.sent.powered:
            return
        amps = self.sent.system_plus_current_a
        if bst.readable("system_plus_current_a", amps) and -amps > c.SP_SHORT_CIRCUIT_A:
            assert Code.A_A12 in self.out.codes

    @invariant()
    def a_a12_rises_only_on_a_valid_over_current(self) -> None:
        """SP-5: a trip is judged on valid readings only, never on NaN or infinite amperes."""
        if self.result is None:
            return
        for e in self.result.events:
            if isinstance(e, SystemPlusTripped):
                assert bst.readable("system_plus_current_a", e.current_a)
                assert abs(e.current_a) > c.SP_CONTINUOUS_A

    @invariant()
    def failed_measurements_keep_their_paths_closed(self) -> None:
        """A path stays closed while a measurement it needs read invalid less than the recovery
        time ago; the AB port then still waits its 1 s debounce (ALT-1): no chatter."""
        if self.result is None:
            return
        out = self.out
        if self._gated(AB_GATES, RECOVERY_S):
            assert not out.ab_enabled
        if self._gated(SP_GATES, RECOVERY_S):
            assert not out.system_plus_charge_allowed
            assert not out.system_plus_discharge_allowed
        if self.ab_rose_after_s is not None:
            assert not self._gated(AB_GATES, RECOVERY_S + c.ALT_ENGAGE_DEBOUNCE_S)
            assert self.ab_rose_after_s >= c.ALT_ENGAGE_DEBOUNCE_S

    @invariant()
    def a_failed_measurement_is_not_an_error_code(self) -> None:
        """ERR-1, ERR-4, SAFE: E-B30 and E-B33 follow their self-tests only, whatever reads."""
        if self.result is None or not self.sent.powered:
            return
        codes = self.out.codes
        assert (Code.E_B30 in codes) == (not self.sent.calibration_ok)
        assert (Code.E_B33 in codes) == (not self.sent.reference_ok)

    @invariant()
    def outputs_are_plain_values(self) -> None:
        """Every output is of its type; readings show a current only as a finite number."""
        if self.result is None:
            return
        out, readings = self.out, self.result.readings
        for flag in (out.ab_enabled, out.system_plus_charge_allowed, out.system_on):
            assert type(flag) is bool
        assert math.isfinite(out.supply_current_a)
        for shown in (readings.alternator_current_a, readings.alternator_current_pct):
            assert shown is None or math.isfinite(shown)

    @invariant()
    def no_surprise_before_the_deadline(self) -> None:
        """The deadline contract holds with failed measurements too (their recovery included)."""
        if self.result is None:
            return
        now, deadline = self.now_s, self.result.next_deadline_s
        assert deadline > now
        probe_s = now + 0.001 if math.isinf(deadline) else math.nextafter(deadline, -math.inf)
        if not now < probe_s < deadline:
            return
        probe = copy.copy(self.controller)
        again = probe.step(self.sent, probe_s)
        assert again.events == ()
        assert again.outputs == self.out
        assert again.next_deadline_s >= deadline

    def teardown(self) -> None:
        if self.history:
            replay(self.initial, self.history)


@pytest.mark.req("ALT-1", "ALT-2", "ALT-6", "SP-3", "SP-5", "ERR-4", "ERR-5", "SAFE")
def test_hostile_inputs_keep_the_safety_invariants() -> None:
    """ALT-1 ALT-2 ALT-6 SP-3 SP-5 ERR-4 ERR-5 SAFE under failing sensors and careless callers;
    plus no chatter, the deadline contract and determinism (refusals replayed too)."""
    run_state_machine_as_test(
        BoundaryMachine,
        settings=settings(
            max_examples=max(10, settings().max_examples // 2), stateful_step_count=100
        ),
    )
