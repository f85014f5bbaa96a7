"""The verdicts: judged from a `Summary` and the events, the same for the page and the CLI."""

import dataclasses

import pytest

from smartbms.core.units import duration_text
from smartbms.sim.summary import BatteryOverload
from smartbms.sim.verdicts import Verdict, code_info, prealarm_leads, verdicts
from tests.unit.summaries import battery_summary, summary

TITLES = (
    "Lowest cell voltage",
    "Pre-alarm (W-B12)",
    "Load disconnect",
    "Pre-alarm lead",
    "Alternator overheating",
    "Starter battery lowest",
    "Battery damaged",
    "Battery current",
    "Final state of charge",
    "BMS temperature",
    "Codes shown",
)
BADGE_MARK = {"ok": "✓", "warning": "!", "problem": "✗", "info": "—"}


def verdict(found: tuple[Verdict, ...], title: str) -> Verdict:
    """The verdict with this title."""
    return next(v for v in found if v.title == title)


def events_at(*entries: tuple[float, str, str]) -> list[dict[str, object]]:
    """Event records from (time, kind, load-disconnect reason) triples."""
    records: list[dict[str, object]] = []
    for t, kind, reason in entries:
        record: dict[str, object] = {"t_s": t, "event": kind}
        if reason:
            record["reason"] = reason
        records.append(record)
    return records


def test_a_quiet_run_is_fine_in_every_verdict_in_reading_order() -> None:
    found = verdicts(summary())
    assert tuple(v.title for v in found) == TITLES
    by_title = {v.title: v.status for v in found}
    assert by_title.pop("Pre-alarm lead") == "info"  # no disconnect: no lead needed
    assert by_title.pop("Alternator overheating") == "info"  # no alternator
    assert by_title.pop("Starter battery lowest") == "info"  # no starter battery
    assert set(by_title.values()) == {"ok"}


def test_every_verdict_says_its_state_in_words() -> None:
    runs = (
        summary(),
        summary(codes_seen=("E-B32",), battery_damaged=True, lowest_cell_voltage_v=2.0),
    )
    for found in (verdicts(run) for run in runs):
        for v in found:
            assert v.status_text.startswith(BADGE_MARK[v.status]), v


def test_verdicts_are_frozen() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        verdicts(summary())[0].status = "problem"  # type: ignore[misc]


@pytest.mark.req("OUT-4")
@pytest.mark.parametrize(
    ("leads", "status", "badge"),
    [
        ((30.0,), "ok", "✓ ≥ 30 s"),
        ((95.0, 31.5), "ok", "✓ ≥ 30 s"),
        ((29.9,), "problem", "✗ under 30 s"),
        ((), "problem", "✗ no warning"),
    ],
)
def test_prealarm_lead_is_green_from_30_s(
    leads: tuple[float, ...], status: str, badge: str
) -> None:
    run = summary(
        prealarm_lead_s=leads,
        time_to_load_disconnect_s=7200.0,
        event_counts={"LoadDisconnected": max(len(leads), 1)},
    )
    lead = verdict(verdicts(run), "Pre-alarm lead")
    assert (lead.status, lead.status_text) == (status, badge)
    if leads:
        assert lead.value == duration_text(min(leads))


@pytest.mark.req("OUT-4")
def test_a_disconnect_without_its_own_prealarm_is_red() -> None:
    run = summary(
        prealarm_lead_s=(45.0,),
        time_to_load_disconnect_s=7200.0,
        event_counts={"LoadDisconnected": 2},
    )
    lead = verdict(verdicts(run), "Pre-alarm lead")
    assert lead.status == "problem"
    assert "1 cut(s) had no pre-alarm" in lead.detail


@pytest.mark.req("OUT-4")
@pytest.mark.parametrize(
    ("events", "status", "value"),
    [
        # the pre-alarm clears at the very instant of the cut (OUT-7): it still announced it
        (events_at((100.0, "PreAlarmRaised", ""), (130.0, "LoadDisconnected", "under-voltage"),
                   (130.0, "PreAlarmCleared", "")), "ok", "30.0 s"),
        (events_at((100.0, "PreAlarmRaised", ""), (129.9, "LoadDisconnected", "under-voltage")),
         "problem", "29.9 s"),
        # raised, recovered, then cut later without a new warning
        (events_at((100.0, "PreAlarmRaised", ""), (200.0, "PreAlarmCleared", ""),
                   (900.0, "LoadDisconnected", "under-voltage")), "problem", "none"),
        # a safe-state cut is not announced by the pre-alarm and needs no lead
        (events_at((50.0, "LoadDisconnected", "safe state")), "info", "—"),
    ],
)  # fmt: skip
def test_prealarm_lead_from_the_events(
    events: list[dict[str, object]], status: str, value: str
) -> None:
    lead = verdict(verdicts(summary(prealarm_lead_s=(999.0,)), events), "Pre-alarm lead")
    assert (lead.status, lead.value) == (status, value)


def test_a_safe_state_disconnect_says_so() -> None:
    events = events_at((1200.0, "LoadDisconnected", "safe state"))
    cut = verdict(verdicts(summary(), events), "Load disconnect")
    assert cut.status == "problem"
    assert cut.value == "20 min"
    assert "safe state" in cut.detail


