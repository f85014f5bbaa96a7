"""Settings through the controller: paired changes, refusals, factory reset (CFG-1/2/4/5)."""

import pytest

from smartbms.core import (
    Controller,
    FuseType,
    PairingError,
    PreAlarmMode,
    PreAlarmUsage,
    RemoteFunction,
    Settings,
    SettingsError,
)
from smartbms.core.events import FactoryResetDone, SettingsChanged
from tests.unit.helpers import IDLE, PIN, controller

CUSTOM: dict[str, object] = {
    "fuse_type": "2x20A",
    "prealarm_usage": "pre-alarm not available",
    "prealarm_mode": "intermittent",
    "charge_limit_v": 14.4,
    "remote_function": "switch everything off",
    "soft_switch_on": False,
    "pin": "246810",
}


@pytest.mark.req("CFG-1", "CFG-5")
def test_cfg1_every_setting_can_be_changed_in_a_paired_session() -> None:
    """CFG-1/CFG-5: every setting of manual §3.5.1 (and the soft switch, and the PIN) is
    settable."""
    ctrl = controller()
    events = ctrl.change_settings(CUSTOM, pin=PIN, now_s=5.0)
    assert ctrl.settings == Settings(
        fuse_type=FuseType.ATO_2X20A,
        prealarm_usage=PreAlarmUsage.NOT_AVAILABLE,
        prealarm_mode=PreAlarmMode.INTERMITTENT,
        charge_limit_v=14.4,
        remote_function=RemoteFunction.EVERYTHING,
        soft_switch_on=False,
        pin="246810",
    )
    assert events == (
        SettingsChanged(5.0, "fuse_type", "not set", "2x20A"),
        SettingsChanged(5.0, "prealarm_usage", "use pre-alarm", "pre-alarm not available"),
        SettingsChanged(5.0, "prealarm_mode", "continuous", "intermittent"),
        SettingsChanged(5.0, "charge_limit_v", 14.2, 14.4),
        SettingsChanged(
            5.0, "remote_function", "alternator and system+ only", "switch everything off"
        ),
        SettingsChanged(5.0, "soft_switch_on", True, False),
        SettingsChanged(5.0, "pin", "******", "******"),
    )


@pytest.mark.req("CFG-1")
def test_cfg1_unchanged_values_raise_no_event() -> None:
    """CFG-1: only real changes are reported."""
    ctrl = controller()
    assert (
        ctrl.change_settings({"charge_limit_v": 14.2, "fuse_type": "not set"}, pin=PIN, now_s=1.0)
        == ()
    )


@pytest.mark.req("CFG-2")
@pytest.mark.parametrize(
    ("changes", "setting", "allowed"),
    [
        ({"charge_limit_v": 12.99}, "charge_limit_v", "13.0 to 15.3 V"),
        ({"charge_limit_v": 15.31}, "charge_limit_v", "13.0 to 15.3 V"),
        ({"fuse_type": "150A"}, "fuse_type", "2x7.5A"),
        ({"prealarm_mode": "loud"}, "prealarm_mode", "intermittent"),
        ({"prealarm_usage": "yes"}, "prealarm_usage", "pre-alarm not available"),
        ({"remote_function": "off"}, "remote_function", "switch everything off"),
        ({"soft_switch_on": "perhaps"}, "soft_switch_on", "on or off"),
        ({"pin": "1234"}, "pin", "6 digits"),
        ({"volume": 11}, "volume", "charge_limit_v"),
        ({"fuse_type": "100A", "charge_limit_v": 16.0}, "charge_limit_v", "13.0 to 15.3 V"),
    ],
)
def test_cfg2_refused_change_names_setting_and_range_and_changes_nothing(
    changes: dict[str, object], setting: str, allowed: str
) -> None:
    """CFG-2: refused with a message naming the setting and what is allowed; nothing changed,
    not even the good values sent along."""
    ctrl = controller(fuse_type="60A")
    ctrl.step(IDLE, 0.0)
    before = ctrl.settings
    with pytest.raises(SettingsError) as excinfo:
        ctrl.change_settings(changes, pin=PIN, now_s=1.0)
    assert excinfo.value.setting == setting
    assert setting in str(excinfo.value)
    assert allowed in str(excinfo.value)
    assert ctrl.settings is before
    assert ctrl.check_pin(PIN)
    assert ctrl.step(IDLE, 1.0).events == ()


