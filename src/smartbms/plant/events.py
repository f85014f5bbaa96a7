"""What the plant and the timeline report, in the same shape as the controller's events.

They subclass the core's `Event`, so one writer logs both (`t_s`, `event`, `code`, details).
"""

import dataclasses

from smartbms.core.events import Event


@dataclasses.dataclass(frozen=True, slots=True)
class BatteryDamaged(Event):
    """A battery's last reserve is used: deep-discharge damage (PLT-3)."""

    battery: int
    """1-based position in the bank."""


@dataclasses.dataclass(frozen=True, slots=True)
class AlternatorOverheatRisk(Event):
    """The alternator has run at maximum output for more than 5 minutes (PLT-5)."""


@dataclasses.dataclass(frozen=True, slots=True)
class TimelineApplied(Event):
    """A timeline entry took effect; `action` says what (e.g. "engine-start")."""

    action: str
    detail: str


@dataclasses.dataclass(frozen=True, slots=True)
class FaultInjected(Event):
    """An injected fault took effect (PLT-12)."""

    fault: str
    detail: str


@dataclasses.dataclass(frozen=True, slots=True)
class ChainSignalChanged(Event):
    """One of the chain lines changed at a battery (for the record; the BMS sees the AND)."""

    battery: int
    line: str
    """"allowed to charge", "allowed to discharge" or "pre-alarm"."""
    active: bool
