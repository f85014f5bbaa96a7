"""The settings value: every setting of manual §3.5.1, its range and its refusals (CFG-1/2/4/5)."""

import math

import pytest

from smartbms.core import (
    FuseType,
    PreAlarmMode,
    PreAlarmUsage,
    RemoteFunction,
    Settings,
    SettingsError,
)
from smartbms.core.fuses import INSTALLABLE_FUSES
from smartbms.core.settings import SETTING_SPECS


@pytest.mark.req("CFG-1", "CFG-4", "CFG-5")
def test_cfg1_factory_defaults() -> None:
    """CFG-1/CFG-4/CFG-5: fuse not set, use pre-alarm, continuous, 14.2 V, AB and System+ only,
    soft switch on, PIN 000000."""
    factory = Settings.factory()
    assert factory == Settings()
    assert factory.fuse_type is FuseType.NOT_SET
    assert factory.prealarm_usage is PreAlarmUsage.USE
    assert factory.prealarm_mode is PreAlarmMode.CONTINUOUS
    assert factory.charge_limit_v == 14.2
    assert factory.remote_function is RemoteFunction.ALTERNATOR_AND_SYSTEM_PLUS
    assert factory.soft_switch_on is True
    assert factory.pin == "000000"


@pytest.mark.req("CFG-1")
@pytest.mark.parametrize("fuse", [FuseType.NOT_SET, *INSTALLABLE_FUSES])
def test_cfg1_fuse_type_takes_each_of_the_nine_types_or_not_set(fuse: FuseType) -> None:
    """CFG-1: fuse type: the nine types of ALT-3, or not set; by enum or by label."""
    assert Settings.factory().changed(fuse_type=fuse).fuse_type is fuse
    assert Settings.factory().changed(fuse_type=fuse.value).fuse_type is fuse


@pytest.mark.req("CFG-1")
@pytest.mark.parametrize(
    ("name", "label", "value"),
    [
        ("prealarm_usage", "use pre-alarm", PreAlarmUsage.USE),
        ("prealarm_usage", "pre-alarm not available", PreAlarmUsage.NOT_AVAILABLE),
        ("prealarm_mode", "continuous", PreAlarmMode.CONTINUOUS),
        ("prealarm_mode", "intermittent", PreAlarmMode.INTERMITTENT),
        (
            "remote_function",
            "alternator and system+ only",
            RemoteFunction.ALTERNATOR_AND_SYSTEM_PLUS,
        ),
        ("remote_function", "switch everything off", RemoteFunction.EVERYTHING),
        ("soft_switch_on", "off", False),
        ("soft_switch_on", "on", True),
    ],
)
def test_cfg1_choice_settings_take_each_choice_by_label_and_value(
    name: str, label: str, value: object
) -> None:
    """CFG-1: pre-alarm usage, pre-alarm mode, remote function, soft switch."""
    by_label = Settings.factory().changed(**{name: label})
    by_value = Settings.factory().changed(**{name: value})
    assert getattr(by_label, name) == value
    assert getattr(by_value, name) == value
    assert by_label == by_value


@pytest.mark.req("CFG-1")
@pytest.mark.parametrize("limit_v", [13.0, 13.01, 13.7, 14.2, 14.4, 15.29, 15.3])
def test_cfg1_charge_limit_accepts_13v0_to_15v3_inclusive(limit_v: float) -> None:
    """CFG-1: battery charge limit 13.0...15.3 V, both ends included."""
    assert Settings.factory().changed(charge_limit_v=limit_v).charge_limit_v == limit_v
    assert Settings.factory().changed(charge_limit_v=f"{limit_v} V").charge_limit_v == limit_v


@pytest.mark.req("CFG-1")
def test_cfg1_settings_round_trip_through_plain_values() -> None:
    """CFG-1: every setting survives to_mapping/from_mapping (what the store writes)."""
    custom = Settings(
        fuse_type=FuseType.ATO_2X7_5A,
        prealarm_usage=PreAlarmUsage.NOT_AVAILABLE,
        prealarm_mode=PreAlarmMode.INTERMITTENT,
        charge_limit_v=13.9,
        remote_function=RemoteFunction.EVERYTHING,
        soft_switch_on=False,
        pin="123456",
    )
    plain = custom.to_mapping()
    assert plain == {
        "fuse_type": "2x7.5A",
        "prealarm_usage": "pre-alarm not available",
        "prealarm_mode": "intermittent",
        "charge_limit_v": 13.9,
        "remote_function": "switch everything off",
        "soft_switch_on": False,
        "pin": "123456",
    }
    assert Settings.from_mapping(plain) == custom


@pytest.mark.req("CFG-2")
@pytest.mark.parametrize(
    "limit",
    [12.99, 15.31, 15.300001, 12.9999, 0.0, -14.2, 100.0, math.nan, math.inf, -math.inf],
)
def test_cfg2_charge_limit_out_of_range_is_refused_naming_the_range(limit: float) -> None:
    """CFG-2: charge limit outside 13.0...15.3 V: refused, the message names setting and range."""
    with pytest.raises(SettingsError) as excinfo:
        Settings.factory().changed(charge_limit_v=limit)
    assert excinfo.value.setting == "charge_limit_v"
    assert "charge_limit_v" in str(excinfo.value)
    assert "13.0 to 15.3 V" in str(excinfo.value)


