"""The controller's System+ port: SP-1...SP-6 and its alarm A-A12 (ERR-5)."""

import dataclasses

import pytest

from smartbms.core import NO_DEADLINE, Code, Controller, Inputs, Outputs
from smartbms.core.events import (
    CodeCleared,
    CodeRaised,
    LoadDisconnected,
    SystemPlusChanged,
    SystemPlusLockedOut,
    SystemPlusRetried,
    SystemPlusTripped,
    TripCause,
)
from smartbms.core.power_stage import system_plus_current_a
from tests.unit.helpers import (
    IDLE,
    PIN,
    controller,
    events_in,
    of_type,
    step_deadlines,
    step_range,
)


def _current(current_a: float, **changes: bool) -> Inputs:
    return dataclasses.replace(IDLE, system_plus_current_a=current_a, **changes)


def _started(ctrl: Controller | None = None) -> Controller:
    ctrl = ctrl or controller()
    first = ctrl.step(IDLE, 0.0)
    assert first.outputs.system_plus_charge_allowed
    assert first.outputs.system_plus_discharge_allowed
    return ctrl


REMOTE_OFF = Inputs(remote_lh_connected=False, remote_l_voltage_v=13.2, remote_h_voltage_v=0.0)


def _port(ctrl: Controller, inputs: Inputs, now_s: float) -> tuple[bool, bool]:
    return _state(ctrl.step(inputs, now_s).outputs)


# --- SP-1: ratings --------------------------------------------------------------------------------


@pytest.mark.req("SP-1")
@pytest.mark.parametrize("current_a", [200.0, -200.0, 150.0, -0.5])
def test_sp1_200a_continuous_in_each_direction_never_trips(current_a: float) -> None:
    """SP-1: 200 A (exactly) continuous, charge or discharge, for an hour: no trip."""
    ctrl = _started()
    run = step_range(ctrl, _current(current_a), 0.0, 3600.0, 5.0)
    for _, result in run:
        assert result.outputs.system_plus_charge_allowed
        assert result.outputs.system_plus_discharge_allowed
        assert Code.A_A12 not in result.outputs.codes
        assert result.next_deadline_s == NO_DEADLINE
    assert events_in(run) == []


@pytest.mark.req("SP-1", "SP-5")
def test_sp1_400a_peak_discharge_is_allowed_below_60s() -> None:
    """SP-1/SP-5: 400 A discharge (exactly the peak rating) is carried; only the 60 s overload limit
    applies to it: still on at 59.99 s, tripped at 60 s."""
    ctrl = _started()
    ctrl.step(IDLE, 9.0)
    first = ctrl.step(_current(-400.0), 10.0)
    assert first.next_deadline_s == 70.0
    for t in (10.5, 11.0, 30.0, 69.99):
        assert _port(ctrl, _current(-400.0), t) == (True, True), t
    tripped = ctrl.step(_current(-400.0), 70.0)
    assert of_type(tripped.events, SystemPlusTripped) == [
        SystemPlusTripped(70.0, TripCause.CONTINUOUS_OVERLOAD, -400.0)
    ]


# --- SP-2 / SP-3 / SP-4: which directions are allowed ---------------------------------------------


@pytest.mark.req("SP-2", "OUT-4")
def test_sp2_discharge_stops_with_load_disconnect_charge_stays_allowed() -> None:
    """SP-2/OUT-4: at the very step Load disconnect floats, System+ stops discharge, keeps
    charge."""
    ctrl = _started()
    no_atd = dataclasses.replace(IDLE, allowed_to_discharge=False)
    ctrl.step(no_atd, 10.0)
    before = ctrl.step(no_atd, 39.99)
    assert before.outputs.system_plus_discharge_allowed
    at = ctrl.step(no_atd, 40.0)
    assert at.outputs.system_plus_discharge_allowed is False
    assert at.outputs.system_plus_charge_allowed is True
    assert LoadDisconnected(40.0) in at.events
    assert SystemPlusChanged(40.0, charge_allowed=True, discharge_allowed=False) in at.events
    # A charger on System+ may recover the system: charge flows, discharge does not (SP-6).
    charge_a = system_plus_current_a(
        unrestricted_current_a=30.0,
        charge_allowed=at.outputs.system_plus_charge_allowed,
        discharge_allowed=at.outputs.system_plus_discharge_allowed,
    )
    discharge_a = system_plus_current_a(
        unrestricted_current_a=-30.0,
        charge_allowed=at.outputs.system_plus_charge_allowed,
        discharge_allowed=at.outputs.system_plus_discharge_allowed,
    )
    assert (charge_a, discharge_a) == (30.0, 0.0)


