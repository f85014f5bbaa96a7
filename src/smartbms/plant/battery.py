"""The Lithium Battery 12,8V Smart: four LFP cells, their own cell monitor and the BMS-cable lines.

Each cell is an equivalent circuit: open-circuit voltage OCV(SoC) in series with R0 and one R1‖C1
branch (PLT-1), with LFP's small charge/discharge hysteresis (one state per cell that moves
towards the branch of the current's direction as charge passes) and an over-full range: charge
pushed in beyond 100 % raises the voltage to the charger's and relaxes back to full at rest, so a
bank charged to 14.2 V rests near 13.5 V within the hour. Capacity and resistance follow the
temperature: cold traps the bottom of the charge (at 0 °C ~80 % is usable, at -20 °C ~50 %), so a
cold battery hits its low-cell cut-off with charge still inside, which comes back when it warms.
Every number comes from plant/params/lfp_cell.toml (with its source; docs/parameters.md).
The battery's own monitor turns cell voltages and temperature into the chain lines ATC, ATD
and pre-alarm with their hysteresis (PLT-2), bleeds high cells at the end of charge
(balancing), and flags deep-discharge damage when a cell's last usable reserve is gone (PLT-3):
its state of charge reaches 0 %, where the open-circuit voltage falls off the curve's 2.0 V
end. A battery that runs above its maximum continuous current for more than `OVERLOAD_HOLD_S`
is overloaded (`overloaded_at_s`). The whole battery is a Thevenin source (`emf_v`,
`resistance_ohm`) so the network can share current between parallel batteries (PLT-4).
"""

import bisect
import dataclasses
import enum
import math
from collections.abc import Callable
from typing import NamedTuple

from smartbms.core import constants as c
from smartbms.core.timing import Hold
from smartbms.plant.cell_monitor import ReleaseTimers, hold_alarm
from smartbms.plant.params import BatteryModel, CellModel, cell_model

CELLS_IN_SERIES = 4
OVERLOAD_HOLD_S = 10.0
"""Above its maximum continuous current for longer than this, a battery is overloaded (issue 13:
the data sheet's 10 s pulse rating is the most a short surge may last, Lithium NG data)."""
_NOT_OVERLOADED = Hold(OVERLOAD_HOLD_S)

Current = tuple[float, float, float]
"""A current over a step, i0 + ramp t + curve t^2 (A, A/s, A/s^2)."""


class BalancerStatus(enum.Enum):
    """What the battery reports about its cell balance (PLT-1)."""

    UNKNOWN = "unknown"
    BALANCED = "balanced"
    BALANCING = "balancing"
    IMBALANCE = "imbalance"


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class BatteryOptions:
    """How one installed battery differs from its model (all defaults: an ideal new battery)."""

    soc_pct: float = 100.0
    temperature_c: float = 25.0
    cell_capacity_factors: tuple[float, ...] = (1.0, 1.0, 1.0, 1.0)
    cell_soc_offsets_pct: tuple[float, ...] = (0.0, 0.0, 0.0, 0.0)
    cell_resistance_factors: tuple[float, ...] = (1.0, 1.0, 1.0, 1.0)
    connection_resistance_ohm: float = 0.0
    cell_under_voltage_v: float = c.CELL_UV_DEFAULT_V
    cell_prealarm_v: float = c.CELL_PREALARM_V
    charge_min_c: float = c.BATT_CHARGE_MIN_C
    supports_prealarm: bool | None = None
    """None: as the model says."""
    balancing: bool = True


class CellSnapshot(NamedTuple):
    """A cell's state (see `Cell.save_state`)."""

    capacity_ah: float
    charge_ah: float
    r0_ohm: float
    v_rc_v: float
    bleeding: bool
    hysteresis: float


@dataclasses.dataclass(slots=True)
class Cell:
    """One cell's state. `charge_ah` counts from empty (0 % SoC) at 25 °C.

    All of it is state: a weak-cell or cell-resistance fault changes the capacity and R0 too.
    """

    capacity_ah: float
    charge_ah: float
    r0_ohm: float
    v_rc_v: float = 0.0
    bleeding: bool = False
    hysteresis: float = 0.0
    """-1: on the discharge branch of the open-circuit curve, +1: on the charge branch."""

    def save_state(self) -> CellSnapshot:
        """The cell as a frozen value (`load_state` takes it back)."""
        return CellSnapshot(
            self.capacity_ah,
            self.charge_ah,
            self.r0_ohm,
            self.v_rc_v,
            self.bleeding,
            self.hysteresis,
        )

    def load_state(self, state: CellSnapshot) -> None:
        """Put back what `save_state` gave."""
        (
            self.capacity_ah,
            self.charge_ah,
            self.r0_ohm,
            self.v_rc_v,
            self.bleeding,
            self.hysteresis,
        ) = state


class BatterySnapshot(NamedTuple):
    """A battery's state (see `LithiumBattery.save_state`)."""

    options: BatteryOptions
    """Frozen; a loose-connection fault replaces it."""
    temperature_c: float
    step_resistance_factor: float
    over_voltage: bool
    under_voltage: bool
    prealarm: bool
    too_cold_to_charge: bool
    too_hot_to_charge: bool
    discharge_temperature_fault: bool
    balancer_status: BalancerStatus
    damaged: bool
    damaged_at_s: float | None
    bled_ah: float
    heat_j: float
    overfull_ah: float
    overload: Hold
    overloaded_at_s: float | None
    overload_current_a: float
    cells: tuple[CellSnapshot, ...]
    release: ReleaseTimers


