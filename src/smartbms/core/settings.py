"""The user's settings (manual §3.5.1; CFG-1, CFG-2, CFG-4, CFG-5).

A `Settings` value is frozen and valid by construction: every way to make one (the constructor,
`changed`, `from_mapping`) checks each field and refuses a wrong one with a `SettingsError` that
names the setting and what is allowed, so a refused change leaves nothing half-applied. The soft
switch lives here, not in the inputs: it is set in the app and, like the other settings, must
survive a power loss (a power cycle must not switch on a system the user switched off).

What each setting accepts is written once, in `SETTING_SPECS`: its default, its choices or range
and unit, how a user's spelling is read and how a refusal describes what is allowed. `Settings`
checks with it, and readers of other formats (the scenario file) word their messages with it.
"""

import dataclasses
import enum
import math
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any, Final, Generic, Self, TypeVar

from smartbms.core.constants import (
    CHARGE_LIMIT_DEFAULT_V,
    CHARGE_LIMIT_MAX_V,
    CHARGE_LIMIT_MIN_V,
    CHARGE_LIMIT_STEP_V,
    DEFAULT_PIN,
    PIN_LENGTH,
)
from smartbms.core.fuses import FuseType, parse_fuse_type


class PreAlarmUsage(enum.Enum):
    """Whether the batteries on the chain support the pre-alarm line (OUT-9)."""

    USE = "use pre-alarm"
    NOT_AVAILABLE = "pre-alarm not available"


class PreAlarmMode(enum.Enum):
    """How the pre-alarm output signals (OUT-6)."""

    CONTINUOUS = "continuous"
    INTERMITTENT = "intermittent"


class RemoteFunction(enum.Enum):
    """What the remote on/off terminal and the soft switch turn off (REM-2)."""

    ALTERNATOR_AND_SYSTEM_PLUS = "alternator and system+ only"
    EVERYTHING = "switch everything off"


class SettingsError(ValueError):
    """A setting was refused; the message names the setting and what is allowed (CFG-2)."""

    def __init__(self, setting: str, value: object, allowed: str) -> None:
        self.setting = setting
        self.value = value
        self.allowed = allowed
        super().__init__(f"{setting}: {value!r} is not allowed; allowed: {allowed}")


class PairingError(PermissionError):
    """A settings change was attempted without a paired session (CFG-5)."""


# --- What each setting accepts (one definition for checks and messages) -------------------------

E = TypeVar("E", bound=enum.Enum)


@dataclasses.dataclass(frozen=True, slots=True)
class ChoiceSpec(Generic[E]):
    """A setting that is one member of an enum, given as the member or as its label.

    `reader` turns a user's spelling into a member (None: the label, case-insensitive);
    `quoted` says whether `allowed` quotes the labels (fuse labels such as 2x7.5A read
    better bare, labels with spaces do not).
    """

    name: str
    choices: type[E]
    default: E
    reader: Callable[[str], E] | None = None
    quoted: bool = True

    @property
    def allowed(self) -> str:
        """Every label, in the enum's order."""
        labels = [str(member.value) for member in self.choices]
        return ", ".join(repr(label) if self.quoted else label for label in labels)

    def read(self, raw: object) -> object:
        """A label as its member; a member or anything else as it is (left to `check`)."""
        if not isinstance(raw, str):
            return raw
        if self.reader is not None:
            try:
                return self.reader(raw)
            except ValueError:
                raise SettingsError(self.name, raw, self.allowed) from None
        for member in self.choices:
            if raw.strip().lower() == member.value:
                return member
        raise SettingsError(self.name, raw, self.allowed)

    def check(self, value: object) -> E:
        """The value, if it is a member; else refused."""
        if not isinstance(value, self.choices):
            raise SettingsError(self.name, value, self.allowed)
        return value


@dataclasses.dataclass(frozen=True, slots=True)
class NumberSpec:
    """A setting that is a number in a closed range, kept to a resolution of `step`."""

    name: str
    default: float
    minimum: float
    maximum: float
    step: float
    unit: str

    @property
    def allowed(self) -> str:
        """'13.0 to 15.3 V'."""
        return f"{self.minimum:.1f} to {self.maximum:.1f} {self.unit}"

    def read(self, raw: object) -> object:
        """A text such as '14.2 V' as its number; anything else as it is (left to `check`)."""
        if not isinstance(raw, str):
            return raw
        try:
            return float(raw.strip().removesuffix(self.unit).strip())
        except ValueError:
            raise SettingsError(self.name, raw, self.allowed) from None

    def check(self, value: object) -> float:
        """The value as a float rounded to the step, if it is a finite number in range."""
        # Checked at run time although typed: values come from files and requests.
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise SettingsError(self.name, value, self.allowed)
        try:
            number = float(value)
        except OverflowError:  # an integer too large for a float
            raise SettingsError(self.name, value, self.allowed) from None
        if not (math.isfinite(number) and self.minimum <= number <= self.maximum):
            raise SettingsError(self.name, number, self.allowed)
        return float(round(round(number / self.step) * self.step, 2))


