"""`smartbms check`: a design review of an installation before anyone wires it.

The rules CHK-1 ... CHK-14 (SPEC §13, docs/check.md) are small pure functions over a typed
scenario (`smartbms.scenario.Scenario`, read with `design_only=True`: a timeline is optional);
each returns findings with the numbers, the fix (manual section or App. A article number) and
the field it is about, whose line `check_file` finds in the text. `check.simulate` runs the
standard situations CHK-S1 ... CHK-S6 with the twin. The JSON shape is `findings.FileReport`.
"""

from smartbms.check.budget import budget
from smartbms.check.findings import (
    Budget,
    FileReport,
    Finding,
    Severity,
    Where,
    exit_code,
    from_json,
    json_schema,
    json_schema_text,
    to_json,
)
from smartbms.check.run import (
    FILE_RULE,
    RULES,
    check_file,
    check_files,
    check_scenario,
    check_text,
)

__all__ = [
    "FILE_RULE",
    "RULES",
    "Budget",
    "FileReport",
    "Finding",
    "Severity",
    "Where",
    "budget",
    "check_file",
    "check_files",
    "check_scenario",
    "check_text",
    "exit_code",
    "from_json",
    "json_schema",
    "json_schema_text",
    "to_json",
]
