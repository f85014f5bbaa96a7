"""Fuzzing `smartbms simulate` with mutated example scenarios: no traceback, ever.

Each example file is shortened to 30 simulated minutes (so a clean run stays fast), then mutated
the way a hostile or careless user would: wrong types, values out of range, unicode and rich
markup in texts and keys, deep nesting, huge numbers and lists, missing and extra keys and
sections. The CLI runs in-process. Whatever comes out, it must be exit status 2 with "error:"
lines or a clean run (0), within a bounded time, and never an exception.

The CI run is derandomized (the `ci` profile) and small; set SMARTBMS_FUZZ_EXAMPLES=2000 (and
`--hypothesis-profile=dev` for random exploration) for a longer run.
"""

import copy
import json
import math
import os
import re
import tempfile
import time
import tomllib
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from smartbms.cli import main

ROOT = Path(__file__).resolve().parents[2]
SOURCES = sorted((ROOT / "examples").glob("*.toml")) + sorted(
    (ROOT / "tests" / "scenarios" / "valid").glob("*.toml")
)
EXAMPLES = int(os.environ.get("SMARTBMS_FUZZ_EXAMPLES", "30"))
RUN_S = 60.0
"""One mutated scenario, checked and (if valid) run for 30 minutes with its report: the bound."""
SHORT_S = 1800.0
_UNITS = {"_s": 1.0, "_min": 60.0, "_h": 3600.0, "_d": 86_400.0}


def _seconds(table: dict[str, Any], stem: str) -> float | None:
    for suffix, factor in _UNITS.items():
        value = table.get(stem + suffix)
        if isinstance(value, int | float):
            return float(value) * factor
    return None


def _shortened(path: Path) -> dict[str, Any]:
    """The example over its first 30 minutes, without a repeat: a valid file that runs fast."""
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    section = data["scenario"]
    for suffix in _UNITS:
        section.pop("duration" + suffix, None)
        section.pop("timeline_period" + suffix, None)
    section["duration_s"] = SHORT_S
    timeline = data.get("timeline", [])
    data["timeline"] = [e for e in timeline if (_seconds(e, "at") or 0.0) <= SHORT_S]
    if not data["timeline"]:
        del data["timeline"]
    return data


BASES = [_shortened(path) for path in SOURCES]

# --- values a user might write ------------------------------------------------------------------

TEXTS = st.one_of(
    st.text(max_size=30),
    st.sampled_from(
        [
            "[/mnt/usb]",
            "[bold red]boom[/]",
            "[/]",
            "[",
            "]]",
            "{a}",
            "\x00\x1b[31m",
            "a\nb\r\nc",
            "Ünïcødé ✓ 😀",
            "",
            " ",
            "125A",
            "x" * 20_000,
        ]
    ),
)
NUMBERS = st.one_of(
    st.integers(-(10**30), 10**30),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0, -1, 1, 5e-324, 1e-300, 1e300, 2**53 + 1, 10**150, 0.05, 14.2, 400.0]),
)
SCALARS = st.one_of(NUMBERS, TEXTS, st.booleans())
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(TEXTS, inner, max_size=3)),
    max_leaves=8,
)


def _nested(depth: int) -> object:
    value: object = 1
    for _ in range(depth):
        value = [value]
    return value


NUDGES = (0, 1e-9, 0.01, 0.5, 0.99, 1.01, 2, 10, 1e3)
"""Factors a number is scaled by: zero, tiny, just inside or outside a bound, far outside."""
HOSTILE = st.one_of(
    VALUES,
    st.integers(1, 60).map(_nested),
    st.integers(0, 30_000).map(lambda n: [1.0] * n),
)

# --- mutations of the data ----------------------------------------------------------------------