@pytest.mark.req("SP-3")
def test_sp3_atc_withdrawn_stops_charge_keeps_discharge() -> None:
    """SP-3: ATC withdrawn: no charge into the bank through System+, discharge still allowed."""
    ctrl = _started()
    cut = ctrl.step(dataclasses.replace(IDLE, allowed_to_charge=False), 5.0)
    assert (
        cut.outputs.system_plus_charge_allowed,
        cut.outputs.system_plus_discharge_allowed,
    ) == (False, True)
    assert SystemPlusChanged(5.0, charge_allowed=False, discharge_allowed=True) in cut.events
    back = ctrl.step(IDLE, 6.0)
    assert (
        back.outputs.system_plus_charge_allowed,
        back.outputs.system_plus_discharge_allowed,
    ) == (
        True,
        True,
    )
    assert SystemPlusChanged(6.0, charge_allowed=True, discharge_allowed=True) in back.events


@pytest.mark.req("SP-4", "REM-2")
@pytest.mark.parametrize("function", ["alternator and system+ only", "switch everything off"])
def test_sp4_port_off_both_ways_while_remote_off(function: str) -> None:
    """SP-4/REM-2: remote OFF: System+ off in both directions, in both remote-function settings."""
    ctrl = _started(controller(remote_function=function))
    off = ctrl.step(REMOTE_OFF, 1.0)
    assert SystemPlusChanged(1.0, charge_allowed=False, discharge_allowed=False) in off.events
    for _, result in step_range(ctrl, REMOTE_OFF, 1.0, 20.0, 1.0):
        assert not result.outputs.system_plus_charge_allowed
        assert not result.outputs.system_plus_discharge_allowed
    assert _port(ctrl, IDLE, 21.0) == (True, True)


@pytest.mark.req("SP-4", "REM-3")
def test_sp4_port_off_both_ways_while_soft_switch_off() -> None:
    """SP-4/REM-3: soft switch OFF: System+ off both ways; ON again: both ways back."""
    ctrl = _started()
    ctrl.change_settings({"soft_switch_on": False}, pin=PIN, now_s=1.0)
    assert _port(ctrl, IDLE, 1.0) == (False, False)
    ctrl.change_settings({"soft_switch_on": True}, pin=PIN, now_s=2.0)
    assert _port(ctrl, IDLE, 2.0) == (True, True)


@pytest.mark.req("SP-6")
@pytest.mark.parametrize(
    ("inputs", "charge_a", "discharge_a"),
    [
        (IDLE, 50.0, -50.0),
        (dataclasses.replace(IDLE, allowed_to_charge=False), 0.0, -50.0),
        (REMOTE_OFF, 0.0, 0.0),
    ],
)
def test_sp6_controller_decision_makes_an_ideal_diode(
    inputs: Inputs, charge_a: float, discharge_a: float
) -> None:
    """SP-6: with only one direction allowed, the forbidden direction carries exactly 0 A."""
    ctrl = _started()
    out = ctrl.step(inputs, 1.0).outputs
    assert (
        system_plus_current_a(
            unrestricted_current_a=50.0,
            charge_allowed=out.system_plus_charge_allowed,
            discharge_allowed=out.system_plus_discharge_allowed,
        )
        == charge_a
    )
    assert (
        system_plus_current_a(
            unrestricted_current_a=-50.0,
            charge_allowed=out.system_plus_charge_allowed,
            discharge_allowed=out.system_plus_discharge_allowed,
        )
        == discharge_a
    )


# --- SP-5: short circuit, overload, retries, lock-out (A-A12) -------------------------------------


@pytest.mark.req("SP-5", "ERR-5")
def test_sp5_above_600a_trips_instantly_with_a_a12() -> None:
    """SP-5/ERR-5: 600.01 A discharge opens the port in the same step, raises A-A12, retries at
    +10 s."""
    ctrl = _started()
    result = ctrl.step(_current(-600.01), 5.0)
    out = result.outputs
    assert (out.system_plus_charge_allowed, out.system_plus_discharge_allowed) == (False, False)
    assert Code.A_A12 in out.codes
    assert SystemPlusTripped(5.0, TripCause.SHORT_CIRCUIT, -600.01) in result.events
    assert CodeRaised(5.0, Code.A_A12) in result.events
    assert SystemPlusChanged(5.0, charge_allowed=False, discharge_allowed=False) in result.events
    assert result.next_deadline_s == 15.0
    assert Code.A_A12.info.cause.startswith("The short-circuit protection acted")


