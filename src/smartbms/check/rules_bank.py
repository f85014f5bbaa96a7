"""Rules about the bank and what it must carry: CHK-6, CHK-9, CHK-10, CHK-11."""

from typing import Final

from smartbms import scenario as sc
from smartbms.check.findings import Finding, Severity, finding
from smartbms.check.loads import (
    NOMINAL_V,
    bank_capacity_ah,
    is_load,
    residual_after_shutdown_a,
    running_a,
    surge_a,
)
from smartbms.core import constants as c
from smartbms.core.settings import PreAlarmUsage, RemoteFunction

DAMAGE_ERROR_DAYS: Final = 8.0
"""CHK-9: below this many days from shutdown to damage is an error (manual §3.1's example)."""
DAMAGE_WARNING_DAYS: Final = 30.0
"""CHK-9: below this many days a warning (a month parked is ordinary)."""


def chk6_prealarm_usage(s: sc.Scenario) -> list[Finding]:
    """CHK-6: pre-alarm usage on with a battery that has no pre-alarm (E-B32 at start)."""
    if s.bms.settings.prealarm_usage is not PreAlarmUsage.USE:
        return []
    for i, battery in enumerate(s.battery):
        if battery.supports_prealarm:
            continue
        field = "model" if not battery.params.supports_prealarm else "supports_prealarm"
        msg = (
            f'Pre-alarm usage is "use pre-alarm" but battery[{i + 1}] ({battery.model}) has no '
            "pre-alarm: the BMS raises E-B32 at start and stays in its safe state."
        )
        fix = (
            'Set prealarm_usage = "pre-alarm not available" (manual §3.5.1b, App. B E-B32), or '
            "use batteries that drive the pre-alarm line."
        )
        return [finding("CHK-6", "error", msg, fix, ("battery", i, field))]
    return []


def bms_residual_a(s: sc.Scenario) -> tuple[float, str]:
    """The BMS's own draw in the remote state it will be in after a shutdown, and that state.

    A wire loop keeps it ON; a switch or relay on the remote terminal is taken to be opened when
    the system is parked (that is what it is for, manual §3.1); an open terminal is OFF.
    """
    if s.bms.remote_terminal == "loop":
        return c.SUPPLY_ON_A, "with the remote on (wire loop)"
    if s.bms.settings.remote_function is RemoteFunction.EVERYTHING:
        return c.SUPPLY_OFF_DISABLED_A, 'with the remote off and "switch everything off"'
    return c.SUPPLY_OFF_ACTIVE_A, 'with the remote off and "alternator and system+ only"'


def days_to_damage(s: sc.Scenario) -> tuple[float, float, str, float]:
    """(days, total residual A, the BMS's remote state, reserve Ah) after a low-voltage shutdown."""
    bms_a, state = bms_residual_a(s)
    total = bms_a + sum(a for _, _, a in residual_after_shutdown_a(s))
    capacity = bank_capacity_ah(s)
    reserve = capacity * c.DEEP_DISCHARGE_RESERVE_AH_PER_100AH / 100.0
    return reserve / total / 24.0, total, state, reserve


def chk9_days_to_damage(s: sc.Scenario) -> list[Finding]:
    """CHK-9: days from a low-voltage shutdown until the residual drains damage the bank."""
    days, total, state, reserve = days_to_damage(s)
    if days >= DAMAGE_WARNING_DAYS:
        return []
    severity: Severity = "error" if days < DAMAGE_ERROR_DAYS else "warning"
    bms_a, _ = bms_residual_a(s)
    others = residual_after_shutdown_a(s)
    parts = [f"the BMS's {bms_a * 1000:g} mA {state}"] + [
        f'"{d.name}" {a * 1000:.1f} mA' if a < 1.0 else f'"{d.name}" {a:.1f} A'
        for _, d, a in others
    ]
    drain = f"{total * 1000:.1f} mA" if total < 1.0 else f"{total:.2f} A"
    msg = (
        f"After a low-voltage shutdown {drain} keeps flowing ({', '.join(parts)}): the "
        f"{reserve:g} Ah reserve lasts {days:.1f} days before the batteries are damaged."
    )
    remedies = ["open a battery switch when parked"]
    if others:
        remedies.insert(0, "remove the residual loads or switch them with Load disconnect")
    everything = s.bms.settings.remote_function is RemoteFunction.EVERYTHING
    if s.bms.remote_terminal == "loop":
        remote = 'wire a switch or a BMV relay to the remote terminal, remote_function = "switch'
        remedies.insert(0, remote + ' everything off", and switch off when parked')
    elif not everything:
        remedies.insert(0, 'set remote_function = "switch everything off"')
    text = "; ".join(remedies)
    fix = text[0].upper() + text[1:] + " (manual §3.1)."
    where = ("device", others[0][0]) if others else ("bms", "remote_terminal")
    return [finding("CHK-9", severity, msg, fix, where)]


