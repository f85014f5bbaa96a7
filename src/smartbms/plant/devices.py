"""The devices of the twin: loads, inverters, chargers, switches and alarms around the bank.

The network solver asks each device for its current at a bus voltage (`current_a`, pure and
continuous, so the solver may probe it many times) and then lets it live through a step
(`advance`: latches, delays, charge stages, energy counters). A device that runs a timer of its
own says when it ends (`next_change_s`) so the simulator never steps over it.

Devices on System+ (PLT-8) are protected by the BMS through its port. Devices wired straight to
the bank (PLT-9) are protected only if a BMS output switches their remote input, and that signal
chain is modelled in one place (`remote_enabled`), the way manual App. A describes it:

    BMS output level (HIGH / FLOATING)
      -> the output's terminal voltage (a 10 mA source: a hungry input sags it, OUT-1/2)
      -> the interface cable           -> the signal at the device terminal (HIGH, LOW, OPEN)
      -> the device's remote input kind -> on / off

    cable / output             HIGH (>= 3 V)   FLOATING or sagged
    DIRECT, NON_INVERTING      HIGH            OPEN
    VEDIRECT_NON_INVERTING     HIGH            OPEN
    INVERTING (ASS030550100)   LOW             OPEN
    MULTIPLUS_CABLE            HIGH iff Load AND Charge disconnect are HIGH, else OPEN

    input kind                 on iff
    HIGH_ACTIVE, VEDIRECT      HIGH   (Phoenix H, BatteryProtect, Orion Tr, Cyrix, IP43, big MPPTs)
    RELAY_COIL                 HIGH   (a plain relay; a 10 mA output cannot pull it in)
    LOW_ACTIVE                 LOW    (VE.Bus inverters >= 1200 VA, MultiPlus-II)

A wrong but connectable cable misbehaves as it would in reality (a VE.Bus inverter wired direct
never switches on; a fitted remote jumper keeps a device on when the BMS says off) and says so
in `design_warnings()`; a cable that does not fit at all (anything but ASS030550320 on a VE.Direct
port) is a configuration error at construction.

Current bookkeeping: `current_a` is the current a device pushes into its bus. The milliamps a
remote input draws from the Load/Charge disconnect outputs are *not* in it: the system adds them
to the BMS's own draw from `remote_input_current_a` (PWR-1: output currents come on top). What a
device draws from the pre-alarm output *is* in its `current_a` (that output is the bank), and
`prealarm_output_current_a` reports it for OUT-5.
"""

import abc
import copy
import dataclasses
import enum
import inspect
import math
import re
from collections.abc import Mapping
from typing import Any, ClassVar, Final

from smartbms.core import constants as c
from smartbms.core.power_stage import disconnect_output, prealarm_output
from smartbms.core.signals import Level

# --- defaults, each with its reason ---------------------------------------------------------------

MIN_BUS_V: Final = 6.0
"""Chosen: below this a device's electronics quit; its current falls linearly to 0 (a resistor),
so P/V never blows up and the solver always sees a continuous curve."""
NOMINAL_BANK_V: Final = 12.8
"""Lithium Battery 12,8V Smart nominal voltage: design checks judge the outputs at this level."""
REMOTE_HIGH_MIN_V: Final = c.REMOTE_H_HIGH_MIN_V
"""Victron remote H inputs read more than 3 V as high, like the BMS's own H input (manual §4)."""
REMOTE_INPUT_CURRENT_A: Final = 0.001
"""Chosen: a typical remote on/off input (opto-coupler or logic input with pull-down)."""
RELAY_COIL_CURRENT_A: Final = 0.15
"""Chosen: a 12 V automotive relay coil of about 80 ohm."""
TIME_SLACK_S: Final = 1e-9
"""Float slack when a timer's end is compared with the end of a step (lands exactly on it)."""

INVERTER_EFFICIENCY_PCT: Final = 90.0
"""Phoenix inverters at moderate load (data sheets: 91...94 % peak)."""
INVERTER_IDLE_W: Final = 8.0
"""Zero-load power of a Phoenix 12 V inverter of 800...1200 VA, drawn while it is on."""
INVERTER_LOW_VOLTAGE_CUTOFF_V: Final = 10.9
"""A lithium-friendly low-battery shutdown, well above a 12 V lead-acid setting of 9.3 V."""
INVERTER_RESTART_V: Final = 12.5
"""Restart only on a visibly recharged bank (1.6 V hysteresis: no load cycling)."""

MULTIPLUS_CHARGE_CURRENT_A: Final = 70.0
"""MultiPlus 12/1600/70: a 70 A charger."""
CHARGER_CURRENT_A: Final = 30.0
"""Phoenix Smart IP43 Charger 12/30."""
ABSORPTION_V: Final = 14.2
"""Victron's LiFePO4 charge preset, equal to the BMS's default charge limit (manual §3.5.1d)."""
FLOAT_V: Final = 13.5
"""Victron's LiFePO4 float preset: holds a full bank without pushing the cells."""
ABSORPTION_TIME_H: Final = 1.0
"""Victron's fixed LiFePO4 absorption time (lithium needs no long absorption)."""
CV_RESISTANCE_OHM: Final = 0.01
"""Chosen: the CV stage as a 10 mohm droop (100 A per volt below the set point): stiff and
continuous, so the solver never sees a step."""

MPPT_MODEL: Final = "SmartSolar MPPT 75/15"
"""The smallest common SmartSolar; it needs the VE.Direct cable (manual App. A §4)."""
MPPT_PV_PEAK_W: Final = 200.0
"""A panel that suits a 75/15 on a 12 V bank (15 A x 14.2 V = 213 W)."""
MPPT_EFFICIENCY_PCT: Final = 97.0
"""SmartSolar data sheets: 98 % maximum; 97 % in typical use."""

BP_DISCONNECT_V: Final = 10.5
"""Smart BatteryProtect 12 V factory disengage level."""
BP_RECONNECT_V: Final = 12.0
"""Smart BatteryProtect 12 V factory re-engage level for that disengage level."""
BP_ENGAGE_DELAY_S: Final = 1.0
"""Smart BatteryProtect manual: it connects the load 1 s after the remote input closes."""
BP_DISCONNECT_DELAY_S: Final = 90.0
"""Smart BatteryProtect manual: under-voltage disconnects after 90 s (rides through cranking)."""
BP_RECONNECT_DELAY_S: Final = 30.0
"""Smart BatteryProtect manual: reconnect delay after under-voltage, 30 s."""
BP_LI_ION_DEAD_S: Final = 30.0
"""Smart BatteryProtect manual, Li-ion mode: it stays off 30 s after the remote went floating."""
BP_LOCKOUT_ATTEMPTS: Final = 3
"""Smart BatteryProtect manual, Li-ion mode: the third disengage/re-engage request locks it (E7)."""
BP_LOCKOUT_RELEASE_V: Final = 13.0
"""Smart BatteryProtect manual: E7 clears once the input is above 13.0 V (12 V system) ..."""
BP_LOCKOUT_RELEASE_S: Final = 30.0
"""... for at least 30 s, a sign that the battery is being recharged."""
BP_ON_A: Final = 0.0015
"""Smart BatteryProtect data sheet: own consumption while on."""
BP_OFF_A: Final = 0.0006
"""Smart BatteryProtect data sheet: own consumption while off or after a low-voltage shutdown."""

CYRIX_ENGAGE_DELAY_S: Final = 3.0
"""Cyrix-Li-Charge: it engages 3 s after control and charge voltage are both present."""
CYRIX_CHARGE_CURRENT_A: Final = 30.0
"""Chosen: a 30 A charger behind the Cyrix-Li-Charge."""

RESIDUAL_CURRENT_A: Final = 0.010
"""manual §3.1's example: an alarm system's 10 mA, which empties a bank in days."""
ALARM_CURRENT_A: Final[Mapping[str, float]] = {"buzzer": 0.030, "led": 0.010, "relay": 0.150}
"""Chosen: a piezo buzzer, an LED with its resistor, a 12 V relay coil."""


# --- closed sets ----------------------------------------------------------------------------------


class Connection(enum.Enum):
    """Where a device is wired."""

    BANK = "bank"
    """Directly on the lithium bank (PLT-9): only a BMS output can switch it."""
    SYSTEM_PLUS = "system-plus"
    """On the BMS's System+ port (PLT-8): the port protects the bank."""


class Control(enum.Enum):
    """Which BMS output drives the device's remote input (or powers it, for an alarm)."""

    NONE = "none"
    LOAD_DISCONNECT = "load-disconnect"
    CHARGE_DISCONNECT = "charge-disconnect"
    BOTH = "both"
    """Load disconnect and Charge disconnect together (MultiPlus cable, or two cables)."""
    PREALARM = "prealarm"

    @property
    def label(self) -> str:
        """The output's name as the manual prints it."""
        return _CONTROL_LABELS[self]


_CONTROL_LABELS: Final = {
    Control.NONE: "no",
    Control.LOAD_DISCONNECT: "Load disconnect",
    Control.CHARGE_DISCONNECT: "Charge disconnect",
    Control.BOTH: "Load and Charge disconnect",
    Control.PREALARM: "Pre-alarm",
}