class LithiumBattery:
    """One battery: cells, thermal mass, cell monitor, balancer and damage flag."""

    def __init__(
        self, model: BatteryModel, options: BatteryOptions, cell: CellModel | None = None
    ) -> None:
        for name in ("cell_capacity_factors", "cell_soc_offsets_pct", "cell_resistance_factors"):
            if len(getattr(options, name)) != CELLS_IN_SERIES:
                msg = f"{name} needs {CELLS_IN_SERIES} values, one per cell"
                raise ValueError(msg)
        self.model = model
        self.options = options
        self.cell_model = cell or cell_model()
        r0_cell = model.internal_resistance_ohm / CELLS_IN_SERIES
        # The given SoC is what the battery shows at its starting temperature, so a cold battery
        # at 0 % still holds the charge the cold hides (PLT-1).
        usable = (cell or cell_model()).capacity_fraction(options.temperature_c)
        self.cells = [
            Cell(
                capacity_ah=model.capacity_ah * cap_f,
                charge_ah=model.capacity_ah
                * cap_f
                * (1.0 - usable + usable * min(max(options.soc_pct + off, 0.0), 100.0) / 100.0),
                r0_ohm=r0_cell * r_f,
            )
            for cap_f, off, r_f in zip(
                options.cell_capacity_factors,
                options.cell_soc_offsets_pct,
                options.cell_resistance_factors,
                strict=True,
            )
        ]
        self._ocv_knots_pct = self.cell_model.ocv_knots_pct()
        self.temperature_c = options.temperature_c
        self._factors_at_c = math.nan
        self._factors = (1.0, 1.0)
        self._step_resistance_factor = 1.0
        self.supports_prealarm = (
            model.supports_prealarm
            if options.supports_prealarm is None
            else options.supports_prealarm
        )
        scale = model.capacity_ah / 100.0
        self._heat_capacity_j_per_k = self.cell_model.heat_capacity_j_per_k_per_100ah * scale
        self._thermal_resistance_k_per_w = (
            self.cell_model.thermal_resistance_k_per_w_at_100ah / scale
        )
        # monitor latches (PLT-2)
        self.over_voltage = False
        self.under_voltage = False
        self.prealarm = False
        self.release = ReleaseTimers()
        """The voltage alarms' release delays (`cell_monitor`)."""
        self.too_cold_to_charge = False
        self.too_hot_to_charge = False
        self.discharge_temperature_fault = False
        self.balancer_status = BalancerStatus.UNKNOWN
        self.damaged = False
        self.damaged_at_s: float | None = None
        self.bled_ah = 0.0
        self.heat_j = 0.0
        self.overfull_ah = 0.0
        """Charge pushed in beyond full that relaxed away (summed over the cells)."""
        self.overload = _NOT_OVERLOADED
        """Above the maximum continuous current, towards an overload."""
        self.overloaded_at_s: float | None = None
        """When the latest overload began to count (its start plus the 10 s hold)."""
        self.overload_current_a = 0.0
        """The current when it was found overloaded."""
        self._step = _NO_STEP
        """Where the last `advance` started (not state: each step sets it afresh)."""
        self._ramp_a_per_s = 0.0
        self._curve_a_per_s2 = 0.0
        """The current over the last step: its start plus ramp t plus curve t^2."""
        self._lag_cache: tuple[float, tuple[float, float, float, float]] = (
            0.0,
            (1.0, 0.0, 0.0, 0.0),
        )
        self._ramp_lag_cache: tuple[float, _RampLags] = (math.nan, _RampLags(0.0, 0.0, 0.0))
        self._heat_fix_j = 0.0
        """The heat the last step's temperature gained over its trapezoid (`_fix_heat`)."""
        self.update_monitor(0.0)

    # --- electrical view ------------------------------------------------------------------------

    def _temperature_factors(self) -> tuple[float, float]:
        """(usable capacity fraction, resistance factor) at the battery's temperature.

        Cached while the temperature stands: the solver asks for them many times per step.
        """
        temperature_c = self.temperature_c
        if temperature_c != self._factors_at_c:
            model = self.cell_model
            self._factors = (
                model.capacity_fraction(temperature_c),
                model.resistance_factor(temperature_c),
            )
            self._factors_at_c = temperature_c
        return self._factors

    def cell_soc_pct(self, cell: Cell) -> float:
        """The cell's usable state of charge at the battery temperature (cold hides the bottom)."""
        fraction = self._temperature_factors()[0]
        hidden_ah = (1.0 - fraction) * cell.capacity_ah
        return 100.0 * (cell.charge_ah - hidden_ah) / (fraction * cell.capacity_ah)

    def cell_emf_v(self, cell: Cell) -> float:
        """Open-circuit voltage (on its hysteresis branch) plus the polarisation voltage."""
        model = self.cell_model
        return (
            model.ocv_v(self.cell_soc_pct(cell))
            + cell.hysteresis * model.hysteresis_half_gap_v
            + cell.v_rc_v
        )

    def cell_r0_ohm(self, cell: Cell) -> float:
        """R0 at the battery temperature."""
        return cell.r0_ohm * self._temperature_factors()[1]

    def cells_alike(self) -> bool:
        """Whether every cell is in the first one's state (no weak, offset or bleeding cell).

        Then one cell's answer serves all four: the solver asks for the EMF a few times per
        solve, and each cell's costs an interpolation of the open-circuit curve.
        """
        first, *others = self.cells
        charge_ah, v_rc_v, hysteresis = first.charge_ah, first.v_rc_v, first.hysteresis
        for cell in others:
            if (
                cell.charge_ah != charge_ah
                or cell.v_rc_v != v_rc_v
                or cell.hysteresis != hysteresis
                or cell.capacity_ah != first.capacity_ah
                or cell.r0_ohm != first.r0_ohm
                or cell.bleeding is not first.bleeding
            ):
                return False
        return True

    def _distinct_cells(self) -> list[Cell]:
        """The cells whose answers differ: the first alone when all are alike (`cells_alike`).

        A minimum over the cells (the soonest knot, the lowest SoC) is then the first cell's.
        """
        cells = self.cells
        return cells[:1] if self.cells_alike() else cells

    def _r0_sum_ohm(self) -> float:
        """The cells' R0 at 25 °C, added in order (as `sum` adds them, without a generator)."""
        total = 0.0
        for cell in self.cells:
            total += cell.r0_ohm
        return total

    def emf_v(self) -> float:
        """Thevenin source voltage of the battery."""
        if self.cells_alike():
            # the same sum, term by term, as over four cells that are alike
            emf_v = self.cell_emf_v(self.cells[0])
            total = 0.0
            for _ in self.cells:
                total += emf_v
            return total
        return sum(self.cell_emf_v(cell) for cell in self.cells)

    def resistance_ohm(self) -> float:
        """Thevenin resistance: every R0 plus the battery's connection."""
        factor = self._temperature_factors()[1]
        return self._r0_sum_ohm() * factor + self.options.connection_resistance_ohm

    def cell_voltages_v(self, current_a: float) -> tuple[float, ...]:
        """Terminal voltage of each cell while `current_a` flows (positive = charging)."""
        factor = self._temperature_factors()[1]
        cells = self.cells
        if self.cells_alike():
            first = cells[0]
            return (self.cell_emf_v(first) + current_a * first.r0_ohm * factor,) * len(cells)
        return tuple(self.cell_emf_v(cell) + current_a * cell.r0_ohm * factor for cell in cells)

    def time_to_ocv_knot_s(
        self, current_a: float, min_s: float, ambient_c: float | None = None
    ) -> float:
        """How long `current_a` takes to bring a cell to the next knot of its open-circuit curve.

        The curve is piecewise linear, so at a knot the voltage's slope, and with it the
        current's, jumps: a step across one errs by that kink (its ramp assumes a smooth
        current), so the fast stepper ends its steps on them. A knot nearer than `min_s` counts
        as passed (the last step ended just short of it). Infinite when no charge moves.

        The SoC a cold cell shows moves with its temperature too (`fraction_growth_per_s`): a
        cold battery under a heavy load warms by a tenth of a kelvin a second, its usable
        fraction grows, and its SoC falls only two thirds as fast as the current alone says
        (issue 12: each step reached two thirds of the way to the knot, seven steps a knot).
        Without `ambient_c` the temperature is taken as steady.
        """
        fraction = self._temperature_factors()[0]
        knots = self._ocv_knots_pct
        warming = 0.0 if ambient_c is None else self.fraction_growth_per_s(current_a, ambient_c)
        soonest_s = math.inf
        for cell in self._distinct_cells():
            bleed_a = c.CELL_BALANCE_BLEED_A if cell.bleeding else 0.0
            if cell.charge_ah > cell.capacity_ah:
                soonest_s = min(soonest_s, self._overfull_knot_s(cell, current_a - bleed_a, min_s))
                continue
            soc = self.cell_soc_pct(cell)
            rate_pct_per_s = (current_a - bleed_a) / (36.0 * fraction * cell.capacity_ah) + (
                100.0 - soc
            ) * warming
            if rate_pct_per_s == 0.0:
                continue
            if rate_pct_per_s > 0.0:
                index = bisect.bisect_right(knots, soc + rate_pct_per_s * min_s)
                if index < len(knots):
                    soonest_s = min(soonest_s, (knots[index] - soc) / rate_pct_per_s)
            else:
                index = bisect.bisect_left(knots, soc + rate_pct_per_s * min_s) - 1
                if index >= 0:
                    soonest_s = min(soonest_s, (knots[index] - soc) / rate_pct_per_s)
        return soonest_s

    def time_past_ocv_knot_s(self, current_a: float, ambient_c: float | None = None) -> float:
        """How long ago, at the rates `time_to_ocv_knot_s` takes, a cell passed its last knot.

        A step timed onto a knot at its start may pass it by a little (a constant-power load
        draws more as the voltage sags: a drain's knots 0.2-0.7 s late after 170-345 s
        steps), and a step across a knot errs by its kink: the stepper takes it back by this
        much. Infinite where no charge moves, and for an over-full cell (timed by its
        relaxation, `_overfull_knot_s`).
        """
        fraction = self._temperature_factors()[0]
        knots = self._ocv_knots_pct
        warming = 0.0 if ambient_c is None else self.fraction_growth_per_s(current_a, ambient_c)
        latest_s = math.inf
        for cell in self._distinct_cells():
            if cell.charge_ah > cell.capacity_ah:
                continue
            bleed_a = c.CELL_BALANCE_BLEED_A if cell.bleeding else 0.0
            soc = self.cell_soc_pct(cell)
            rate_pct_per_s = (current_a - bleed_a) / (36.0 * fraction * cell.capacity_ah) + (
                100.0 - soc
            ) * warming
            if rate_pct_per_s > 0.0:
                index = bisect.bisect_left(knots, soc) - 1
                if index >= 0:
                    latest_s = min(latest_s, (soc - knots[index]) / rate_pct_per_s)
            elif rate_pct_per_s < 0.0:
                index = bisect.bisect_right(knots, soc)
                if index < len(knots):
                    latest_s = min(latest_s, (soc - knots[index]) / rate_pct_per_s)
        return latest_s

    def fraction_growth_per_s(self, current_a: float, ambient_c: float) -> float:
        """How fast the usable capacity fraction f grows, relative to itself (f' / f, 1/s).

        The SoC a cell shows is 100 (1 - (C - q) / (f C)), so beside the current's share it
        moves by (100 - SoC) f' / f a second. f' is the derating curve's slope times the
        temperature's rate, which the thermal model of `advance` gives at `current_a` (its
        heat, the ambient, the thermal lag); both are taken at the step's start.
        """
        model = self.cell_model
        fraction = self._temperature_factors()[0]
        slope_per_c = model.capacity_fraction.slope_per_c(self.temperature_c)
        if slope_per_c == 0.0:
            return 0.0
        factor = self._temperature_factors()[1]
        heat_w = abs(current_a) * model.hysteresis_half_gap_v * CELLS_IN_SERIES + (
            current_a * current_a * sum(cell.r0_ohm for cell in self.cells) * factor
        ) * (1.0 + model.r1_fraction_of_r0)
        tau_th = self._heat_capacity_j_per_k * self._thermal_resistance_k_per_w
        target_c = ambient_c + heat_w * self._thermal_resistance_k_per_w
        return slope_per_c * (target_c - self.temperature_c) / tau_th / fraction

    def _overfull_knot_s(self, cell: Cell, current_a: float, min_s: float) -> float:
        """`time_to_ocv_knot_s` for an over-full cell: full (100 %) and the knots above it.

        Above full the excess relaxes as well as the current moves it (`_move_charge`): with
        a = I tau the excess a held current keeps, d(t) = a + (d_0 - a) e^(-t / tau), which
        heads for a and reaches a level L between the two after tau ln((d_0 - a) / (L - a)).
        The current alone would put full far later under a small discharge: a step across it
        that way takes the plain sum and loses the relaxation (~380 uAh in one 88 s step of
        Figure 1's evening). Full itself counts as a knot, where the relaxation starts or stops.
        """
        relax_s = self.cell_model.overfull_relax_s
        capacity_ah = cell.capacity_ah
        excess_ah = cell.charge_ah - capacity_ah
        held_ah = current_a * relax_s / 3600.0
        if held_ah == excess_ah:
            return math.inf
        fraction = self._temperature_factors()[0]
        hidden_ah = (1.0 - fraction) * capacity_ah
        levels_ah = [0.0] + [
            hidden_ah + fraction * capacity_ah * k / 100.0 - capacity_ah
            for k in self._ocv_knots_pct
            if k > 100.0
        ]
        # a level nearer than min_s at the present rate counts as passed
        nudge_ah = (held_ah - excess_ah) / relax_s * min_s
        rising = held_ah > excess_ah
        ahead = [
            level
            for level in levels_ah
            if (excess_ah + nudge_ah < level < held_ah)
            or (not rising and held_ah < level < excess_ah + nudge_ah)
        ]
        if not ahead:
            return math.inf
        level = min(ahead) if rising else max(ahead)
        return relax_s * math.log((excess_ah - held_ah) / (level - held_ah))

    @property
    def charge_ah(self) -> float:
        """Charge stored in the battery, taken as its weakest cell's (the usable one)."""
        return min(cell.charge_ah for cell in self.cells)

    @property
    def capacity_ah(self) -> float:
        """Capacity at 25 °C, limited by the smallest cell."""
        return min([cell.capacity_ah for cell in self.cells])

    @property
    def soc_pct(self) -> float:
        """State of charge as the battery reports it: its lowest cell's, at its temperature."""
        if self.cells_alike():
            return self.cell_soc_pct(self.cells[0])
        return min(self.cell_soc_pct(cell) for cell in self.cells)

    @property
    def allowed_to_charge(self) -> bool:
        """The ATC line (PLT-2)."""
        return not (self.over_voltage or self.too_cold_to_charge or self.too_hot_to_charge)

    @property
    def allowed_to_discharge(self) -> bool:
        """The ATD line (PLT-2)."""
        return not (self.under_voltage or self.discharge_temperature_fault)

    @property
    def prealarm_line(self) -> bool:
        """The pre-alarm line: only a battery that supports it ever drives it (OUT-9)."""
        return self.supports_prealarm and self.prealarm

    def latches(self) -> tuple[object, ...]:
        """The monitor's latches, balancer and damage state: what a threshold crossing changes."""
        return (
            self.over_voltage,
            self.under_voltage,
            self.prealarm,
            self.too_cold_to_charge,
            self.too_hot_to_charge,
            self.discharge_temperature_fault,
            self.damaged,
            self.balancer_status,
            tuple(cell.bleeding for cell in self.cells),
            self.overload.running,
            self.release.running(),
        )

    # --- its state ------------------------------------------------------------------------------

    def save_state(self) -> BatterySnapshot:
        """Everything `advance`, the monitor and the faults change, as a frozen value.

        The model, the cell model and the thermal constants are fixed once built; the
        temperature factors are a cache of the temperature.
        """
        return BatterySnapshot(
            self.options,
            self.temperature_c,
            self._step_resistance_factor,
            self.over_voltage,
            self.under_voltage,
            self.prealarm,
            self.too_cold_to_charge,
            self.too_hot_to_charge,
            self.discharge_temperature_fault,
            self.balancer_status,
            self.damaged,
            self.damaged_at_s,
            self.bled_ah,
            self.heat_j,
            self.overfull_ah,
            self.overload,
            self.overloaded_at_s,
            self.overload_current_a,
            tuple([cell.save_state() for cell in self.cells]),
            self.release,
        )

    def load_state(self, state: BatterySnapshot) -> None:
        """Put back what `save_state` gave (of this same battery)."""
        (
            self.options,
            self.temperature_c,
            self._step_resistance_factor,
            self.over_voltage,
            self.under_voltage,
            self.prealarm,
            self.too_cold_to_charge,
            self.too_hot_to_charge,
            self.discharge_temperature_fault,
            self.balancer_status,
            self.damaged,
            self.damaged_at_s,
            self.bled_ah,
            self.heat_j,
            self.overfull_ah,
            self.overload,
            self.overloaded_at_s,
            self.overload_current_a,
            cells,
            self.release,
        ) = state
        for cell, saved in zip(self.cells, cells, strict=True):
            cell.load_state(saved)

    def in_state_of(self, other: "LithiumBattery") -> bool:
        """Whether this battery is `other` over again: one model and cell, one state.

        Then the same currents move both alike to the last bit (a bank of one model and
        options, with no fault on one of its batteries), so one answer serves both.
        """
        return (
            self.model == other.model
            and self.cell_model == other.cell_model
            and self.save_state() == other.save_state()
        )

    def follow(self, lead: "LithiumBattery") -> None:
        """Take `lead`'s state and its step in progress, as if integrated alongside it.

        For a battery `in_state_of` the lead at the step's start that the system did not
        integrate: the corrections still to come move it from the same start.
        """
        self.load_state(lead.save_state())
        self._step = lead._step
        self._ramp_a_per_s = lead._ramp_a_per_s
        self._curve_a_per_s2 = lead._curve_a_per_s2
        self._heat_fix_j = lead._heat_fix_j

    # --- time -----------------------------------------------------------------------------------

    def advance(
        self,
        current_a: float,
        dt_s: float,
        ambient_c: float,
        now_s: float,
        *,
        latch: bool = True,
        held: bool = True,
    ) -> None:
        """Let `current_a` flow for `dt_s` and update the temperature; then `look` at the end.

        A stepper that corrects the step afterwards (`correct_for_ramp`) passes `latch=False`
        and looks once at the corrected state: the monitor's latches hold, so a look at the
        uncorrected state could latch what the step never reached. With `held=False` the
        correction comes before anything reads the charge (a guessed end): the charge and the
        hysteresis are left where they are, as the correction moves them from the step's start
        again anyway.
        """
        if dt_s <= 0.0:
            return
        model = self.cell_model
        decay = math.exp(-dt_s / model.tau_s)
        factor = self._temperature_factors()[1]
        self._step_resistance_factor = factor  # what `correct_for_ramp` starts the ramp from
        # what the corrections move the charge and the hysteresis from (`_move_through_step`)
        tau_th = self._heat_capacity_j_per_k * self._thermal_resistance_k_per_w
        starts = tuple(
            (cell.charge_ah, cell.hysteresis, c.CELL_BALANCE_BLEED_A if cell.bleeding else 0.0)
            for cell in self.cells
        )
        first = self.cells[0].capacity_ah
        self._step = _StepStart(
            dt_s,
            current_a,
            self.overfull_ah,
            starts,
            all(s == starts[0] for s in starts) and all(x.capacity_ah == first for x in self.cells),
            self._r0_sum_ohm() * (1.0 + model.r1_fraction_of_r0) * factor,
            tau_th * -math.expm1(-dt_s / tau_th) / dt_s / self._heat_capacity_j_per_k,
        )
        self._ramp_a_per_s = 0.0
        self._curve_a_per_s2 = 0.0
        self._heat_fix_j = 0.0
        if held:
            self._move_through_step()
        heat_w = abs(current_a) * model.hysteresis_half_gap_v * CELLS_IN_SERIES
        for cell in self.cells:
            if cell.bleeding:
                self.bled_ah += c.CELL_BALANCE_BLEED_A * dt_s / 3600.0
            r0 = cell.r0_ohm * factor
            r1 = r0 * model.r1_fraction_of_r0
            cell.v_rc_v = cell.v_rc_v * decay + current_a * r1 * (1.0 - decay)
            heat_w += current_a * current_a * (r0 + r1)
        self.heat_j += heat_w * dt_s
        # first-order thermal model, exact for constant heat over the step
        target_c = ambient_c + heat_w * self._thermal_resistance_k_per_w
        self.temperature_c = target_c + (self.temperature_c - target_c) * math.exp(-dt_s / tau_th)
        if latch:
            self.look(current_a, now_s)

    def _move_through_step(self) -> None:
        """Move each cell's charge and hysteresis from the step's start along its current.

        The current over the step is I0 + a t + b t^2 (held by `advance`, ramped by the
        corrections), and both are solved exactly for it, from the start each time: below full
        the charge is the current's integral; above full the excess is a first-order lag that
        relaxes to full meanwhile (lost as `overfull_ah`), and a cell that crosses full within
        the step is plain up to the crossing and a lag from there (a held step across it that
        relaxed the whole excess over the whole step lost twice the charge, 1 As a cell per 5 s
        step at 70 A, moving the charge limit 0.2 s). The hysteresis state moves 1 - 1/e of
        the way to the branch of the current's direction per `throughput_fraction` of the
        capacity passed, so it depends on the charge passed only: on the ramp, not the held
        start current (5 s steps through a falling current left it 1 % ahead).
        """
        step = self._step
        model = self.cell_model
        dt_s, i0 = step.dt_s, step.current_a
        ramp, curve = self._ramp_a_per_s, self._curve_a_per_s2
        held = ramp == 0.0 and curve == 0.0
        current = (i0, ramp, curve)
        # the battery current's charge in each stretch of one direction (split where it is zero)
        if held:
            moved_as = 0.0
            stretches = [i0 * dt_s] if i0 != 0.0 else []
        else:
            moved_as = dt_s * dt_s * (0.5 * ramp + dt_s * curve / 3.0)
            stretches = _signed_charges_as(current, dt_s)
        per_as = 3600.0 * model.hysteresis_throughput_fraction
        overfull_ah = step.overfull_ah
        cells = self.cells
        over_as = 0.0
        # cells that start alike (no weak or offset cell) end alike: the first answers for all
        for cell, (start_ah, start_h, bleed_a) in zip(
            cells[:1] if step.uniform else cells, step.cells, strict=False
        ):
            capacity_ah = cell.capacity_ah
            plain_ah = start_ah + ((i0 - bleed_a) * dt_s + moved_as) / 3600.0
            if start_ah <= capacity_ah and plain_ah <= capacity_ah:
                cell.charge_ah = plain_ah
                over_as = 0.0
            else:
                cell.charge_ah = capacity_ah + (
                    _excess_at_end_as(
                        (start_ah - capacity_ah) * 3600.0,
                        (i0 - bleed_a, ramp, curve),
                        dt_s,
                        model.overfull_relax_s,
                        self._overfull_lag(dt_s),
                    )
                    / 3600.0
                )
                over_as = plain_ah - cell.charge_ah
                overfull_ah += over_as
            h = start_h
            for charge_as in stretches:
                branch = 1.0 if charge_as > 0.0 else -1.0
                h = branch + (h - branch) * math.exp(-abs(charge_as) / (per_as * capacity_ah))
            cell.hysteresis = h
        if step.uniform:
            first = cells[0]
            for cell in cells[1:]:
                cell.charge_ah = first.charge_ah
                cell.hysteresis = first.hysteresis
            overfull_ah += (len(cells) - 1) * over_as
        self.overfull_ah = overfull_ah
        if not held or self._heat_fix_j != 0.0:
            self._fix_heat(current, stretches, dt_s)

    def _overfull_lag(self, dt_s: float) -> tuple[float, float, float, float]:
        """The over-full lag's `_lag_weights` over a whole step of `dt_s` (kept for the step)."""
        cached_dt_s, weights = self._lag_cache
        if cached_dt_s != dt_s:
            weights = _lag_weights(dt_s, self.cell_model.overfull_relax_s)
            self._lag_cache = (dt_s, weights)
        return weights

    def _ramp_lags(self, dt_s: float) -> "_RampLags":
        """How the RC branch and the temperature follow a ramp or a bend over `dt_s`.

        Kept for the step: each correction of it (the ramp, two or three passes, the bend)
        asks again with the same length.
        """
        cached_dt_s, lags = self._ramp_lag_cache
        if cached_dt_s != dt_s:
            tau_s = self.cell_model.tau_s
            lags = _RampLags(
                rc_ramp=lag_ramp(tau_s, dt_s),
                rc_bend=lag_bend(tau_s, dt_s),
                thermal_ramp=lag_ramp(
                    self._heat_capacity_j_per_k * self._thermal_resistance_k_per_w, dt_s
                ),
            )
            self._ramp_lag_cache = (dt_s, lags)
        return lags

    def _fix_heat(self, current: Current, stretches: list[float], dt_s: float) -> None:
        """Give the temperature the heat of the step's current, not of its trapezoid.

        The corrections ramp the heat linearly between its values at the ends, which over-counts
        a current's I^2 (R0 + R1) by dt (I1 - I0)^2 / 6 on a ramp, more on a bent taper (a
        cold bank's charge-limit cycles ran 0.06 mK warmer each, and a cold cell's usable
        capacity moves 1.7 %/K), and |I| times the hysteresis's gap where the current
        turns. The difference goes in as heat spread over the step (the thermal lag's
        hours are much longer than a step).
        """
        i0, ramp, curve = current
        end_a = i0 + dt_s * (ramp + dt_s * curve)
        # the integral of (i0 + ramp t + curve t^2)^2 over the step, less its trapezoid
        over_as = dt_s * (
            -(ramp * ramp) * dt_s * dt_s / 6.0
            + curve
            * dt_s
            * dt_s
            * (-i0 / 3.0 - ramp * dt_s / 2.0 + curve * dt_s * dt_s * (1.0 / 5.0 - 1.0 / 2.0))
        )
        step = self._step
        fix_j = (
            step.heat_ohm * over_as
            + self.cell_model.hysteresis_half_gap_v
            * CELLS_IN_SERIES
            * (sum(abs(q) for q in stretches) - 0.5 * dt_s * (abs(i0) + abs(end_a)))
        )
        self.temperature_c += (fix_j - self._heat_fix_j) * step.heat_k_per_j
        self._heat_fix_j = fix_j

    def look(self, current_a: float, now_s: float) -> None:
        """The battery's own view of the state a step ended in: damage, overload, its monitor."""
        if not self.damaged and self.soc_pct <= 0.0:
            self.damaged = True
            self.damaged_at_s = now_s
        self._watch_overload(current_a, now_s)
        self.update_monitor(current_a, now_s)

    def _watch_overload(self, current_a: float, now_s: float) -> None:
        """Above the maximum continuous current for more than 10 s: overloaded, once a stretch."""
        rating_a = self.model.rating_a(current_a)
        over = self.overload.look(abs(current_a) > rating_a, now_s)
        self.overload = over
        if over.done(now_s) and self.overloaded_at_s != over.due_s:
            self.overloaded_at_s = over.due_s
            self.overload_current_a = current_a

    def overload_within(
        self, start_s: float, end_s: float
    ) -> tuple[float, float, float, float] | None:
        """The overload found in the step (start, end]: when, current, rating, time above it.

        It is found at the first step end past its 10 s, so its time lies within that step.
        """
        at_s = self.overloaded_at_s
        if at_s is None or not start_s < at_s <= end_s:
            return None
        current_a = self.overload_current_a
        return at_s, current_a, self.model.rating_a(current_a), OVERLOAD_HOLD_S

    def correct_for_ramp(
        self,
        start_a: float,
        end_a: float,
        dt_s: float,
        *,
        ambient_start_c: float,
        ambient_end_c: float,
    ) -> None:
        """Turn the last `advance` (held `start_a`, ambient) into one where both ramp to the end.

        The charge and the hysteresis move along the ramp from the step's start
        (`_move_through_step`: the trapezoidal rule below full, the over-full lag's exact
        answer above it). The RC branch and the temperature are first-order lags, whose exact
        answer to an input ramping by d over the step moves by d (1 - tau (1 - e^(-dt/tau)) /
        dt); a held input would leave them half a step behind (a ramping ambient: hundredths
        of a degree, and the usable capacity moves 0.8 %/°C). The monitor looks afterwards
        (`look`), at the end current.
        """
        if dt_s <= 0.0:
            return
        start_factor = self._step_resistance_factor
        end_factor = self._temperature_factors()[1]
        self._ramp_a_per_s = (end_a - start_a) / dt_s
        self._move_through_step()
        self._move_along_ramp(
            rc_drive_a=end_factor * end_a - start_factor * start_a,
            heat_drive_a2=end_factor * end_a * end_a - start_factor * start_a * start_a,
            magnitude_change_a=abs(end_a) - abs(start_a),
            ambient_change_c=ambient_end_c - ambient_start_c,
            dt_s=dt_s,
        )

    def move_ramp_end(self, previous_end_a: float, end_a: float, dt_s: float) -> None:
        """Correct the last ramp again, for an end current known better than before.

        Heun's corrector takes the end current from Euler's end state, which errs by half the
        current's change times the step; the current feeds back through the charge and the
        polarisation, so the step is biased by that error. Moving the ramp's end to the
        current of the corrected state (and solving again) converges on the trapezoidal
        rule. What the ramp moves is linear in the end current (the heat: in its square),
        with the resistance at the end.
        """
        if dt_s <= 0.0:
            return
        factor = self._temperature_factors()[1]
        self._ramp_a_per_s += (end_a - previous_end_a) / dt_s
        self._move_through_step()
        self._move_along_ramp(
            rc_drive_a=factor * (end_a - previous_end_a),
            heat_drive_a2=factor * (end_a * end_a - previous_end_a * previous_end_a),
            magnitude_change_a=abs(end_a) - abs(previous_end_a),
            ambient_change_c=0.0,
            dt_s=dt_s,
        )

    def bend_ramp(self, curvature_a_per_s2: float, dt_s: float) -> None:
        """Correct the last ramp for the current's curvature over the step (Simpson's rule).

        The trapezoid over-counts a convex current by dt^3 I'' / 12 (a taper into a full
        battery, a constant-power load as the voltage sags); with I'' known from the slopes
        of this step and the one before, the current is bent by I'' (t^2 - dt t) / 2 (the
        same ends), and the charge, the hysteresis and the polarisation follow it. The heat's
        share is left out (hundredths of a millikelvin a step).
        """
        if dt_s <= 0.0:
            return
        model = self.cell_model
        factor = self._temperature_factors()[1]
        self._ramp_a_per_s -= 0.5 * curvature_a_per_s2 * dt_s
        self._curve_a_per_s2 += 0.5 * curvature_a_per_s2
        self._move_through_step()
        rc_bend = self._ramp_lags(dt_s).rc_bend
        for cell in self.cells:
            cell.v_rc_v += (
                cell.r0_ohm * model.r1_fraction_of_r0 * factor * curvature_a_per_s2 * rc_bend
            )

    def _move_along_ramp(
        self,
        *,
        rc_drive_a: float,
        heat_drive_a2: float,
        magnitude_change_a: float,
        ambient_change_c: float,
        dt_s: float,
    ) -> None:
        """Add what inputs ramping by these amounts over the step add to its held answer.

        The RC input R1 I (R1 per resistance factor, times `rc_drive_a`) and the thermal
        target (ambient + I^2 (R0 + R1) R_th + |I| 4 half-gap R_th: the heat as
        `heat_drive_a2` times the resistance at 25 °C, and the hysteresis's losses as
        `magnitude_change_a`) drive first-order lags, which follow a ramp by `lag_ramp` of
        its size.
        """
        model = self.cell_model
        r_th = self._thermal_resistance_k_per_w
        resistance_ohm = self._r0_sum_ohm() * (1.0 + model.r1_fraction_of_r0)
        hysteresis_v = model.hysteresis_half_gap_v * CELLS_IN_SERIES
        target_change_c = ambient_change_c + r_th * (
            resistance_ohm * heat_drive_a2 + hysteresis_v * magnitude_change_a
        )
        lags = self._ramp_lags(dt_s)
        self.temperature_c += target_change_c * lags.thermal_ramp
        rc_ramp = lags.rc_ramp
        for cell in self.cells:
            cell.v_rc_v += cell.r0_ohm * model.r1_fraction_of_r0 * rc_drive_a * rc_ramp

    def update_monitor(self, current_a: float, now_s: float = 0.0) -> None:
        """The battery's own cell monitor: chain lines, balancing (PLT-2).

        Each voltage alarm clears with hysteresis and a release delay (`cell_monitor`).
        """
        volts = self.cell_voltages_v(current_a)
        highest, lowest = max(volts), min(volts)
        opts = self.options
        ov, uv, pre = self.release
        self.over_voltage, ov = hold_alarm(
            self.over_voltage,
            ov,
            tripped=highest >= c.CELL_OV_V,
            clear=highest <= c.CELL_OV_RELEASE_V,
            now_s=now_s,
        )
        self.under_voltage, uv = hold_alarm(
            self.under_voltage,
            uv,
            tripped=lowest <= opts.cell_under_voltage_v,
            clear=lowest >= c.CELL_UV_RELEASE_V,
            now_s=now_s,
        )
        self.prealarm, pre = hold_alarm(
            self.prealarm,
            pre,
            tripped=lowest <= opts.cell_prealarm_v,
            clear=lowest >= c.CELL_PREALARM_RELEASE_V,
            now_s=now_s,
        )
        self.release = ReleaseTimers(ov, uv, pre)
        t = self.temperature_c
        hyst = c.BATT_TEMP_HYST_C
        if t < opts.charge_min_c:
            self.too_cold_to_charge = True
        elif t >= opts.charge_min_c + hyst:
            self.too_cold_to_charge = False
        if t > c.BATT_CHARGE_MAX_C:
            self.too_hot_to_charge = True
        elif t <= c.BATT_CHARGE_MAX_C - hyst:
            self.too_hot_to_charge = False
        if t < c.BATT_DISCHARGE_MIN_C or t > c.BATT_DISCHARGE_MAX_C:
            self.discharge_temperature_fault = True
        elif c.BATT_DISCHARGE_MIN_C + hyst <= t <= c.BATT_DISCHARGE_MAX_C - hyst:
            self.discharge_temperature_fault = False
        self._balance(volts, current_a)

    def _balance(self, volts: tuple[float, ...], current_a: float) -> None:
        """Bleed cells that run ahead at the end of charge; keep the balancer's status."""
        if not self.options.balancing:
            for cell in self.cells:
                cell.bleeding = False
            return
        lowest = min(volts)
        spread = max(volts) - lowest
        end_of_charge = max(volts) >= c.CELL_BALANCE_START_V and current_a >= 0.0
        any_bleeding = False
        for cell, volt in zip(self.cells, volts, strict=True):
            cell.bleeding = (
                end_of_charge
                and volt >= c.CELL_BALANCE_START_V
                and volt - lowest > c.CELL_BALANCED_SPREAD_V / 2
            )
            any_bleeding = any_bleeding or cell.bleeding
        if any_bleeding:
            self.balancer_status = (
                BalancerStatus.IMBALANCE
                if spread > c.CELL_IMBALANCE_SPREAD_V
                else BalancerStatus.BALANCING
            )
        elif end_of_charge:
            self.balancer_status = BalancerStatus.BALANCED


