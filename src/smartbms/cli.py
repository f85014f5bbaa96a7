"""The `smartbms` command: look up codes, watch the controller at work.

Every user error ends in one clear sentence and exit status 2; no traceback reaches a user.
"""

import argparse
import dataclasses
import sys
from collections.abc import Sequence

from rich.console import Console
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

_SEVERITY_STYLE = {Severity.ERROR: "bold red", Severity.ALARM: "red", Severity.WARNING: "yellow"}


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    parser = _parser()
    args = parser.parse_args(argv)
    console = Console(highlight=False)
    try:
        if args.command == "codes":
            return _codes(console, args.code)
        if args.command == "demo":
            return _demo(console)
    except BrokenPipeError:  # e.g. `smartbms codes | head`
        return 0
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
    commands.add_parser("demo", help="run a scripted day through the controller and show it")
    return parser


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
        console.print(f"[red]error:[/red] {error.args[0]}")
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
        console.print(f"[dim]{_clock(t_s)}[/dim]  [bold cyan]{what}[/bold cyan]")
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
        f"\n{steps} controller steps covered {_clock(script[-1][0])} of device time. "
        "Run [bold]smartbms codes[/bold] to read what each code means."
    )
    return 0


def _clock(t_s: float) -> str:
    whole = int(t_s)
    return f"{whole // 3600:02d}:{whole % 3600 // 60:02d}:{whole % 60:02d}.{int(t_s * 10) % 10}"


def _event_line(event: Event) -> Text:
    code = event.code
    style = _SEVERITY_STYLE[code.info.severity] if code is not None else "green"
    details = [
        f"{field.name}={_plain(getattr(event, field.name))}"
        for field in dataclasses.fields(event)
        if field.name != "t_s"
    ]
    text = Text(f"{_clock(event.t_s)}    ")
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