def test_switching_the_system_off_is_no_problem() -> None:
    events = events_at((60.0, "LoadDisconnected", "system switched off"))
    cut = verdict(verdicts(summary(), events), "Load disconnect")
    assert (cut.status, cut.value) == ("info", "60.0 s")


def test_no_disconnect_needs_no_lead() -> None:
    run = summary(prealarm_lead_s=(), time_to_load_disconnect_s=None)
    assert verdict(verdicts(run), "Pre-alarm lead").status == "info"
    assert verdict(verdicts(run), "Load disconnect").value == "never"


def test_leads_from_the_summary_when_there_are_no_events() -> None:
    leads = prealarm_leads(summary(prealarm_lead_s=(31.0,), time_to_load_disconnect_s=90.0), [])
    assert leads.leads_s == (31.0,)
    assert leads.without_prealarm == 0
    assert leads.first_disconnect == (90.0, "under-voltage")


def test_a_run_without_cell_data_is_not_shown_as_fine() -> None:
    run = summary(lowest_cell_voltage_v=None, lowest_cell=None, highest_bms_temperature_c=None)
    found = verdicts(run)
    assert verdict(found, "Lowest cell voltage").status == "info"
    assert "BMS temperature" not in {v.title for v in found}


def test_times_read_as_durations() -> None:
    run = summary(
        time_to_prealarm_s=3600.0 + 42 * 60,
        lowest_cell_voltage_v=2.9,
        lowest_cell_at_s=5400.0,
        battery_damaged=True,
        battery_damaged_at_s=8 * 86400.0,
        batteries=(battery_summary(1), battery_summary(2, damaged=True)),
    )
    found = verdicts(run)
    assert verdict(found, "Pre-alarm (W-B12)").value == "1 h 42 min"
    lowest = verdict(found, "Lowest cell voltage").detail
    assert lowest == "battery 1, cell 1, after 1 h 30 min (day 1 09:30:00)"
    assert verdict(found, "Battery damaged").detail == "battery 2; after 8 d (day 9 08:00:00)"


@pytest.mark.parametrize(
    ("changes", "title", "status"),
    [
        ({"alternator_overheating_risk": True, "alternator_at_max_output_s": 360.0},
         "Alternator overheating", "problem"),
        ({"alternator_overheating_risk": False, "alternator_at_max_output_s": 60.0},
         "Alternator overheating", "ok"),
        ({"alternator_at_max_output_s": None}, "Alternator overheating", "info"),
        ({"battery_damaged": True, "battery_damaged_at_s": 30 * 3600.0}, "Battery damaged",
         "problem"),
        ({"battery_damaged": False}, "Battery damaged", "ok"),
        ({"lowest_cell_voltage_v": 3.2}, "Lowest cell voltage", "ok"),
        ({"lowest_cell_voltage_v": 2.8}, "Lowest cell voltage", "warning"),
        ({"lowest_cell_voltage_v": 2.3}, "Lowest cell voltage", "problem"),
        ({"starter_lowest_voltage_v": 9.0}, "Starter battery lowest", "problem"),
        ({"starter_lowest_voltage_v": 10.0}, "Starter battery lowest", "warning"),
        ({"starter_lowest_voltage_v": None}, "Starter battery lowest", "info"),
        ({"codes_seen": ("W-B12",)}, "Codes shown", "warning"),
        ({"codes_seen": ("A-B11",)}, "Codes shown", "problem"),
        ({"codes_seen": ("E-B32",)}, "Codes shown", "problem"),
        ({"highest_bms_temperature_c": 80.0}, "BMS temperature", "warning"),
        ({"highest_bms_temperature_c": 90.0}, "BMS temperature", "problem"),
        ({"time_to_prealarm_s": 0.0}, "Pre-alarm (W-B12)", "warning"),
        ({"final_bank_soc_pct": 15.0}, "Final state of charge", "warning"),
        ({"final_bank_soc_pct": 5.0}, "Final state of charge", "problem"),
    ],
)  # fmt: skip
def test_verdict_colours(changes: dict[str, object], title: str, status: str) -> None:
    assert verdict(verdicts(summary(**changes)), title).status == status


def test_code_info() -> None:
    info = code_info("A-B11")
    assert info is not None
    assert info.name
    assert code_info("X-Y99") is None


# --- battery overload (issue 13) -----------------------------------------------------------------


def test_no_overload_is_within_ratings() -> None:
    found = verdict(verdicts(summary()), "Battery current")
    assert (found.status, found.value) == ("ok", "within ratings")


def test_an_overload_is_a_problem_naming_battery_current_rating_and_duration() -> None:
    # the case: a 3 kW inverter drawing 280 A from a 100 Ah battery (200 A) for 18 min
    long = BatteryOverload(
        battery=1, from_s=600.0, rating_a=200.0, highest_current_a=280.0, duration_s=1080.0
    )
    short = BatteryOverload(
        battery=2, from_s=60.0, rating_a=200.0, highest_current_a=300.0, duration_s=12.0
    )
    found = verdict(verdicts(summary(battery_overloads=(short, long))), "Battery current")
    assert found.status == "problem"
    assert found.value == "280 A"
    assert "battery 1" in found.detail
    assert "200 A rating" in found.detail
    assert duration_text(1080.0) in found.detail
    assert "2 overloads" in found.detail
