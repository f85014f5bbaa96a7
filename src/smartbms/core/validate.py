"""The controller's door: every input is checked before a step changes anything.

Two kinds of bad input get two different answers:

- A wrong *type* (the string "false" for a bool, a str for a float) is a caller's bug and never
  a value: `Controller.step` refuses it with a TypeError naming the field, and nothing changes.
  A float field takes a float or an int (never a bool); a bool field takes only True or False.
- A non-finite or impossible *value* (outside what the sensors can read, the `MEASURABLE_*`
  constants) is a failed measurement: a fact about the device, so a state and never an
  exception. The step reports `MeasurementInvalid`, takes every path the measurement gates to
  its safe side (the `*_GATES` masks below), and trusts the field again only after
  `MEASUREMENT_RECOVERY_S` of valid readings without a break (`MeasurementRecovered`).

Fields travel as bits of an int, one per measured field in `MEASURED` order, so a healthy step
costs one expression (`inputs_ok`) and one int test; everything else runs only on a failure.
"""

import dataclasses
import math
from typing import TYPE_CHECKING, Any

from smartbms.core import constants as c
from smartbms.core.events import Event, MeasurementInvalid, MeasurementRecovered
from smartbms.core.timing import Hold

if TYPE_CHECKING:
    from smartbms.core.signals import Inputs

_V_LOW, _V_HIGH = -c.MEASURABLE_V, c.MEASURABLE_V
_SP_LOW, _SP_HIGH = -c.MEASURABLE_SYSTEM_PLUS_A, c.MEASURABLE_SYSTEM_PLUS_A
_PRE_LOW, _PRE_HIGH = -c.MEASURABLE_PREALARM_A, c.MEASURABLE_PREALARM_A
_C_LOW, _C_HIGH = c.MEASURABLE_MIN_C, c.MEASURABLE_MAX_C

MEASURED: tuple[tuple[str, float, float], ...] = (
    ("bank_voltage_v", _V_LOW, _V_HIGH),
    ("ab_voltage_v", _V_LOW, _V_HIGH),
    ("system_plus_voltage_v", _V_LOW, _V_HIGH),
    ("remote_l_voltage_v", _V_LOW, _V_HIGH),
    ("remote_h_voltage_v", _V_LOW, _V_HIGH),
    ("alternator_fuse_drop_v", _V_LOW, _V_HIGH),
    ("system_plus_current_a", _SP_LOW, _SP_HIGH),
    ("internal_temperature_c", _C_LOW, _C_HIGH),
    ("prealarm_output_current_a", _PRE_LOW, _PRE_HIGH),
)
"""The measured (float) fields of `Inputs` and the range each sensor can read, inclusive."""
SWITCHES: tuple[str, ...] = (
    "powered",
    "remote_lh_connected",
    "chain_connected",
    "allowed_to_charge",
    "allowed_to_discharge",
    "chain_prealarm",
    "chain_supports_prealarm",
    "calibration_ok",
    "reference_ok",
    "app_connected",
)
"""The bool fields of `Inputs`: lines and self-tests, which have no impossible value."""
_RANGES = {name: (low, high) for name, low, high in MEASURED}

BANK, AB, SYSTEM_PLUS_V, REMOTE_L, REMOTE_H, FUSE_DROP, SYSTEM_PLUS_A, TEMPERATURE, PREALARM_A = (
    1 << index for index in range(len(MEASURED))
)
"""Each measured field's bit."""
REMOTE_GATES = REMOTE_L | REMOTE_H
"""Without a trusted remote terminal the system keeps its on/off state (no switch is seen)."""
AB_PORT_GATES = BANK | AB | FUSE_DROP | TEMPERATURE | REMOTE_GATES
"""The AB port opens while any of these is failed: the charge limit (ALT-5), the 13-16 V window
(ALT-1, ALT-9), the limiter's shunt (ALT-4), the temperature (ALT-8), the system switch (ALT-7)."""
SYSTEM_PLUS_GATES = SYSTEM_PLUS_A | REMOTE_GATES
"""System+ is cut both ways while any of these is failed: the current guards both directions
(SP-5: the short and peak trips on discharge, the 200 A overload either way), and the system
switch both (SP-4)."""
IDLE_RECOVERY = (Hold(c.MEASUREMENT_RECOVERY_S),) * len(MEASURED)
"""No field is recovering."""


def inputs_ok(i: Any) -> bool:  # Any: it checks what the hints only promise
    """Every field has its type and every measurement its range: the hot path, one expression.

    False sends the step down `measurement_failures`, which says which field and why. Only exact
    floats are compared here, so nothing in it can raise.
    """
    return (
        (i.powered is True or i.powered is False)
        and (i.remote_lh_connected is True or i.remote_lh_connected is False)
        and (i.chain_connected is True or i.chain_connected is False)
        and (i.allowed_to_charge is True or i.allowed_to_charge is False)
        and (i.allowed_to_discharge is True or i.allowed_to_discharge is False)
        and (i.chain_prealarm is True or i.chain_prealarm is False)
        and (i.chain_supports_prealarm is True or i.chain_supports_prealarm is False)
        and (i.calibration_ok is True or i.calibration_ok is False)
        and (i.reference_ok is True or i.reference_ok is False)
        and (i.app_connected is True or i.app_connected is False)
        and type(i.bank_voltage_v) is float
        and _V_LOW <= i.bank_voltage_v <= _V_HIGH
        and type(i.ab_voltage_v) is float
        and _V_LOW <= i.ab_voltage_v <= _V_HIGH
        and type(i.system_plus_voltage_v) is float
        and _V_LOW <= i.system_plus_voltage_v <= _V_HIGH
        and type(i.remote_l_voltage_v) is float
        and _V_LOW <= i.remote_l_voltage_v <= _V_HIGH
        and type(i.remote_h_voltage_v) is float
        and _V_LOW <= i.remote_h_voltage_v <= _V_HIGH
        and type(i.alternator_fuse_drop_v) is float
        and _V_LOW <= i.alternator_fuse_drop_v <= _V_HIGH
        and type(i.system_plus_current_a) is float
        and _SP_LOW <= i.system_plus_current_a <= _SP_HIGH
        and type(i.internal_temperature_c) is float
        and _C_LOW <= i.internal_temperature_c <= _C_HIGH
        and type(i.prealarm_output_current_a) is float
        and _PRE_LOW <= i.prealarm_output_current_a <= _PRE_HIGH
    )


