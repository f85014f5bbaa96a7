"""`smartbms simulate` and `smartbms demo`: a scenario through the twin, its results and report.

Every user error ends in one clear sentence on stderr and exit status 2; no traceback reaches a
user. A run stopped by Ctrl-C keeps what ran, marked incomplete, and exits with 130.
"""

import math
from collections.abc import Callable, Sequence
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

import click
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table
from rich.text import Text

from smartbms.cli.console import EXIT_INTERRUPTED, SparseProgress, make_console, say_error
from smartbms.cli.lines import event_line
from smartbms.core.events import Event
from smartbms.core.units import duration_text, wall_clock_text

if TYPE_CHECKING:
    from smartbms.scenario import Scenario
    from smartbms.sim.output import RunWriter
    from smartbms.sim.verdicts import Verdict

QUIET_EVENTS = frozenset({"ChainSignalChanged", "TimelineApplied", "FaultInjected"})
DEMO_FILE = "manual-figure-1.toml"
MAX_FIXED_STEPS = 100_000_000
"""`--fixed-step` may imply at most this many steps (hours of computing): more cannot be meant."""


class RunOptions:
    """The options `simulate` and `demo` share."""

    __slots__ = ("all_events", "fixed_step", "static", "trace_format")

    def __init__(
        self, trace_format: str, fixed_step: float | None, all_events: bool, static: bool = False
    ) -> None:
        self.trace_format = trace_format
        self.fixed_step = fixed_step
        self.all_events = all_events
        self.static = static


def run_options(command: Callable[..., int]) -> Callable[..., int]:
    """Add the options of a run to a click command."""
    for option in reversed(
        (
            click.option(
                "--trace-format",
                type=click.Choice(["csv", "parquet"]),
                default="csv",
                show_default=True,
                help="Trace file format.",
            ),
            click.option(
                "--fixed-step",
                type=float,
                metavar="DT_S",
                default=None,
                help="Use the fixed-step reference stepper with this step (s) instead of the "
                "adaptive one.",
            ),
            click.option(
                "--all-events", is_flag=True, help="Also list chain-line and timeline events."
            ),
            click.option(
                "--static",
                is_flag=True,
                help="Also draw the report's charts as PNG images in <out>/static/ (matplotlib; "
                "slower), for print.",
            ),
        )
    ):
        command = option(command)
    return command


@click.command("simulate")
@click.argument("scenario", type=click.Path(path_type=Path, dir_okay=False))
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    default=None,
    help="Folder for the results (default: out/<scenario name>).",
)
@run_options
def simulate(
    scenario: Path,
    out: Path | None,
    *,
    trace_format: str,
    fixed_step: float | None,
    all_events: bool,
    static: bool,
) -> int:
    """Run a scenario file (TOML) through the twin and write its results and report."""
    options = RunOptions(trace_format, fixed_step, all_events, static)
    return simulate_file(make_console(), scenario, out, options)


@click.command("demo")
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    default=Path("smartbms-demo"),
    show_default=True,
    help="Folder for the results.",
)
@run_options
def demo(
    out: Path, trace_format: str, fixed_step: float | None, all_events: bool, static: bool
) -> int:
    """Simulate the manual's Figure 1 system over a weekend and write the report."""
    options = RunOptions(trace_format, fixed_step, all_events, static)
    return simulate_file(make_console(), demo_scenario(), out, options)


def demo_scenario() -> Path:
    """The bundled Figure 1 example: packaged with the wheel, or the checkout's examples/."""
    packaged = resources.files("smartbms").joinpath("examples", DEMO_FILE)
    if packaged.is_file():
        return Path(str(packaged))
    return Path(__file__).resolve().parents[3] / "examples" / DEMO_FILE


def simulate_file(
    console: Console, scenario_path: Path, out: Path | None, options: RunOptions
) -> int:
    """Validate, run, write the results and the report, and tell the user what happened."""
    from smartbms.scenario import ScenarioError, load_scenario  # noqa: PLC0415
    from smartbms.sim.output import (  # noqa: PLC0415
        OutputError,
        RunWriter,
        check_free_space,
        trace_bytes_estimate,
    )

    try:
        scenario = load_scenario(scenario_path)
    except ScenarioError as error:
        for paragraph in error.paragraphs():
            say_error(paragraph)
        return 2
    out_dir = out if out is not None else Path("out") / scenario_path.stem
    problem = fixed_step_problem(options.fixed_step, scenario.duration_s)
    if problem:
        say_error(problem)
        return 2
    section = scenario.scenario
    try:
        needed = trace_bytes_estimate(
            section.duration_s,
            section.trace_resolution_s,
            scenario.battery_count,
            options.trace_format,
        )
        check_free_space(_existing(out_dir), needed)
        writer = RunWriter(
            out_dir, scenario.battery_count, section.trace_resolution_s, options.trace_format
        )
    except (OutputError, RuntimeError) as error:  # RuntimeError: no pyarrow for Parquet
        say_error(str(error))
        return 2
    except OSError as error:
        say_error(f"cannot write results to {out_dir}: {error.strerror or error}")
        return 2
    try:
        return _run_and_write(console, scenario, writer, options)
    except OSError as error:
        writer.abort()
        where = f" ({error.filename})" if error.filename else ""
        say_error(
            f"writing the results failed: {error.strerror or error}{where}; {out_dir} holds an "
            "incomplete run (see INCOMPLETE.txt there)",
        )
        return 1
    except KeyboardInterrupt:
        writer.abort()
        console.print(
            Text(f"Interrupted while writing the results: {out_dir} holds an incomplete run.")
        )
        return EXIT_INTERRUPTED


