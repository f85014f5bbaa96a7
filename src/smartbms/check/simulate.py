"""`check --simulate`: the standard situations CHK-S1 ... CHK-S6 (SPEC §13) run with the twin.

Each situation is a short story told to the design's twin — parked after a shutdown, a cold
night, a drive from a low bank, the largest load starting, the BMS cable unplugged — and what
happened (outputs, alternator time at its limit, damage) comes back as findings. The twin is
reached only through its public seam (`Twin`, commands, `TwinState`, events by name). Stories
that start from the design as it is (S2, S3, S5, S6) fork one warmed-up twin's snapshot; the two
that need another state of charge (S1, S4) build their own. They run in parallel processes.
"""

import concurrent.futures
import dataclasses
import os
from collections.abc import Callable, Sequence
from typing import Final

from smartbms import scenario as sc
from smartbms.check.findings import Finding, Severity, finding
from smartbms.check.loads import is_load, surge_a, surge_ac_w
from smartbms.core.codes import Code
from smartbms.core.events import Event, SystemPlusTripped
from smartbms.core.settings import PreAlarmMode
from smartbms.twin import Twin, TwinSnapshot, TwinState
from smartbms.twin import commands as cmd

WARM_UP_S: Final = 60.0
"""The shared twin settles this long (engine off, no timeline) before the stories fork from it."""
PARKED_SOC_PCT: Final = 2.0
"""CHK-S1 starts just above the low-voltage shutdown ..."""
SHUTDOWN_WITHIN_S: Final = 2 * 86_400.0
"""... which must come within two days (else the sources keep the bank up: nothing to damage)."""
LOOK_S: Final = 600.0
"""S1 looks for the shutdown every ten minutes; the user switches off at that look."""
PARKED_S: Final = 14 * 86_400.0
NIGHT_S: Final = 12 * 3600.0
MORNING_DRIVE_S: Final = 3600.0
DRIVE_SOC_PCT: Final = 20.0
DRIVE_S: Final = 4 * 3600.0
OVERHEAT_AFTER_S: Final = 300.0
"""Manual §2.2: most 12 V alternators overheat after 5 minutes at maximum output."""
SURGE_S: Final = 3.0
"""How long the largest load's start lasts (a compressor or motor: seconds)."""
AFTER_S: Final = 60.0
COLD_NIGHTS: Final = {"CHK-S2": 0.0, "CHK-S3": -10.0}


def _clock(t_s: float) -> str:
    """A time into a story as the user reads it (minutes, hours or days)."""
    if t_s < 120.0:
        return f"{t_s:.0f} s"
    if t_s < 2 * 3600.0:
        return f"{t_s / 60.0:.0f} min"
    if t_s < 2 * 86_400.0:
        return f"{t_s / 3600.0:.1f} h"
    return f"{t_s / 86_400.0:.1f} days"


def _quiet(scenario: sc.Scenario, **battery: float) -> sc.Scenario:
    """The design with no timeline and the engine off (and batteries changed as given).

    The pre-alarm output runs in continuous mode: the intermittent mode costs the stepper a
    step per edge (issue 12), and a steady alarm draws at least as much, so a damage verdict
    stays on the safe side.
    """
    settings = dataclasses.replace(scenario.bms.settings, prealarm_mode=PreAlarmMode.CONTINUOUS)
    bms = scenario.bms.model_copy(update={"settings": settings})
    update: dict[str, object] = {"timeline": (), "bms": bms}
    if battery:
        update["battery"] = tuple(b.model_copy(update=battery) for b in scenario.battery)
    if scenario.alternator is not None:
        update["alternator"] = scenario.alternator.model_copy(update={"running": False})
    return scenario.model_copy(update=update)


def _first(events: Sequence[Event], kind: str) -> Event | None:
    return next((e for e in events if e.kind == kind), None)


def _damage(state: TwinState, start_s: float) -> str | None:
    damaged = [b for b in state.batteries if b.damaged]
    if not damaged:
        return None
    first = min(b.damaged_at_s or state.t_s for b in damaged)
    numbers = ", ".join(str(b.number) for b in damaged)
    return f"battery {numbers} damaged {_clock(first - start_s)} in"


