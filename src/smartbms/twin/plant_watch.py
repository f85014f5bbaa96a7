"""The plant's own events at the end of a step: chain-signal changes, damage, overloads.

The engine keeps the last seen chain lines and damage flags (they are part of its saved state);
these helpers compare them with the plant after a step and say what happened in between.
"""

from collections.abc import Iterator

from smartbms.core.events import Event
from smartbms.plant.events import BatteryDamaged, BatteryOverloaded, ChainSignalChanged
from smartbms.plant.system import TwelveVoltSystem

CHAIN_LINES = ("allowed to charge", "allowed to discharge", "pre-alarm")

ChainState = tuple[tuple[bool, bool, bool], ...]


def chain_lines(system: TwelveVoltSystem) -> ChainState:
    """Each battery's (allowed to charge, allowed to discharge, pre-alarm) lines now."""
    return tuple(
        (b.allowed_to_charge, b.allowed_to_discharge, b.prealarm_line) for b in system.batteries
    )


def damage_flags(system: TwelveVoltSystem) -> tuple[bool, ...]:
    """Which batteries are damaged now."""
    return tuple(b.damaged for b in system.batteries)


def chain_events(old: ChainState, new: ChainState, t: float) -> Iterator[Event]:
    """One event per chain line that differs between two looks."""
    for index, (before, after) in enumerate(zip(old, new, strict=True)):
        for name, was, now in zip(CHAIN_LINES, before, after, strict=True):
            if was != now:
                yield ChainSignalChanged(t, index + 1, name, now)


def battery_events(
    system: TwelveVoltSystem, damaged: list[bool], t_from: float, t: float
) -> Iterator[Event]:
    """Newly damaged batteries (marks them in `damaged`) and overloads found in (t_from, t]."""
    for index, battery in enumerate(system.batteries):
        if battery.damaged and not damaged[index]:
            damaged[index] = True
            at = battery.damaged_at_s if battery.damaged_at_s is not None else t
            yield BatteryDamaged(at, index + 1)
        overload = battery.overload_within(t_from, t)  # found in this step
        if overload is not None:
            yield BatteryOverloaded(overload[0], index + 1, *overload[1:])