class _StepStart(NamedTuple):
    """What `advance` started its step from: the corrections move the step from here again."""

    dt_s: float
    current_a: float
    overfull_ah: float
    cells: tuple[tuple[float, float, float], ...]
    """Each cell's charge (Ah) and hysteresis at the start, and its balancing bleed (A)."""
    uniform: bool
    """All cells start alike (no weak or offset cell): one answer serves them all."""
    heat_ohm: float
    """The cells' R0 + R1 at the step's temperature."""
    heat_k_per_j: float
    """How much warmer the step ends per joule spread over it."""


_NO_STEP = _StepStart(0.0, 0.0, 0.0, (), True, 0.0, 0.0)


class _RampLags(NamedTuple):
    """What first-order lags follow of an input's ramp (`lag_ramp`) and bend (`lag_bend`)."""

    rc_ramp: float
    rc_bend: float
    thermal_ramp: float


def _integral_as(current: Current, t_s: float) -> float:
    """The charge (As) the current carries from 0 to `t_s`."""
    i0, ramp, curve = current
    return t_s * (i0 + t_s * (0.5 * ramp + t_s * curve / 3.0))


def _from(current: Current, t_s: float) -> Current:
    """The same current, with its time counted from `t_s`."""
    i0, ramp, curve = current
    return (i0 + t_s * (ramp + t_s * curve), ramp + 2.0 * curve * t_s, curve)


