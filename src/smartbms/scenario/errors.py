"""From a problem to one paragraph: `ScenarioError` and the wording of TOML and pydantic errors.

Every message names the file, the line, the field and what is allowed.
Each pydantic error's `loc` is followed through the models (`_resolve`) to the type and the
constraints expected there, so what is allowed is read from the same definitions that checked
it; `_Locator` then finds the line.
"""

import dataclasses
import enum
import json
import re
import types
from collections.abc import Mapping, Sequence
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError
from pydantic.fields import FieldInfo

from smartbms.core.fuses import INSTALLABLE_FUSES, FuseType
from smartbms.scenario.base import (
    _allowed_after,
    _ProblemError,
    _range_text,
    _show,
    _suggest,
    _unit,
)
from smartbms.scenario.locate import _Locator


@dataclasses.dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong in a file: its line (None: no place in the file), field path and message."""

    line: int | None
    field: str
    message: str

    def paragraph(self, source: str) -> str:
        """`file, line N, field: message` on one line (newlines in user text become spaces)."""
        head = source if self.line is None else f"{source}, line {self.line}"
        text = f"{head}, {self.field}: {self.message}" if self.field else f"{head}: {self.message}"
        return re.sub(r"\s*[\r\n]+\s*", " ", text)


class ScenarioError(Exception):
    """A scenario file is wrong: every problem found, each naming the file, line and field.

    The attributes describe the first problem by line: `line` is None when it has no place in
    the file (a required section is missing); `field` is the dotted path (`device[2].power_w`,
    indices counting from 1 as the file reads), empty for a TOML syntax error; `more_problems`
    counts the others. `problems` holds them all (the first included), in file order, and
    `paragraphs()` words each on one line: a user fixes the whole file in one go.
    """

    def __init__(
        self,
        source: str,
        line: int | None,
        field: str,
        message: str,
        more_problems: int = 0,
        *,
        problems: Sequence[Problem] = (),
    ) -> None:
        self.source = source
        self.line = line
        self.field = field
        self.message = message
        first = Problem(line, field, message)
        self.problems: tuple[Problem, ...] = tuple(problems) or (first,)
        self.more_problems = max(more_problems, len(self.problems) - 1)
        super().__init__(self._paragraph())

    def _paragraph(self) -> str:
        text = Problem(self.line, self.field, self.message).paragraph(self.source)
        if self.more_problems:
            plural = "s" if self.more_problems > 1 else ""
            text += f" (and {self.more_problems} more problem{plural})"
        return text

    def paragraphs(self) -> list[str]:
        """Every problem as its own one-line paragraph, in file order."""
        return [problem.paragraph(self.source) for problem in self.problems]

    def __str__(self) -> str:
        return self._paragraph()


def _error_of(source: str, problems: Sequence[Problem]) -> ScenarioError:
    """One error holding `problems` (deduplicated), the first by line in front."""
    unique = list(dict.fromkeys(problems))
    ordered = sorted(enumerate(unique), key=lambda f: (f[1].line is None, f[1].line or 0, f[0]))
    found = [problem for _, problem in ordered]
    first = found[0]
    return ScenarioError(
        source, first.line, first.field, first.message, len(found) - 1, problems=found
    )


_TOML_POSITION = re.compile(
    r"^(?P<what>.*) \(at (?:line (?P<line>\d+), column (?P<col>\d+)|end of document)\)$"
)


def _syntax_error(message: str, text: str, source: str) -> ScenarioError:
    """Turn the position tomllib writes into its message into our line (and a column)."""
    found = _TOML_POSITION.match(message)
    if found is None:
        return ScenarioError(source, None, "", f"invalid TOML: {message}")
    what = found["what"]
    what = what[:1].lower() + what[1:]
    if found["line"] is None:
        return ScenarioError(
            source,
            max(1, len(text.splitlines())),
            "",
            f"invalid TOML: {what} (at the end of the file)",
        )
    return ScenarioError(
        source, int(found["line"]), "", f"invalid TOML: {what} (column {found['col']})"
    )


# --- From pydantic's errors to one sentence ------------------------------------------------------


@dataclasses.dataclass(frozen=True, slots=True)
class _Slot:
    """Where a pydantic `loc` lands: the path in the file's data and the type expected there."""

    path: tuple[str | int, ...]
    annotation: Any
    metadata: tuple[object, ...]


