"""Sizes no scenario can mean: checked on the text and the raw TOML data, before any model runs.

A hand-written scenario is a few kilobytes, nests four levels deep and holds numbers a van
builder types. A file far beyond that is a mistake or an attack (a RecursionError in the TOML
parser, an integer with thousands of digits, a million timeline entries), so it is refused with
the same kind of message as any other problem, before it can exhaust the stack, the memory or
the run time. The limits are far above any real installation and far below any harm.
"""

import math
import re
from collections.abc import Iterator
from typing import Any

MAX_FILE_BYTES = 4 * 1024 * 1024
"""A scenario file is at most 4 MiB (a 10,000-entry timeline with notes is about 1 MiB)."""
MAX_NESTING = 10
"""Arrays and tables nest at most 10 levels (a scenario needs 4: a table, an array, a table, a
list of cell factors)."""
MAX_WHOLE_NUMBER = 2**53
"""Whole numbers are at most 2**53 in size: every one of them is exact as a float."""
MAX_TEXT_CHARS = 10_000
"""A text (a name, a description, a note) is at most 10,000 characters."""
MAX_KEY_CHARS = 100
"""A key is at most 100 characters (the longest real one has 30)."""
MAX_LIST_ITEMS = 10_000
"""An array holds at most 10,000 items: a [[timeline]] of 10,000 entries, say."""

Path = tuple[str | int, ...]
Found = tuple[Path, str]

_KEY = r"""(?:[A-Za-z0-9_-]+|"(?:[^"\\\n]|\\.)*"|'[^'\n]*')"""
_TOKENS = re.compile(
    rf"(?P<chain>(?<![A-Za-z0-9_-]){_KEY}(?:[ \t]*\.[ \t]*{_KEY}){{{MAX_NESTING},}})"
    r"|(?P<number>(?<![A-Za-z_-])[+-]?[0-9][0-9A-Fa-fxob_]{99,})"
    r'|"""[\s\S]*?"""|\'\'\'[\s\S]*?\'\'\'|"(?:[^"\\\n]|\\.)*"|\'[^\'\n]*\'|#[^\n]*|[\[\]{}]'
)


def text_problem(text: str) -> tuple[int, str] | None:
    """The first (line, message) for nesting or a number no parser should be given, else None.

    Brackets nesting deeper than `MAX_NESTING`, a dotted key as deep, or a number of 100 digits
    or more: the TOML parser would exhaust its recursion, take quadratic time over the key, or
    seconds over the number. Strings and comments are skipped, so a `[` in a note does not count.
    A key is only tried where a word starts, so a long word costs linear time, not quadratic.
    """
    depth = 0
    for token in _TOKENS.finditer(text):
        kind = token.group()
        if token.group("number"):
            return _line(text, token.start()), _HUGE_NUMBER
        if token.group("chain") or (kind in "[{" and depth >= MAX_NESTING):
            return _line(text, token.start()), _TOO_DEEP
        if kind in "[{":
            depth += 1
        elif kind in "]}":
            depth = max(0, depth - 1)
    return None


_TOO_DEEP = (
    f"invalid TOML: nested too deeply: arrays, tables and dotted keys nest at most {MAX_NESTING} "
    "levels in a scenario file"
)
_HUGE_NUMBER = (
    "a number with 100 digits or more cannot be meant; numbers in a scenario are at most "
    f"{MAX_WHOLE_NUMBER:,} in size (and each key has a much smaller range)"
)


def _line(text: str, position: int) -> int:
    return text.count("\n", 0, position) + 1


def size_problems(data: dict[str, Any]) -> list[Found]:
    """What in the parsed TOML is too deep, too long or too large, by path (iterative)."""
    return list(_walk(data))


def _walk(data: dict[str, Any]) -> Iterator[Found]:
    stack: list[tuple[Path, object]] = [((), data)]
    while stack:
        path, value = stack.pop()
        if isinstance(value, dict | list) and len(path) >= MAX_NESTING:
            yield (
                path,
                (
                    f"nested too deeply: arrays and tables nest at most {MAX_NESTING} levels in a "
                    "scenario file"
                ),
            )
        elif isinstance(value, dict):
            for key, item in reversed(value.items()):
                if len(key) > MAX_KEY_CHARS:
                    yield (
                        (*path, key),
                        (
                            f"a key of {len(key):,} characters cannot be meant; keys are at most "
                            f"{MAX_KEY_CHARS} characters"
                        ),
                    )
                else:
                    stack.append(((*path, key), item))
        elif isinstance(value, list):
            if len(value) > MAX_LIST_ITEMS:
                yield path, _too_many(path, len(value))
            else:
                stack.extend(((*path, i), item) for i, item in reversed(list(enumerate(value))))
        else:
            problem = _value_problem(value)
            if problem:
                yield path, problem


def _too_many(path: Path, count: int) -> str:
    if path == ("timeline",):
        return (
            f"{count:,} timeline entries is more than any scenario needs; at most "
            f"{MAX_LIST_ITEMS:,} are allowed (a timeline_period repeats a pattern)"
        )
    return f"{count:,} items is more than any scenario needs; at most {MAX_LIST_ITEMS:,} allowed"


def _value_problem(value: object) -> str:
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > MAX_WHOLE_NUMBER:
        digits = max(1, math.ceil(value.bit_length() * math.log10(2)))
        return (
            f"a whole number of about {digits:,} digits cannot be meant; numbers in a scenario "
            f"are at most {MAX_WHOLE_NUMBER:,} in size (and each key has a much smaller range)"
        )
    if isinstance(value, str) and len(value) > MAX_TEXT_CHARS:
        return (
            f"a text of {len(value):,} characters is too long; texts are at most "
            f"{MAX_TEXT_CHARS:,} characters"
        )
    return ""