class Cable(enum.Enum):
    """What sits between a BMS output and the device's remote terminal (manual App. A)."""

    DIRECT = "direct"
    """A plain wire."""
    INVERTING = "inverting"
    """Inverting remote on-off cable ASS030550100: HIGH -> pulled LOW, FLOATING -> open."""
    NON_INVERTING = "non-inverting"
    """Non-inverting remote on-off cable ASS030550200 (Skylla TG): electrically a wire."""
    VEDIRECT_NON_INVERTING = "vedirect-non-inverting"
    """VE.Direct non-inverting remote on-off cable ASS030550320 (small MPPTs)."""
    MULTIPLUS_CABLE = "multiplus-cable"
    """Smart BMS CL 12-100 to MultiPlus cable ASS070200100: on only while both outputs are HIGH."""

    @property
    def label(self) -> str:
        """The cable as an installer names it."""
        return _CABLE_LABELS[self]


_CABLE_LABELS: Final = {
    Cable.DIRECT: "direct wire",
    Cable.INVERTING: "inverting remote on-off cable (ASS030550100)",
    Cable.NON_INVERTING: "non-inverting remote on-off cable (ASS030550200)",
    Cable.VEDIRECT_NON_INVERTING: "VE.Direct non-inverting remote on-off cable (ASS030550320)",
    Cable.MULTIPLUS_CABLE: "Smart BMS to MultiPlus cable (ASS070200100)",
}


class Terminal(enum.Enum):
    """The signal at a device's remote terminal."""

    HIGH = "high"
    LOW = "low"
    """Pulled to battery minus."""
    OPEN = "open"


class RemoteInput(enum.Enum):
    """How a device's remote on/off input reads its terminal."""

    HIGH_ACTIVE = "high-active"
    """On iff HIGH: Phoenix H, (Smart) BatteryProtect, Orion Tr, Cyrix, IP43 H, big MPPTs."""
    LOW_ACTIVE = "low-active"
    """On iff pulled LOW: VE.Bus inverters / Inverter Compact >= 1200 VA, MultiPlus-II."""
    VEDIRECT = "vedirect"
    """A VE.Direct port: only the ASS030550320 cable fits; on iff HIGH."""
    RELAY_COIL = "relay-coil"
    """A plain relay coil switching the device: on iff its coil sees HIGH."""


class Role(enum.Enum):
    """What a device does to the bank, for the design checks."""

    LOAD = "load"
    CHARGER = "charger"
    BOTH = "both"
    PASSIVE = "passive"


class ChargeStage(enum.Enum):
    """A Victron charger's stage."""

    BULK = "bulk"
    ABSORPTION = "absorption"
    FLOAT = "float"


# --- what every device sees ----------------------------------------------------------------------


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class DeviceContext:
    """The world and the BMS outputs at one instant, as every device sees them."""

    now_s: float
    shore_power: bool
    """AC shore or generator power is present."""
    solar_fraction: float
    """Irradiance relative to the panel's peak, 0...1."""
    ambient_c: float
    load_disconnect: Level
    charge_disconnect: Level
    prealarm: Level
    bank_voltage_v: float | None = None
    """The bank, which powers the BMS outputs; None: take the device's bus voltage."""
    load_disconnect_v: float | None = None
    """The Load disconnect terminal voltage with every input on it (the system knows them all);
    None: judge it from this device's input alone."""
    charge_disconnect_v: float | None = None
    """As `load_disconnect_v`, for Charge disconnect."""


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Wiring:
    """How a device's remote input is tied to the BMS (manual App. A)."""

    control: Control = Control.NONE
    cable: Cable = Cable.DIRECT
    remote_input: RemoteInput = RemoteInput.HIGH_ACTIVE
    remote_input_current_a: float = REMOTE_INPUT_CURRENT_A
    """What the input draws at the output's high level."""


ALWAYS = (True, True)
"""Remote verdict of a device nothing controls: it may discharge and charge."""


# --- the signal chain, in one place ---------------------------------------------------------------


def output_voltage_v(
    output: Control, ctx: DeviceContext, bank_voltage_v: float, input_current_a: float
) -> float:
    """The voltage a BMS output puts on an input that draws `input_current_a` when high.

    Load/Charge disconnect are 10 mA sources at V_bank - 0.1 V (OUT-1/2): a hungrier input sags
    them. The pre-alarm output is V_bank when high and can deliver 1 A (OUT-5).
    """
    if output is Control.PREALARM:
        return prealarm_output(ctx.prealarm, bank_voltage_v)
    if output is Control.LOAD_DISCONNECT:
        level, given_v = ctx.load_disconnect, ctx.load_disconnect_v
    else:
        level, given_v = ctx.charge_disconnect, ctx.charge_disconnect_v
    if level is not Level.HIGH:
        return 0.0
    if given_v is not None:
        return given_v
    return disconnect_output(
        level, bank_voltage_v, input_resistance_ohm(bank_voltage_v, input_current_a)
    )[0]


def input_resistance_ohm(bank_voltage_v: float, input_current_a: float) -> float:
    """An input drawing `input_current_a` at the output's high level, as a resistance."""
    high_v = bank_voltage_v - c.OUTPUT_HIGH_DROP_V
    if input_current_a <= 0.0 or high_v <= 0.0:
        return math.inf
    return high_v / input_current_a


def cable_terminal(cable: Cable, driven: bool) -> Terminal:
    """The terminal signal a cable makes of a driven (HIGH, >= 3 V) or floating output."""
    if not driven:
        return Terminal.OPEN
    return Terminal.LOW if cable is Cable.INVERTING else Terminal.HIGH


def input_is_on(kind: RemoteInput, terminal: Terminal) -> bool:
    """Whether a remote input of `kind` switches its device on for a terminal signal."""
    if kind is RemoteInput.LOW_ACTIVE:
        return terminal is Terminal.LOW
    return terminal is Terminal.HIGH


def remote_enabled(
    wiring: Wiring, ctx: DeviceContext, bank_voltage_v: float, *, jumper: bool
) -> tuple[bool, bool]:
    """(may discharge, may charge) as the device's remote input reads the BMS outputs.

    One input sees one verdict for both. Control BOTH through two separate cables (MultiPlus-II:
    Load disconnect to its inverter, Charge disconnect to its charger) gives one per function.
    """
    control = wiring.control
    if control is Control.NONE or jumper:
        return ALWAYS
    current_a = wiring.remote_input_current_a
    if control is Control.BOTH:
        ld = output_voltage_v(Control.LOAD_DISCONNECT, ctx, bank_voltage_v, current_a)
        cd = output_voltage_v(Control.CHARGE_DISCONNECT, ctx, bank_voltage_v, current_a)
        if wiring.cable is Cable.MULTIPLUS_CABLE:
            both = ld >= REMOTE_HIGH_MIN_V and cd >= REMOTE_HIGH_MIN_V
            on = input_is_on(wiring.remote_input, cable_terminal(wiring.cable, both))
            return on, on
        return (
            input_is_on(wiring.remote_input, cable_terminal(wiring.cable, ld >= REMOTE_HIGH_MIN_V)),
            input_is_on(wiring.remote_input, cable_terminal(wiring.cable, cd >= REMOTE_HIGH_MIN_V)),
        )
    volts = output_voltage_v(control, ctx, bank_voltage_v, current_a)
    on = input_is_on(wiring.remote_input, cable_terminal(wiring.cable, volts >= REMOTE_HIGH_MIN_V))
    return on, on


def check_wiring(name: str, wiring: Wiring, *, two_inputs: bool = False) -> None:
    """Refuse wiring that cannot be built (ValueError naming the device and the right cable)."""
    if wiring.remote_input_current_a <= 0.0 or not math.isfinite(wiring.remote_input_current_a):
        msg = f"{name}: remote_input_current_a must be a positive number"
        raise ValueError(msg)
    if wiring.control is Control.NONE:
        return
    if wiring.remote_input is RemoteInput.VEDIRECT:
        if wiring.cable is not Cable.VEDIRECT_NON_INVERTING:
            msg = (
                f"{name}: its remote on/off is a VE.Direct port; a {wiring.cable.label} cannot be "
                f"connected: use the {Cable.VEDIRECT_NON_INVERTING.label} (manual App. A §4)"
            )
            raise ValueError(msg)
    elif wiring.cable is Cable.VEDIRECT_NON_INVERTING:
        msg = (
            f"{name}: the {wiring.cable.label} fits a VE.Direct port only; this device has a "
            f"{wiring.remote_input.value} remote terminal"
        )
        raise ValueError(msg)
    if wiring.cable is Cable.MULTIPLUS_CABLE and wiring.control is not Control.BOTH:
        msg = (
            f"{name}: the {wiring.cable.label} takes both Load and Charge disconnect: "
            "set control to both"
        )
        raise ValueError(msg)
    if (
        wiring.control is Control.BOTH
        and wiring.cable is not Cable.MULTIPLUS_CABLE
        and not two_inputs
    ):
        msg = (
            f"{name}: one remote input cannot take both outputs through a "
            f"{wiring.cable.label}: use the {Cable.MULTIPLUS_CABLE.label} (manual App. A §6)"
        )
        raise ValueError(msg)


