"""The sweep file (docs/sweep-format.md): a base scenario, axes over its fields, the figures.

`load_sweep` reads and checks it. Mistakes come back as a `ScenarioError`, worded as scenario
mistakes are (file, line, field, what is allowed), from the same machinery (`scenario.errors`,
`scenario.locate`): the sweep file's own tables are `_Table` models, and every value of every
axis is set into the base scenario and validated there, so "battery[1].soc_pct = 120" is refused
at the line of the 120 with the scenario's own words for what is allowed.
"""

import hashlib
import math
import os
import tomllib
from collections.abc import Sequence
from pathlib import Path
from typing import Literal, Self

from pydantic import Field, ValidationError, field_validator, model_validator

from smartbms.scenario import Scenario, ScenarioError, load_scenario
from smartbms.scenario.base import (
    _allowed_after,
    _closest,
    _problem,
    _ProblemError,
    _show,
    _suggest,
    _Table,
    _tuples,
)
from smartbms.scenario.errors import Problem, _error_of, _field_path, _translate
from smartbms.scenario.load import _toml, read_text_file
from smartbms.scenario.locate import _Locator
from smartbms.sweep import axes as ax
from smartbms.sweep.figures import DEFAULT_FIGURES, FIGURES
from smartbms.sweep.plan import Axis, Base, Sweep

MAX_AXIS_VALUES = 100_000
"""An axis takes at most this many values."""
MAX_VARIANTS = 1_000_000
"""A sweep expands to at most this many variants (a million runs is days on a laptop)."""


class SweepSection(_Table):
    """[sweep]: what the sweep is called, its base scenario, what to collect, how to combine."""

    name: str = Field(min_length=1)
    description: str = ""
    scenario: str = Field(min_length=1)
    """The base scenario, relative to the sweep file."""
    figures: tuple[str, ...] = DEFAULT_FIGURES
    combine: Literal["grid", "zip"] = "grid"
    batch_size: int | None = Field(default=None, ge=1, le=10_000)
    snapshots: bool = True

    @field_validator("figures")
    @classmethod
    def _known(cls, names: tuple[str, ...]) -> tuple[str, ...]:
        known = list(FIGURES)
        allowed = ", ".join(known)
        problems = [
            ((k,), f"unknown figure {name!r}; {_allowed_after(_suggest(name, known), allowed)}")
            for k, name in enumerate(names)
            if name not in FIGURES
        ]
        if problems:
            raise _ProblemError(*problems)
        if not names:
            raise _problem("name at least one figure (see docs/sweep-format.md)")
        return tuple(dict.fromkeys(names))


class RangeSpec(_Table):
    """`range = {start, stop, step}` (or `count` instead of `step`): both ends included."""

    start: int | float
    stop: int | float
    step: int | float | None = Field(default=None, gt=0)
    count: int | None = Field(default=None, ge=1, le=MAX_AXIS_VALUES)

    @model_validator(mode="after")
    def _one_spacing(self) -> Self:
        if (self.step is None) == (self.count is None):
            raise _problem("give exactly one of step and count", "step")
        if self.step is not None and (self.stop - self.start) / self.step >= MAX_AXIS_VALUES:
            raise _problem(f"makes more than {MAX_AXIS_VALUES:,} values; use a larger step", "step")
        return self


class RandomSpec(_Table):
    """`random = {distribution, count, seed, ...}`: draws that are the same on every machine."""

    distribution: Literal["uniform", "loguniform", "normal", "integer"]
    count: int = Field(ge=1, le=MAX_AXIS_VALUES)
    seed: int
    low: int | float | None = None
    high: int | float | None = None
    mean: int | float | None = None
    sd: int | float | None = Field(default=None, gt=0)
    digits: int | None = Field(default=None, ge=0, le=12)
    """Round each draw to this many decimals."""

    @model_validator(mode="after")
    def _parameters(self) -> Self:
        if self.distribution == "normal":
            if self.mean is None or self.sd is None:
                raise _problem("a normal distribution needs mean and sd", "distribution")
        elif self.low is None or self.high is None or not self.high > self.low:
            msg = f"a {self.distribution} distribution needs low and high, high above low"
            raise _problem(msg, "high" if self.high is not None else "distribution")
        if self.distribution == "loguniform" and self.low is not None and self.low <= 0:
            raise _problem("a loguniform distribution needs low greater than 0", "low")
        if self.distribution == "integer" and not (
            isinstance(self.low, int) and isinstance(self.high, int)
        ):
            raise _problem("an integer distribution needs whole numbers low and high", "low")
        return self


