"""Where the command's words go: results to stdout, problems to stderr, plain text when piped.

A terminal gets colour, tables fitted to its width and a live progress bar; a pipe or a file gets
plain text whose lines are never wrapped at 80 columns (a reader's `grep` or `cut` sees one record a
line), and a sparse, time-based progress line on stderr.
"""

import os
import sys
import time
from collections.abc import Callable

from rich.console import Console
from rich.text import Text

EXIT_INTERRUPTED = 130
"""The shell's status for a command stopped by Ctrl-C (128 + SIGINT)."""

PIPED_WIDTH = 400
"""Columns for output that is not a terminal: wide enough that no table row wraps."""


def make_console(*, stderr: bool = False) -> Console:
    """A console for stdout (or stderr): rich on a terminal, plain and unwrapped when piped."""
    stream = sys.stderr if stderr else sys.stdout
    terminal = stream.isatty() or bool(os.environ.get("FORCE_COLOR"))
    if terminal:
        return Console(highlight=False, stderr=stderr)
    return Console(
        highlight=False,
        stderr=stderr,
        width=PIPED_WIDTH,
        no_color=True,
        force_terminal=False,
        soft_wrap=True,
    )


def say_error(text: str, console: Console | None = None) -> None:
    """One problem on one line on stderr; user text (paths, names, keys) is never read as markup."""
    (console or make_console(stderr=True)).print(
        Text.assemble(("error:", "red"), " ", text), soft_wrap=True
    )


class SparseProgress:
    """A progress line for a pipe or a log file: at most one line per `every_s` of wall time.

    A bar that redraws itself only makes sense on a terminal; a log wants a few lines it can keep.
    """

    def __init__(
        self,
        console: Console,
        label: str,
        every_s: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._console = console
        self._label = label
        self._every_s = every_s
        self._clock = clock
        self._started = clock()
        self._last = self._started

    def update(self, fraction: float) -> None:
        """Print a line when `every_s` has passed since the last one."""
        now = self._clock()
        if now - self._last < self._every_s:
            return
        self._last = now
        elapsed = now - self._started
        left = elapsed * (1.0 - fraction) / fraction if fraction > 0 else float("nan")
        eta = f", about {left:.0f} s left" if left == left else ""  # noqa: PLR0124  # NaN check
        self._console.print(f"{self._label}: {100.0 * fraction:3.0f} %{eta}", soft_wrap=True)
