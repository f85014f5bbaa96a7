"""A Victron charger's algorithm: bulk, absorption, float, and when it starts a new cycle.

The current is clip((V_set - V) / R_cv, 0, limit): a droop-type CV stage, continuous for the
solver, reaching the charger's rating 50 mV below the set point. The stages follow Victron's
manuals:

- **Bulk** at the charger's limit until it reaches its absorption voltage (the CV limit binds).
- **Absorption** for its set time. The timer counts only while the charger holds the voltage;
  it pauses while a load keeps it at its current limit (SmartSolar MPPT manual §3.8,
  "Pausing of the absorption time counter"). It ends early when the current falls below the
  tail current while the charger holds the voltage (MPPT manual: "tail current", 1 A default
  on the 75/10-100/20; not because the source is weak but because the battery is full), held
  for a minute (decided).
- **Float** at the float voltage, until a re-bulk condition starts a new cycle:
  `VOLTAGE`: the battery below float minus the re-bulk offset (0.1 V) for one minute
  (SmartSolar MPPT manual, "Re-bulk voltage offset"); `CURRENT`: the charger at its maximum
  current for four seconds (Blue Smart IP22 manual, "Commencing a new charge cycle", the
  default re-bulk method).
- Losing the source (shore power, sun, its remote) restarts at bulk.
"""

import enum
import math
from typing import Final, NamedTuple, TypedDict

from smartbms.core.timing import Hold

ABSORPTION_V: Final = 14.2
"""Victron's LiFePO4 charge preset, equal to the BMS's default charge limit (manual §3.5.1d)."""
FLOAT_V: Final = 13.5
"""Victron's LiFePO4 float preset: holds a full bank without pushing the cells."""
ABSORPTION_TIME_H: Final = 1.0
"""Victron's fixed LiFePO4 absorption time (lithium needs no long absorption)."""
CV_BAND_V: Final = 0.05
"""Chosen: the CV stage as a droop from 0 A at the set point to the charger's rated current
50 mV below it (a 30 A charger: 1.7 mohm). Continuous, so the solver never sees a step, and as
tight as a real charger's regulation: a load that pulls the bus 0.05 V under the set point gets
the charger's full current, as it would from a Victron charger, and re-bulks it."""
REBULK_OFFSET_V: Final = 0.1
"""SmartSolar MPPT manual, "Re-bulk voltage offset": 0.1 V below float (13.8 - 0.1 in its
example)."""
REBULK_VOLTAGE_S: Final = 60.0
"""SmartSolar MPPT and Blue Smart manuals: below the re-bulk voltage for one minute."""
TAIL_S: Final = 60.0
"""Decided (no Victron figure found): the current must stay under the tail current for a minute,
so a charger whose current dips for a moment (another source briefly above it) keeps absorbing."""
REBULK_CURRENT_S: Final = 4.0
"""Blue Smart IP22 manual: at the maximum current output for four seconds."""
SLACK_S: Final = 1e-9
"""Float slack when a timer's end is compared with the end of a step (lands exactly on it)."""


class ChargeStage(enum.Enum):
    """A Victron charger's stage."""

    BULK = "bulk"
    ABSORPTION = "absorption"
    FLOAT = "float"


class Rebulk(enum.Enum):
    """What starts a new charge cycle from float."""

    VOLTAGE = "voltage"
    """Below float minus the re-bulk offset for a minute (MPPT)."""
    CURRENT = "current"
    """At the maximum current for four seconds (Blue Smart, the default re-bulk method)."""


class ChargeSetPoints(TypedDict, total=False):
    """A charging device's keywords for its charge algorithm (left out: the LiFePO4 presets)."""

    absorption_voltage_v: float
    float_voltage_v: float
    absorption_time_h: float
    cv_resistance_ohm: float
    tail_current_a: float


class ChargeSnapshot(NamedTuple):
    """A charge algorithm's state (see `ChargeAlgorithm.save_state`)."""

    stage: ChargeStage
    absorption_elapsed_s: float
    tail: Hold
    rebulk: Hold


