"""The app's JSON shapes: a `TwinState` as the status page, the batteries, the cockpit and events.

One place turns the twin's frozen state into what the API, the SSE stream and the pages show, so
the page, `GET /api/status` and the stream never disagree. Every value is plain JSON (floats
rounded to what a display shows, enums by their labels).
"""

import math
from typing import Any

from smartbms.core.codes import Code
from smartbms.core.events import Event
from smartbms.core.settings import SETTING_SPECS, ChoiceSpec, NumberSpec, Settings
from smartbms.core.signals import LED_COLOURS, LED_NAMES
from smartbms.sim.results import event_record
from smartbms.twin import TwinState

SETTING_NAMES: tuple[str, ...] = (
    "fuse_type",
    "charge_limit_v",
    "prealarm_usage",
    "prealarm_mode",
    "remote_function",
)
"""The settings the settings page and `/api/settings` carry: the scenario file's `[bms]` names."""


def _r(value: float, digits: int = 3) -> float | None:
    """A float for JSON: rounded, and None where it is not finite."""
    return round(value, digits) if math.isfinite(value) else None


def messages(codes: frozenset[Code]) -> list[dict[str, str]]:
    """The active App. B codes with their titles, causes and remedies, in code order."""
    ordered = sorted(codes, key=lambda code: code.value)
    return [
        {
            "code": code.value,
            "title": code.info.name,
            "cause": code.info.cause,
            "remedy": " ".join(code.info.remedy),
            "severity": code.info.severity.value,
        }
        for code in ordered
    ]


def leds(state: TwinState) -> list[dict[str, str]]:
    """The seven front-panel LEDs, left to right (LED-1 ... LED-7)."""
    modes = state.outputs.leds.as_tuple()
    return [
        {"name": name, "colour": colour, "state": mode.value}
        for name, colour, mode in zip(LED_NAMES, LED_COLOURS, modes, strict=True)
    ]


def status(state: TwinState, clock: str) -> dict[str, Any]:
    """The status page (manual §3.5.1 step 4) plus the cockpit's view of the van ("twin").

    `clock` is the twin's time as the report reads it ('day 1 16:00:05', 'Fri 16:00:05').
    """
    readings = state.readings
    pct = readings.alternator_current_pct
    return {
        "battery_voltage_v": _r(readings.bank_voltage_v),
        "soft_switch_on": state.settings.soft_switch_on,
        "system_plus_on": state.outputs.system_plus_discharge_allowed,
        "alternator_voltage_v": _r(readings.ab_voltage_v),
        "system_plus_voltage_v": _r(readings.system_plus_voltage_v),
        "alternator_current_pct": None if pct is None else _r(pct, 1),
        "leds": leds(state),
        "messages": messages(state.outputs.codes),
        "sim_time_s": _r(state.t_s),
        "clock": clock,
        "fuse_type_prompt": readings.fuse_type_prompt,
        "twin": cockpit(state),
    }


def cockpit(state: TwinState) -> dict[str, Any]:
    """What the twin's operator sees beyond the app: engine, shore power, weather, devices."""
    alternator = state.alternator
    return {
        "engine_running": alternator is not None and alternator.running,
        "has_alternator": alternator is not None,
        "alternator_current_a": None if alternator is None else _r(alternator.current_a, 1),
        "shore_power": state.shore_power,
        "ambient_c": _r(state.ambient_c, 1),
        "solar_fraction": _r(state.solar_fraction, 2),
        "bank_soc_pct": _r(state.bank_soc_pct, 1),
        "bank_current_a": _r(state.bank_current_a, 2),
        "bms_temperature_c": _r(state.bms_temperature_c, 1),
        "installed_fuse": state.fuse.installed,
        "fuse_blown": state.fuse.blown,
        "faults": list(state.faults),
        "devices": [
            {
                "name": d.name,
                "type": d.type,
                "connection": d.connection,
                "on": d.on,
                "current_a": _r(d.current_a, 2),
                "stage": d.stage,
            }
            for d in state.devices
        ],
    }


def batteries(state: TwinState) -> list[dict[str, Any]]:
    """Each Lithium Battery Smart: voltage, cells, temperature, SoC and balancer."""
    return [
        {
            "number": b.number,
            "model": b.model,
            "capacity_ah": _r(b.capacity_ah, 1),
            "voltage_v": _r(b.voltage_v),
            "current_a": _r(b.current_a, 2),
            "soc_pct": _r(b.soc_pct, 1),
            "cell_voltages_v": [_r(v) for v in b.cell_voltages_v],
            "temperature_c": _r(b.temperature_c, 1),
            "balancer": b.balancer,
            "allowed_to_charge": b.allowed_to_charge,
            "allowed_to_discharge": b.allowed_to_discharge,
            "prealarm": b.prealarm,
            "damaged": b.damaged,
        }
        for b in state.batteries
    ]


def settings(values: Settings) -> dict[str, Any]:
    """The user's settings by their scenario-file names, as plain values."""
    mapping = values.to_mapping()
    return {name: mapping[name] for name in SETTING_NAMES}


def setting_ranges() -> dict[str, dict[str, Any]]:
    """What each setting accepts: the choices, or the range, step and unit (for the page)."""
    ranges: dict[str, dict[str, Any]] = {}
    for name in SETTING_NAMES:
        spec = SETTING_SPECS[name]
        if isinstance(spec, ChoiceSpec):
            ranges[name] = {"choices": [str(m.value) for m in spec.choices]}
        elif isinstance(spec, NumberSpec):
            ranges[name] = {
                "minimum": spec.minimum,
                "maximum": spec.maximum,
                "step": spec.step,
                "unit": spec.unit,
            }
        ranges[name]["allowed"] = spec.allowed
    return ranges


def event(seq: int, item: Event, clock: str) -> dict[str, Any]:
    """A BMS (or plant) event for the log and the stream: its sequence number and `clock` time."""
    record = event_record(item)
    return {"seq": seq, "clock": clock, **record}