@pytest.mark.req("SP-5")
def test_sp5_exactly_600a_is_not_an_instant_trip() -> None:
    """SP-5: 600 A is not *above* 600 A: no instant trip; the 400 A peak rule trips it at 0.5 s."""
    ctrl = _started()
    first = ctrl.step(_current(-600.0), 5.0)
    assert first.outputs.system_plus_discharge_allowed
    assert first.next_deadline_s == 5.5
    later = ctrl.step(_current(-600.0), 5.5)
    assert of_type(later.events, SystemPlusTripped) == [
        SystemPlusTripped(5.5, TripCause.PEAK_OVERLOAD, -600.0)
    ]


@pytest.mark.req("SP-5")
def test_sp5_above_400a_trips_after_0s5() -> None:
    """SP-5: 400.01 A discharge: still on at 0.49 s, tripped (peak overload) at 0.5 s."""
    ctrl = _started()
    first = ctrl.step(_current(-400.01), 10.0)
    assert first.next_deadline_s == 10.5
    still = ctrl.step(_current(-400.01), 10.49)
    assert still.outputs.system_plus_discharge_allowed
    assert still.events == ()
    tripped = ctrl.step(_current(-400.01), 10.5)
    assert not tripped.outputs.system_plus_discharge_allowed
    assert SystemPlusTripped(10.5, TripCause.PEAK_OVERLOAD, -400.01) in tripped.events
    assert Code.A_A12 in tripped.outputs.codes


@pytest.mark.req("SP-5")
def test_sp5_peak_timer_restarts_when_the_current_falls_back() -> None:
    """SP-5: the 0.5 s must be consecutive: a dip to 100 A restarts it."""
    ctrl = _started()
    ctrl.step(_current(-450.0), 1.0)
    ctrl.step(_current(-100.0), 1.3)
    restart = ctrl.step(_current(-450.0), 1.4)
    assert restart.next_deadline_s == pytest.approx(1.9)
    assert ctrl.step(_current(-450.0), 1.5).outputs.system_plus_discharge_allowed
    assert ctrl.step(_current(-450.0), 1.89).outputs.system_plus_discharge_allowed
    assert not ctrl.step(_current(-450.0), 1.9).outputs.system_plus_discharge_allowed


@pytest.mark.req("SP-5")
@pytest.mark.parametrize("current_a", [-200.01, 200.01, -399.0, 350.0])
def test_sp5_above_200a_trips_after_60s_in_either_direction(current_a: float) -> None:
    """SP-5: above 200 A (charge or discharge): on at 59.99 s, tripped at exactly 60 s."""
    ctrl = _started()
    first = ctrl.step(_current(current_a), 100.0)
    assert first.next_deadline_s == 160.0
    assert _port(ctrl, _current(current_a), 159.99) == (True, True)
    tripped = ctrl.step(_current(current_a), 160.0)
    assert (
        tripped.outputs.system_plus_charge_allowed,
        tripped.outputs.system_plus_discharge_allowed,
    ) == (False, False)
    assert of_type(tripped.events, SystemPlusTripped) == [
        SystemPlusTripped(160.0, TripCause.CONTINUOUS_OVERLOAD, current_a)
    ]


@pytest.mark.req("SP-5")
def test_sp5_overload_timer_restarts_when_the_current_falls_to_200a() -> None:
    """SP-5: 60 s above 200 A in a row: a moment at 200 A restarts the count."""
    ctrl = _started()
    ctrl.step(_current(-250.0), 0.0)
    ctrl.step(_current(-200.0), 59.0)
    assert ctrl.step(_current(-250.0), 60.0).next_deadline_s == 120.0
    assert _port(ctrl, _current(-250.0), 119.99) == (True, True)
    assert _port(ctrl, _current(-250.0), 120.0) == (False, False)


@pytest.mark.req("SP-5")
def test_sp5_retries_after_exactly_10s() -> None:
    """SP-5: the port stays off 9.99 s after a trip and closes again at exactly 10 s."""
    ctrl = _started()
    ctrl.step(_current(-700.0), 5.0)
    waiting = ctrl.step(IDLE, 14.99)
    assert _state(waiting.outputs) == (False, False)
    assert waiting.next_deadline_s == 15.0
    retried = ctrl.step(IDLE, 15.0)
    assert _state(retried.outputs) == (True, True)
    assert Code.A_A12 not in retried.outputs.codes
    assert retried.events == (
        SystemPlusRetried(15.0, 1),
        CodeCleared(15.0, Code.A_A12),
        SystemPlusChanged(15.0, charge_allowed=True, discharge_allowed=True),
    )


def _state(out: Outputs) -> tuple[bool, bool]:
    return out.system_plus_charge_allowed, out.system_plus_discharge_allowed


