"""Hypothesis strategies for the controller's inputs, clustered where the decisions are made.

Uniform floats almost never land on a threshold, and thresholds are where a controller goes
wrong, so every strategy mixes the exact boundary values (and their neighbouring floats) with
a few wider ranges.
"""

import dataclasses
import math

from hypothesis import strategies as st

from smartbms.core import constants as c
from smartbms.core.fuses import INSTALLABLE_FUSES, FuseType
from smartbms.core.settings import PreAlarmMode, PreAlarmUsage, RemoteFunction, Settings
from smartbms.core.signals import Inputs


def around(value: float, spread: float) -> st.SearchStrategy[float]:
    """`value`, its float neighbours, and a small band around it."""
    return st.one_of(
        st.sampled_from([value, math.nextafter(value, math.inf), math.nextafter(value, -math.inf)]),
        st.floats(value - spread, value + spread),
    )


ab_voltages_v: st.SearchStrategy[float] = st.one_of(
    around(c.ALT_ENGAGE_V, 0.05),  # ALT-1: the 13.0 V threshold
    around(c.ALT_INPUT_MAX_V, 0.1),  # ALT-9: the 16 V input maximum
    st.floats(12.0, 15.0),  # typical starter battery / alternator voltages
    st.sampled_from([0.0, 12.5, 14.4, 17.0]),
)
"""V_AB (ALT-1, ALT-9)."""

bank_offsets_v: st.SearchStrategy[float] = st.one_of(
    around(0.0, 0.02),  # at the charge limit
    around(-c.ALT_RECONNECT_HYST_V, 0.02),  # at the release threshold, limit - 0.5 V
    st.floats(-0.8, 0.1),
)
"""Bank voltage relative to the charge limit (ALT-5)."""

bank_voltages_v: st.SearchStrategy[float] = st.floats(11.0, 15.5)
"""Absolute bank voltages, for the cases the offset does not cover."""

temperatures_c: st.SearchStrategy[float] = st.one_of(
    st.sampled_from([25.0, 40.0]),  # normal: most runs should spend time without A-B15
    around(c.BMS_OVERTEMP_RELEASE_C, 0.5),
    around(c.BMS_DERATE_START_C, 0.5),
    around(c.BMS_OVERTEMP_TRIP_C, 0.5),
    st.floats(20.0, 95.0),
)
"""The BMS's internal temperature (ALT-8, A-B15)."""


def _both_signs(magnitudes: list[float]) -> list[float]:
    return [sign * m for m in magnitudes for sign in (1.0, -1.0)]


_SP_MAGNITUDES_A = (
    50.0,
    c.SP_CONTINUOUS_A,
    c.SP_CONTINUOUS_A + 1.0,
    c.SP_PEAK_A,
    c.SP_PEAK_A + 1.0,
    c.SP_SHORT_CIRCUIT_A,
    c.SP_SHORT_CIRCUIT_A + 1.0,
)

system_plus_currents_a: st.SearchStrategy[float] = st.one_of(
    st.sampled_from([0.0, *_both_signs(list(_SP_MAGNITUDES_A))]),
    st.floats(-700.0, 700.0),
)
"""What System+ would carry with the port closed (positive into the bank; SP-1, SP-5)."""

remote_l_voltages_v: st.SearchStrategy[float] = st.sampled_from(
    [0.0, math.nextafter(c.REMOTE_L_LOW_MAX_V, 0.0), c.REMOTE_L_LOW_MAX_V, 13.2]
)
"""Terminal L: pulled to minus (ON), just below/at 5 V, or open at its pull-up (REM-1)."""

remote_h_voltages_v: st.SearchStrategy[float] = st.sampled_from(
    [0.0, c.REMOTE_H_HIGH_MIN_V, math.nextafter(c.REMOTE_H_HIGH_MIN_V, math.inf), 12.0]
)
"""Terminal H: open (0 V), at/just above 3 V, or driven high (REM-1)."""

charge_limits_v: st.SearchStrategy[float] = st.one_of(
    st.sampled_from([c.CHARGE_LIMIT_MIN_V, c.CHARGE_LIMIT_DEFAULT_V, c.CHARGE_LIMIT_MAX_V]),
    st.integers(1300, 1530).map(lambda centivolts: centivolts / 100),
)
"""Valid battery charge limits (CFG-1, ALT-5)."""

