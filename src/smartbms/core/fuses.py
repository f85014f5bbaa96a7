"""The alternator fuse table (manual §3.4, table 1) and the fuse-as-shunt model (ALT-3, ALT-4).

The BMS limits the AB current by regulating the voltage drop across the installed fuse to
`FUSE_SENSE_REF_V`. Each fuse type therefore has a sense resistance `FUSE_SENSE_REF_V / limit`:
the physically installed fuse sets the real limit, while the *fuse type setting* is only used to
turn the measured drop back into amperes for display. A mismatch shows a wrong current, exactly as
the manual warns ("make sure it matches with the physically installed fuse").
"""

import enum

from smartbms.core.constants import FUSE_SENSE_REF_V


class FuseType(enum.Enum):
    """A fuse the AB port accepts, valued by its label; `NOT_SET` is the factory setting."""

    NOT_SET = "not set"
    MEGA_125A = "125A"
    MEGA_100A = "100A"
    MEGA_80A = "80A"
    MEGA_60A = "60A"
    ATO_2X30A = "2x30A"
    ATO_2X20A = "2x20A"
    ATO_2X15A = "2x15A"
    ATO_2X10A = "2x10A"
    ATO_2X7_5A = "2x7.5A"

    @property
    def current_limit_a(self) -> float:
        """The manual's maximum alternator charge current with this fuse (table 1)."""
        if self is FuseType.NOT_SET:
            msg = "the fuse type is not set, so it has no current limit"
            raise ValueError(msg)
        return FUSE_CURRENT_LIMIT_A[self]

    @property
    def sense_resistance_ohm(self) -> float:
        """The fuse's resistance as the limiter's shunt (ALT-4)."""
        return FUSE_SENSE_REF_V / self.current_limit_a

    @property
    def is_ato_pair(self) -> bool:
        """Fitted as a pair in the supplied ATO holder (manual §3.4: for limits below 40 A)."""
        return self.value.startswith("2x")


FUSE_CURRENT_LIMIT_A: dict[FuseType, float] = {
    FuseType.MEGA_125A: 100.0,
    FuseType.MEGA_100A: 90.0,
    FuseType.MEGA_80A: 60.0,
    FuseType.MEGA_60A: 50.0,
    FuseType.ATO_2X30A: 40.0,
    FuseType.ATO_2X20A: 25.0,
    FuseType.ATO_2X15A: 20.0,
    FuseType.ATO_2X10A: 12.0,
    FuseType.ATO_2X7_5A: 9.0,
}
"""manual §3.4 table 1: fuse rating -> maximum alternator charge current."""

INSTALLABLE_FUSES: tuple[FuseType, ...] = tuple(FUSE_CURRENT_LIMIT_A)
"""The nine fuses a user can install, largest first."""


def parse_fuse_type(text: str) -> FuseType:
    """Read a fuse label as a user writes it ("125A", "2 x 7.5 A", "not set").

    Raises `ValueError` naming the allowed labels when the text is none of them.
    """
    normalized = text.strip().lower().replace(" ", "").replace("×", "x")  # noqa: RUF001
    for fuse in FuseType:
        if normalized == fuse.value.lower().replace(" ", ""):
            return fuse
    allowed = ", ".join(f.value for f in FuseType)
    msg = f"unknown fuse type {text!r}; allowed: {allowed}"
    raise ValueError(msg)
