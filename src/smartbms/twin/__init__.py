"""The open twin: a Smart BMS 12-200 and its 12 V system that anyone can drive.

`Twin.from_scenario(path)` builds one; `advance_to`, `apply`, `state`, `subscribe`, `snapshot`
and `Twin.restore` are the whole seam that the batch simulator, the web app, the Instant
Readout broadcaster and integrations use. Commands are in `smartbms.twin.commands`, the frozen
state in `smartbms.twin.state`, clocks in `smartbms.twin.clock`.
"""

from smartbms.twin.clock import Clock, RealtimeClock, VirtualClock
from smartbms.twin.commands import Command, CommandError
from smartbms.twin.state import TwinState
from smartbms.twin.stepper import AdaptiveStep, FixedStep, Stepper
from smartbms.twin.twin import Subscription, Twin, TwinSnapshot

__all__ = [
    "AdaptiveStep",
    "Clock",
    "Command",
    "CommandError",
    "FixedStep",
    "RealtimeClock",
    "Stepper",
    "Subscription",
    "Twin",
    "TwinSnapshot",
    "TwinState",
    "VirtualClock",
]
