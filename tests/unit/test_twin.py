"""The twin's public seam: time, commands, state, listeners, clocks.

The chunking and fork properties are in tests/property/test_twin_chunking.py.
"""

import asyncio
import dataclasses
import functools
import itertools
import math
from pathlib import Path

import pytest

from smartbms import scenario as sc
from smartbms.core.events import Event
from smartbms.core.settings import PairingError
from smartbms.scenario import load_scenario
from smartbms.sim.results import event_record
from smartbms.twin import CommandError, RealtimeClock, Twin, TwinState, VirtualClock
from smartbms.twin import commands as cmd
from smartbms.twin.timeline import command_of, timed_commands

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
FIGURE_1 = EXAMPLES / "manual-figure-1.toml"
HOUR_S = 3600.0


@functools.cache
def figure_1() -> sc.Scenario:
    return load_scenario(FIGURE_1)


def kinds(events: tuple[Event, ...] | list[Event]) -> list[str]:
    return [e.kind for e in events]


# --- time -------------------------------------------------------------------------------------


def test_from_scenario_takes_a_path_a_str_or_a_loaded_scenario() -> None:
    for source in (FIGURE_1, str(FIGURE_1), figure_1()):
        twin = Twin.from_scenario(source)
        assert twin.now_s == 0.0
        assert isinstance(twin.clock, VirtualClock)


def test_the_first_batch_carries_the_events_of_t_0() -> None:
    twin = Twin.from_scenario(figure_1())
    first = twin.advance_to(0.0)
    assert first
    assert all(e.t_s == 0.0 for e in first)
    assert "TimelineApplied" in kinds(first)
    assert twin.advance_to(0.0) == ()


def test_advance_to_returns_the_events_in_the_interval_in_order() -> None:
    twin = Twin.from_scenario(figure_1())
    twin.advance_to(0.0)
    events = twin.advance_to(3 * HOUR_S)
    times = [e.t_s for e in events]
    assert times == sorted(times)
    assert all(0.0 < t <= 3 * HOUR_S for t in times)
    assert "AlternatorInputEnabled" in kinds(events)
    assert twin.now_s == 3 * HOUR_S


@pytest.mark.parametrize("bad", [-1.0, math.nan, math.inf])
def test_time_only_runs_forward_to_a_finite_time(bad: float) -> None:
    twin = Twin.from_scenario(figure_1())
    twin.advance_to(10.0)
    with pytest.raises(ValueError, match="advance"):
        twin.advance_to(bad if bad != -1.0 else 5.0)
    assert twin.now_s == 10.0


def test_next_time_names_what_is_known_to_be_due() -> None:
    twin = Twin.from_scenario(figure_1())
    twin.advance_to(0.0)
    events: tuple[Event, ...] = ()
    while not events:  # the crank's end is due first and changes nothing visible
        due = twin.next_time()
        assert twin.now_s < due < math.inf
        events = twin.advance_to(due)
    assert events[0].kind == "AlternatorInputEnabled"
    assert events[0].t_s == due


def test_a_twin_goes_on_beyond_its_scenarios_end() -> None:
    section = figure_1().scenario.model_copy(update={"duration_s": HOUR_S})
    short = figure_1().model_copy(update={"scenario": section})
    twin = Twin.from_scenario(short)
    twin.advance_to(5 * HOUR_S)
    assert twin.state.t_s == 5 * HOUR_S


# --- state ------------------------------------------------------------------------------------


def test_state_is_frozen_all_the_way_down() -> None:
    twin = Twin.from_scenario(figure_1())
    twin.advance_to(HOUR_S)
    state = twin.state
    with pytest.raises(dataclasses.FrozenInstanceError):
        state.bank_voltage_v = 0.0  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        state.batteries[0].soc_pct = 0.0  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        state.outputs.ab_enabled = True  # type: ignore[misc]
    assert isinstance(state.batteries, tuple)
    assert isinstance(state.batteries[0].cell_voltages_v, tuple)


def test_state_shows_the_whole_installation() -> None:
    twin = Twin.from_scenario(figure_1())
    twin.advance_to(2 * HOUR_S)
    state = twin.state
    assert state.t_s == 2 * HOUR_S
    assert len(state.batteries) == figure_1().battery_count
    battery = state.batteries[0]
    assert len(battery.cell_voltages_v) == 4
    assert battery.voltage_v == pytest.approx(sum(battery.cell_voltages_v))
    assert battery.balancer in {"unknown", "balanced", "balancing", "imbalance"}
    assert state.alternator is not None
    assert state.alternator.running
    assert state.ab_current_a > 0.0
    assert state.fuse.installed == state.fuse.setting
    assert state.faults == ()
    assert {d.name for d in state.devices} == {d.name for d in figure_1().device}
    assert len(state.outputs.leds.as_tuple()) == 7