@pytest.mark.req("CFG-4")
def test_cfg4_factory_reset_restores_every_setting_including_pin_and_fuse() -> None:
    """CFG-4: after a reset every setting is the factory one: PIN 000000, fuse type not set."""
    ctrl = controller()
    ctrl.change_settings(CUSTOM, pin=PIN, now_s=1.0)
    assert ctrl.settings.pin == "246810"
    events = ctrl.factory_reset(pin="246810", now_s=2.0)
    assert events == (FactoryResetDone(2.0),)
    assert ctrl.settings == Settings.factory()
    assert ctrl.settings.fuse_type is FuseType.NOT_SET
    assert ctrl.check_pin("000000")
    assert not ctrl.check_pin("246810")
    readings = ctrl.step(IDLE, 2.0).readings
    assert readings.fuse_type_prompt


@pytest.mark.req("CFG-4", "REM-3")
def test_cfg4_factory_reset_switches_the_soft_switch_back_on() -> None:
    """CFG-4/REM-3: the soft switch is a setting too: the reset turns it back on."""
    ctrl = controller(soft_switch_on=False)
    assert not ctrl.step(IDLE, 0.0).outputs.system_on
    ctrl.factory_reset(pin=PIN, now_s=1.0)
    assert ctrl.step(IDLE, 1.0).outputs.system_on


@pytest.mark.req("CFG-5")
def test_cfg5_default_pin_is_000000() -> None:
    """CFG-5: pairing with 000000 works out of the box; anything else does not."""
    ctrl = controller()
    assert ctrl.check_pin("000000")
    for wrong in ("", "000001", "00000", "0000000", "123456"):
        assert not ctrl.check_pin(wrong)


@pytest.mark.req("CFG-5")
@pytest.mark.parametrize("wrong_pin", ["", "000001", "123456", "00000"])
def test_cfg5_wrong_pin_refuses_changes_and_changes_nothing(wrong_pin: str) -> None:
    """CFG-5: without a paired session (wrong PIN): PairingError, no setting changed."""
    ctrl = controller()
    before = ctrl.settings
    with pytest.raises(PairingError, match="PIN"):
        ctrl.change_settings({"charge_limit_v": 13.5}, pin=wrong_pin, now_s=1.0)
    with pytest.raises(PairingError):
        ctrl.change_settings({"pin": "111111"}, pin=wrong_pin, now_s=1.0)
    assert ctrl.settings is before
    assert ctrl.check_pin(PIN)


@pytest.mark.req("CFG-5", "CFG-4")
def test_cfg5_wrong_pin_refuses_the_factory_reset() -> None:
    """CFG-5/CFG-4: a factory reset also needs the PIN; refused, nothing changes."""
    ctrl = controller(fuse_type="125A", pin="135790")
    with pytest.raises(PairingError):
        ctrl.factory_reset(pin=PIN, now_s=1.0)
    assert ctrl.settings.fuse_type is FuseType.MEGA_125A
    assert ctrl.check_pin("135790")


@pytest.mark.req("CFG-5")
def test_cfg5_a_new_pin_replaces_the_old_one() -> None:
    """CFG-5: after a PIN change only the new PIN pairs."""
    ctrl = controller()
    ctrl.change_settings({"pin": "424242"}, pin=PIN, now_s=1.0)
    with pytest.raises(PairingError):
        ctrl.change_settings({"prealarm_mode": "intermittent"}, pin=PIN, now_s=2.0)
    ctrl.change_settings({"prealarm_mode": "intermittent"}, pin="424242", now_s=3.0)
    assert ctrl.settings.prealarm_mode is PreAlarmMode.INTERMITTENT


@pytest.mark.req("CFG-5", "ERR-2")
def test_cfg5_e_b31_device_pairs_with_the_factory_pin() -> None:
    """CFG-5/ERR-2: a device with corrupt configuration runs on factory settings, so the app
    pairs with 000000 to do the factory reset."""
    ctrl = Controller(Settings(pin="999999"), config_valid=False)
    assert ctrl.check_pin("000000")
    assert ctrl.factory_reset(pin="000000", now_s=0.0) == (FactoryResetDone(0.0),)
