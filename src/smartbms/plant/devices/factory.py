"""Building a device by its type name, as scenario files name them."""

import enum
from collections.abc import Mapping
from typing import Any, Final

from smartbms.plant.devices.base import Device, keywords
from smartbms.plant.devices.chargers import Charger, SolarCharger
from smartbms.plant.devices.inverters import Inverter, InverterCharger
from smartbms.plant.devices.loads import Alarm, DcLoad, ResidualLoad
from smartbms.plant.devices.switches import BatteryProtect, CyrixLiCharge, CyrixLiLoad
from smartbms.plant.devices.wiring import Cable, Connection, Control, RemoteInput

DEVICE_TYPES: Final[Mapping[str, type[Device]]] = {
    cls.TYPE_NAME: cls
    for cls in (
        DcLoad,
        Inverter,
        InverterCharger,
        Charger,
        SolarCharger,
        BatteryProtect,
        CyrixLiLoad,
        CyrixLiCharge,
        ResidualLoad,
        Alarm,
    )
}
"""Every device type by the name scenario files use."""

_ENUM_PARAMS: Final[Mapping[str, type[enum.Enum]]] = {
    "connection": Connection,
    "control": Control,
    "cable": Cable,
    "remote_input": RemoteInput,
}


def _enum_value(param: str, enum_type: type[enum.Enum], value: object) -> object:
    """An enum member from itself, its value or its name ('load-disconnect', 'LOAD_DISCONNECT')."""
    if isinstance(value, enum_type) or not isinstance(value, str):
        return value
    wanted = value.strip().lower().replace("_", "-")
    for member in enum_type:
        if wanted in (member.value, member.name.lower().replace("_", "-")):
            return member
    allowed = ", ".join(str(m.value) for m in enum_type)
    msg = f"{param} must be one of {allowed}, got {value!r}"
    raise ValueError(msg)


def make_device(kind: str, **params: object) -> Device:
    """Build a device by type name; enum parameters may be given as strings."""
    cls = DEVICE_TYPES.get(kind)
    if cls is None:
        msg = f"unknown device type {kind!r}; allowed: {', '.join(DEVICE_TYPES)}"
        raise ValueError(msg)
    allowed = keywords(cls)
    unknown = sorted(set(params) - set(allowed))
    if unknown:
        msg = f"{kind}: unknown parameter(s) {', '.join(unknown)}; allowed: {', '.join(allowed)}"
        raise ValueError(msg)
    coerced: dict[str, Any] = {
        key: _enum_value(key, _ENUM_PARAMS[key], value) if key in _ENUM_PARAMS else value
        for key, value in params.items()
    }
    return cls(**coerced)