def test_state_between_steps_is_read_without_changing_the_run() -> None:
    """A look in the middle of a step sees the plant there, and the run stays the same."""
    plain = Twin.from_scenario(figure_1())
    watched = Twin.from_scenario(figure_1())
    events: list[Event] = []
    socs = []
    for minute in range(1, 121):
        events += watched.advance_to(minute * 60.0)
        socs.append(watched.state.bank_soc_pct)
    assert socs == sorted(socs)  # charging all the way: every look sees a new charge
    assert len(set(socs)) == len(socs)
    events += watched.advance_to(12 * HOUR_S)
    assert tuple(events) == plain.advance_to(12 * HOUR_S)


# --- commands ---------------------------------------------------------------------------------


def test_every_timeline_action_is_a_command_of_the_same_name() -> None:
    """One vocabulary: each scenario `action` (or `fault`) is a command's TYPE."""
    actions = set()
    for entry in sc.TimelineEntry.__args__[0].__args__:
        if entry is not sc.Fault:
            actions.add(entry.model_fields["action"].default)
    for fault in sc.Fault.__args__[0].__args__:
        actions.add(fault.model_fields["fault"].default)
    actions.discard("fault")
    assert actions <= set(cmd.COMMAND_TYPES)


@pytest.mark.parametrize("name", sorted(p.stem for p in EXAMPLES.glob("*.toml")))
def test_scenario_timelines_compile_to_commands(name: str) -> None:
    scenario = load_scenario(EXAMPLES / f"{name}.toml")
    for (at_s, entry), (t_s, command) in zip(
        scenario.timeline_occurrences(), timed_commands(scenario), strict=True
    ):
        assert at_s == t_s
        assert command == command_of(entry)
        name_of_entry = getattr(entry, "fault", None) or entry.action
        assert name_of_entry == command.TYPE


def test_commands_applied_by_hand_do_what_the_timeline_does() -> None:
    """Figure 1 driven by apply() at the timeline's times gives the timeline's events."""
    scenario = figure_1()
    bare = scenario.model_copy(update={"timeline": ()})
    by_hand = Twin.from_scenario(bare)
    events: list[Event] = []
    for t_s, command in timed_commands(scenario):
        events += by_hand.advance_to(t_s)
        events += by_hand.apply(command)
    events += by_hand.advance_to(scenario.duration_s)
    by_timeline = Twin.from_scenario(scenario).advance_to(scenario.duration_s)

    def key(event: Event) -> tuple[str, str]:
        record = event_record(event)
        return event.kind, str(record.get("action", record.get("reason", "")))

    assert [key(e) for e in events] == [key(e) for e in by_timeline]
    for mine, theirs in zip(events, by_timeline, strict=True):
        assert mine.t_s == pytest.approx(theirs.t_s, abs=0.2)


def test_apply_returns_its_events_and_publishes_them() -> None:
    twin = Twin.from_scenario(figure_1())
    seen: list[tuple[tuple[Event, ...], TwinState]] = []
    twin.subscribe(lambda events, state: seen.append((events, state)))
    twin.advance_to(600.0)
    events = twin.apply(cmd.SoftSwitch(on=False))
    # the command first, then the BMS's answer at the same instant
    assert kinds(events)[:2] == ["SettingsChanged", "TimelineApplied"]
    assert "SystemPlusChanged" in kinds(events)
    assert {e.t_s for e in events} == {600.0}
    assert seen[-1][0] == events
    state = seen[-1][1]
    assert not state.settings.soft_switch_on
    assert not state.outputs.system_on
    assert not state.outputs.ab_enabled


def test_a_command_in_the_middle_of_a_step_acts_at_that_instant() -> None:
    twin = Twin.from_scenario(figure_1())
    twin.advance_to(1234.5678)
    (event,) = [e for e in twin.apply(cmd.EngineStop()) if e.kind == "TimelineApplied"]
    assert event.t_s == 1234.5678
    twin.advance_to(1300.0)
    assert twin.state.alternator is not None
    assert not twin.state.alternator.running
    assert twin.state.ab_current_a == 0.0