def _unwrap(annotation: Any) -> tuple[Any, list[object]]:
    """Strip `X | None` and plain `Annotated` (keeping their constraints); keep tagged unions."""
    metadata: list[object] = []
    while True:
        origin = get_origin(annotation)
        if origin is Annotated:
            base, *extra = get_args(annotation)
            if _discriminator(extra) is not None:
                return annotation, metadata
            metadata.extend(extra)
            annotation = base
        elif origin in (Union, types.UnionType):
            members = [a for a in get_args(annotation) if a is not type(None)]
            if len(members) != 1:
                return annotation, metadata
            annotation = members[0]
        else:
            return annotation, metadata


def _discriminator(metadata: Sequence[object]) -> str | None:
    for item in metadata:
        if isinstance(item, FieldInfo) and isinstance(item.discriminator, str):
            return item.discriminator
    return None


def _tagged(annotation: Any) -> tuple[str, dict[str, Any]] | None:
    """A discriminated union as (discriminator, {tag: member}), else None."""
    if get_origin(annotation) is not Annotated:
        return None
    base, *extra = get_args(annotation)
    key = _discriminator(extra)
    if key is None:
        return None
    members: dict[str, Any] = {}
    for member in get_args(base):
        model = member
        while not (isinstance(model, type) and issubclass(model, BaseModel)):
            model = get_args(get_args(model)[0])[0]  # a nested union: its first member's tag
        tag = get_args(model.model_fields[key].annotation)[0]
        members[str(tag)] = member
    return key, members


def _resolve(loc: Sequence[str | int], root: type[BaseModel]) -> _Slot:
    """Follow `loc` from the `root` model, dropping the union tags pydantic puts in it."""
    annotation: Any = root
    metadata: list[object] = []
    path: list[str | int] = []
    for part in loc:
        annotation, extra = _unwrap(annotation)
        metadata.extend(extra)
        tagged = _tagged(annotation)
        if tagged is not None and isinstance(part, str) and part in tagged[1]:
            annotation = tagged[1][part]
            continue
        path.append(part)
        metadata = []
        if isinstance(part, int):
            args = get_args(annotation) if get_origin(annotation) is tuple else ()
            annotation = args[0] if args else None
        elif (
            isinstance(annotation, type)
            and issubclass(annotation, BaseModel)
            and part in annotation.model_fields
        ):
            field = annotation.model_fields[part]
            annotation = field.annotation
            metadata = list(field.metadata)
        else:
            annotation = None
    annotation, extra = _unwrap(annotation)
    return _Slot(tuple(path), annotation, tuple(metadata + extra))


def _allowed(slot: _Slot, name: str) -> str:
    """What a key accepts, read from its type and constraints."""
    annotation = slot.annotation
    if get_origin(annotation) is Literal:
        return "one of " + ", ".join(_show(v) for v in get_args(annotation))
    if annotation is FuseType:
        fuses = INSTALLABLE_FUSES if name == "installed_fuse" else tuple(FuseType)
        return "one of " + ", ".join(f'"{f.value}"' for f in fuses)
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        return "one of " + ", ".join(_show(m.value) for m in annotation)
    if annotation is bool:
        return "true or false"
    if annotation in (float, int):
        what = "a whole number" if annotation is int else "a number"
        limits = _range_text(slot.metadata, _unit(name))
        return f"{what} {limits}" if limits else what
    if annotation is str:
        return "a text in double quotes"
    if _tagged(annotation) is not None or (
        isinstance(annotation, type) and issubclass(annotation, BaseModel)
    ):
        return "a table"
    if get_origin(annotation) is tuple:
        return "a list [...]"
    return "a value of the right kind"


