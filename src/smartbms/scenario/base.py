"""What every table of a scenario file shares: limits, problems, wording, times, `_Table`.

The format's limits, the problems our checks raise, how values and bounds are worded in
messages, times in any unit, and the base model of every table.

Bounds are read back from the models' own constraints (`_bounds`), so a check and the message that
names what is allowed never disagree.
"""

import dataclasses
import difflib
import enum
import json
import math
from collections.abc import Sequence
from typing import Any, ClassVar

import annotated_types
from pydantic import BaseModel, ConfigDict, ValidationError, model_validator
from pydantic.fields import FieldInfo

# --- Chosen limits of the format (not BMS behaviour, so they live here, not in core.constants) ---
MAX_DURATION_S = 400 * 86_400.0
"""A scenario (and any time in it) spans at most 400 days: a long storage test, not a lifetime."""
MAX_TIMELINE_OCCURRENCES = 1_000_000
"""A run applies at most a million timeline entries (repeats included): each forces a step, and
a million take minutes; a `timeline_period` of 1 ms over 400 days would never end."""
MIN_CELL_CAPACITY_FACTOR = 0.05
"""A cell keeps at least 5 % of its capacity: below that the cell empties and refills within a
step and the outputs chatter; such a cell is a dead battery, not a weak one."""
DEFAULT_AMBIENT_C = 20.0
"""The ambient temperature when [environment] does not give one."""
CELLS_PER_BATTERY = 4
"""A Lithium Battery 12,8V Smart has four LFP cells in series (PLT-1)."""
COLDEST_HOUR_H = 5.0
"""The daily ambient sine is coldest at 05:00 (and warmest twelve hours later)."""

_UNIT_WORDS = {"s": "seconds", "min": "minutes", "h": "hours", "days": "days"}
_TIME_UNITS: dict[str, tuple[float, str]] = {
    "_s": (1.0, "s"),
    "_min": (60.0, "min"),
    "_h": (3600.0, "h"),
    "_d": (86_400.0, "days"),
}


# --- Problems raised inside validators ---------------------------------------------------------


class _ProblemError(ValueError):
    """Problems found by our own checks, each at a `loc` relative to where pydantic raised it.

    pydantic wraps a `ValueError` from a validator as a `value_error` located at the model (or
    field) being validated and keeps the exception in the error's context; carrying a relative
    location lets a whole-model or whole-list check still point at the offending key.
    """

    def __init__(
        self, *problems: tuple[tuple[str | int, ...], str], nested: ValidationError | None = None
    ) -> None:
        super().__init__("; ".join(message for _, message in problems))
        self.problems = problems
        self.nested = nested
        """What the rest of the same table got wrong (its locations relative to the table)."""


def _problem(message: str, *loc: str | int) -> _ProblemError:
    return _ProblemError((loc, message))


def _show(value: object) -> str:
    """A value as it would be written in TOML, shortened: the user sees their own spelling."""
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, str):
        text = json.dumps(value, ensure_ascii=False)
    elif isinstance(value, float) and math.isfinite(value):
        text = repr(value)
    elif isinstance(value, int | float):
        text = str(value)
    elif isinstance(value, list | tuple):
        text = "[" + ", ".join(_show(v) for v in value) + "]"
    elif isinstance(value, dict):
        text = "a table"
    elif isinstance(value, enum.Enum):
        text = _show(value.value)
    else:
        text = repr(value)
    text = text.replace("\n", " ")
    return text if len(text) <= 60 else text[:57] + "..."


def _num(value: float) -> str:
    """A bound for a message: 0 rather than 0.0, 15.3 rather than 15.300000000000001."""
    return f"{value:g}" if abs(value) < 1e6 else str(value)


_DQ = '"'


def _closest(word: str, options: Sequence[str]) -> str | None:
    """The option a typo most likely meant (case-insensitive), if any is close enough."""
    lowered = {option.lower(): option for option in options}
    match = difflib.get_close_matches(word.lower(), list(lowered), n=1, cutoff=0.6)
    return lowered[match[0]] if match else None


