"""The vehicle side of the AB port: alternator, lead-acid starter battery, and the BMS's own heat.

The alternator is a regulated voltage source behind a small resistance with a hard current limit:
its rating, scaled by what its speed and the heat around it allow (at engine idle about two
thirds); a "smart" alternator can drop its set point to about 12.5 V, below the BMS's 13.0 V gate
(PLT-5). Running at its rating for more than 5 minutes is flagged as an overheating risk, once
per episode (manual §2.2). The starter battery is a lead-acid Thevenin source whose charge
acceptance falls as it fills, after Copetti's model, to its float current when full (PLT-6).
The BMS itself is a first-order thermal mass heated by its limiter and switch losses (PLT-11), so
a big alternator on a small fuse in a hot engine bay derates (ALT-8).
"""

import dataclasses
import functools
import math
import tomllib
from collections.abc import Callable
from importlib import resources
from typing import NamedTuple

from smartbms.core import constants as c
from smartbms.core.timing import Hold
from smartbms.plant.battery import lag_ramp
from smartbms.plant.params import Table
from smartbms.plant.snapshot import FieldState, Snapshotted


@functools.cache
def _params() -> dict[str, dict[str, object]]:
    """lead_acid.toml: the starter battery's and the alternator's numbers, with their sources."""
    text = resources.files("smartbms.plant.params").joinpath("lead_acid.toml").read_text("utf-8")
    return tomllib.loads(text)


def _number(table: str, key: str) -> float:
    value = _params()[table][key]
    assert isinstance(value, int | float)  # noqa: S101  # our own data file
    return float(value)


def _numbers(table: str, key: str) -> tuple[float, ...]:
    values = _params()[table][key]
    assert isinstance(values, list)  # noqa: S101  # our own data file
    return tuple(float(v) for v in values)


LEAD_ACID_EMPTY_V = _number("starter", "empty_v")
"""Open-circuit voltage of an empty 12 V lead-acid battery (lead_acid.toml)."""
LEAD_ACID_FULL_V = _number("starter", "full_v")
"""Open-circuit voltage of a full one."""
LEAD_ACID_CELLS = _number("starter", "cells")
LEAD_ACID_CHARGE_EFFICIENCY = _number("starter", "charge_efficiency")
"""Coulombic efficiency of lead-acid charging."""
COPETTI_A, COPETTI_B, COPETTI_C, COPETTI_D, COPETTI_E = (
    _number("starter", f"copetti_{k}") for k in "abcde"
)
"""Copetti's charge-resistance coefficients (lead_acid.toml cites the paper)."""
LEAD_ACID_ACCEPTANCE_SOC_MAX = _number("starter", "acceptance_soc_max")
"""Above this state of charge the acceptance term is held: a full battery's float current."""
ALTERNATOR_AT_MAX_FRACTION = 0.98
"""Chosen: output at or above this fraction of the rating counts as 'maximum output'."""
ALTERNATOR_SPEED_CURVE = Table(
    _numbers("alternator", "speed_rpm"), _numbers("alternator", "output_fraction")
)
"""The fraction of the rating an alternator can give, by its own speed (lead_acid.toml)."""
ALTERNATOR_PULLEY_RATIO = _number("alternator", "pulley_ratio")
IDLE_ENGINE_RPM = _number("alternator", "idle_engine_rpm")
CRUISING_ENGINE_RPM = _number("alternator", "cruising_engine_rpm")
ALTERNATOR_RATED_UP_TO_C = _number("alternator", "rated_up_to_c")
ALTERNATOR_DERATE_PER_C = _number("alternator", "derate_per_c")
ALTERNATOR_DERATE_FLOOR = _number("alternator", "derate_floor")

BMS_HEAT_CAPACITY_J_PER_K = 1800.0
"""Chosen: 2 kg of mostly aluminium housing (manual §4: weight 2 kg)."""
BMS_THERMAL_RESISTANCE_K_PER_W = 0.5
"""Chosen: a finned 340 x 120 mm case in still air, mounted vertically."""
BMS_AB_SWITCH_RESISTANCE_OHM = 0.0005
"""Chosen: on-resistance of the AB switch MOSFETs (besides the limiter's regulated drop)."""
BMS_SYSTEM_PLUS_RESISTANCE_OHM = 0.0005
"""Chosen: on-resistance of the System+ MOSFETs (200 A -> 20 W)."""


_NOT_AT_MAX = Hold(c.ALTERNATOR_OVERHEAT_S)
"""An alternator's overheating watch before it first runs at its rating (a frozen value)."""


class AlternatorSnapshot(NamedTuple):
    """An alternator's state: engine and mode (timeline commands) and the overheating watch."""

    running: bool
    smart_mode: bool
    at_max: Hold
    at_max_total_s: float
    overheat_risk_at_s: float | None


