"""Every example's verdicts, pinned: what the report's cards and the terminal say about each run.

The verdicts are judged from the summary and the events (`smartbms.sim.verdicts`); a change to the
physics or to a verdict shows here as a diff of words and numbers. `UPDATE_GOLDEN=1 pytest
tests/scenarios/test_example_verdicts.py` rewrites golden/verdicts.json after an intended change.
"""

import json
import os
import re
from pathlib import Path

import pytest

from smartbms.sim.summary import Summary
from smartbms.sim.verdicts import Verdict, verdicts
from tests.scenarios.test_examples import EXAMPLE_NAMES, run

GOLDEN = Path(__file__).resolve().parent / "golden" / "verdicts.json"


def _verdicts(name: str) -> tuple[Verdict, ...]:
    result = run(name)
    return verdicts(Summary.from_json(json.dumps(result.summary)), result.events)


def _rows(found: tuple[Verdict, ...]) -> list[list[str]]:
    return [[v.title, v.status, v.value, v.detail] for v in found]


def _by_title(name: str, title: str) -> Verdict:
    return next(v for v in _verdicts(name) if v.title == title)


def test_every_example_s_verdicts_are_pinned() -> None:
    found = {name: _rows(_verdicts(name)) for name in EXAMPLE_NAMES}
    if os.environ.get("UPDATE_GOLDEN"):
        GOLDEN.write_text(json.dumps(found, indent=1, ensure_ascii=False) + "\n", "utf-8")
    pinned = json.loads(GOLDEN.read_text("utf-8"))
    for name in EXAMPLE_NAMES:
        assert found[name] == pinned.get(name), f"{name}: verdicts changed"


@pytest.mark.parametrize("name", EXAMPLE_NAMES)
def test_no_verdict_reads_none_or_raw_seconds(name: str) -> None:
    for verdict in _verdicts(name):
        text = f"{verdict.value} {verdict.detail}"
        assert "None" not in text
        assert "-0." not in verdict.value
        assert not re.search(r"\d{3,}(\.\d+)? s\b|\d\.\d{2,} s\b", text), text  # raw seconds


def test_the_short_circuit_example_is_a_lockout_and_the_loads_were_off() -> None:
    trip = _by_title("system-plus-short", "System+ trip (A-A12)")
    assert trip.status == "problem"
    assert trip.value == "locked out 5 min"
    assert "tripped 4 times" in trip.detail
    loads = _by_title("system-plus-short", "Load disconnect")
    assert loads.status == "problem"
    assert "stayed on" not in loads.detail


def test_the_fuse_mismatch_example_names_both_fuses() -> None:
    fuse = _by_title("fuse-mismatch", "Fuse type setting")
    assert fuse.status == "problem"
    assert fuse.value == "60 A set, 125 A fitted"
    assert "the app showed 50 A (100 %)" in fuse.detail