def _suggest(word: str, options: Sequence[str], quote: str = "'") -> str:
    """'did you mean ...? ' for a close match among `options`, else ''."""
    match = _closest(word, options)
    return f"did you mean {quote}{match}{quote}? " if match else ""


def _allowed_after(hint: str, allowed: str, word: str = "allowed") -> str:
    """'allowed: ...', or after a suggestion (which ends a sentence) 'Allowed: ...'."""
    return f"{hint}{word.capitalize()}: {allowed}" if hint else f"{word}: {allowed}"


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _unit(name: str) -> str:
    """The unit a key's suffix names (units are in every numeric key)."""
    for suffix, unit in (
        ("_pct", "%"),
        ("_ohm", "ohm"),
        ("_ah", "Ah"),
        ("_min", "min"),
        ("_v", "V"),
        ("_a", "A"),
        ("_w", "W"),
        ("_s", "s"),
        ("_h", "h"),
        ("_d", "days"),
        ("_c", "°C"),
    ):
        if name.endswith(suffix):
            return unit
    return ""


def _with_unit(value: str, unit: str) -> str:
    return f"{value} {unit}" if unit else value


def _human_s(seconds: float) -> str:
    """A duration in the largest whole unit that fits (for messages about times)."""
    for factor, unit in ((86_400.0, "day"), (3600.0, "h"), (60.0, "min")):
        if seconds >= factor and seconds % factor == 0:
            count = seconds / factor
            plural = "s" if unit == "day" and count != 1 else ""
            return f"{_num(count)} {unit}{plural}"
    return f"{_num(seconds)} s"


# --- Bounds read back from the models (one source for checks and messages) ---------------------


def _bounds(metadata: Sequence[object]) -> dict[str, float]:
    found: dict[str, float] = {}
    for item in metadata:
        for key in ("gt", "ge", "lt", "le"):
            value = getattr(item, key, None)
            if isinstance(item, annotated_types.BaseMetadata) and isinstance(value, int | float):
                found[key] = float(value)
        if isinstance(item, FieldInfo):
            found.update(_bounds(item.metadata))
    return found


def _range_text(metadata: Sequence[object], unit: str) -> str:
    """'from 13 to 15.3 V', 'greater than 0 W', 'at least 0 and less than 24 h', or ''."""
    b = _bounds(metadata)
    if "ge" in b and "le" in b:
        return _with_unit(f"from {_num(b['ge'])} to {_num(b['le'])}", unit)
    parts = []
    if "gt" in b:
        parts.append(f"greater than {_num(b['gt'])}")
    if "ge" in b:
        parts.append(f"at least {_num(b['ge'])}")
    if "lt" in b:
        parts.append(f"less than {_num(b['lt'])}")
    if "le" in b:
        parts.append(f"at most {_num(b['le'])}")
    return _with_unit(" and ".join(parts), unit) if parts else ""


