"""The closed loop: plant -> measurements -> controller -> commands -> plant, step by step.

Each step at time t: apply the timeline entries due, solve the network with the outputs in force,
let the controller see the measurements, re-solve if its commands changed, log events and the
trace, then integrate the plant to the next time the stepper picks. Steppers are swappable:

* `FixedStep(dt)` is the plain reference: every dt, whatever happens (a deadline or a timeline
  entry between two steps is seen at the next step, as by a real sampled loop).
* `AdaptiveStep()` is the default: long steps through quiet stretches, short ones where cell or
  bank voltages, temperatures or V_AB approach a threshold, and never past a controller deadline,
  a timeline entry, a device timer or the end of a short or crank.
"""

import dataclasses
import math
import time
from collections.abc import Callable, Iterator
from typing import Protocol

from smartbms.core import constants as c
from smartbms.core.codes import Code
from smartbms.core.controller import Controller
from smartbms.core.events import Event
from smartbms.core.signals import LedMode, Leds, Level, Outputs, Readings
from smartbms.plant.events import (
    AlternatorOverheatRisk,
    BatteryDamaged,
    ChainSignalChanged,
    FaultInjected,
    TimelineApplied,
)
from smartbms.plant.system import OperatingPoint, TwelveVoltSystem
from smartbms.sim import scenario as sc
from smartbms.sim.build import build_controller, build_system
from smartbms.sim.summary import SummaryBuilder

_TIME_EPS_S = 1e-9
_SETTLE_ITERATIONS = 4
"""At most this many controller decisions at one instant (a trip after a retry needs two)."""
ALL_OPEN = Outputs(
    ab_enabled=False,
    ab_fuse_drop_setpoint_v=0.0,
    system_plus_charge_allowed=False,
    system_plus_discharge_allowed=False,
    load_disconnect=Level.FLOATING,
    charge_disconnect=Level.FLOATING,
    prealarm=Level.FLOATING,
    prealarm_alarm=False,
    leds=Leds(*(LedMode.OFF,) * 7),
    codes=frozenset(),
    system_on=False,
    bms_active=False,
    safe_state=False,
    supply_current_a=0.0,
)
"""The BMS before its first decision: nothing conducts."""


class Stepper(Protocol):
    """Picks the next time to step to."""

    @property
    def name(self) -> str:
        """A short label for messages."""
        ...

    def next_time(self, now_s: float, limit_s: float, quiet_dt_s: float) -> float:
        """The next step time; `limit_s` is the latest a deadline-respecting stepper may go."""
        ...


@dataclasses.dataclass(frozen=True, slots=True)
class FixedStep:
    """Every `dt_s`, blind to deadlines: the reference."""

    dt_s: float = 0.1
    name: str = "fixed"

    def next_time(self, now_s: float, limit_s: float, quiet_dt_s: float) -> float:  # noqa: ARG002
        """Now plus dt (the limit and the quiet step are ignored on purpose)."""
        return now_s + self.dt_s


@dataclasses.dataclass(frozen=True, slots=True)
class AdaptiveStep:
    """Long steps when quiet, never past a deadline (the default)."""

    max_dt_s: float = 600.0
    min_dt_s: float = 0.05
    name: str = "adaptive"

    def next_time(self, now_s: float, limit_s: float, quiet_dt_s: float) -> float:
        """The quiet step, clamped to [min, max] and never past `limit_s`."""
        dt = min(max(quiet_dt_s, self.min_dt_s), self.max_dt_s)
        return min(now_s + dt, limit_s)


StepObserver = Callable[[float, float, OperatingPoint, Outputs, Readings], None]


@dataclasses.dataclass(slots=True)
class RunResult:
    """What a run produced (the trace goes to its writer, not here)."""

    events: list[Event]
    summary: dict[str, object]
    steps: int
    wall_s: float