# --- the stories (each runs in a worker process) -----------------------------------------------


def parked_after_shutdown(scenario: sc.Scenario) -> list[Finding]:
    """CHK-S1: run down to the low-voltage shutdown, then parked 14 days with the loads on."""
    twin = Twin.from_scenario(_quiet(scenario, soc_pct=PARKED_SOC_PCT))
    shutdown = None
    while shutdown is None and twin.now_s < SHUTDOWN_WITHIN_S:
        shutdown = _first(twin.advance_to(twin.now_s + LOOK_S), "LoadDisconnected")
    if shutdown is None:
        msg = (
            f"From {PARKED_SOC_PCT:g} % the bank did not reach a low-voltage shutdown within "
            f"{_clock(SHUTDOWN_WITHIN_S)}: the sources in the file keep up with the loads."
        )
        return [finding("CHK-S1", "info", msg, "Nothing to fix.")]
    switched = scenario.bms.remote_terminal in ("switch", "l-to-minus", "h-to-plus")
    if switched:
        twin.apply(cmd.RemoteSwitch(closed=False))
    twin.advance_to(shutdown.t_s + PARKED_S)
    state = twin.state
    how = "with the remote switched off" if switched else "with the BMS left on"
    damage = _damage(state, shutdown.t_s)
    if damage is not None:
        msg = (
            f"Shutdown after {_clock(shutdown.t_s)} from {PARKED_SOC_PCT:g} %; parked {how}: "
            f"{damage}."
        )
        fix = "See CHK-9: remove the residual drains or isolate the bank when parked (manual §3.1)."
        return [finding("CHK-S1", "error", msg, fix, ("bms", "remote_terminal"))]
    msg = (
        f"Shutdown after {_clock(shutdown.t_s)} from {PARKED_SOC_PCT:g} %; parked "
        f"{_clock(PARKED_S)} {how}: no damage, the bank at {state.bank_soc_pct:.1f} %."
    )
    return [finding("CHK-S1", "info", msg, "Nothing to fix (manual §3.1).")]


def cold_night(snapshot: TwinSnapshot, rule: str, ambient_c: float) -> list[Finding]:
    """CHK-S2/S3: a night at `ambient_c`, then (with an alternator) an hour's drive."""
    twin = Twin.restore(snapshot)
    start = twin.now_s
    events = list(twin.apply(cmd.Ambient(ambient_c=ambient_c)))
    events += twin.advance_to(start + NIGHT_S)
    drive = twin.scenario.alternator is not None
    if drive:
        events += twin.apply(cmd.EngineStart(crank=True))
        events += twin.advance_to(start + NIGHT_S + MORNING_DRIVE_S)
    state = twin.state
    coldest = min(b.temperature_c for b in state.batteries)
    told: list[str] = []
    severity: Severity = "info"
    fix = "Nothing to fix."
    cut = _first(events, "ChargeDisconnected")
    if cut is not None:
        told.append(f"charging stopped after {_clock(cut.t_s - start)} (batteries too cold)")
        fix = "Keep the batteries warm (inside the living space, a heating pad) (PLT-2, §2.2)."
    lost = _first(events, "LoadDisconnected")
    damage = _damage(state, start)
    if lost is not None:
        told.append(f"the loads were disconnected after {_clock(lost.t_s - start)}")
        severity = "error"
        fix = "More capacity, fewer loads at night, or warm batteries (manual §3.1)."
    if damage is not None:
        told.append(damage)
        severity = "error"
    happened = "; ".join(told) or "nothing switched"
    then = ", after an hour's drive in the morning" if drive else " in the morning"
    msg = (
        f"A night at {ambient_c:g} °C: {happened}; batteries at {coldest:.1f} °C and the bank at "
        f"{state.bank_soc_pct:.0f} %{then}."
    )
    return [finding(rule, severity, msg, fix)]


