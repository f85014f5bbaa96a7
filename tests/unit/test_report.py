"""report.html: written, self-contained, showing every verdict, plot and event, fast on 30 days.

The runs here are synthetic (a trace and events written by hand), so the report is tested without
the simulator and any shape of run can be made: one battery, no alternator, no events, 30 days.
"""

import csv
import dataclasses
import json
import math
import re
from importlib import resources
from pathlib import Path

import numpy as np
import pytest

from smartbms.sim.output import LED_COLUMNS, columns_for
from smartbms.sim.report import BUCKETS, MAX_EVENT_ROWS, digest_trace, write_report
from smartbms.sim.summary import CellPlace, RunClock, Summary
from tests.unit.summaries import battery_summary, energy_summary
from tests.unit.summaries import summary as make_summary
from tests.unit.test_verdicts import TITLES

DAY = 86400.0
PLOTS = 7
"""Voltages, cells, state of charge, alternator, currents, temperatures, the state strip."""


def fake_columns(batteries: int) -> list[str]:
    """The trace's columns as `output.trace_columns` writes them."""
    return list(columns_for(batteries))


def fake_run(
    out: Path,
    *,
    days: float = 30.0,
    step_s: float = 60.0,
    batteries: int = 2,
    alternator: bool = True,
    starter: bool = True,
    prealarm_lead_s: float = 30.0,
    events: bool = True,
    noisy_events: int = 0,
) -> tuple[Summary, Path, list[dict[str, object]]]:
    """A made-up run: daily solar cycles, a pre-alarm, a load disconnect, A-A12, a damaged battery.

    Returns the summary, the trace path and the event records, as the CLI hands them over.
    """
    out.mkdir(parents=True, exist_ok=True)
    t = np.arange(0.0, days * DAY + step_s / 2, step_s)
    n = t.size
    day_phase = (t % DAY) / DAY
    sun = np.clip(np.sin((day_phase - 0.25) * 2 * math.pi), 0.0, None)
    soc = np.clip(55 + 35 * np.sin(t / DAY * 2 * math.pi / 6) - 20 * (t > 0.4 * days * DAY), 0, 100)
    t_pre = 0.4 * days * DAY + 3 * 3600
    t_ld = t_pre + prealarm_lead_s
    t_short = 0.17 * days * DAY
    t_damage = 0.83 * days * DAY
    cell_min = 3.0 + 0.004 * soc - 0.3 * ((t >= t_pre) & (t < t_ld + 7200))
    bank_v = 4 * cell_min + 0.05
    ab_on = alternator & (((t // DAY) % 3 == 0) & (day_phase > 0.3) & (day_phase < 0.45))
    sp_current = -20.0 * (1 - sun) + 25.0 * sun
    sp_current[np.argmin(np.abs(t - t_short))] = -4200.0  # one sample of a short circuit
    bms_c = 20 + 8 * sun + 50 * np.exp(-(((t - 0.27 * days * DAY) / 3600) ** 2))
    prealarm = (t >= t_pre) & (t < t_ld)
    if n > 100:  # an intermittent pre-alarm earlier on: the output follows the blink
        prealarm |= (
            (t > 0.35 * days * DAY) & (t < 0.35 * days * DAY + 3600) & (np.arange(n) % 2 == 0)
        )
    load_off = (t >= t_ld) & (t < t_ld + 7200)
    codes = np.where(load_off, "A-B11", "")
    codes = np.where((t >= t_pre) & (t < t_ld), "W-B12", codes)
    codes = np.where((t >= 0.6 * days * DAY) & (t < 0.6 * days * DAY + 600), "E-B32", codes)
    codes = np.where(
        (t >= t_short) & (t < t_short + 600), np.char.add(codes.astype(str), " A-A12"), codes
    )
    base: dict[str, np.ndarray] = {
        "t_s": t,
        "bank_voltage_v": bank_v,
        "cell_min_v": cell_min,
        "cell_max_v": cell_min + 0.02,
        "bank_soc_pct": soc,
        "bank_current_a": sp_current + 60.0 * ab_on,
        "ab_voltage_v": np.where(ab_on, 14.1, 12.6 if starter else 0.0),
        "ab_current_a": 60.0 * ab_on,
        "ab_limit_a": np.where(alternator, 100.0, 0.0) * np.ones(n),
        "displayed_ab_current_a": 60.0 * ab_on,
        "displayed_ab_pct": 60.0 * ab_on,
        "alternator_current_a": 60.0 * ab_on,
        "starter_soc_pct": np.full(n, 90.0 if starter else math.nan),
        "system_plus_voltage_v": bank_v,
        "system_plus_current_a": sp_current,
        "bank_devices_current_a": 12.0 * sun,
        "bms_draw_a": np.full(n, 0.0175),
        "bms_temperature_c": bms_c,
        "ambient_c": 18 + 6 * sun,
        "solar_fraction": sun,
        "ab_enabled": ab_on.astype(float),
        "system_plus_charge_allowed": np.ones(n),
        "system_plus_discharge_allowed": (~load_off).astype(float),
        "load_disconnect_high": (~load_off).astype(float),
        "charge_disconnect_high": np.ones(n),
        "prealarm_high": prealarm.astype(float),
    }
    for index in range(1, batteries + 1):
        base[f"battery{index}_soc_pct"] = soc - 3 * (index - 1)
        base[f"battery{index}_current_a"] = base["bank_current_a"] / batteries
        base[f"battery{index}_cell_min_v"] = cell_min - 0.01 * (index - 1)
        base[f"battery{index}_cell_max_v"] = cell_min + 0.02
        base[f"battery{index}_temperature_c"] = 19 + 5 * sun + index
        for k in range(1, 5):
            base[f"battery{index}_cell{k}_v"] = cell_min + 0.005 * (k - 1) - 0.01 * (index - 1)
    base["charge_limit_v"] = np.where(t < DAY, 14.2, 14.0)
    leds = (ab_on, bms_c > 85, np.ones(n), np.full(n, 2.0), np.ones(n), ~load_off, np.ones(n))
    for column, values in zip(LED_COLUMNS, leds, strict=True):
        base[column] = np.asarray(values, dtype=float)
    columns = fake_columns(batteries)
    trace_path = out / "trace.csv"
    with trace_path.open("w", encoding="utf-8", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(columns)
        numeric = [base[name] for name in columns[:-1]]
        for i in range(n):
            writer.writerow([f"{col[i]:.10g}" for col in numeric] + [str(codes[i]).strip()])
    records: list[dict[str, object]] = []
    if events:
        records = [
            {"t_s": 0.0, "event": "TimelineApplied", "action": "note", "detail": "Leave the van"},
            {
                "t_s": t_short,
                "event": "SystemPlusTripped",
                "code": "A-A12",
                "cause": "short circuit",
                "current_a": -4200.123456,
            },
            {"t_s": t_short, "event": "CodeRaised", "code": "A-A12", "raised": "A-A12"},
            {"t_s": t_short + 600, "event": "CodeCleared", "code": "A-A12", "cleared": "A-A12"},
            {
                "t_s": t_pre,
                "event": "ChainSignalChanged",
                "battery": batteries,
                "line": "pre-alarm",
                "active": True,
            },
            {"t_s": t_pre, "event": "CodeRaised", "code": "W-B12", "raised": "W-B12"},
            {
                "t_s": t_pre,
                "event": "PreAlarmRaised",
                "code": "W-B12",
                "cause": "battery pre-alarm",
            },
            {"t_s": t_ld, "event": "CodeRaised", "code": "A-B11", "raised": "A-B11"},
            {"t_s": t_ld, "event": "LoadDisconnected", "code": "A-B11", "reason": "under-voltage"},
            {"t_s": 0.6 * days * DAY, "event": "CodeRaised", "code": "E-B32", "raised": "E-B32"},
            {"t_s": 0.6 * days * DAY, "event": "SafeStateEntered"},
            {"t_s": 0.7 * days * DAY, "event": "AlternatorOverheatRisk"},
            {"t_s": t_damage, "event": "BatteryDamaged", "battery": batteries},
        ]
        records += [
            {"t_s": float(i) * DAY * days / max(noisy_events, 1), "event": "ChainSignalChanged",
             "battery": 1, "line": "allowed to charge", "active": i % 2 == 0}
            for i in range(noisy_events)
        ]  # fmt: skip
        records.sort(key=lambda r: float(r["t_s"]))  # type: ignore[arg-type]
    summary = make_summary(
        duration_s=days * DAY,
        lowest_cell_voltage_v=round(float(cell_min.min()), 3),
        lowest_cell_at_s=float(t[np.argmin(cell_min)]),
        lowest_cell=CellPlace(battery=batteries, cell=3),
        lowest_bank_soc_pct=round(float(soc.min()), 2),
        final_bank_soc_pct=round(float(soc[-1]), 2),
        time_to_prealarm_s=t_pre if events else None,
        time_to_load_disconnect_s=t_ld if events else None,
        prealarm_lead_s=(t_ld - t_pre,) if events else (),
        alternator_overheating_risk=alternator and events,
        alternator_overheating_risk_at_s=0.7 * days * DAY if alternator else None,
        alternator_at_max_output_s=450.0 if alternator else None,
        starter_lowest_voltage_v=10.9 if starter else None,
        battery_damaged=events,
        battery_damaged_at_s=t_damage if events else None,
        batteries=tuple(
            battery_summary(i, final_soc_pct=50.0, damaged=events and i == batteries)
            for i in range(1, batteries + 1)
        ),
        highest_bms_temperature_c=round(float(bms_c.max()), 2),
        codes_seen=("A-A12", "W-B12", "A-B11", "E-B32") if events else (),
        energy_wh=energy_summary(
            alternator_in=1234.5,
            system_plus_in=10.0,
            system_plus_out=20.0,
            bank_devices_in=30.0,
            bms_consumption=1.2,
            bms_heat=3.4,
            batteries_in=1000.0,
            batteries_out=900.0,
        ),
        event_counts={"LoadDisconnected": 1} if events else {},
        steps=1234,
        wall_time_s=0.5,
    )
    (out / "summary.json").write_text(summary.to_json(), encoding="utf-8")
    (out / "events.jsonl").write_text(
        "".join(json.dumps(r) + "\n" for r in records), encoding="utf-8"
    )
    return summary, trace_path, records


def render(out: Path, **options: object) -> str:
    """Make a fake run in `out`, write its report, return the page."""
    summary, trace_path, records = fake_run(out, **options)  # type: ignore[arg-type]
    path = write_report(
        out,
        title="Van: 30 days & a weak <cell>",
        description="Two batteries, solar, a short on day 5.",
        summary=summary,
        trace_path=trace_path,
        events=records,
    )
    assert path == out / "report.html"
    return path.read_text(encoding="utf-8")


def bare_summary(duration_s: float = 0.0) -> Summary:
    """A run with nothing in it: no battery, no step."""
    return make_summary(
        duration_s=duration_s,
        steps=0,
        batteries=(),
        lowest_cell_voltage_v=None,
        lowest_cell=None,
        highest_bms_temperature_c=None,
    )


@pytest.fixture(scope="module")
def rich_page(tmp_path_factory: pytest.TempPathFactory) -> str:
    """Three days of a rich run: every kind of verdict, plot and event."""
    return render(tmp_path_factory.mktemp("rich"), days=3.0, step_s=30.0)


# --- the page ------------------------------------------------------------------------------------


def test_the_page_is_self_contained(rich_page: str) -> None:
    assert rich_page.startswith("<!DOCTYPE html>")
    uplot = resources.files("smartbms").joinpath("assets/vendor/uplot/uPlot.iife.min.js")
    code = uplot.read_text(encoding="utf-8")
    assert code[code.index("*/") :] in rich_page  # inlined whole: the page works offline
    page = rich_page
    assert "http://" not in page
    assert "https://" not in page
    assert "<link" not in page
    assert not re.search(r"""<script[^>]+src=""", page)
    assert not re.search(r"""src=["'](?!data:)""", page)


def test_the_page_names_the_scenario_escaped(rich_page: str) -> None:
    assert "Van: 30 days &amp; a weak &lt;cell&gt;" in rich_page
    assert "Two batteries, solar, a short on day 5." in rich_page
    assert "simulated 3 d from day 1 08:00" in rich_page


def chart_data(page: str) -> dict[str, object]:
    """The charts' JSON from the page."""
    found = re.search(
        r'<script type="application/json" id="report-data">(.*?)</script>', page, re.S
    )
    assert found
    data: dict[str, object] = json.loads(found.group(1))
    return data


def panel(page: str, key: str) -> dict[str, object]:
    """One panel's data by its key."""
    panels = chart_data(page)["panels"]
    assert isinstance(panels, list)
    for found in panels:
        if found["key"] == key:
            return found  # type: ignore[no-any-return]
    raise AssertionError(f"no panel {key}")


def labels(page: str, key: str) -> list[str]:
    """The series labels of a panel."""
    series = panel(page, key)["series"]
    assert isinstance(series, list)
    return [s["label"] for s in series]


def test_one_chart_per_panel(rich_page: str) -> None:
    assert rich_page.count('class="plot" id="chart-') == PLOTS
    for heading in ("Voltages", "Cell voltages", "State of charge", "Currents per port"):
        assert f"<h3>{heading}</h3>" in rich_page
    assert "<h3>Temperatures</h3>" in rich_page
    assert "<h3>Alternator current</h3>" in rich_page


def test_every_cell_of_every_battery_is_drawn(rich_page: str) -> None:
    names = labels(rich_page, "cells")
    assert names == [f"battery {n} cell {k}" for n in (1, 2) for k in (1, 2, 3, 4)]


def test_the_charge_limit_is_the_setting_in_force(rich_page: str) -> None:
    series = panel(rich_page, "voltage")["series"]
    assert isinstance(series, list)
    limit = next(s for s in series if s["label"] == "charge limit (setting)")
    assert set(limit["v"]) == {14.2, 14.0}


def test_the_alternator_current_is_drawn_against_its_limit(rich_page: str) -> None:
    assert labels(rich_page, "alternator")[:2] == ["into the bank (AB)", "BMS limit"]


def test_a_short_circuit_beside_small_currents_gets_an_asinh_axis(rich_page: str) -> None:
    currents = panel(rich_page, "currents")
    assert currents["asinh"] is not None
    series = currents["series"]
    assert isinstance(series, list)
    assert min(min(v for v in s["v"] if v is not None) for s in series) == -4200.0


def test_a_ten_milliamp_drain_is_visible(tmp_path: Path) -> None:
    """The axis follows the data: a drain of 10 mA is not drawn on a +-10 A axis."""
    rows = ["t_s,bank_current_a,bms_draw_a,bank_soc_pct,bank_voltage_v,codes"]
    rows += [f"{t},-0.01,0.0175,{80 - t / 1e5},13.2," for t in range(0, 86401, 60)]
    trace_path = tmp_path / "trace.csv"
    trace_path.write_text("\n".join(rows) + "\n", "utf-8")
    page = write_report(
        tmp_path, title="drain", summary=bare_summary(86400.0), trace_path=trace_path, events=[]
    ).read_text(encoding="utf-8")
    currents = panel(page, "currents")
    assert currents["asinh"] is None
    assert currents["soft_span"] <= 0.02  # type: ignore[operator]


def test_plot_ids_are_unique(rich_page: str) -> None:
    ids = re.findall(r' id="([^"]+)"', rich_page)
    assert len(ids) == len(set(ids))


def test_every_verdict_is_on_the_page(rich_page: str) -> None:
    for title in TITLES:
        assert f'<div class="t">{title}</div>' in rich_page
    assert "battery 2, cell 3" in rich_page
    assert "✗ deep discharge" in rich_page
    assert "7 min 30 s at maximum output" in rich_page
    assert "10.90 V" in rich_page
    assert "Energy per port" in rich_page
    assert "1,234.5" in rich_page


def test_verdicts_say_their_state_in_words_not_only_colour(rich_page: str) -> None:
    cards = re.findall(r'<div class="card (\w+)">.*?<span class="badge">([^<]+)</span>', rich_page)
    assert cards
    words = {"ok": "✓", "warning": "!", "problem": "✗", "info": "—"}
    for status, badge in cards:
        assert badge.startswith(words[status])


def test_every_event_has_a_row_with_its_clock_time(rich_page: str) -> None:
    for kind in (
        "SystemPlusTripped",
        "PreAlarmRaised",
        "LoadDisconnected",
        "BatteryDamaged",
        "AlternatorOverheatRisk",
        "SafeStateEntered",
        "TimelineApplied",
    ):
        assert f"<td>{kind}</td>" in rich_page
    assert (
        '<tr class="sev-e"><td class="time" title="1 19:12:00 since the start">day 3 03:12:00</td>'
        "<td>CodeRaised</td>" in rich_page
    )
    assert '<tr class="sev-a"' in rich_page
    assert '<tr class="sev-w"' in rich_page
    assert '<tr class="noisy"' in rich_page
    assert "cause: short circuit · current: -4200.1 A" in rich_page


def test_a_dated_run_names_weekdays(tmp_path: Path) -> None:
    summary, trace_path, records = fake_run(tmp_path, days=2.0, step_s=60.0)
    dated = dataclasses.replace(
        summary, clock=RunClock(start_time_of_day_s=16 * 3600.0, start_date="2026-12-04")
    )
    page = write_report(
        tmp_path, title="dated", summary=dated, trace_path=trace_path, events=records
    ).read_text(encoding="utf-8")
    assert "simulated 2 d from Fri 16:00 4 Dec 2026" in page
    assert "<td>Fri 4 Dec (8 h)</td>" in page
    assert "<td>Sat 5 Dec</td>" in page
    assert chart_data(page)["clock"] == {"tod": 57600.0, "weekday0": 4}


def test_the_day_table_sums_each_day(rich_page: str) -> None:
    assert "<h2>Day by day</h2>" in rich_page
    for day in ("day 1 (16 h)", "day 2", "day 3", "day 4 (8 h)"):
        assert f"<td>{day}</td>" in rich_page
    assert "alternator in" in rich_page
    assert "lowest SoC" in rich_page


def test_the_footer_names_the_data_files(rich_page: str) -> None:
    footer = rich_page[rich_page.index("<footer>") :]
    for name in ("events.jsonl", "trace.csv", "summary.json"):
        assert name in footer


# --- shapes of runs ------------------------------------------------------------------------------


def test_one_battery_and_no_starter(tmp_path: Path) -> None:
    page = render(tmp_path, days=0.5, step_s=10.0, batteries=1, starter=False)
    assert "battery 2" not in page
    assert "no starter battery" in page
    assert labels(page, "cells") == ["cell 1", "cell 2", "cell 3", "cell 4"]


def test_no_alternator(tmp_path: Path) -> None:
    page = render(tmp_path, days=0.1, step_s=5.0, alternator=False)
    assert page.count('class="plot" id="chart-') == PLOTS - 1
    assert "no alternator" in page
    assert "chart-alternator" not in page


def test_zero_events(tmp_path: Path) -> None:
    page = render(tmp_path, days=1.0, events=False)
    assert page.count('class="plot" id="chart-') == PLOTS
    assert "Events (0)" in page
    assert chart_data(page)["markers"] == []


def test_a_sparse_trace_with_few_columns(tmp_path: Path) -> None:
    trace_path = tmp_path / "trace.csv"
    trace_path.write_text("t_s,bank_voltage_v,codes\n0,13.2,\n60,,W-B12\n120,nan,\n", "utf-8")
    page = write_report(
        tmp_path, title="bare", summary=bare_summary(120.0), trace_path=trace_path, events=[]
    ).read_text(encoding="utf-8")
    assert labels(page, "voltage") == ["bank (Li+)"]
    assert labels(page, "cells") == []
    assert "W-B12" in page


def test_an_empty_trace(tmp_path: Path) -> None:
    trace_path = tmp_path / "trace.csv"
    trace_path.write_text("", "utf-8")
    page = write_report(
        tmp_path, title="empty", summary=bare_summary(), trace_path=trace_path, events=[]
    )
    assert "<h1>empty</h1>" in page.read_text(encoding="utf-8")


def test_a_parquet_trace(tmp_path: Path) -> None:
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    summary, csv_path, records = fake_run(tmp_path, days=0.2, step_s=10.0)
    with csv_path.open(encoding="utf-8", newline="") as file:
        rows = list(csv.reader(file))
    data: dict[str, list[object]] = {
        name: [float(r[i]) if name != "codes" else r[i] for r in rows[1:]]
        for i, name in enumerate(rows[0])
    }
    parquet_path = tmp_path / "trace.parquet"
    pq.write_table(pa.table(data), str(parquet_path))
    page = write_report(
        tmp_path, title="pq", summary=summary, trace_path=parquet_path, events=records
    ).read_text(encoding="utf-8")
    assert "trace.parquet" in page
    assert chart_data(page) == chart_data(render(tmp_path / "csv", days=0.2, step_s=10.0))


def test_thirty_days_at_60_s_with_a_long_event_list(tmp_path: Path) -> None:
    page = render(tmp_path, days=30.0, step_s=60.0, noisy_events=2000)
    assert page.count('class="plot" id="chart-') == PLOTS
    assert page.count("<tr class=") == MAX_EVENT_ROWS
    assert "more events are not shown" in page
    assert len(page) < 3_000_000


def test_the_report_is_the_same_every_time(tmp_path: Path) -> None:
    first = render(tmp_path / "a", days=0.2, step_s=10.0)
    second = render(tmp_path / "b", days=0.2, step_s=10.0)
    assert first == second


def test_static_images_only_on_request(tmp_path: Path) -> None:
    summary, trace_path, records = fake_run(tmp_path, days=0.5, step_s=60.0)
    write_report(tmp_path, title="t", summary=summary, trace_path=trace_path, events=records)
    assert not (tmp_path / "static").exists()
    page = write_report(
        tmp_path, title="t", summary=summary, trace_path=trace_path, events=records, static=True
    ).read_text(encoding="utf-8")
    images = sorted(p.name for p in (tmp_path / "static").iterdir())
    assert "voltage.png" in images
    assert "strip.png" in images
    assert "static/voltage.png" in page


# --- the digest ----------------------------------------------------------------------------------


def _write_trace(path: Path, columns: dict[str, np.ndarray]) -> None:
    names = list(columns)
    with path.open("w", encoding="utf-8", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(names)
        for i in range(len(columns[names[0]])):
            writer.writerow([f"{columns[n][i]:.10g}" for n in names])


def test_the_digest_keeps_a_short_spike(tmp_path: Path) -> None:
    t = np.arange(43_200, dtype=float) * 60.0
    y = np.zeros_like(t)
    y[12_345] = -4200.0
    y[30_000] = 99.0
    _write_trace(tmp_path / "trace.csv", {"t_s": t, "bank_current_a": y})
    series = digest_trace(tmp_path / "trace.csv", float(t[-1])).series["bank_current_a"]
    assert series.values.size <= 2 * BUCKETS
    assert series.values.min() == -4200.0
    assert series.t_s[np.argmin(series.values)] == t[12_345]
    assert series.values.max() == 99.0
    assert np.all(np.diff(series.t_s) > 0)


def test_the_digest_leaves_a_short_trace_whole(tmp_path: Path) -> None:
    t = np.arange(10, dtype=float)
    _write_trace(tmp_path / "trace.csv", {"t_s": t, "bank_voltage_v": t * 2})
    series = digest_trace(tmp_path / "trace.csv", 9.0).series["bank_voltage_v"]
    assert list(series.t_s) == list(t)
    assert list(series.values) == list(t * 2)


def test_state_of_charge_is_drawn_between_its_changes_not_as_stairs(tmp_path: Path) -> None:
    """A step held over 6 samples: only its start counts, the line runs to the next step."""
    t = np.arange(0.0, 121.0, 10.0)
    soc = np.repeat([80.0, 79.0, 78.0], [6, 6, 1])
    _write_trace(tmp_path / "trace.csv", {"t_s": t, "bank_soc_pct": soc, "bank_voltage_v": soc})
    digest = digest_trace(tmp_path / "trace.csv", 120.0)
    assert list(digest.series["bank_soc_pct"].t_s) == [0.0, 60.0, 120.0]
    assert digest.series["bank_voltage_v"].t_s.size == t.size  # a voltage can step: kept


def test_states_hold_until_the_next_sample(tmp_path: Path) -> None:
    t = np.array([0.0, 10.0, 20.0, 30.0, 40.0])
    _write_trace(
        tmp_path / "trace.csv",
        {"t_s": t, "ab_enabled": np.array([0, 1, 1, 2, 0]), "prealarm_high": np.ones(5)},
    )
    digest = digest_trace(tmp_path / "trace.csv", 50.0)
    assert digest.spans["ab_enabled"] == [(10.0, 30.0, 1), (30.0, 40.0, 2)]
    assert digest.spans["prealarm_high"] == [(0.0, 50.0, 1)]


def test_the_day_table_integrates_sample_and_hold(tmp_path: Path) -> None:
    t = np.arange(0.0, 2 * 86400.0 + 1, 3600.0)
    _write_trace(
        tmp_path / "trace.csv",
        {"t_s": t, "ab_current_a": np.full(t.size, 10.0), "bank_voltage_v": np.full(t.size, 13.0),
         "bank_soc_pct": 50 + t / 86400.0, "load_disconnect_high": (t >= 3600.0).astype(float)},
    )  # fmt: skip
    days = digest_trace(tmp_path / "trace.csv", t[-1]).days
    assert [d.day for d in days] == [0, 1]
    assert days[0].ah["alternator"] == pytest.approx(240.0)
    assert days[0].wh["alternator"] == pytest.approx(3120.0)
    assert days[0].loads_off_s == 3600.0
    assert days[1].min_soc_pct == 51.0


def test_an_interrupted_run_says_how_far_it_got(tmp_path: Path) -> None:
    summary, trace_path, records = fake_run(tmp_path, days=0.5, step_s=60.0)
    stopped = dataclasses.replace(summary, status="interrupted", duration_s=DAY)
    page = write_report(
        tmp_path, title="cut", summary=stopped, trace_path=trace_path, events=records
    ).read_text(encoding="utf-8")
    assert "<h1>INCOMPLETE: cut</h1>" in page
    assert "The run was interrupted after 12 h of 1 d" in page