@pytest.mark.req("CFG-2")
@pytest.mark.parametrize("limit", ["fourteen", "", None, True, [14.2]])
def test_cfg2_charge_limit_of_wrong_type_is_refused(limit: object) -> None:
    """CFG-2: a charge limit that is no number is refused naming the range."""
    with pytest.raises(SettingsError, match=r"charge_limit_v.*13\.0 to 15\.3 V"):
        Settings.factory().changed(charge_limit_v=limit)


@pytest.mark.req("CFG-2")
@pytest.mark.parametrize(
    ("name", "value", "allowed_words"),
    [
        ("fuse_type", "150A", ["125A", "2x7.5A", "not set"]),
        ("fuse_type", 125, ["125A", "not set"]),
        ("prealarm_usage", "sometimes", ["use pre-alarm", "pre-alarm not available"]),
        ("prealarm_usage", PreAlarmMode.CONTINUOUS, ["use pre-alarm"]),
        ("prealarm_mode", "blinking", ["continuous", "intermittent"]),
        ("remote_function", "everything", ["alternator and system+ only", "switch everything off"]),
        ("soft_switch_on", "maybe", ["on", "off"]),
        ("soft_switch_on", 1, ["true", "false"]),
        ("pin", "12345", ["6 digits"]),
        ("pin", "1234567", ["6 digits"]),
        ("pin", "12a456", ["6 digits"]),
        ("pin", 123456, ["6 digits"]),
    ],
)
def test_cfg2_unknown_values_are_refused_naming_setting_and_allowed(
    name: str, value: object, allowed_words: list[str]
) -> None:
    """CFG-2: an unknown value names the setting and every allowed value."""
    with pytest.raises(SettingsError) as excinfo:
        Settings.factory().changed(**{name: value})
    assert excinfo.value.setting == name
    message = str(excinfo.value)
    assert name in message
    for word in allowed_words:
        assert word in message


@pytest.mark.req("CFG-2")
def test_cfg2_unknown_setting_name_is_refused_listing_the_settings() -> None:
    """CFG-2: a setting that does not exist is refused, naming it and the real ones."""
    with pytest.raises(SettingsError) as excinfo:
        Settings.factory().changed(max_current_a=50)
    assert excinfo.value.setting == "max_current_a"
    for name in ("fuse_type", "charge_limit_v", "prealarm_mode", "remote_function"):
        assert name in str(excinfo.value)


@pytest.mark.req("CFG-2")
def test_cfg2_pin_is_never_echoed_in_a_refusal() -> None:
    """CFG-2/CFG-5: a refused PIN names the setting but does not repeat the digits."""
    with pytest.raises(SettingsError) as excinfo:
        Settings.factory().changed(pin="98765")
    assert "98765" not in str(excinfo.value)
    assert "pin" in str(excinfo.value)


@pytest.mark.req("CFG-2")
def test_cfg2_a_refused_change_changes_nothing() -> None:
    """CFG-2: all or nothing: one bad value among good ones leaves the settings as they were."""
    before = Settings(fuse_type=FuseType.MEGA_100A, charge_limit_v=14.0)
    with pytest.raises(SettingsError, match="charge_limit_v"):
        before.changed(prealarm_mode="intermittent", fuse_type="60A", charge_limit_v=16.0)
    assert before == Settings(fuse_type=FuseType.MEGA_100A, charge_limit_v=14.0)


@pytest.mark.req("CFG-2")
def test_cfg2_constructor_refuses_like_changed() -> None:
    """CFG-2: a Settings value is valid by construction, whichever way it is built."""
    with pytest.raises(SettingsError, match="charge_limit_v"):
        Settings(charge_limit_v=15.4)
    with pytest.raises(SettingsError, match="fuse_type"):
        Settings(fuse_type="125A")  # type: ignore[arg-type]


@pytest.mark.req("CFG-4")
def test_cfg4_factory_restores_every_setting() -> None:
    """CFG-4: whatever was set, the factory value has PIN 000000 and fuse type not set."""
    custom = Settings(
        fuse_type=FuseType.MEGA_125A,
        prealarm_usage=PreAlarmUsage.NOT_AVAILABLE,
        prealarm_mode=PreAlarmMode.INTERMITTENT,
        charge_limit_v=15.3,
        remote_function=RemoteFunction.EVERYTHING,
        soft_switch_on=False,
        pin="654321",
    )
    factory = custom.factory()
    for name, value in factory.to_mapping().items():
        assert value != custom.to_mapping()[name], name
    assert factory.pin == "000000"
    assert factory.fuse_type is FuseType.NOT_SET


@pytest.mark.req("CFG-1", "CFG-2")
def test_the_spec_table_defines_every_setting_once() -> None:
    """CFG-1/CFG-2: one spec per field, in field order, holding the factory default."""
    assert tuple(SETTING_SPECS) == tuple(Settings.factory().to_mapping())
    factory = Settings.factory()
    for name, spec in SETTING_SPECS.items():
        assert spec.name == name
        assert getattr(factory, name) == spec.default


@pytest.mark.req("CFG-2")
@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("fuse_type", "150A"),
        ("prealarm_usage", 3),
        ("prealarm_mode", "loud"),
        ("charge_limit_v", 16.0),
        ("remote_function", None),
        ("soft_switch_on", "maybe"),
        ("pin", "1"),
    ],
)
def test_a_refusal_names_what_the_spec_allows(name: str, value: object) -> None:
    """CFG-2: the allowed values in a refusal are the spec's, whichever way the value came."""
    with pytest.raises(SettingsError) as excinfo:
        Settings.factory().changed(**{name: value})
    assert excinfo.value.allowed == SETTING_SPECS[name].allowed