def _signed_charges_as(current: Current, dt_s: float) -> list[float]:
    """The charge (As) the current carries in each stretch of one direction within the step."""
    i0, ramp, curve = current
    if curve == 0.0 and (i0 > 0.0) is (i0 + ramp * dt_s > 0.0) and i0 != 0.0:
        return [dt_s * (i0 + 0.5 * ramp * dt_s)]  # a ramp that does not turn
    roots: list[float] = []
    if curve == 0.0:
        if ramp != 0.0:
            roots = [-i0 / ramp]
    else:
        disc = ramp * ramp - 4.0 * curve * i0
        if disc >= 0.0:
            q = -0.5 * (ramp + math.copysign(math.sqrt(disc), ramp))
            roots = sorted([q / curve, i0 / q]) if q != 0.0 else [0.0]
    charges: list[float] = []
    before_as = 0.0
    for end_s in [*(t for t in roots if 0.0 < t < dt_s), dt_s]:
        at_as = _integral_as(current, end_s)
        if at_as != before_as:
            charges.append(at_as - before_as)
        before_as = at_as
    return charges


def _lag_weights(r_s: float, tau_s: float) -> tuple[float, float, float, float]:
    """What x(r) of x' = i0 + ramp t + curve t^2 - x / tau takes of x(0), i0, ramp and curve."""
    if r_s <= 0.0:
        return (1.0, 0.0, 0.0, 0.0)
    follows = lag_ramp(tau_s, r_s)
    return (
        math.exp(-r_s / tau_s),
        tau_s * -math.expm1(-r_s / tau_s),
        tau_s * r_s * follows,
        2.0 * tau_s * (lag_bend(tau_s, r_s) + 0.5 * r_s * r_s * follows),
    )


