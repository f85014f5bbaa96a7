"""The alternator fuse table (manual §3.4 table 1) and the fuse-as-shunt model (ALT-3, ALT-4)."""

import pytest

from smartbms.core.constants import FUSE_SENSE_REF_V
from smartbms.core.fuses import (
    FUSE_CURRENT_LIMIT_A,
    INSTALLABLE_FUSES,
    FuseType,
    parse_fuse_type,
)

TABLE_1: list[tuple[FuseType, str, float]] = [
    (FuseType.MEGA_125A, "125A", 100.0),
    (FuseType.MEGA_100A, "100A", 90.0),
    (FuseType.MEGA_80A, "80A", 60.0),
    (FuseType.MEGA_60A, "60A", 50.0),
    (FuseType.ATO_2X30A, "2x30A", 40.0),
    (FuseType.ATO_2X20A, "2x20A", 25.0),
    (FuseType.ATO_2X15A, "2x15A", 20.0),
    (FuseType.ATO_2X10A, "2x10A", 12.0),
    (FuseType.ATO_2X7_5A, "2x7.5A", 9.0),
]
"""manual §3.4 table 1, copied by hand: fuse rating -> maximum alternator charge current."""


@pytest.mark.req("ALT-3")
@pytest.mark.parametrize(("fuse", "label", "limit_a"), TABLE_1)
def test_alt3_each_fuse_limits_to_the_manuals_current(
    fuse: FuseType, label: str, limit_a: float
) -> None:
    """ALT-3: every row of table 1, to the ampere."""
    assert fuse.value == label
    assert fuse.current_limit_a == limit_a


@pytest.mark.req("ALT-3")
def test_alt3_exactly_the_nine_fuses_of_table_1_largest_first() -> None:
    """ALT-3: nine installable fuses, 125 A first (maximum 100 A), 2x7.5 A last."""
    assert tuple(fuse for fuse, _, _ in TABLE_1) == INSTALLABLE_FUSES
    assert {fuse: limit for fuse, _, limit in TABLE_1} == FUSE_CURRENT_LIMIT_A
    assert max(fuse.current_limit_a for fuse in INSTALLABLE_FUSES) == 100.0
    assert FuseType.NOT_SET not in INSTALLABLE_FUSES


@pytest.mark.req("ALT-3")
@pytest.mark.parametrize(("fuse", "label", "limit_a"), TABLE_1)
def test_alt3_below_40a_the_ato_pair_holder_is_used(
    fuse: FuseType, label: str, limit_a: float
) -> None:
    """ALT-3: the ATO pair holder carries exactly the fuses with a limit of 40 A or less."""
    assert fuse.is_ato_pair == label.startswith("2x")
    assert fuse.is_ato_pair == (limit_a <= 40.0)


@pytest.mark.req("ALT-4")
@pytest.mark.parametrize(("fuse", "label", "limit_a"), TABLE_1)
def test_alt4_fuse_resistance_is_sense_reference_over_limit(
    fuse: FuseType, label: str, limit_a: float
) -> None:
    """ALT-4: R = FUSE_SENSE_REF_V / limit, with FUSE_SENSE_REF_V = 0.050 V."""
    assert FUSE_SENSE_REF_V == 0.050
    assert fuse.sense_resistance_ohm == pytest.approx(0.050 / limit_a, rel=1e-12)
    # The drop across the fuse at its limit is exactly the sense reference.
    assert limit_a * fuse.sense_resistance_ohm == pytest.approx(0.050, rel=1e-12)


@pytest.mark.req("ALT-10")
def test_alt10_not_set_has_no_limit_and_no_resistance() -> None:
    """ALT-10: the factory fuse type 'not set' has no current limit to compute a current with."""
    with pytest.raises(ValueError, match="not set"):
        _ = FuseType.NOT_SET.current_limit_a
    with pytest.raises(ValueError, match="not set"):
        _ = FuseType.NOT_SET.sense_resistance_ohm


@pytest.mark.req("CFG-1")
@pytest.mark.parametrize(
    ("text", "fuse"),
    [
        ("125A", FuseType.MEGA_125A),
        ("125 A", FuseType.MEGA_125A),
        ("2x7.5A", FuseType.ATO_2X7_5A),
        ("2 x 7.5 A", FuseType.ATO_2X7_5A),
        ("2\N{MULTIPLICATION SIGN}10A", FuseType.ATO_2X10A),
        ("not set", FuseType.NOT_SET),
        ("  60a ", FuseType.MEGA_60A),
    ],
)
def test_cfg1_fuse_labels_parse_as_users_write_them(text: str, fuse: FuseType) -> None:
    """CFG-1: the fuse type setting accepts the nine labels of table 1 and 'not set'."""
    assert parse_fuse_type(text) is fuse


@pytest.mark.req("CFG-2")
@pytest.mark.parametrize("text", ["150A", "200A", "2x25A", "", "fuse"])
def test_cfg2_unknown_fuse_label_is_refused_naming_the_allowed_labels(text: str) -> None:
    """CFG-2: an unknown fuse is refused, and the message lists every allowed label."""
    with pytest.raises(ValueError, match="unknown fuse type") as excinfo:
        parse_fuse_type(text)
    for fuse in FuseType:
        assert fuse.value in str(excinfo.value)
