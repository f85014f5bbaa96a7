"""Determinism of the pure core: the same calls give the same answers, on a fresh controller
and on a `copy.deepcopy` taken half-way (which the stateful tests use to probe deadlines).

The stateful machines in `test_controller_invariants.py` also replay their whole recorded history
on a fresh controller at the end of every run.

The bigger randomized run: `.venv/bin/pytest tests/property --hypothesis-profile=dev`.
"""

import copy
import pickle

from hypothesis import given
from hypothesis import strategies as st

from smartbms.core.controller import Controller, StepResult
from smartbms.core.settings import Settings
from smartbms.core.signals import Inputs
from tests.property import strategies as bst

_MOSTLY_TRUE = st.sampled_from([True, True, True, False])

inputs_values = st.builds(
    Inputs,
    powered=_MOSTLY_TRUE,
    bank_voltage_v=bst.bank_voltages_v,
    ab_voltage_v=bst.ab_voltages_v,
    remote_lh_connected=_MOSTLY_TRUE,
    remote_l_voltage_v=bst.remote_l_voltages_v,
    remote_h_voltage_v=bst.remote_h_voltages_v,
    chain_connected=_MOSTLY_TRUE,
    allowed_to_charge=st.booleans(),
    allowed_to_discharge=st.booleans(),
    chain_prealarm=st.booleans(),
    chain_supports_prealarm=_MOSTLY_TRUE,
    system_plus_current_a=bst.system_plus_currents_a,
    internal_temperature_c=bst.temperatures_c,
    calibration_ok=_MOSTLY_TRUE,
    reference_ok=_MOSTLY_TRUE,
)
"""Whole input samples, any group changed at once."""

traces = st.lists(st.tuples(inputs_values, st.floats(0.0, 40.0)), min_size=1, max_size=60)
"""(inputs, time since the previous sample) pairs."""


def drive(
    controller: Controller, trace: list[tuple[Inputs, float]], start_s: float = 0.0
) -> tuple[list[StepResult], float]:
    """Step through `trace` from `start_s`; return every result and the time reached."""
    now_s = start_s
    results = []
    for inputs, dt_s in trace:
        now_s += dt_s
        results.append(controller.step(inputs, now_s))
    return results, now_s


@given(initial=bst.settings_values, config_valid=st.booleans(), trace=traces)
def test_replay_on_a_fresh_controller_is_identical(
    initial: Settings, config_valid: bool, trace: list[tuple[Inputs, float]]
) -> None:
    """Same settings, same (inputs, now_s) sequence: identical outputs, readings, events and
    deadlines at every step (the core is pure: no clock, no randomness, no hidden globals).
    """
    first, _ = drive(Controller(initial, config_valid=config_valid), trace)
    second, _ = drive(Controller(initial, config_valid=config_valid), trace)
    assert first == second


@given(initial=bst.settings_values, trace=traces, data=st.data())
def test_deepcopy_continues_like_the_original(
    initial: Settings, trace: list[tuple[Inputs, float]], data: st.DataObject
) -> None:
    """A deep copy taken at any step answers the rest of the trace exactly like the original."""
    split = data.draw(st.integers(0, len(trace)), label="split")
    original = Controller(initial)
    _, split_s = drive(original, trace[:split])
    twin = copy.deepcopy(original)
    rest = trace[split:]
    assert drive(twin, rest, split_s) == drive(original, rest, split_s)


@given(initial=bst.settings_values, config_valid=st.booleans(), trace=traces, data=st.data())
def test_a_snapshot_continues_like_the_original(
    initial: Settings, config_valid: bool, trace: list[tuple[Inputs, float]], data: st.DataObject
) -> None:
    """A snapshot taken at any step, pickled and restored, and a probe `copy.copy`, answer the
    rest of the trace exactly like the original (the simulator probes, a twin forks)."""
    split = data.draw(st.integers(0, len(trace)), label="split")
    original = Controller(initial, config_valid=config_valid)
    _, split_s = drive(original, trace[:split])
    state = pickle.loads(pickle.dumps(original.snapshot()))  # noqa: S301  # our own bytes
    forked = Controller.from_state(state)
    probe = copy.copy(original)
    rest = trace[split:]
    expected = drive(original, rest, split_s)
    assert drive(forked, rest, split_s) == expected
    assert drive(probe, rest, split_s) == expected