class AxisSpec(_Table):
    """[[axis]]: one field (or several set together) and its values, as a list, range or draw."""

    field: str | tuple[str, ...]
    name: str | None = Field(default=None, min_length=1)
    """The column's name in the results (default: the field)."""
    values: tuple[bool | int | float | str, ...] | None = Field(default=None, min_length=1)
    range: RangeSpec | None = None
    random: RandomSpec | None = None

    @model_validator(mode="after")
    def _one_source(self) -> Self:
        given = [k for k in ("values", "range", "random") if getattr(self, k) is not None]
        if len(given) != 1:
            msg = "give exactly one of values = [...], range = {...} and random = {...}"
            raise _problem(msg, given[1] if len(given) > 1 else "field")
        if self.values is not None and len(self.values) > MAX_AXIS_VALUES:
            raise _problem(f"at most {MAX_AXIS_VALUES:,} values", "values")
        if isinstance(self.field, tuple) and not self.field:
            raise _problem("name at least one field", "field")
        return self

    def generate(self) -> tuple[ax.Value, ...]:
        """The axis's values in order (a range's or a seeded random draw's)."""
        if self.values is not None:
            return self.values
        if self.range is not None:
            r = self.range
            return ax.range_values(r.start, r.stop, r.step, r.count)
        assert self.random is not None  # noqa: S101  # _one_source
        d = self.random
        params = {"low": d.low, "high": d.high, "mean": d.mean, "sd": d.sd}
        return ax.random_values(d.distribution, d.count, d.seed, params, d.digits)


class SweepFile(_Table):
    """A whole sweep file."""

    sweep: SweepSection
    axis: tuple[AxisSpec, ...] = ()

    @classmethod
    def _unknown_key(cls, key: str, allowed: Sequence[str]) -> str:
        match = _closest(key, allowed)
        hint = f"did you mean [{match}]? " if match else ""
        sections = _allowed_after(hint, ", ".join(allowed), "allowed sections")
        return f"unknown section [{key}]; {sections}"


# --- loading -------------------------------------------------------------------------------------


def load_sweep(path: Path | str) -> Sweep:
    """Read and check a sweep file and its base scenario; every problem is a `ScenarioError`."""
    text, source = read_text_file(path)
    raw = _toml(text, source)
    locator = _Locator(text)
    try:
        spec = SweepFile.model_validate(_tuples(raw))
    except ValidationError as exc:
        raise _translate(exc, locator, source, SweepFile) from None
    base_path = Path(os.path.normpath(Path(path).parent / spec.sweep.scenario))
    base = _load_base(base_path, source, locator)
    found = [_axis(k, axis, base, locator) for k, axis in enumerate(spec.axis)]
    problems = [p for result in found if isinstance(result, list) for p in result]
    if problems:
        raise _error_of(source, problems)
    axes = tuple(a for a in found if isinstance(a, Axis))
    clashes = _clashes(axes, spec.sweep.figures, locator)
    if clashes:
        raise _error_of(source, clashes)
    _check_shape(spec, axes, source, locator)
    section = spec.sweep
    return Sweep(
        name=section.name,
        description=section.description,
        source=source,
        bases=(base,),
        axes=axes,
        figures=section.figures,
        combine=section.combine,
        digest=digest_of(text.encode("utf-8"), (base,)),  # the same bytes: valid UTF-8 round-trips
        batch_size=section.batch_size,
        snapshots=section.snapshots,
    )


_RESERVED = ("variant_id", "status", "error")
"""Columns of results.parquet that no axis may be named."""


def _clashes(axes: Sequence[Axis], figures: Sequence[str], locator: _Locator) -> list[Problem]:
    """Two axes with one column name or one field, or an axis named as another column."""
    problems = []
    names: dict[str, int] = {}
    fields: dict[ax.Path_, int] = {}
    for k, axis in enumerate(axes):
        place = ("axis", k, "name")
        if axis.name in _RESERVED or axis.name in figures:
            msg = f"the column {axis.name!r} is taken (by a figure or {', '.join(_RESERVED)})"
            problems.append(_at(locator, place, msg + "; give the axis another name"))
        elif axis.name in names:
            msg = f"axis[{names[axis.name] + 1}] already has the name {axis.name!r}"
            problems.append(_at(locator, place, msg + "; give this one another name"))
        names.setdefault(axis.name, k)
        for path in axis.paths:
            if path in fields:
                msg = f"axis[{fields[path] + 1}] already sets {ax.field_text(path)}"
                problems.append(_at(locator, ("axis", k, "field"), msg))
            fields.setdefault(path, k)
    return problems


def _load_base(path: Path, source: str, locator: _Locator) -> Base:
    line, _ = locator.find(("sweep", "scenario"))
    if not path.is_file():
        msg = f"no scenario file {str(path)!r} (the path is relative to the sweep file)"
        raise ScenarioError(source, line, "sweep.scenario", msg)
    load_scenario(path)  # the base's own mistakes, in its own words
    text = path.read_text(encoding="utf-8")
    return Base(str(path), text, tomllib.loads(text))


