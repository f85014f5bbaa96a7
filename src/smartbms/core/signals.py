"""What the BMS measures (`Inputs`) and what it decides (`Outputs`, `Readings`).

Inputs are only what the real device can sense at its terminals and inside itself; everything
else (remote state, alternator current, alarms) is derived by the controller. The remote terminal
is read as the voltages at L and H plus whether L and H are looped together: an unconnected L
reads at its internal pull-up (about the bank voltage), an unconnected H at its pull-down (0 V).
"""

import dataclasses
import enum
import math
from collections.abc import Callable

from smartbms.core.codes import Code
from smartbms.core.events import Event
from smartbms.core.validate import check_field


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Inputs:
    """One sample of everything the BMS senses. Positive current charges the lithium bank."""

    powered: bool = True
    """The BMS has supply from the lithium bank (False: every output is dead)."""
    bank_voltage_v: float = 13.2
    """Li+ terminal."""
    ab_voltage_v: float = 0.0
    """Alternator / Starter Batt+ terminal."""
    system_plus_voltage_v: float = 13.2
    """System+ terminal."""
    remote_lh_connected: bool = True
    """L and H are connected to each other (the factory wire loop or a closed switch)."""
    remote_l_voltage_v: float = 13.2
    """Voltage at terminal L (an open L reads about the bank voltage)."""
    remote_h_voltage_v: float = 0.0
    """Voltage at terminal H (an open H reads 0 V)."""
    chain_connected: bool = True
    """The BMS-cable chain is continuous from one BMS socket to the other."""
    allowed_to_charge: bool = True
    """ATC line of the chain (wired-AND over every battery)."""
    allowed_to_discharge: bool = True
    """ATD line of the chain (wired-AND over every battery)."""
    chain_prealarm: bool = False
    """Pre-alarm line of the chain (any battery in pre-alarm)."""
    chain_supports_prealarm: bool = True
    """The batteries on the chain drive the pre-alarm line at all (OUT-9)."""
    alternator_fuse_drop_v: float = 0.0
    """Voltage across the AB fuse, the limiter's shunt (ALT-4)."""
    system_plus_current_a: float = 0.0
    """System+ current, positive into the bank."""
    internal_temperature_c: float = 25.0
    """The BMS's own temperature sensor."""
    prealarm_output_current_a: float = 0.0
    """Current the pre-alarm output sources (its sense resistor)."""
    calibration_ok: bool = True
    """Self-test of the calibration data (E-B30 when False)."""
    reference_ok: bool = True
    """Self-test of the voltage reference (E-B33 when False)."""
    app_connected: bool = False
    """A VictronConnect-like app holds a connection (blue LED steady)."""

    @classmethod
    def checked(cls, **values: object) -> "Inputs":
        """Inputs from values a person or a file gave (adapters, the app, scenarios).

        Raises TypeError naming the field for an unknown field or a wrong type (a str, or a bool
        where a number belongs), and ValueError for a number no sensor can read (non-finite or
        outside `constants.MEASURABLE_*`). The fields not given keep their defaults. A live
        adapter whose sensor fails builds `Inputs(...)` directly instead: `Controller.step`
        takes that reading as a failed measurement (and still refuses a wrong type).
        """
        for name, value in values.items():
            check_field(name, value)
        return cls(**values)  # type: ignore[arg-type]  # every value checked above


class Level(enum.Enum):
    """An output terminal: driven high, or left free floating (open circuit)."""

    HIGH = "high"
    FLOATING = "floating"


class LedMode(enum.Enum):
    """What a front-panel LED shows."""

    OFF = "off"
    ON = "on"
    BLINK = "blink"


@dataclasses.dataclass(frozen=True, slots=True)
class Leds:
    """The seven LEDs of manual App. C, left to right (LED-1 ... LED-7)."""

    alternator_charging: LedMode
    over_temperature: LedMode
    bms_active: LedMode
    bluetooth: LedMode
    charge_disconnect: LedMode
    load_disconnect: LedMode
    system_plus_charging: LedMode

    def as_tuple(self) -> tuple[LedMode, ...]:
        """The LEDs in panel order."""
        return (
            self.alternator_charging,
            self.over_temperature,
            self.bms_active,
            self.bluetooth,
            self.charge_disconnect,
            self.load_disconnect,
            self.system_plus_charging,
        )


LED_NAMES: tuple[str, ...] = (
    "Alternator charging",
    "Over-temperature",
    "Smart BMS active",
    "Bluetooth",
    "Charge disconnect",
    "Load disconnect",
    "System+ charging",
)
"""The panel labels of the seven LEDs, in panel order."""

