"""Axes: which scenario field a sweep varies, and the values it takes.

A field is named as scenario error messages name it (`battery[1].soc_pct`, `device[2].power_w`,
tables counted from 1), so a user copies it from a message or reads it off the file. A value is
set in the scenario's raw TOML data before validation, so a variant is exactly the file a user
would have written by hand, checked by the same models with the same messages.
"""

import copy
import math
import random
import re
from collections.abc import Mapping, Sequence
from typing import Any

from smartbms.scenario.base import _TIME_UNITS

Value = bool | int | float | str
"""A TOML scalar: what an axis sets a field to."""
Path_ = tuple[str | int, ...]
"""A field's place in the TOML data, indices counting from 0."""

_PART = re.compile(r"(?P<key>[A-Za-z_][A-Za-z0-9_-]*)(?P<index>(\[\d+\])*)$")
PATH_EXAMPLE = "e.g. battery[1].soc_pct or device[2].power_w (tables counted from 1)"


class AxisError(ValueError):
    """An axis that cannot be used, in words (the caller knows the file and line)."""


def parse_field(text: str) -> Path_:
    """`device[2].power_w` -> ("device", 1, "power_w"); `AxisError` if it is no field path."""
    path: list[str | int] = []
    for part in text.split("."):
        found = _PART.match(part.strip())
        if found is None:
            msg = f"{text!r} is not a field path; write it as scenario messages do, {PATH_EXAMPLE}"
            raise AxisError(msg)
        path.append(found["key"])
        for index in re.findall(r"\[(\d+)\]", found["index"]):
            if int(index) < 1:
                msg = f"{text!r}: tables are counted from 1 ({PATH_EXAMPLE})"
                raise AxisError(msg)
            path.append(int(index) - 1)
    if not isinstance(path[-1], str):
        msg = f"{text!r} names a whole table; name one of its fields ({PATH_EXAMPLE})"
        raise AxisError(msg)
    return tuple(path)


def field_text(path: Path_) -> str:
    """The field as a user writes it (the inverse of `parse_field`)."""
    text = ""
    for part in path:
        text += f"[{part + 1}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text


def check_place(data: dict[str, Any], path: Path_) -> None:
    """Refuse a path into a table the scenario does not have (`AxisError` says which exist)."""
    node: Any = data
    for depth, part in enumerate(path[:-1]):
        upcoming = path[depth + 1]
        if isinstance(part, int):
            name = field_text(path[:depth])
            count = len(node)
            if part >= count:
                have = f"{name}[1] to {name}[{count}]" if count else "none"
                msg = (
                    f"no {name}[{part + 1}]: the base scenario has {count} [[{name}]] "
                    f"table{'s' if count != 1 else ''} ({have})"
                )
                raise AxisError(msg)
            node = node[part]
            continue
        if not isinstance(node, dict):
            msg = f"{field_text(path[: depth + 1])}: {field_text(path[:depth])} is not a table"
            raise AxisError(msg)
        child = node.get(part)
        if child is None and isinstance(upcoming, int):
            msg = f"the base scenario has no [[{field_text(path[: depth + 1])}]] tables"
            raise AxisError(msg)
        if child is not None and isinstance(upcoming, int) != isinstance(child, list):
            kind = "a list of tables" if isinstance(child, list) else "a single table"
            msg = f"{field_text(path[: depth + 1])} is {kind} in the base scenario"
            raise AxisError(msg)
        node = child if child is not None else {}


def apply(data: dict[str, Any], settings: Sequence[tuple[Path_, Value]]) -> dict[str, Any]:
    """A copy of the scenario data with each path set to its value (tables made when missing).

    A time is written in one unit: setting `timeline[3].at_h` drops the entry's `at_s` (or
    `at_min`, `at_d`), so the file keeps exactly one form.
    """
    result = copy.deepcopy(data)
    for path, value in settings:
        node: Any = result
        for part in path[:-1]:
            if isinstance(part, str) and part not in node:
                node[part] = {}
            node = node[part]
        key = path[-1]
        assert isinstance(key, str)  # noqa: S101  # parse_field ends every path with a key
        for other in _time_siblings(key):
            node.pop(other, None)
        node[key] = value
    return result


def _time_siblings(key: str) -> tuple[str, ...]:
    for suffix in _TIME_UNITS:
        if key.endswith(suffix):
            stem = key.removesuffix(suffix)
            return tuple(stem + s for s in _TIME_UNITS if s != suffix)
    return ()


def time_stem(key: str) -> str:
    """`at` for `at_h` (and any other time form); other keys unchanged."""
    for suffix in _TIME_UNITS:
        if key.endswith(suffix):
            return key.removesuffix(suffix)
    return key


def seconds_of(table: dict[str, Any], stem: str) -> float | None:
    """A time of a raw table in seconds (`at_h = 2` -> 7200), None when absent or not a number."""
    for suffix, (factor, _) in _TIME_UNITS.items():
        value = table.get(stem + suffix)
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value) * factor
    return None


# --- values -------------------------------------------------------------------------------------


def _tidy(value: float) -> float:
    """0.3 rather than 0.30000000000000004 (12 significant digits)."""
    return float(f"{value:.12g}")


def range_values(
    start: float, stop: float, step: float | None, count: int | None
) -> tuple[Value, ...]:
    """From `start` to `stop` inclusive, by `step` or in `count` even values.

    Whole numbers in, whole numbers out (an integer field stays an integer).
    """
    whole = all(isinstance(v, int) for v in (start, stop)) and (
        (step is not None and isinstance(step, int)) or count is not None
    )
    if count is not None:
        if count == 1:
            return (start,)
        values = [start + (stop - start) * k / (count - 1) for k in range(count)]
        if whole and all(float(v).is_integer() for v in values):
            return tuple(int(v) for v in values)
        return tuple(_tidy(v) for v in values)
    assert step is not None  # noqa: S101  # the model asks for one of step and count
    span = (stop - start) / step
    if span < -1e-9:
        return ()
    n = math.floor(span + 1e-9) + 1
    if whole:
        return tuple(int(start + k * step) for k in range(n))
    return tuple(_tidy(start + k * step) for k in range(n))


def random_values(
    distribution: str,
    count: int,
    seed: int,
    params: Mapping[str, float | None],
    digits: int | None,
) -> tuple[Value, ...]:
    """`count` draws from a seeded `random.Random` (the same on every machine and Python 3)."""
    rng = random.Random(seed)  # noqa: S311  # a reproducible sample, not a secret
    low, high = params.get("low"), params.get("high")
    values: list[Value] = []
    for _ in range(count):
        if distribution == "integer":
            values.append(rng.randint(int(_given(low)), int(_given(high))))
            continue
        if distribution == "uniform":
            draw = _given(low) + (_given(high) - _given(low)) * rng.random()
        elif distribution == "loguniform":
            log_low, log_high = math.log(_given(low)), math.log(_given(high))
            draw = math.exp(log_low + (log_high - log_low) * rng.random())
        else:  # normal, clipped to low/high when given
            draw = rng.normalvariate(_given(params.get("mean")), _given(params.get("sd")))
            draw = max(draw, low) if low is not None else draw
            draw = min(draw, high) if high is not None else draw
        values.append(round(draw, digits) if digits is not None else _tidy(draw))
    return tuple(values)


def _given(value: float | None) -> float:
    """A parameter the sweep file's model has made sure of."""
    if value is None:
        msg = "a distribution parameter is missing"
        raise AxisError(msg)
    return value
