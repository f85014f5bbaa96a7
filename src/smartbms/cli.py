"""The `smartbms` command: look up codes, watch the controller at work.

Every user error ends in one clear sentence and exit status 2; no traceback reaches a user.
"""

import argparse
import dataclasses
import json
import math
import sys
from collections.abc import Sequence
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table
from rich.text import Text

from smartbms import __version__
from smartbms.core import (
    CODE_TABLE,
    Code,
    Controller,
    FuseType,
    Inputs,
    LedMode,
    Settings,
    Severity,
    lookup_code,
)
from smartbms.core.events import Event
from smartbms.core.signals import LED_COLOURS, LED_NAMES, Outputs
from smartbms.core.units import clock_text, duration_text

if TYPE_CHECKING:
    from smartbms.scenario import Scenario
    from smartbms.sim.output import RunWriter
    from smartbms.sim.verdicts import Verdict

_SEVERITY_STYLE = {Severity.ERROR: "bold red", Severity.ALARM: "red", Severity.WARNING: "yellow"}


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    parser = _parser()
    args = parser.parse_args(argv)
    console = Console(highlight=False)
    try:
        if args.command == "codes":
            return _codes(console, args.code)
        if args.command == "simulate":
            return _simulate(console, args.scenario, args.out, args)
        if args.command == "demo":
            return _simulate(console, _demo_scenario(), args.out, args)
        if args.command == "controller-demo":
            return _demo(console)
        if args.command == "schema":
            return _schema(args.what)
    except BrokenPipeError:  # e.g. `smartbms codes | head`
        return 0
    except KeyboardInterrupt:  # Ctrl-C outside a run (a run handles its own): no traceback
        console.print(Text("Interrupted."))
        return EXIT_INTERRUPTED
    parser.print_help()
    return 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="smartbms",
        description="An open, faithful software Victron Smart BMS 12-200 and its 12 V system.",
    )
    parser.add_argument("--version", action="version", version=f"smartbms {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    codes = commands.add_parser(
        "codes", help="list the error, alarm and warning codes, or explain one"
    )
    codes.add_argument("code", nargs="?", help="a code such as A-B11 (case and dash optional)")
    simulate = commands.add_parser(
        "simulate", help="run a scenario file through the twin and write its report"
    )
    simulate.add_argument("scenario", type=Path, help="a scenario file (TOML)")
    simulate.add_argument(
        "--out", type=Path, default=None, help="folder for the results (default: out/<name>)"
    )
    _add_run_options(simulate)
    demo = commands.add_parser(
        "demo", help="simulate the manual's Figure 1 system over a weekend and write the report"
    )
    demo.add_argument("--out", type=Path, default=Path("smartbms-demo"), help="results folder")
    _add_run_options(demo)
    commands.add_parser("controller-demo", help="a scripted day through the controller alone")
    schema = commands.add_parser("schema", help="print the JSON Schema of a result file")
    schema.add_argument("what", choices=("summary",), help="summary: summary.json")
    return parser


def _add_run_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--trace-format", choices=("csv", "parquet"), default="csv", help="trace file format"
    )
    parser.add_argument(
        "--fixed-step",
        type=float,
        metavar="DT_S",
        default=None,
        help="use the fixed-step reference stepper with this step instead of the adaptive one",
    )
    parser.add_argument(
        "--all-events", action="store_true", help="also list chain-line and timeline events"
    )


# --- codes ----------------------------------------------------------------------------------------


def _codes(console: Console, label: str | None) -> int:
    if label is None:
        table = Table(title="Smart BMS 12-200 codes (manual App. B)", title_justify="left")
        table.add_column("Code", no_wrap=True)
        table.add_column("Kind")
        table.add_column("Name")
        table.add_column("Cause")
        for info in CODE_TABLE.values():
            style = _SEVERITY_STYLE[info.severity]
            table.add_row(
                Text(info.code.value, style=style), info.severity.value, info.name, info.cause
            )
        console.print(table)
        console.print("Run [bold]smartbms codes CODE[/bold] for the remedy.")
        return 0
    try:
        code = lookup_code(label)
    except KeyError as error:
        _say_error(console, str(error.args[0]))
        return 2
    info = code.info
    console.print(
        Text(f"{code.value}  {info.name}", style=_SEVERITY_STYLE[info.severity]),
        Text(f"({info.severity.value})"),
    )
    console.print(f"\n[bold]Cause[/bold]\n{info.cause}\n\n[bold]Remedy[/bold]")
    for number, step in enumerate(info.remedy, start=1):
        console.print(f"{number}. {step}")
    if not info.user_correctable:
        console.print("\n[red]Not user-correctable: the Smart BMS must be replaced.[/red]")
    return 0


# --- demo -----------------------------------------------------------------------------------------

_ENGINE_OFF = {"ab_voltage_v": 12.6, "alternator_fuse_drop_v": 0.0}
_ENGINE_ON = {"ab_voltage_v": 14.4, "alternator_fuse_drop_v": 0.045}