def wiring_warnings(name: str, wiring: Wiring, *, jumper: bool) -> list[str]:
    """Design checks of a remote wiring that works electrically but not as intended."""
    control = wiring.control
    if control is Control.NONE:
        return []
    out = control.label
    if jumper:
        return [
            (
                f"{name}: the factory remote jumper is still fitted: it ignores the BMS's {out} "
                "output and stays on when it should go off"
            )
        ]
    warnings: list[str] = []
    kind = wiring.remote_input
    if not input_is_on(kind, cable_terminal(wiring.cable, True)):
        if kind is RemoteInput.LOW_ACTIVE:
            warnings.append(
                f"{name}: a LOW-active remote input (VE.Bus) never sees LOW through a "
                f"{wiring.cable.label}: it stays off even when the BMS allows it; use the "
                f"{Cable.INVERTING.label} (manual App. A §2)"
            )
        else:
            warnings.append(
                f"{name}: the {wiring.cable.label} pulls its HIGH-active input LOW: it stays off "
                "even when the BMS allows it; connect the output to its H terminal directly "
                "(manual App. A §1)"
            )
    disconnect_outputs = (Control.LOAD_DISCONNECT, Control.CHARGE_DISCONNECT, Control.BOTH)
    if control in disconnect_outputs:
        warnings.extend(_disconnect_output_warnings(name, out, wiring.remote_input_current_a))
        if kind is RemoteInput.RELAY_COIL:
            warnings.append(_inductive_warning(name, out))
    return warnings


def _disconnect_output_warnings(name: str, out: str, input_current_a: float) -> list[str]:
    """OUT-1/2: a Load/Charge disconnect output sources 10 mA at most."""
    if input_current_a <= c.OUTPUT_SOURCE_LIMIT_A:
        return []
    volts, _ = disconnect_output(
        Level.HIGH, NOMINAL_BANK_V, input_resistance_ohm(NOMINAL_BANK_V, input_current_a)
    )
    seen = (
        "it never sees HIGH"
        if volts < REMOTE_HIGH_MIN_V
        else f"it still reads HIGH above {REMOTE_HIGH_MIN_V:g} V"
    )
    return [
        (
            f"{name}: draws {input_current_a * 1000:.0f} mA from the {out} output, which "
            f"sources {c.OUTPUT_SOURCE_LIMIT_A * 1000:.0f} mA at most (manual §4): the output "
            f"sags to {volts:.2f} V and {seen}"
        )
    ]


def _inductive_warning(name: str, out: str) -> str:
    """OUT-3: the disconnect outputs must not power a relay coil."""
    return (
        f"{name}: a relay coil on the {out} output: the output is not suitable to power an "
        "inductive load such as a relay coil (manual §2.2); use a Cyrix-Li-Load/-Charge or a "
        "BatteryProtect"
    )


# --- shared physics -------------------------------------------------------------------------------


def power_draw_a(power_w: float, bus_voltage_v: float) -> float:
    """Current of a constant-power load: P/V, and resistive (to 0 A at 0 V) below MIN_BUS_V."""
    if bus_voltage_v >= MIN_BUS_V:
        return power_w / bus_voltage_v
    if bus_voltage_v <= 0.0:
        return 0.0
    return power_w * bus_voltage_v / (MIN_BUS_V * MIN_BUS_V)


def current_draw_a(current_a: float, bus_voltage_v: float) -> float:
    """Current of a constant-current load, falling linearly to 0 A at 0 V below MIN_BUS_V."""
    if bus_voltage_v >= MIN_BUS_V:
        return current_a
    if bus_voltage_v <= 0.0:
        return 0.0
    return current_a * bus_voltage_v / MIN_BUS_V


class ChargeAlgorithm:
    """Bulk -> absorption -> float of a Victron charger, with a droop-type CV stage.

    The current is clip((V_set - V) / R_cv, 0, limit). Bulk ends when that CV limit binds (the
    charger has reached its absorption voltage); absorption lasts its set time, then the set
    point drops to float. Losing the source (shore power, sun, remote) restarts at bulk.
    """

    def __init__(
        self,
        *,
        absorption_voltage_v: float,
        float_voltage_v: float,
        absorption_time_h: float,
        cv_resistance_ohm: float,
    ) -> None:
        if not 0.0 < float_voltage_v <= absorption_voltage_v:
            msg = "float voltage must be positive and not above the absorption voltage"
            raise ValueError(msg)
        if absorption_time_h < 0.0 or cv_resistance_ohm <= 0.0:
            msg = "absorption time must be >= 0 and the CV resistance > 0"
            raise ValueError(msg)
        self.absorption_voltage_v = absorption_voltage_v
        self.float_voltage_v = float_voltage_v
        self.absorption_time_s = absorption_time_h * 3600.0
        self.cv_resistance_ohm = cv_resistance_ohm
        self.stage = ChargeStage.BULK
        self.absorption_elapsed_s = 0.0

    @property
    def set_point_v(self) -> float:
        """The voltage the charger regulates to in its present stage."""
        if self.stage is ChargeStage.FLOAT:
            return self.float_voltage_v
        return self.absorption_voltage_v

    def current_a(self, bus_voltage_v: float, limit_a: float) -> float:
        """Charge current at a bus voltage with the charger able to give `limit_a`."""
        taper = (self.set_point_v - bus_voltage_v) / self.cv_resistance_ohm
        return min(max(taper, 0.0), max(limit_a, 0.0))

    def reset(self) -> None:
        """The source went away: the next charge starts at bulk."""
        self.stage = ChargeStage.BULK
        self.absorption_elapsed_s = 0.0

    def step(self, *, active: bool, bus_voltage_v: float, limit_a: float, dt_s: float) -> None:
        """Advance the stage over `dt_s` at this operating point."""
        if not active:
            self.reset()
            return
        if self.stage is ChargeStage.BULK:
            if bus_voltage_v >= self.absorption_voltage_v - limit_a * self.cv_resistance_ohm:
                # reached at this step's operating point: the step counts as absorption
                self.stage = ChargeStage.ABSORPTION
                self.absorption_elapsed_s = dt_s
                self._finish_absorption()
        elif self.stage is ChargeStage.ABSORPTION:
            self.absorption_elapsed_s += dt_s
            self._finish_absorption()

    def _finish_absorption(self) -> None:
        if self.absorption_elapsed_s >= self.absorption_time_s - TIME_SLACK_S:
            self.stage = ChargeStage.FLOAT

    def next_change_s(self, now_s: float, *, active: bool) -> float:
        """End of the absorption stage, if it is running."""
        if active and self.stage is ChargeStage.ABSORPTION:
            return now_s + self.absorption_time_s - self.absorption_elapsed_s
        return math.inf


# --- the devices ----------------------------------------------------------------------------------


