"""Each design rule CHK-1 ... CHK-14 (SPEC §13), both ways: a design that triggers it, one that
just does not. Designs are small TOML texts read the way `smartbms check` reads them."""

import dataclasses
import json
from collections.abc import Mapping, Sequence
from typing import Any

import pytest

from smartbms import scenario as sc
from smartbms.check import check_scenario, check_text
from smartbms.check.budget import budget
from smartbms.check.findings import Finding
from smartbms.plant.params import battery_models

Table = Mapping[str, Any]

BMS: Table = {
    "fuse_type": "80A",
    "installed_fuse": "80A",
    "remote_function": "switch everything off",
    "remote_terminal": "switch",
}
BATTERY: Table = {"model": "LFP-Smart 12.8/200", "count": 2}
ALTERNATOR: Table = {"rated_current_a": 90.0}


def toml(
    bms: Table | None = None,
    batteries: Sequence[Table] = (BATTERY,),
    alternator: Table | None = ALTERNATOR,
    devices: Sequence[Table] = (),
    extra: str = "",
) -> str:
    """A design: the good defaults above, each section replaceable."""

    def table(header: str, values: Table) -> str:
        body = "".join(f"{k} = {json.dumps(v)}\n" for k, v in values.items())
        return f"{header}\n{body}\n"

    text = table("[bms]", {**BMS, **(bms or {})})
    text += "".join(table("[[battery]]", b) for b in batteries)
    if alternator is not None:
        text += table("[alternator]", alternator)
    text += "".join(table("[[device]]", d) for d in devices)
    return text + extra


def design(**parts: Any) -> sc.Scenario:
    return sc.parse_scenario(toml(**parts), "design.toml", design_only=True)


def findings(rule: str, **parts: Any) -> list[Finding]:
    return [f for f in check_scenario(design(**parts)) if f.rule == rule]


def test_the_good_design_has_only_its_budget() -> None:
    assert [f.rule for f in check_scenario(design())] == ["CHK-14"]


# --- CHK-1 / CHK-2: the fuse type -----------------------------------------------------------


def test_chk1_fuse_type_not_set() -> None:
    [f] = findings("CHK-1", bms={"fuse_type": "not set"})
    assert f.severity == "error"
    assert "60 A" in f.message
    assert 'fuse_type = "80A"' in f.fix
    assert f.where.field == "bms.fuse_type"
    assert not findings("CHK-1")


@pytest.mark.parametrize(
    ("setting", "words"), [("125A", "the fuse can blow"), ("60A", "below the fuse")]
)
def test_chk2_installed_fuse_differs_from_the_setting(setting: str, words: str) -> None:
    [f] = findings("CHK-2", bms={"fuse_type": setting})
    assert f.severity == "error"
    assert words in f.message
    assert "§3.4" in f.fix


def test_chk2_not_for_a_matching_or_unset_fuse() -> None:
    assert not findings("CHK-2")
    assert not findings("CHK-2", bms={"fuse_type": "not set"})


# --- CHK-3 / CHK-4: the alternator and the bank -------------------------------------------------


def test_chk3_limit_at_the_alternator_rating() -> None:
    [f] = findings("CHK-3", alternator={"rated_current_a": 60.0})
    assert f.severity == "warning"
    assert "60 A" in f.message
    assert "5 minutes" in f.message
    assert 'Install a 60A fuse (limit 50 A) and set fuse_type = "60A"' in f.fix


def test_chk3_just_below_the_rating_is_fine() -> None:
    assert not findings("CHK-3", alternator={"rated_current_a": 60.5})
    assert not findings("CHK-3", alternator=None)


def test_chk3_an_alternator_smaller_than_every_limit() -> None:
    [f] = findings(
        "CHK-3",
        bms={"fuse_type": "2x7.5A", "installed_fuse": "2x7.5A"},
        alternator={"rated_current_a": 8.0},
    )
    assert "Orion" in f.fix


def test_chk4_above_the_recommended_charge_current_is_a_warning() -> None:
    small = [{"model": "LFP-Smart 12.8/100"}]
    [f] = findings("CHK-4", batteries=small)
    assert f.severity == "warning"
    assert "60 A" in f.message
    assert "0.5 C = 50 A" in f.message
    assert "60A fuse" in f.fix  # 50 A: the largest limit within 0.5 C


def test_chk4_at_the_recommended_current_is_fine() -> None:
    # 60 A into 120 Ah: exactly 0.5 C
    assert not findings("CHK-4", batteries=[{"model": "LFP-Smart 12.8/60", "count": 2}])