class ChargeAlgorithm:
    """Bulk -> absorption -> float -> (re-bulk) of a Victron charger (module docstring)."""

    def __init__(
        self,
        *,
        absorption_voltage_v: float,
        float_voltage_v: float,
        absorption_time_h: float,
        cv_resistance_ohm: float,
        tail_current_a: float = 0.0,
        rebulk: Rebulk = Rebulk.CURRENT,
    ) -> None:
        if not 0.0 < float_voltage_v <= absorption_voltage_v:
            msg = "float voltage must be positive and not above the absorption voltage"
            raise ValueError(msg)
        if absorption_time_h < 0.0 or cv_resistance_ohm <= 0.0:
            msg = "absorption time must be >= 0 and the CV resistance > 0"
            raise ValueError(msg)
        if not (math.isfinite(tail_current_a) and tail_current_a >= 0.0):
            msg = f"tail current must be a finite number >= 0, got {tail_current_a!r}"
            raise ValueError(msg)
        self.absorption_voltage_v = absorption_voltage_v
        self.float_voltage_v = float_voltage_v
        self.absorption_time_s = absorption_time_h * 3600.0
        self.cv_resistance_ohm = cv_resistance_ohm
        self.tail_current_a = tail_current_a
        """Absorption ends below this current (0: only on time)."""
        self.rebulk = rebulk
        self.stage = ChargeStage.BULK
        self.absorption_elapsed_s = 0.0
        self._tail = Hold(TAIL_S)
        self._rebulk = Hold(REBULK_VOLTAGE_S if rebulk is Rebulk.VOLTAGE else REBULK_CURRENT_S)

    @classmethod
    def from_params(
        cls,
        params: ChargeSetPoints,
        *,
        rated_current_a: float,
        tail_current_a: float = 0.0,
        rebulk: Rebulk,
    ) -> "ChargeAlgorithm":
        """The algorithm a charging device's keywords ask for (its class's defaults after)."""
        droop_ohm = CV_BAND_V / max(rated_current_a, 1.0)
        return cls(
            absorption_voltage_v=params.get("absorption_voltage_v", ABSORPTION_V),
            float_voltage_v=params.get("float_voltage_v", FLOAT_V),
            absorption_time_h=params.get("absorption_time_h", ABSORPTION_TIME_H),
            cv_resistance_ohm=params.get("cv_resistance_ohm", droop_ohm),
            tail_current_a=params.get("tail_current_a", tail_current_a),
            rebulk=rebulk,
        )

    def save_state(self) -> ChargeSnapshot:
        """The stage, the time spent in absorption and the re-bulk timer."""
        return ChargeSnapshot(self.stage, self.absorption_elapsed_s, self._tail, self._rebulk)

    def load_state(self, state: ChargeSnapshot) -> None:
        """Put back what `save_state` gave."""
        self.stage, self.absorption_elapsed_s, self._tail, self._rebulk = state

    @property
    def set_point_v(self) -> float:
        """The voltage the charger regulates to in its present stage."""
        if self.stage is ChargeStage.FLOAT:
            return self.float_voltage_v
        return self.absorption_voltage_v

    def _taper_a(self, bus_voltage_v: float) -> float:
        """What the CV stage asks for at this voltage, before the limit."""
        return (self.set_point_v - bus_voltage_v) / self.cv_resistance_ohm

    def current_a(self, bus_voltage_v: float, limit_a: float) -> float:
        """Charge current at a bus voltage with the charger able to give `limit_a`."""
        return min(max(self._taper_a(bus_voltage_v), 0.0), max(limit_a, 0.0))

    def reset(self) -> None:
        """The source went away: the next charge starts at bulk."""
        self.stage = ChargeStage.BULK
        self.absorption_elapsed_s = 0.0
        self._tail = self._tail.stop()
        self._rebulk = self._rebulk.stop()

    def step(
        self,
        *,
        active: bool,
        bus_voltage_v: float,
        limit_a: float,
        dt_s: float,
        now_s: float = 0.0,
    ) -> None:
        """Advance the stage over `dt_s` from `now_s`, held at this operating point."""
        if not active:
            self.reset()
            return
        taper_a = self._taper_a(bus_voltage_v)
        limited = taper_a > limit_a  # at its current limit: it does not hold the voltage
        if self.stage is ChargeStage.BULK:
            if not limited:
                # reached at this step's operating point: the step counts as absorption
                self.stage = ChargeStage.ABSORPTION
                self.absorption_elapsed_s = dt_s
                self._finish_absorption(taper_a, limited=limited, now_s=now_s, end_s=now_s + dt_s)
        elif self.stage is ChargeStage.ABSORPTION:
            if not limited:  # the timer pauses while a load holds it at its limit
                self.absorption_elapsed_s += dt_s
            self._finish_absorption(taper_a, limited=limited, now_s=now_s, end_s=now_s + dt_s)
        else:
            self._look_for_rebulk(bus_voltage_v, limited=limited, now_s=now_s, end_s=now_s + dt_s)

    def _finish_absorption(
        self, taper_a: float, *, limited: bool, now_s: float, end_s: float
    ) -> None:
        timed_out = self.absorption_elapsed_s >= self.absorption_time_s - SLACK_S
        tail = self.tail_current_a > 0.0 and not limited and taper_a < self.tail_current_a
        self._tail = self._tail.look(tail, now_s)
        if timed_out or self._tail.done(end_s, SLACK_S):
            self.stage = ChargeStage.FLOAT
            self._tail = self._tail.stop()

    def _look_for_rebulk(
        self, bus_voltage_v: float, *, limited: bool, now_s: float, end_s: float
    ) -> None:
        if self.rebulk is Rebulk.VOLTAGE:
            below = bus_voltage_v < self.float_voltage_v - REBULK_OFFSET_V
            self._rebulk = self._rebulk.look(below, now_s)
        else:
            self._rebulk = self._rebulk.look(limited, now_s)
        if self._rebulk.done(end_s, SLACK_S):
            self.stage = ChargeStage.BULK
            self.absorption_elapsed_s = 0.0
            self._rebulk = self._rebulk.stop()

    def next_change_s(self, now_s: float, *, active: bool) -> float:
        """End of the absorption stage if its timer runs, or of a running re-bulk delay."""
        if not active:
            return math.inf
        if self.stage is ChargeStage.ABSORPTION:
            timer_s = now_s + self.absorption_time_s - self.absorption_elapsed_s
            return min(timer_s, self._tail.due_s)
        return self._rebulk.due_s

    def latches(self) -> tuple[object, ...]:
        """The stage and whether the re-bulk delay runs."""
        return (self.stage, self._tail.running, self._rebulk.running)
