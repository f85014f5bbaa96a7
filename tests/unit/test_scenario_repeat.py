"""Repeating the timeline: `timeline_period` in [scenario] makes the [[timeline]] one period that
repeats until the end, and `Scenario.timeline_occurrences()` yields every repeat lazily, in time
order. The broken corpus (tests/scenarios/broken/) holds an entry outside the period and a period
longer than the scenario.
"""

import inspect
import itertools
import math
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smartbms import scenario as sc
from smartbms.scenario import ScenarioError, load_scenario, parse_scenario

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = ROOT / "tests" / "scenarios"
FIGURE_1 = ROOT / "examples" / "manual-figure-1.toml"

HEAD = """\
[scenario]
name = "van"
duration_h = 7
{period}

[bms]
installed_fuse = "125A"

[[battery]]
model = "LFP-Smart 12.8/200"
"""
"""Line 4 holds the period (or is blank); each `_note` is five lines, its time the third:
the first entry's time is on line 13, the second's on line 18."""


def _note(at: str, text: str) -> str:
    return f'\n[[timeline]]\n{at}\naction = "note"\ntext = "{text}"\n'


def _scenario(period: str = "", *entries: str, duration: str = "duration_h = 7") -> sc.Scenario:
    text = HEAD.format(period=period).replace("duration_h = 7", duration) + "".join(entries)
    return parse_scenario(text, "van.toml")


def _error(period: str = "", *entries: str, duration: str = "duration_h = 7") -> ScenarioError:
    with pytest.raises(ScenarioError) as caught:
        _scenario(period, *entries, duration=duration)
    error = caught.value
    assert "\n" not in str(error)
    assert str(error).startswith("van.toml, line ")
    return error


def _texts(occurrences: list[tuple[float, sc.TimelineEntry]]) -> list[tuple[float, str]]:
    return [(t, entry.text if isinstance(entry, sc.Note) else "") for t, entry in occurrences]


# --- the key -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "value", "seconds"),
    [
        ("timeline_period_s", 5400, 5400.0),
        ("timeline_period_min", 90, 5400.0),
        ("timeline_period_h", 1.5, 5400.0),
        ("timeline_period_d", 0.25, 21_600.0),
    ],
)
def test_the_period_is_normalised_to_seconds_in_each_form(
    key: str, value: float, seconds: float
) -> None:
    s = _scenario(f"{key} = {value}")
    assert s.scenario.timeline_period_s == seconds
    assert s.duration_s == 7 * 3600.0


def test_a_period_equal_to_the_duration_is_allowed() -> None:
    s = _scenario("timeline_period_h = 7", _note("at_h = 0", "start"))
    assert s.scenario.timeline_period_s == s.duration_s
    # an entry at 0 also happens at the end: times up to and including the duration count
    assert _texts(list(s.timeline_occurrences())) == [(0.0, "start"), (7 * 3600.0, "start")]


def test_without_the_key_nothing_changes() -> None:
    for path in sorted((SCENARIOS / "valid").glob("*.toml")):
        s = load_scenario(path)
        assert s.scenario.timeline_period_s is None
        assert list(s.timeline_occurrences()) == [(e.at_s, e) for e in s.timeline]
    # an entry may still sit anywhere up to the end, and once only
    s = _scenario("", _note("at_h = 7", "end"), _note("at_h = 2", "middle"))
    assert _texts(list(s.timeline_occurrences())) == [(7200.0, "middle"), (25_200.0, "end")]
    assert _scenario().timeline == ()
    assert list(_scenario().timeline_occurrences()) == []


# --- the occurrences ---------------------------------------------------------------------------


