"""Checking files: every rule over one scenario, lines found, all findings of a design at once."""

import dataclasses
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Final

from smartbms import scenario as sc
from smartbms.check.budget import budget, chk14_budget
from smartbms.check.findings import SEVERITIES, FileReport, Finding, Where
from smartbms.check.rules_bank import (
    chk6_prealarm_usage,
    chk9_days_to_damage,
    chk10_currents,
    chk11_mixed_bank,
)
from smartbms.check.rules_devices import (
    chk5_interface,
    chk7_unstoppable_charger,
    chk8_unswitched_load,
)
from smartbms.check.rules_port import (
    chk1_fuse_type_not_set,
    chk2_fuse_mismatch,
    chk3_alternator_overheat,
    chk4_bank_charge_current,
    chk12_charge_limit,
    chk13_smart_alternator,
)

Rule = Callable[[sc.Scenario], list[Finding]]

RULES: Final[tuple[Rule, ...]] = (
    chk1_fuse_type_not_set,
    chk2_fuse_mismatch,
    chk3_alternator_overheat,
    chk4_bank_charge_current,
    chk5_interface,
    chk6_prealarm_usage,
    chk7_unstoppable_charger,
    chk8_unswitched_load,
    chk9_days_to_damage,
    chk10_currents,
    chk11_mixed_bank,
    chk12_charge_limit,
    chk13_smart_alternator,
    chk14_budget,
)
"""CHK-1 ... CHK-14 in order; each a pure function of the typed scenario."""

FILE_RULE: Final = "FILE"
"""The rule ID of a problem that makes the file itself invalid (exit code 2)."""


def check_scenario(scenario: sc.Scenario) -> list[Finding]:
    """Every finding of every rule (lines not yet located), worst first, then by rule."""
    found = [f for rule in RULES for f in rule(scenario)]
    return sort_findings(found)


def sort_findings(found: Iterable[Finding]) -> list[Finding]:
    """Errors, then warnings, then info; within a severity in rule order (stable)."""
    return sorted(found, key=lambda f: (SEVERITIES.index(f.severity), _rule_number(f.rule)))


def _rule_number(rule: str) -> tuple[int, int]:
    """CHK-2 before CHK-10 before CHK-S1 (FILE first)."""
    number = rule.removeprefix("CHK-")
    simulated = number.startswith("S")
    number = number.removeprefix("S")
    return (int(simulated), int(number) if number.isdigit() else 0)


def locate(found: Sequence[Finding], text: str) -> tuple[Finding, ...]:
    """The findings with the line of their field in the file's text (or its table's line)."""
    locator = sc._Locator(text)
    located = []
    for f in found:
        line = None
        if f.where.field is not None:
            line, _ = locator.find(_path_of(f.where.field))
        located.append(dataclasses.replace(f, where=Where(line, f.where.field)))
    return tuple(located)


def _path_of(field: str) -> tuple[str | int, ...]:
    """`device[2].control` back to ("device", 1, "control") (the names rules use are bare keys)."""
    path: list[str | int] = []
    for part in field.split("."):
        name, _, index = part.partition("[")
        path.append(name)
        if index:
            path.append(int(index.rstrip("]")) - 1)
    return tuple(path)


def check_text(text: str, source: str) -> FileReport:
    """Check a design given as text; `source` names it (usually the path)."""
    try:
        scenario = sc.parse_scenario(text, source, design_only=True)
    except sc.ScenarioError as exc:
        return invalid_report(source, exc)
    return FileReport(source, locate(check_scenario(scenario), text), budget(scenario))


def check_file(
    path: Path | str, *, simulate: bool = False, workers: int | None = None
) -> FileReport:
    """Check one scenario file (a timeline is optional): its findings and its budget.

    `simulate` adds the situations CHK-S1 ... CHK-S6 (`check.simulate`, `workers` processes).
    """
    source = str(path)
    try:
        scenario = sc.load_scenario(path, design_only=True)
    except sc.ScenarioError as exc:
        return invalid_report(source, exc)
    found = check_scenario(scenario)
    if simulate:
        from smartbms.check.simulate import simulate as run_situations  # noqa: PLC0415

        found = sort_findings([*found, *run_situations(scenario, workers=workers)])
    text = Path(path).read_text(encoding="utf-8")
    return FileReport(source, locate(found, text), budget(scenario))


def invalid_report(source: str, error: sc.ScenarioError) -> FileReport:
    """A file that is not a valid scenario: each of its problems as a FILE error."""
    problems = error.problems or [sc.errors.Problem(error.line, error.field, error.message)]
    findings = tuple(
        Finding(
            FILE_RULE,
            "error",
            p.message,
            "Correct the file (docs/scenario-format.md); nothing else is checked until it reads.",
            Where(p.line, p.field or None),
        )
        for p in problems
    )
    return FileReport(source, findings, None)


def check_files(
    paths: Iterable[Path | str], *, simulate: bool = False, workers: int | None = None
) -> list[FileReport]:
    """Check each file in turn (see `check_file`)."""
    return [check_file(path, simulate=simulate, workers=workers) for path in paths]
