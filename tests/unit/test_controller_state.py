"""The controller's explicit state: `snapshot`, `restore`, `from_state`, and the probe copy.

A twin forks from a snapshot and the simulator probes copies, so a controller continued from
either must answer every later step exactly like the original: same outputs, readings, events
and deadlines. The script below walks every timer and latch (AB debounce, charge limit hold,
pre-alarm lead and blink, System+ overload, trip, retry, power loss) so that a field missing
from the state would show up as a different answer.
"""

import copy
import dataclasses
import math
import pickle

import pytest

from smartbms.core import Controller, ControllerState, Inputs, StepResult
from smartbms.core import constants as c
from smartbms.core.events import (
    ChargeLimitReleased,
    MeasurementInvalid,
    MeasurementRecovered,
    PowerRestored,
    SystemPlusRetried,
)
from smartbms.core.settings import PreAlarmMode, Settings
from smartbms.core.timing import Hold
from tests.unit.helpers import ALTERNATOR, IDLE, PIN, events_in

LIMIT_V = c.CHARGE_LIMIT_DEFAULT_V
OVERLOAD_A = -(c.SP_CONTINUOUS_A + 10.0)

SEGMENTS: tuple[tuple[Inputs, float, float], ...] = (
    (IDLE, 0.0, 0.0),
    (ALTERNATOR, 0.25, 2.0),  # ALT-1: engages 1 s after the conditions hold
    (dataclasses.replace(ALTERNATOR, alternator_fuse_drop_v=0.03), 2.0, 3.0),
    (dataclasses.replace(ALTERNATOR, bank_voltage_v=LIMIT_V), 3.0, 4.0),  # ALT-5 latch
    (dataclasses.replace(ALTERNATOR, bank_voltage_v=LIMIT_V - 0.6), 4.0, 9.0),
    (dataclasses.replace(ALTERNATOR, bank_voltage_v=LIMIT_V - 0.2), 9.0, 9.5),  # hold broken
    (dataclasses.replace(ALTERNATOR, bank_voltage_v=LIMIT_V - 0.6), 9.5, 21.0),  # released
    (dataclasses.replace(IDLE, chain_prealarm=True), 21.0, 26.3),  # blinking pre-alarm
    (dataclasses.replace(IDLE, allowed_to_discharge=False), 26.3, 60.0),  # OUT-4: 30 s lead
    (IDLE, 60.0, 61.0),
    (dataclasses.replace(IDLE, system_plus_current_a=OVERLOAD_A), 61.0, 125.0),  # SP-5 trip
    (IDLE, 125.0, 140.0),  # retry after 10 s
    (dataclasses.replace(IDLE, system_plus_current_a=-(c.SP_PEAK_A + 1.0)), 140.0, 141.0),
    (dataclasses.replace(IDLE, powered=False), 141.0, 150.0),
    (ALTERNATOR, 150.0, 152.0),
    (dataclasses.replace(ALTERNATOR, bank_voltage_v=math.nan), 152.0, 153.0),  # failed reading
    (ALTERNATOR, 153.0, 158.0),  # recovering: a snapshot here carries the recovery timer
    (ALTERNATOR, 158.0, 166.0),  # recovered at 163 s, the AB port back 1 s later
)
"""(inputs, start, end): stepped at the start, at every deadline up to the end, and at the end."""


def _settings() -> Settings:
    return Settings.factory().changed(prealarm_mode=PreAlarmMode.INTERMITTENT)


def _run(ctrl: Controller, segments: tuple[tuple[Inputs, float, float], ...]) -> list[object]:
    """Every (time, result) of the segments, stepping the way the simulator does."""
    out: list[tuple[float, StepResult]] = []
    for inputs, start_s, end_s in segments:
        out.append((start_s, ctrl.step(inputs, start_s)))
        while (deadline := out[-1][1].next_deadline_s) <= end_s:
            out.append((deadline, ctrl.step(inputs, deadline)))
        if out[-1][0] < end_s:
            out.append((end_s, ctrl.step(inputs, end_s)))
    return list(out)


