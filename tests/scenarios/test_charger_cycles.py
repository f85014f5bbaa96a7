"""Chargers start a new cycle after a load and fill the bank again (issue 13, part 3).

Blue Smart IP22 manual, "Commencing a new charge cycle": with the default re-bulk method a
charger whose output stays at its maximum current for four seconds starts a new charge cycle
(bulk, absorption, float). Before, a charger once in float stayed there, and after a 2 h load a
100 Ah bank sat at the float level's state of charge for good, never absorbing again.
"""

from smartbms.scenario import parse_scenario
from smartbms.twin import Twin

HOUR_S = 3600.0

SHORE_AND_A_LOAD = """
[scenario]
name = "shore power, a 2 h 600 W load"
description = "A Phoenix Smart IP43 12/30 on shore power; a 600 W load for 2 h."
duration_h = 12
trace_resolution_s = 60

[bms]
fuse_type = "125A"
installed_fuse = "125A"

[[battery]]
model = "LFP-Smart 12.8/100"
soc_pct = 90.0

[[device]]
name = "charger"
type = "charger"
connection = "system+"
charge_current_a = 30.0

[[device]]
name = "heater"
type = "dc-load"
connection = "system+"
power_w = 600.0
on = false

[[timeline]]
at_h = 0.0
action = "shore-power"
on = true

[[timeline]]
at_h = 3.0
action = "set"
device = "heater"
on = true

[[timeline]]
at_h = 5.0
action = "set"
device = "heater"
on = false
"""


def _stage(twin: Twin) -> str | None:
    (charger,) = [d for d in twin.state.devices if d.name == "charger"]
    return charger.stage


def test_after_a_2h_600w_load_on_shore_power_a_100ah_bank_re_bulks_and_gets_full_again() -> None:
    twin = Twin.from_scenario(parse_scenario(SHORE_AND_A_LOAD, "shore.toml"))
    twin.advance_to(2.9 * HOUR_S)
    assert _stage(twin) == "float"  # charged once: absorption done
    full_pct = twin.state.batteries[0].soc_pct
    twin.advance_to(3.0 * HOUR_S + 600.0)
    assert _stage(twin) == "bulk"  # 46 A asked of a 30 A charger: a new cycle
    twin.advance_to(5.0 * HOUR_S)
    drained_pct = twin.state.batteries[0].soc_pct
    assert drained_pct < full_pct - 20.0  # 16 A net for 2 h
    twin.advance_to(5.5 * HOUR_S)
    assert _stage(twin) in ("bulk", "absorption")
    twin.advance_to(12.0 * HOUR_S)
    assert _stage(twin) == "float"  # absorbed again
    assert twin.state.batteries[0].soc_pct >= full_pct - 0.5  # full again
