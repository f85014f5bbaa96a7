"""Rules about the Alternator/Starter port and the BMS settings: CHK-1 to -4, CHK-12, CHK-13."""

from typing import Final

from smartbms import scenario as sc
from smartbms.check.findings import Finding, Severity, finding
from smartbms.check.loads import bank_capacity_ah
from smartbms.core import constants as c
from smartbms.core.fuses import INSTALLABLE_FUSES, FuseType

RECOMMENDED_C_RATE: Final = 0.5
"""Lithium Battery Smart data sheet: recommended charge current 0.5 C."""
CHARGE_LIMIT_ADVICE_V: Final = (14.0, 14.4)
"""CHK-12: the band around the battery's recommended 14.2 V that passes without a warning."""


def _a(value: float) -> str:
    return f"{value:g} A"


def _an(fuse: FuseType) -> str:
    """The fuse with its article as it is read aloud: a 100A fuse, an 80A fuse."""
    return f"an {fuse.value}" if fuse.value.startswith("8") else f"a {fuse.value}"


def chk1_fuse_type_not_set(s: sc.Scenario) -> list[Finding]:
    """CHK-1: the fuse type is never set (the factory state)."""
    if s.bms.settings.fuse_type is not FuseType.NOT_SET:
        return []
    fuse = s.bms.installed_fuse
    msg = (
        f"The fuse type is not set: the alternator limit and the app's charge-current percentage "
        f"are undefined (installed: {fuse.value}, which limits the port to "
        f"{_a(fuse.current_limit_a)})."
    )
    fix = (
        f'Set fuse_type = "{fuse.value}" to match the installed fuse (manual §3.5.1a; the app '
        "asks for it at the first connection)."
    )
    return [finding("CHK-1", "error", msg, fix, ("bms", "fuse_type"))]


def chk2_fuse_mismatch(s: sc.Scenario) -> list[Finding]:
    """CHK-2: the fuse-type setting differs from the fuse in the holder."""
    setting, fuse = s.bms.settings.fuse_type, s.bms.installed_fuse
    if setting is FuseType.NOT_SET or setting is fuse:
        return []
    set_a, real_a = setting.current_limit_a, fuse.current_limit_a
    if set_a > real_a:
        effect = (
            f"the setting is above the fuse: the BMS allows up to {_a(set_a)} through a fuse "
            f"made for {_a(real_a)}, so the fuse can blow"
        )
    else:
        effect = (
            f"the setting is below the fuse: charge current up to {_a(set_a)} is used of the "
            f"{_a(real_a)} the fuse allows, and the app's current and percentage are wrong"
        )
    msg = f'fuse_type is "{setting.value}" but {_an(fuse)} fuse is installed: {effect}.'
    fix = (
        f'Set fuse_type = "{fuse.value}", or install the {setting.value} fuse; they must match '
        "(manual §3.4 step 2, §3.5.1a)."
    )
    return [finding("CHK-2", "error", msg, fix, ("bms", "fuse_type"))]


def chk3_alternator_overheat(s: sc.Scenario) -> list[Finding]:
    """CHK-3: the port's limit is at or above the alternator's rating: it runs at maximum."""
    alt = s.alternator
    if alt is None:
        return []
    fuse = s.bms.installed_fuse
    limit = fuse.current_limit_a
    if limit < alt.rated_current_a:
        return []
    safe = [f for f in INSTALLABLE_FUSES if f.current_limit_a < alt.rated_current_a]
    article = _an(fuse)
    msg = (
        f"{article[0].upper()}{article[1:]} fuse lets the port take {_a(limit)}, at or above the "
        f"alternator's rated {_a(alt.rated_current_a)}: it will run at maximum output for as "
        "long as the bank accepts current, and most 12 V alternators overheat after 5 minutes."
    )
    if safe:
        best = safe[0]
        fix = (
            f"Install {_an(best)} fuse (limit {_a(best.current_limit_a)}) and set fuse_type = "
            f'"{best.value}": the largest that keeps the alternator below its rating (manual '
            "§2.2 point 2, §3.4 table 1)."
        )
    else:
        fix = (
            "No fuse keeps an alternator this small below its rating: charge through an Orion "
            "DC-DC charger on System+ instead (manual §2.2 point 2)."
        )
    return [finding("CHK-3", "warning", msg, fix, ("bms", "installed_fuse"))]


