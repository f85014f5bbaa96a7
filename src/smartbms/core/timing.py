"""One way to say "this must hold for N seconds in a row": the debounce behind every delay.

The BMS and the devices around it are full of such delays: V_AB above 13 V for 1 s, the bank
0.5 V below the charge limit for 10 s, 30 s of pre-alarm before load disconnect, a System+
overload for 60 s, a BatteryProtect's 90 s. Each is the same small machine: remember when the
condition started holding, forget it the moment it stops, fire when it has held long enough.
`Hold` is that machine as an immutable value, so a controller or a device keeps one per delay,
replaces it on each look, and can say exactly when it will fire (a deadline for the stepper or a
live loop) without a thread or a clock.
"""

import dataclasses
import math

_NEVER = math.inf


@dataclasses.dataclass(frozen=True, slots=True)
class Hold:
    """A condition that must hold for `hold_s` seconds without a break.

    `since_s` is when it started holding (None: it does not hold now). `look` returns the value
    after one more look; it returns `self` when nothing changed, so a quiet look allocates
    nothing.
    """

    hold_s: float
    since_s: float | None = None

    def look(self, holding: bool, now_s: float) -> "Hold":
        """The timer after seeing the condition `holding` (or not) at `now_s`."""
        if holding:
            if self.since_s is None:
                return Hold(self.hold_s, now_s)
            return self
        if self.since_s is None:
            return self
        return Hold(self.hold_s, None)

    def start(self, now_s: float) -> "Hold":
        """Start it at `now_s` if it is not running (the condition began)."""
        return self if self.since_s is not None else Hold(self.hold_s, now_s)

    def stop(self) -> "Hold":
        """Forget it (the condition broke, or what it guarded fired)."""
        return self if self.since_s is None else Hold(self.hold_s, None)

    @property
    def running(self) -> bool:
        """The condition holds now and the time is counting."""
        return self.since_s is not None

    @property
    def due_s(self) -> float:
        """When it fires if the condition keeps holding; `math.inf` when not running."""
        return _NEVER if self.since_s is None else self.since_s + self.hold_s

    def done(self, now_s: float, slack_s: float = 0.0) -> bool:
        """It has held for its whole time at `now_s` (with `slack_s` for rounding of sums)."""
        return self.since_s is not None and now_s + slack_s >= self.since_s + self.hold_s
