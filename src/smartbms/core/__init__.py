"""The Smart BMS 12-200's brain: pure, deterministic, standard library only.

Nothing here reads a clock, a file, a socket, the environment or a random source; `now_s` comes
in with every call. The simulator and a live loop drive the same `Controller` the same way.
"""

from smartbms.core.codes import CODE_TABLE, Code, CodeInfo, Severity, lookup_code
from smartbms.core.controller import Controller, StepResult, remote_terminal_on
from smartbms.core.controller_state import ControllerState
from smartbms.core.fuses import INSTALLABLE_FUSES, FuseType, parse_fuse_type
from smartbms.core.settings import (
    PairingError,
    PreAlarmMode,
    PreAlarmUsage,
    RemoteFunction,
    Settings,
    SettingsError,
)
from smartbms.core.signals import NO_DEADLINE, Inputs, LedMode, Leds, Level, Outputs, Readings

__all__ = [
    "CODE_TABLE",
    "INSTALLABLE_FUSES",
    "NO_DEADLINE",
    "Code",
    "CodeInfo",
    "Controller",
    "ControllerState",
    "FuseType",
    "Inputs",
    "LedMode",
    "Leds",
    "Level",
    "Outputs",
    "PairingError",
    "PreAlarmMode",
    "PreAlarmUsage",
    "Readings",
    "RemoteFunction",
    "Settings",
    "SettingsError",
    "Severity",
    "StepResult",
    "lookup_code",
    "parse_fuse_type",
    "remote_terminal_on",
]