def drive_from_low(scenario: sc.Scenario) -> list[Finding]:
    """CHK-S4: a 4 h drive from 20 % state of charge."""
    if scenario.alternator is None:
        msg = "No [alternator]: there is no drive to simulate."
        return [finding("CHK-S4", "info", msg, "Nothing to fix.")]
    twin = Twin.from_scenario(_quiet(scenario, soc_pct=DRIVE_SOC_PCT))
    events = list(twin.apply(cmd.EngineStart(crank=True)))
    events += twin.advance_to(DRIVE_S)
    state = twin.state
    alt = state.alternator
    at_max = 0.0 if alt is None else alt.at_max_total_s
    risk = _first(events, "AlternatorOverheatRisk")
    hot = any(e.kind == "CodeRaised" and e.code is Code.A_B15 for e in events)
    msg = (
        f"A {_clock(DRIVE_S)} drive from {DRIVE_SOC_PCT:g} %: the bank reached "
        f"{state.bank_soc_pct:.0f} %, the alternator ran {at_max / 60.0:.0f} min at its maximum"
    )
    if risk is not None or at_max > OVERHEAT_AFTER_S:
        when = f" (overheating risk from {_clock(risk.t_s)})" if risk is not None else ""
        msg += f"{when}" + ("; the BMS overheated (A-B15)." if hot else ".")
        fix = "A smaller fuse type keeps it below its rating: see CHK-3 (manual §2.2 point 2)."
        return [finding("CHK-S4", "warning", msg, fix, ("bms", "installed_fuse"))]
    msg += "; the BMS overheated (A-B15)." if hot else "."
    return [finding("CHK-S4", "warning" if hot else "info", msg, "Nothing to fix.")]


def largest_load(snapshot: TwinSnapshot) -> list[Finding]:
    """CHK-S5: the largest load starts at once (its surge for a few seconds)."""
    twin = Twin.restore(snapshot)
    s = twin.scenario
    loads = [(surge_a(d), i, d) for i, d in enumerate(s.device) if is_load(d)]
    if not loads:
        return [finding("CHK-S5", "info", "The file has no loads.", "Nothing to fix.")]
    amps, index, device = max(loads, key=lambda t: t[0])
    start = twin.now_s
    surge, back = _surge_commands(device)
    events = list(twin.apply(surge)) if surge is not None else []
    events += twin.advance_to(start + 0.2)
    peak = twin.state
    events += twin.advance_to(start + SURGE_S)
    if back is not None:
        events += twin.apply(back)
    events += twin.advance_to(start + SURGE_S + AFTER_S)
    where = ("device", index)
    trip = next((e for e in events if isinstance(e, SystemPlusTripped)), None)
    through = "System+" if device.connection == "system+" else "the bank"
    if trip is not None:
        msg = (
            f'"{device.name}" starting ({amps:.0f} A) tripped System+ after '
            f"{_clock(trip.t_s - start)}: A-A12 ({trip.cause.value}, {trip.current_a:.0f} A)."
        )
        fix = "See CHK-10: a smaller surge, or the load on the bank (manual §4, SP-5)."
        return [finding("CHK-S5", "error", msg, fix, where)]
    lost = _first(events, "LoadDisconnected")
    if lost is not None:
        msg = f'"{device.name}" starting pulled the bank into a low-voltage shutdown.'
        return [finding("CHK-S5", "error", msg, "More capacity (manual §3.1).", where)]
    current = max(
        0.0, -(peak.system_plus_current_a if through == "System+" else peak.bank_current_a)
    )
    msg = (
        f'"{device.name}" starting ({amps:.0f} A expected) drew {current:.0f} A through '
        f"{through}, the bank at {peak.bank_voltage_v:.2f} V: nothing tripped."
    )
    return [finding("CHK-S5", "info", msg, "Nothing to fix.", where)]


def _surge_commands(device: sc.DeviceBase) -> tuple[cmd.Command | None, cmd.Command | None]:
    """The commands that start a load at its surge, and that bring it back to its running load."""
    if isinstance(device, sc.Inverter | sc.InverterCharger):
        surge = cmd.SetDevice(device=device.name, ac_load_w=surge_ac_w(device))
        return surge, cmd.SetDevice(device=device.name, ac_load_w=device.ac_load_w)
    if isinstance(device, sc.DcLoad) and not device.on:
        return cmd.SetDevice(device=device.name, on=True), None
    return None, None


