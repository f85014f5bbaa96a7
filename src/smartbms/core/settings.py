"""The user's settings (manual §3.5.1; CFG-1, CFG-2, CFG-4, CFG-5).

A `Settings` value is frozen and valid by construction: every way to make one (the constructor,
`changed`, `from_mapping`) checks each field and refuses a wrong one with a `SettingsError` that
names the setting and what is allowed, so a refused change leaves nothing half-applied. The soft
switch lives here, not in the inputs: it is set in the app and, like the other settings, must
survive a power loss (a power cycle must not switch on a system the user switched off).
"""

import dataclasses
import enum
import math
from collections.abc import Mapping
from typing import Self

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


_CHARGE_LIMIT_ALLOWED = f"{CHARGE_LIMIT_MIN_V:.1f} to {CHARGE_LIMIT_MAX_V:.1f} V"


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Settings:
    """Everything the user can set, with the factory defaults (CFG-1, CFG-4)."""

    fuse_type: FuseType = FuseType.NOT_SET
    prealarm_usage: PreAlarmUsage = PreAlarmUsage.USE
    prealarm_mode: PreAlarmMode = PreAlarmMode.CONTINUOUS
    charge_limit_v: float = CHARGE_LIMIT_DEFAULT_V
    remote_function: RemoteFunction = RemoteFunction.ALTERNATOR_AND_SYSTEM_PLUS
    soft_switch_on: bool = True
    pin: str = DEFAULT_PIN

    def __post_init__(self) -> None:
        _require_member("fuse_type", self.fuse_type, FuseType)
        _require_member("prealarm_usage", self.prealarm_usage, PreAlarmUsage)
        _require_member("prealarm_mode", self.prealarm_mode, PreAlarmMode)
        _require_member("remote_function", self.remote_function, RemoteFunction)
        # Checked at run time although typed: values come from files and requests.
        soft_switch: object = self.soft_switch_on
        if not isinstance(soft_switch, bool):
            raise SettingsError("soft_switch_on", soft_switch, "true or false")
        limit: object = self.charge_limit_v
        if isinstance(limit, bool) or not isinstance(limit, int | float):
            raise SettingsError("charge_limit_v", limit, _CHARGE_LIMIT_ALLOWED)
        try:
            limit = float(limit)
        except OverflowError:  # an integer too large for a float
            raise SettingsError("charge_limit_v", limit, _CHARGE_LIMIT_ALLOWED) from None
        if not (math.isfinite(limit) and CHARGE_LIMIT_MIN_V <= limit <= CHARGE_LIMIT_MAX_V):
            raise SettingsError("charge_limit_v", limit, _CHARGE_LIMIT_ALLOWED)
        rounded = round(round(limit / CHARGE_LIMIT_STEP_V) * CHARGE_LIMIT_STEP_V, 2)
        object.__setattr__(self, "charge_limit_v", float(rounded))
        pin: object = self.pin
        if not (
            isinstance(pin, str) and len(pin) == PIN_LENGTH and pin.isascii() and pin.isdigit()
        ):
            raise SettingsError("pin", "******", f"{PIN_LENGTH} digits")

    def changed(self, **changes: object) -> Self:
        """Return a copy with `changes` applied, after checking every one (nothing half-applied)."""
        return self.from_mapping({**self.to_mapping(), **changes})

    def to_mapping(self) -> dict[str, object]:
        """Plain JSON-ready values: enums by their labels."""
        return {field.name: _plain(getattr(self, field.name)) for field in dataclasses.fields(self)}

    @classmethod
    def from_mapping(cls, values: Mapping[str, object]) -> Self:
        """Build settings from plain values (labels for enums), refusing unknown names."""
        known = {field.name for field in dataclasses.fields(cls)}
        for name in values:
            if name not in known:
                raise SettingsError(
                    name, values[name], "a setting among " + ", ".join(sorted(known))
                )
        kwargs: dict[str, object] = {}
        for name, raw in values.items():
            kwargs[name] = _parse_field(name, raw)
        return cls(**kwargs)  # type: ignore[arg-type]

    @classmethod
    def factory(cls) -> Self:
        """The factory defaults: PIN 000000, fuse type not set (CFG-4)."""
        return cls()


def _plain(value: object) -> object:
    return value.value if isinstance(value, enum.Enum) else value


_ENUM_FIELDS: dict[str, type[enum.Enum]] = {
    "prealarm_usage": PreAlarmUsage,
    "prealarm_mode": PreAlarmMode,
    "remote_function": RemoteFunction,
}


def _parse_field(name: str, raw: object) -> object:
    """Turn one plain value into the field's type, or refuse it naming what is allowed."""
    if name == "fuse_type":
        if isinstance(raw, FuseType):
            return raw
        if isinstance(raw, str):
            try:
                return parse_fuse_type(raw)
            except ValueError:
                pass
        raise SettingsError(name, raw, ", ".join(f.value for f in FuseType))
    enum_type = _ENUM_FIELDS.get(name)
    if enum_type is not None:
        if isinstance(raw, enum_type):
            return raw
        if isinstance(raw, str):
            for member in enum_type:
                if raw.strip().lower() == member.value:
                    return member
        raise SettingsError(name, raw, ", ".join(repr(m.value) for m in enum_type))
    if name == "charge_limit_v":
        if isinstance(raw, str):
            try:
                return float(raw.strip().removesuffix("V").strip())
            except ValueError:
                raise SettingsError(name, raw, _CHARGE_LIMIT_ALLOWED) from None
        return raw
    if name == "soft_switch_on" and isinstance(raw, str):
        lowered = raw.strip().lower()
        if lowered in {"on", "true", "1"}:
            return True
        if lowered in {"off", "false", "0"}:
            return False
        raise SettingsError(name, raw, "on or off")
    return raw


def _require_member(name: str, value: object, enum_type: type[enum.Enum]) -> None:
    if not isinstance(value, enum_type):
        raise SettingsError(name, value, ", ".join(repr(m.value) for m in enum_type))