def _finite(name: str, field: str, value: object, *, positive: bool = False) -> float:
    """A finite, non-negative (or positive) number, or a ValueError naming the field."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        msg = f"{name}: {field} must be a number, got {value!r}"
        raise ValueError(msg)
    if not math.isfinite(value) or value < 0.0 or (positive and value == 0.0):
        bound = "> 0" if positive else ">= 0"
        msg = f"{name}: {field} must be a finite number {bound}, got {value!r}"
        raise ValueError(msg)
    return float(value)


class Device(abc.ABC):
    """A device on the bank or on System+, as the network solver sees it."""

    TYPE_NAME: ClassVar[str]
    """The name `make_device` knows it by."""
    ROLE: ClassVar[Role]
    SETTABLE: ClassVar[Mapping[str, str]]
    """Timeline name -> attribute that `set` may change."""
    TWO_INPUTS: ClassVar[bool] = False
    """It has separate remote inputs for discharging and charging (MultiPlus-II assistants)."""

    def __init__(
        self,
        *,
        name: str,
        connection: Connection,
        wiring: Wiring,
        remote_jumper: bool,
        on: bool,
    ) -> None:
        check_wiring(name, wiring, two_inputs=self.TWO_INPUTS)
        self.name = name
        self.connection = connection
        self.wiring = wiring
        self.remote_jumper = remote_jumper
        self.on = on
        self.energy_in_wh = 0.0
        self.energy_out_wh = 0.0
        self.last_bus_voltage_v = NOMINAL_BANK_V
        """The bus voltage of the last `advance` (what `is_on` judges the outputs by)."""
        self._remote_cache: tuple[DeviceContext, bool, tuple[bool, bool]] | None = None

    # --- wiring, as the system reads it ---------------------------------------------------------

    @property
    def control(self) -> Control:
        """The BMS output wired to the device."""
        return self.wiring.control

    @property
    def cable(self) -> Cable:
        """The interface between that output and the device."""
        return self.wiring.cable

    @property
    def remote_input(self) -> RemoteInput:
        """How the device reads its remote terminal."""
        return self.wiring.remote_input

    @property
    def remote_input_current_a(self) -> float:
        """What the device's input draws from a Load/Charge disconnect output at its high level."""
        return self.wiring.remote_input_current_a

    def remote(self, ctx: DeviceContext, bus_voltage_v: float) -> tuple[bool, bool]:
        """(may discharge, may charge) by the remote input right now."""
        if ctx.bank_voltage_v is None:
            return remote_enabled(self.wiring, ctx, bus_voltage_v, jumper=self.remote_jumper)
        # The context fixes the bank voltage, so the answer holds for every bus voltage the
        # solver tries in it: keep it (the context is held, so its identity is not reused).
        cached = self._remote_cache
        if cached is not None and cached[0] is ctx and cached[1] == self.remote_jumper:
            return cached[2]
        answer = remote_enabled(self.wiring, ctx, ctx.bank_voltage_v, jumper=self.remote_jumper)
        self._remote_cache = (ctx, self.remote_jumper, answer)
        return answer

    def prealarm_output_current_a(self, ctx: DeviceContext, bus_voltage_v: float) -> float:
        """Current drawn from the pre-alarm output (OUT-5); it is part of `current_a` too."""
        if self.wiring.control is not Control.PREALARM or ctx.prealarm is not Level.HIGH:
            return 0.0
        bank_v = bus_voltage_v if ctx.bank_voltage_v is None else ctx.bank_voltage_v
        return current_draw_a(self.wiring.remote_input_current_a, bank_v)

    # --- the solver's contract ------------------------------------------------------------------

    @abc.abstractmethod
    def current_a(self, ctx: DeviceContext, bus_voltage_v: float) -> float:
        """Current into the bus (positive charges the bank). Pure and continuous in the voltage."""

    @abc.abstractmethod
    def is_on(self, ctx: DeviceContext) -> bool:
        """Whether the device is operating right now (for the trace and the report)."""

    def advance(self, ctx: DeviceContext, bus_voltage_v: float, dt_s: float) -> None:
        """Live through `dt_s` at this operating point: energy counters, then timers and latches."""
        if dt_s < 0.0:
            msg = f"{self.name}: dt_s must be >= 0, got {dt_s}"
            raise ValueError(msg)
        energy_wh = self.current_a(ctx, bus_voltage_v) * bus_voltage_v * dt_s / 3600.0
        if energy_wh >= 0.0:
            self.energy_in_wh += energy_wh
        else:
            self.energy_out_wh -= energy_wh
        self._step(ctx, bus_voltage_v, dt_s)
        self.last_bus_voltage_v = bus_voltage_v

    def _step(self, ctx: DeviceContext, bus_voltage_v: float, dt_s: float) -> None:
        """Timers and latches over a step; the state before it set the step's currents."""
        del ctx, bus_voltage_v, dt_s  # a device without timers or latches has nothing to update

    def next_change_s(self, ctx: DeviceContext) -> float:
        """Earliest time an internal timer changes the device's behaviour by itself."""
        del ctx  # no timer of its own
        return math.inf

    @property
    def has_latches(self) -> bool:
        """Whether it has timers or latches of its own (a `_step` of its own class)."""
        return type(self)._step is not Device._step

    def discrete_state(self) -> tuple[object, ...]:
        """Its latches, counters, charge stage and which timers run (not their times).

        What a threshold crossing changes, so a stepper can tell that one happened in a step.
        Read off the attributes, so a device added later is covered without a list to keep.
        """
        state: list[object] = []
        for name, value in vars(self).items():
            if name.endswith("_since_s"):
                state.append(value is None)
            elif isinstance(value, ChargeAlgorithm):
                state.append(value.stage)
            elif isinstance(value, bool | int | enum.Enum):
                state.append(value)
        return tuple(state)

    def pending_state(self, ctx: DeviceContext, bus_voltage_v: float) -> tuple[object, ...]:
        """`discrete_state` once the device has seen this operating point (on a copy).

        A device judges each step by the voltage at its start, so a crossing inside a step
        shows only here, not yet in its own state.
        """
        probe = object.__new__(type(self))
        probe.__dict__.update(vars(self))
        for name, value in vars(self).items():
            if isinstance(value, ChargeAlgorithm):
                setattr(probe, name, copy.copy(value))
        probe._step(ctx, bus_voltage_v, 0.0)  # the same class, on a copy
        return probe.discrete_state()

    def set(self, **values: float | bool) -> None:
        """Timeline changes, e.g. `set(power_w=500)` or `set(on=False)`; all or nothing."""
        allowed = self.SETTABLE
        unknown = sorted(values.keys() - allowed.keys())
        if unknown:
            msg = (
                f"{self.name}: cannot set {', '.join(unknown)}; "
                f"allowed: {', '.join(sorted(allowed))}"
            )
            raise ValueError(msg)
        checked: dict[str, float | bool] = {}
        for key, value in values.items():
            attr = allowed[key]
            if isinstance(getattr(self, attr), bool):
                if not isinstance(value, bool):
                    msg = f"{self.name}: {key} must be true or false, got {value!r}"
                    raise ValueError(msg)
                checked[attr] = value
            else:
                checked[attr] = _finite(self.name, key, value)
        for attr, value in checked.items():
            setattr(self, attr, value)

    # --- design checks --------------------------------------------------------------------------

    def design_warnings(self) -> list[str]:
        """What an installer should fix: wrong cable, fitted jumper, overloaded output, ..."""
        warnings = wiring_warnings(self.name, self.wiring, jumper=self.remote_jumper)
        if self.connection is not Connection.BANK or self.remote_jumper:
            return warnings
        control = self.wiring.control
        if self.ROLE in (Role.LOAD, Role.BOTH) and control not in (
            Control.LOAD_DISCONNECT,
            Control.BOTH,
        ):
            warnings.append(
                f"{self.name}: on the bank but not switched by Load disconnect: it keeps "
                "discharging the bank after a low-cell shutdown"
            )
        if self.ROLE in (Role.CHARGER, Role.BOTH) and control not in (
            Control.CHARGE_DISCONNECT,
            Control.BOTH,
        ):
            warnings.append(
                f"{self.name}: on the bank but not switched by Charge disconnect: it keeps "
                "charging at cell over-voltage or over-temperature"
            )
        return warnings

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r}, connection={self.connection.value})"


def _wiring(
    control: Control,
    cable: Cable,
    remote_input: RemoteInput,
    remote_input_current_a: float | None,
) -> Wiring:
    """A Wiring whose input current defaults by the kind of input."""
    if remote_input_current_a is None:
        remote_input_current_a = (
            RELAY_COIL_CURRENT_A
            if remote_input is RemoteInput.RELAY_COIL
            else REMOTE_INPUT_CURRENT_A
        )
    return Wiring(
        control=control,
        cable=cable,
        remote_input=remote_input,
        remote_input_current_a=remote_input_current_a,
    )


class DcLoad(Device):
    """A DC load: constant power plus constant current; an Orion Tr is one with a remote."""

    TYPE_NAME = "dc-load"
    ROLE = Role.LOAD
    SETTABLE: ClassVar[Mapping[str, str]] = {
        "power_w": "power_w",
        "current_a": "constant_current_a",
        "on": "on",
        "remote_jumper": "remote_jumper",
    }

    def __init__(
        self,
        *,
        name: str = "dc-load",
        connection: Connection = Connection.SYSTEM_PLUS,
        power_w: float = 0.0,
        current_a: float = 0.0,
        on: bool = True,
        control: Control = Control.NONE,
        cable: Cable = Cable.DIRECT,
        remote_input: RemoteInput = RemoteInput.HIGH_ACTIVE,
        remote_jumper: bool = False,
        remote_input_current_a: float | None = None,
    ) -> None:
        super().__init__(
            name=name,
            connection=connection,
            wiring=_wiring(control, cable, remote_input, remote_input_current_a),
            remote_jumper=remote_jumper,
            on=on,
        )
        self.power_w = _finite(name, "power_w", power_w)
        self.constant_current_a = _finite(name, "current_a", current_a)

    def current_a(self, ctx: DeviceContext, bus_voltage_v: float) -> float:
        """-(P/V + I) while on and allowed."""
        if not (self.on and self.remote(ctx, bus_voltage_v)[0]):
            return 0.0
        return -(
            power_draw_a(self.power_w, bus_voltage_v)
            + current_draw_a(self.constant_current_a, bus_voltage_v)
        ) - self.prealarm_output_current_a(ctx, bus_voltage_v)

    def is_on(self, ctx: DeviceContext) -> bool:
        """Switched on and allowed by its remote."""
        return self.on and self.remote(ctx, self.last_bus_voltage_v)[0]