class Simulation:
    """One run of one scenario."""

    def __init__(self, scenario: sc.Scenario, *, stepper: Stepper | None = None) -> None:
        self.scenario = scenario
        self.stepper: Stepper = stepper or AdaptiveStep()
        self.system: TwelveVoltSystem = build_system(scenario)
        self.controller: Controller = build_controller(scenario)
        self.outputs = ALL_OPEN
        self.now_s = 0.0
        self._ambient_c: float | None = None
        self._clear_sky: float | None = None
        self._timeline = list(scenario.timeline)
        self._next_entry = 0
        self._pending_ends: list[tuple[float, str]] = []
        self._chain_state = self._chain_lines()
        self._damaged = [b.damaged for b in self.system.batteries]
        self._previous_watch: tuple[float, tuple[float, ...]] | None = None
        self.summary = SummaryBuilder(scenario, self.system)

    # --- the loop -------------------------------------------------------------------------------

    def run(
        self,
        *,
        on_event: Callable[[Event], None] | None = None,
        on_step: StepObserver | None = None,
        on_progress: Callable[[float], None] | None = None,
    ) -> RunResult:
        """Run to the end; call the hooks as events, steps and progress happen."""
        started = time.perf_counter()
        events: list[Event] = []

        def emit(event: Event) -> None:
            events.append(event)
            self.summary.event(event)
            if on_event is not None:
                on_event(event)

        end_s = self.scenario.duration_s
        steps = 0
        t = 0.0
        while True:
            self.now_s = t
            for event in self._apply_due(t):
                emit(event)
            op = self.system.solve(t, self.outputs)
            # Settle the instant: when the BMS changes what its ports do, it sees the plant's
            # answer at once (a retry into a short trips again within microseconds, not at the
            # next step), so step it again at the same time until its commands stand.
            for _ in range(_SETTLE_ITERATIONS):
                inputs = self.system.measure(op, self.outputs)
                result = self.controller.step(inputs, t)
                for event in result.events:
                    emit(event)
                changed = _powers_differently(self.outputs, result.outputs)
                self.outputs = result.outputs
                if not changed:
                    break
                op = self.system.solve(t, self.outputs)
            steps += 1
            if t >= end_s:
                self.summary.step(t, 0.0, op, self.outputs, result.readings)
                if on_step is not None:
                    on_step(t, 0.0, op, self.outputs, result.readings)
                break
            limit_s = min(
                result.next_deadline_s,
                self._next_timeline_s(),
                self.system.next_device_change_s(t, self.outputs),
                end_s,
            )
            t_next = self.stepper.next_time(t, limit_s, self._quiet_dt_s(t, op))
            t_next = min(t_next, end_s)
            dt = t_next - t
            self.summary.step(t, dt, op, self.outputs, result.readings)
            if on_step is not None:
                on_step(t, dt, op, self.outputs, result.readings)
            if self.system.advance(t, dt, op, self.outputs):
                at = self.system.alternator.overheat_risk_at_s if self.system.alternator else t
                emit(AlternatorOverheatRisk(at if at is not None else t))
            for event in self._plant_events(t_next):
                emit(event)
            self._update_surroundings(t_next)
            if on_progress is not None:
                on_progress(t_next / end_s)
            t = t_next
        return RunResult(events, self.summary.build(), steps, time.perf_counter() - started)

    # --- timeline -------------------------------------------------------------------------------

    def _next_timeline_s(self) -> float:
        candidates = [end for end, _ in self._pending_ends]
        if self._next_entry < len(self._timeline):
            candidates.append(self._timeline[self._next_entry].at_s)
        return min(candidates, default=math.inf)

    def _apply_due(self, t: float) -> Iterator[Event]:
        for end_s, what in list(self._pending_ends):
            if end_s <= t + _TIME_EPS_S:
                self._pending_ends.remove((end_s, what))
                yield from self._end(what, t)
        while (
            self._next_entry < len(self._timeline)
            and self._timeline[self._next_entry].at_s <= t + _TIME_EPS_S
        ):
            entry = self._timeline[self._next_entry]
            self._next_entry += 1
            yield from self._apply(entry, t)

    def _end(self, what: str, t: float) -> Iterator[Event]:
        if what == "short":
            self.system.faults.system_plus_short_ohm = None
            yield FaultInjected(t, "system-plus-short", "the short is gone")
        # a crank ends by itself (StarterBattery.load_a); nothing to undo

    def _apply(self, entry: sc.TimelineBase, t: float) -> Iterator[Event]:
        system = self.system
        alternator = system.alternator
        if isinstance(entry, sc.FaultBase):
            yield from self._fault(entry, t)
            return
        detail = ""
        if isinstance(entry, sc.EngineStart):
            if alternator is not None:
                alternator.running = True
            if entry.crank and system.starter is not None:
                system.starter.crank_until_s = t + system.starter.crank_duration_s
                self._pending_ends.append((system.starter.crank_until_s, "crank"))
                detail = "cranking"
        elif isinstance(entry, sc.EngineStop):
            if alternator is not None:
                alternator.running = False
        elif isinstance(entry, sc.AlternatorModeChange):
            if alternator is not None:
                alternator.smart_mode = entry.mode == "smart"
            detail = entry.mode
        elif isinstance(entry, sc.ShorePower):
            system.surroundings.shore_power = entry.on
            detail = "on" if entry.on else "off"
        elif isinstance(entry, sc.SetDevice):
            changes = entry.changes()
            for device in system.devices:
                if device.name == entry.device:
                    device.set(**changes)
            detail = f"{entry.device}: " + ", ".join(f"{k}={v}" for k, v in changes.items())
        elif isinstance(entry, sc.RemoteSwitch):
            system.remote.closed = entry.closed
            detail = "closed" if entry.closed else "open"
        elif isinstance(entry, sc.SoftSwitch):
            yield from self._change_setting({"soft_switch_on": entry.on}, t)
            detail = "on" if entry.on else "off"
        elif isinstance(entry, sc.SettingChange):
            yield from self._change_setting({entry.name: entry.value}, t)
            detail = f"{entry.name}={entry.value}"
        elif isinstance(entry, sc.AmbientChange):
            self._ambient_c = entry.ambient_c
            detail = f"{entry.ambient_c:g} °C"
        elif isinstance(entry, sc.SolarChange):
            self._clear_sky = entry.clear_sky_fraction
            detail = f"clear sky {entry.clear_sky_fraction:g}"
        elif isinstance(entry, sc.Note):
            detail = entry.text
        self._update_surroundings(t)
        yield TimelineApplied(t, str(getattr(entry, "action", "")), detail)

    def _change_setting(self, changes: dict[str, object], t: float) -> Iterator[Event]:
        controller = self.controller
        yield from controller.change_settings(changes, pin=controller.settings.pin, now_s=t)

    def _fault(self, entry: sc.FaultBase, t: float) -> Iterator[Event]:
        faults = self.system.faults
        batteries = self.system.batteries
        detail = ""
        if isinstance(entry, sc.BmsCableUnplugged):
            faults.chain_unplugged = True
        elif isinstance(entry, sc.BmsCablePlugged):
            faults.chain_unplugged = False
        elif isinstance(entry, sc.WeakCell):
            cell = batteries[entry.battery - 1].cells[entry.cell - 1]
            cell.charge_ah *= entry.capacity_factor
            cell.capacity_ah *= entry.capacity_factor
            detail = f"battery {entry.battery} cell {entry.cell} at {entry.capacity_factor:.0%}"
        elif isinstance(entry, sc.CellResistance):
            batteries[entry.battery - 1].cells[entry.cell - 1].r0_ohm *= entry.factor
            detail = f"battery {entry.battery} cell {entry.cell} resistance x{entry.factor:g}"
        elif isinstance(entry, sc.SystemPlusShort):
            faults.system_plus_short_ohm = entry.resistance_ohm
            self._pending_ends.append((t + entry.duration_s, "short"))
            detail = f"{entry.resistance_ohm * 1000:g} mOhm for {entry.duration_s:g} s"
        elif isinstance(entry, sc.FuseBlown):
            faults.fuse_blown = True
        elif isinstance(entry, sc.FuseReplaced):
            faults.fuse_blown = False
        elif isinstance(entry, sc.ConfigCorrupted):
            self.controller.mark_config_corrupted()
        elif isinstance(entry, sc.CalibrationLost):
            faults.calibration_lost = True
        elif isinstance(entry, sc.ReferenceFailed):
            faults.reference_failed = True
        elif isinstance(entry, sc.RemotePlugRemoved):
            faults.remote_plug_removed = True
        elif isinstance(entry, sc.RemotePlugInserted):
            faults.remote_plug_removed = False
        elif isinstance(entry, sc.LooseConnection):
            battery = batteries[entry.battery - 1]
            battery.options = dataclasses.replace(
                battery.options, connection_resistance_ohm=entry.resistance_ohm
            )
            detail = f"battery {entry.battery}: {entry.resistance_ohm * 1000:g} mOhm"
        elif isinstance(entry, sc.Heat):
            faults.bms_extra_c = entry.bms_extra_c
            detail = f"+{entry.bms_extra_c:g} °C around the BMS"
        elif isinstance(entry, sc.PrealarmOutputOverload):
            faults.prealarm_overload_a = entry.current_a
            detail = f"{entry.current_a:g} A"
        yield FaultInjected(t, str(getattr(entry, "fault", "")), detail)

    # --- plant bookkeeping ----------------------------------------------------------------------

    def _update_surroundings(self, t: float) -> None:
        surroundings = self.system.surroundings
        surroundings.ambient_c = self.scenario.ambient_c_at(t, self._ambient_c)
        surroundings.solar_fraction = self.scenario.sun_fraction_at(t, self._clear_sky)

    def _chain_lines(self) -> list[tuple[bool, bool, bool]]:
        return [
            (b.allowed_to_charge, b.allowed_to_discharge, b.prealarm_line)
            for b in self.system.batteries
        ]

    def _plant_events(self, t: float) -> Iterator[Event]:
        lines = self._chain_lines()
        names = ("allowed to charge", "allowed to discharge", "pre-alarm")
        for index, (old, new) in enumerate(zip(self._chain_state, lines, strict=True)):
            for name, was, now in zip(names, old, new, strict=True):
                if was != now:
                    yield ChainSignalChanged(t, index + 1, name, now)
        self._chain_state = lines
        for index, battery in enumerate(self.system.batteries):
            if battery.damaged and not self._damaged[index]:
                self._damaged[index] = True
                at = battery.damaged_at_s if battery.damaged_at_s is not None else t
                yield BatteryDamaged(at, index + 1)

    def _quiet_dt_s(self, t: float, op: OperatingPoint) -> float:
        """How long the plant may run before something could cross a threshold."""
        system = self.system
        dt = math.inf
        for battery, current in zip(system.batteries, op.battery_currents_a, strict=True):
            if abs(current) > 1e-9:
                dt = min(dt, 0.0025 * battery.capacity_ah * 3600.0 / abs(current))
        busy = (
            system.surroundings.solar_fraction > 0.0
            or system.surroundings.shore_power
            or (system.alternator is not None and system.alternator.running)
            or any(abs(i) > 0.5 for i in op.device_currents_a)
        )
        if busy:
            dt = min(dt, 30.0)
        watch = self._watched(op)
        if self._previous_watch is not None:
            t0, values0 = self._previous_watch
            span = t - t0
            if span > 0:
                for (value, thresholds), value0 in zip(watch, values0, strict=True):
                    rate = (value - value0) / span
                    if rate == 0.0:
                        continue
                    for threshold in thresholds:
                        distance = threshold - value
                        if distance * rate > 0:  # moving towards it
                            dt = min(dt, 0.5 * distance / rate)
        self._previous_watch = (t, tuple(value for value, _ in watch))
        return dt

    def _watched(self, op: OperatingPoint) -> list[tuple[float, tuple[float, ...]]]:
        system = self.system
        limit = self.controller.settings.charge_limit_v
        watch: list[tuple[float, tuple[float, ...]]] = [
            (op.bank_voltage_v, (limit, limit - c.ALT_RECONNECT_HYST_V)),
            (op.ab_voltage_v, (c.ALT_ENGAGE_V, c.ALT_INPUT_MAX_V)),
            (
                system.bms_thermal.temperature_c,
                (c.BMS_OVERTEMP_RELEASE_C, c.BMS_DERATE_START_C, c.BMS_OVERTEMP_TRIP_C),
            ),
        ]
        for battery, current in zip(system.batteries, op.battery_currents_a, strict=True):
            volts = battery.cell_voltages_v(current)
            opts = battery.options
            watch.append(
                (
                    min(volts),
                    (opts.cell_under_voltage_v, opts.cell_prealarm_v, c.CELL_UV_RELEASE_V),
                )
            )
            watch.append((max(volts), (c.CELL_BALANCE_START_V, c.CELL_OV_RELEASE_V, c.CELL_OV_V)))
            watch.append(
                (
                    battery.temperature_c,
                    (
                        opts.charge_min_c,
                        opts.charge_min_c + c.BATT_TEMP_HYST_C,
                        c.BATT_CHARGE_MAX_C,
                    ),
                )
            )
        return watch


def _powers_differently(old: Outputs, new: Outputs) -> bool:
    """Whether the plant sees a difference (LEDs and codes alone change nothing physical)."""
    return (
        old.ab_enabled != new.ab_enabled
        or old.ab_fuse_drop_setpoint_v != new.ab_fuse_drop_setpoint_v
        or old.system_plus_charge_allowed != new.system_plus_charge_allowed
        or old.system_plus_discharge_allowed != new.system_plus_discharge_allowed
        or old.load_disconnect is not new.load_disconnect
        or old.charge_disconnect is not new.charge_disconnect
        or old.prealarm is not new.prealarm
        or old.supply_current_a != new.supply_current_a
    )


def codes_text(codes: frozenset[Code]) -> str:
    """Codes as one trace cell, in table order ("A-B11 W-B12")."""
    return " ".join(code.value for code in Code if code in codes)