LED_COLOURS: tuple[str, ...] = ("green", "red", "green", "blue", "yellow", "orange", "green")
"""The colours of the seven LEDs, in panel order (manual App. C)."""


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Outputs:
    """Everything the controller commands, plus its visible state."""

    ab_enabled: bool
    """The AB port conducts (one way, current-limited)."""
    ab_fuse_drop_setpoint_v: float
    """The fuse drop the limiter regulates to: the limit is this / R(installed fuse)."""
    system_plus_charge_allowed: bool
    system_plus_discharge_allowed: bool
    load_disconnect: Level
    charge_disconnect: Level
    prealarm: Level
    """The pre-alarm terminal right now (in intermittent mode it follows the blink)."""
    prealarm_alarm: bool
    """The pre-alarm is raised (steady or blinking)."""
    leds: Leds
    codes: frozenset[Code]
    system_on: bool
    """Remote terminal ON and soft switch ON."""
    bms_active: bool
    """BMS functionality runs (off only with 'Switch everything off' while the system is off)."""
    safe_state: bool
    supply_current_a: float
    """The BMS's own consumption from the bank, without its output currents (PWR-1)."""


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Readings:
    """What the app's status page shows (manual §3.5.1 step 4)."""

    bank_voltage_v: float
    ab_voltage_v: float
    system_plus_voltage_v: float
    alternator_current_a: float | None
    """None while the fuse type is not set: the app asks the user to set it."""
    alternator_current_pct: float | None
    fuse_type_prompt: bool
    """The app must ask the user to set the fuse type (ALT-10)."""


@dataclasses.dataclass(frozen=True, slots=True)
class StepResult:
    """What one controller step decided, what happened, and when to call again at the latest."""

    outputs: Outputs
    readings: Readings
    events: tuple[Event, ...]
    next_deadline_s: float
    """Call `step` again at this time even if no input changes (`math.inf`: no timer runs)."""


def _slot_setters(cls: type, count: int) -> tuple[Callable[[object, object], None], ...]:
    """The slot descriptors' setters of `cls`'s first `count` fields, in field order."""
    setters = tuple(vars(cls)[field.name].__set__ for field in dataclasses.fields(cls))
    assert len(setters) == count  # noqa: S101  # the fast builders below name every field
    return setters


_NEW = object.__new__
_SET_BANK, _SET_AB, _SET_SP, _SET_CURRENT, _SET_PCT, _SET_PROMPT = _slot_setters(Readings, 6)
_SET_OUTPUTS, _SET_READINGS, _SET_EVENTS, _SET_DEADLINE = _slot_setters(StepResult, 4)


def fast_readings(  # noqa: PLR0917  # exactly Readings' fields, in order
    bank_voltage_v: float,
    ab_voltage_v: float,
    system_plus_voltage_v: float,
    alternator_current_a: float | None,
    alternator_current_pct: float | None,
    fuse_type_prompt: bool,
) -> Readings:
    """`Readings(...)`, the same frozen value, built about 3x faster (one per controller step).

    A frozen dataclass's `__init__` routes every field through `object.__setattr__`; setting
    the slots directly skips that lookup and call. `tests/unit/test_core_signals.py` checks the
    result equals the dataclass's own.
    """
    readings: Readings = _NEW(Readings)
    _SET_BANK(readings, bank_voltage_v)
    _SET_AB(readings, ab_voltage_v)
    _SET_SP(readings, system_plus_voltage_v)
    _SET_CURRENT(readings, alternator_current_a)
    _SET_PCT(readings, alternator_current_pct)
    _SET_PROMPT(readings, fuse_type_prompt)
    return readings


def fast_step_result(
    outputs: Outputs, readings: Readings, events: tuple[Event, ...], next_deadline_s: float
) -> StepResult:
    """`StepResult(...)`, the same frozen value, built about 2x faster (see `fast_readings`)."""
    result: StepResult = _NEW(StepResult)
    _SET_OUTPUTS(result, outputs)
    _SET_READINGS(result, readings)
    _SET_EVENTS(result, events)
    _SET_DEADLINE(result, next_deadline_s)
    return result


ALL_OPEN = Outputs(
    ab_enabled=False,
    ab_fuse_drop_setpoint_v=0.0,
    system_plus_charge_allowed=False,
    system_plus_discharge_allowed=False,
    load_disconnect=Level.FLOATING,
    charge_disconnect=Level.FLOATING,
    prealarm=Level.FLOATING,
    prealarm_alarm=False,
    leds=Leds(*(LedMode.OFF,) * 7),
    codes=frozenset(),
    system_on=False,
    bms_active=False,
    safe_state=False,
    supply_current_a=0.0,
)
"""Nothing conducts, every output floats: an unpowered BMS, and the BMS before its first step."""

NO_DEADLINE = math.inf
"""`next_deadline_s` when no timer runs: nothing changes until an input does."""