def test_chk4_above_the_maximum_is_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    """No stock model takes less than 2 C, so this needs a battery rated like an old 1 C one."""
    models = dict(battery_models())
    models["LFP-Smart 12.8/50"] = dataclasses.replace(
        models["LFP-Smart 12.8/50"], max_charge_a=50.0
    )
    monkeypatch.setattr("smartbms.scenario.installation.battery_models", lambda: models)
    [f] = findings("CHK-4", batteries=[{"model": "LFP-Smart 12.8/50"}])
    assert f.severity == "error"
    assert "maximum charge current of 50 A" in f.message


# --- CHK-5: interface cables (App. A) -----------------------------------------------------------

VEBUS: Table = {
    "name": "Phoenix 12/1200",
    "type": "inverter",
    "control": "load disconnect",
    "remote_input": "low-active",
}


def test_chk5_vebus_inverter_without_the_inverting_cable() -> None:
    [f] = findings("CHK-5", devices=[VEBUS])
    assert f.severity == "error"
    assert "never switches on" in f.message
    assert "ASS030550100" in f.fix
    assert f.where.field == "device[1].cable"


def test_chk5_vebus_inverter_with_the_inverting_cable_is_fine() -> None:
    assert not findings("CHK-5", devices=[{**VEBUS, "cable": "inverting"}])


def test_chk5_an_inverting_cable_on_a_high_active_input() -> None:
    phoenix = {**VEBUS, "remote_input": "high-active", "cable": "inverting"}
    [f] = findings("CHK-5", devices=[phoenix])
    assert "pulls its HIGH-active input LOW" in f.message
    assert not findings("CHK-5", devices=[{**phoenix, "cable": "direct"}])


def test_chk5_a_fitted_remote_jumper_keeps_it_on() -> None:
    [f] = findings("CHK-5", devices=[{**VEBUS, "cable": "inverting", "remote_jumper": True}])
    assert "stays on" in f.message
    assert f.where.field == "device[1].remote_jumper"


def test_chk5_multiplus_on_the_bank_needs_its_cable() -> None:
    multiplus = {
        "name": "MultiPlus 12/1600",
        "type": "inverter-charger",
        "connection": "bank",
        "charge_current_a": 70.0,
        "control": "both",
        "cable": "inverting",
    }
    [f] = findings("CHK-5", devices=[multiplus])
    assert "ASS070200100" in f.fix
    assert not findings("CHK-5", devices=[{**multiplus, "cable": "multiplus cable"}])
    # a MultiPlus-II (LOW-active) takes two inverting cables
    assert not findings("CHK-5", devices=[{**multiplus, "remote_input": "low-active"}])


def test_chk5_one_input_on_both_outputs() -> None:
    load = {"name": "pump", "type": "dc-load", "power_w": 20.0, "control": "both"}
    [f] = findings("CHK-5", devices=[load])
    assert f.where.field == "device[1].control"


# --- CHK-6: pre-alarm usage ---------------------------------------------------------------------

NO_PREALARM = {"model": "LFP-Smart 12.8/100 (no pre-alarm)"}


def test_chk6_prealarm_on_with_a_battery_without_it() -> None:
    [f] = findings("CHK-6", batteries=[NO_PREALARM])
    assert f.severity == "error"
    assert "E-B32" in f.message
    assert f.where.field == "battery[1].model"


def test_chk6_not_with_prealarm_not_available_or_supporting_batteries() -> None:
    assert not findings(
        "CHK-6", batteries=[NO_PREALARM], bms={"prealarm_usage": "pre-alarm not available"}
    )
    assert not findings("CHK-6")


# --- CHK-7 / CHK-8: devices on the bank ---------------------------------------------------------

IP43: Table = {"name": "IP43", "type": "charger", "charge_current_a": 30.0}


def test_chk7_a_charger_nothing_stops() -> None:
    [f] = findings("CHK-7", devices=[IP43])
    assert f.severity == "error"
    assert "over-voltage" in f.message
    assert "Cyrix-Li-Charge" in f.fix
    wrong = findings("CHK-7", devices=[{**IP43, "control": "load disconnect"}])
    assert len(wrong) == 1


def test_chk7_not_when_charge_disconnect_stops_it_or_on_system_plus() -> None:
    assert not findings("CHK-7", devices=[{**IP43, "control": "charge disconnect"}])
    assert not findings("CHK-7", devices=[{**IP43, "connection": "system+"}])
    cyrix = {"name": "c", "type": "cyrix-li-charge", "charge_current_a": 30.0}
    assert findings("CHK-7", devices=[cyrix])
    assert not findings("CHK-7", devices=[{**cyrix, "control": "charge disconnect"}])


FAN: Table = {"name": "fan", "type": "dc-load", "power_w": 12.0}


def test_chk8_a_load_nothing_switches() -> None:
    [f] = findings("CHK-8", devices=[FAN])
    assert f.severity == "warning"
    assert "938 mA" in f.message
    assert findings("CHK-8", devices=[{"name": "a", "type": "residual-load", "current_a": 0.01}])