class Inverter(Device):
    """A DC-to-AC inverter: Phoenix (HIGH-active H) or VE.Bus >= 1200 VA (LOW-active).

    DC power = AC load / efficiency + idle power while it runs. It has its own low-battery
    latch: off below `low_voltage_cutoff_v`, on again only at `restart_voltage_v`.
    """

    TYPE_NAME = "inverter"
    ROLE = Role.LOAD
    SETTABLE: ClassVar[Mapping[str, str]] = {
        "ac_load_w": "ac_load_w",
        "on": "on",
        "remote_jumper": "remote_jumper",
    }

    def __init__(
        self,
        *,
        name: str = "inverter",
        connection: Connection = Connection.SYSTEM_PLUS,
        ac_load_w: float = 0.0,
        efficiency_pct: float = INVERTER_EFFICIENCY_PCT,
        idle_w: float = INVERTER_IDLE_W,
        low_voltage_cutoff_v: float = INVERTER_LOW_VOLTAGE_CUTOFF_V,
        restart_voltage_v: float = INVERTER_RESTART_V,
        on: bool = True,
        control: Control = Control.NONE,
        cable: Cable = Cable.DIRECT,
        remote_input: RemoteInput = RemoteInput.HIGH_ACTIVE,
        remote_jumper: bool = False,
        remote_input_current_a: float | None = None,
    ) -> None:
        super().__init__(
            name=name,
            connection=connection,
            wiring=_wiring(control, cable, remote_input, remote_input_current_a),
            remote_jumper=remote_jumper,
            on=on,
        )
        if not 0.0 < efficiency_pct <= 100.0:
            msg = f"{name}: efficiency_pct must be in (0, 100], got {efficiency_pct!r}"
            raise ValueError(msg)
        if not 0.0 < low_voltage_cutoff_v < restart_voltage_v:
            msg = f"{name}: need 0 < low_voltage_cutoff_v < restart_voltage_v"
            raise ValueError(msg)
        self.ac_load_w = _finite(name, "ac_load_w", ac_load_w)
        self.efficiency_pct = float(efficiency_pct)
        self.idle_w = _finite(name, "idle_w", idle_w)
        self.low_voltage_cutoff_v = float(low_voltage_cutoff_v)
        self.restart_voltage_v = float(restart_voltage_v)
        self.low_battery = False
        """Its own low-battery shutdown latch."""

    @property
    def dc_power_w(self) -> float:
        """DC input power while inverting."""
        return self.ac_load_w * 100.0 / self.efficiency_pct + self.idle_w

    def _inverting(self, ctx: DeviceContext, remote: tuple[bool, bool]) -> bool:
        del ctx  # an inverter without a charger ignores shore power
        return self.on and remote[0] and not self.low_battery

    def current_a(self, ctx: DeviceContext, bus_voltage_v: float) -> float:
        """-(AC load / efficiency + idle) / V while inverting."""
        if not self._inverting(ctx, self.remote(ctx, bus_voltage_v)):
            return 0.0
        return -power_draw_a(self.dc_power_w, bus_voltage_v) - self.prealarm_output_current_a(
            ctx, bus_voltage_v
        )

    def is_on(self, ctx: DeviceContext) -> bool:
        """Inverting now."""
        return self._inverting(ctx, self.remote(ctx, self.last_bus_voltage_v))

    def _step(self, ctx: DeviceContext, bus_voltage_v: float, dt_s: float) -> None:
        del dt_s  # the latch acts at once, no delay
        if self.low_battery:
            if bus_voltage_v >= self.restart_voltage_v:
                self.low_battery = False
        elif bus_voltage_v < self.low_voltage_cutoff_v and self._inverting(
            ctx, self.remote(ctx, bus_voltage_v)
        ):
            self.low_battery = True


class InverterCharger(Inverter):
    """A MultiPlus: with shore power it passes the AC load through and charges; else it inverts.

    On System+ (manual Fig. 1, 2) the BMS controls it through the port, so it has no remote.
    On the bank, a MultiPlus 500-1600 VA takes the MultiPlus cable (on only while both outputs
    are HIGH); a MultiPlus-II takes two inverting cables, Load disconnect stopping its inverter
    and Charge disconnect its charger (manual App. A §6).
    """

    TYPE_NAME = "inverter-charger"
    ROLE = Role.BOTH
    TWO_INPUTS = True
    SETTABLE: ClassVar[Mapping[str, str]] = {
        "ac_load_w": "ac_load_w",
        "charge_current_a": "charge_current_a",
        "on": "on",
        "remote_jumper": "remote_jumper",
    }

    def __init__(
        self,
        *,
        name: str = "inverter-charger",
        connection: Connection = Connection.SYSTEM_PLUS,
        ac_load_w: float = 0.0,
        charge_current_a: float = MULTIPLUS_CHARGE_CURRENT_A,
        absorption_voltage_v: float = ABSORPTION_V,
        float_voltage_v: float = FLOAT_V,
        absorption_time_h: float = ABSORPTION_TIME_H,
        cv_resistance_ohm: float = CV_RESISTANCE_OHM,
        efficiency_pct: float = INVERTER_EFFICIENCY_PCT,
        idle_w: float = INVERTER_IDLE_W,
        low_voltage_cutoff_v: float = INVERTER_LOW_VOLTAGE_CUTOFF_V,
        restart_voltage_v: float = INVERTER_RESTART_V,
        on: bool = True,
        control: Control = Control.NONE,
        cable: Cable = Cable.DIRECT,
        remote_input: RemoteInput = RemoteInput.HIGH_ACTIVE,
        remote_jumper: bool = False,
        remote_input_current_a: float | None = None,
    ) -> None:
        if connection is Connection.SYSTEM_PLUS and control is not Control.NONE:
            msg = (
                f"{name}: an inverter/charger on System+ is controlled by the BMS through the "
                "port; wire it to the bank to use the outputs (manual App. A §6)"
            )
            raise ValueError(msg)
        super().__init__(
            name=name,
            connection=connection,
            ac_load_w=ac_load_w,
            efficiency_pct=efficiency_pct,
            idle_w=idle_w,
            low_voltage_cutoff_v=low_voltage_cutoff_v,
            restart_voltage_v=restart_voltage_v,
            on=on,
            control=control,
            cable=cable,
            remote_input=remote_input,
            remote_jumper=remote_jumper,
            remote_input_current_a=remote_input_current_a,
        )
        self.charge_current_a = _finite(name, "charge_current_a", charge_current_a)
        self.charging = ChargeAlgorithm(
            absorption_voltage_v=absorption_voltage_v,
            float_voltage_v=float_voltage_v,
            absorption_time_h=absorption_time_h,
            cv_resistance_ohm=cv_resistance_ohm,
        )

    def _inverting(self, ctx: DeviceContext, remote: tuple[bool, bool]) -> bool:
        return not ctx.shore_power and self.on and remote[0] and not self.low_battery

    def _charging(self, ctx: DeviceContext, remote: tuple[bool, bool]) -> bool:
        return ctx.shore_power and self.on and remote[1]

    def current_a(self, ctx: DeviceContext, bus_voltage_v: float) -> float:
        """Charge current on shore power (the AC load passes through), else the inverter's."""
        remote = self.remote(ctx, bus_voltage_v)
        prealarm_a = self.prealarm_output_current_a(ctx, bus_voltage_v)
        if self._charging(ctx, remote):
            return self.charging.current_a(bus_voltage_v, self.charge_current_a) - prealarm_a
        if self._inverting(ctx, remote):
            return -power_draw_a(self.dc_power_w, bus_voltage_v) - prealarm_a
        return 0.0

    def is_on(self, ctx: DeviceContext) -> bool:
        """Inverting, charging, or passing shore power through."""
        remote = self.remote(ctx, self.last_bus_voltage_v)
        if ctx.shore_power:
            return self.on and (remote[0] or remote[1])
        return self._inverting(ctx, remote)

    def _step(self, ctx: DeviceContext, bus_voltage_v: float, dt_s: float) -> None:
        super()._step(ctx, bus_voltage_v, dt_s)
        self.charging.step(
            active=self._charging(ctx, self.remote(ctx, bus_voltage_v)),
            bus_voltage_v=bus_voltage_v,
            limit_a=self.charge_current_a,
            dt_s=dt_s,
        )

    def next_change_s(self, ctx: DeviceContext) -> float:
        """End of absorption while charging."""
        active = self._charging(ctx, self.remote(ctx, self.last_bus_voltage_v))
        return self.charging.next_change_s(ctx.now_s, active=active)


class Charger(Device):
    """A mains charger (generic, or a Phoenix Smart IP43 with a HIGH-active H terminal)."""

    TYPE_NAME = "charger"
    ROLE = Role.CHARGER
    SETTABLE: ClassVar[Mapping[str, str]] = {
        "charge_current_a": "charge_current_a",
        "on": "on",
        "remote_jumper": "remote_jumper",
    }

    def __init__(
        self,
        *,
        name: str = "charger",
        connection: Connection = Connection.SYSTEM_PLUS,
        charge_current_a: float = CHARGER_CURRENT_A,
        absorption_voltage_v: float = ABSORPTION_V,
        float_voltage_v: float = FLOAT_V,
        absorption_time_h: float = ABSORPTION_TIME_H,
        cv_resistance_ohm: float = CV_RESISTANCE_OHM,
        on: bool = True,
        control: Control = Control.NONE,
        cable: Cable = Cable.DIRECT,
        remote_input: RemoteInput = RemoteInput.HIGH_ACTIVE,
        remote_jumper: bool = False,
        remote_input_current_a: float | None = None,
    ) -> None:
        super().__init__(
            name=name,
            connection=connection,
            wiring=_wiring(control, cable, remote_input, remote_input_current_a),
            remote_jumper=remote_jumper,
            on=on,
        )
        self.charge_current_a = _finite(name, "charge_current_a", charge_current_a)
        self.charging = ChargeAlgorithm(
            absorption_voltage_v=absorption_voltage_v,
            float_voltage_v=float_voltage_v,
            absorption_time_h=absorption_time_h,
            cv_resistance_ohm=cv_resistance_ohm,
        )

    def _active(self, ctx: DeviceContext, bus_voltage_v: float) -> bool:
        return ctx.shore_power and self.on and self.remote(ctx, bus_voltage_v)[1]

    def current_a(self, ctx: DeviceContext, bus_voltage_v: float) -> float:
        """CV-limited charge current while it has shore power and its remote allows it."""
        if not self._active(ctx, bus_voltage_v):
            return 0.0
        return self.charging.current_a(
            bus_voltage_v, self.charge_current_a
        ) - self.prealarm_output_current_a(ctx, bus_voltage_v)

    def is_on(self, ctx: DeviceContext) -> bool:
        """Charging (or ready to) now."""
        return self._active(ctx, self.last_bus_voltage_v)

    def _step(self, ctx: DeviceContext, bus_voltage_v: float, dt_s: float) -> None:
        self.charging.step(
            active=self._active(ctx, bus_voltage_v),
            bus_voltage_v=bus_voltage_v,
            limit_a=self.charge_current_a,
            dt_s=dt_s,
        )

    def next_change_s(self, ctx: DeviceContext) -> float:
        """End of absorption while charging."""
        active = self._active(ctx, self.last_bus_voltage_v)
        return self.charging.next_change_s(ctx.now_s, active=active)


