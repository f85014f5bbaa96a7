"""What the controller reports happened: frozen values named in the past tense, each with its time.

A fault of the battery or the wiring is an event and a state, never an exception. Every event
knows its name (`kind`) and the App. B code it concerns, if any, so the simulator can write JSON
Lines (`t_s`, `event`, `code`) without a table of its own.
"""

import dataclasses
import enum

from smartbms.core.codes import Code


class AlternatorOffReason(enum.Enum):
    """Why the AB port opened, first applicable reason wins (ALT-1, ALT-5...ALT-9)."""

    POWER_LOST = "power lost"
    SAFE_STATE = "safe state"
    MEASUREMENT_INVALID = "a measurement it needs failed"
    SYSTEM_OFF = "system switched off"
    CHARGE_NOT_ALLOWED = "battery does not allow charge"
    OVER_TEMPERATURE = "BMS over-temperature"
    INPUT_OVER_VOLTAGE = "input over-voltage"
    INPUT_TOO_LOW = "input at or below 13.0 V"
    CHARGE_LIMIT = "battery charge limit reached"


class TripCause(enum.Enum):
    """Why the System+ port tripped (SP-5)."""

    SHORT_CIRCUIT = "short circuit"
    PEAK_OVERLOAD = "peak overload"
    CONTINUOUS_OVERLOAD = "continuous overload"


class PreAlarmCause(enum.Enum):
    """Where a pre-alarm came from (OUT-4, OUT-5)."""

    CHAIN = "battery pre-alarm"
    UNDER_VOLTAGE = "discharge withdrawn without a preceding pre-alarm"


@dataclasses.dataclass(frozen=True, slots=True)
class Event:
    """Something the BMS did or noticed at time `t_s`."""

    t_s: float

    @property
    def kind(self) -> str:
        """The event's name as written to logs."""
        return type(self).__name__

    @property
    def code(self) -> Code | None:
        """The App. B code this event concerns, if any."""
        return None


@dataclasses.dataclass(frozen=True, slots=True)
class PowerLost(Event):
    """The BMS lost its supply."""


@dataclasses.dataclass(frozen=True, slots=True)
class PowerRestored(Event):
    """The BMS got its supply back after `off_s` seconds."""

    off_s: float


@dataclasses.dataclass(frozen=True, slots=True)
class SystemSwitchedOn(Event):
    """Remote terminal and soft switch both ON."""


@dataclasses.dataclass(frozen=True, slots=True)
class SystemSwitchedOff(Event):
    """The remote terminal or the soft switch turned the system off."""

    remote_on: bool
    soft_switch_on: bool


@dataclasses.dataclass(frozen=True, slots=True)
class CodeRaised(Event):
    """An App. B code became active."""

    raised: Code

    @property
    def code(self) -> Code:
        """The code raised."""
        return self.raised


@dataclasses.dataclass(frozen=True, slots=True)
class CodeCleared(Event):
    """An App. B code is no longer active."""

    cleared: Code

    @property
    def code(self) -> Code:
        """The code cleared."""
        return self.cleared


@dataclasses.dataclass(frozen=True, slots=True)
class SafeStateEntered(Event):
    """An error put the BMS in its safe state."""


@dataclasses.dataclass(frozen=True, slots=True)
class SafeStateLeft(Event):
    """No error is left; normal operation resumes."""


@dataclasses.dataclass(frozen=True, slots=True)
class AlternatorInputEnabled(Event):
    """The AB port closed: alternator current may flow into the bank."""


@dataclasses.dataclass(frozen=True, slots=True)
class AlternatorInputDisabled(Event):
    """The AB port opened."""

    reason: AlternatorOffReason


@dataclasses.dataclass(frozen=True, slots=True)
class ChargeLimitReached(Event):
    """The bank reached the battery charge limit (ALT-5)."""

    bank_voltage_v: float


@dataclasses.dataclass(frozen=True, slots=True)
class ChargeLimitReleased(Event):
    """The bank stayed 0.5 V below the charge limit for 10 s (ALT-5)."""


