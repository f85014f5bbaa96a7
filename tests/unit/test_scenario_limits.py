"""Hostile scenario files: every problem at once, and sizes no scenario can mean refused quickly.

Each case must end in a `ScenarioError` (never a RecursionError, a ValueError, a hang or minutes
of work) whose paragraphs name the file, the line and the field.
"""

import os
import sys
import time
from pathlib import Path

import pytest

from smartbms.scenario import ScenarioError, load_scenario, parse_scenario
from smartbms.scenario.limits import (
    MAX_FILE_BYTES,
    MAX_KEY_CHARS,
    MAX_LIST_ITEMS,
    MAX_NESTING,
    MAX_TEXT_CHARS,
)
from tests.unit.test_scenario import BASE as SCENARIO_BASE
from tests.unit.test_scenario import BATTERY

BASE = SCENARIO_BASE + BATTERY
BROKEN = Path(__file__).resolve().parents[1] / "scenarios" / "broken"
QUICK_S = 5.0
"""A refusal takes well under this, even for the largest inputs here (a slow CI machine)."""


def _error(text: str, source: str = "van.toml") -> ScenarioError:
    started = time.perf_counter()
    with pytest.raises(ScenarioError) as caught:
        parse_scenario(text, source)
    assert time.perf_counter() - started < QUICK_S
    for paragraph in caught.value.paragraphs():
        assert paragraph.startswith(source)
        assert "\n" not in paragraph
        assert "Traceback" not in paragraph
    return caught.value


# --- every problem at once -----------------------------------------------------------------------


def test_every_problem_of_a_file_is_reported_in_file_order() -> None:
    path = BROKEN / "several_problems.toml"
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    error = caught.value
    assert [(p.line, p.field) for p in error.problems] == [
        (6, "scenario.duration_h"),
        (10, "bms.charge_limit_v"),
        (14, "battery[1].soc_pct"),
    ]
    paragraphs = error.paragraphs()
    assert paragraphs[0] == f"{path}, line 6, scenario.duration_h: {error.message}"
    assert all(text.startswith(f"{path}, line ") for text in paragraphs)
    assert error.more_problems == 2
    assert str(error).endswith("(and 2 more problems)")


def test_an_unknown_key_does_not_hide_the_other_problems_of_its_table() -> None:
    text = BASE.replace('"125A"', '"125A"\nfuse_typ = "125A"\ncharge_limit_v = 99')
    error = _error(text + "soc_pct = 120\nfoo = 1\n")
    assert [(p.line, p.field) for p in error.problems] == [
        (7, "bms.fuse_typ"),
        (8, "bms.charge_limit_v"),
        (12, "battery[1].soc_pct"),
        (13, "battery[1].foo"),
    ]
    assert "did you mean 'fuse_type'" in error.problems[0].message


def test_two_bad_times_in_one_table_are_both_reported() -> None:
    text = BASE.replace("duration_h = 24", "duration_h = -1\ntimeline_period_min = -2")
    error = _error(text)
    assert [p.field for p in error.problems] == [
        "scenario.duration_h",
        "scenario.timeline_period_min",
    ]


def test_the_same_problem_is_reported_once() -> None:
    error = _error(BASE + "soc_pct = 120\n")
    assert len(error.problems) == len(set(error.problems)) == 1


# --- sizes that cannot be meant ------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        "[" * 100_000 + "]" * 100_000,
        "{a = " * 50_000 + "1" + "}" * 50_000,
        "[{a = [{b = [[[[[[[[1]]]]]]]]}]}]",
    ],
    ids=["arrays", "inline-tables", "mixed"],
)
def test_deep_nesting_is_refused_with_its_line(value: str) -> None:
    error = _error(BASE + "\n[environment]\nambient_c = " + value + "\n")
    assert error.line == 12
    assert f"at most {MAX_NESTING} levels" in error.message


def test_a_long_dotted_key_is_refused_before_the_parser_takes_quadratic_time() -> None:
    error = _error(BASE + "\n[environment]\n" + ".".join(["a"] * 200_000) + " = 1\n")
    assert error.line == 12
    assert "nested too deeply" in error.message


def test_deep_headers_are_refused() -> None:
    error = _error(BASE + "\n[" + ".".join(["x"] * (MAX_NESTING + 1)) + "]\n")
    assert error.line == 11


