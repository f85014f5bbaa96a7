"""What a design check reports: findings, the energy budget and one report per file.

These are the values of `smartbms check --format json` (one `FileReport` per file, a list of them
printed); their JSON Schema is generated from these classes and committed as
docs/schemas/check.schema.json, so the shape is one thing in one place.
"""

import dataclasses
import functools
import json
from collections.abc import Sequence
from typing import Annotated, Any, ClassVar, Final, Literal

from pydantic import ConfigDict, Field, TypeAdapter

from smartbms.scenario.errors import _field_path

Severity = Literal["error", "warning", "info"]
SEVERITIES: tuple[Severity, ...] = ("error", "warning", "info")
"""Worst first."""

_STRICT: Final = ConfigDict(extra="forbid")
"""The schema refuses keys it does not know (a reader can rely on the shape)."""
RuleId = Annotated[str, Field(pattern=r"^(CHK-S?[0-9]+|FILE)$")]

Path = tuple[str | int, ...]
"""A place in the scenario's data: ("device", 0, "control") is `device[1].control`."""


@dataclasses.dataclass(frozen=True, slots=True)
class Where:
    """Where in the file a finding points: the line (None: nowhere in particular) and field."""

    __pydantic_config__: ClassVar[ConfigDict] = _STRICT

    line: int | None
    field: str | None


@dataclasses.dataclass(frozen=True, slots=True)
class Finding:
    """One thing a rule found: its ID, how bad, what (with the numbers), how to fix it, where."""

    __pydantic_config__: ClassVar[ConfigDict] = _STRICT

    rule: RuleId
    severity: Severity
    message: str
    fix: str
    where: Where


def finding(rule: str, severity: Severity, message: str, fix: str, path: Path = ()) -> Finding:
    """A finding at a place in the scenario's data; its line is found later (`locate`)."""
    return Finding(rule, severity, message, fix, Where(None, _field_path(path) if path else None))


@dataclasses.dataclass(frozen=True, slots=True)
class Budget:
    """CHK-14: a day of the design, from full, with the loads, sources and driving in the file.

    `autonomy_days` is None when the bank never empties with the engine off; `drive_h_per_day`
    is None without an alternator (or when it cannot charge the bank at all).
    """

    __pydantic_config__: ClassVar[ConfigDict] = _STRICT

    ah_in_per_day: float
    ah_out_per_day: float
    wh_in_per_day: float
    wh_out_per_day: float
    autonomy_days: float | None
    drive_h_per_day: float | None


@dataclasses.dataclass(frozen=True, slots=True)
class FileReport:
    """Everything `check` says about one file; `budget` is None when the file is invalid."""

    __pydantic_config__: ClassVar[ConfigDict] = _STRICT

    file: str
    findings: tuple[Finding, ...]
    budget: Budget | None

    @property
    def invalid(self) -> bool:
        """The file itself could not be read as a scenario (exit code 2)."""
        return self.budget is None

    def count(self, severity: Severity) -> int:
        """How many findings of one severity."""
        return sum(1 for f in self.findings if f.severity == severity)

    @property
    def exit_code(self) -> int:
        """2 for an invalid file, 1 with an error, else 0."""
        if self.invalid:
            return 2
        return 1 if self.count("error") else 0

    def to_dict(self) -> dict[str, Any]:
        """The JSON object of this file."""
        return dataclasses.asdict(self)


def exit_code(reports: Sequence[FileReport]) -> int:
    """The highest exit code over the files (0 for none)."""
    return max((r.exit_code for r in reports), default=0)


def to_json(reports: Sequence[FileReport]) -> str:
    """`--format json`: always a list, one object per file."""
    return json.dumps([r.to_dict() for r in reports], indent=2, ensure_ascii=False) + "\n"


def from_json(text: str | bytes) -> list[FileReport]:
    """Read `--format json` back, checked against the schema (pydantic's error if it is not)."""
    return _adapter().validate_json(text)


_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"


def json_schema() -> dict[str, Any]:
    """The JSON Schema of `check --format json` (committed as docs/schemas/check.schema.json)."""
    return {"$schema": _SCHEMA_DIALECT, **_adapter().json_schema()}


def json_schema_text() -> str:
    """The schema as the committed file holds it."""
    return json.dumps(json_schema(), indent=2) + "\n"


@functools.cache
def _adapter() -> TypeAdapter[list[FileReport]]:
    return TypeAdapter(list[FileReport])
