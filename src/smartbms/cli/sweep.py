"""`smartbms sweep` and `smartbms compare`: many variants on Dask, one table and one report.

A sweep file (docs/sweep-format.md) is checked whole before anything runs; a mistake is one
`error:` line per problem and exit status 2. The variants run on a local Dask cluster (or
`--scheduler`), with a progress bar; Ctrl-C keeps the finished variants (exit 130) and the same
command resumes. `--variant ID` re-runs one variant through `smartbms simulate`.
"""

from pathlib import Path
from typing import TYPE_CHECKING

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table
from rich.text import Text

from smartbms.cli.console import EXIT_INTERRUPTED, SparseProgress, make_console, say_error

if TYPE_CHECKING:
    from smartbms.sweep import Sweep, SweepOutcome

_NEEDS_EXTRA = "sweeps need Dask and pyarrow: pip install 'smartbms[sweep]'"


@click.command("sweep")
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
@click.option(
    "--out",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="Folder for the results (default: out/<sweep file name>).",
)
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=None,
    help="Worker processes of the local Dask cluster (default: one per core).",
)
@click.option(
    "--scheduler",
    metavar="ADDRESS",
    default=None,
    help="Run on an existing Dask cluster instead (e.g. tcp://10.0.0.5:8786).",
)
@click.option(
    "--variant",
    "variant_id",
    type=click.IntRange(min=0),
    default=None,
    help="Re-run one variant (its ID) with its full outputs, in OUT/variant-ID.",
)
def sweep(
    *,
    file: Path,
    out: Path | None,
    workers: int | None,
    scheduler: str | None,
    variant_id: int | None,
) -> int:
    """Run every variant of a sweep FILE on Dask: results.parquet and report.html."""
    from smartbms.scenario import ScenarioError  # noqa: PLC0415
    from smartbms.sweep import load_sweep  # noqa: PLC0415

    console = make_console()
    if workers is not None and scheduler is not None:
        say_error("give --workers or --scheduler, not both")
        return 2
    try:
        found = load_sweep(file)
    except ScenarioError as error:
        for paragraph in error.paragraphs():
            say_error(paragraph)
        return 2
    out_dir = out if out is not None else Path("out") / file.stem
    if variant_id is not None:
        return _one_variant(console, found, variant_id, out_dir)
    return _run(console, found, out_dir, workers, scheduler)


@click.command("compare")
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path, dir_okay=False))
@click.option(
    "--out",
    type=click.Path(path_type=Path, file_okay=False),
    default=Path("out/compare"),
    show_default=True,
    help="Folder for the results.",
)
@click.option("--workers", type=click.IntRange(min=1), default=None, help="As for smartbms sweep.")
@click.option("--scheduler", metavar="ADDRESS", default=None, help="As for smartbms sweep.")
@click.option(
    "--figure",
    "figures",
    multiple=True,
    metavar="NAME",
    help="A figure to collect (repeat it; default: the sweep defaults, see docs/sweep-format.md).",
)
def compare(
    *,
    files: tuple[Path, ...],
    out: Path,
    workers: int | None,
    scheduler: str | None,
    figures: tuple[str, ...],
) -> int:
    """Run scenario FILES side by side: one variant each, one table and report."""
    from smartbms.scenario import ScenarioError  # noqa: PLC0415
    from smartbms.sweep import DEFAULT_FIGURES, FIGURES, compare_sweep  # noqa: PLC0415

    console = make_console()
    unknown = [name for name in figures if name not in FIGURES]
    if unknown:
        say_error(f"unknown figure {unknown[0]!r}; allowed: {', '.join(FIGURES)}")
        return 2
    if workers is not None and scheduler is not None:
        say_error("give --workers or --scheduler, not both")
        return 2
    try:
        found = compare_sweep(files, figures or DEFAULT_FIGURES)
    except ScenarioError as error:
        for paragraph in error.paragraphs():
            say_error(paragraph)
        return 2
    return _run(console, found, out, workers, scheduler)