_MPPT_RATING = re.compile(r"(\d+)\s*/\s*(\d+)")
_MPPT_DIRECT_CAN = frozenset({(150, 70), (150, 80)})
"""manual App. A §3: the BlueSolar CAN-bus models with a remote terminal."""


def mppt_rating(model: str) -> tuple[int, int]:
    """(max PV volts, max charge amps) from a model name such as 'SmartSolar MPPT 75/15'."""
    match = _MPPT_RATING.search(model)
    if match is None:
        msg = f"cannot read the rating of MPPT model {model!r}: expected e.g. {MPPT_MODEL!r}"
        raise ValueError(msg)
    return int(match.group(1)), int(match.group(2))


def mppt_remote_input(model: str) -> RemoteInput:
    """Manual App. A §3, §4: which MPPTs take Charge disconnect directly, which need VE.Direct."""
    volts, amps = mppt_rating(model)
    lower = model.lower()
    if "bluesolar" in lower:
        can = re.search(r"\bcan", lower) is not None
        direct = can and (volts, amps) in _MPPT_DIRECT_CAN
    else:
        direct = (volts >= 150 and amps >= 45) or (volts >= 250 and amps >= 60)
    return RemoteInput.HIGH_ACTIVE if direct else RemoteInput.VEDIRECT


class SolarCharger(Device):
    """An MPPT solar charger: PV power through the tracker, then the charge stages.

    Its remote input follows the model (manual App. A §3/§4): SmartSolar up to 150/35 and most
    BlueSolars have only VE.Direct (the ASS030550320 cable); the big ones a HIGH-active terminal.
    """

    TYPE_NAME = "solar-charger"
    ROLE = Role.CHARGER
    SETTABLE: ClassVar[Mapping[str, str]] = {
        "pv_peak_w": "pv_peak_w",
        "max_current_a": "max_current_a",
        "on": "on",
        "remote_jumper": "remote_jumper",
    }

    def __init__(
        self,
        *,
        name: str = "solar-charger",
        connection: Connection = Connection.BANK,
        model: str = MPPT_MODEL,
        pv_peak_w: float = MPPT_PV_PEAK_W,
        max_current_a: float | None = None,
        efficiency_pct: float = MPPT_EFFICIENCY_PCT,
        absorption_voltage_v: float = ABSORPTION_V,
        float_voltage_v: float = FLOAT_V,
        absorption_time_h: float = ABSORPTION_TIME_H,
        cv_resistance_ohm: float = CV_RESISTANCE_OHM,
        on: bool = True,
        control: Control = Control.CHARGE_DISCONNECT,
        cable: Cable | None = None,
        remote_input: RemoteInput | None = None,
        remote_jumper: bool = False,
        remote_input_current_a: float | None = None,
    ) -> None:
        if remote_input is None:
            remote_input = mppt_remote_input(model)
        if cable is None:
            cable = (
                Cable.VEDIRECT_NON_INVERTING
                if remote_input is RemoteInput.VEDIRECT
                else Cable.DIRECT
            )
        super().__init__(
            name=name,
            connection=connection,
            wiring=_wiring(control, cable, remote_input, remote_input_current_a),
            remote_jumper=remote_jumper,
            on=on,
        )
        if not 0.0 < efficiency_pct <= 100.0:
            msg = f"{name}: efficiency_pct must be in (0, 100], got {efficiency_pct!r}"
            raise ValueError(msg)
        self.model = model
        self.pv_peak_w = _finite(name, "pv_peak_w", pv_peak_w)
        if max_current_a is None:
            max_current_a = float(mppt_rating(model)[1])
        self.max_current_a = _finite(name, "max_current_a", max_current_a)
        self.efficiency_pct = float(efficiency_pct)
        self.charging = ChargeAlgorithm(
            absorption_voltage_v=absorption_voltage_v,
            float_voltage_v=float_voltage_v,
            absorption_time_h=absorption_time_h,
            cv_resistance_ohm=cv_resistance_ohm,
        )

    def pv_power_w(self, ctx: DeviceContext) -> float:
        """Power out of the tracker: peak x irradiance x efficiency."""
        fraction = min(max(ctx.solar_fraction, 0.0), 1.0)
        return self.pv_peak_w * fraction * self.efficiency_pct / 100.0

    def _limit_a(self, ctx: DeviceContext, bus_voltage_v: float) -> float:
        return min(self.pv_power_w(ctx) / max(bus_voltage_v, MIN_BUS_V), self.max_current_a)

    def _active(self, ctx: DeviceContext, bus_voltage_v: float) -> bool:
        return self.on and self.pv_power_w(ctx) > 0.0 and self.remote(ctx, bus_voltage_v)[1]

    def current_a(self, ctx: DeviceContext, bus_voltage_v: float) -> float:
        """min(P / V, max current, CV limit) while the sun shines and the remote allows it."""
        if not self._active(ctx, bus_voltage_v):
            return 0.0
        return self.charging.current_a(
            bus_voltage_v, self._limit_a(ctx, bus_voltage_v)
        ) - self.prealarm_output_current_a(ctx, bus_voltage_v)

    def is_on(self, ctx: DeviceContext) -> bool:
        """Harvesting now."""
        return self._active(ctx, self.last_bus_voltage_v)

    def _step(self, ctx: DeviceContext, bus_voltage_v: float, dt_s: float) -> None:
        self.charging.step(
            active=self._active(ctx, bus_voltage_v),
            bus_voltage_v=bus_voltage_v,
            limit_a=self._limit_a(ctx, bus_voltage_v),
            dt_s=dt_s,
        )

    def next_change_s(self, ctx: DeviceContext) -> float:
        """End of absorption while harvesting."""
        active = self._active(ctx, self.last_bus_voltage_v)
        return self.charging.next_change_s(ctx.now_s, active=active)


