"""summary.json: built from the twin's state and events only, typed, unrounded times, one schema.

The builder is fed hand-made `TwinState` values (tests/unit/summaries.py), so every rule is
checked without running the simulator.
"""

import dataclasses
import json
from pathlib import Path

import pytest
from pydantic import ValidationError

from smartbms.cli import main
from smartbms.core.codes import Code
from smartbms.core.events import (
    CodeRaised,
    LoadDisconnected,
    PreAlarmCause,
    PreAlarmRaised,
)
from smartbms.plant.events import AlternatorOverheatRisk, BatteryDamaged, BatteryOverloaded
from smartbms.sim.summary import BatteryOverload, CellPlace, Summary, SummaryBuilder
from tests.unit.summaries import (
    alternator_state,
    battery_state,
    energy_state,
    readings,
    starter_state,
    summary,
    twin_state,
)

SCHEMA = Path(__file__).resolve().parents[2] / "docs" / "schemas" / "summary.schema.json"


def build(builder: SummaryBuilder, **changes: object) -> Summary:
    """The summary with a final state of `twin_state(**changes)`."""
    return builder.build(twin_state(0.0, **changes), steps=3, wall_time_s=0.25)


def test_a_quiet_run() -> None:
    builder = SummaryBuilder("quiet", 7200.0)
    builder.step(0.0, 7200.0, twin_state())
    result = build(builder)
    assert result.scenario == "quiet"
    assert result.status == "complete"
    assert result.duration_s == 7200.0
    assert (result.steps, result.wall_time_s) == (3, 0.25)
    assert result.lowest_cell_voltage_v == 3.3
    assert result.lowest_cell == CellPlace(battery=1, cell=1)
    assert result.highest_cell_voltage_v == 3.33
    assert result.time_to_prealarm_s is None
    assert result.time_to_load_disconnect_s is None
    assert result.prealarm_lead_s == ()
    assert result.alternator_at_max_output_s is None
    assert result.starter_lowest_voltage_v is None
    assert not result.battery_damaged
    assert result.battery_overloads == ()
    assert result.codes_seen == ()
    assert result.event_counts == {}


def test_an_overload_is_followed_while_the_battery_stays_above_its_rating() -> None:
    """Issue 13: reported after 10 s above the rating; the summary follows it to its end."""
    builder = SummaryBuilder("overload", 3600.0)
    builder.step(0.0, 100.0, twin_state())
    builder.event(
        BatteryOverloaded(110.0, battery=1, current_a=-250.0, rating_a=200.0, duration_s=10.0)
    )
    builder.step(110.0, 500.0, twin_state(batteries=(battery_state(current_a=-280.0),)))
    builder.step(610.0, 60.0, twin_state(batteries=(battery_state(current_a=-150.0),)))
    builder.step(670.0, 60.0, twin_state(batteries=(battery_state(current_a=-290.0),)))
    result = build(builder)
    assert result.battery_overloads == (
        BatteryOverload(
            battery=1, from_s=100.0, rating_a=200.0, highest_current_a=280.0, duration_s=510.0
        ),
    )


def test_the_lowest_cell_is_where_and_when_it_was_lowest() -> None:
    builder = SummaryBuilder("weak", 100.0)
    builder.step(0.0, 10.0, twin_state(batteries=(battery_state(1), battery_state(2))))
    weak = battery_state(2, cell_voltages_v=(3.3, 3.3, 2.91234, 3.3), temperature_c=-5.0)
    builder.step(10.0, 10.0, twin_state(10.0, batteries=(battery_state(1), weak)))
    builder.step(20.0, 10.0, twin_state(20.0, batteries=(battery_state(1), battery_state(2))))
    result = build(builder)
    assert result.lowest_cell_voltage_v == 2.912
    assert result.lowest_cell_at_s == 10.0
    assert result.lowest_cell == CellPlace(battery=2, cell=3)
    assert result.lowest_battery_temperature_c == -5.0
    assert result.highest_battery_temperature_c == 20.0


def test_times_are_unrounded_seconds() -> None:
    builder = SummaryBuilder("times", 86400.0)
    builder.step(0.0, 1.0, twin_state())
    builder.event(PreAlarmRaised(1234.56789, PreAlarmCause.CHAIN))
    builder.event(LoadDisconnected(1264.60001))
    builder.event(AlternatorOverheatRisk(4000.123456))
    builder.event(AlternatorOverheatRisk(5000.0))
    builder.event(BatteryDamaged(50000.987654, battery=1))
    final_alternator = alternator_state(at_max_total_s=301.2345)
    final_battery = battery_state(damaged=True, damaged_at_s=50000.987654)
    result = build(builder, alternator=final_alternator, batteries=(final_battery,))
    assert result.time_to_prealarm_s == 1234.56789
    assert result.time_to_load_disconnect_s == 1264.60001
    assert result.prealarm_lead_s == (1264.60001 - 1234.56789,)
    assert result.alternator_overheating_risk
    assert result.alternator_overheating_risk_at_s == 4000.123456
    assert result.alternator_at_max_output_s == 301.2345
    assert result.battery_damaged
    assert result.battery_damaged_at_s == 50000.987654
    assert result.batteries[0].damaged_at_s == 50000.987654
    assert not any(name.endswith("_h") for name in result.to_dict())