def test_brackets_inside_strings_and_comments_do_not_count_as_nesting() -> None:
    text = BASE + '\n[[timeline]]\nat_s = 0\naction = "note"\ntext = "' + "[" * 50 + '"\n'
    text += "# " + "{" * 50 + "\n"
    text += "[[timeline]]\nat_s = 1\naction = \"note\"\ntext = '''" + "[{" * 50 + "'''\n"
    scenario = parse_scenario(text, "van.toml")
    assert len(scenario.timeline) == 2


@pytest.mark.parametrize(
    "number", ["9" * 5_000, "0x" + "f" * 50_000, "-" + "1" * 200, "1_000" * 40]
)
def test_a_number_with_hundreds_of_digits_is_refused_quickly(number: str) -> None:
    error = _error(BASE + "\n[environment]\nambient_c = " + number + "\n")
    assert error.line == 12
    assert "100 digits or more cannot be meant" in error.message


def test_a_whole_number_beyond_2_to_53_is_named_with_its_field() -> None:
    error = _error(BASE + "\n[environment]\nambient_c = 0x7fffffffffffffff\n")
    assert (error.line, error.field) == (12, "environment.ambient_c")
    assert "about 19 digits" in error.message


def test_a_float_beyond_range_is_a_range_problem_not_a_crash() -> None:
    error = _error(BASE + "\n[environment]\nambient_c = 1e308\n")
    assert error.field == "environment.ambient_c"
    assert "from -40 to 60" in error.message


def test_a_timeline_of_too_many_entries_is_refused_before_validation() -> None:
    entry = '[[timeline]]\nat_s = 1\naction = "note"\ntext = "x"\n'
    error = _error(BASE + entry * (MAX_LIST_ITEMS + 1))
    assert error.field == "timeline"
    assert f"{MAX_LIST_ITEMS + 1:,} timeline entries" in error.message
    assert error.line == 10


def test_too_long_texts_and_keys_are_refused() -> None:
    text = BASE.replace('"van"', '"' + "v" * (MAX_TEXT_CHARS + 1) + '"')
    text += "\n[environment]\n" + "k" * (MAX_KEY_CHARS + 1) + " = 1\n"
    error = _error(text)
    assert [p.line for p in error.problems] == [2, 12]
    assert f"{MAX_TEXT_CHARS + 1:,} characters is too long" in error.problems[0].message
    assert f"keys are at most {MAX_KEY_CHARS}" in error.problems[1].message


def test_a_file_too_large_is_refused_without_reading_it(tmp_path: Path) -> None:
    path = tmp_path / "big.toml"
    path.write_bytes(b"# " + b"x" * MAX_FILE_BYTES + b"\n")
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    assert "a scenario file is at most 4 MiB" in caught.value.message
    assert caught.value.line is None


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_a_fifo_is_refused_without_blocking(tmp_path: Path) -> None:
    path = tmp_path / "pipe.toml"
    os.mkfifo(path)
    started = time.perf_counter()
    with pytest.raises(ScenarioError, match="not a regular file"):
        load_scenario(path)
    assert time.perf_counter() - started < QUICK_S


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="needs /dev/zero")
def test_an_endless_device_is_refused() -> None:
    with pytest.raises(ScenarioError, match="not a regular file"):
        load_scenario("/dev/zero")


def test_a_folder_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match="it is a folder"):
        load_scenario(tmp_path)


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX permissions")
def test_an_unreadable_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "secret.toml"
    path.write_text(BASE, encoding="utf-8")
    path.chmod(0)
    if os.access(path, os.R_OK):  # root reads anything
        pytest.skip("running as root")
    with pytest.raises(ScenarioError, match="cannot read the file: Permission denied"):
        load_scenario(path)


# --- factors with a lower bound ------------------------------------------------------------------


def test_the_smallest_capacity_factor_loads_and_a_smaller_one_is_refused() -> None:
    fault = (
        '\n[[timeline]]\nat_s = 0\naction = "fault"\nfault = "weak-cell"\nbattery = 1\ncell = 1\n'
    )
    ok = parse_scenario(
        BASE + "cell_capacity_factors = [0.05, 1, 1, 1]\n" + fault + "capacity_factor = 0.05\n",
        "van.toml",
    )
    assert ok.battery[0].cell_capacity_factors[0] == 0.05
    error = _error(BASE + fault + "capacity_factor = 0.049\n")
    assert error.field == "timeline[1].capacity_factor"
    assert "must be from 0.05 to 1 (got 0.049)" in error.message