@pytest.mark.parametrize(
    ("command", "error"),
    [
        (cmd.SetDevice(device="kettle", on=False), "no device named 'kettle'"),
        (cmd.WeakCell(battery=5, cell=1, capacity_factor=0.5), "battery 5 does not exist"),
        (cmd.ChangeSettings((("charge_limit_v", 16.0),)), "charge_limit_v"),
        (cmd.ChangeSettings((("pin", "123456"),)), "'pin' command"),
    ],
)
def test_a_refused_command_changes_nothing(command: cmd.Command, error: str) -> None:
    plain = Twin.from_scenario(figure_1())
    refused = Twin.from_scenario(figure_1())
    events = list(refused.advance_to(1234.5))
    before = refused.state
    with pytest.raises(CommandError, match=error):
        refused.apply(command)
    assert refused.state == before
    events += refused.advance_to(10 * HOUR_S)
    assert tuple(events) == plain.advance_to(10 * HOUR_S)


def test_a_wrong_pin_is_refused_and_the_right_one_accepted() -> None:
    twin = Twin.from_scenario(figure_1())
    twin.advance_to(10.0)
    with pytest.raises(PairingError):
        twin.apply(cmd.ChangeSettings((("charge_limit_v", 14.0),), pin="999999"))
    twin.apply(cmd.ChangePin(new_pin="123456", old_pin="000000"))
    events = twin.apply(cmd.ChangeSettings((("charge_limit_v", 14.0),), pin="123456"))
    assert "SettingsChanged" in kinds(events)
    assert twin.state.settings.charge_limit_v == 14.0
    twin.apply(cmd.FactoryReset(pin="123456"))
    assert twin.state.settings.pin == "000000"


@pytest.mark.parametrize(
    ("fault", "name"),
    [
        (cmd.BmsCableUnplugged(), "bms-cable-unplugged"),
        (cmd.FuseBlown(), "fuse-blown"),
        (cmd.Heat(bms_extra_c=30.0), "heat"),
        (cmd.WeakCell(battery=1, cell=2, capacity_factor=0.5), "weak-cell"),
        (cmd.CellResistance(battery=1, cell=2, factor=3.0), "cell-resistance"),
        (cmd.LooseConnection(battery=1, resistance_ohm=0.02), "loose-connection"),
        (cmd.SystemPlusShort(duration_s=60.0), "system-plus-short"),
        (cmd.RemotePlugRemoved(), "remote-plug-removed"),
        (cmd.CalibrationLost(), "calibration-lost"),
        (cmd.ReferenceFailed(), "reference-failed"),
        (cmd.PrealarmOutputOverload(current_a=0.5), "prealarm-output-overload"),
    ],
)
@pytest.mark.req("PLT-12")
def test_plt12_each_fault_can_be_injected_and_cleared(fault: cmd.Command, name: str) -> None:
    twin = Twin.from_scenario(figure_1())
    twin.advance_to(100.0)
    injected = twin.apply(fault)
    assert injected[0].kind == "FaultInjected"
    assert name in twin.state.faults
    twin.advance_to(110.0)
    twin.apply(cmd.ClearFault(fault=name))
    assert name not in twin.state.faults
    assert twin.state.faults == ()


@pytest.mark.req("ERR-2")
def test_err2_e_b31_clears_by_factory_reset_and_three_minutes_without_power() -> None:
    twin = Twin.from_scenario(figure_1())
    twin.advance_to(100.0)
    twin.apply(cmd.ConfigCorrupted())
    twin.advance_to(101.0)
    assert "E-B31" in {c.value for c in twin.state.outputs.codes}
    with pytest.raises(CommandError):
        cmd.ClearFault(fault="config-corrupted")
    twin.apply(cmd.FactoryReset())
    twin.advance_to(110.0)
    twin.apply(cmd.BmsPower(on=False))
    twin.advance_to(110.0 + 181.0)
    assert twin.state.outputs == dataclasses.replace(twin.state.outputs)  # still a value
    twin.apply(cmd.BmsPower(on=True))
    twin.advance_to(400.0)
    assert "E-B31" not in {c.value for c in twin.state.outputs.codes}
    assert "config-corrupted" not in twin.state.faults


@pytest.mark.parametrize(
    "make",
    [
        lambda: cmd.Ambient(ambient_c=math.nan),
        lambda: cmd.Ambient(ambient_c=80.0),
        lambda: cmd.SoftSwitch(on="false"),  # type: ignore[arg-type]
        lambda: cmd.WeakCell(battery=0, cell=1, capacity_factor=0.5),
        lambda: cmd.WeakCell(battery=1, cell=5, capacity_factor=0.5),
        lambda: cmd.WeakCell(battery=1, cell=1, capacity_factor=0.0),
        lambda: cmd.SetDevice(device="fridge"),
        lambda: cmd.SystemPlusShort(duration_s=-1.0),
        lambda: cmd.SystemPlusShort(duration_s=10.0, resistance_ohm=1e-5),
        lambda: cmd.AlternatorMode(mode="turbo"),  # type: ignore[arg-type]
        lambda: cmd.ClearFault(fault="gremlins"),
    ],
)
def test_commands_refuse_impossible_values_when_made(make: object) -> None:
    with pytest.raises(CommandError):
        make()  # type: ignore[operator]


