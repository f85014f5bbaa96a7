"""`smartbms codes`: the manual's App. B table, or one code's cause and remedy."""

import click
from rich.table import Table
from rich.text import Text

from smartbms.cli.console import make_console, say_error
from smartbms.core import CODE_TABLE, Severity, lookup_code

SEVERITY_STYLE = {Severity.ERROR: "bold red", Severity.ALARM: "red", Severity.WARNING: "yellow"}


@click.command("codes")
@click.argument("code", required=False)
def codes(code: str | None) -> int:
    """List the error, alarm and warning codes, or explain one (e.g. A-B11)."""
    console = make_console()
    if code is None:
        table = Table(title="Smart BMS 12-200 codes (manual App. B)", title_justify="left")
        table.add_column("Code", no_wrap=True)
        table.add_column("Kind")
        table.add_column("Name")
        table.add_column("Cause")
        for info in CODE_TABLE.values():
            style = SEVERITY_STYLE[info.severity]
            table.add_row(
                Text(info.code.value, style=style), info.severity.value, info.name, info.cause
            )
        console.print(table)
        console.print("Run [bold]smartbms codes CODE[/bold] for the remedy.")
        return 0
    try:
        found = lookup_code(code)
    except KeyError as error:
        say_error(str(error.args[0]))
        return 2
    info = found.info
    console.print(
        Text(f"{found.value}  {info.name}", style=SEVERITY_STYLE[info.severity]),
        Text(f"({info.severity.value})"),
    )
    console.print(f"\n[bold]Cause[/bold]\n{info.cause}\n\n[bold]Remedy[/bold]")
    for number, step in enumerate(info.remedy, start=1):
        console.print(f"{number}. {step}")
    if not info.user_correctable:
        console.print("\n[red]Not user-correctable: the Smart BMS must be replaced.[/red]")
    return 0