def cable_unplugged(snapshot: TwinSnapshot) -> list[Finding]:
    """CHK-S6: the BMS cable unplugged for a minute, then plugged in again."""
    twin = Twin.restore(snapshot)
    start = twin.now_s
    before = twin.state.outputs.safe_state
    events = list(twin.apply(cmd.BmsCableUnplugged()))
    events += twin.advance_to(start + AFTER_S)
    during = twin.state
    running = [
        d.name for d in during.devices if d.connection == "bank" and d.on and d.current_a != 0.0
    ]
    events += twin.apply(cmd.BmsCablePlugged())
    events += twin.advance_to(start + 2 * AFTER_S)
    after = twin.state
    safe = during.outputs.safe_state
    back = after.outputs.safe_state == before
    told = (
        "E-B32 and the safe state at once"
        if safe
        else "no safe state (the BMS did not notice the open chain)"
    )
    msg = f"BMS cable unplugged: {told}"
    severity: Severity = "info"
    fix = "Nothing to fix."
    if running:
        names = ", ".join(f'"{n}"' for n in running)
        msg += f"; still running on the bank: {names}"
        severity = "warning"
        fix = "Switch them with Load/Charge disconnect (see CHK-7, CHK-8; manual App. A)."
    msg += "; back to normal after plugging in." if back else "; not back after plugging in."
    if not safe or not back:
        severity = "error"
    return [finding("CHK-S6", severity, msg, fix)]


# --- running them ---------------------------------------------------------------------------------


def warm_snapshot(scenario: sc.Scenario) -> tuple[TwinSnapshot, TwinState]:
    """One twin of the design, engine off, settled for `WARM_UP_S`: the start of S2, S3, S5, S6."""
    twin = Twin.from_scenario(_quiet(scenario))
    twin.advance_to(WARM_UP_S)
    return twin.snapshot(), twin.state


@dataclasses.dataclass(frozen=True, slots=True)
class _Job:
    """One story and what it starts from (picklable: it crosses into a worker process)."""

    rule: str
    scenario: sc.Scenario | None = None
    snapshot: TwinSnapshot | None = None


def _run(job: _Job) -> list[Finding]:
    """Tell one story (in a worker)."""
    if job.scenario is not None:
        story: Callable[[sc.Scenario], list[Finding]] = (
            parked_after_shutdown if job.rule == "CHK-S1" else drive_from_low
        )
        return story(job.scenario)
    assert job.snapshot is not None  # noqa: S101  # a job has one or the other
    if job.rule in COLD_NIGHTS:
        return cold_night(job.snapshot, job.rule, COLD_NIGHTS[job.rule])
    return largest_load(job.snapshot) if job.rule == "CHK-S5" else cable_unplugged(job.snapshot)


def simulate(scenario: sc.Scenario, *, workers: int | None = None) -> list[Finding]:
    """CHK-S1 ... CHK-S6 for one design, in parallel on all cores (`workers=1`: in process)."""
    snapshot, warm = warm_snapshot(scenario)
    jobs = [
        _Job("CHK-S1", scenario=scenario),
        _Job("CHK-S4", scenario=scenario),
        _Job("CHK-S2", snapshot=snapshot),
        _Job("CHK-S3", snapshot=snapshot),
        _Job("CHK-S5", snapshot=snapshot),
        _Job("CHK-S6", snapshot=snapshot),
    ]
    count = workers if workers is not None else min(len(jobs), os.cpu_count() or 1)
    if count <= 1:
        results = [_run(job) for job in jobs]
    else:
        with concurrent.futures.ProcessPoolExecutor(max_workers=count) as pool:
            results = list(pool.map(_run, jobs))
    found = [f for story in results for f in story]
    if warm.outputs.safe_state:
        codes = ", ".join(sorted(code.value for code in warm.outputs.codes)) or "no code"
        note = f"With the BMS in its safe state from the start ({codes}): "
        found = [
            dataclasses.replace(f, message=note + f.message[0].lower() + f.message[1:])
            for f in found
        ]
    return found
