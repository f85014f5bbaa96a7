"""An inverter's own low-battery monitor, as Victron's Phoenix and VE.Bus inverters run it.

Phoenix Inverter manual §4.3 "Protections and automatic restarts" (and the Multi RS manual
§5.3.2, the same words) says: the inverter shuts down when its DC input drops below the low
battery shutdown level; after a minimum delay of 30 s it restarts if the voltage has risen above
the restart level; after three restarts followed by a low-battery shutdown within 30 s of
restarting it stops retrying, and then switches on only when switched off and on, or once the
battery has risen above the charge-detect level and stayed there for 30 s. The 12 V defaults
(Phoenix Inverter VE.Direct manual, "Low battery alarm and charge detect settings"): shutdown
9.3 V, restart 10.9 V, charge detect 14.0 V.

So an inverter on a sagging connection cannot flip every few milliseconds: each restart waits
30 s above the restart level, and three quick failures stop it until the bank is recharged.
Being switched off clears all of it; losing its DC supply (a blocked System+ port) while shut
down clears the retries (`power_lost`).
"""

import enum
import math
from typing import Final, NamedTuple

from smartbms.core.timing import Hold

SHUTDOWN_V: Final = 9.3
"""Phoenix Inverter VE.Direct manual: 12 V low battery shutdown, default 9.3 V."""
RESTART_V: Final = 10.9
"""Phoenix Inverter VE.Direct manual: 12 V low battery restart & alarm, default 10.9 V."""
CHARGE_DETECT_V: Final = 14.0
"""Phoenix Inverter VE.Direct manual: 12 V charge detect, default 14 V."""
RESTART_DELAY_S: Final = 30.0
"""Phoenix Inverter manual §4.3: restart after a minimum delay of 30 s above the restart level."""
RETRY_WINDOW_S: Final = 30.0
"""Phoenix Inverter manual §4.3: a shutdown within 30 s of a restart counts as a failed retry."""
MAX_RESTARTS: Final = 3
"""Phoenix Inverter manual §4.3: after three restarts followed by a quick shutdown it stays off."""
CHARGE_DETECT_DELAY_S: Final = 30.0
"""Phoenix Inverter manual §4.3: on again once above charge detect for 30 s."""


class LowBatteryMode(enum.Enum):
    """Where the monitor stands."""

    RUNNING = "running"
    SHUTDOWN = "shutdown"
    """Shut down; restarts after 30 s above the restart level."""
    STOPPED = "stopped"
    """Stopped retrying; restarts after 30 s above the charge-detect level."""


class LowBatteryState(NamedTuple):
    """The monitor's state (see `LowBatteryMonitor.save_state`)."""

    mode: LowBatteryMode
    alarm: bool
    restarts: int
    last_restart_s: float
    restart: Hold
    charge_detect: Hold


class LowBatteryMonitor:
    """Shutdown, delayed restart, three retries and charge detect (module docstring)."""

    def __init__(
        self,
        *,
        shutdown_v: float = SHUTDOWN_V,
        restart_v: float = RESTART_V,
        charge_detect_v: float = CHARGE_DETECT_V,
        restart_delay_s: float = RESTART_DELAY_S,
    ) -> None:
        if not 0.0 < shutdown_v < restart_v <= charge_detect_v:
            msg = "need 0 < shutdown < restart <= charge-detect voltage"
            raise ValueError(msg)
        if not (math.isfinite(restart_delay_s) and restart_delay_s >= 0.0):
            msg = f"restart delay must be a finite number >= 0, got {restart_delay_s!r}"
            raise ValueError(msg)
        self.shutdown_v = float(shutdown_v)
        self.restart_v = float(restart_v)
        self.charge_detect_v = float(charge_detect_v)
        self.restart_delay_s = float(restart_delay_s)
        self.mode = LowBatteryMode.RUNNING
        self.alarm = False
        """Its low-battery alarm: shut down and still below the restart level ("low battery
        restart & alarm" level). It also marks, for the stepper, the instant the bank recovers
        after a shutdown that leaves no timer running (one that stopped the retries)."""
        self.restarts = 0
        """Automatic restarts since the inverter last ran for more than the retry window."""
        self.last_restart_s = -math.inf
        self._restart = Hold(self.restart_delay_s)
        self._charge_detect = Hold(CHARGE_DETECT_DELAY_S)

    @property
    def shut_down(self) -> bool:
        """The monitor keeps the inverter off now."""
        return self.mode is not LowBatteryMode.RUNNING

    def reset(self) -> None:
        """Switched off: it starts afresh."""
        self.mode = LowBatteryMode.RUNNING
        self.alarm = False
        self.restarts = 0
        self.last_restart_s = -math.inf
        self._restart = self._restart.stop()
        self._charge_detect = self._charge_detect.stop()

    def power_lost(self) -> None:
        """Its DC supply is gone while it is shut down: it boots afresh when the supply returns.

        Decided: booting keeps it off for the restart delay (it needs 30 s above the restart
        level like any restart), but forgets the retries, as a power cycle does.
        """
        self.reset()
        self.mode = LowBatteryMode.SHUTDOWN
        self.alarm = True

    def step(self, now_s: float, end_s: float, bus_voltage_v: float, *, inverting: bool) -> None:
        """Judge a step from `now_s` to `end_s` held at `bus_voltage_v`.

        `inverting`: the inverter would invert now (switched on, remote on, no shore power);
        only then can its load pull it into a shutdown.
        """
        if self.mode is LowBatteryMode.RUNNING:
            if inverting and bus_voltage_v < self.shutdown_v:
                self._shut_down(now_s)
        elif self.mode is LowBatteryMode.SHUTDOWN:
            self._restart = self._restart.look(bus_voltage_v >= self.restart_v, now_s)
            if self._restart.done(end_s, 1e-9):
                self.last_restart_s = self._restart.due_s
                self.restarts += 1
                self.mode = LowBatteryMode.RUNNING
                self._restart = self._restart.stop()
        elif self.mode is LowBatteryMode.STOPPED:
            self._charge_detect = self._charge_detect.look(
                bus_voltage_v >= self.charge_detect_v, now_s
            )
            if self._charge_detect.done(end_s, 1e-9):
                self.reset()
        self.alarm = self.shut_down and bus_voltage_v < self.restart_v

    def _shut_down(self, at_s: float) -> None:
        quick = at_s - self.last_restart_s <= RETRY_WINDOW_S
        if not quick:
            self.restarts = 0
        if quick and self.restarts >= MAX_RESTARTS:
            self.mode = LowBatteryMode.STOPPED
        else:
            self.mode = LowBatteryMode.SHUTDOWN

    def next_change_s(self) -> float:
        """When a running delay ends (restart or charge detect)."""
        return min(self._restart.due_s, self._charge_detect.due_s)

    def save_state(self) -> LowBatteryState:
        """Mode, retry count and delays, as a frozen value."""
        return LowBatteryState(
            self.mode,
            self.alarm,
            self.restarts,
            self.last_restart_s,
            self._restart,
            self._charge_detect,
        )

    def load_state(self, state: LowBatteryState) -> None:
        """Put back what `save_state` gave."""
        (
            self.mode,
            self.alarm,
            self.restarts,
            self.last_restart_s,
            self._restart,
            self._charge_detect,
        ) = state

    def latches(self) -> tuple[object, ...]:
        """Mode, retry count and which delays run (not their times)."""
        return (
            self.mode,
            self.alarm,
            self.restarts,
            self._restart.running,
            self._charge_detect.running,
        )
