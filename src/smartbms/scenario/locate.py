"""Where things are in a TOML text: `_Locator` records the line of every header, key and element.

tomllib keeps no positions, so the text is re-scanned once, recording the line of every table
header and key (array-of-tables headers with their running index, dotted keys, inline tables and
array elements); an error's path is mapped onto that: the line of the offending key, else of the
nearest enclosing table.
"""

import bisect
import contextlib
import json

from smartbms.scenario.base import _TIME_UNITS


class _Locator:
    """The line of every table header, key and array element of a (valid) TOML text.

    A small scanner that follows TOML's structure — headers with a running index for `[[arrays]]`,
    dotted and quoted keys, inline tables, arrays over several lines, all four string forms (so a
    `[` inside a multi-line string is not a header) and comments. It runs only on text tomllib
    has accepted; on anything unexpected it keeps what it found so far.
    """

    def __init__(self, text: str) -> None:
        self._text = text
        self._pos = 0
        self._newlines = [i for i, ch in enumerate(text) if ch == "\n"]
        self.lines: dict[tuple[str | int, ...], int] = {}
        self._arrays: dict[tuple[str | int, ...], int] = {}
        with contextlib.suppress(IndexError, ValueError):
            self._document()

    def find(self, path: tuple[str | int, ...]) -> tuple[int | None, tuple[str | int, ...]]:
        """The line of `path` (a time key in any of its unit forms), else of its nearest parent.

        Returns the line and the path to show: the key as the file spells it when found.
        """
        candidates = [path]
        if path and isinstance(path[-1], str):
            stem = _time_stem(path[-1])
            candidates += [(*path[:-1], stem + suffix) for suffix in _TIME_UNITS]
        for candidate in candidates:
            if candidate in self.lines:
                return self.lines[candidate], candidate
        for size in range(len(path) - 1, 0, -1):
            if path[:size] in self.lines:
                return self.lines[path[:size]], path
        return None, path

    # scanning ------------------------------------------------------------------------------------

    def _line(self) -> int:
        return bisect.bisect_left(self._newlines, self._pos) + 1

    def _mark(self, path: tuple[str | int, ...], line: int, depth: int = 1) -> None:
        for size in range(depth, len(path) + 1):
            self.lines.setdefault(path[:size], line)

    def _ch(self) -> str:
        return self._text[self._pos] if self._pos < len(self._text) else ""

    def _skip_blank(self, *, newlines: bool) -> None:
        while self._pos < len(self._text):
            ch = self._text[self._pos]
            if ch in " \t\r" or (newlines and ch == "\n"):
                self._pos += 1
            elif ch == "#":
                end = self._text.find("\n", self._pos)
                self._pos = len(self._text) if end < 0 else end
            else:
                return

    def _document(self) -> None:
        table: tuple[str | int, ...] = ()
        while True:
            self._skip_blank(newlines=True)
            if self._pos >= len(self._text):
                return
            line = self._line()
            if self._text.startswith("[[", self._pos):
                self._pos += 2
                table = self._header(self._keys(), array=True)
                self._expect("]]")
                self._mark(table, line)
            elif self._ch() == "[":
                self._pos += 1
                table = self._header(self._keys(), array=False)
                self._expect("]")
                self._mark(table, line)
            else:
                path = table + self._keys()
                self._expect("=")
                self._mark(path, line, depth=len(table) + 1)
                self._value(path)

    def _header(self, keys: tuple[str, ...], *, array: bool) -> tuple[str | int, ...]:
        path: tuple[str | int, ...] = ()
        for i, key in enumerate(keys):
            path = (*path, key)
            if array and i == len(keys) - 1:
                index = self._arrays.get(path, 0)
                self._arrays[path] = index + 1
                path = (*path, index)
            elif path in self._arrays:
                path = (*path, self._arrays[path] - 1)
        return path

    def _expect(self, token: str) -> None:
        self._skip_blank(newlines=False)
        if not self._text.startswith(token, self._pos):
            msg = f"expected {token!r}"
            raise ValueError(msg)
        self._pos += len(token)

    def _keys(self) -> tuple[str, ...]:
        keys: list[str] = []
        while True:
            self._skip_blank(newlines=False)
            ch = self._ch()
            if ch in ('"', "'"):
                start = self._pos
                self._string()
                raw = self._text[start : self._pos]
                keys.append(_decode_key(raw))
            else:
                start = self._pos
                while self._pos < len(self._text) and (
                    self._text[self._pos].isalnum() or self._text[self._pos] in "_-"
                ):
                    self._pos += 1
                if self._pos == start:
                    msg = "expected a key"
                    raise ValueError(msg)
                keys.append(self._text[start : self._pos])
            self._skip_blank(newlines=False)
            if self._ch() != ".":
                return tuple(keys)
            self._pos += 1

    def _string(self) -> None:
        quote = self._ch()
        triple = self._text.startswith(quote * 3, self._pos)
        self._pos += 3 if triple else 1
        while self._pos < len(self._text):
            ch = self._text[self._pos]
            if ch == "\\" and quote == '"':
                self._pos += 2
            elif triple and self._text.startswith(quote * 3, self._pos):
                self._pos += 3
                while self._ch() == quote:  # up to two quotes may end the content
                    self._pos += 1
                return
            elif not triple and ch == quote:
                self._pos += 1
                return
            else:
                self._pos += 1
        msg = "unterminated string"
        raise ValueError(msg)

    def _value(self, path: tuple[str | int, ...]) -> None:
        self._skip_blank(newlines=False)
        ch = self._ch()
        if ch in ('"', "'"):
            self._string()
        elif ch == "[":
            self._array(path)
        elif ch == "{":
            self._inline_table(path)
        else:
            while self._pos < len(self._text) and self._text[self._pos] not in ",]}\n#":
                self._pos += 1

    def _array(self, path: tuple[str | int, ...]) -> None:
        self._pos += 1
        index = 0
        while True:
            self._skip_blank(newlines=True)
            if self._ch() == "]":
                self._pos += 1
                return
            if not self._ch():
                msg = "unterminated array"
                raise ValueError(msg)
            element = (*path, index)
            self._mark(element, self._line(), depth=len(element))
            self._value(element)
            self._skip_blank(newlines=True)
            if self._ch() == ",":
                self._pos += 1
                index += 1

    def _inline_table(self, path: tuple[str | int, ...]) -> None:
        self._pos += 1
        while True:
            self._skip_blank(newlines=True)
            if self._ch() == "}":
                self._pos += 1
                return
            if self._ch() == ",":
                self._pos += 1
                continue
            line = self._line()
            key_path = path + self._keys()
            self._expect("=")
            self._mark(key_path, line, depth=len(path) + 1)
            self._value(key_path)


def _decode_key(raw: str) -> str:
    if raw.startswith("'"):
        return raw[1:-1]
    try:
        decoded = json.loads(raw)
    except ValueError:
        return raw[1:-1]
    return decoded if isinstance(decoded, str) else raw[1:-1]


def _time_stem(name: str) -> str:
    """'at' for at_s / at_min / at_h / at_d / at (and so on for any stem)."""
    for suffix in _TIME_UNITS:
        if name.endswith(suffix):
            return name.removesuffix(suffix)
    return name