def _lag_as(
    excess_as: float, current: Current, weights: tuple[float, float, float, float]
) -> float:
    """The over-full lag's exact answer, from `excess_as` (see `_lag_weights`)."""
    kept, held, ramped, curved = weights
    i0, ramp, curve = current
    return excess_as * kept + i0 * held + ramp * ramped + curve * curved


def _bisect(f: Callable[[float], float], low: float, high: float) -> float:
    """Where `f` (<= 0 at `low`, > 0 at `high`) changes sign, to the last bit."""
    for _ in range(80):
        middle = 0.5 * (low + high)
        if middle in {low, high}:
            break
        if f(middle) > 0.0:
            high = middle
        else:
            low = middle
    return high


def _excess_at_end_as(
    excess_as: float,
    current: Current,
    dt_s: float,
    tau_s: float,
    whole: tuple[float, float, float, float],
) -> float:
    """A cell's charge beyond full (As; negative: below) at the end of a step it is over full in.

    From `excess_as` at the start (<= 0: below full, reaching full within the step): plain up
    to full, then a lag that relaxes to full (`overfull_relax_s`; `whole`: its weights over the
    whole step), and plain again if that runs out within the step.
    """
    start_s = 0.0
    if excess_as <= 0.0:
        below_as = excess_as
        start_s = _bisect(lambda t: below_as + _integral_as(current, t), 0.0, dt_s)
        excess_as = 0.0
    over = _from(current, start_s)
    r_s = dt_s - start_s
    weights = whole if start_s == 0.0 else _lag_weights(r_s, tau_s)
    end_as = _lag_as(excess_as, over, weights)
    if end_as >= 0.0:
        return end_as
    # drawn back below full within the step: plain from there
    full_as = excess_as
    empty_s = _bisect(lambda t: -_lag_as(full_as, over, _lag_weights(t, tau_s)), 0.0, r_s)
    return _integral_as(over, r_s) - _integral_as(over, empty_s)