def type_problem(name: str, value: object) -> str | None:
    """Why `value` cannot stand in the `Inputs` field `name` at all (None: its type fits)."""
    if name in _RANGES:
        if isinstance(value, float) or (isinstance(value, int) and not isinstance(value, bool)):
            return None
        return f"Inputs.{name} must be a number (float or int), got {_shown(value)}"
    if name in SWITCHES:
        if value is True or value is False:
            return None
        return f"Inputs.{name} must be True or False, got {_shown(value)}"
    return f"Inputs has no field {name!r}"


def measurement_failures(i: "Inputs") -> int:
    """The bits of the measurements that failed; TypeError (naming the field) for a wrong type.

    Every type is checked before any value, so a refused step has looked at nothing yet.
    """
    for name in (*SWITCHES, *_RANGES):
        problem = type_problem(name, getattr(i, name))
        if problem is not None:
            raise TypeError(problem)
    failed = 0
    for index, (name, low, high) in enumerate(MEASURED):
        if not low <= getattr(i, name) <= high:  # NaN fails every comparison
            failed |= 1 << index
    return failed


def check_field(name: str, value: object) -> None:
    """`Inputs.checked`'s test of one field.

    TypeError for an unknown field or a wrong type, ValueError for a value no sensor can read
    (non-finite or outside its range).
    """
    problem = type_problem(name, value)
    if problem is not None:
        raise TypeError(problem)
    if name in _RANGES:
        low, high = _RANGES[name]
        if not low <= value <= high:  # type: ignore[operator]  # a number: checked above
            msg = f"Inputs.{name} must be within {low:g} ... {high:g}, got {value_text(value)}"
            raise ValueError(msg)


def refuse_time(now_s: object, last_now_s: float) -> None:
    """Raise the error for a `now_s` that `step` cannot take (the caller found it bad)."""
    if not isinstance(now_s, float | int) or isinstance(now_s, bool):
        msg = f"now_s must be a number of seconds, got {_shown(now_s)}"
        raise TypeError(msg)
    if not math.isfinite(now_s):
        msg = f"now_s must be finite, got {value_text(now_s)}"
        raise ValueError(msg)
    msg = f"time went backwards: {now_s} after {last_now_s}"
    raise ValueError(msg)


@dataclasses.dataclass(frozen=True, slots=True)
class MeasurementWatch:
    """Which measurements the controller distrusts, and how long each has read valid since.

    A field fails at its first invalid reading (one `MeasurementInvalid`, however long it lasts)
    and is trusted again once it has read valid for `MEASUREMENT_RECOVERY_S` in a row
    (`MeasurementRecovered`); an invalid reading on the way starts that time again. A power
    cycle keeps the failures (the sensor is no better for it) and restarts their recovery.
    """

    failed: int = 0
    """The bits of the fields failed and not yet recovered: the paths they gate stay safe."""
    recovery: tuple[Hold, ...] = IDLE_RECOVERY
    """Per field in `MEASURED` order: valid since (running only while failed)."""

    def look(
        self, i: "Inputs", bad: int, now_s: float, events: list[Event]
    ) -> tuple["MeasurementWatch", float]:
        """The watch after a step whose invalid readings are `bad`, and its next deadline."""
        failed = self.failed | bad
        holds = list(self.recovery)
        deadline = math.inf
        for index, (name, _, _) in enumerate(MEASURED):
            bit = 1 << index
            if not failed & bit:
                continue
            if bad & bit:
                if not self.failed & bit:
                    events.append(MeasurementInvalid(now_s, name, value_text(getattr(i, name))))
                holds[index] = holds[index].stop()
                continue
            hold = holds[index] = holds[index].start(now_s)
            if hold.done(now_s):
                failed &= ~bit
                holds[index] = hold.stop()
                events.append(MeasurementRecovered(now_s, name))
            else:
                deadline = min(deadline, hold.due_s)
        return MeasurementWatch(failed, tuple(holds)), deadline

    def restarted(self) -> "MeasurementWatch":
        """After a power cycle: still failed, and nothing read valid yet."""
        return MeasurementWatch(self.failed)


def value_text(value: object) -> str:
    """A reading as text for an event or a message: exact for floats, bounded for huge ints."""
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 64:
        return f"an integer of {value.bit_length()} bits"
    return repr(value)


def _shown(value: object) -> str:
    """A wrong value, named by its type and (briefly) its text."""
    text = value_text(value) if isinstance(value, int | float) else repr(value)
    if len(text) > 40:
        text = text[:37] + "..."
    return f"{type(value).__name__} {text}"