# --- listeners --------------------------------------------------------------------------------


def test_subscribers_get_every_batch_until_they_unsubscribe() -> None:
    twin = Twin.from_scenario(figure_1())
    batches: list[tuple[Event, ...]] = []
    states: list[float] = []

    def listen(events: tuple[Event, ...], state: TwinState) -> None:
        batches.append(events)
        states.append(state.t_s)

    subscription = twin.subscribe(listen)
    all_events = twin.advance_to(HOUR_S) + twin.advance_to(2 * HOUR_S)
    assert tuple(e for batch in batches for e in batch) == all_events
    assert states == [HOUR_S, 2 * HOUR_S]
    subscription()
    twin.advance_to(3 * HOUR_S)
    assert len(batches) == 2


def test_step_observers_see_every_step_at_its_start() -> None:
    twin = Twin.from_scenario(figure_1())
    steps: list[tuple[float, float]] = []
    stop = twin.observe_steps(lambda t, dt, _state: steps.append((t, dt)))
    twin.advance_to(HOUR_S)
    stop()
    assert steps[0][0] == 0.0
    for (t, dt), (t_next, _) in itertools.pairwise(steps):
        assert t + dt == pytest.approx(t_next)


# --- clocks -----------------------------------------------------------------------------------


class FakeWall:
    """A wall clock that moves only when someone sleeps."""

    def __init__(self) -> None:
        self.now_s = 1000.0
        self.sleeps: list[float] = []

    def time(self) -> float:
        return self.now_s

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now_s += seconds


def test_realtime_clock_follows_the_wall_clock_times_its_speed() -> None:
    wall = FakeWall()
    clock = RealtimeClock(speed=60.0, tick_s=0.5, time_source=wall.time, sleep=wall.sleep)
    twin = Twin.from_scenario(figure_1(), clock=clock)
    asyncio.run(twin.run_until(HOUR_S))
    assert twin.now_s == HOUR_S
    assert wall.now_s - 1000.0 == pytest.approx(HOUR_S / 60.0, abs=0.5)
    assert max(wall.sleeps) <= 0.5


def test_realtime_clock_speed_pause_and_resume() -> None:
    wall = FakeWall()
    clock = RealtimeClock(speed=10.0, time_source=wall.time, sleep=wall.sleep)
    clock.attach(0.0)
    wall.now_s += 6.0
    assert clock.target_s() == pytest.approx(60.0)
    clock.set_speed(100.0)
    wall.now_s += 1.0
    assert clock.target_s() == pytest.approx(160.0)
    clock.pause()
    wall.now_s += 50.0
    assert clock.target_s() == pytest.approx(160.0)
    assert clock.paused
    clock.resume()
    wall.now_s += 0.5
    assert clock.target_s() == pytest.approx(210.0)
    with pytest.raises(ValueError, match="speed"):
        clock.set_speed(0.0)
    with pytest.raises(ValueError, match="speed"):
        RealtimeClock(speed=math.nan)


def test_a_paused_twin_waits_and_goes_on_when_resumed() -> None:
    wall = FakeWall()
    clock = RealtimeClock(speed=100.0, tick_s=1.0, time_source=wall.time, sleep=wall.sleep)
    twin = Twin.from_scenario(figure_1(), clock=clock)

    async def drive() -> None:
        task = asyncio.create_task(twin.run_until(600.0))
        while twin.now_s < 100.0:
            await asyncio.sleep(0)
        clock.pause()
        paused_at = twin.now_s
        for _ in range(50):
            await asyncio.sleep(0)
        assert twin.now_s <= paused_at + 100.0  # at most the tick in flight
        clock.resume()
        await task

    asyncio.run(drive())
    assert twin.now_s == 600.0


def test_virtual_clock_runs_as_fast_as_it_can_and_gives_the_same_events() -> None:
    twin = Twin.from_scenario(figure_1())
    events: list[Event] = []
    twin.subscribe(lambda batch, _state: events.extend(batch))
    asyncio.run(twin.run_until(6 * HOUR_S))
    assert twin.now_s == 6 * HOUR_S
    assert tuple(events) == Twin.from_scenario(figure_1()).advance_to(6 * HOUR_S)