fuse_types: st.SearchStrategy[FuseType] = st.sampled_from(list(FuseType))
"""A fuse type setting, including *not set*."""

installed_fuses: st.SearchStrategy[FuseType] = st.sampled_from(list(INSTALLABLE_FUSES))
"""A fuse physically installed on AB (ALT-4)."""

settings_values: st.SearchStrategy[Settings] = st.builds(
    Settings,
    fuse_type=fuse_types,
    prealarm_usage=st.sampled_from(list(PreAlarmUsage)),
    prealarm_mode=st.sampled_from(list(PreAlarmMode)),
    charge_limit_v=charge_limits_v,
    remote_function=st.sampled_from(list(RemoteFunction)),
    soft_switch_on=st.sampled_from([True, True, True, False]),
)
"""Whole valid settings (the PIN stays the factory 000000)."""

one_setting_change: st.SearchStrategy[tuple[str, object]] = st.one_of(
    st.tuples(st.just("soft_switch_on"), st.booleans()),
    st.tuples(st.just("remote_function"), st.sampled_from(list(RemoteFunction))),
    st.tuples(st.just("prealarm_usage"), st.sampled_from(list(PreAlarmUsage))),
    st.tuples(st.just("prealarm_mode"), st.sampled_from(list(PreAlarmMode))),
    st.tuples(st.just("charge_limit_v"), charge_limits_v),
    st.tuples(st.just("fuse_type"), fuse_types),
)
"""One setting and a valid new value for it."""


# --- what a failing sensor or a careless caller hands the controller (issue 11) -------------------

MEASURABLE_RANGES: dict[str, tuple[float, float]] = {
    **dict.fromkeys(
        (
            "bank_voltage_v",
            "ab_voltage_v",
            "system_plus_voltage_v",
            "remote_l_voltage_v",
            "remote_h_voltage_v",
            "alternator_fuse_drop_v",
        ),
        (-c.MEASURABLE_V, c.MEASURABLE_V),
    ),
    "system_plus_current_a": (-c.MEASURABLE_SYSTEM_PLUS_A, c.MEASURABLE_SYSTEM_PLUS_A),
    "internal_temperature_c": (c.MEASURABLE_MIN_C, c.MEASURABLE_MAX_C),
    "prealarm_output_current_a": (-c.MEASURABLE_PREALARM_A, c.MEASURABLE_PREALARM_A),
}
"""Every measured `Inputs` field and what its sensor can read, written from the constants."""
SWITCH_FIELDS: tuple[str, ...] = tuple(
    field.name for field in dataclasses.fields(Inputs) if field.type is bool
)
"""Every bool field of `Inputs`."""


def readable(name: str, value: object) -> bool:
    """The test's own judgement: a number the sensor of `name` can read (no NaN, no inf)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    low, high = MEASURABLE_RANGES[name]
    return low <= value <= high


def impossible_values(name: str) -> st.SearchStrategy[object]:
    """Readings no sensor of `name` can give: non-finite, huge, just outside its range."""
    low, high = MEASURABLE_RANGES[name]
    return st.one_of(
        st.sampled_from(
            [
                math.nan,
                math.inf,
                -math.inf,
                1e300,
                -1e300,
                10**400,
                -(10**400),
                math.nextafter(high, math.inf),
                math.nextafter(low, -math.inf),
            ]
        ),
        st.floats(high, 1e308, exclude_min=True),
        st.floats(-1e308, low, exclude_max=True),
    )


def extreme_but_readable(name: str) -> st.SearchStrategy[float]:
    """Readings at the edges of what the sensor of `name` can give (valid, however unlikely)."""
    low, high = MEASURABLE_RANGES[name]
    return st.one_of(st.sampled_from([low, high, 0.0, -0.0]), st.floats(low, high))


wrong_for_bool: st.SearchStrategy[object] = st.sampled_from(
    ["false", "true", "False", "", "0", 0, 1, 0.0, 1.0, None, [], [True], b"\x00"]
)
"""Not a bool: the string "false" above all (it is truthy)."""
wrong_for_number: st.SearchStrategy[object] = st.one_of(
    st.sampled_from(["13.2", "nan", "", True, False, None, b"1", 1j, [13.2], (13.2,)]),
    st.text(max_size=5),
)
"""Not a number: text that looks like one, bools, None, containers."""