def _check_shape(spec: SweepFile, axes: Sequence[Axis], source: str, locator: _Locator) -> None:
    """Zip needs equal lengths; the product is bounded."""
    sizes = [len(a.values) for a in axes]
    if spec.sweep.combine == "zip" and len(set(sizes)) > 1:
        line, _ = locator.find(("sweep", "combine"))
        lengths = ", ".join(f"{a.name}: {n}" for a, n in zip(axes, sizes, strict=True))
        msg = f'"zip" pairs the axes value by value, so they need as many values each ({lengths})'
        raise ScenarioError(source, line, "sweep.combine", msg)
    count = math.prod(sizes) if spec.sweep.combine == "grid" else min(sizes, default=1)
    if count > MAX_VARIANTS:
        line, _ = locator.find(("axis",))
        msg = f"the axes make {count:,} variants; a sweep runs at most {MAX_VARIANTS:,}"
        raise ScenarioError(source, line, "axis", msg)


def _axis(k: int, spec: AxisSpec, base: Base, locator: _Locator) -> Axis | list[Problem]:
    """One axis, checked against the base scenario: its paths, then each distinct value."""
    fields = (spec.field,) if isinstance(spec.field, str) else spec.field
    where = ("axis", k, "field")
    paths: list[ax.Path_] = []
    for j, text in enumerate(fields):
        place = where if isinstance(spec.field, str) else (*where, j)
        try:
            path = ax.parse_field(text)
            ax.check_place(base.data, path)
        except ax.AxisError as problem:
            return [_at(locator, place, str(problem))]
        paths.append(path)
    values = spec.generate()
    if not values:
        return [_at(locator, ("axis", k, "range"), "the range holds no value (stop before start)")]
    name = spec.name or ", ".join(fields)
    problems: list[Problem] = []
    base_locator = _Locator(base.text)
    for index, value in _distinct(values):
        message = _value_problem(base, base_locator, paths, value)
        if message.startswith("unknown field"):
            return [_at(locator, where, message)]
        if message:
            key = "values" if spec.values is not None else ("range" if spec.range else "random")
            place = ("axis", k, key, index) if key == "values" else ("axis", k, key)
            problems.append(_at(locator, place, f"{name} = {_show(value)}: {message}"))
            if len(problems) >= 5:
                break
    return problems or Axis(name, tuple(paths), values)


def _distinct(values: Sequence[ax.Value]) -> list[tuple[int, ax.Value]]:
    seen: dict[tuple[type, ax.Value], int] = {}
    for index, value in enumerate(values):
        seen.setdefault((type(value), value), index)
    return [(index, value) for (_, value), index in seen.items()]


def _value_problem(
    base: Base, base_locator: _Locator, paths: Sequence[ax.Path_], value: ax.Value
) -> str:
    """What the scenario says about this value at the axis's field(s), or ''."""
    data = ax.apply(base.data, [(path, value) for path in paths])
    try:
        Scenario.model_validate(_tuples(data))
    except ValidationError as exc:
        error = _translate(exc, base_locator, base.source, Scenario)
        fields = [ax.field_text(path) for path in paths]
        for problem in error.problems:
            if any(_within(problem.field, field) for field in fields):
                return problem.message
    return ""


def _within(found: str, field: str) -> bool:
    """Whether a problem's field is the axis's field (any time unit) or inside it."""
    head, _, key = field.rpartition(".")
    stem = (f"{head}." if head else "") + ax.time_stem(key)
    found_head, _, found_key = found.rpartition(".")
    found_stem = (f"{found_head}." if found_head else "") + ax.time_stem(found_key)
    return found_stem == stem or found.startswith((field + ".", field + "["))


def _at(locator: _Locator, place: tuple[str | int, ...], message: str) -> Problem:
    line, shown = locator.find(place)
    return Problem(line, _field_path(shown), message)


def digest_of(sweep_bytes: bytes, bases: Sequence[Base]) -> str:
    """SHA-256 of the sweep file and every scenario it runs: a resume refuses a changed one."""
    digest = hashlib.sha256(sweep_bytes)
    for base in bases:
        digest.update(b"\0" + base.source.encode() + b"\0" + base.text.encode())
    return digest.hexdigest()


def compare_sweep(paths: Sequence[Path | str], figures: Sequence[str] = DEFAULT_FIGURES) -> Sweep:
    """A sweep over listed scenario files (`smartbms compare`): one variant per file, in order."""
    bases = []
    for path in paths:
        load_scenario(path)
        text = Path(path).read_text(encoding="utf-8")
        bases.append(Base(str(path), text, tomllib.loads(text)))
    names = tuple(str(path) for path in paths)
    return Sweep(
        name="Comparison of " + ", ".join(Path(p).name for p in names),
        description="",
        source="compare",
        bases=tuple(bases),
        axes=(Axis("scenario", (), names),),
        figures=tuple(figures),
        combine="grid",
        digest=digest_of(b"compare\0" + "\0".join(figures).encode(), bases),
        batch_size=None,
        snapshots=False,
    )