class BatteryProtect(Device):
    """A (Smart) BatteryProtect in front of DC loads `load_w`.

    It conducts while its remote says on (1 s after the remote closes; at once off when it
    opens) and its own under-voltage protection has not tripped: below `disconnect_voltage_v`
    for 90 s it disengages, at `reconnect_voltage_v` for 30 s it re-engages. In Li-ion mode
    (for a BMS) the voltage thresholds are off; after the remote floats it stays off 30 s, and
    the third disengage/re-engage request locks it out (E7) until the input has been above
    13.0 V for 30 s.
    """

    TYPE_NAME = "battery-protect"
    ROLE = Role.LOAD
    SETTABLE: ClassVar[Mapping[str, str]] = {
        "load_w": "load_w",
        "on": "on",
        "remote_jumper": "remote_jumper",
    }

    def __init__(
        self,
        *,
        name: str = "battery-protect",
        connection: Connection = Connection.BANK,
        load_w: float = 0.0,
        disconnect_voltage_v: float = BP_DISCONNECT_V,
        reconnect_voltage_v: float = BP_RECONNECT_V,
        engage_delay_s: float = BP_ENGAGE_DELAY_S,
        disconnect_delay_s: float = BP_DISCONNECT_DELAY_S,
        reconnect_delay_s: float = BP_RECONNECT_DELAY_S,
        li_ion_mode: bool = False,
        on: bool = True,
        control: Control = Control.LOAD_DISCONNECT,
        cable: Cable = Cable.DIRECT,
        remote_input: RemoteInput = RemoteInput.HIGH_ACTIVE,
        remote_jumper: bool = False,
        remote_input_current_a: float | None = None,
    ) -> None:
        super().__init__(
            name=name,
            connection=connection,
            wiring=_wiring(control, cable, remote_input, remote_input_current_a),
            remote_jumper=remote_jumper,
            on=on,
        )
        if not 0.0 < disconnect_voltage_v < reconnect_voltage_v:
            msg = f"{name}: need 0 < disconnect_voltage_v < reconnect_voltage_v"
            raise ValueError(msg)
        self.load_w = _finite(name, "load_w", load_w)
        self.disconnect_voltage_v = float(disconnect_voltage_v)
        self.reconnect_voltage_v = float(reconnect_voltage_v)
        self.engage_delay_s = _finite(name, "engage_delay_s", engage_delay_s)
        self.disconnect_delay_s = _finite(name, "disconnect_delay_s", disconnect_delay_s)
        self.reconnect_delay_s = _finite(name, "reconnect_delay_s", reconnect_delay_s)
        self.li_ion_mode = li_ion_mode
        self.engaged = True
        """The remote side has let it conduct (it starts as an installed, running unit)."""
        self.under_voltage = False
        """Its own under-voltage protection has tripped (E3)."""
        self.locked_out = False
        """E7 BMS lockout (Li-ion mode)."""
        self.attempts = 0
        """Re-engage requests since the bank was last seen recharged (Li-ion mode)."""
        self._remote_was_on = True
        self._remote_on_since_s: float | None = None
        self._dead_until_s = -math.inf
        self._below_since_s: float | None = None
        self._above_since_s: float | None = None
        self._recharged_since_s: float | None = None

    def _conducting(self, remote_on: bool) -> bool:
        return (
            self.on
            and remote_on
            and self.engaged
            and not self.under_voltage
            and not self.locked_out
        )

    def current_a(self, ctx: DeviceContext, bus_voltage_v: float) -> float:
        """Its loads while it conducts, plus its own consumption."""
        own_a = current_draw_a(BP_OFF_A, bus_voltage_v)
        if self._conducting(self.remote(ctx, bus_voltage_v)[0]):
            own_a = current_draw_a(BP_ON_A, bus_voltage_v) + power_draw_a(
                self.load_w, bus_voltage_v
            )
        return -own_a - self.prealarm_output_current_a(ctx, bus_voltage_v)

    def is_on(self, ctx: DeviceContext) -> bool:
        """Conducting to its loads now."""
        return self._conducting(self.remote(ctx, self.last_bus_voltage_v)[0])

    def _step(self, ctx: DeviceContext, bus_voltage_v: float, dt_s: float) -> None:
        now_s, end_s = ctx.now_s, ctx.now_s + dt_s + TIME_SLACK_S
        remote_on = self.remote(ctx, bus_voltage_v)[0]
        # the remote side: engage delay, Li-ion dead time, E7 attempts
        if not remote_on:
            if self._remote_was_on:
                self._dead_until_s = now_s + BP_LI_ION_DEAD_S
            self.engaged = False
            self._remote_on_since_s = None
        else:
            if not self._remote_was_on and self.li_ion_mode:
                self.attempts += 1
                if self.attempts >= BP_LOCKOUT_ATTEMPTS:
                    self.locked_out = True
            if not self.engaged:
                if self._remote_on_since_s is None:
                    self._remote_on_since_s = now_s
                if end_s >= self._engage_at_s(now_s):
                    self.engaged = True
                    self._remote_on_since_s = None
        self._remote_was_on = remote_on
        # its own input monitor
        if self.li_ion_mode:
            self.under_voltage = False
            self._below_since_s = self._above_since_s = None
        elif not self.under_voltage:
            self._above_since_s = None
            if bus_voltage_v < self.disconnect_voltage_v:
                if self._below_since_s is None:
                    self._below_since_s = now_s
                if end_s >= self._below_since_s + self.disconnect_delay_s:
                    self.under_voltage = True
                    self._below_since_s = None
            else:
                self._below_since_s = None
        else:
            self._below_since_s = None
            if bus_voltage_v >= self.reconnect_voltage_v:
                if self._above_since_s is None:
                    self._above_since_s = now_s
                if end_s >= self._above_since_s + self.reconnect_delay_s:
                    self.under_voltage = False
                    self._above_since_s = None
            else:
                self._above_since_s = None
        # a recharged bank clears the E7 count and lockout
        if bus_voltage_v > BP_LOCKOUT_RELEASE_V and (self.attempts or self.locked_out):
            if self._recharged_since_s is None:
                self._recharged_since_s = now_s
            if end_s >= self._recharged_since_s + BP_LOCKOUT_RELEASE_S:
                self.attempts = 0
                self.locked_out = False
                self._recharged_since_s = None
        else:
            self._recharged_since_s = None

    def _engage_at_s(self, now_s: float) -> float:
        since = now_s if self._remote_on_since_s is None else self._remote_on_since_s
        at = since + self.engage_delay_s
        return max(at, self._dead_until_s) if self.li_ion_mode else at

    def next_change_s(self, ctx: DeviceContext) -> float:
        """Engage delay, Li-ion dead time, under-voltage delays, E7 release."""
        deadlines = [math.inf]
        remote_on = self.remote(ctx, self.last_bus_voltage_v)[0]
        if remote_on and not self.engaged and not self.locked_out:
            deadlines.append(self._engage_at_s(ctx.now_s))
        if self._below_since_s is not None:
            deadlines.append(self._below_since_s + self.disconnect_delay_s)
        if self._above_since_s is not None:
            deadlines.append(self._above_since_s + self.reconnect_delay_s)
        if self._recharged_since_s is not None:
            deadlines.append(self._recharged_since_s + BP_LOCKOUT_RELEASE_S)
        return min(deadlines)

    @property
    def error_code(self) -> str | None:
        """What its display shows: E7 (BMS lockout), E3 (under-voltage) or nothing."""
        if self.locked_out:
            return "E7"
        if self.under_voltage:
            return "E3"
        return None


class CyrixLiLoad(Device):
    """A Cyrix-Li-Load in front of DC loads `load_w`: closed while its control input is HIGH."""

    TYPE_NAME = "cyrix-li-load"
    ROLE = Role.LOAD
    SETTABLE: ClassVar[Mapping[str, str]] = {
        "load_w": "load_w",
        "on": "on",
        "remote_jumper": "remote_jumper",
    }

    def __init__(
        self,
        *,
        name: str = "cyrix-li-load",
        connection: Connection = Connection.BANK,
        load_w: float = 0.0,
        on: bool = True,
        control: Control = Control.LOAD_DISCONNECT,
        cable: Cable = Cable.DIRECT,
        remote_input: RemoteInput = RemoteInput.HIGH_ACTIVE,
        remote_jumper: bool = False,
        remote_input_current_a: float | None = None,
    ) -> None:
        super().__init__(
            name=name,
            connection=connection,
            wiring=_wiring(control, cable, remote_input, remote_input_current_a),
            remote_jumper=remote_jumper,
            on=on,
        )
        self.load_w = _finite(name, "load_w", load_w)

    def current_a(self, ctx: DeviceContext, bus_voltage_v: float) -> float:
        """Its loads while closed."""
        if not (self.on and self.remote(ctx, bus_voltage_v)[0]):
            return 0.0
        return -power_draw_a(self.load_w, bus_voltage_v) - self.prealarm_output_current_a(
            ctx, bus_voltage_v
        )

    def is_on(self, ctx: DeviceContext) -> bool:
        """Closed now."""
        return self.on and self.remote(ctx, self.last_bus_voltage_v)[0]


CHARGE_SOURCES: Final = ("shore", "always")
"""When the charger behind a Cyrix-Li-Charge gives voltage: with shore power, or always."""


class CyrixLiCharge(Device):
    """A Cyrix-Li-Charge between a charger and the bank.

    It engages `engage_delay_s` after its control input is HIGH *and* charge voltage is present
    on its charger side, and opens at once when either goes. Behind it, a charger of
    `charge_current_a` with the usual charge stages.
    """

    TYPE_NAME = "cyrix-li-charge"
    ROLE = Role.CHARGER
    SETTABLE: ClassVar[Mapping[str, str]] = {
        "charge_current_a": "charge_current_a",
        "on": "on",
        "remote_jumper": "remote_jumper",
    }

    def __init__(
        self,
        *,
        name: str = "cyrix-li-charge",
        connection: Connection = Connection.BANK,
        charge_current_a: float = CYRIX_CHARGE_CURRENT_A,
        source: str = "shore",
        engage_delay_s: float = CYRIX_ENGAGE_DELAY_S,
        absorption_voltage_v: float = ABSORPTION_V,
        float_voltage_v: float = FLOAT_V,
        absorption_time_h: float = ABSORPTION_TIME_H,
        cv_resistance_ohm: float = CV_RESISTANCE_OHM,
        on: bool = True,
        control: Control = Control.CHARGE_DISCONNECT,
        cable: Cable = Cable.DIRECT,
        remote_input: RemoteInput = RemoteInput.HIGH_ACTIVE,
        remote_jumper: bool = False,
        remote_input_current_a: float | None = None,
    ) -> None:
        super().__init__(
            name=name,
            connection=connection,
            wiring=_wiring(control, cable, remote_input, remote_input_current_a),
            remote_jumper=remote_jumper,
            on=on,
        )
        if source not in CHARGE_SOURCES:
            msg = f"{name}: source must be one of {', '.join(CHARGE_SOURCES)}, got {source!r}"
            raise ValueError(msg)
        self.source = source
        self.charge_current_a = _finite(name, "charge_current_a", charge_current_a)
        self.engage_delay_s = _finite(name, "engage_delay_s", engage_delay_s)
        self.charging = ChargeAlgorithm(
            absorption_voltage_v=absorption_voltage_v,
            float_voltage_v=float_voltage_v,
            absorption_time_h=absorption_time_h,
            cv_resistance_ohm=cv_resistance_ohm,
        )
        self.engaged = False
        self._ready_since_s: float | None = None

    def _ready(self, ctx: DeviceContext, bus_voltage_v: float) -> bool:
        """Control HIGH and charge voltage present."""
        charge_voltage = self.source == "always" or ctx.shore_power
        return self.on and charge_voltage and self.remote(ctx, bus_voltage_v)[1]

    def current_a(self, ctx: DeviceContext, bus_voltage_v: float) -> float:
        """The charger's current while engaged."""
        if not (self.engaged and self._ready(ctx, bus_voltage_v)):
            return 0.0
        return self.charging.current_a(
            bus_voltage_v, self.charge_current_a
        ) - self.prealarm_output_current_a(ctx, bus_voltage_v)

    def is_on(self, ctx: DeviceContext) -> bool:
        """Engaged now."""
        return self.engaged and self._ready(ctx, self.last_bus_voltage_v)

    def _step(self, ctx: DeviceContext, bus_voltage_v: float, dt_s: float) -> None:
        ready = self._ready(ctx, bus_voltage_v)
        if not ready:
            self.engaged = False
            self._ready_since_s = None
        self.charging.step(
            active=ready and self.engaged,
            bus_voltage_v=bus_voltage_v,
            limit_a=self.charge_current_a,
            dt_s=dt_s,
        )
        if ready and not self.engaged:
            if self._ready_since_s is None:
                self._ready_since_s = ctx.now_s
            if ctx.now_s + dt_s + TIME_SLACK_S >= self._ready_since_s + self.engage_delay_s:
                self.engaged = True
                self._ready_since_s = None

    def next_change_s(self, ctx: DeviceContext) -> float:
        """The end of the engage delay, or of absorption while engaged."""
        if not self._ready(ctx, self.last_bus_voltage_v):
            return math.inf
        if not self.engaged:
            since = ctx.now_s if self._ready_since_s is None else self._ready_since_s
            return since + self.engage_delay_s
        return self.charging.next_change_s(ctx.now_s, active=True)


