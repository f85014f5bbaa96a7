"""`smartbms check`: review installation designs by the manual's rules (docs/check.md)."""

from pathlib import Path

import click

from smartbms.cli.console import make_console


@click.command("check")
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["table", "json"]),
    default="table",
    show_default=True,
    help="A table per file, or a JSON list, one object per file (docs/schemas/check.schema.json).",
)
@click.option(
    "--simulate",
    is_flag=True,
    help="Also run the standard situations CHK-S1...S6 with the twin (a few seconds per file).",
)
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=None,
    help="Processes for --simulate (default: all cores).",
)
def check(files: tuple[Path, ...], output_format: str, simulate: bool, workers: int | None) -> int:
    """Check installation designs (scenario files; a timeline is optional) against the manual.

    Exit status: 0 no errors, 1 a design has errors, 2 a file is not a valid scenario.
    """
    from smartbms.check import check_files, exit_code, to_json  # noqa: PLC0415
    from smartbms.check.render import render  # noqa: PLC0415

    reports = check_files(files, simulate=simulate, workers=workers)
    if output_format == "json":
        click.echo(to_json(reports), nl=False)
    else:
        render(reports, make_console())
    return exit_code(reports)
