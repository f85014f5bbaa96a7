"""`[scenario] start_date` and the wall clock: 'Fri 16:00' with a date, 'day 1 16:00' without."""

import datetime
from pathlib import Path

import pytest

from smartbms.core.units import wall_clock_text
from smartbms.scenario import ScenarioError, parse_scenario
from smartbms.sim.runner import Simulation

BASE = """
[scenario]
name = "dated"
duration_min = 1
start_time_of_day_h = 16.0
{line}

[bms]
installed_fuse = "125A"

[[battery]]
model = "LFP-Smart 12.8/200"
"""


@pytest.mark.parametrize("line", ["start_date = 2026-12-04", 'start_date = "2026-12-04"'])
def test_a_toml_date_or_an_iso_string(line: str) -> None:
    scenario = parse_scenario(BASE.format(line=line), "dated.toml")
    assert scenario.scenario.start_date == datetime.date(2026, 12, 4)


def test_no_date_is_the_default() -> None:
    assert parse_scenario(BASE.format(line=""), "undated.toml").scenario.start_date is None


@pytest.mark.parametrize("value", ['"tomorrow"', "2026-12-04T10:00:00", "20261204", '"2026-13-01"'])
def test_anything_else_is_refused_with_an_example(value: str) -> None:
    with pytest.raises(ScenarioError) as caught:
        parse_scenario(BASE.format(line=f"start_date = {value}"), "bad.toml")
    assert "must be an ISO date like 2026-12-04" in str(caught.value)
    assert "scenario.start_date" in str(caught.value)


def test_the_summary_keeps_the_clock() -> None:
    scenario = parse_scenario(BASE.format(line="start_date = 2026-12-04"), "dated.toml")
    clock = Simulation(scenario).run().summary.clock
    assert clock.start_time_of_day_s == 16 * 3600.0
    assert clock.start_date == "2026-12-04"
    assert clock.date == datetime.date(2026, 12, 4)


@pytest.mark.parametrize(
    ("t_s", "date", "text"),
    [
        (0.0, datetime.date(2026, 12, 4), "Fri 16:00:00"),
        (8 * 3600.0 + 5.9, datetime.date(2026, 12, 4), "Sat 00:00:05"),
        (0.0, None, "day 1 16:00:00"),
        (8 * 3600.0 - 0.0000001, None, "day 2 00:00:00"),  # 1 us of slack, as clock_text
        (7 * 86400.0, datetime.date(2026, 12, 4), "Fri 16:00:00"),
        (-5.0, None, "day 1 15:59:55"),
    ],
)
def test_wall_clock_text(t_s: float, date: datetime.date | None, text: str) -> None:
    weekday = None if date is None else date.weekday()
    assert wall_clock_text(t_s, start_time_of_day_s=16 * 3600.0, start_weekday=weekday) == text


def test_wall_clock_text_without_seconds() -> None:
    assert wall_clock_text(59.0, start_time_of_day_s=0.0, with_seconds=False) == "day 1 00:00"


def test_the_scenario_format_documents_it() -> None:
    doc = (Path(__file__).resolve().parents[2] / "docs" / "scenario-format.md").read_text("utf-8")
    assert "| `start_date` |" in doc