def lag_ramp(tau_s: float, dt_s: float) -> float:
    """How much more of an input's ramp a first-order lag follows than of the held input.

    1 - tau (1 - e^(-dt/tau)) / dt, times the ramp's size over the step.
    """
    return 1.0 - tau_s * -math.expm1(-dt_s / tau_s) / dt_s


def lag_bend(tau_s: float, dt_s: float) -> float:
    """What a first-order lag gains over its `lag_ramp` answer from its input's curvature.

    Per unit second derivative b of the input over the step: the exact answer to b t^2 / 2
    minus the ramp's, tau^2 (-x + (1 - e^(-x)) (1 + x / 2)) with x = dt / tau; for a short
    step -dt^3 / (12 tau) (the trapezoid's error, as the lag integrates), from its series.
    """
    x = dt_s / tau_s
    if x < 1e-3:
        shape = x**3 * (-1.0 / 12.0 + x / 24.0 - x * x / 80.0)
    else:
        shape = -x - math.expm1(-x) * (1.0 + 0.5 * x)
    return tau_s * tau_s * shape


def thevenin_parallel(
    emfs_v: tuple[float, ...], resistances_ohm: tuple[float, ...]
) -> tuple[float, float]:
    """Thevenin equivalent (emf, resistance) of sources in parallel."""
    conductance = sum(1.0 / r for r in resistances_ohm)
    emf = sum(e / r for e, r in zip(emfs_v, resistances_ohm, strict=True)) / conductance
    return emf, 1.0 / conductance


def share_current(
    total_current_a: float, emfs_v: tuple[float, ...], resistances_ohm: tuple[float, ...]
) -> tuple[float, tuple[float, ...]]:
    """PLT-4: bank voltage and each battery's current for a total current into the bank.

    Kirchhoff at the bank node with each battery a Thevenin source: I_i = (V - E_i) / R_i and
    sum(I_i) = total, so V = (total + sum(E_i / R_i)) / sum(1 / R_i). No battery is assumed equal.
    """
    emf, resistance = thevenin_parallel(emfs_v, resistances_ohm)
    voltage_v = emf + total_current_a * resistance
    return voltage_v, tuple(
        (voltage_v - e) / r for e, r in zip(emfs_v, resistances_ohm, strict=True)
    )