@dataclasses.dataclass(frozen=True, slots=True)
class InputOverVoltageDetected(Event):
    """V_AB rose above the safe input maximum (ALT-9); no user code in the manual."""

    ab_voltage_v: float


@dataclasses.dataclass(frozen=True, slots=True)
class InputOverVoltageCleared(Event):
    """V_AB is back within the safe input maximum."""


@dataclasses.dataclass(frozen=True, slots=True)
class MeasurementInvalid(Event):
    """A measurement read non-finite or impossible: the paths it gates went to their safe side.

    Not E-B33 (a failed reference, for good): this one recovers after valid readings.
    """

    field: str
    """The `Inputs` field, e.g. "bank_voltage_v"."""
    value: str
    """What it read, as text ("nan", "inf", "1e+300"): the number itself is never used."""


@dataclasses.dataclass(frozen=True, slots=True)
class MeasurementRecovered(Event):
    """A failed measurement read valid for the whole recovery time and is trusted again."""

    field: str


@dataclasses.dataclass(frozen=True, slots=True)
class SystemPlusChanged(Event):
    """What the System+ port allows changed."""

    charge_allowed: bool
    discharge_allowed: bool


@dataclasses.dataclass(frozen=True, slots=True)
class SystemPlusTripped(Event):
    """The System+ protection opened the port (SP-5)."""

    cause: TripCause
    current_a: float

    @property
    def code(self) -> Code:
        """Always A-A12."""
        return Code.A_A12


@dataclasses.dataclass(frozen=True, slots=True)
class SystemPlusRetried(Event):
    """The System+ port closed again after a trip; `attempt` counts within the window."""

    attempt: int


@dataclasses.dataclass(frozen=True, slots=True)
class SystemPlusLockedOut(Event):
    """Too many trips: System+ stays off until the system is switched off and on."""

    @property
    def code(self) -> Code:
        """Always A-A12."""
        return Code.A_A12


@dataclasses.dataclass(frozen=True, slots=True)
class PreAlarmRaised(Event):
    """The pre-alarm went up (output high or blinking)."""

    cause: PreAlarmCause

    @property
    def code(self) -> Code:
        """Always W-B12."""
        return Code.W_B12


@dataclasses.dataclass(frozen=True, slots=True)
class PreAlarmCleared(Event):
    """The pre-alarm went down (chain recovered, or load disconnect happened: OUT-7)."""


UNDER_VOLTAGE = "under-voltage"
"""The reason of a load disconnect by the battery (the others: safe state, system off)."""


@dataclasses.dataclass(frozen=True, slots=True)
class LoadDisconnected(Event):
    """Load disconnect went floating and System+ stopped discharge (OUT-4, SP-2)."""

    reason: str = UNDER_VOLTAGE
    """"under-voltage" (A-B11), "safe state" or "system switched off"."""

    @property
    def code(self) -> Code | None:
        """A-B11 for an under-voltage disconnect; no code otherwise."""
        return Code.A_B11 if self.reason == UNDER_VOLTAGE else None


@dataclasses.dataclass(frozen=True, slots=True)
class LoadReconnected(Event):
    """Load disconnect is high again and System+ may discharge (OUT-8)."""


@dataclasses.dataclass(frozen=True, slots=True)
class ChargeDisconnected(Event):
    """Charge disconnect went floating (OUT-3)."""


@dataclasses.dataclass(frozen=True, slots=True)
class ChargeReconnected(Event):
    """Charge disconnect is high again (OUT-3)."""


@dataclasses.dataclass(frozen=True, slots=True)
class PreAlarmOutputDamaged(Event):
    """The pre-alarm output sourced more than 1 A and is broken for good (OUT-5)."""

    current_a: float


@dataclasses.dataclass(frozen=True, slots=True)
class SettingsChanged(Event):
    """A setting took a new value (the PIN is never shown)."""

    setting: str
    old: object
    new: object


@dataclasses.dataclass(frozen=True, slots=True)
class FactoryResetDone(Event):
    """Every setting went back to its factory value (CFG-4)."""