def test_the_repeats_come_in_time_order_equal_times_in_file_order() -> None:
    s = _scenario(
        "timeline_period_h = 3",
        _note("at_h = 2", "first at 2"),
        _note("at_h = 0", "at 0"),
        _note("at_min = 120", "second at 2"),
        _note("at_h = 1", "at 1"),
    )
    h = 3600.0
    assert _texts(list(s.timeline_occurrences())) == [
        (0.0, "at 0"),
        (1 * h, "at 1"),
        (2 * h, "first at 2"),
        (2 * h, "second at 2"),
        (3 * h, "at 0"),
        (4 * h, "at 1"),
        (5 * h, "first at 2"),
        (5 * h, "second at 2"),
        (6 * h, "at 0"),
        (7 * h, "at 1"),  # exactly at the end (7 h): included; 8 h is not
    ]
    # the repeated entry is the one written, with the first period's at_s
    occurrences = list(s.timeline_occurrences())
    assert occurrences[4][1] is occurrences[0][1]
    assert occurrences[4][1].at_s == 0.0


def test_the_last_repeat_stops_at_the_duration() -> None:
    s = _scenario(
        "timeline_period_h = 2",
        _note("at_min = 30", "a"),
        _note("at_min = 90", "b"),
        duration="duration_min = 270",  # 4 h 30 min: the third period is cut after "a"
    )
    assert [t / 60.0 for t, _ in s.timeline_occurrences()] == [30.0, 90.0, 150.0, 210.0, 270.0]


def test_an_empty_timeline_with_a_period_has_no_occurrences() -> None:
    assert list(_scenario("timeline_period_s = 1").timeline_occurrences()) == []


def test_the_occurrences_are_generated_lazily() -> None:
    # 400 days of a one-minute period: 576,001 repeats (within the limit), never held in a list
    s = _scenario("timeline_period_s = 60", _note("at_s = 0", "tick"), duration="duration_d = 400")
    assert inspect.isgenerator(s.timeline_occurrences())
    occurrences = s.timeline_occurrences()
    first = list(itertools.islice(occurrences, 3))
    assert [t for t, _ in first] == [0.0, 60.0, 120.0]
    assert next(occurrences)[0] == 180.0


def test_a_period_that_would_never_end_is_refused_with_the_estimate() -> None:
    # 400 days of a one-millisecond period: 34.56 billion repeats (the run would never end)
    with pytest.raises(ScenarioError) as caught:
        _scenario(
            "timeline_period_s = 0.001", _note("at_s = 0", "tick"), duration="duration_d = 400"
        )
    error = caught.value
    assert error.field == "scenario.timeline_period_s"
    assert "about 3.46e+10 times over 400 days" in error.message
    assert "at most 1,000,000" in error.message


@given(
    period_s=st.integers(1, 50),
    extra_s=st.integers(0, 200),
    offsets=st.lists(st.integers(0, 49), max_size=5),
)
def test_the_occurrences_are_every_repeat_up_to_the_end_sorted_and_stable(
    period_s: int, extra_s: int, offsets: list[int]
) -> None:
    duration_s = period_s + extra_s
    ats = [offset % period_s for offset in offsets]
    entries = [_note(f"at_s = {at}", str(i)) for i, at in enumerate(ats)]
    s = _scenario(
        f"timeline_period_s = {period_s}", *entries, duration=f"duration_s = {duration_s}"
    )
    expected = sorted(
        (
            (float(at + k * period_s), str(i))
            for i, at in enumerate(ats)
            for k in range(duration_s // period_s + 1)
            if at + k * period_s <= duration_s
        ),
        key=lambda item: (item[0], int(item[1])),  # equal times: file order
    )
    assert _texts(list(s.timeline_occurrences())) == expected


def test_a_year_of_the_manual_figure_1_weekend() -> None:
    text = FIGURE_1.read_text(encoding="utf-8")
    assert text.count("duration_h = 48\n") == 1
    year = text.replace("duration_h = 48\n", "duration_d = 365\ntimeline_period_h = 48\n")
    s = parse_scenario(year, "figure-1-year.toml")
    period, end = 48 * 3600.0, 365 * 86_400.0
    assert (s.scenario.timeline_period_s, s.duration_s) == (period, end)
    assert len(s.timeline) == 14
    # 8760 h = 182 whole weekends and 24 h more: 182 * 14 entries, then the 7 before 24 h
    per_entry = [math.floor((end - e.at_s) / period) + 1 for e in s.timeline]
    assert sum(per_entry) == 182 * 14 + 7 == 2555
    count = 0
    last = -1.0
    for t, _entry in s.timeline_occurrences():
        assert last <= t <= end
        last = t
        count += 1
    assert count == 2555
    assert last == 182 * period + 20.4 * 3600.0


# --- what is refused ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("period", "key", "got"),
    [
        ("timeline_period_s = 0", "timeline_period_s", "0 s"),
        ("timeline_period_h = 0", "timeline_period_h", "0 h"),
        ("timeline_period_d = -1", "timeline_period_d", "-1 days"),
    ],
)
def test_a_period_of_zero_or_less_is_refused(period: str, key: str, got: str) -> None:
    error = _error(period)
    assert (error.line, error.field) == (4, f"scenario.{key}")
    assert error.message == f"must be greater than 0 and at most the duration (got {got})"


