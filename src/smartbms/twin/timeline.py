"""A scenario's timeline as timed commands: the file's vocabulary is the twin's.

Every `[[timeline]]` entry names a command by its `action` (or `fault`), with the same field
names, so compiling is a lookup; the only reshaping is a single `setting` entry, which becomes a
one-setting `ChangeSettings`.
"""

from collections.abc import Iterator

from smartbms import scenario as sc
from smartbms.twin.commands import COMMAND_TYPES, ChangeSettings, Command

_NOT_FIELDS = frozenset({"at_s", "action", "fault", "duration"})


def command_of(entry: sc.TimelineBase) -> Command:
    """The command a timeline entry stands for."""
    if isinstance(entry, sc.SettingChange):
        return ChangeSettings(((entry.name, entry.value),))
    name = entry.fault if isinstance(entry, sc.FaultBase) else entry.action  # type: ignore[attr-defined]
    fields = {k: v for k, v in entry.model_dump().items() if k not in _NOT_FIELDS}
    if isinstance(entry, sc.SetDevice):
        fields = {"device": entry.device, **entry.changes()}
    return COMMAND_TYPES[name](**fields)


def timed_commands(scenario: sc.Scenario) -> Iterator[tuple[float, Command]]:
    """The scenario's commands in time order, repeats of a periodic timeline included (lazily)."""
    compiled: dict[int, Command] = {}  # a periodic timeline repeats the same entry objects
    for at_s, entry in scenario.timeline_occurrences():
        command = compiled.get(id(entry))
        if command is None:
            command = compiled[id(entry)] = command_of(entry)
        yield at_s, command
