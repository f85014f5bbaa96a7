"""One BMS event as one line of text, the same in every command."""

import dataclasses
from collections.abc import Callable

from rich.text import Text

from smartbms.cli.codes import SEVERITY_STYLE
from smartbms.core import Code
from smartbms.core.events import Event
from smartbms.core.units import clock_text


def event_line(event: Event, when: Callable[[float], str] | None = None) -> Text:
    """The event's time, kind (coloured by severity) and its fields as name=value.

    `when` writes the time (a run's wall clock, as its report does); default: since the start.
    """
    code = event.code
    style = SEVERITY_STYLE[code.info.severity] if code is not None else "green"
    details = [
        f"{field.name}={_plain(getattr(event, field.name))}"
        for field in dataclasses.fields(event)
        if field.name != "t_s"
    ]
    stamp = when(event.t_s) if when is not None else clock_text(event.t_s, tenths=True)
    text = Text(f"{stamp}    ")
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
