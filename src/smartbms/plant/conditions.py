"""The system's plain records: injected faults, surroundings, remote wiring, energy counters.

The simulator and the timeline change them in place (a fault, shore power, the remote switch),
so each is state: `save_state` gives it as a frozen value for a snapshot (its NamedTuple, which
names the fields), `load_state` puts it back (`smartbms.plant.snapshot`).
"""

import dataclasses
from typing import NamedTuple

from smartbms.plant.snapshot import FieldState, Snapshotted


class FaultsSnapshot(NamedTuple):
    """The faults in force (see `Faults.save_state`)."""

    chain_unplugged: bool
    fuse_blown: bool
    system_plus_short_ohm: float | None
    calibration_lost: bool
    reference_failed: bool
    remote_plug_removed: bool
    bms_extra_c: float
    prealarm_overload_a: float
    bms_power_off: bool


@dataclasses.dataclass(slots=True)
class Faults(Snapshotted[FaultsSnapshot]):
    """The injected faults in force (PLT-12); all off in a healthy system."""

    _STATE = FieldState(FaultsSnapshot)

    chain_unplugged: bool = False
    fuse_blown: bool = False
    system_plus_short_ohm: float | None = None
    calibration_lost: bool = False
    reference_failed: bool = False
    remote_plug_removed: bool = False
    bms_extra_c: float = 0.0
    prealarm_overload_a: float = 0.0
    bms_power_off: bool = False
    """All power to the BMS is disconnected (the second step of the E-B31 recovery)."""


class SurroundingsSnapshot(NamedTuple):
    """The surroundings (see `Surroundings.save_state`)."""

    ambient_c: float
    solar_fraction: float
    shore_power: bool


@dataclasses.dataclass(slots=True)
class Surroundings(Snapshotted[SurroundingsSnapshot]):
    """What the world does to the system right now."""

    _STATE = FieldState(SurroundingsSnapshot)

    ambient_c: float = 20.0
    solar_fraction: float = 0.0
    shore_power: bool = False


class RemoteSnapshot(NamedTuple):
    """The remote terminal's wiring and switch (see `RemoteWiring.save_state`)."""

    mode: str
    closed: bool


@dataclasses.dataclass(slots=True)
class RemoteWiring(Snapshotted[RemoteSnapshot]):
    """How the remote terminal is wired (REM-1) and the state of its switch."""

    _STATE = FieldState(RemoteSnapshot)

    mode: str = "loop"
    closed: bool = True


class EnergySnapshot(NamedTuple):
    """The energy counters (see `EnergyCounters.save_state`)."""

    ab_in_wh: float
    system_plus_in_wh: float
    system_plus_out_wh: float
    bank_devices_in_wh: float
    bank_devices_out_wh: float
    bms_consumption_wh: float
    bms_heat_wh: float
    batteries_in_wh: float
    batteries_out_wh: float


@dataclasses.dataclass(slots=True)
class EnergyCounters(Snapshotted[EnergySnapshot]):
    """Energy through each port, for the summary (Wh, positive directions named)."""

    _STATE = FieldState(EnergySnapshot)

    ab_in_wh: float = 0.0
    system_plus_in_wh: float = 0.0
    system_plus_out_wh: float = 0.0
    bank_devices_in_wh: float = 0.0
    bank_devices_out_wh: float = 0.0
    bms_consumption_wh: float = 0.0
    bms_heat_wh: float = 0.0
    batteries_in_wh: float = 0.0
    batteries_out_wh: float = 0.0