@dataclasses.dataclass(slots=True)
class Alternator(Snapshotted[AlternatorSnapshot]):
    """A regulated alternator (PLT-5)."""

    _STATE = FieldState(AlternatorSnapshot)

    rated_current_a: float
    regulated_voltage_v: float = 14.4
    smart_voltage_v: float | None = None
    internal_resistance_ohm: float = 0.005
    engine_rpm: float = CRUISING_ENGINE_RPM
    """The engine's speed while it runs (the scenario's idle / cruising), through the pulley."""
    running: bool = False
    smart_mode: bool = False
    at_max: Hold = _NOT_AT_MAX
    """At maximum output, towards the overheating risk (manual §2.2)."""
    at_max_total_s: float = 0.0
    overheat_risk_at_s: float | None = None

    @property
    def at_max_since_s(self) -> float | None:
        """When the present stretch at maximum output began (None: not at maximum)."""
        return self.at_max.since_s

    @property
    def set_point_v(self) -> float:
        """The voltage it regulates to right now."""
        if self.smart_mode and self.smart_voltage_v is not None:
            return self.smart_voltage_v
        return self.regulated_voltage_v

    def max_current_a(self, surroundings_c: float) -> float:
        """The most it can give now: the rating at this speed and in this heat (PLT-5)."""
        speed = ALTERNATOR_SPEED_CURVE(self.engine_rpm * ALTERNATOR_PULLEY_RATIO)
        hot_k = max(surroundings_c - ALTERNATOR_RATED_UP_TO_C, 0.0)
        heat = max(1.0 - ALTERNATOR_DERATE_PER_C * hot_k, ALTERNATOR_DERATE_FLOOR)
        return self.rated_current_a * speed * heat

    def characteristic(self, most_a: float) -> Callable[[float], float]:
        """`current_a` of a running alternator in this state, its maximum `most_a` given.

        The network solve asks for many voltages in one state.
        """
        set_v = self.set_point_v
        resistance_ohm = self.internal_resistance_ohm
        return lambda v: min(max((set_v - v) / resistance_ohm, 0.0), most_a)

    def current_a(
        self, terminal_v: float, surroundings_c: float = ALTERNATOR_RATED_UP_TO_C
    ) -> float:
        """Output current at a terminal voltage: (set point - V) / R, within 0...its maximum."""
        if not self.running:
            return 0.0
        raw = (self.set_point_v - terminal_v) / self.internal_resistance_ohm
        return min(max(raw, 0.0), self.max_current_a(surroundings_c))

    def advance(self, current_a: float, dt_s: float, now_s: float) -> bool:
        """Track time at maximum output; True when the 5-minute overheating risk starts now.

        "Maximum" is the real output against the rating: an idling or hot alternator that
        cannot reach its rating is not at it. An episode ends when the engine stops: the next
        drive is watched afresh (its flag comes once more, at its own time).
        """
        if not self.running and self.overheat_risk_at_s is not None:
            self.overheat_risk_at_s = None  # the episode is over
        at_max = self.running and current_a >= ALTERNATOR_AT_MAX_FRACTION * self.rated_current_a
        self.at_max = self.at_max.look(at_max, now_s)
        since_s = self.at_max.since_s
        if since_s is None:
            return False
        self.at_max_total_s += dt_s
        # strictly more than five minutes by the end of the step
        if self.overheat_risk_at_s is None and now_s + dt_s - since_s > self.at_max.hold_s:
            self.overheat_risk_at_s = self.at_max.due_s
            return True
        return False


class StarterSnapshot(NamedTuple):
    """A starter battery's state: its charge, a crank in progress and the lowest voltage seen."""

    soc_pct: float
    crank_until_s: float
    lowest_voltage_v: float


