"""The BMS's power stage as pure functions: what current its ports let through.

The controller decides *whether* a port conducts and at what fuse-drop set point; these functions
say what that means electrically, so the simulator and the safety tests use the same physics:
the AB port is a one-way, current-limited switch that never pulls V_AB below `AB_HOLD_V` (ALT-1
to ALT-4), System+ an ideal diode
when only one direction is allowed (SP-6), and the Load/Charge disconnect outputs a 10 mA-limited
source at V_bank - 0.1 V (OUT-1, OUT-2).
"""

import math

from smartbms.core.constants import (
    ALT_ENGAGE_V,
    ALT_HOLD_MARGIN_V,
    OUTPUT_HIGH_DROP_V,
    OUTPUT_SOURCE_LIMIT_A,
)
from smartbms.core.fuses import FuseType
from smartbms.core.signals import Level

AB_HOLD_V = ALT_ENGAGE_V + ALT_HOLD_MARGIN_V
"""ALT-1: an engaged AB port backs its current off rather than pull V_AB below this."""


def ab_port_current_a(
    *,
    ab_voltage_v: float,
    bank_voltage_v: float,
    path_resistance_ohm: float,
    enabled: bool,
    fuse_drop_setpoint_v: float,
    installed_fuse: FuseType,
    source_at_hold_a: float = math.inf,
) -> float:
    """Current from AB into the bank: never negative, never above set point / R(installed fuse).

    `path_resistance_ohm` is everything between the AB source and the bank (wiring, fuse, the
    source's own resistance); it must be positive. `source_at_hold_a` is what the AB source can
    give with V_AB at `AB_HOLD_V` (ALT-1): the limiter never takes more, so a sagging source is
    held just above 13.0 V instead of being pulled below the gate.
    """
    if path_resistance_ohm <= 0:
        msg = f"path resistance must be positive, got {path_resistance_ohm}"
        raise ValueError(msg)
    if not enabled or installed_fuse is FuseType.NOT_SET:
        return 0.0
    unlimited = (ab_voltage_v - bank_voltage_v) / path_resistance_ohm
    limit = max(0.0, fuse_drop_setpoint_v) / installed_fuse.sense_resistance_ohm
    return min(max(unlimited, 0.0), limit, max(source_at_hold_a, 0.0))


def system_plus_current_a(
    *, unrestricted_current_a: float, charge_allowed: bool, discharge_allowed: bool
) -> float:
    """The System+ current after the port: an ideal diode in each allowed direction (SP-6).

    `unrestricted_current_a` is what would flow with the port fully closed (positive = into the
    bank); a forbidden direction carries exactly zero.
    """
    if unrestricted_current_a > 0:
        return unrestricted_current_a if charge_allowed else 0.0
    return unrestricted_current_a if discharge_allowed else 0.0


def disconnect_output(
    level: Level, bank_voltage_v: float, load_resistance_ohm: float
) -> tuple[float, float]:
    """Voltage at and current out of a Load/Charge disconnect output driving a resistive load.

    High: V_bank - 0.1 V, but the source is limited to 10 mA, so a heavier load sees the voltage
    sag (a short reads 0 V and 10 mA) and nothing breaks. Floating: no current (sink 0 A), and the
    load sees 0 V. `load_resistance_ohm` may be `math.inf` for an open terminal.
    """
    if level is Level.FLOATING or bank_voltage_v <= OUTPUT_HIGH_DROP_V:
        return 0.0, 0.0
    open_circuit_v = bank_voltage_v - OUTPUT_HIGH_DROP_V
    if math.isinf(load_resistance_ohm):
        return open_circuit_v, 0.0
    if load_resistance_ohm <= 0:
        return 0.0, OUTPUT_SOURCE_LIMIT_A
    current_a = open_circuit_v / load_resistance_ohm
    if current_a <= OUTPUT_SOURCE_LIMIT_A:
        return open_circuit_v, current_a
    return OUTPUT_SOURCE_LIMIT_A * load_resistance_ohm, OUTPUT_SOURCE_LIMIT_A


def prealarm_output(level: Level, bank_voltage_v: float) -> float:
    """Voltage at the pre-alarm output: V_bank when high, 0 V (floating) otherwise (OUT-5)."""
    return bank_voltage_v if level is Level.HIGH else 0.0
