"""The seven front-panel LEDs of manual App. C, left to right: LED-1...LED-7."""

import dataclasses

import pytest

from smartbms.core import Controller, Inputs, LedMode, Leds
from smartbms.core.signals import LED_COLOURS, LED_NAMES
from tests.unit.helpers import ALTERNATOR, IDLE, PIN, controller

REMOTE_OFF = dataclasses.replace(
    IDLE, remote_lh_connected=False, remote_l_voltage_v=13.2, remote_h_voltage_v=0.0
)


def _leds(inputs: Inputs, ctrl: Controller | None = None, now_s: float = 0.0) -> Leds:
    ctrl = ctrl or controller()
    return ctrl.step(inputs, now_s).outputs.leds


@pytest.mark.req("LED-1", "LED-2", "LED-3", "LED-4", "LED-5", "LED-6", "LED-7")
def test_led_panel_order_and_colours() -> None:
    """LED-1/LED-2/LED-3/LED-4/LED-5/LED-6/LED-7: green, red, green, blue, yellow, orange,
    green, left to right."""
    assert LED_COLOURS == ("green", "red", "green", "blue", "yellow", "orange", "green")
    assert LED_NAMES == (
        "Alternator charging",
        "Over-temperature",
        "Smart BMS active",
        "Bluetooth",
        "Charge disconnect",
        "Load disconnect",
        "System+ charging",
    )
    healthy = _leds(IDLE)
    assert healthy.as_tuple() == (
        LedMode.OFF,  # no alternator current
        LedMode.OFF,  # not hot
        LedMode.ON,  # BMS active
        LedMode.BLINK,  # broadcasting, no app
        LedMode.ON,  # charge disconnect high
        LedMode.ON,  # load disconnect high
        LedMode.ON,  # System+ may charge
    )


@pytest.mark.req("LED-1")
def test_led1_alternator_charging_only_while_ab_current_flows() -> None:
    """LED-1: green while the AB port is enabled *and* current flows through the fuse."""
    ctrl = controller()
    flowing = dataclasses.replace(ALTERNATOR, alternator_fuse_drop_v=0.02)
    assert _leds(flowing, ctrl, 0.0).alternator_charging is LedMode.OFF  # still debouncing
    assert _leds(flowing, ctrl, 1.0).alternator_charging is LedMode.ON
    assert _leds(ALTERNATOR, ctrl, 2.0).alternator_charging is LedMode.OFF  # enabled, 0 A
    full = dataclasses.replace(flowing, bank_voltage_v=14.2)
    assert _leds(full, ctrl, 3.0).alternator_charging is LedMode.OFF  # port opened


@pytest.mark.req("LED-2", "ALT-8")
def test_led2_red_over_temperature() -> None:
    """LED-2/ALT-8: red on while the BMS over-temperature protection (A-B15) acts."""
    ctrl = controller()
    for t, temperature_c, mode in [
        (0.0, 84.9, LedMode.OFF),
        (1.0, 85.0, LedMode.ON),
        (2.0, 75.0, LedMode.ON),
        (3.0, 70.01, LedMode.ON),
        (4.0, 70.0, LedMode.OFF),
    ]:
        hot = dataclasses.replace(IDLE, internal_temperature_c=temperature_c)
        assert _leds(hot, ctrl, t).over_temperature is mode, temperature_c


@pytest.mark.req("LED-3", "REM-2", "SAFE")
def test_led3_smart_bms_active() -> None:
    """LED-3/REM-2/SAFE: on while BMS functionality runs (also OFF with the default function); off
    with
    'Switch everything off' while OFF; blinking in the safe state (error pattern)."""
    assert _leds(IDLE).bms_active is LedMode.ON
    assert _leds(REMOTE_OFF).bms_active is LedMode.ON
    everything = controller(remote_function="switch everything off")
    assert _leds(REMOTE_OFF, everything).bms_active is LedMode.OFF
    assert _leds(dataclasses.replace(IDLE, chain_connected=False)).bms_active is LedMode.BLINK


@pytest.mark.req("LED-4")
def test_led4_blue_blinks_while_broadcasting_and_is_steady_when_connected() -> None:
    """LED-4: blinking = broadcasting; steady = app connection established."""
    ctrl = controller()
    assert _leds(IDLE, ctrl, 0.0).bluetooth is LedMode.BLINK
    assert _leds(dataclasses.replace(IDLE, app_connected=True), ctrl, 1.0).bluetooth is LedMode.ON
    assert _leds(IDLE, ctrl, 2.0).bluetooth is LedMode.BLINK


@pytest.mark.req("LED-5", "OUT-3")
def test_led5_yellow_follows_the_charge_disconnect_output() -> None:
    """LED-5/OUT-3: yellow while the Charge disconnect output is high."""
    ctrl = controller()
    assert _leds(IDLE, ctrl, 0.0).charge_disconnect is LedMode.ON
    no_atc = dataclasses.replace(IDLE, allowed_to_charge=False)
    assert _leds(no_atc, ctrl, 1.0).charge_disconnect is LedMode.OFF
    assert _leds(IDLE, ctrl, 2.0).charge_disconnect is LedMode.ON


@pytest.mark.req("LED-6", "OUT-4")
def test_led6_orange_follows_the_load_disconnect_output() -> None:
    """LED-6/OUT-4: orange while Load disconnect is high; off from the disconnect on."""
    ctrl = controller()
    ctrl.step(IDLE, 0.0)
    no_atd = dataclasses.replace(IDLE, allowed_to_discharge=False)
    assert _leds(no_atd, ctrl, 1.0).load_disconnect is LedMode.ON  # 30 s lead
    assert _leds(no_atd, ctrl, 30.99).load_disconnect is LedMode.ON
    assert _leds(no_atd, ctrl, 31.0).load_disconnect is LedMode.OFF
    assert _leds(IDLE, ctrl, 40.0).load_disconnect is LedMode.ON


@pytest.mark.req("LED-7", "SP-3", "SP-4")
def test_led7_green_while_charging_from_system_plus_is_enabled() -> None:
    """LED-7/SP-3/SP-4: on while System+ may charge the bank: off with ATC withdrawn or the system
    OFF."""
    ctrl = controller()
    assert _leds(IDLE, ctrl, 0.0).system_plus_charging is LedMode.ON
    no_atc = dataclasses.replace(IDLE, allowed_to_charge=False)
    assert _leds(no_atc, ctrl, 1.0).system_plus_charging is LedMode.OFF
    assert _leds(IDLE, ctrl, 2.0).system_plus_charging is LedMode.ON
    assert _leds(REMOTE_OFF, ctrl, 3.0).system_plus_charging is LedMode.OFF
    ctrl.step(IDLE, 4.0)
    ctrl.change_settings({"soft_switch_on": False}, pin=PIN, now_s=5.0)
    assert _leds(IDLE, ctrl, 5.0).system_plus_charging is LedMode.OFF


@pytest.mark.req("LED-7", "SP-2")
def test_led7_stays_on_after_load_disconnect() -> None:
    """LED-7: after a load disconnect System+ still accepts charge (SP-2), so LED-7 stays on."""
    ctrl = controller()
    ctrl.step(IDLE, 0.0)
    no_atd = dataclasses.replace(IDLE, allowed_to_discharge=False)
    ctrl.step(no_atd, 1.0)
    leds = _leds(no_atd, ctrl, 31.0)
    assert leds.load_disconnect is LedMode.OFF
    assert leds.system_plus_charging is LedMode.ON