def _run(
    console: Console, found: "Sweep", out_dir: Path, workers: int | None, scheduler: str | None
) -> int:
    """Run the sweep with a progress bar, write the report, say what happened; the exit status."""
    from smartbms.sweep import SweepStateError, read_results, run_sweep  # noqa: PLC0415
    from smartbms.sweep.report import write_sweep_report  # noqa: PLC0415

    if scheduler is not None:
        where = f"the cluster at {scheduler}"
    elif workers is not None:
        where = f"{workers} local worker process{'es' if workers > 1 else ''}"
    else:
        where = "a local worker process per core"
    heading = Text(found.name, style="bold")
    heading.append(f"  {found.count:,} variants on Dask ({where})", style="dim")
    console.print(heading)
    with Progress(
        TextColumn("[dim]variants[/dim]"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=True,
        disable=not console.is_terminal,
    ) as progress:
        task = progress.add_task("sweep", total=found.count)
        sparse = SparseProgress(make_console(stderr=True), "variants")

        def on_progress(done: int, total: int) -> None:
            if console.is_terminal:
                progress.update(task, completed=done, total=total)
            else:
                sparse.update(done / max(total, 1))

        try:
            outcome = run_sweep(
                found, out_dir, workers=workers, scheduler=scheduler, on_progress=on_progress
            )
        except ImportError:
            say_error(_NEEDS_EXTRA)
            return 2
        except SweepStateError as error:
            say_error(str(error))
            return 2
        except KeyboardInterrupt:
            console.print(
                Text(
                    f"Interrupted: the finished variants are kept in {out_dir / 'parts'}; run the "
                    "same command again to resume.",
                    style="yellow",
                )
            )
            return EXIT_INTERRUPTED
        except OSError as error:  # the scheduler cannot be reached, the disk is full, ...
            say_error(f"the sweep stopped: {error}")
            return 1
    rows = read_results(outcome.results_path)
    report = write_sweep_report(out_dir, found, rows)
    _tell(console, found, outcome, rows)
    console.print(Text.assemble("Report:  ", (str(report), "bold")))
    console.print(Text(f"Data:    {outcome.results_path}"))
    return 0


def _tell(
    console: Console, found: "Sweep", outcome: "SweepOutcome", rows: list[dict[str, object]]
) -> None:
    from smartbms.sweep.report import best_variants  # noqa: PLC0415

    table = Table(title="Best variant per figure", title_justify="left")
    table.add_column("figure")
    table.add_column("best", justify="right")
    table.add_column("variant", justify="right")
    table.add_column("parameters", style="dim")
    for best in best_variants(found, rows):
        table.add_row(best.figure.title, best.value, str(best.variant_id), best.params)
    if table.row_count:
        console.print(table)
    parts = []
    if outcome.skipped:
        parts.append(f"{outcome.ran:,} run now, {outcome.skipped:,} by an earlier run")
    if outcome.failed:
        parts.append(f"[red]{outcome.failed:,} failed[/red]")
    detail = f" ({'; '.join(parts)})" if parts else ""
    workers = f"{outcome.workers} worker{'s' if outcome.workers != 1 else ''}"
    console.print(f"\n{outcome.total:,} variants{detail} in {outcome.wall_s:.1f} s on {workers}.")
    for row in rows:
        if row["status"] != "ok":
            say_error(f"variant {row['variant_id']}: {row['error']}")
            break


def _one_variant(console: Console, found: "Sweep", variant_id: int, out_dir: Path) -> int:
    """Save one variant as scenario.toml in OUT/variant-ID and run it as `simulate` would."""
    from smartbms.cli.run import RunOptions, simulate_file  # noqa: PLC0415
    from smartbms.sweep.toml_out import dumps  # noqa: PLC0415

    try:
        variant = found.variant(variant_id)
    except IndexError as error:
        say_error(str(error))
        return 2
    folder = out_dir / f"variant-{variant_id}"
    folder.mkdir(parents=True, exist_ok=True)
    params = ", ".join(f"{name} = {value}" for name, value in variant.params)
    header = f"Variant {variant_id} of {found.source}: {params}\nBase: {variant.source}"
    scenario_path = folder / "scenario.toml"
    scenario_path.write_text(dumps(variant.data, header=header), encoding="utf-8")
    console.print(Text(f"Variant {variant_id}: {params}", style="bold"))
    return simulate_file(console, scenario_path, folder, RunOptions("csv", None, False))
