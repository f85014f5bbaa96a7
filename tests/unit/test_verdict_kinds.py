"""One test per verdict kind that a run's incidents add: each says what happened, with numbers.

The summaries are made by hand (`tests.unit.summaries`), so each kind is tested on its own; the
examples' own verdicts are pinned in tests/scenarios/test_example_verdicts.py.
"""

import dataclasses
import datetime

from smartbms.sim.summary import RunClock
from smartbms.sim.verdicts import Verdict, verdicts
from tests.unit.summaries import battery_summary, incidents, summary


def by_title(found: tuple[Verdict, ...], title: str) -> Verdict:
    """The verdict with that title (the test fails when there is none)."""
    matches = [v for v in found if v.title == title]
    assert matches, f"no verdict {title!r} in {[v.title for v in found]}"
    return matches[0]


def test_a_quiet_run_names_no_incident() -> None:
    titles = {v.title for v in verdicts(summary())}
    for title in (
        "System+ trip (A-A12)",
        "Fuse type setting",
        "AB fuse",
        "Alternator at its limit",
    ):
        assert title not in titles


def test_a_lockout_is_a_problem_and_the_loads_were_off() -> None:
    """A-A12 locked out for 5 h: never 'loads stayed on'."""
    run = summary(
        duration_s=6 * 3600.0,
        incidents=incidents(
            loads_off_s=5 * 3600.0 + 30.0,
            loads_off_first_s=60.0,
            system_plus_trips=4,
            system_plus_first_trip_s=60.0,
            system_plus_trip_cause="short circuit",
            system_plus_trip_peak_a=4446.4,
            system_plus_lockout_at_s=90.0,
            system_plus_locked_out_s=5 * 3600.0,
        ),
    )
    found = verdicts(run)
    trip = by_title(found, "System+ trip (A-A12)")
    assert trip.status == "problem"
    assert trip.value == "locked out 5 h"
    assert "short circuit at 4,446 A" in trip.detail
    assert "tripped 4 times" in trip.detail
    assert "locked out after 90.0 s (day 1 08:01:30) for 5 h" in trip.detail
    loads = by_title(found, "Load disconnect")
    assert loads.status == "problem"
    assert "stayed on" not in loads.detail
    assert loads.value == "5 h"
    assert "System+ locked out" in loads.detail


def test_a_trip_without_lockout_is_a_warning() -> None:
    run = summary(
        incidents=incidents(
            system_plus_trips=1,
            system_plus_first_trip_s=600.0,
            system_plus_trip_cause="peak overload",
            system_plus_trip_peak_a=130.0,
        )
    )
    trip = by_title(verdicts(run), "System+ trip (A-A12)")
    assert trip.status == "warning"
    assert trip.value == "tripped once"
    assert (
        trip.detail == "peak overload at 130 A, first after 10 min (day 1 08:10:00); tripped once"
    )


def test_a_fuse_mismatch_names_both_fuses_and_the_currents() -> None:
    run = summary(
        incidents=incidents(
            fuse_mismatch_s=3600.0,
            fuse_setting="50A",
            fuse_installed="100A",
            fuse_mismatch_limit_a=45.0,
            fuse_mismatch_ab_current_a=45.0,
            fuse_mismatch_displayed_a=45.0,
            fuse_mismatch_displayed_pct=100.0,
        )
    )
    fuse = by_title(verdicts(run), "Fuse type setting")
    assert fuse.status == "problem"
    assert fuse.value == "50 A set, 100 A fitted"
    assert (
        "alternator limited to 45 A with the 50 A fuse setting while a 100 A fuse is installed"
        in fuse.detail
    )
    assert "up to 45 A flowed, the app showed 45 A (100 %)" in fuse.detail
    assert "for 1 h of charging" in fuse.detail


def test_a_blown_fuse() -> None:
    run = summary(incidents=incidents(fuse_blown_at_s=7200.0))
    fuse = by_title(verdicts(run), "AB fuse")
    assert fuse.status == "problem"
    assert fuse.value == "blown"
    assert fuse.detail.startswith("after 2 h (day 1 10:00:00)")


def test_a_damaged_battery_names_it_and_the_time() -> None:
    run = summary(
        battery_damaged=True,
        battery_damaged_at_s=3 * 86400.0 + 61.0,
        batteries=(battery_summary(1), battery_summary(2, damaged=True)),
        clock=RunClock(start_time_of_day_s=16 * 3600.0, start_date="2026-12-04"),
    )
    damage = by_title(verdicts(run), "Battery damaged")
    assert damage.status == "problem"
    assert damage.detail == "battery 2; after 3 d (Mon 16:01:01)"


def test_the_alternator_at_its_limit_over_five_minutes() -> None:
    run = summary(
        incidents=incidents(
            ab_at_limit_longest_s=23 * 60.0, ab_at_limit_at_s=300.0, ab_at_limit_a=100.0
        )
    )
    limit = by_title(verdicts(run), "Alternator at its limit")
    assert limit.status == "warning"
    assert limit.value == "23 min"
    assert "held at the BMS limit of 100 A for 23 min from day 1 08:05:00" in limit.detail
    short = summary(
        incidents=incidents(ab_at_limit_longest_s=299.0, ab_at_limit_at_s=0.0, ab_at_limit_a=100.0)
    )
    assert "Alternator at its limit" not in {v.title for v in verdicts(short)}


def test_state_of_charge_is_clamped_and_nothing_reads_none() -> None:
    run = summary(final_bank_soc_pct=-0.3, lowest_bank_soc_pct=-0.31, starter_lowest_voltage_v=None)
    found = verdicts(run)
    soc = by_title(found, "Final state of charge")
    assert soc.value == "0.0 %"
    assert soc.detail == "lowest 0.0 %"
    for v in found:
        for text in dataclasses.astuple(v):
            assert "None" not in text
            assert "-0.0" not in text


def test_times_are_exact_to_the_second_on_the_clock() -> None:
    """2723.03 s reads '45 min 23 s' and its clock time, never raw seconds or rounded hours."""
    run = summary(
        time_to_prealarm_s=2723.03,
        clock=RunClock(
            start_time_of_day_s=23.5 * 3600.0, start_date=datetime.date(2026, 12, 4).isoformat()
        ),
    )
    pre = by_title(verdicts(run), "Pre-alarm (W-B12)")
    assert pre.value == "45 min 23 s"
    assert pre.detail == "after the start (Sat 00:15:23): the buzzer sounds"
