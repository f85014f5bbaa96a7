"""The 12 V system around the BMS, and the one place where its network is solved.

Three nodes carry the currents (positive = into the lithium bank):

* the **bank** node (Li+): the batteries in parallel, each a Thevenin source (PLT-4); the
  devices wired directly to the bank; the BMS's own supply and output currents (SYS-4, PWR-1);
* the **AB** node: alternator, starter battery and the vehicle's own loads; it feeds the bank
  through the AB port, one way and limited to set point / R(installed fuse) (ALT-2, ALT-4),
  backing off rather than pulling V_AB below 13.0 V + `ALT_HOLD_MARGIN_V` (ALT-1);
* the **System+** node: its devices reach the bank through the System+ port, an ideal diode in
  each direction the BMS allows (SP-6).

Every component is piecewise linear in its node voltage except the devices, so the AB node is
solved exactly between its breakpoints, and the bank node by a bracketed secant (Illinois) on
g(V) = V - E_eq - R_eq * I_in(V), which is increasing because the batteries' conductance dwarfs
every other slope. The port physics come from `smartbms.core.power_stage`, the same functions
the safety tests use.
"""

import dataclasses
import math
from collections.abc import Callable, Sequence
from typing import NamedTuple

from smartbms.core import constants as c
from smartbms.core.fuses import FuseType
from smartbms.core.power_stage import AB_HOLD_V, disconnect_output, system_plus_current_a
from smartbms.core.signals import Inputs, Level, Outputs
from smartbms.plant.battery import BatterySnapshot, LithiumBattery, thevenin_parallel
from smartbms.plant.conditions import (
    EnergyCounters,
    EnergySnapshot,
    Faults,
    FaultsSnapshot,
    RemoteSnapshot,
    RemoteWiring,
    Surroundings,
    SurroundingsSnapshot,
)
from smartbms.plant.devices import Connection, Control, Device, DeviceContext, DeviceSnapshot
from smartbms.plant.roots import falling_root, solve_increasing
from smartbms.plant.vehicle import (
    BMS_AB_SWITCH_RESISTANCE_OHM,
    BMS_SYSTEM_PLUS_RESISTANCE_OHM,
    BMS_THERMAL_RESISTANCE_K_PER_W,
    Alternator,
    AlternatorSnapshot,
    BmsThermal,
    StarterBattery,
    StarterSnapshot,
)

__all__ = [
    "EnergyCounters",
    "Faults",
    "OperatingPoint",
    "RemoteWiring",
    "Surroundings",
    "SystemState",
    "TwelveVoltSystem",
]

BMS_MIN_SUPPLY_V = 8.0
"""Chosen: below this bank open-circuit voltage the BMS's supply gives up (it is unpowered).
Its input capacitors ride through the collapse of a short, so the loaded voltage does not count."""
BMS_RESTART_SUPPLY_V = 8.5
"""Chosen: an unpowered BMS starts again only above this (its supply's under-voltage lockout
has hysteresis), so a bank resting at the edge does not make it flicker on and off."""
SOLVE_TOLERANCE_A = 1e-8
"""Kirchhoff at the bank node holds to this many amperes (voltage tolerance: R_eq times it)."""
REMOTE_PULL_UP_DROP_V = 0.5
"""Chosen: an open L terminal reads the bank voltage minus this (its internal pull-up)."""
_LD = (Control.LOAD_DISCONNECT, Control.BOTH)
_CD = (Control.CHARGE_DISCONNECT, Control.BOTH)
_SystemPlus = tuple[float, float, tuple[float, ...], float]
"""(V_SP, I into the bank, each System+ device's current in order, short current) at the port."""


@dataclasses.dataclass(frozen=True, slots=True)
class OperatingPoint:
    """Every voltage and current of the system at one instant."""

    bank_voltage_v: float
    bank_emf_v: float
    """The batteries' open-circuit voltage: what the BMS's buffered supply rides through."""
    battery_currents_a: tuple[float, ...]
    ab_voltage_v: float
    ab_current_a: float
    """Into the bank through the AB port."""
    ab_limit_a: float
    alternator_current_a: float
    starter_current_a: float
    """Into the starter battery."""
    system_plus_voltage_v: float
    system_plus_current_a: float
    """Into the bank through the System+ port."""
    device_currents_a: tuple[float, ...]
    """Per device, into its bus (System+ devices after the port)."""
    bms_draw_a: float
    """The BMS's own supply plus the currents its disconnect outputs source."""
    short_current_a: float

    @property
    def bank_current_a(self) -> float:
        """Net current into the batteries."""
        return sum(self.battery_currents_a)

    @property
    def charge_currents_a(self) -> tuple[float, ...]:
        """Each battery's current and, last, the starter battery's: the charges a step moves."""
        return (*self.battery_currents_a, self.starter_current_a)

    def with_charge_currents(self, currents: Sequence[float]) -> "OperatingPoint":
        """This point with the currents of `charge_currents_a` replaced (the corrector's end)."""
        count = len(self.battery_currents_a)
        return dataclasses.replace(
            self, battery_currents_a=tuple(currents[:count]), starter_current_a=currents[count]
        )


class SystemState(NamedTuple):
    """A snapshot of a system's state (see `TwelveVoltSystem.snapshot`): frozen values only.

    It holds no reference to a live object, so it can be kept, compared and pickled; the
    parts (batteries, devices, ...) are in the system's order.
    """

    last_now_s: float
    bank_guess_v: float
    """Where the next network solve starts: part of the state, so a restored run solves alike."""
    app_connected: bool
    bms_temperature_c: float
    energy: EnergySnapshot
    surroundings: SurroundingsSnapshot
    faults: FaultsSnapshot
    remote: RemoteSnapshot
    batteries: tuple[BatterySnapshot, ...]
    alternator: AlternatorSnapshot | None
    starter: StarterSnapshot | None
    devices: tuple[DeviceSnapshot, ...]
    bank_guess_slope: float = 1.0
    """The bank equation's slope at the last solve: the next solve's first Newton step."""
    bank_guess_emf_v: float = math.nan
    """The batteries' equivalent EMF at the last solve (NaN: none yet): the next solve starts
    where that root moves by the EMF's change since."""


