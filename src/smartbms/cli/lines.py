"""One BMS event as one line of text, the same in every command."""

import dataclasses

from rich.text import Text

from smartbms.cli.codes import SEVERITY_STYLE
from smartbms.core import Code
from smartbms.core.events import Event
from smartbms.core.units import clock_text


def event_line(event: Event) -> Text:
    """The event's time, kind (coloured by severity) and its fields as name=value."""
    code = event.code
    style = SEVERITY_STYLE[code.info.severity] if code is not None else "green"
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
