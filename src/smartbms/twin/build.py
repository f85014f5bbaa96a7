"""Turn a validated scenario into plant objects and a controller (the composition of a run)."""

from smartbms import scenario as sc
from smartbms.core.controller import Controller
from smartbms.plant.battery import LithiumBattery
from smartbms.plant.devices import DEVICE_TYPES, Cable, Connection, Control, Device, RemoteInput
from smartbms.plant.system import RemoteWiring, Surroundings, TwelveVoltSystem
from smartbms.plant.vehicle import Alternator, StarterBattery

_CONNECTION = {"bank": Connection.BANK, "system+": Connection.SYSTEM_PLUS}
_CONTROL = {
    "none": Control.NONE,
    "load disconnect": Control.LOAD_DISCONNECT,
    "charge disconnect": Control.CHARGE_DISCONNECT,
    "both": Control.BOTH,
    "pre-alarm": Control.PREALARM,
}
_CABLE = {
    "direct": Cable.DIRECT,
    "inverting": Cable.INVERTING,
    "non-inverting": Cable.NON_INVERTING,
    "ve.direct non-inverting": Cable.VEDIRECT_NON_INVERTING,
    "multiplus cable": Cable.MULTIPLUS_CABLE,
}
_REMOTE_INPUT = {
    "high-active": RemoteInput.HIGH_ACTIVE,
    "low-active": RemoteInput.LOW_ACTIVE,
    "ve.direct": RemoteInput.VEDIRECT,
}
_COMMON = ("name", "connection", "control", "cable", "remote_jumper", "remote_input", "type")


def build_device(config: sc.DeviceBase) -> Device:
    """One plant device from its [[device]] table."""
    kind = config.device_type
    params: dict[str, object] = {
        key: value
        for key, value in config.model_dump().items()
        if key not in _COMMON and value is not None
    }
    params["name"] = config.name
    if kind == "alarm":
        params["control"] = _CONTROL[config.control]
    elif kind != "residual-load":
        params["connection"] = _CONNECTION[config.connection]
        params["control"] = _CONTROL[config.control]
        params["cable"] = _CABLE[config.cable]
        params["remote_input"] = _REMOTE_INPUT[config.remote_input]
        params["remote_jumper"] = config.remote_jumper
    if kind == "solar-charger" and params.get("model") is None:
        params.pop("model", None)
    return DEVICE_TYPES[kind](**params)  # type: ignore[arg-type]


def build_system(scenario: sc.Scenario) -> TwelveVoltSystem:
    """The 12 V system of a scenario at t = 0."""
    batteries = [
        LithiumBattery(config.params, config.options()) for config in scenario.expanded_batteries()
    ]
    # the tables' keys are the parameters of their parts (the alternator's mode a flag, its
    # speed an engine rpm)
    alternator = None
    if scenario.alternator is not None:
        a = scenario.alternator
        alternator = Alternator(
            **a.model_dump(exclude={"mode", "speed"}),
            smart_mode=a.mode == "smart",
            engine_rpm=a.engine_rpm,
        )
    starter = None
    if scenario.starter_battery is not None:
        starter = StarterBattery(**scenario.starter_battery.model_dump())
    bms = scenario.bms
    return TwelveVoltSystem(
        batteries=batteries,
        devices=[build_device(d) for d in scenario.device],
        installed_fuse=bms.installed_fuse,
        alternator=alternator,
        starter=starter,
        ab_wiring_resistance_ohm=bms.ab_wiring_resistance_ohm,
        system_plus_resistance_ohm=bms.system_plus_resistance_ohm,
        bms_temperature_c=bms.temperature_c,
        remote=RemoteWiring(mode=bms.remote_terminal, closed=bms.remote_closed),
        surroundings=Surroundings(
            ambient_c=scenario.ambient_c_at(0.0), solar_fraction=scenario.sun_fraction_at(0.0)
        ),
        app_connected=bms.app_connected,
    )


def build_controller(scenario: sc.Scenario) -> Controller:
    """The BMS with the scenario's settings."""
    return Controller(scenario.settings())