def test_the_script_reaches_every_timer() -> None:
    events = events_in(_run(Controller(_settings()), SEGMENTS))  # type: ignore[arg-type]
    kinds = {type(event) for event in events}
    assert {ChargeLimitReleased, SystemPlusRetried, PowerRestored} <= kinds
    assert {MeasurementInvalid, MeasurementRecovered} <= kinds


def test_the_state_lists_every_slot_of_the_controller() -> None:
    """No reflection in snapshot/restore: this is what keeps the two lists in step."""
    fields = {field.name for field in dataclasses.fields(ControllerState)}
    assert fields == {slot.removeprefix("_") for slot in Controller.__slots__}


@pytest.mark.parametrize("split", range(len(SEGMENTS) + 1))
def test_a_restored_controller_continues_identically(split: int) -> None:
    original = Controller(_settings())
    _run(original, SEGMENTS[:split])
    state = original.snapshot()
    forked = Controller.from_state(state)
    reused = Controller(Settings.factory(), config_valid=False)  # a different history first
    _run(reused, SEGMENTS[:3])
    reused.restore(state)
    assert forked.snapshot() == state
    assert reused.snapshot() == state
    rest = SEGMENTS[split:]
    expected = _run(original, rest)
    assert _run(forked, rest) == expected
    assert _run(reused, rest) == expected


@pytest.mark.parametrize("split", [0, 2, 5, 8, 11, 14, 16])
def test_a_pickled_snapshot_continues_identically(split: int) -> None:
    original = Controller(_settings())
    _run(original, SEGMENTS[:split])
    state = original.snapshot()
    loaded = pickle.loads(pickle.dumps(state))  # noqa: S301  # our own bytes
    assert loaded == state
    assert isinstance(loaded, ControllerState)
    rest = SEGMENTS[split:]
    assert _run(Controller.from_state(loaded), rest) == _run(original, rest)


def test_the_snapshot_is_a_frozen_value_of_values() -> None:
    ctrl = Controller(_settings())
    _run(ctrl, SEGMENTS[:8])
    ctrl.step(dataclasses.replace(IDLE, allowed_to_discharge=False), 40.0)
    state = ctrl.snapshot()
    with pytest.raises(dataclasses.FrozenInstanceError):
        state.powered = False  # type: ignore[misc]
    assert not hasattr(state, "__dict__")
    hash(state)  # only immutable values inside
    assert isinstance(state.prealarm, Hold)
    assert state.prealarm == Hold(c.PREALARM_MIN_LEAD_S, 21.0)  # OUT-4: since the rise at 21 s
    before = ctrl.snapshot()
    _run(ctrl, SEGMENTS[9:])
    assert before == state  # stepping on does not change a snapshot taken earlier


def test_the_e_b31_recovery_survives_a_snapshot_during_the_outage() -> None:
    """ERR-2: factory reset, then 3 minutes without power; the state carries both halves."""
    ctrl = Controller(config_valid=False)
    ctrl.step(IDLE, 0.0)
    ctrl.factory_reset(pin=PIN, now_s=1.0)
    ctrl.step(dataclasses.replace(IDLE, powered=False), 2.0)
    forked = Controller.from_state(ctrl.snapshot())
    assert forked.snapshot().config_fault
    forked.step(IDLE, 2.0 + c.E_B31_POWER_OFF_MIN_S)
    assert not forked.config_fault
    assert ctrl.config_fault  # the original is untouched


@pytest.mark.parametrize("split", [1, 4, 8, 11, 16])
def test_a_probe_copy_continues_identically_and_independently(split: int) -> None:
    original = Controller(_settings())
    _run(original, SEGMENTS[:split])
    state = original.snapshot()
    probe = copy.copy(original)
    assert probe.snapshot() == state
    rest = SEGMENTS[split:]
    assert _run(probe, rest) == _run(Controller.from_state(state), rest)
    assert original.snapshot() == state  # stepping the probe left the original alone