def chk4_bank_charge_current(s: sc.Scenario) -> list[Finding]:
    """CHK-4: more current through the port than the bank should or may take."""
    alt = s.alternator
    if alt is None:
        return []
    fuse = s.bms.installed_fuse
    flow = min(fuse.current_limit_a, alt.rated_current_a)
    capacity = bank_capacity_ah(s)
    maximum = sum(b.params.max_charge_a * b.count for b in s.battery)
    recommended = RECOMMENDED_C_RATE * capacity
    if flow <= recommended:
        return []
    what = (
        f"Up to {_a(flow)} can flow into the bank (the {fuse.value} fuse's "
        f"{_a(fuse.current_limit_a)} limit, alternator {_a(alt.rated_current_a)}), "
    )
    severity: Severity = "error" if flow > maximum else "warning"
    if flow > maximum:
        msg = what + f"above the bank's maximum charge current of {_a(maximum)} ({capacity:g} Ah)."
    else:
        msg = (
            what + f"above the recommended {RECOMMENDED_C_RATE:g} C = {_a(recommended)} of the "
            f"{capacity:g} Ah bank."
        )
    fitting = [f for f in INSTALLABLE_FUSES if f.current_limit_a <= recommended]
    smaller = (
        f"install {_an(fitting[0])} fuse (limit {_a(fitting[0].current_limit_a)}) and set "
        "fuse_type to match, or "
        if fitting
        else ""
    )
    fix = f"Protect the bank: {smaller}add batteries (manual §2.2 point 1, §3.4 table 1)."
    return [finding("CHK-4", severity, msg, fix, ("bms", "installed_fuse"))]


def chk12_charge_limit(s: sc.Scenario) -> list[Finding]:
    """CHK-12: a charge limit far from the battery's recommended 14.2 V."""
    limit = s.bms.settings.charge_limit_v
    low, high = CHARGE_LIMIT_ADVICE_V
    if low <= limit <= high:
        return []
    effect = (
        "the bank never reaches full charge, so the cells are not balanced"
        if limit < low
        else "the cells are pushed towards over-voltage before the batteries stop charging"
    )
    msg = (
        f"The battery charge limit is {limit:g} V, outside {low:g}-{high:g} V around the "
        f"{c.CHARGE_LIMIT_DEFAULT_V:g} V the Lithium Battery Smart recommends: {effect}."
    )
    fix = f"Set charge_limit_v = {c.CHARGE_LIMIT_DEFAULT_V:g} (manual §3.5.1d)."
    return [finding("CHK-12", "warning", msg, fix, ("bms", "charge_limit_v"))]


def chk13_smart_alternator(s: sc.Scenario) -> list[Finding]:
    """CHK-13: a phase in which the alternator's voltage is at or below the 13 V gate."""
    alt = s.alternator
    if alt is None:
        return []
    if alt.smart_voltage_v is not None and alt.smart_voltage_v <= c.ALT_ENGAGE_V:
        volts, field, when = alt.smart_voltage_v, "smart_voltage_v", "in its smart mode"
    elif alt.regulated_voltage_v <= c.ALT_ENGAGE_V:
        volts, field, when = alt.regulated_voltage_v, "regulated_voltage_v", "always"
    else:
        return []
    msg = (
        f"The alternator gives {volts:g} V {when}, at or below the {c.ALT_ENGAGE_V:g} V the "
        "Alternator/Starter port needs: the port will not engage and the bank gets no charge then."
    )
    fix = (
        "Charge from the starter side through an Orion-Tr Smart DC-DC charger on System+ "
        "(manual §2.2, ALT-1)."
    )
    return [finding("CHK-13", "warning", msg, fix, ("alternator", field))]
