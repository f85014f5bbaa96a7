"""`smartbms controller-demo`: the controller alone, stepped through a scripted day.

It shows the sans-IO core at work: the script changes inputs, the controller says when it next
needs waking, and nothing else is stepped.
"""

import dataclasses

import click
from rich.text import Text

from smartbms.cli.console import make_console
from smartbms.cli.lines import event_line
from smartbms.core import Controller, FuseType, Inputs, LedMode, Settings
from smartbms.core.signals import LED_COLOURS, LED_NAMES, Outputs
from smartbms.core.units import clock_text

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


@click.command("controller-demo")
def controller_demo() -> int:
    """Drive the controller alone through a scripted day, deadline to deadline."""
    console = make_console()
    controller = Controller(Settings(fuse_type=FuseType.MEGA_100A))
    inputs = Inputs()
    console.print(
        "[bold]smartbms controller-demo[/bold]: a scripted day through the Smart BMS 12-200 "
        "controller "
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
                console.print(event_line(event))
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


def _led_row(outputs: Outputs) -> Text:
    text = Text("LEDs: ")
    for name, colour, mode in zip(LED_NAMES, LED_COLOURS, outputs.leds.as_tuple(), strict=True):
        mark = {LedMode.ON: "●", LedMode.BLINK: "◐", LedMode.OFF: "○"}[mode]
        text.append(f"{mark} {name}  ", style=colour if mode is not LedMode.OFF else "dim")
    return text
