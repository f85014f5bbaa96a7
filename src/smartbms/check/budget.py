"""CHK-14: the energy budget of a day, from the loads, sources and driving in the file.

Every load runs all day as the file describes it; the sun follows the file's half sine (each
solar charger capped at its `max_current_a`); a Cyrix-Li-Charge with `source = "always"` gives
its current all day; mains chargers are not counted (the file does not say how often there is
shore power); the alternator gives the lower of its rating and the installed fuse's limit for the
hours the timeline has the engine running, per day. Ah and Wh are converted at `NOMINAL_V`.
"""

import math
from typing import Final

from smartbms import scenario as sc
from smartbms.check.findings import Budget, Finding, finding
from smartbms.check.loads import NOMINAL_V, bank_capacity_ah, is_load, running_w
from smartbms.core import constants as c

MPPT_OUTPUT_V: Final = 13.6
"""A solar charger's output power cap is `max_current_a` at about the bank's charging voltage."""
_SUN_SAMPLES: Final = 288
"""Five-minute samples of a day for the solar yield."""
DAY_H: Final = 24.0


def solar_wh_per_day(s: sc.Scenario) -> float:
    """The solar chargers' yield on a day of the file's sun."""
    total = 0.0
    env = s.environment
    for charger in s.devices_of(sc.SolarCharger):
        cap_w = charger.max_current_a * MPPT_OUTPUT_V
        for k in range(_SUN_SAMPLES):
            hour = (k + 0.5) * DAY_H / _SUN_SAMPLES
            total += min(charger.pv_peak_w * env.sun_fraction_at(hour), cap_w)
    return total * DAY_H / _SUN_SAMPLES


def always_on_wh_per_day(s: sc.Scenario) -> float:
    """Charge sources that deliver all day (a Cyrix-Li-Charge on an "always" source)."""
    return sum(
        d.charge_current_a * NOMINAL_V * DAY_H
        for d in s.devices_of(sc.CyrixLiCharge)
        if d.source == "always"
    )


def alternator_a(s: sc.Scenario) -> float:
    """What the alternator puts into the bank while it runs: its rating or the port's limit."""
    if s.alternator is None:
        return 0.0
    return min(s.alternator.rated_current_a, s.bms.installed_fuse.current_limit_a)


def driving_h_per_day(s: sc.Scenario) -> float:
    """Hours a day the timeline has the engine running (over its days, at least one day)."""
    alt = s.alternator
    if alt is None:
        return 0.0
    running, since, total_s = alt.running, 0.0, 0.0
    for t, entry in s.timeline_occurrences():
        if isinstance(entry, sc.EngineStart) and not running:
            running, since = True, t
        elif isinstance(entry, sc.EngineStop) and running:
            running, total_s = False, total_s + t - since
    if running:
        total_s += s.duration_s - since
    days = max(s.duration_s / 86_400.0, 1.0)
    return total_s / 3600.0 / days


def budget(s: sc.Scenario) -> Budget:
    """The day's energy in and out, the autonomy from full and the driving that keeps level."""
    out_wh = sum(running_w(d) for d in s.device if is_load(d)) * DAY_H
    out_wh += c.SUPPLY_ON_A * NOMINAL_V * DAY_H
    parked_in_wh = solar_wh_per_day(s) + always_on_wh_per_day(s)
    drive_h = driving_h_per_day(s)
    in_wh = parked_in_wh + alternator_a(s) * drive_h * NOMINAL_V
    deficit_ah = (out_wh - parked_in_wh) / NOMINAL_V
    capacity = bank_capacity_ah(s)
    usable = capacity * (1.0 - c.DEEP_DISCHARGE_RESERVE_AH_PER_100AH / 100.0)
    autonomy = usable / deficit_ah if deficit_ah > 0.0 else None
    drive: float | None = None
    if alternator_a(s) > 0.0:
        drive = max(deficit_ah, 0.0) / alternator_a(s)
    return Budget(
        ah_in_per_day=round(in_wh / NOMINAL_V, 1),
        ah_out_per_day=round(out_wh / NOMINAL_V, 1),
        wh_in_per_day=round(in_wh),
        wh_out_per_day=round(out_wh),
        autonomy_days=None if autonomy is None else round(autonomy, 2),
        drive_h_per_day=None if drive is None else round(drive, 2),
    )


def chk14_budget(s: sc.Scenario) -> list[Finding]:
    """CHK-14: the budget as one info finding."""
    b = budget(s)
    autonomy = (
        "the bank does not run down with the engine off"
        if b.autonomy_days is None
        else f"{b.autonomy_days:.1f} days from full with the engine off"
    )
    if b.drive_h_per_day is None:
        drive = "no alternator"
    elif b.drive_h_per_day == 0.0:
        drive = "no driving needed to keep the bank level"
    else:
        drive = f"{b.drive_h_per_day:.1f} h driving a day keeps the bank level"
    shore = [d.name for d in s.device if isinstance(d, sc.Charger | sc.InverterCharger)]
    shore_note = " (mains chargers not counted)" if shore else ""
    msg = (
        f"Per day {b.ah_in_per_day:g} Ah in{shore_note} and {b.ah_out_per_day:g} Ah out "
        f"({b.wh_in_per_day:g} / {b.wh_out_per_day:g} Wh); {autonomy}; {drive}."
    )
    fix = "Nothing to fix: size the bank, solar and driving by these numbers."
    if math.isclose(b.ah_out_per_day, 0.0):
        fix = "Nothing to fix: the file has no loads."
    return [finding("CHK-14", "info", msg, fix)]
