"""The devices of the twin: loads, inverters, chargers, switches and alarms around the bank.

    context    DeviceContext: the time, the world and the BMS outputs, as every device sees them
    wiring     how a remote input is tied to a BMS output, the signal chain, wiring checks
    base       Device (the solver's contract, save_state/load_state),
               SwitchedDevice (the keywords every switched device shares)
    charging   ChargeAlgorithm: bulk, absorption, float and re-bulk of a Victron charger
    low_battery, inverter_models   an inverter's own low-battery monitor and efficiency curve
    loads      DcLoad, ResidualLoad, Alarm
    inverters  Inverter, InverterCharger
    chargers   Charger, SolarCharger
    switches   BatteryProtect, CyrixLiLoad, CyrixLiCharge
    factory    make_device, DEVICE_TYPES

The names below are the package's public face; the defaults (constants) live in the modules.
"""

from smartbms.plant.devices.base import (
    Device,
    DeviceSnapshot,
    Role,
    current_draw_a,
    power_draw_a,
)
from smartbms.plant.devices.chargers import Charger, SolarCharger, mppt_rating, mppt_remote_input
from smartbms.plant.devices.charging import (
    ChargeAlgorithm,
    ChargeSnapshot,
    ChargeStage,
    Rebulk,
)
from smartbms.plant.devices.context import DeviceContext
from smartbms.plant.devices.factory import DEVICE_TYPES, make_device
from smartbms.plant.devices.inverters import Inverter, InverterCharger
from smartbms.plant.devices.loads import Alarm, DcLoad, ResidualLoad
from smartbms.plant.devices.switches import BatteryProtect, CyrixLiCharge, CyrixLiLoad
from smartbms.plant.devices.wiring import (
    Cable,
    Connection,
    Control,
    RemoteInput,
    Terminal,
    Wiring,
    cable_terminal,
    check_wiring,
    input_is_on,
    remote_enabled,
    wiring_warnings,
)

__all__ = [
    "DEVICE_TYPES",
    "Alarm",
    "BatteryProtect",
    "Cable",
    "ChargeAlgorithm",
    "ChargeSnapshot",
    "ChargeStage",
    "Charger",
    "Connection",
    "Control",
    "CyrixLiCharge",
    "CyrixLiLoad",
    "DcLoad",
    "Device",
    "DeviceContext",
    "DeviceSnapshot",
    "Inverter",
    "InverterCharger",
    "Rebulk",
    "RemoteInput",
    "ResidualLoad",
    "Role",
    "SolarCharger",
    "Terminal",
    "Wiring",
    "cable_terminal",
    "check_wiring",
    "current_draw_a",
    "input_is_on",
    "make_device",
    "mppt_rating",
    "mppt_remote_input",
    "power_draw_a",
    "remote_enabled",
    "wiring_warnings",
]
