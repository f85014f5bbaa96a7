"""The user-facing codes of manual App. B, with cause and remedy in English (ERR-1...ERR-9).

The table is the stable contract between the controller, the app and the CLI: a code's identity,
name, kind and texts never change once published. The English texts translate the manual's
(Dutch) App. B; where the manual names the wrong product (E-B30 says "Smart BatteryProtect"),
the translation names the Smart BMS.
"""

import dataclasses
import enum


class Severity(enum.Enum):
    """E = error (safe state), A = alarm (a protection acted), W = warning."""

    ERROR = "error"
    ALARM = "alarm"
    WARNING = "warning"


class Code(enum.Enum):
    """An App. B code, valued by its label as the app shows it."""

    E_B30 = "E-B30"
    E_B31 = "E-B31"
    E_B32 = "E-B32"
    E_B33 = "E-B33"
    A_A12 = "A-A12"
    A_B11 = "A-B11"
    A_B15 = "A-B15"
    W_B12 = "W-B12"

    @property
    def info(self) -> "CodeInfo":
        """The code's name, cause and remedy."""
        return CODE_TABLE[self]

    @property
    def puts_in_safe_state(self) -> bool:
        """Errors (E-) hold the BMS in the safe state while active (SAFE)."""
        return self.info.severity is Severity.ERROR


@dataclasses.dataclass(frozen=True, slots=True)
class CodeInfo:
    """One row of App. B."""

    code: Code
    name: str
    severity: Severity
    cause: str
    remedy: tuple[str, ...]
    user_correctable: bool


def _row(
    code: Code,
    name: str,
    severity: Severity,
    cause: str,
    remedy: tuple[str, ...],
    *,
    user_correctable: bool = True,
) -> tuple[Code, CodeInfo]:
    return code, CodeInfo(code, name, severity, cause, remedy, user_correctable)


CODE_TABLE: dict[Code, CodeInfo] = dict(
    [
        _row(
            Code.E_B30,
            "Calibration failure",
            Severity.ERROR,
            "Internal failure: calibration data corrupted or missing.",
            (
                (
                    "Contact your dealer for support: this fault cannot be corrected by the user "
                    "and the Smart BMS must be replaced."
                ),
            ),
            user_correctable=False,
        ),
        _row(
            Code.E_B31,
            "Configuration failure",
            Severity.ERROR,
            "Internal failure: configuration data corrupted or missing.",
            (
                (
                    "Reset the device to factory defaults: Settings > More options > "
                    "Reset to factory defaults."
                ),
                "Disconnect all power and wait 3 minutes before reconnecting.",
                "Reconfigure the device if needed.",
            ),
        ),
        _row(
            Code.E_B32,
            "Battery BMS cable not connected or defective",
            Severity.ERROR,
            (
                "A removed or defective battery BMS cable (M8 circular connector) was detected. "
                "This also happens when the pre-alarm function is enabled while the batteries do "
                "not support it."
            ),
            (
                "Check the BMS cables of every battery and the chain to the Smart BMS.",
                (
                    "Check whether the batteries support the pre-alarm function. If not: open the "
                    "settings and set Battery pre-alarm usage to 'Pre-alarm not available'."
                ),
            ),
        ),
        _row(
            Code.E_B33,
            "Reference voltage failure",
            Severity.ERROR,
            "Internal failure: reference voltage failure or missing.",
            (
                (
                    "Contact your dealer for support: this fault cannot be corrected by the user "
                    "and the Smart BMS must be replaced."
                ),
            ),
            user_correctable=False,
        ),
        _row(
            Code.A_A12,
            "Short circuit",
            Severity.ALARM,
            (
                "The short-circuit protection acted on System+: a short circuit, an overload or an "
                "excessive inrush current."
            ),
            (
                "Check for a possible short circuit.",
                (
                    "Check that the load current does not exceed the rating of the Smart BMS "
                    "(200 A continuous, 400 A peak)."
                ),
                (
                    "Check for loose or high-resistance connections and make sure the installation "
                    "is wired correctly."
                ),
            ),
        ),
        _row(
            Code.A_B11,
            "Under-voltage",
            Severity.ALARM,
            (
                "The under-voltage protection acted: the battery does not allow discharge and the "
                "loads were disconnected."
            ),
            (
                "Switch off or disconnect the loads and recharge the battery.",
                "Check that the charging system and the battery work correctly.",
            ),
        ),
        _row(
            Code.A_B15,
            "Over-temperature",
            Severity.ALARM,
            (
                "The over-temperature protection acted: the internal temperature of the Smart BMS "
                "is too high."
            ),
            (
                (
                    "Make sure the right fuse is selected: the right fuse also keeps the "
                    "alternator and the DC wiring from overheating."
                ),
                (
                    "Check for loose or high-resistance connections and make sure the installation "
                    "is wired correctly."
                ),
                (
                    "Do not install the Smart BMS where it is exposed to high temperatures or "
                    "radiant heat. Move it to a cooler place or provide extra active cooling."
                ),
            ),
        ),
        _row(
            Code.W_B12,
            "Under-voltage warning",
            Severity.WARNING,
            (
                "The pre-alarm is active: a battery cell is close to under-voltage. Urgent "
                "intervention is required to prevent a shutdown of the system."
            ),
            (
                "Switch off or disconnect the loads and recharge the battery.",
                "Check that the charging system and the battery work correctly.",
            ),
        ),
    ]
)


def lookup_code(label: str) -> Code:
    """Find a code by its label, forgiving case and the dash ("a-b11", "AB11").

    Raises `KeyError` with the list of known codes when there is no such code.
    """
    wanted = label.strip().upper().replace("-", "").replace("_", "")
    for code in Code:
        if code.value.replace("-", "") == wanted:
            return code
    known = ", ".join(c.value for c in Code)
    msg = f"no code {label!r}; the codes are: {known}"
    raise KeyError(msg)
