"""The scenario file format of the twin: an installation and a timeline, written in TOML.

A van builder writes these files by hand, so a mistake must come back as one sentence that names
the file, the line, the field and what is allowed — never a traceback or pydantic's raw dump.
`load_scenario` / `parse_scenario` read the TOML, validate it with the pydantic models and turn
every problem into a `ScenarioError`. The result is a frozen tree with every default filled in
(temperatures default to the ambient, `supports_prealarm` to the battery model, the starter
battery to its defaults when an alternator exists, the BMS settings to a core `Settings`, times
normalised to seconds, the timeline sorted), so the runner never guesses.

The modules: `base` (limits, shared helpers, time keys, the `_Table` base), `installation`
([scenario], [environment], [bms], [[battery]], [alternator], [starter_battery]), `devices`
([[device]]), `timeline` ([[timeline]] entries and faults), `model` (`Scenario`), `locate` (lines
in the TOML text), `errors` (`ScenarioError` and the wording of problems) and `load`. See
docs/scenario-format.md for the format.
"""

from smartbms.scenario.base import _Table as _Table
from smartbms.scenario.devices import (
    Alarm,
    BatteryProtect,
    Charger,
    CyrixLiCharge,
    CyrixLiLoad,
    DcLoad,
    Device,
    DeviceBase,
    Inverter,
    InverterCharger,
    ResidualLoad,
    SolarCharger,
)
from smartbms.scenario.errors import ScenarioError
from smartbms.scenario.installation import (
    AlternatorConfig,
    BatteryConfig,
    BmsConfig,
    Environment,
    ScenarioSection,
    StarterBatteryConfig,
)
from smartbms.scenario.load import load_scenario, parse_scenario
from smartbms.scenario.locate import _Locator as _Locator
from smartbms.scenario.model import Scenario
from smartbms.scenario.timeline import (
    AlternatorModeChange,
    AmbientChange,
    BmsCablePlugged,
    BmsCableUnplugged,
    CalibrationLost,
    CellResistance,
    ConfigCorrupted,
    EngineStart,
    EngineStop,
    Fault,
    FaultBase,
    FuseBlown,
    FuseReplaced,
    Heat,
    LooseConnection,
    Note,
    PrealarmOutputOverload,
    ReferenceFailed,
    RemotePlugInserted,
    RemotePlugRemoved,
    RemoteSwitch,
    SetDevice,
    SettingChange,
    SettingName,
    ShorePower,
    SoftSwitch,
    SolarChange,
    SystemPlusShort,
    TimelineBase,
    TimelineEntry,
    WeakCell,
)

__all__ = [
    "Alarm",
    "AlternatorConfig",
    "AlternatorModeChange",
    "AmbientChange",
    "BatteryConfig",
    "BatteryProtect",
    "BmsCablePlugged",
    "BmsCableUnplugged",
    "BmsConfig",
    "CalibrationLost",
    "CellResistance",
    "Charger",
    "ConfigCorrupted",
    "CyrixLiCharge",
    "CyrixLiLoad",
    "DcLoad",
    "Device",
    "DeviceBase",
    "EngineStart",
    "EngineStop",
    "Environment",
    "Fault",
    "FaultBase",
    "FuseBlown",
    "FuseReplaced",
    "Heat",
    "Inverter",
    "InverterCharger",
    "LooseConnection",
    "Note",
    "PrealarmOutputOverload",
    "ReferenceFailed",
    "RemotePlugInserted",
    "RemotePlugRemoved",
    "RemoteSwitch",
    "ResidualLoad",
    "Scenario",
    "ScenarioError",
    "ScenarioSection",
    "SetDevice",
    "SettingChange",
    "SettingName",
    "ShorePower",
    "SoftSwitch",
    "SolarChange",
    "SolarCharger",
    "StarterBatteryConfig",
    "SystemPlusShort",
    "TimelineBase",
    "TimelineEntry",
    "WeakCell",
    "load_scenario",
    "parse_scenario",
]