_CONVERGED_FLOOR_A = 1e-6
"""Corrector moves below this are solver noise: nothing to extrapolate from."""
CONVERGED_RATIO_MAX = 0.5
"""The most a pass is taken to shrink the last one's move by (a slow loop: ~1/2)."""
CONVERGED_RATIO_MIN = -2.0
"""The most a pass is taken to overshoot the last one's move by (the stepper keeps h lambda
below 4, so ~-2)."""


def series_sum_factor(ratio: float) -> float:
    """What a geometric series of corrector moves still adds, per its last term: r / (1 - r).

    The ratio is taken as measured within [CONVERGED_RATIO_MIN, CONVERGED_RATIO_MAX].
    """
    ratio = min(max(ratio, CONVERGED_RATIO_MIN), CONVERGED_RATIO_MAX)
    return ratio / (1.0 - ratio)


def converged_end_currents(
    guess: tuple[float, ...], first: tuple[float, ...], second: tuple[float, ...]
) -> tuple[float, ...]:
    """Where the corrector's passes converge, from two passes that only moved the ramp's end.

    A pass solves the end currents from a state ramped to the last guess: the ramp to `guess`
    gave `first`, the ramp to `first` gave `second`. Near the answer each move is the last
    one times r (r = the second move over the first, projected on it), a geometric series
    whose sum is second + r / (1 - r) (second - first): Aitken's extrapolation. For a linear
    loop that is the passes' fixed point (the implicit trapezoid) exactly, also where they
    no longer converge (a stiff loop, h lambda past 2: r = -h lambda / 2 below -1), so r is
    taken as measured down to -2 (the stepper's stiffness limit). Below the solver's noise
    there is nothing to extrapolate from, and `second` stands.
    """
    first_move = [b - a for a, b in zip(guess, first, strict=True)]
    second_move = [b - a for a, b in zip(first, second, strict=True)]
    size = sum(d * d for d in first_move)
    if size <= _CONVERGED_FLOOR_A * _CONVERGED_FLOOR_A:
        return second
    factor = series_sum_factor(
        sum(d * e for d, e in zip(first_move, second_move, strict=True)) / size
    )
    return tuple(i + factor * e for i, e in zip(second, second_move, strict=True))


class _AbSide(NamedTuple):
    """The AB node's branches in one state (`TwelveVoltSystem._ab_side`)."""

    path_ohm: float
    """Wiring, fuse and switch between the AB node and the bank."""
    load_a: float
    """The vehicle's own draw (standby, cranking)."""
    alternator_a: Callable[[float], float] | None
    """The alternator's current at V_AB (None: it gives nothing now)."""
    knees_v: tuple[float, ...]
    """Where the alternator's current bends (its set point, where it reaches its maximum)."""
    starter_a: Callable[[float], float]
    starter_ocv_v: float