def test_every_disconnect_after_a_prealarm_has_its_lead() -> None:
    builder = SummaryBuilder("leads", 1000.0)
    builder.event(LoadDisconnected(10.0))  # no pre-alarm before it: no lead
    builder.event(PreAlarmRaised(100.0, PreAlarmCause.CHAIN))
    builder.event(LoadDisconnected(130.0))
    builder.event(PreAlarmRaised(500.0, PreAlarmCause.CHAIN))
    builder.event(LoadDisconnected(545.5))
    result = build(builder)
    assert result.prealarm_lead_s == (30.0, 45.5)
    assert result.time_to_load_disconnect_s == 10.0
    assert result.event_counts == {"LoadDisconnected": 3, "PreAlarmRaised": 2}


def test_codes_in_the_order_first_raised_and_counts_by_kind() -> None:
    builder = SummaryBuilder("codes", 100.0)
    for t, code in ((1.0, Code.W_B12), (2.0, Code.A_B11), (3.0, Code.W_B12)):
        builder.event(CodeRaised(t, code))
    result = build(builder)
    assert result.codes_seen == ("W-B12", "A-B11")
    assert result.event_counts == {"CodeRaised": 3}


def test_the_alternator_port_and_what_the_app_showed() -> None:
    builder = SummaryBuilder("alternator", 100.0)
    builder.step(0.0, 30.0, twin_state(ab_current_a=0.05))  # below 0.1 A: not charging
    shown = readings(shown_a=88.0, shown_pct=97.77)
    builder.step(30.0, 40.0, twin_state(30.0, ab_current_a=99.987, readings=shown))
    builder.step(70.0, 30.0, twin_state(70.0, ab_current_a=20.0, readings=readings(20.0, 22.0)))
    result = build(builder, alternator=alternator_state(), starter=starter_state(10.91234))
    assert result.alternator_charging_s == 70.0
    assert result.highest_ab_current_a == 99.99
    assert result.highest_displayed_ab_current_a == 88.0
    assert result.highest_displayed_ab_pct == 97.8
    assert result.alternator_at_max_output_s == 0.0
    assert result.starter_lowest_voltage_v == 10.912


def test_bank_soc_temperatures_and_energy() -> None:
    builder = SummaryBuilder("bank", 100.0)
    builder.step(0.0, 50.0, twin_state(bank_soc_pct=40.123, bms_temperature_c=31.0))
    builder.step(50.0, 50.0, twin_state(50.0, bank_soc_pct=35.555, bms_temperature_c=45.678))
    final = battery_state(soc_pct=36.789, balancer="balancing")
    energy = energy_state(ab_in_wh=1234.56, batteries_out_wh=99.94)
    result = build(builder, bank_soc_pct=35.0, batteries=(final,), energy=energy)
    assert result.lowest_bank_soc_pct == 35.55  # seen at a step's start
    assert result.final_bank_soc_pct == 35.0
    assert result.highest_bms_temperature_c == 45.68
    assert result.batteries[0].final_soc_pct == 36.79
    assert result.batteries[0].balancer == "balancing"
    assert result.energy_wh.alternator_in == 1234.6
    assert result.energy_wh.batteries_out == 99.9


def test_a_run_without_steps_has_no_extremes() -> None:
    result = build(SummaryBuilder("empty", 0.0))
    assert result.lowest_cell_voltage_v is None
    assert result.lowest_cell is None
    assert result.highest_bms_temperature_c is None
    assert json.loads(result.to_json())["lowest_cell_voltage_v"] is None


def test_an_interrupted_run_says_so() -> None:
    builder = SummaryBuilder("stopped", 86400.0)
    result = builder.build(twin_state(3600.0), steps=1, wall_time_s=0.1, status="interrupted")
    assert result.status == "interrupted"
    assert Summary.from_json(result.to_json()).status == "interrupted"


def test_the_summary_is_frozen() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        summary().steps = 5  # type: ignore[misc]


# --- summary.json ---------------------------------------------------------------------------------


def test_json_round_trip() -> None:
    original = summary(
        codes_seen=("W-B12",),
        prealarm_lead_s=(30.000001,),
        time_to_prealarm_s=1234.5678901234,
        event_counts={"PreAlarmRaised": 1},
    )
    text = original.to_json()
    assert Summary.from_json(text) == original
    assert json.loads(text)["codes_seen"] == ["W-B12"]


def test_reading_a_summary_checks_it() -> None:
    data = summary().to_dict()
    del data["codes_seen"]
    with pytest.raises(ValidationError):
        Summary.from_json(json.dumps(data))
    with pytest.raises(ValidationError):
        Summary.from_json(json.dumps({**summary().to_dict(), "status": "half done"}))


def test_the_printed_schema_is_the_committed_one(capsys: pytest.CaptureFixture[str]) -> None:
    """docs/schemas/summary.schema.json: `smartbms schema summary > ...` after a change."""
    assert main(["schema", "summary"]) == 0
    printed = capsys.readouterr().out
    assert printed == SCHEMA.read_text(encoding="utf-8")
    schema = json.loads(printed)
    assert schema["properties"]["status"]["enum"] == ["complete", "interrupted"]
    assert set(schema["required"]) == {f.name for f in dataclasses.fields(Summary)}
    assert not [name for name in schema["properties"] if name.endswith("_h")]