def chk10_currents(s: sc.Scenario) -> list[Finding]:
    """CHK-10: System+ continuous, peak and inrush; each battery's share of the load."""
    found: list[Finding] = []
    port = [(i, d) for i, d in enumerate(s.device) if d.connection == "system+" and is_load(d)]
    continuous = sum(running_a(d) for _, d in port)
    steps = [(surge_a(d) - running_a(d), i, d) for i, d in port]
    step, worst_i, worst = max(steps, key=lambda t: t[0], default=(0.0, -1, None))
    peak = continuous + step
    inrush = sum(surge_a(d) for _, d in port)
    where_port = ("device", port[0][0]) if port else ("device",)
    if continuous > c.SP_CONTINUOUS_A:
        msg = (
            f"The System+ loads draw {continuous:.0f} A together, above the port's "
            f"{c.SP_CONTINUOUS_A:g} A continuous rating: A-A12 trips after "
            f"{c.SP_OVERLOAD_MAX_S:g} s."
        )
        fix = "Move loads to the bank behind Load disconnect, or reduce them (manual §4, SP-1)."
        found.append(finding("CHK-10", "error", msg, fix, where_port))
    if worst is not None and step > 0.0 and peak > c.SP_PEAK_A:
        msg = (
            f'When "{worst.name}" starts its load ({surge_a(worst):.0f} A) the System+ current '
            f"reaches {peak:.0f} A, above the {c.SP_PEAK_A:g} A peak: A-A12 trips after "
            f"{c.SP_PEAK_MAX_S:g} s."
        )
        fix = (
            "Choose a smaller inverter or start loads one at a time; a larger one goes on the "
            "bank behind Load disconnect (manual §4, SP-5)."
        )
        found.append(finding("CHK-10", "error", msg, fix, ("device", worst_i, "surge_w")))
    elif inrush > c.SP_PEAK_A:
        msg = (
            f"When System+ switches on (at start, after a shutdown or an A-A12 retry) all its "
            f"loads start at once: {inrush:.0f} A, above the {c.SP_PEAK_A:g} A peak: A-A12 trips."
        )
        fix = (
            "Let the largest loads start later (their own remote switch or a timer), or move "
            "one to the bank behind Load disconnect (manual §4, SP-5)."
        )
        found.append(finding("CHK-10", "warning", msg, fix, where_port))
    found.extend(_battery_shares(s))
    return found


def _battery_shares(s: sc.Scenario) -> list[Finding]:
    """Each battery's share of the whole load (by capacity, as their resistances go) vs rating."""
    total = sum(running_a(d) for d in s.device if is_load(d))
    capacity = bank_capacity_ah(s)
    for i, battery in enumerate(s.battery):
        share = total * battery.params.capacity_ah / capacity
        rating = battery.params.max_discharge_a
        if share > rating:
            msg = (
                f"The loads draw {total:.0f} A (at {NOMINAL_V:g} V); battery[{i + 1}] "
                f"({battery.model}) carries {share:.0f} A of it, above its maximum continuous "
                f"discharge current of {rating:g} A."
            )
            fix = "Add batteries in parallel or use larger ones (battery data sheet, manual §2.1)."
            return [finding("CHK-10", "error", msg, fix, ("battery", i, "model"))]
    return []


def chk11_mixed_bank(s: sc.Scenario) -> list[Finding]:
    """CHK-11: different models or capacities in parallel."""
    models = [b.model for b in s.battery]
    if len(set(models)) < 2:
        return []
    index = next(i for i, m in enumerate(models) if m != models[0])
    capacities = sorted({b.params.capacity_ah for b in s.battery})
    msg = (
        f"The bank mixes {', '.join(sorted(set(models)))} in parallel "
        f"({' / '.join(f'{a:g}' for a in capacities)} Ah): they share current unevenly and age "
        "apart."
    )
    fix = "Use batteries of one model and capacity, of the same age (manual §2.1, §3.4)."
    return [finding("CHK-11", "warning", msg, fix, ("battery", index, "model"))]