_TYPE_ERRORS = {
    "float_type",
    "float_parsing",
    "int_type",
    "int_parsing",
    "int_from_float",
    "bool_type",
    "bool_parsing",
    "string_type",
    "model_type",
    "model_attributes_type",
    "dict_type",
    "tuple_type",
    "list_type",
    "enum",
}
_RANGE_ERRORS = {"greater_than", "greater_than_equal", "less_than", "less_than_equal"}
_MISSING_SECTIONS = {
    "scenario": "required section [scenario] is missing: it needs name and a duration "
    "(duration_s, duration_min, duration_h or duration_d)",
    "bms": 'required section [bms] is missing: it needs at least installed_fuse (e.g. "125A")',
    "battery": "no [[battery]] table: the bank needs 1 to 5 batteries (SYS-1)",
}


def _translate(
    exc: ValidationError, locator: _Locator, source: str, root: type[BaseModel]
) -> ScenarioError:
    """Every problem pydantic and our checks found, as one `ScenarioError`."""
    found: list[Problem] = []
    for error in exc.errors():
        for loc, message in _messages(error, root):
            slot = _resolve(loc, root)
            line, path = locator.find(slot.path)
            found.append(Problem(line, _field_path(path), message))
    return _error_of(source, found)


def _messages(
    error: Mapping[str, Any], root: type[BaseModel]
) -> list[tuple[tuple[str | int, ...], str]]:
    """One pydantic error as (loc, message) pairs (ours may carry several problems)."""
    loc = tuple(error["loc"])
    kind = str(error["type"])
    context = error.get("ctx") or {}
    cause = context.get("error")
    if isinstance(cause, _ProblemError):
        found = [(loc + rel, message) for rel, message in cause.problems]
        inner = cause.nested.errors() if cause.nested is not None else []
        for nested in inner:
            found += _messages({**nested, "loc": loc + tuple(nested["loc"])}, root)
        return found
    slot = _resolve(loc, root)
    name = next((p for p in reversed(slot.path) if isinstance(p, str)), "")
    value = error.get("input")
    if kind in ("union_tag_invalid", "union_tag_not_found"):
        return [_tag_message(loc, slot, kind, value)]
    if kind == "missing":
        if len(slot.path) == 1 and name in _MISSING_SECTIONS:
            return [(loc, _MISSING_SECTIONS[name])]
        return [(loc, f"missing (required); allowed: {_allowed(slot, name)}")]
    if kind in _RANGE_ERRORS:
        limits = _range_text(slot.metadata, _unit(name)) or str(error.get("msg", ""))
        return [(loc, f"must be {limits} (got {_show(value)})")]
    if kind in _TYPE_ERRORS:
        return [(loc, f"must be {_allowed(slot, name)} (got {_show(value)})")]
    if kind == "literal_error":
        options = [str(v) for v in get_args(slot.annotation)]
        hint = _suggest(value, options, '"') if isinstance(value, str) else ""
        msg = f"{_show(value)} is not allowed; {_allowed_after(hint, _allowed(slot, name))}"
        return [(loc, msg)]
    if kind == "finite_number":
        return [(loc, f"must be a finite number (got {_show(value)})")]
    if kind in ("string_too_short", "too_short"):
        return [(loc, f"must not be empty (got {_show(value)})")]
    if kind in ("value_error", "assertion_error") and cause is not None:
        return [(loc, str(cause))]
    return [(loc, " ".join(str(error.get("msg", kind)).split()))]


def _tag_message(
    loc: tuple[str | int, ...], slot: _Slot, kind: str, value: object
) -> tuple[tuple[str | int, ...], str]:
    tagged = _tagged(slot.annotation)
    key, tags = tagged if tagged is not None else ("type", {})
    allowed = ", ".join(f'"{t}"' for t in tags)
    where = (*loc, key)
    if kind == "union_tag_not_found" or not isinstance(value, dict):
        return where, f"missing (required); allowed: {allowed}"
    tag = value.get(key)
    hint = _suggest(tag, list(tags), '"') if isinstance(tag, str) else ""
    return where, f"unknown {key} {_show(tag)}; {_allowed_after(hint, allowed)}"


_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


def _field_path(path: Sequence[str | int]) -> str:
    """`device[2].power_w`: the way a reader counts tables in the file (from 1)."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part + 1}]"
        else:
            key = part if _BARE_KEY.match(part) else json.dumps(part, ensure_ascii=False)
            text += f".{key}" if text else key
    return text