@dataclasses.dataclass(slots=True)
class StarterBattery(Snapshotted[StarterSnapshot]):
    """A 12 V lead-acid starter battery (PLT-6). Positive current charges it."""

    _STATE = FieldState(StarterSnapshot)

    capacity_ah: float = 70.0
    soc_pct: float = 90.0
    internal_resistance_ohm: float = 0.006
    crank_current_a: float = 250.0
    crank_duration_s: float = 2.0
    standby_current_a: float = 0.02
    crank_until_s: float = -math.inf
    lowest_voltage_v: float = math.inf

    @property
    def ocv_v(self) -> float:
        """Open-circuit voltage by state of charge."""
        soc = min(max(self.soc_pct, 0.0), 100.0) / 100.0
        return LEAD_ACID_EMPTY_V + (LEAD_ACID_FULL_V - LEAD_ACID_EMPTY_V) * soc

    def resistance_ohm(self, charging: bool) -> float:
        """Discharge resistance, or the charge resistance of Copetti's model at this SoC.

        R_int + cells / C10 * (a / (1 + I_ref^b) + c / (1 - SoC)^d + e), with I_ref the 10-hour
        rate: it grows without bound towards full (lead_acid.toml), held at its float value.
        """
        if not charging:
            return self.internal_resistance_ohm
        soc = min(max(self.soc_pct / 100.0, 0.0), LEAD_ACID_ACCEPTANCE_SOC_MAX)
        c10_ah = self.capacity_ah
        i_ref_a = c10_ah / 10.0
        per_cell: float = (
            COPETTI_A / (1.0 + math.pow(i_ref_a, COPETTI_B))
            + COPETTI_C / math.pow(1.0 - soc, COPETTI_D)
            + COPETTI_E
        )
        return self.internal_resistance_ohm + LEAD_ACID_CELLS / c10_ah * per_cell

    def current_a(self, terminal_v: float) -> float:
        """Current into the battery at a terminal voltage."""
        return self.characteristic()(terminal_v)

    def characteristic(self) -> Callable[[float], float]:
        """`current_a` with the present state's voltage and resistances worked out once.

        The network solve asks for many voltages in one state.
        """
        emf = self.ocv_v
        r_charge = self.resistance_ohm(charging=True)
        r_discharge = self.resistance_ohm(charging=False)
        return lambda v: (v - emf) / (r_charge if v > emf else r_discharge)

    def load_a(self, now_s: float) -> float:
        """The vehicle's own draw on the starter node: standby plus cranking."""
        cranking = now_s < self.crank_until_s
        return self.standby_current_a + (self.crank_current_a if cranking else 0.0)

    def correct_for_ramp(self, start_a: float, end_a: float, dt_s: float) -> None:
        """Turn the last `advance` (held `start_a`) into the trapezoid up to `end_a`."""
        self._add_charge(0.5 * (end_a - start_a) * dt_s, charging=start_a + end_a > 0)

    def bend_ramp(self, curvature_a_per_s2: float, charging: bool, dt_s: float) -> None:
        """Correct the last ramp for the current's curvature (see `LithiumBattery.bend_ramp`)."""
        self._add_charge(-curvature_a_per_s2 * dt_s**3 / 12.0, charging=charging)

    def _add_charge(self, charge_as: float, *, charging: bool) -> None:
        """Move the state of charge by `charge_as`, with the charge efficiency while charging."""
        gain = LEAD_ACID_CHARGE_EFFICIENCY if charging else 1.0
        delta_pct = 100.0 * charge_as * gain / 3600.0 / self.capacity_ah
        self.soc_pct = min(max(self.soc_pct + delta_pct, 0.0), 100.0)

    def advance(self, current_a: float, terminal_v: float, dt_s: float) -> None:
        """Coulomb counting with charge efficiency."""
        gain = LEAD_ACID_CHARGE_EFFICIENCY if current_a > 0 else 1.0
        self.soc_pct += 100.0 * current_a * gain * dt_s / 3600.0 / self.capacity_ah
        self.soc_pct = min(max(self.soc_pct, 0.0), 100.0)
        self.lowest_voltage_v = min(self.lowest_voltage_v, terminal_v)


@dataclasses.dataclass(slots=True)
class BmsThermal:
    """The Smart BMS housing temperature (PLT-11)."""

    temperature_c: float

    def save_state(self) -> float:
        """Its temperature, its only state."""
        return self.temperature_c

    def load_state(self, state: float) -> None:
        """Put back what `save_state` gave."""
        self.temperature_c = state

    def advance(self, heat_w: float, surroundings_c: float, dt_s: float) -> None:
        """First-order heating towards surroundings + heat * R_th, exact for constant heat."""
        tau_s = BMS_HEAT_CAPACITY_J_PER_K * BMS_THERMAL_RESISTANCE_K_PER_W
        target_c = surroundings_c + heat_w * BMS_THERMAL_RESISTANCE_K_PER_W
        self.temperature_c = target_c + (self.temperature_c - target_c) * math.exp(-dt_s / tau_s)

    def correct_for_ramp(self, target_change_c: float, dt_s: float) -> None:
        """The exact answer to a target (surroundings + heat R_th) ramping over the last step.

        `advance` held the start target; a ramp by d moves the end by
        d (1 - tau (1 - e^(-dt/tau)) / dt).
        """
        if dt_s <= 0.0:
            return
        tau_s = BMS_HEAT_CAPACITY_J_PER_K * BMS_THERMAL_RESISTANCE_K_PER_W
        self.temperature_c += target_change_c * lag_ramp(tau_s, dt_s)