def _within(metadata: Sequence[object], value: object) -> bool:
    """Whether `value` is a finite number inside the bounds in `metadata`."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return False
    b = _bounds(metadata)
    return not (
        ("gt" in b and not value > b["gt"])
        or ("ge" in b and not value >= b["ge"])
        or ("lt" in b and not value < b["lt"])
        or ("le" in b and not value <= b["le"])
    )


# --- The base of every table -------------------------------------------------------------------


@dataclasses.dataclass(frozen=True, slots=True)
class _TimeKey:
    """A time written as exactly one of `<stem>_s`, `_min`, `_h`, `_d`, stored as `<stem>_s`.

    An optional time (`required=False`) may be left out: `<stem>_s` keeps its default (None).
    `at_most` is the upper bound messages name (a time beyond 400 days is always refused here;
    a tighter bound such as the duration is checked by the model).
    """

    stem: str
    allow_zero: bool
    required: bool = True
    at_most: str = "400 days"

    @property
    def field(self) -> str:
        return self.stem + "_s"

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(self.stem + suffix for suffix in _TIME_UNITS)


_AT = _TimeKey("at", allow_zero=True)
_DURATION = _TimeKey("duration", allow_zero=False)
_TIMELINE_PERIOD = _TimeKey(
    "timeline_period", allow_zero=False, required=False, at_most="the duration"
)


class _Table(BaseModel):
    """One TOML table: unknown keys refused with a suggestion, types strict, values finite.

    Strict, because a file format should not read `"14.2"` or `1` as a voltage or a switch: the
    user meant something and should be told. Lists are turned into tuples before validation (see
    `_tuples`), which is what strict frozen models accept.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, allow_inf_nan=False)

    _TIMES: ClassVar[tuple[_TimeKey, ...]] = ()

    @classmethod
    def user_keys(cls) -> tuple[str, ...]:
        """The keys a file may use in this table, in the documented order."""
        keys: list[str] = []
        for name in cls.model_fields:
            time = next((t for t in cls._TIMES if t.field == name), None)
            keys.extend(time.keys if time else (name,))
        return tuple(keys)

    @classmethod
    def _unknown_key(cls, key: str, allowed: Sequence[str]) -> str:
        return f"unknown field; {_allowed_after(_suggest(key, allowed), ', '.join(allowed))}"

    @model_validator(mode="before")
    @classmethod
    def _before(cls, data: object) -> object:
        if not isinstance(data, dict):
            return data  # pydantic says "must be a table"
        data = {key: _tuples(value) for key, value in data.items()}
        allowed = cls.user_keys()
        problems: list[tuple[tuple[str | int, ...], str]] = [
            ((key,), cls._unknown_key(key, allowed)) for key in data if key not in allowed
        ]
        known = {key: value for key, value in data.items() if key in allowed}
        timed = True
        for time in cls._TIMES:
            try:
                known = _normalize_time(known, time)
            except _ProblemError as exc:
                problems.extend(exc.problems)
                timed = False
        if not problems:
            return cls._prepare(known)
        nested = None
        if timed:  # an unknown key should not hide what else is wrong in the same table
            try:
                cls.model_validate(known)
            except ValidationError as exc:
                nested = exc
        raise _ProblemError(*problems, nested=nested)

    @classmethod
    def _prepare(cls, data: dict[str, Any]) -> dict[str, Any]:
        """Per-table checks and conversions on the raw values (a hook for subclasses)."""
        return data


def _normalize_time(data: dict[str, Any], time: _TimeKey) -> dict[str, Any]:
    """Check the one given form of a time and store it in seconds under `<stem>_s`."""
    given = [key for key in data if key in time.keys]
    forms = ", ".join(time.keys)
    if len(given) > 1:
        msg = f"{given[0]} is already given; give the {time.stem} once, as one of {forms}"
        raise _problem(msg, given[1])
    if not given:
        if not time.required:
            return data
        raise _problem(f"missing (required): give exactly one of {forms}", time.stem)
    key = given[0]
    factor, unit = _TIME_UNITS[key.removeprefix(time.stem)]
    value = data[key]
    low = "at least 0" if time.allow_zero else "greater than 0"
    allowed = f"{low} and at most {time.at_most}"
    if not _is_number(value):
        word = _UNIT_WORDS[unit]
        raise _problem(f"must be a number of {word}, {allowed} (got {_show(value)})", key)
    ok_low = value >= 0 if time.allow_zero else value > 0
    if not (math.isfinite(value) and ok_low and value * factor <= MAX_DURATION_S):
        raise _problem(f"must be {allowed} (got {_show(value)} {unit})", key)
    rest = {k: v for k, v in data.items() if k != key}
    return {**rest, time.field: float(value) * factor}


def _tuples(value: object) -> object:
    """TOML arrays as tuples: strict frozen models take tuples, and nothing stays mutable."""
    if isinstance(value, list):
        return tuple(_tuples(v) for v in value)
    if isinstance(value, dict):
        return {k: _tuples(v) for k, v in value.items()}
    return value
