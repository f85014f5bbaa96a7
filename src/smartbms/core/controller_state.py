"""The controller's whole memory as one frozen value: what a snapshot saves and a restore loads.

Every field is listed by name (no reflection over the controller's slots), so the state is
plain data a reader can trust: picklable, safe to hand to another thread or process, cheap to
keep, and a twin can fork from it. `tests/unit/test_controller_state.py` checks that the list
matches the controller's slots, so a new slot cannot be forgotten here.
"""

import dataclasses

from smartbms.core.decision import Decision
from smartbms.core.events import PreAlarmCause
from smartbms.core.settings import Settings
from smartbms.core.signals import Outputs
from smartbms.core.timing import Hold
from smartbms.core.validate import MeasurementWatch


@dataclasses.dataclass(frozen=True, slots=True)
class ControllerState:
    """Everything a `Controller` remembers between steps; restoring it continues identically.

    The first group survives a power cycle; the second is what a power-up forgets (timers,
    latches, trip history). Timers are `Hold` values; the other instants are seconds on the
    caller's clock.
    """

    # --- kept across a power cycle
    settings: Settings
    config_fault: bool
    """E-B31 is latched (ERR-2)."""
    reset_done_at_s: float | None
    """When a factory reset was done while E-B31 was latched (the first half of its recovery)."""
    last_now_s: float
    """The last step's time: a step may not go back before it."""
    powered: bool
    power_lost_at_s: float | None
    """When supply was lost (None while powered): the outage's length is reported and judged."""
    prealarm_damaged: bool
    """The pre-alarm output was overloaded and stays floating (OUT-9)."""
    measurements: MeasurementWatch
    """The failed measurements and their recovery timers (a power-up restarts the timers)."""
    previous: Outputs
    """The last outputs: events are differences against them."""
    previous_decision: Decision | None
    """The decision behind `previous` (None: rebuild the outputs on the next step)."""

    # --- forgotten at power-up
    system_on: bool
    ab_enabled: bool
    ab_ready: Hold
    """The AB port's conditions have held for 1 s (ALT-1)."""
    charge_limited: bool
    """The charge limit is latched (ALT-5)."""
    charge_release: Hold
    """The bank has stayed 0.5 V below the charge limit for 10 s (ALT-5)."""
    input_over_voltage: bool
    over_temperature: bool
    alarm_machine_running: bool
    """The pre-alarm machine ran on the previous step (False: REM-4 applies at its start)."""
    load_disconnected: bool
    prealarm: Hold
    """The pre-alarm is up; when it has lasted 30 s the loads may be disconnected (OUT-4)."""
    prealarm_cause: PreAlarmCause
    blink_for_s: float | None
    """The pre-alarm start the blink phase below belongs to (OUT-6)."""
    blink_high: bool
    blink_edge_s: float
    """When the blinking pre-alarm output next flips."""
    sp_tripped: bool
    sp_locked_out: bool
    sp_retry: Hold
    """Since the System+ trip: the port retries after 10 s (SP-5)."""
    sp_retries_s: tuple[float, ...]
    """When System+ retried, within the retry window."""
    peak: Hold
    """System+ discharge above the peak current (SP-5)."""
    overload: Hold
    """System+ current above the continuous rating (SP-5)."""