def test_chk8_not_when_load_disconnect_switches_it_or_on_system_plus() -> None:
    assert not findings("CHK-8", devices=[{**FAN, "control": "load disconnect"}])
    assert not findings("CHK-8", devices=[{**FAN, "connection": "system+"}])


# --- CHK-9: days to deep-discharge damage -------------------------------------------------------


def test_chk9_the_manuals_example_10_ma_on_200_ah() -> None:
    """§3.1: 10 mA damages a 200 Ah battery after about 8 days (a warning: not below 8)."""
    alarm = {"name": "alarm", "type": "residual-load", "current_a": 0.0055}  # + 4.5 mA BMS
    [f] = findings("CHK-9", batteries=[{"model": "LFP-Smart 12.8/200"}], devices=[alarm])
    assert f.severity == "warning"
    assert "10.0 mA" in f.message
    assert "8.3 days" in f.message


def test_chk9_below_8_days_is_an_error() -> None:
    alarm = {"name": "alarm", "type": "residual-load", "current_a": 0.006}
    [f] = findings("CHK-9", batteries=[{"model": "LFP-Smart 12.8/200"}], devices=[alarm])
    assert f.severity == "error"
    assert "7.9 days" in f.message


def test_chk9_the_bms_alone_on_a_wire_loop() -> None:
    [f] = findings("CHK-9", bms={"remote_terminal": "loop"})
    assert "17.5 mA with the remote on" in f.message
    assert f.severity == "warning"  # 4 Ah over 17.5 mA: 9.5 days
    assert "9.5 days" in f.message
    assert "BMV relay" in f.fix


def test_chk9_not_below_30_days() -> None:
    # 4 Ah reserve over 4.5 mA: 37 days
    assert not findings("CHK-9")


# --- CHK-10: System+ currents and battery shares -----------------------------------------------


def inverter(ac_load_w: float, **more: Any) -> Table:
    return {
        "name": f"inv{ac_load_w:g}",
        "type": "inverter",
        "connection": "system+",
        "ac_load_w": ac_load_w,
        "idle_w": 0.0,
        "efficiency_pct": 100.0,
        **more,
    }


def test_chk10_continuous_above_200_a() -> None:
    found = findings("CHK-10", devices=[inverter(2600.0, surge_w=2600.0)])
    assert [f.severity for f in found] == ["error"]
    assert "203 A" in found[0].message


def test_chk10_a_surge_above_the_400_a_peak() -> None:
    [f] = findings("CHK-10", devices=[inverter(1000.0, surge_w=5200.0)])
    assert f.severity == "error"
    assert "406 A" in f.message
    assert f.where.field == "device[1].surge_w"
    assert not findings("CHK-10", devices=[inverter(1000.0, surge_w=5100.0)])


def test_chk10_surge_defaults_to_the_model_class() -> None:
    """Default surge: twice the model's continuous rating (Phoenix Smart 12/3000: 4800 W)."""
    big = inverter(1500.0, model="Phoenix Smart 12/3000")  # 117 A running, 375 A starting
    heater = {"name": "heater", "type": "dc-load", "connection": "system+", "power_w": 400.0}
    [f] = findings("CHK-10", devices=[big, heater])  # + 31 A: 406 A
    assert "406 A" in f.message
    assert not findings("CHK-10", devices=[big])
    small = inverter(1500.0, model="Phoenix 12/800")  # 1300 W peak: no more than its load
    assert not findings("CHK-10", devices=[small, heater])


def test_chk10_everything_starting_at_once_is_a_warning() -> None:
    three = [inverter(500.0, name=n, surge_w=3000.0) for n in "abc"]
    # running 117 A; one starting 312 A; all three at once 703 A
    [f] = findings("CHK-10", devices=three)
    assert f.severity == "warning"
    assert "703 A" in f.message
    two = [inverter(500.0, name=n, surge_w=3000.0) for n in "ab"]  # 78 A; 273 A; 469 A
    assert findings("CHK-10", devices=two)
    gentle = [inverter(500.0, name=n, surge_w=1600.0) for n in "abc"]  # 117 A; 203 A; 375 A
    assert not findings("CHK-10", devices=gentle)


def test_chk10_a_batterys_share_above_its_rating() -> None:
    small = [{"model": "LFP-Smart 12.8/50"}]
    [f] = findings("CHK-10", batteries=small, devices=[inverter(1300.0, surge_w=1300.0)])
    assert f.severity == "error"
    assert "above its maximum continuous discharge current of 100 A" in f.message
    assert not findings("CHK-10", batteries=small, devices=[inverter(1200.0, surge_w=1200.0)])


# --- CHK-11 / CHK-12 / CHK-13 --------------------------------------------------------------------


