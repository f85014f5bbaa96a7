"""The system's plain records: injected faults, surroundings, remote wiring, energy counters.

The simulator and the timeline change them in place (a fault, shore power, the remote switch),
so each is state: `save_state` gives it as a frozen value for a snapshot, `load_state` puts it
back.
"""

import dataclasses
from typing import NamedTuple


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
class Faults:
    """The injected faults in force (PLT-12); all off in a healthy system."""

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

    def save_state(self) -> FaultsSnapshot:
        """Every fault, as a frozen value."""
        return FaultsSnapshot(
            self.chain_unplugged,
            self.fuse_blown,
            self.system_plus_short_ohm,
            self.calibration_lost,
            self.reference_failed,
            self.remote_plug_removed,
            self.bms_extra_c,
            self.prealarm_overload_a,
            self.bms_power_off,
        )

    def load_state(self, state: FaultsSnapshot) -> None:
        """Put back what `save_state` gave."""
        (
            self.chain_unplugged,
            self.fuse_blown,
            self.system_plus_short_ohm,
            self.calibration_lost,
            self.reference_failed,
            self.remote_plug_removed,
            self.bms_extra_c,
            self.prealarm_overload_a,
            self.bms_power_off,
        ) = state


class SurroundingsSnapshot(NamedTuple):
    """The surroundings (see `Surroundings.save_state`)."""

    ambient_c: float
    solar_fraction: float
    shore_power: bool


@dataclasses.dataclass(slots=True)
class Surroundings:
    """What the world does to the system right now."""

    ambient_c: float = 20.0
    solar_fraction: float = 0.0
    shore_power: bool = False

    def save_state(self) -> SurroundingsSnapshot:
        """As a frozen value."""
        return SurroundingsSnapshot(self.ambient_c, self.solar_fraction, self.shore_power)

    def load_state(self, state: SurroundingsSnapshot) -> None:
        """Put back what `save_state` gave."""
        self.ambient_c, self.solar_fraction, self.shore_power = state


class RemoteSnapshot(NamedTuple):
    """The remote terminal's wiring and switch (see `RemoteWiring.save_state`)."""

    mode: str
    closed: bool


@dataclasses.dataclass(slots=True)
class RemoteWiring:
    """How the remote terminal is wired (REM-1) and the state of its switch."""

    mode: str = "loop"
    closed: bool = True

    def save_state(self) -> RemoteSnapshot:
        """As a frozen value."""
        return RemoteSnapshot(self.mode, self.closed)

    def load_state(self, state: RemoteSnapshot) -> None:
        """Put back what `save_state` gave."""
        self.mode, self.closed = state


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
class EnergyCounters:
    """Energy through each port, for the summary (Wh, positive directions named)."""

    ab_in_wh: float = 0.0
    system_plus_in_wh: float = 0.0
    system_plus_out_wh: float = 0.0
    bank_devices_in_wh: float = 0.0
    bank_devices_out_wh: float = 0.0
    bms_consumption_wh: float = 0.0
    bms_heat_wh: float = 0.0
    batteries_in_wh: float = 0.0
    batteries_out_wh: float = 0.0

    def save_state(self) -> EnergySnapshot:
        """Every counter, as a frozen value."""
        return EnergySnapshot(
            self.ab_in_wh,
            self.system_plus_in_wh,
            self.system_plus_out_wh,
            self.bank_devices_in_wh,
            self.bank_devices_out_wh,
            self.bms_consumption_wh,
            self.bms_heat_wh,
            self.batteries_in_wh,
            self.batteries_out_wh,
        )

    def load_state(self, state: EnergySnapshot) -> None:
        """Put back what `save_state` gave."""
        (
            self.ab_in_wh,
            self.system_plus_in_wh,
            self.system_plus_out_wh,
            self.bank_devices_in_wh,
            self.bank_devices_out_wh,
            self.bms_consumption_wh,
            self.bms_heat_wh,
            self.batteries_in_wh,
            self.batteries_out_wh,
        ) = state
