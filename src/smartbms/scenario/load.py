"""Reading a scenario: `load_scenario` (a file) and `parse_scenario` (a text).

Sizes no scenario can mean (`limits`) are refused first: the file's size before it is read, the
nesting before the TOML parser recurses, numbers, texts and arrays before the models run.
"""

import os
import stat
import tomllib
from pathlib import Path

from pydantic import ValidationError

from smartbms.scenario import limits
from smartbms.scenario.base import _DURATION, _tuples
from smartbms.scenario.errors import (
    Problem,
    ScenarioError,
    _error_of,
    _field_path,
    _syntax_error,
    _translate,
)
from smartbms.scenario.locate import _Locator
from smartbms.scenario.model import Scenario


def load_scenario(path: Path | str, *, design_only: bool = False) -> Scenario:
    """Read and validate a scenario file (a `Path` or a str); every problem is a `ScenarioError`.

    `design_only` (for `smartbms check`) reads a file that may describe only the installation:
    see `parse_scenario`.
    """
    text, source = read_text_file(path)
    return parse_scenario(text, source, design_only=design_only)


def read_text_file(path: Path | str) -> tuple[str, str]:
    """A scenario-like file's text and its name for messages; any problem is a `ScenarioError`.

    Scenario and sweep files share it: a regular file, bounded in size, UTF-8.
    """
    source = str(path)
    data = _read(Path(path), source)
    try:
        return data.decode("utf-8"), source
    except UnicodeDecodeError as exc:
        msg = f"not a UTF-8 text file ({exc.reason} at byte {exc.start})"
        raise ScenarioError(source, None, "", msg) from None


def _read(path: Path, source: str) -> bytes:
    """The file's bytes: a regular file of at most `MAX_FILE_BYTES` (a FIFO never blocks)."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError as exc:
        raise ScenarioError(source, None, "", f"cannot read the file: {exc.strerror}") from None
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode):
        os.close(fd)
        what = "a folder" if stat.S_ISDIR(info.st_mode) else "not a regular file"
        raise ScenarioError(source, None, "", f"cannot read the file: it is {what}")
    with os.fdopen(fd, "rb") as file:
        if info.st_size > limits.MAX_FILE_BYTES:
            raise ScenarioError(source, None, "", _too_big(info.st_size))
        try:
            data = file.read(limits.MAX_FILE_BYTES + 1)
        except OSError as exc:
            raise ScenarioError(source, None, "", f"cannot read the file: {exc.strerror}") from None
    if len(data) > limits.MAX_FILE_BYTES:  # it grew while we looked
        raise ScenarioError(source, None, "", _too_big(len(data)))
    return data


def _too_big(size: int) -> str:
    mib = limits.MAX_FILE_BYTES / 2**20
    return (
        f"the file has {size / 2**20:,.1f} MiB; a scenario file is at most {mib:g} MiB "
        f"(a timeline has at most {limits.MAX_LIST_ITEMS:,} entries)"
    )


def parse_scenario(text: str, source: str, *, design_only: bool = False) -> Scenario:
    """Validate scenario text; `source` names it in messages (usually the file's path).

    With `design_only` the file may be an installation without a run: [scenario] may be left
    out, and so may its name (the file's name) and duration (`DESIGN_DURATION_S`); a timeline is
    optional anyway. Everything that is written is checked exactly as for a run.
    """
    if len(text) > limits.MAX_FILE_BYTES:
        raise ScenarioError(source, None, "", _too_big(len(text.encode("utf-8", "replace"))))
    found = limits.text_problem(text)
    if found is not None:
        raise ScenarioError(source, found[0], "", found[1])
    raw = _toml(text, source)
    if design_only:
        raw = _design_defaults(raw, source)
    too_big = limits.size_problems(raw)
    if too_big:
        locator = _Locator(text)
        problems = []
        for path, message in too_big:
            line, shown = locator.find(path)
            short = tuple(
                p[:40] + "..." if isinstance(p, str) and len(p) > limits.MAX_KEY_CHARS else p
                for p in shown
            )
            problems.append(Problem(line, _field_path(short), message))
        raise _error_of(source, problems)
    try:
        return Scenario.model_validate(_tuples(raw))
    except ValidationError as exc:
        raise _translate(exc, _Locator(text), source, Scenario) from None


DESIGN_DURATION_S = 86_400.0
"""A design without a [scenario] duration is read as one day (nothing runs it)."""


def _design_defaults(raw: dict[str, object], source: str) -> dict[str, object]:
    """[scenario] with its name and duration filled in where a design file leaves them out."""
    section = raw.get("scenario", {})
    if not isinstance(section, dict):
        return raw  # the model reports a [scenario] that is not a table
    filled = dict(section)
    filled.setdefault("name", Path(source).stem or source)
    if not any(key in section for key in _DURATION.keys):
        filled[_DURATION.field] = DESIGN_DURATION_S
    return {**raw, "scenario": filled}


def _toml(text: str, source: str) -> dict[str, object]:
    """The TOML data; a syntax error, and whatever the parser cannot hold, is a `ScenarioError`."""
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise _syntax_error(str(exc), text, source) from None
    except (RecursionError, ValueError):  # text_problem missed it: still one clear sentence
        # (Python refuses to convert an integer of more than 4,300 digits with a ValueError)
        msg = "invalid TOML: nested too deeply, or a number far too long, for a scenario file"
        raise ScenarioError(source, None, "", msg) from None