class ResidualLoad(Device):
    """A standby current on the bank that no output controls (PLT-10): it outlives a shutdown."""

    TYPE_NAME = "residual-load"
    ROLE = Role.PASSIVE
    SETTABLE: ClassVar[Mapping[str, str]] = {"current_a": "constant_current_a", "on": "on"}

    def __init__(
        self, *, name: str = "residual-load", current_a: float = RESIDUAL_CURRENT_A, on: bool = True
    ) -> None:
        super().__init__(
            name=name, connection=Connection.BANK, wiring=Wiring(), remote_jumper=False, on=on
        )
        self.constant_current_a = _finite(name, "current_a", current_a)

    def current_a(self, ctx: DeviceContext, bus_voltage_v: float) -> float:
        """-I, whatever the BMS outputs say."""
        del ctx  # no output reaches it
        return -current_draw_a(self.constant_current_a, bus_voltage_v) if self.on else 0.0

    def is_on(self, ctx: DeviceContext) -> bool:
        """Drawing now."""
        del ctx
        return self.on and self.constant_current_a > 0.0


ALARM_KINDS: Final = tuple(ALARM_CURRENT_A)
"""The alarm devices an output can power."""


class Alarm(Device):
    """A buzzer, LED or relay powered by a BMS output (normally the pre-alarm, OUT-5).

    On the pre-alarm output it draws its `current_a` from the bank while the output is HIGH (the
    system reads it as the output's current; above 1 A the output is damaged). On a Load/Charge
    disconnect output it is that output's load: 10 mA at most, so a relay coil there sags the
    output and never pulls in (OUT-1..3); the system counts that current as the BMS's draw.
    """

    TYPE_NAME = "alarm"
    ROLE = Role.PASSIVE
    SETTABLE: ClassVar[Mapping[str, str]] = {"current_a": "drawn_a", "on": "on"}

    def __init__(
        self,
        *,
        name: str = "alarm",
        kind: str = "buzzer",
        current_a: float | None = None,
        control: Control = Control.PREALARM,
        on: bool = True,
    ) -> None:
        if kind not in ALARM_CURRENT_A:
            msg = f"{name}: kind must be one of {', '.join(ALARM_KINDS)}, got {kind!r}"
            raise ValueError(msg)
        if control in (Control.NONE, Control.BOTH):
            msg = (
                f"{name}: an alarm is powered by one output: "
                "prealarm, load-disconnect or charge-disconnect"
            )
            raise ValueError(msg)
        drawn_a = ALARM_CURRENT_A[kind] if current_a is None else current_a
        super().__init__(
            name=name,
            connection=Connection.BANK,
            wiring=Wiring(
                control=control,
                remote_input=RemoteInput.RELAY_COIL if kind == "relay" else RemoteInput.HIGH_ACTIVE,
                remote_input_current_a=_finite(name, "current_a", drawn_a, positive=True),
            ),
            remote_jumper=False,
            on=on,
        )
        self.kind = kind
        self.drawn_a = self.wiring.remote_input_current_a

    @property
    def remote_input_current_a(self) -> float:
        """What it draws from its output at the high level."""
        return self.drawn_a if self.on else 0.0

    def _terminal_v(self, ctx: DeviceContext, bank_voltage_v: float) -> float:
        return output_voltage_v(self.wiring.control, ctx, bank_voltage_v, self.drawn_a)

    def prealarm_output_current_a(self, ctx: DeviceContext, bus_voltage_v: float) -> float:
        """Its current while the pre-alarm output is HIGH (OUT-5)."""
        if not self.on or self.wiring.control is not Control.PREALARM:
            return 0.0
        if ctx.prealarm is not Level.HIGH:
            return 0.0
        bank_v = bus_voltage_v if ctx.bank_voltage_v is None else ctx.bank_voltage_v
        return current_draw_a(self.drawn_a, bank_v)

    def current_a(self, ctx: DeviceContext, bus_voltage_v: float) -> float:
        """-I while the pre-alarm is HIGH; on a disconnect output the BMS's draw counts it."""
        return -self.prealarm_output_current_a(ctx, bus_voltage_v)

    def is_on(self, ctx: DeviceContext) -> bool:
        """Sounding, lit or pulled in: its output gives it at least 3 V."""
        bank_v = self.last_bus_voltage_v if ctx.bank_voltage_v is None else ctx.bank_voltage_v
        return self.on and self._terminal_v(ctx, bank_v) >= REMOTE_HIGH_MIN_V

    def design_warnings(self) -> list[str]:
        """Relay coil on a disconnect output (OUT-3), overload of any output (OUT-1/2/5)."""
        control = self.wiring.control
        out = control.label
        if control is Control.PREALARM:
            if self.drawn_a > c.PREALARM_MAX_A:
                return [
                    (
                        f"{self.name}: draws {self.drawn_a:g} A from the Pre-alarm output, which "
                        f"gives {c.PREALARM_MAX_A:g} A at most and is not short-circuit "
                        "protected: it will be damaged (manual §4)"
                    )
                ]
            return []
        warnings = _disconnect_output_warnings(self.name, out, self.drawn_a)
        if self.kind == "relay":
            warnings.append(_inductive_warning(self.name, out))
        return warnings


# --- the factory ----------------------------------------------------------------------------------

DEVICE_TYPES: Final[Mapping[str, type[Device]]] = {
    cls.TYPE_NAME: cls
    for cls in (
        DcLoad,
        Inverter,
        InverterCharger,
        Charger,
        SolarCharger,
        BatteryProtect,
        CyrixLiLoad,
        CyrixLiCharge,
        ResidualLoad,
        Alarm,
    )
}
"""Every device type by the name scenario files use."""

_ENUM_PARAMS: Final[Mapping[str, type[enum.Enum]]] = {
    "connection": Connection,
    "control": Control,
    "cable": Cable,
    "remote_input": RemoteInput,
}


def _enum_value(param: str, enum_type: type[enum.Enum], value: object) -> object:
    """An enum member from itself, its value or its name ('load-disconnect', 'LOAD_DISCONNECT')."""
    if isinstance(value, enum_type) or not isinstance(value, str):
        return value
    wanted = value.strip().lower().replace("_", "-")
    for member in enum_type:
        if wanted in (member.value, member.name.lower().replace("_", "-")):
            return member
    allowed = ", ".join(str(m.value) for m in enum_type)
    msg = f"{param} must be one of {allowed}, got {value!r}"
    raise ValueError(msg)


def make_device(kind: str, **params: object) -> Device:
    """Build a device by type name; enum parameters may be given as strings."""
    cls = DEVICE_TYPES.get(kind)
    if cls is None:
        msg = f"unknown device type {kind!r}; allowed: {', '.join(DEVICE_TYPES)}"
        raise ValueError(msg)
    allowed = [p for p in inspect.signature(cls).parameters if p != "self"]
    unknown = sorted(set(params) - set(allowed))
    if unknown:
        msg = f"{kind}: unknown parameter(s) {', '.join(unknown)}; allowed: {', '.join(allowed)}"
        raise ValueError(msg)
    coerced: dict[str, Any] = {
        key: _enum_value(key, _ENUM_PARAMS[key], value) if key in _ENUM_PARAMS else value
        for key, value in params.items()
    }
    return cls(**coerced)