class TwelveVoltSystem:
    """Batteries, vehicle side, devices and faults around one Smart BMS."""

    def __init__(
        self,
        *,
        batteries: Sequence[LithiumBattery],
        devices: Sequence[Device],
        installed_fuse: FuseType,
        alternator: Alternator | None = None,
        starter: StarterBattery | None = None,
        ab_wiring_resistance_ohm: float = 0.004,
        system_plus_resistance_ohm: float = 0.0005,
        bms_temperature_c: float = 20.0,
        remote: RemoteWiring | None = None,
        surroundings: Surroundings | None = None,
        app_connected: bool = False,
    ) -> None:
        if not batteries:
            msg = "a system needs at least one battery"
            raise ValueError(msg)
        if installed_fuse is FuseType.NOT_SET:
            msg = "a real fuse must be installed on the AB port"
            raise ValueError(msg)
        if alternator is not None and starter is None:
            msg = "an alternator needs a starter battery on the AB node"
            raise ValueError(msg)
        self._batteries = list(batteries)
        self._led = False
        """In a trial (`advance` without latching, to its `look`): the batteries after the first
        were in its state, with its currents, and are left for it to answer for (`_follow`)."""
        self.devices = list(devices)
        self.installed_fuse = installed_fuse
        self.alternator = alternator
        self.starter = starter
        self.ab_wiring_resistance_ohm = ab_wiring_resistance_ohm
        self.system_plus_resistance_ohm = system_plus_resistance_ohm
        self.bms_thermal = BmsThermal(bms_temperature_c)
        self.remote = remote or RemoteWiring()
        self.surroundings = surroundings or Surroundings()
        self.faults = Faults()
        self.app_connected = app_connected
        self.energy = EnergyCounters()
        self._last_now_s = 0.0
        self._bank_guess_slope = 1.0
        self._bank_guess_emf_v = math.nan
        self._ab_segments: dict[bool, int] = {}
        self._sense_cache: tuple[FuseType, float] | None = None
        self._by_bus: tuple[list[Device], tuple[Device, ...], tuple[Device, ...]] | None = None
        self._context_cache: tuple[Outputs, tuple[object, ...], DeviceContext] | None = None
        """The last `context` asked for: its outputs, what it was made of, and it."""
        self._wired: dict[tuple[Control, ...], tuple[int, tuple[tuple[Device, float], ...]]] = {}
        """The devices wired to each disconnect output and their inputs' draw (a jumper, which
        a command may fit, is looked at each time; the list is re-read if a device is added)."""
        """Where the AB node's root lay last (`falling_root`), saturated or not: a hint only."""
        self._bank_guess_v = thevenin_parallel(
            tuple(b.emf_v() for b in self._batteries),
            tuple(b.resistance_ohm() for b in self._batteries),
        )[0]

    # --- batteries alike --------------------------------------------------------------------------

    @property
    def batteries(self) -> list[LithiumBattery]:
        """The lithium batteries, in the bank's order (each in its own state, see `_follow`)."""
        self._follow()
        return self._batteries

    def _follow(self) -> None:
        """Bring the batteries a trial left to the first one into its state (`_integrating`)."""
        if self._led:
            self._led = False
            lead, *followers = self._batteries
            for battery in followers:
                battery.follow(lead)

    def _lead_alone(self, currents_a: Sequence[float]) -> bool:
        """Whether a trial from here may integrate the first battery alone.

        So when every battery is the first over again (`LithiumBattery.in_state_of`: a bank of
        one model and options, no fault on one) and carries its current: the same currents
        then move them alike to the last bit, through every correction of the trial, and the
        network sees the first one's EMF and resistance in each. The others take its state at
        the trial's `look` (or before anything else reads them).
        """
        lead, *others = self._batteries
        first_a = currents_a[0]
        return (
            bool(others)
            and all(current_a == first_a for current_a in currents_a[1 : len(self._batteries)])
            and all(battery.in_state_of(lead) for battery in others)
        )

    def _integrating(self, *inputs: Sequence[float]) -> list[LithiumBattery]:
        """The batteries an integration step moves, given each one's inputs (`inputs` columns).

        The first alone while the others follow it and every input is the first one's; else
        all of them, the followers brought along first.
        """
        batteries = self._batteries
        if self._led:
            if all(
                column[index] == column[0]
                for column in inputs
                for index in range(1, len(batteries))
            ):
                return batteries[:1]
            self._follow()
        return batteries

    def _sources(self) -> tuple[tuple[float, ...], tuple[float, ...]]:
        """Each battery's EMF and Thevenin resistance (the first one's for all that follow it)."""
        if self._led:
            lead, count = self._batteries[0], len(self._batteries)
            return (lead.emf_v(),) * count, (lead.resistance_ohm(),) * count
        batteries = self._batteries
        return tuple(b.emf_v() for b in batteries), tuple(b.resistance_ohm() for b in batteries)

    # --- the network ----------------------------------------------------------------------------

    @property
    def bank_slope(self) -> float:
        """The bank equation's slope at the last solve (a jump: a device answers differently).

        1 plus R_eq times how steeply the devices and ports take less current as the bank
        voltage rises: a charger regulating the bank makes it large.
        """
        return self._bank_guess_slope

    def context(
        self,
        now_s: float,
        outputs: Outputs,
        bank_voltage_v: float | None = None,
        *,
        look_only: bool = False,
    ) -> DeviceContext:
        """What every device sees: time, surroundings and the BMS outputs (with their sag).

        At `bank_voltage_v`, or by default at the last solve's bank voltage. The system
        remembers `now_s` as its present time, unless this is only a look (`look_only`): a
        reader must not move the plant's clock.
        """
        if not look_only:
            self._last_now_s = now_s
        bank_v = self._bank_guess_v if bank_voltage_v is None else bank_voltage_v
        # the step's start, its latches, its deadlines and the state read for the listeners
        # ask for the same instant: the same context serves them (what it is made of is the key)
        surroundings = self.surroundings
        key = (
            now_s,
            bank_v,
            surroundings.shore_power,
            surroundings.solar_fraction,
            surroundings.ambient_c,
            *[device.remote_jumper for device in self.devices],
        )
        cached = self._context_cache
        if cached is not None and cached[0] is outputs and cached[1] == key:
            return cached[2]
        load, charge = self._disconnect_outputs(outputs, bank_v)
        ctx = self._context(now_s, outputs, bank_v, load[0], charge[0])
        self._context_cache = (outputs, key, ctx)
        return ctx

    def _context(
        self,
        now_s: float,
        outputs: Outputs,
        bank_v: float,
        load_disconnect_v: float,
        charge_disconnect_v: float,
    ) -> DeviceContext:
        return DeviceContext(
            bank_voltage_v=bank_v,
            load_disconnect_v=load_disconnect_v,
            charge_disconnect_v=charge_disconnect_v,
            now_s=now_s,
            shore_power=self.surroundings.shore_power,
            solar_fraction=self.surroundings.solar_fraction,
            ambient_c=self.surroundings.ambient_c,
            load_disconnect=outputs.load_disconnect,
            charge_disconnect=outputs.charge_disconnect,
            prealarm=outputs.prealarm,
        )

    def solve(self, now_s: float, outputs: Outputs) -> OperatingPoint:
        """Node voltages and branch currents for the present state and BMS outputs."""
        # the disconnect outputs at the last root: their voltages for the devices, their
        # currents for the BMS's draw (one evaluation of each output serves both)
        self._last_now_s = now_s
        outputs_v = self._bank_guess_v
        load, charge = self._disconnect_outputs(outputs, outputs_v)
        ctx = self._context(now_s, outputs, outputs_v, load[0], charge[0])
        output_draw_a = load[1] + charge[1]
        emfs, resistances = self._sources()
        emf_eq, r_eq = thevenin_parallel(emfs, resistances)
        limit_a = self._ab_limit_a(outputs)

        # With the AB port open, conducting at its limit, or holding V_AB up (ALT-1), the AB node
        # does not depend on the bank voltage: solve it once (the limited case holds while the
        # port keeps its drop, the held one while the bank is low enough to take what is left).
        side = self._ab_side(now_s)
        ab_open = self._solve_ab_node(side, 0.0, 0.0) if limit_a <= 0.0 else None
        ab_held = None if ab_open is not None else self._solve_ab_hold(side, limit_a)
        if ab_held is not None and ab_held[1] <= 0.0:
            ab_open, ab_held = ab_held, None  # the source cannot even hold 13.05 V unloaded
        ab_limited = None if ab_open is not None else self._solve_ab_node(side, -math.inf, limit_a)
        path_ohm = self._ab_path_resistance_ohm() if side is None else side.path_ohm
        ab_drop_v = limit_a * path_ohm
        held_drop_v = math.inf if ab_held is None else ab_held[1] * path_ohm

        def ab_node(bank_v: float) -> tuple[float, float, float, float]:
            if ab_open is not None:
                return ab_open
            if ab_held is not None and AB_HOLD_V - bank_v >= held_drop_v:
                return ab_held
            if ab_limited is not None and ab_limited[0] - bank_v >= ab_drop_v:
                return ab_limited
            return self._solve_ab_node(side, bank_v, limit_a)

        bank_devices, sp_devices = self._devices_by_bus()
        bank_currents_a = [device.characteristic(ctx) for device in bank_devices]
        sp_currents_a = [device.characteristic(ctx) for device in sp_devices]
        # the branches at the last voltage tried: the root is one of them, so the operating
        # point takes them as they are instead of evaluating the network once more there
        last: list[tuple[float, tuple[float, float, float, float], _SystemPlus, list[float]]] = []

        def inflow(bank_v: float) -> float:
            ab = ab_node(bank_v)
            sp = self._system_plus(outputs, bank_v, sp_currents_a)
            direct = [current_a(bank_v) for current_a in bank_currents_a]
            last[:] = [(bank_v, ab, sp, direct)]
            return ab[1] + sp[1] + sum(direct) - outputs.supply_current_a - output_draw_a

        # g(V) = V - E_eq - R_eq I(V) moved by the EMF's change since the last root: Newton's
        # step for that change alone, before any evaluation (a step's solves differ mostly so)
        start_v = self._bank_guess_v
        previous_emf_v = self._bank_guess_emf_v
        if not math.isnan(previous_emf_v):
            start_v += (emf_eq - previous_emf_v) / self._bank_guess_slope
        bank_v, self._bank_guess_slope = solve_increasing(
            lambda v: v - emf_eq - r_eq * inflow(v),
            start_v,
            tolerance_v=SOLVE_TOLERANCE_A * r_eq,
            slope=self._bank_guess_slope,
        )
        self._bank_guess_v = bank_v
        self._bank_guess_emf_v = emf_eq
        if not last or last[0][0] != bank_v:
            inflow(bank_v)
        _, ab, sp, direct = last[0]
        ab_v, ab_a, alt_a, starter_a = ab
        sp_v, sp_a, sp_currents, short_a = sp
        if sp_devices:
            bank_currents, sp_currents_in_order = iter(direct), iter(sp_currents)
            device_currents = tuple(
                [
                    next(
                        bank_currents
                        if device.connection is Connection.BANK
                        else sp_currents_in_order
                    )
                    for device in self.devices
                ]
            )
        else:
            device_currents = tuple(direct)
        return OperatingPoint(
            bank_voltage_v=bank_v,
            bank_emf_v=emf_eq,
            battery_currents_a=tuple(
                (bank_v - e) / r for e, r in zip(emfs, resistances, strict=True)
            ),
            ab_voltage_v=ab_v,
            ab_current_a=ab_a,
            ab_limit_a=limit_a,
            alternator_current_a=alt_a,
            starter_current_a=starter_a,
            system_plus_voltage_v=sp_v,
            system_plus_current_a=sp_a,
            device_currents_a=device_currents,
            bms_draw_a=outputs.supply_current_a + output_draw_a,
            short_current_a=short_a,
        )

    def _ab_limit_a(self, outputs: Outputs) -> float:
        """ALT-4: the limit follows the installed fuse; a blown fuse opens the path."""
        if not outputs.ab_enabled or self.faults.fuse_blown:
            return 0.0
        return outputs.ab_fuse_drop_setpoint_v / self._sense_resistance_ohm()

    def _sense_resistance_ohm(self) -> float:
        """The installed fuse's shunt resistance (kept while the same fuse stays in)."""
        fuse = self.installed_fuse
        cached = self._sense_cache
        if cached is None or cached[0] is not fuse:
            cached = (fuse, fuse.sense_resistance_ohm)
            self._sense_cache = cached
        return cached[1]

    def _ab_path_resistance_ohm(self) -> float:
        return (
            self.ab_wiring_resistance_ohm
            + self._sense_resistance_ohm()
            + BMS_AB_SWITCH_RESISTANCE_OHM
        )

    def _ab_side(self, now_s: float) -> "_AbSide | None":
        """The AB node's branches at `now_s`, worked out once for a solve (None: no starter).

        A solve looks at the AB node for several voltages in one state; the alternator's
        maximum (its speed curve and derating), the path's resistance and the starter's
        resistances stand meanwhile.
        """
        starter = self.starter
        if starter is None:
            return None
        alternator = self.alternator
        cranking = now_s < starter.crank_until_s  # the alternator gives nothing while cranking
        knees_v: tuple[float, ...] = ()
        alternator_a = None
        if alternator is not None and alternator.running and not cranking:
            surroundings_c = self.surroundings.ambient_c  # what the alternator derates by (PLT-5)
            most_a = alternator.max_current_a(surroundings_c)
            set_v = alternator.set_point_v
            knees_v = (set_v, set_v - most_a * alternator.internal_resistance_ohm)
            alternator_a = alternator.characteristic(most_a)
        return _AbSide(
            path_ohm=self._ab_path_resistance_ohm(),
            load_a=starter.load_a(now_s),
            alternator_a=alternator_a,
            knees_v=knees_v,
            starter_a=starter.characteristic(),
            starter_ocv_v=starter.ocv_v,
        )

    def _solve_ab_hold(
        self, side: "_AbSide | None", limit_a: float
    ) -> tuple[float, float, float, float] | None:
        """The AB node with the limiter holding V_AB at `AB_HOLD_V` (ALT-1), or None.

        The port then takes what the source has left at that voltage (the BMS turns the rest of
        the drop into heat, PLT-11). None: the source gives the full limit there, so the limit
        binds before the hold. A result carrying no current means the source cannot reach
        `AB_HOLD_V` even unloaded: the port carries nothing and V_AB sits where the source
        leaves it.
        """
        if side is None:
            return None
        alternator_a = side.alternator_a
        alt_a = alternator_a(AB_HOLD_V) if alternator_a is not None else 0.0
        starter_a = side.starter_a(AB_HOLD_V)
        surplus_a = alt_a - starter_a - side.load_a
        if surplus_a >= limit_a:
            return None
        if surplus_a <= 0.0:
            return self._solve_ab_node(side, 0.0, 0.0)
        return AB_HOLD_V, surplus_a, alt_a, starter_a

    def _solve_ab_node(
        self, side: "_AbSide | None", bank_v: float, limit_a: float
    ) -> tuple[float, float, float, float]:
        """(V_AB, I_AB into the bank, alternator current, starter current), exactly.

        Every branch at the AB node is piecewise linear in V_AB, so the net current h(V) is
        linear between breakpoints and strictly decreasing (the starter battery): find the
        segment where it changes sign and interpolate.
        """
        if side is None:
            return 0.0, 0.0, 0.0, 0.0
        path_ohm = side.path_ohm
        load_a = side.load_a
        alternator_a = side.alternator_a
        starter_a = side.starter_a

        def branches(v: float) -> tuple[float, float, float]:
            alt = alternator_a(v) if alternator_a is not None else 0.0
            if limit_a <= 0.0:
                ab = 0.0
            elif bank_v == -math.inf:  # saturated: the limit, whatever the bank
                ab = limit_a
            else:
                ab = min(max((v - bank_v) / path_ohm, 0.0), limit_a)
            return alt, ab, starter_a(v)

        def net(v: float) -> float:
            alt, ab, st = branches(v)
            return alt - ab - st - load_a

        ocv_v = side.starter_ocv_v
        points = [ocv_v] if bank_v == -math.inf else [ocv_v, bank_v, bank_v + limit_a * path_ohm]
        points += side.knees_v
        points.sort()
        ends = [points[0] - 50.0, *points, points[-1] + 50.0]
        voltage = falling_root(net, ends, self._ab_segments, bank_v == -math.inf)
        alt, ab, st = branches(voltage)
        return voltage, ab, alt, st

    def _devices_by_bus(self) -> tuple[tuple[Device, ...], tuple[Device, ...]]:
        """The devices on the bank and on System+, in the system's order (kept while the same)."""
        devices = self.devices
        cached = self._by_bus
        if cached is None or cached[0] != devices:
            cached = (
                list(devices),
                tuple(d for d in devices if d.connection is Connection.BANK),
                tuple(d for d in devices if d.connection is Connection.SYSTEM_PLUS),
            )
            self._by_bus = cached
        return cached[1], cached[2]

    def _system_plus(
        self,
        outputs: Outputs,
        bank_v: float,
        currents_a: list[Callable[[float], float]],
    ) -> _SystemPlus:
        """(V_SP, I into the bank, per-device currents, short current) through the diode port.

        `currents_a`: each System+ device's `characteristic`, in the system's order.
        """
        wanted = tuple([current_a(bank_v) for current_a in currents_a])
        short_ohm = self.faults.system_plus_short_ohm
        short_a = -bank_v / short_ohm if short_ohm is not None else 0.0
        unrestricted = sum(wanted) + short_a
        port_a = system_plus_current_a(
            unrestricted_current_a=unrestricted,
            charge_allowed=outputs.system_plus_charge_allowed,
            discharge_allowed=outputs.system_plus_discharge_allowed,
        )
        port_closed = outputs.system_plus_charge_allowed or outputs.system_plus_discharge_allowed
        # With discharge blocked the port holds the node up only while something pushes charge
        # through it: loads alone pull a diode-fed node down (an inverter there sees 0 V and
        # stays in its low-battery shutdown instead of restarting into the blocked port).
        holds_node = outputs.system_plus_discharge_allowed or unrestricted > 0.0
        if port_closed and port_a == unrestricted and holds_node:
            sp_v = bank_v + port_a * self.system_plus_resistance_ohm
            return sp_v, port_a, wanted, short_a
        # The port blocks the net direction: the System+ devices are on their own. Chargers
        # among them feed the loads among them; with nothing left the node is dead.
        sources = sum(a for a in wanted if a > 0.0)
        if sources <= 0.0:
            return 0.0, 0.0, (0.0,) * len(wanted), 0.0
        loads = -sum(a for a in wanted if a < 0.0) - short_a
        load_scale = min(1.0, sources / loads) if loads > 0 else 0.0
        source_scale = min(1.0, loads / sources)  # chargers give only what the loads take
        shared = tuple([a * source_scale if a > 0 else a * load_scale for a in wanted])
        return bank_v, 0.0, shared, short_a * load_scale

    def _output_load_ohm(self, controls: tuple[Control, ...], bank_v: float) -> float:
        """The remote inputs on one disconnect output, as one resistance (inf: none)."""
        wired = self._wired.get(controls)
        if wired is None or wired[0] != len(self.devices):  # the wiring is fixed at build
            wired = (
                len(self.devices),
                tuple((d, d.remote_input_current_a) for d in self.devices if d.control in controls),
            )
            self._wired[controls] = wired
        demand = 0.0  # the inputs' draw, added in order (a jumper takes one out)
        for device, current_a in wired[1]:
            if not device.remote_jumper:
                demand += current_a
        if demand <= 0.0:
            return math.inf
        return max(bank_v - c.OUTPUT_HIGH_DROP_V, 1e-3) / demand

    def _disconnect_outputs(
        self, outputs: Outputs, bank_v: float
    ) -> tuple[tuple[float, float], tuple[float, float]]:
        """(voltage, current into the remote inputs) of the Load and Charge disconnect outputs.

        OUT-1/2: the current is what the outputs source into the devices' remote inputs.
        """
        return (
            disconnect_output(outputs.load_disconnect, bank_v, self._output_load_ohm(_LD, bank_v)),
            disconnect_output(
                outputs.charge_disconnect, bank_v, self._output_load_ohm(_CD, bank_v)
            ),
        )

    # --- what the BMS senses ------------------------------------------------------------------

    def measure(self, op: OperatingPoint, outputs: Outputs) -> Inputs:
        """The BMS's terminals and sensors at an operating point."""
        bank_v = op.bank_voltage_v
        faults = self.faults
        chain_ok = not faults.chain_unplugged
        plugged = not faults.remote_plug_removed
        mode, closed = self.remote.mode, self.remote.closed
        pull_up_v = max(bank_v - REMOTE_PULL_UP_DROP_V, 0.0)
        l_v = 0.0 if plugged and mode == "l-to-minus" and closed else pull_up_v
        h_v = bank_v if plugged and mode == "h-to-plus" and closed else 0.0
        looped = plugged and (mode == "loop" or (mode == "switch" and closed))
        prealarm_a = faults.prealarm_overload_a
        if outputs.prealarm is Level.HIGH:
            ctx = self.context(self._last_now_s, outputs)
            prealarm_a += sum(d.prealarm_output_current_a(ctx, bank_v) for d in self.devices)
        return Inputs(
            powered=not faults.bms_power_off
            and op.bank_emf_v
            >= (BMS_MIN_SUPPLY_V if outputs.supply_current_a > 0.0 else BMS_RESTART_SUPPLY_V),
            bank_voltage_v=bank_v,
            ab_voltage_v=op.ab_voltage_v,
            system_plus_voltage_v=op.system_plus_voltage_v,
            remote_lh_connected=looped,
            remote_l_voltage_v=l_v,
            remote_h_voltage_v=h_v,
            chain_connected=chain_ok,
            allowed_to_charge=chain_ok and all(b.allowed_to_charge for b in self.batteries),
            allowed_to_discharge=chain_ok and all(b.allowed_to_discharge for b in self.batteries),
            chain_prealarm=chain_ok and any(b.prealarm_line for b in self.batteries),
            chain_supports_prealarm=all(b.supports_prealarm for b in self.batteries),
            alternator_fuse_drop_v=op.ab_current_a * self.installed_fuse.sense_resistance_ohm,
            system_plus_current_a=op.system_plus_current_a,
            internal_temperature_c=self.bms_thermal.temperature_c,
            prealarm_output_current_a=prealarm_a,
            calibration_ok=not faults.calibration_lost,
            reference_ok=not faults.reference_failed,
            app_connected=self.app_connected,
        )

    # --- time -----------------------------------------------------------------------------------

    def advance(
        self,
        now_s: float,
        dt_s: float,
        op: OperatingPoint,
        outputs: Outputs,
        *,
        latch: bool = True,
        held: bool = True,
    ) -> bool:
        """Integrate every state over `dt_s` at `op`; True if the alternator overheat flag rose.

        With `latch=False` the latches wait for the step's correction: the caller then calls
        `advance_devices` (their stages and timers, with the context of the step's start) and
        `look` (the batteries' monitors) once the step's end is known. Nothing then latches on
        a state the step never reached, and a stage that ends with the step (the end of
        absorption) does not bend its ramp. `held=False`: the step is corrected
        (`correct_for_ramp`) before anything reads it, so the batteries' charge is moved only
        then (`LithiumBattery.advance`).
        """
        if dt_s <= 0.0:
            return False
        ambient_c = self.surroundings.ambient_c
        self._follow()
        self._led = not latch and self._lead_alone(op.battery_currents_a)
        for battery, current in zip(self._integrating(), op.battery_currents_a, strict=False):
            battery.advance(current, dt_s, ambient_c, now_s + dt_s, latch=latch, held=held)
        overheat = False
        if self.starter is not None:
            self.starter.advance(op.starter_current_a, op.ab_voltage_v, dt_s)
        if self.alternator is not None:
            overheat = self.alternator.advance(op.alternator_current_a, dt_s, now_s)
        if latch:
            self.advance_devices(self.context(now_s, outputs, op.bank_voltage_v), dt_s, op)
        for device, current in zip(self.devices, op.device_currents_a, strict=True):
            bus_v = self._bus_voltage_v(device, op)
            energy_wh = bus_v * current * dt_s / 3600.0
            if device.connection is Connection.BANK:
                if energy_wh >= 0:
                    self.energy.bank_devices_in_wh += energy_wh
                else:
                    self.energy.bank_devices_out_wh -= energy_wh
        heat_w = self._bms_heat_w(op, outputs)
        self.bms_thermal.advance(heat_w, ambient_c + self.faults.bms_extra_c, dt_s)
        hours = dt_s / 3600.0
        bank_v = op.bank_voltage_v
        energy = self.energy
        energy.ab_in_wh += bank_v * op.ab_current_a * hours
        if op.system_plus_current_a >= 0:
            energy.system_plus_in_wh += bank_v * op.system_plus_current_a * hours
        else:
            energy.system_plus_out_wh -= bank_v * op.system_plus_current_a * hours
        energy.bms_consumption_wh += bank_v * op.bms_draw_a * hours
        energy.bms_heat_wh += heat_w * hours
        net_wh = bank_v * op.bank_current_a * hours
        if net_wh >= 0:
            energy.batteries_in_wh += net_wh
        else:
            energy.batteries_out_wh -= net_wh
        return overheat

    def _bms_heat_w(self, op: OperatingPoint, outputs: Outputs) -> float:
        """PLT-11: the limiter's regulated drop, the switches' I^2 R and the electronics."""
        ab_a = op.ab_current_a
        drop_v = op.ab_voltage_v - op.bank_voltage_v - ab_a * self._ab_path_resistance_ohm()
        limiter_w = ab_a * max(drop_v, 0.0)
        switches_w = (
            ab_a * ab_a * BMS_AB_SWITCH_RESISTANCE_OHM
            + op.system_plus_current_a**2 * BMS_SYSTEM_PLUS_RESISTANCE_OHM
        )
        return limiter_w + switches_w + outputs.supply_current_a * op.bank_voltage_v

    def correct_for_ramp(
        self,
        start: OperatingPoint,
        end: OperatingPoint,
        dt_s: float,
        outputs: Outputs,
        ambient_start_c: float,
    ) -> None:
        """Turn a step integrated at its start values into one where they ramp to `end`.

        `advance` holds the start currents and ambient; knowing them at the end (Heun's
        method), the batteries' charge, polarisation and temperature, the BMS's temperature
        and the starter battery's charge follow a linear ramp instead, so a long step errs by
        the inputs' curvature, not their slope.
        """
        ambient_end_c = self.surroundings.ambient_c
        starts_a, ends_a = start.battery_currents_a, end.battery_currents_a
        for battery, i0, i1 in zip(
            self._integrating(starts_a, ends_a), starts_a, ends_a, strict=False
        ):
            battery.correct_for_ramp(
                i0, i1, dt_s, ambient_start_c=ambient_start_c, ambient_end_c=ambient_end_c
            )
        heat_change_w = self._bms_heat_w(end, outputs) - self._bms_heat_w(start, outputs)
        self.bms_thermal.correct_for_ramp(
            ambient_end_c - ambient_start_c + heat_change_w * BMS_THERMAL_RESISTANCE_K_PER_W,
            dt_s,
        )
        if self.starter is not None:
            self.starter.correct_for_ramp(start.starter_current_a, end.starter_current_a, dt_s)

    def bend_ramp(
        self, curvatures_a_per_s2: tuple[float, ...], end: OperatingPoint, dt_s: float
    ) -> None:
        """Correct the last ramp for each battery's current curvature (the starter's last)."""
        batteries = self._integrating(curvatures_a_per_s2)
        for battery, curvature in zip(batteries, curvatures_a_per_s2, strict=False):
            battery.bend_ramp(curvature, dt_s)
        if self.starter is not None:
            self.starter.bend_ramp(curvatures_a_per_s2[-1], end.starter_current_a > 0.0, dt_s)

    def advance_devices(self, ctx: DeviceContext, dt_s: float, op: OperatingPoint) -> None:
        """Each device's stages and timers over a step held at `op` and `ctx`, its start."""
        for device in self.devices:
            device.advance(ctx, self._bus_voltage_v(device, op), dt_s)

    @staticmethod
    def _bus_voltage_v(device: Device, op: OperatingPoint) -> float:
        if device.connection is Connection.BANK:
            return op.bank_voltage_v
        return op.system_plus_voltage_v

    def look(self, now_s: float, op: OperatingPoint) -> None:
        """Each battery's monitor looks at the (corrected) state a step ended in, at `op`."""
        currents_a = op.battery_currents_a
        for battery, current_a in zip(self._integrating(currents_a), currents_a, strict=False):
            battery.look(current_a, now_s)
        self._follow()

    def move_ramp_end(
        self,
        previous_end: OperatingPoint,
        end: OperatingPoint,
        dt_s: float,
        outputs: Outputs,
        *,
        guessed: OperatingPoint | None = None,
    ) -> None:
        """Correct the last ramp again, for end values known better than `previous_end`.

        One more pass of Heun's corrector: the batteries' charge, polarisation and
        temperature, the BMS's temperature and the starter battery's charge move to the ramp
        that ends at `end` (solved from the corrected state) instead of `previous_end`
        (solved from Euler's). See `LithiumBattery.move_ramp_end`.

        `guessed`: the end the ramp had when `previous_end` was solved, for a pass after the
        second. The batteries' and the starter's end currents then go on to where the passes
        converge (`converged_end_currents`): moving the ramp's end moves the current solved
        there again (the polarisation feeds back), and two passes left it a few mA off in the
        same direction step after step (cold-morning with issue 13's cell, R1 = 1.2 R0: the
        charge 1.3 As high after an hour's charge, the charge limit 0.2 s early).
        """
        currents = end.charge_currents_a
        if guessed is not None:
            currents = converged_end_currents(
                guessed.charge_currents_a, previous_end.charge_currents_a, currents
            )
        previous_a = previous_end.battery_currents_a
        for battery, i0, i1 in zip(
            self._integrating(previous_a, currents), previous_a, currents, strict=False
        ):
            battery.move_ramp_end(i0, i1, dt_s)
        heat_change_w = self._bms_heat_w(end, outputs) - self._bms_heat_w(previous_end, outputs)
        self.bms_thermal.correct_for_ramp(heat_change_w * BMS_THERMAL_RESISTANCE_K_PER_W, dt_s)
        if self.starter is not None:
            self.starter.correct_for_ramp(previous_end.starter_current_a, currents[-1], dt_s)

    # --- trial steps ----------------------------------------------------------------------------

    def snapshot(self) -> SystemState:
        """Everything `advance` and the timeline change, to try a step and take it back.

        Each part saves its own state as a frozen value (`save_state`), the parameters stay
        out: a snapshot costs microseconds, so a stepper can take one before every step.
        """
        alternator, starter = self.alternator, self.starter
        return SystemState(
            self._last_now_s,
            self._bank_guess_v,
            self.app_connected,
            self.bms_thermal.save_state(),
            self.energy.save_state(),
            self.surroundings.save_state(),
            self.faults.save_state(),
            self.remote.save_state(),
            tuple([battery.save_state() for battery in self.batteries]),
            None if alternator is None else alternator.save_state(),
            None if starter is None else starter.save_state(),
            tuple([device.save_state() for device in self.devices]),
            self._bank_guess_slope,
            self._bank_guess_emf_v,
        )

    def restore(self, state: SystemState) -> None:
        """Put back what `snapshot` saw (of this system, or of one built alike)."""
        if (
            len(state.batteries) != len(self._batteries)
            or len(state.devices) != len(self.devices)
            or (state.alternator is None) != (self.alternator is None)
            or (state.starter is None) != (self.starter is None)
        ):
            msg = "the snapshot is of a system built otherwise"
            raise ValueError(msg)
        (
            self._last_now_s,
            self._bank_guess_v,
            self.app_connected,
            bms_temperature_c,
            energy,
            surroundings,
            faults,
            remote,
            batteries,
            alternator,
            starter,
            devices,
            self._bank_guess_slope,
            self._bank_guess_emf_v,
        ) = state
        self.bms_thermal.load_state(bms_temperature_c)
        self.energy.load_state(energy)
        self.surroundings.load_state(surroundings)
        self.faults.load_state(faults)
        self.remote.load_state(remote)
        for battery, saved in zip(self._batteries, batteries, strict=True):
            battery.load_state(saved)
        self._led = False
        if self.alternator is not None and alternator is not None:
            self.alternator.load_state(alternator)
        if self.starter is not None and starter is not None:
            self.starter.load_state(starter)
        for device, saved_device in zip(self.devices, devices, strict=True):
            device.load_state(saved_device)

    def discrete_state(
        self, now_s: float, op: OperatingPoint, outputs: Outputs
    ) -> tuple[object, ...]:
        """The plant's latches at an operating point.

        A change between two instants means a threshold was crossed between them: cell
        monitors, balancers, damage, the alternator's overheat timer, the devices' own
        monitors and charge stages.
        """
        state: list[object] = []
        for battery in self.batteries:
            state.append(battery.latches())
        alternator = self.alternator
        if alternator is not None:
            # a stopped engine ends the overheating episode (its flag clears in `advance`)
            flagged = alternator.running and alternator.overheat_risk_at_s is not None
            state.append((alternator.at_max.running, flagged))
        latching = [d for d in self.devices if d.has_latches]
        if latching:
            ctx = self.context(now_s, outputs)
            for device in latching:
                state.append(device.pending_state(ctx, self._bus_voltage_v(device, op)))
        return tuple(state)

    def bleeding(self) -> tuple[bool, ...]:
        """Which cells the batteries' balancers bleed now (each battery's, in order)."""
        return tuple(cell.bleeding for battery in self.batteries for cell in battery.cells)

    def next_kink_s(self, now_s: float, op: OperatingPoint, min_s: float) -> float:
        """When the first cell reaches a knot of its open-circuit curve at `op`'s currents.

        Beyond the next knot the currents' slope changes: a step that ends there keeps the
        ramp of Heun's method true. Knots nearer than `min_s` count as passed. A cold cell's SoC
        moves with its temperature too, which the ambient and the currents' heat drive.
        """
        ambient_c = self.surroundings.ambient_c
        return now_s + min(
            (
                battery.time_to_ocv_knot_s(current_a, min_s, ambient_c)
                for battery, current_a in zip(self.batteries, op.battery_currents_a, strict=True)
            ),
            default=math.inf,
        )

    def last_kink_s(self, now_s: float, op: OperatingPoint) -> float:
        """When, at `op`'s currents, a cell last passed a knot (see `next_kink_s`)."""
        ambient_c = self.surroundings.ambient_c
        return now_s - min(
            (
                battery.time_past_ocv_knot_s(current_a, ambient_c)
                for battery, current_a in zip(self.batteries, op.battery_currents_a, strict=True)
            ),
            default=math.inf,
        )

    def next_device_change_s(
        self, now_s: float, outputs: Outputs, op: OperatingPoint | None = None
    ) -> float:
        """The earliest internal timer among the devices and the batteries' cell monitors.

        At `op`, the operating point at `now_s`, each device answers as the step from there
        will judge it (`Device.pending_change_s`): a delay whose condition holds at the start
        counts from it, so the step ends on its end instead of locating it as a crossing.
        """
        if op is None:
            ctx = self.context(now_s, outputs)
            devices_s = min((d.next_change_s(ctx) for d in self.devices), default=math.inf)
        else:
            ctx = self.context(now_s, outputs, op.bank_voltage_v)
            devices_s = min(
                (d.pending_change_s(ctx, self._bus_voltage_v(d, op)) for d in self.devices),
                default=math.inf,
            )
        return min([devices_s, *(b.release.due_s() for b in self.batteries)])
