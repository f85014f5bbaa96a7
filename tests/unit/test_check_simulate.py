"""`check --simulate`: the situations CHK-S1 ... CHK-S6 (SPEC §13) with the twin, both ways."""

import json
from pathlib import Path
from typing import Any

from smartbms import scenario as sc
from smartbms.check.findings import Finding
from smartbms.check.simulate import (
    cable_unplugged,
    cold_night,
    drive_from_low,
    largest_load,
    parked_after_shutdown,
    simulate,
    warm_snapshot,
)

ROOT = Path(__file__).resolve().parents[2]


def design(
    bms: dict[str, Any] | None = None, battery: str = "LFP-Smart 12.8/100", **more: Any
) -> sc.Scenario:
    bms = {"fuse_type": "60A", "installed_fuse": "60A", **(bms or {})}
    text = "[bms]\n" + "".join(f"{k} = {json.dumps(v)}\n" for k, v in bms.items())
    text += f'\n[[battery]]\nmodel = "{battery}"\n'
    for header, body in more.items():
        for table in body if isinstance(body, list) else [body]:
            brackets = "[[{}]]" if isinstance(body, list) else "[{}]"
            text += "\n" + brackets.format(header) + "\n"
            text += "".join(f"{k} = {json.dumps(v)}\n" for k, v in table.items())
    return sc.parse_scenario(text, "design.toml", design_only=True)


def one(found: list[Finding]) -> Finding:
    [f] = found
    return f


def test_s1_parked_after_shutdown_damages_a_bank_with_a_drain() -> None:
    drain = {"name": "alarm", "type": "residual-load", "current_a": 0.05}
    f = one(parked_after_shutdown(design(device=[drain])))
    assert (f.rule, f.severity) == ("CHK-S1", "error")
    assert "damaged" in f.message


def test_s1_no_damage_with_the_remote_switched_off_and_no_drain() -> None:
    s = design(
        bms={"remote_terminal": "switch", "remote_function": "switch everything off"},
        battery="LFP-Smart 12.8/300",
        device=[
            {
                "name": "lamp",
                "type": "battery-protect",
                "load_w": 30.0,
                "control": "load disconnect",
            }
        ],
    )
    f = one(parked_after_shutdown(s))
    assert f.severity == "info"
    assert "no damage" in f.message
    assert "remote switched off" in f.message


def test_s4_drive_with_the_alternator_at_its_limit() -> None:
    s = design(
        bms={"fuse_type": "125A", "installed_fuse": "125A"},
        battery="LFP-Smart 12.8/300",
        alternator={"rated_current_a": 100.0},
    )
    f = one(drive_from_low(s))
    assert (f.rule, f.severity) == ("CHK-S4", "warning")
    assert "overheating risk" in f.message


def test_s4_drive_below_the_alternator_rating() -> None:
    s = design(battery="LFP-Smart 12.8/300", alternator={"rated_current_a": 100.0})
    f = one(drive_from_low(s))
    assert f.severity == "info"
    assert "0 min at its maximum" in f.message
    assert one(drive_from_low(design())).message.startswith("No [alternator]")


def test_s2_s3_cold_nights() -> None:
    snapshot, _ = warm_snapshot(design(alternator={"rated_current_a": 100.0}))
    f = one(cold_night(snapshot, "CHK-S3", -10.0))
    assert (f.rule, f.severity) == ("CHK-S3", "info")
    assert "charging stopped" in f.message
    heavy = design(
        device=[{"name": "heater", "type": "dc-load", "connection": "system+", "power_w": 200.0}],
        battery="LFP-Smart 12.8/50",
    )
    f = one(cold_night(warm_snapshot(heavy)[0], "CHK-S2", 0.0))
    assert f.severity == "error"
    assert "loads were disconnected" in f.message


def test_s5_a_surge_that_trips_system_plus() -> None:
    big = {
        "name": "inv",
        "type": "inverter",
        "connection": "system+",
        "ac_load_w": 500.0,
        "surge_w": 6000.0,
    }
    snapshot, _ = warm_snapshot(design(battery="LFP-Smart 12.8/300", device=[big]))
    f = one(largest_load(snapshot))
    assert (f.rule, f.severity) == ("CHK-S5", "error")
    assert "A-A12" in f.message
    small = {**big, "surge_w": 2000.0}
    f = one(largest_load(warm_snapshot(design(battery="LFP-Smart 12.8/300", device=[small]))[0]))
    assert f.severity == "info"
    assert "nothing tripped" in f.message


def test_s6_cable_unplugged_with_and_without_a_device_nothing_switches() -> None:
    fan = {"name": "fan", "type": "dc-load", "power_w": 12.0}
    f = one(cable_unplugged(warm_snapshot(design(device=[fan]))[0]))
    assert (f.rule, f.severity) == ("CHK-S6", "warning")
    assert '"fan"' in f.message
    f = one(cable_unplugged(warm_snapshot(design())[0]))
    assert f.severity == "info"
    assert "E-B32 and the safe state at once" in f.message


def test_the_whole_battery_in_parallel_is_the_same_as_in_process() -> None:
    s = sc.load_scenario(ROOT / "examples/check/good-van.toml", design_only=True)
    serial = simulate(s, workers=1)
    assert [f.rule for f in serial] == [f"CHK-S{n}" for n in (1, 4, 2, 3, 5, 6)]
    assert all(f.severity == "info" for f in serial)
    assert simulate(s, workers=2) == serial


def test_a_design_in_its_safe_state_says_so() -> None:
    s = design(battery="LFP-Smart 12.8/100 (no pre-alarm)")
    found = simulate(s, workers=1)
    assert all(
        f.message.startswith("With the BMS in its safe state from the start (E-B32)") for f in found
    )