_DEMO_SCRIPT: tuple[tuple[float, str, dict[str, object]], ...] = (
    (0.0, "Parked: starter battery 12.6 V, bank 13.2 V", {"bank_voltage_v": 13.2, **_ENGINE_OFF}),
    (60.0, "Engine starts: alternator at 14.4 V", {**_ENGINE_ON, "bank_voltage_v": 13.4}),
    (1800.0, "The bank reaches the 14.2 V charge limit", {"bank_voltage_v": 14.2}),
    (1820.0, "The bank settles to 13.6 V", {"bank_voltage_v": 13.6}),
    (2400.0, "Engine stops", {**_ENGINE_OFF, "bank_voltage_v": 13.3}),
    (2500.0, "Inverter on System+: -120 A", {"system_plus_current_a": -120.0}),
    (
        9000.0,
        "A cell reaches 3.1 V: the chain raises its pre-alarm",
        {"bank_voltage_v": 12.4, "chain_prealarm": True},
    ),
    (
        9010.0,
        "A cell reaches 2.8 V: the chain withdraws allowed-to-discharge",
        {"bank_voltage_v": 11.2, "allowed_to_discharge": False, "system_plus_current_a": 0.0},
    ),
    (
        10800.0,
        "Shore power: the MultiPlus charges through System+ at 60 A",
        {"bank_voltage_v": 13.1, "system_plus_current_a": 60.0},
    ),
    (
        10900.0,
        "Cells recover: discharge allowed again, pre-alarm gone",
        {"allowed_to_discharge": True, "chain_prealarm": False, "bank_voltage_v": 13.3},
    ),
    (
        12000.0,
        "A short circuit on System+: -900 A",
        {"system_plus_current_a": -900.0},
    ),
    (12000.2, "The short is gone", {"system_plus_current_a": 0.0}),
    (12100.0, "End of the demo", {}),
)


def _demo(console: Console) -> int:
    """Drive the controller through a scripted day, deadline to deadline, and show its events."""
    controller = Controller(Settings(fuse_type=FuseType.MEGA_100A))
    inputs = Inputs()
    console.print(
        "[bold]smartbms demo[/bold]: a scripted day through the Smart BMS 12-200 controller "
        "(100 A fuse installed and set).\nThe controller is stepped at each script change and at "
        "every deadline it asks for, nothing in between.\n"
    )
    steps = 0
    last: Outputs | None = None
    script = list(_DEMO_SCRIPT)
    for index, (t_s, what, changes) in enumerate(script):
        inputs = dataclasses.replace(inputs, **changes)  # type: ignore[arg-type]
        console.print(f"[dim]{clock_text(t_s, tenths=True)}[/dim]  [bold cyan]{what}[/bold cyan]")
        end_s = script[index + 1][0] if index + 1 < len(script) else t_s
        now_s = t_s
        while True:
            result = controller.step(inputs, now_s)
            steps += 1
            last = result.outputs
            for event in result.events:
                console.print(_event_line(event))
            if result.next_deadline_s >= end_s:
                break
            now_s = result.next_deadline_s
    if last is not None:
        console.print()
        console.print(_led_row(last))
    console.print(
        f"\n{steps} controller steps covered {clock_text(script[-1][0], tenths=True)} of device "
        "time. "
        "Run [bold]smartbms codes[/bold] to read what each code means."
    )
    return 0


# --- simulate -------------------------------------------------------------------------------------

_QUIET_EVENTS = frozenset({"ChainSignalChanged", "TimelineApplied", "FaultInjected"})
_DEMO_FILE = "manual-figure-1.toml"


def _demo_scenario() -> Path:
    """The bundled Figure 1 example: packaged with the wheel, or the checkout's examples/."""
    packaged = resources.files("smartbms").joinpath("examples", _DEMO_FILE)
    if packaged.is_file():
        return Path(str(packaged))
    return Path(__file__).resolve().parents[2] / "examples" / _DEMO_FILE


MAX_FIXED_STEPS = 100_000_000
"""`--fixed-step` may imply at most this many steps (hours of computing): more cannot be meant."""
EXIT_INTERRUPTED = 130
"""The shell's status for a command stopped by Ctrl-C (128 + SIGINT)."""


def _say_error(console: Console, text: str) -> None:
    """One problem on one line; user text (paths, names, keys) is never read as markup."""
    console.print(Text.assemble(("error:", "red"), " ", text), soft_wrap=True)