def test_a_period_that_is_not_a_number_is_refused() -> None:
    error = _error('timeline_period_h = "48"')
    assert (error.line, error.field) == (4, "scenario.timeline_period_h")
    assert error.message == (
        'must be a number of hours, greater than 0 and at most the duration (got "48")'
    )


def test_a_period_longer_than_the_scenario_is_refused() -> None:
    error = _error("timeline_period_min = 480", _note("at_h = 1", "x"))
    assert (error.line, error.field) == (4, "scenario.timeline_period_min")
    assert error.message == (
        "a period of 8 h is longer than the scenario (it lasts 7 h); allowed: greater than 0 "
        "and at most the duration"
    )
    assert error.more_problems == 0


def test_the_period_is_given_once() -> None:
    error = _error("timeline_period_h = 2\ntimeline_period_min = 120")
    assert (error.line, error.field) == (5, "scenario.timeline_period_min")
    assert error.message == (
        "timeline_period_h is already given; give the timeline_period once, as one of "
        "timeline_period_s, timeline_period_min, timeline_period_h, timeline_period_d"
    )


@pytest.mark.parametrize(
    ("key", "meant"),
    [
        ("timeline_perod_h", "timeline_period_h"),
        ("timeline_period", "timeline_period_s"),
        ("timeline-period_d", "timeline_period_d"),
    ],
)
def test_a_typo_in_the_key_suggests_the_right_one(key: str, meant: str) -> None:
    error = _error(f"{key} = 2")
    assert (error.line, error.field) == (4, f"scenario.{key}")
    assert error.message.startswith(f"unknown field; did you mean '{meant}'? Allowed: ")
    assert "timeline_period_s, timeline_period_min, timeline_period_h, timeline_period_d" in (
        error.message
    )


@pytest.mark.parametrize(
    ("at", "shown"),
    [("at_h = 3", "3 h"), ("at_min = 200", "200 min"), ("at_h = 7", "7 h")],
)
def test_an_entry_at_or_after_the_period_is_refused(at: str, shown: str) -> None:
    error = _error("timeline_period_h = 3", _note("at_h = 1", "fine"), _note(at, "outside"))
    # the second entry's time key, as written
    assert (error.line, error.field) == (18, f"timeline[2].{at.partition(' ')[0]}")
    assert error.message == (
        f"at {shown} is not inside the timeline period (3 h): the entries describe one period, "
        "which repeats; allowed: 0 to less than the period"
    )


def test_every_entry_outside_the_period_is_counted() -> None:
    error = _error(
        "timeline_period_h = 2",
        _note("at_h = 2", "a"),
        _note("at_h = 1", "b"),
        _note("at_h = 5", "c"),
    )
    assert (error.line, error.field) == (13, "timeline[1].at_h")
    assert error.more_problems == 1
