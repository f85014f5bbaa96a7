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
class BatteryOverloaded(Event):
    """A battery ran above its maximum continuous current for more than 10 s (issue 13).

    Reported once per stretch above the rating, at the moment the 10 s had passed.
    """

    battery: int
    """1-based position in the bank."""
    current_a: float
    """Its current then (positive: charging)."""
    rating_a: float
    """Its maximum continuous current in that direction (the data sheet's)."""
    duration_s: float
    """How long it had run above the rating when reported (the summary follows it further)."""


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