def _simulate(
    console: Console, scenario_path: Path, out: Path | None, args: argparse.Namespace
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
            _say_error(console, paragraph)
        return 2
    out_dir = out if out is not None else Path("out") / scenario_path.stem
    problem = _fixed_step_problem(args.fixed_step, scenario.duration_s)
    if problem:
        _say_error(console, problem)
        return 2
    section = scenario.scenario
    try:
        needed = trace_bytes_estimate(
            section.duration_s,
            section.trace_resolution_s,
            scenario.battery_count,
            args.trace_format,
        )
        check_free_space(_existing(out_dir), needed)
        writer = RunWriter(
            out_dir, scenario.battery_count, section.trace_resolution_s, args.trace_format
        )
    except (OutputError, RuntimeError) as error:  # RuntimeError: no pyarrow for Parquet
        _say_error(console, str(error))
        return 2
    except OSError as error:
        _say_error(console, f"cannot write results to {out_dir}: {error.strerror or error}")
        return 2
    try:
        return _run_and_write(console, scenario, writer, args)
    except OSError as error:
        writer.abort()
        where = f" ({error.filename})" if error.filename else ""
        _say_error(
            console,
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


def _fixed_step_problem(fixed_step: float | None, duration_s: float) -> str:
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
    console: Console, scenario: "Scenario", writer: "RunWriter", args: argparse.Namespace
) -> int:
    """Run the scenario into `writer`, write the report and tell the user; the exit status."""
    from smartbms.sim.report import write_report  # noqa: PLC0415  # heavy: matplotlib
    from smartbms.sim.results import event_record  # noqa: PLC0415
    from smartbms.sim.runner import AdaptiveStep, FixedStep, Simulation  # noqa: PLC0415
    from smartbms.sim.verdicts import verdicts  # noqa: PLC0415

    stepper = FixedStep(args.fixed_step) if args.fixed_step else AdaptiveStep()
    simulation = Simulation(scenario, stepper=stepper)
    heading = Text(scenario.scenario.name, style="bold")
    heading.append(
        f"  {duration_text(scenario.duration_s)} simulated, {stepper.name} stepper", style="dim"
    )
    console.print(heading)
    records: list[dict[str, object]] = []

    def on_event(event: Event) -> None:
        writer.on_event(event)
        records.append(event_record(event))
        if args.all_events or event.kind not in _QUIET_EVENTS:
            console.print(_event_line(event))

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
        result = simulation.run(
            on_event=on_event,
            on_step=writer.on_step,
            on_progress=lambda fraction: progress.update(task, completed=fraction),
        )
    writer.finish(result, keep_marker=True)
    summary = result.summary
    report = write_report(
        writer.out_dir,
        title=scenario.scenario.name,
        description=scenario.scenario.description,
        summary=summary,
        trace_path=writer.trace_path,
        events=records,
    )
    writer.seal(result)
    console.print()
    console.print(_verdict_table(verdicts(summary, records)))
    pace = ""
    if summary.status == "complete":
        pace = f" ({scenario.duration_s / max(result.wall_s, 1e-9):,.0f} x real time)"
    console.print(f"\n{result.steps} steps in {result.wall_s:.2f} s{pace}.")
    console.print(Text.assemble("Report:  ", (str(report), "bold")))
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


_STATUS_STYLE = {"ok": "green", "warning": "yellow", "problem": "bold red", "info": "dim"}


def _verdict_table(found: Sequence["Verdict"]) -> Table:
    """The verdicts as the report's cards say them: status in words and colour, value, detail."""
    table = Table(title="Verdicts", title_justify="left", show_header=False)
    table.add_column("what")
    table.add_column("value")
    table.add_column("detail", style="dim")
    for verdict in found:
        style = _STATUS_STYLE[verdict.status]
        value = Text(verdict.value, style=f"bold {style}")
        value.append(f"  {verdict.status_text}", style=style)
        table.add_row(Text(verdict.title), value, Text(verdict.detail))
    return table


# --- schema ---------------------------------------------------------------------------------------


def _schema(what: str) -> int:
    """Print a result file's JSON Schema (committed under docs/schemas/)."""
    from smartbms.sim.summary import Summary  # noqa: PLC0415

    if what != "summary":  # argparse's choices keep other names out
        return 2
    sys.stdout.write(schema_text(Summary.json_schema()))
    return 0


def schema_text(schema: dict[str, object]) -> str:
    """A schema as the committed file has it: two-space indents, keys in order, a final newline."""
    return json.dumps(schema, indent=2, ensure_ascii=False) + "\n"


def _event_line(event: Event) -> Text:
    code = event.code
    style = _SEVERITY_STYLE[code.info.severity] if code is not None else "green"
    details = [
        f"{field.name}={_plain(getattr(event, field.name))}"
        for field in dataclasses.fields(event)
        if field.name != "t_s"
    ]
    text = Text(f"{clock_text(event.t_s, tenths=True)}    ")
    text.append(event.kind, style=style)
    if details:
        text.append("  " + " ".join(details), style="dim")
    return text


def _plain(value: object) -> str:
    if isinstance(value, Code):
        return value.value
    enum_value = getattr(value, "value", None)
    if isinstance(enum_value, str):
        return enum_value
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def _led_row(outputs: Outputs) -> Text:
    text = Text("LEDs: ")
    for name, colour, mode in zip(LED_NAMES, LED_COLOURS, outputs.leds.as_tuple(), strict=True):
        mark = {LedMode.ON: "●", LedMode.BLINK: "◐", LedMode.OFF: "○"}[mode]
        text.append(f"{mark} {name}  ", style=colour if mode is not LedMode.OFF else "dim")
    return text


if __name__ == "__main__":
    sys.exit(main())