def _existing(path: Path) -> Path:
    """`path`, or its nearest ancestor that exists (where a new folder's disk space is)."""
    for candidate in (path, *path.parents):
        if candidate.exists():
            return candidate
    return Path()


def fixed_step_problem(fixed_step: float | None, duration_s: float) -> str:
    """Why `--fixed-step` cannot be used for this run, or ''."""
    if fixed_step is None:
        return ""
    if not (math.isfinite(fixed_step) and fixed_step > 0):
        return "--fixed-step must be a positive number of seconds"
    steps = duration_s / fixed_step
    if steps > MAX_FIXED_STEPS:
        return (
            f"--fixed-step {fixed_step:g} over {duration_text(duration_s)} is about {steps:,.3g} "
            f"steps; at most {MAX_FIXED_STEPS:,} are allowed (a longer step, or the adaptive "
            "stepper without --fixed-step)"
        )
    return ""


def _run_and_write(
    console: Console, scenario: "Scenario", writer: "RunWriter", options: RunOptions
) -> int:
    """Run the scenario into `writer`, write the report and tell the user; the exit status."""
    from smartbms.sim.report import write_report  # noqa: PLC0415
    from smartbms.sim.results import event_record  # noqa: PLC0415
    from smartbms.sim.runner import AdaptiveStep, FixedStep, Simulation  # noqa: PLC0415
    from smartbms.sim.verdicts import verdicts  # noqa: PLC0415

    stepper = FixedStep(options.fixed_step) if options.fixed_step else AdaptiveStep()
    simulation = Simulation(scenario, stepper=stepper)
    heading = Text(scenario.scenario.name, style="bold")
    heading.append(
        f"  {duration_text(scenario.duration_s)} simulated, {stepper.name} stepper", style="dim"
    )
    console.print(heading)
    records: list[dict[str, object]] = []
    section = scenario.scenario
    start_s = section.start_time_of_day_h * 3600.0
    weekday = section.start_date.weekday() if section.start_date is not None else None

    def when(t_s: float) -> str:  # the report's clock: 'day 1 08:01:30' or 'Fri 08:01:30'
        return wall_clock_text(t_s, start_time_of_day_s=start_s, start_weekday=weekday)

    def on_event(event: Event) -> None:
        writer.on_event(event)
        records.append(event_record(event))
        if options.all_events or event.kind not in QUIET_EVENTS:
            console.print(event_line(event, when))

    sparse = SparseProgress(make_console(stderr=True), "simulating")
    with Progress(
        TextColumn("[dim]simulating[/dim]"),
        BarColumn(),
        TextColumn("{task.percentage:>3.0f} %"),
        TimeRemainingColumn(),
        console=console,
        transient=True,
        disable=not console.is_terminal,
    ) as progress:
        task = progress.add_task("run", total=1.0)

        def on_progress(fraction: float) -> None:
            if console.is_terminal:
                progress.update(task, completed=fraction)
            else:
                sparse.update(fraction)

        result = simulation.run(on_event=on_event, on_step=writer.on_step, on_progress=on_progress)
    writer.finish(result, keep_marker=True)
    summary = result.summary
    report = write_report(
        writer.out_dir,
        title=scenario.scenario.name,
        description=scenario.scenario.description,
        summary=summary,
        trace_path=writer.trace_path,
        events=records,
        static=options.static,
    )
    writer.seal(result)
    console.print()
    console.print(verdict_table(verdicts(summary, records)))
    pace = ""
    if summary.status == "complete":
        pace = f" ({scenario.duration_s / max(result.wall_s, 1e-9):,.0f} x real time)"
    console.print(f"\n{result.steps} steps in {result.wall_s:.2f} s{pace}.")
    console.print(Text.assemble("Report:  ", (str(report), "bold")))
    if options.static:
        console.print(Text(f"Images:  {writer.out_dir / 'static'} (one PNG per chart)"))
    console.print(
        Text(f"Data:    {writer.events_path}, {writer.trace_path}, {writer.summary_path}")
    )
    if summary.status == "complete":
        return 0
    console.print(
        Text(
            f"Interrupted: the run stopped early; {writer.out_dir} keeps what ran, marked "
            'incomplete (summary.json "status": "interrupted", report title INCOMPLETE).',
            style="yellow",
        )
    )
    return EXIT_INTERRUPTED


STATUS_STYLE = {"ok": "green", "warning": "yellow", "problem": "bold red", "info": "dim"}


def verdict_table(found: Sequence["Verdict"]) -> Table:
    """The verdicts as the report's cards say them: status in words and colour, value, detail."""
    table = Table(title="Verdicts", title_justify="left", show_header=False)
    table.add_column("what")
    table.add_column("value")
    table.add_column("detail", style="dim")
    for verdict in found:
        style = STATUS_STYLE[verdict.status]
        value = Text(verdict.value, style=f"bold {style}")
        value.append(f"  {verdict.status_text}", style=style)
        table.add_row(Text(verdict.title), value, Text(verdict.detail))
    return table
