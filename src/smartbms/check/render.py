"""The default output of `smartbms check`: one rich table of findings per file, then its budget.

Every text from the file (device names, paths) goes in as plain `Text`, never as markup.
"""

from collections.abc import Sequence
from typing import TYPE_CHECKING, Final

from smartbms.check.findings import SEVERITIES, FileReport, Finding

if TYPE_CHECKING:  # rich is imported when a table is drawn (the CLI starts fast)
    from rich.console import Console

STYLES: Final = {"error": "bold red", "warning": "yellow", "info": "cyan"}


def _where(f: Finding) -> str:
    line = "" if f.where.line is None else f"line {f.where.line}"
    return ", ".join(part for part in (line, f.where.field or "") if part)


def render(reports: Sequence[FileReport], console: "Console") -> None:
    """Print each file's findings as a table and a one-line verdict (lines when not a terminal)."""
    from rich.table import Table  # noqa: PLC0415
    from rich.text import Text  # noqa: PLC0415

    if not console.is_terminal:
        for report in reports:
            for f in report.findings:
                console.print(Text(line(report.file, f)), soft_wrap=True)
            console.print(Text(verdict(report)), soft_wrap=True)
        return
    for report in reports:
        table = Table(title=Text(report.file), title_justify="left", show_lines=True, expand=True)
        table.add_column("severity", no_wrap=True)
        table.add_column("rule", no_wrap=True)
        table.add_column("where", ratio=1, overflow="fold")
        table.add_column("finding", ratio=3)
        table.add_column("fix", ratio=3)
        for f in report.findings:
            table.add_row(
                Text(f.severity, style=STYLES[f.severity]),
                Text(f.rule),
                Text(_where(f)),
                Text(f.message),
                Text(f.fix),
            )
        console.print(table)
        console.print(Text(verdict(report), style=_verdict_style(report)))


def line(file: str, f: Finding) -> str:
    """One finding on one line, as compilers print them: `file:line: severity RULE field: ...`."""
    place = file if f.where.line is None else f"{file}:{f.where.line}"
    field = f" {f.where.field}:" if f.where.field else ""
    return f"{place}: {f.severity} {f.rule}{field} {f.message} Fix: {f.fix}"


def verdict(report: FileReport) -> str:
    """One line: the counts, or that the file could not be read."""
    if report.invalid:
        return f"{report.file}: not a valid scenario file ({len(report.findings)} problems)"
    counts = [f"{report.count(s)} {s}{'s' if report.count(s) != 1 else ''}" for s in SEVERITIES]
    return f"{report.file}: " + ", ".join(counts)


def _verdict_style(report: FileReport) -> str:
    if report.invalid or report.count("error"):
        return STYLES["error"]
    return STYLES["warning"] if report.count("warning") else "green"
