"""The fast builders of the per-step values give exactly the dataclasses' own values.

`fast_readings` and `fast_step_result` set the slots directly to save the frozen `__init__`'s
per-field `object.__setattr__` on the controller's hot path; they must stay indistinguishable.
"""

import dataclasses
import pickle

import pytest

from smartbms.core.events import PowerLost
from smartbms.core.signals import ALL_OPEN, Readings, StepResult, fast_readings, fast_step_result


def _readings(*values: object) -> Readings:
    """`Readings` through its own (keyword-only) constructor, fields in order."""
    names = [field.name for field in dataclasses.fields(Readings)]
    return Readings(**dict(zip(names, values, strict=True)))  # type: ignore[arg-type]


def test_fast_readings_equals_readings() -> None:
    fields = (13.2, 14.1, 13.1, 42.0, 42.0, False)
    fast = fast_readings(*fields)
    slow = _readings(*fields)
    assert type(fast) is Readings
    assert fast == slow
    assert hash(fast) == hash(slow)
    assert repr(fast) == repr(slow)
    assert pickle.loads(pickle.dumps(fast)) == slow  # noqa: S301  # our own bytes
    assert dataclasses.astuple(fast) == fields
    assert fast_readings(1.0, 2.0, 3.0, None, None, True) == _readings(
        1.0, 2.0, 3.0, None, None, True
    )


def test_fast_step_result_equals_step_result() -> None:
    readings = _readings(13.2, 0.0, 13.2, None, None, True)
    events = (PowerLost(1.0),)
    fast = fast_step_result(ALL_OPEN, readings, events, 2.5)
    slow = StepResult(ALL_OPEN, readings, events, 2.5)
    assert type(fast) is StepResult
    assert fast == slow
    assert hash(fast) == hash(slow)
    assert repr(fast) == repr(slow)


def test_the_fast_values_stay_frozen() -> None:
    readings = fast_readings(13.2, 0.0, 13.2, None, None, True)
    with pytest.raises(dataclasses.FrozenInstanceError):
        readings.bank_voltage_v = 0.0  # type: ignore[misc]
    result = fast_step_result(ALL_OPEN, readings, (), 1.0)
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.next_deadline_s = 0.0  # type: ignore[misc]