def test_chk11_mixed_models() -> None:
    [f] = findings("CHK-11", batteries=[BATTERY, {"model": "LFP-Smart 12.8/100"}])
    assert f.severity == "warning"
    assert "100 / 200 Ah" in f.message
    assert f.where.field == "battery[2].model"
    assert not findings("CHK-11", batteries=[BATTERY, BATTERY])


@pytest.mark.parametrize("volts", [13.9, 14.5])
def test_chk12_charge_limit_far_from_14_2(volts: float) -> None:
    [f] = findings("CHK-12", bms={"charge_limit_v": volts})
    assert f.severity == "warning"
    assert "charge_limit_v = 14.2" in f.fix


@pytest.mark.parametrize("volts", [14.0, 14.4])
def test_chk12_the_edges_of_the_band_are_fine(volts: float) -> None:
    assert not findings("CHK-12", bms={"charge_limit_v": volts})


def test_chk13_smart_alternator_at_or_below_13_v() -> None:
    [f] = findings("CHK-13", alternator={**ALTERNATOR, "smart_voltage_v": 13.0})
    assert "Orion" in f.fix
    assert f.where.field == "alternator.smart_voltage_v"
    [g] = findings("CHK-13", alternator={**ALTERNATOR, "regulated_voltage_v": 12.9})
    assert g.where.field == "alternator.regulated_voltage_v"


def test_chk13_not_above_13_v() -> None:
    assert not findings("CHK-13", alternator={**ALTERNATOR, "smart_voltage_v": 13.05})


# --- CHK-14: the energy budget -------------------------------------------------------------------


def test_chk14_budget_of_loads_and_driving() -> None:
    fridge = {"name": "fridge", "type": "dc-load", "connection": "system+", "power_w": 64.0}
    timeline = (
        '[scenario]\nname = "x"\nduration_d = 2\n\n'
        '[[timeline]]\nat_h = 1\naction = "engine-start"\n\n'
        '[[timeline]]\nat_h = 3\naction = "engine-stop"\n'
    )
    b = budget(design(devices=[fridge], extra=timeline))
    out_ah = (64.0 + 0.0175 * 12.8) * 24 / 12.8
    assert b.ah_out_per_day == pytest.approx(out_ah, abs=0.05)
    assert b.ah_in_per_day == pytest.approx(60.0)  # 2 h in 2 days at the 80A fuse's 60 A
    assert b.wh_out_per_day == pytest.approx(out_ah * 12.8, abs=1)
    assert b.autonomy_days == pytest.approx(400 * 0.99 / out_ah, abs=0.01)
    assert b.drive_h_per_day == pytest.approx(out_ah / 60.0, abs=0.01)
    [f] = findings("CHK-14", devices=[fridge])
    assert f.severity == "info"
    assert "h driving a day keeps the bank level" in f.message


def test_chk14_solar_that_covers_the_loads() -> None:
    mppt = {
        "name": "mppt",
        "type": "solar-charger",
        "pv_peak_w": 400.0,
        "max_current_a": 30.0,
        "control": "charge disconnect",
        "cable": "ve.direct non-inverting",
    }
    b = budget(design(devices=[mppt], alternator=None))
    # 400 W over a 13.5 h half sine: 400 * 2 / pi * 13.5 = 3438 Wh
    assert b.wh_in_per_day == pytest.approx(3438, rel=0.01)
    assert b.autonomy_days is None
    assert b.drive_h_per_day is None


# --- all at once ---------------------------------------------------------------------------------


def test_a_design_with_many_mistakes_gets_all_of_them() -> None:
    text = toml(
        bms={
            "fuse_type": "100A",
            "installed_fuse": "125A",
            "charge_limit_v": 15.0,
            "remote_terminal": "loop",
        },
        batteries=[{"model": "LFP-Smart 12.8/50"}, NO_PREALARM],
        alternator={"rated_current_a": 95.0, "smart_voltage_v": 12.5},
        devices=[VEBUS, IP43, FAN, inverter(2700.0)],
    )
    report = check_text(text, "mistakes.toml")
    rules = {f.rule for f in report.findings}
    expected = {f"CHK-{n}" for n in (2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14)}
    assert rules == expected
    assert report.exit_code == 1
    assert all(f.where.line for f in report.findings if f.rule != "CHK-14")


def test_surge_w_is_for_the_check_only_the_twin_builds_without_it() -> None:
    from smartbms.twin import Twin  # noqa: PLC0415

    s = design(
        devices=[inverter(500.0, surge_w=1500.0)], extra='[scenario]\nname = "x"\nduration_h = 1\n'
    )
    assert s.device[0].model_dump().get("surge_w") is None
    twin = Twin.from_scenario(s)
    twin.advance_to(60.0)
    assert twin.state.devices[0].name == "inv500"
