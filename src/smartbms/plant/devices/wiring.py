"""How a device's remote input is tied to the BMS, and the signal chain through it (manual App. A).

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
in `wiring_warnings`; a cable that does not fit at all (anything but ASS030550320 on a VE.Direct
port) is a configuration error at construction (`check_wiring`).
"""

import dataclasses
import enum
import math
from typing import Final

from smartbms.core import constants as c
from smartbms.core.power_stage import disconnect_output, prealarm_output
from smartbms.core.signals import Level
from smartbms.plant.devices.context import DeviceContext

NOMINAL_BANK_V: Final = 12.8
"""Lithium Battery 12,8V Smart nominal voltage: design checks judge the outputs at this level."""
REMOTE_HIGH_MIN_V: Final = c.REMOTE_H_HIGH_MIN_V
"""Victron remote H inputs read more than 3 V as high, like the BMS's own H input (manual §4)."""
REMOTE_INPUT_CURRENT_A: Final = 0.001
"""Chosen: a typical remote on/off input (opto-coupler or logic input with pull-down)."""
RELAY_COIL_CURRENT_A: Final = 0.15
"""Chosen: a 12 V automotive relay coil of about 80 ohm."""


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
        warnings.extend(disconnect_output_warnings(name, out, wiring.remote_input_current_a))
        if kind is RemoteInput.RELAY_COIL:
            warnings.append(inductive_warning(name, out))
    return warnings


def disconnect_output_warnings(name: str, out: str, input_current_a: float) -> list[str]:
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


def inductive_warning(name: str, out: str) -> str:
    """OUT-3: the disconnect outputs must not power a relay coil."""
    return (
        f"{name}: a relay coil on the {out} output: the output is not suitable to power an "
        "inductive load such as a relay coil (manual §2.2); use a Cyrix-Li-Load/-Charge or a "
        "BatteryProtect"
    )


def make_wiring(
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