def _paths(value: object, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [path]
    if isinstance(value, dict):
        for key, item in value.items():
            found += _paths(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _paths(item, (*path, index))
    return found


def _parent(data: Any, path: tuple[Any, ...]) -> Any:
    for part in path[:-1]:
        data = data[part]
    return data


@st.composite
def mutated(draw: st.DrawFn) -> dict[str, Any]:
    data: dict[str, Any] = copy.deepcopy(draw(st.sampled_from(BASES)))
    for _ in range(draw(st.integers(1, 4))):
        paths = [p for p in _paths(data) if p]
        path = draw(st.sampled_from(paths))
        parent = _parent(data, path)
        kind = draw(st.sampled_from(["nudge", "nudge", "set", "delete", "extra", "grow", "wrap"]))
        value = parent[path[-1]]
        if kind == "nudge" and isinstance(value, int | float) and not isinstance(value, bool):
            # a valid-looking number at an extreme: the run, not the check, meets it
            parent[path[-1]] = type(value)(value * draw(st.sampled_from(NUDGES)))
        elif kind == "set":
            parent[path[-1]] = draw(HOSTILE)
        elif kind == "delete":
            del parent[path[-1]]
        elif kind == "extra" and isinstance(parent, dict):
            parent[draw(TEXTS)] = draw(HOSTILE)
        elif kind == "grow" and isinstance(parent, list):
            parent.extend([parent[path[-1]]] * draw(st.sampled_from([1, 100, 12_000])))
        elif kind == "wrap":
            parent[path[-1]] = {"value": parent[path[-1]]}
    return data


# --- TOML out -----------------------------------------------------------------------------------

_BARE = re.compile(r"^[A-Za-z0-9_-]+$")


def _key(key: object) -> str:
    text = str(key)
    return text if _BARE.match(text) else json.dumps(text, ensure_ascii=False)


def _value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        return ("inf" if value > 0 else "-inf") if math.isinf(value) else repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_key(k)} = {_value(v)}" for k, v in value.items()) + "}"
    raise TypeError(value)


def to_toml(data: dict[str, Any]) -> str:
    """Top-level values first, then each table and array of tables, in the order given."""
    lines = [f"{_key(k)} = {_value(v)}" for k, v in data.items() if not _is_table(v)]
    for key, value in data.items():
        if isinstance(value, dict):
            lines.append(f"\n[{_key(key)}]")
            lines += [f"{_key(k)} = {_value(v)}" for k, v in value.items()]
        elif _is_table(value):
            for table in value:
                lines.append(f"\n[[{_key(key)}]]")
                lines += [f"{_key(k)} = {_value(v)}" for k, v in table.items()]
    return "\n".join(lines) + "\n"


def _is_table(value: object) -> bool:
    return isinstance(value, dict) or (
        isinstance(value, list) and bool(value) and all(isinstance(v, dict) for v in value)
    )


# --- the property -------------------------------------------------------------------------------


@pytest.mark.slow
def test_every_shortened_example_runs_cleanly(capsys: pytest.CaptureFixture[str]) -> None:
    """The starting points are valid: the mutations, not the shortening, make files wrong."""
    with tempfile.TemporaryDirectory() as tmp:
        for index, data in enumerate(BASES):
            path = Path(tmp) / f"base{index}.toml"
            path.write_text(to_toml(data), encoding="utf-8")
            assert main(["simulate", str(path), "--out", str(Path(tmp) / "out")]) == 0, (
                SOURCES[index],
                capsys.readouterr().out,
            )
    capsys.readouterr()


@pytest.mark.slow
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)
@given(data=mutated())
def test_a_mutated_scenario_is_refused_cleanly_or_runs(
    data: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "fuzzed [x].toml"
        path.write_text(to_toml(data), encoding="utf-8")
        started = time.perf_counter()
        status = main(["simulate", str(path), "--out", str(Path(tmp) / "out")])
        elapsed = time.perf_counter() - started
    captured = capsys.readouterr()
    assert "Traceback" not in captured.out + captured.err
    assert status in (0, 2), captured.err
    if status == 2:
        assert captured.err.startswith(f"error: {path}"), captured.err
    assert elapsed < RUN_S