@dataclasses.dataclass(frozen=True, slots=True)
class SwitchSpec:
    """A setting that is on or off: a bool, or the words the app and files use."""

    name: str
    default: bool
    on_words: tuple[str, ...] = ("on", "true", "1")
    off_words: tuple[str, ...] = ("off", "false", "0")
    allowed: str = "on or off (or true or false)"

    def read(self, raw: object) -> object:
        """'on' / 'off' (and 'true', '1', ...) as a bool; anything else as it is."""
        if not isinstance(raw, str):
            return raw
        lowered = raw.strip().lower()
        if lowered in self.on_words:
            return True
        if lowered in self.off_words:
            return False
        raise SettingsError(self.name, raw, self.allowed)

    def check(self, value: object) -> bool:
        """The value, if it is a bool; else refused."""
        if not isinstance(value, bool):
            raise SettingsError(self.name, value, self.allowed)
        return value


@dataclasses.dataclass(frozen=True, slots=True)
class PinSpec:
    """The pairing PIN: a fixed number of ASCII digits, never echoed in a refusal (CFG-5)."""

    name: str
    default: str
    length: int

    @property
    def allowed(self) -> str:
        """'6 digits'."""
        return f"{self.length} digits"

    def read(self, raw: object) -> object:
        """A PIN has one spelling: as it is."""
        return raw

    def check(self, value: object) -> str:
        """The PIN, if it is `length` ASCII digits; else refused without repeating it."""
        if not (
            isinstance(value, str)
            and len(value) == self.length
            and value.isascii()
            and value.isdigit()
        ):
            raise SettingsError(self.name, "******", self.allowed)
        return value


SettingSpec = ChoiceSpec[Any] | NumberSpec | SwitchSpec | PinSpec
"""What one setting accepts; each has `name`, `default`, `allowed`, `read` and `check`."""

FUSE_TYPE: Final = ChoiceSpec(
    "fuse_type", FuseType, FuseType.NOT_SET, reader=parse_fuse_type, quoted=False
)
PREALARM_USAGE: Final = ChoiceSpec("prealarm_usage", PreAlarmUsage, PreAlarmUsage.USE)
PREALARM_MODE: Final = ChoiceSpec("prealarm_mode", PreAlarmMode, PreAlarmMode.CONTINUOUS)
CHARGE_LIMIT: Final = NumberSpec(
    "charge_limit_v",
    default=CHARGE_LIMIT_DEFAULT_V,
    minimum=CHARGE_LIMIT_MIN_V,
    maximum=CHARGE_LIMIT_MAX_V,
    step=CHARGE_LIMIT_STEP_V,
    unit="V",
)
REMOTE_FUNCTION: Final = ChoiceSpec(
    "remote_function", RemoteFunction, RemoteFunction.ALTERNATOR_AND_SYSTEM_PLUS
)
SOFT_SWITCH: Final = SwitchSpec("soft_switch_on", default=True)
PIN: Final = PinSpec("pin", default=DEFAULT_PIN, length=PIN_LENGTH)

SETTING_SPECS: Final[Mapping[str, SettingSpec]] = MappingProxyType(
    {
        spec.name: spec
        for spec in (
            FUSE_TYPE,
            PREALARM_USAGE,
            PREALARM_MODE,
            CHARGE_LIMIT,
            REMOTE_FUNCTION,
            SOFT_SWITCH,
            PIN,
        )
    }
)
"""Every setting by name, in the order of `Settings`' fields (and of `to_mapping`)."""


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Settings:
    """Everything the user can set, with the factory defaults (CFG-1, CFG-4)."""

    fuse_type: FuseType = FUSE_TYPE.default
    prealarm_usage: PreAlarmUsage = PREALARM_USAGE.default
    prealarm_mode: PreAlarmMode = PREALARM_MODE.default
    charge_limit_v: float = CHARGE_LIMIT.default
    remote_function: RemoteFunction = REMOTE_FUNCTION.default
    soft_switch_on: bool = SOFT_SWITCH.default
    pin: str = PIN.default

    def __post_init__(self) -> None:
        for name, spec in SETTING_SPECS.items():
            object.__setattr__(self, name, spec.check(getattr(self, name)))

    def changed(self, **changes: object) -> Self:
        """Return a copy with `changes` applied, after checking every one (nothing half-applied)."""
        return self.from_mapping({**self.to_mapping(), **changes})

    def to_mapping(self) -> dict[str, object]:
        """Plain JSON-ready values: enums by their labels."""
        return {name: _plain(getattr(self, name)) for name in SETTING_SPECS}

    @classmethod
    def from_mapping(cls, values: Mapping[str, object]) -> Self:
        """Build settings from plain values (labels for enums), refusing unknown names."""
        for name in values:
            if name not in SETTING_SPECS:
                raise SettingsError(
                    name, values[name], "a setting among " + ", ".join(sorted(SETTING_SPECS))
                )
        kwargs = {name: SETTING_SPECS[name].read(raw) for name, raw in values.items()}
        return cls(**kwargs)  # type: ignore[arg-type]

    @classmethod
    def factory(cls) -> Self:
        """The factory defaults: PIN 000000, fuse type not set (CFG-4)."""
        return cls()


def _plain(value: object) -> object:
    return value.value if isinstance(value, enum.Enum) else value