@pytest.mark.req("SP-5", "ERR-5")
def test_sp5_a_lasting_short_locks_out_after_3_retries() -> None:
    """SP-5/ERR-5: trip at 0, retries at 10, 20, 30 each re-trip; the 4th trip locks the port
    out."""
    ctrl = _started()
    run = step_deadlines(ctrl, _current(-1000.0), 1.0, 10_000.0)
    assert [t for t, _ in run] == [1.0, 11.0, 21.0, 31.0]
    events = events_in(run)
    assert of_type(events, SystemPlusRetried) == [
        SystemPlusRetried(11.0, 1),
        SystemPlusRetried(21.0, 2),
        SystemPlusRetried(31.0, 3),
    ]
    assert [e.t_s for e in of_type(events, SystemPlusTripped)] == [1.0, 11.0, 21.0, 31.0]
    assert of_type(events, SystemPlusLockedOut) == [SystemPlusLockedOut(31.0)]
    assert run[-1][1].next_deadline_s == NO_DEADLINE
    # Never during the retries did the port show as closed, and A-A12 never flickered.
    for _, result in run:
        assert _state(result.outputs) == (False, False)
        assert Code.A_A12 in result.outputs.codes
    assert of_type(events, CodeRaised) == [CodeRaised(1.0, Code.A_A12)]
    # The short is gone, but the lock-out holds, however long we wait.
    for t in (32.0, 300.0, 5000.0):
        locked = ctrl.step(IDLE, t)
        assert _state(locked.outputs) == (False, False)
        assert Code.A_A12 in locked.outputs.codes
        assert locked.next_deadline_s == NO_DEADLINE


@pytest.mark.req("SP-5", "REM-4")
@pytest.mark.parametrize("how", ["remote", "soft switch"])
def test_sp5_lock_out_cleared_by_switching_off_and_on(how: str) -> None:
    """SP-5/REM-4: the lock-out ends only when the system is switched off and on again."""
    ctrl = _started()
    step_deadlines(ctrl, _current(-1000.0), 1.0, 100.0)
    assert _state(ctrl.step(IDLE, 50.0).outputs) == (False, False)
    if how == "remote":
        ctrl.step(REMOTE_OFF, 60.0)
        assert _state(ctrl.step(REMOTE_OFF, 61.0).outputs) == (False, False)
    else:
        ctrl.change_settings({"soft_switch_on": False}, pin=PIN, now_s=60.0)
        ctrl.step(IDLE, 60.0)
        ctrl.change_settings({"soft_switch_on": True}, pin=PIN, now_s=61.0)
    on = ctrl.step(IDLE, 61.0)
    assert _state(on.outputs) == (True, True)
    assert Code.A_A12 not in on.outputs.codes
    # A fresh trip history: a new short gets its 3 retries again.
    ctrl.step(_current(-1000.0), 70.0)
    assert of_type(ctrl.step(IDLE, 80.0).events, SystemPlusRetried) == [SystemPlusRetried(80.0, 1)]


@pytest.mark.req("SP-5")
def test_sp5_three_retries_spread_over_more_than_300s_do_not_lock_out() -> None:
    """SP-5: at most 3 retries *within 300 s*: older retries fall out of the window."""
    ctrl = _started()
    retries: list[SystemPlusRetried] = []
    for trip_s in (0.0, 110.0, 220.0, 330.0, 440.0):
        tripped = ctrl.step(_current(-1000.0), trip_s)
        assert of_type(tripped.events, SystemPlusLockedOut) == [], trip_s
        retry = ctrl.step(IDLE, trip_s + 10.0)
        assert _state(retry.outputs) == (True, True), trip_s
        retries += of_type(retry.events, SystemPlusRetried)
    assert [r.attempt for r in retries] == [1, 2, 3, 3, 3]


@pytest.mark.req("SP-5")
def test_sp5_four_trips_within_300s_lock_out_even_when_spaced() -> None:
    """SP-5: three retries at 10, 110, 210 s; a fourth trip at 250 s locks the port out."""
    ctrl = _started()
    for trip_s in (0.0, 100.0, 200.0):
        ctrl.step(_current(-1000.0), trip_s)
        ctrl.step(IDLE, trip_s + 10.0)
    fourth = ctrl.step(_current(-1000.0), 250.0)
    assert SystemPlusLockedOut(250.0) in fourth.events
    assert fourth.next_deadline_s == NO_DEADLINE
    assert _state(ctrl.step(IDLE, 400.0).outputs) == (False, False)


@pytest.mark.req("SP-5", "SP-3")
def test_sp5_trip_while_atc_withdrawn_retries_to_discharge_only() -> None:
    """SP-5/SP-3: after the retry the port again obeys ATC (charge still forbidden)."""
    ctrl = _started()
    no_atc = dataclasses.replace(IDLE, allowed_to_charge=False)
    ctrl.step(dataclasses.replace(no_atc, system_plus_current_a=-700.0), 1.0)
    assert _state(ctrl.step(no_atc, 11.0).outputs) == (False, True)
