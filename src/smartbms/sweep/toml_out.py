"""Writing a variant's scenario data back as TOML, so one variant is a file anyone can run.

`smartbms sweep FILE --variant ID` saves the variant as `scenario.toml` next to its outputs and
runs it through `smartbms simulate`. The standard library reads TOML but does not write it; a
scenario's data is plain (tables, arrays of tables, numbers, texts, booleans, arrays), so this
small writer is enough, and `tomllib.loads(dumps(data)) == data` holds (tested).
"""

import json
import math
from collections.abc import Mapping, Sequence
from typing import Any


def dumps(data: Mapping[str, Any], header: str = "") -> str:
    """TOML text of `data` (top-level scalars first, then tables, then arrays of tables)."""
    lines = [f"# {line}".rstrip() for line in header.splitlines()]
    _table(lines, (), data)
    return "\n".join(lines).lstrip("\n") + "\n"


def _is_tables(value: object) -> bool:
    return (
        isinstance(value, list | tuple)
        and bool(value)
        and all(isinstance(v, Mapping) for v in value)
    )


def _table(lines: list[str], path: tuple[str, ...], data: Mapping[str, Any]) -> None:
    for key, value in data.items():
        if not isinstance(value, Mapping) and not _is_tables(value):
            lines.append(f"{_key(key)} = {_value(value)}")
    for key, value in data.items():
        if isinstance(value, Mapping):
            lines += ["", f"[{_dotted((*path, key))}]"]
            _table(lines, (*path, key), value)
    for key, value in data.items():
        if _is_tables(value):
            for item in value:
                lines += ["", f"[[{_dotted((*path, key))}]]"]
                _table(lines, (*path, key), item)


def _dotted(path: Sequence[str]) -> str:
    return ".".join(_key(part) for part in path)


def _key(key: str) -> str:
    bare = key and all(ch.isascii() and (ch.isalnum() or ch in "_-") for ch in key)
    return key if bare else json.dumps(key, ensure_ascii=False)


def _value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            msg = f"TOML cannot hold {value!r} in a scenario"
            raise ValueError(msg)
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, Mapping):
        inner = ", ".join(f"{_key(k)} = {_value(v)}" for k, v in value.items())
        return "{ " + inner + " }" if inner else "{}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    msg = f"cannot write {type(value).__name__} as TOML"
    raise TypeError(msg)
