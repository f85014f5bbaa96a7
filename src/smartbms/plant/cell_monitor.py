"""When the battery's own cell monitor lets a voltage alarm go: hysteresis, then a delay.

The Lithium Battery Smart withdraws ATD at cell under-voltage and clears it only once every cell
is back at 3.2 V (Lynx Smart BMS manual §9.3: "the cell voltage of all cells need to be increased
to 3.2V before the battery clears the under voltage alarm"); the pre-alarm and the over-voltage
alarm work the same way with their own levels. A cell's voltage under load is its rest voltage
minus its resistance times the current, so cutting the load lifts it at once, cold cells by
several tenths of a volt: with the level alone the alarm clears the moment the load it stopped
is gone, the load comes back, and the alarm trips again.

Decided (Victron publishes no timing; docs/decisions.md): an alarm trips at once and clears only
after its release condition has held for `RELEASE_DELAY_S` without a break, long enough for the
cells' polarisation to relax, so the cleared state reflects the cells, not the last load step.
"""

from typing import Final, NamedTuple

from smartbms.core.timing import Hold

RELEASE_DELAY_S: Final = 60.0
"""Decided: a voltage alarm clears after 60 s at its release level (LFP polarisation relaxes
within about a minute after a load step)."""
SLACK_S: Final = 1e-9
"""Float slack when the delay's end is compared with the end of a step."""


def hold_alarm(
    alarm: bool, release: Hold, *, tripped: bool, clear: bool, now_s: float
) -> tuple[bool, Hold]:
    """The alarm and its release timer after one look at `now_s`.

    `tripped`: at or past the alarm level (the alarm holds, the release restarts); `clear`: at
    or past the release level (the release delay runs). The alarm clears when it has run out.
    """
    if tripped:
        return True, release.stop()
    if not alarm:
        return False, release.stop()
    release = release.look(clear, now_s)
    if release.done(now_s, SLACK_S):
        return False, release.stop()
    return True, release


class ReleaseTimers(NamedTuple):
    """The release delays of the voltage alarms (part of the battery's state)."""

    over_voltage: Hold = Hold(RELEASE_DELAY_S)
    under_voltage: Hold = Hold(RELEASE_DELAY_S)
    prealarm: Hold = Hold(RELEASE_DELAY_S)

    def due_s(self) -> float:
        """When the first running release delay ends (`math.inf`: none runs)."""
        return min(self.over_voltage.due_s, self.under_voltage.due_s, self.prealarm.due_s)

    def running(self) -> tuple[bool, bool, bool]:
        """Which delays run (for the stepper: a delay starting is a crossing)."""
        return (self.over_voltage.running, self.under_voltage.running, self.prealarm.running)
