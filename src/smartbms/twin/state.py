"""What anyone outside the twin may see of it: one frozen `TwinState` per instant.

The web app, the readout broadcaster, the trace, the summary and future integrations read the
twin only through these values (never the plant's mutable objects), so a reader can keep a state
as long as it likes and hand it to another thread or process. Units are in the names; positive
battery current charges the lithium bank.
"""

import dataclasses

from smartbms.core.settings import Settings
from smartbms.core.signals import Outputs, Readings


@dataclasses.dataclass(frozen=True, slots=True)
class BatteryState:
    """One Lithium Battery Smart: its charge, cells, temperature and BMS-cable signals."""

    number: int
    """1-based place in the bank (as in scenario files and error messages)."""
    model: str
    capacity_ah: float
    """Usable at 25 °C."""
    soc_pct: float
    current_a: float
    cell_voltages_v: tuple[float, ...]
    temperature_c: float
    allowed_to_charge: bool
    allowed_to_discharge: bool
    prealarm: bool
    """Its pre-alarm line on the BMS cable."""
    balancer: str
    """"unknown", "balanced", "balancing" or "imbalance"."""
    damaged: bool
    damaged_at_s: float | None

    @property
    def voltage_v(self) -> float:
        """Terminal voltage: the sum of its cells."""
        return sum(self.cell_voltages_v)

    @property
    def cell_min_v(self) -> float:
        """The lowest cell."""
        return min(self.cell_voltages_v)

    @property
    def cell_max_v(self) -> float:
        """The highest cell."""
        return max(self.cell_voltages_v)


@dataclasses.dataclass(frozen=True, slots=True)
class AlternatorState:
    """The alternator on the AB side."""

    running: bool
    smart_mode: bool
    set_point_v: float
    current_a: float
    rated_current_a: float
    at_max_total_s: float
    """Time at maximum output so far."""
    at_max_since_s: float | None
    """When the present stretch at maximum output began (None: not at maximum)."""
    overheat_risk_at_s: float | None
    """When five minutes at maximum output were first reached (manual §2.2)."""


@dataclasses.dataclass(frozen=True, slots=True)
class StarterState:
    """The lead-acid starter battery on the AB side."""

    soc_pct: float
    current_a: float
    """Into the starter battery."""
    lowest_voltage_v: float
    """The lowest terminal voltage so far (a crank's dip)."""


@dataclasses.dataclass(frozen=True, slots=True)
class DeviceState:
    """A load, charger or inverter on the bank or on System+."""

    name: str
    type: str
    """The scenario file's device type ("inverter", "battery-protect", ...)."""
    connection: str
    """"bank" or "system+"."""
    on: bool
    """Operating right now."""
    current_a: float
    """Into its bus (positive charges the bank)."""
    stage: str | None
    """A charger's stage ("bulk", "absorption", "float", ...); None for other devices."""


@dataclasses.dataclass(frozen=True, slots=True)
class FuseState:
    """The AB fuse: what is installed, what the BMS is told, and whether it still conducts."""

    installed: str
    setting: str
    blown: bool
    limit_a: float
    """The current limit in force (the installed fuse's, derated with the BMS's temperature)."""


@dataclasses.dataclass(frozen=True, slots=True)
class EnergyState:
    """Energy through each port since the start (Wh, positive directions named)."""

    ab_in_wh: float
    system_plus_in_wh: float
    system_plus_out_wh: float
    bank_devices_in_wh: float
    bank_devices_out_wh: float
    bms_consumption_wh: float
    bms_heat_wh: float
    batteries_in_wh: float
    batteries_out_wh: float


@dataclasses.dataclass(frozen=True, slots=True)
class TwinState:
    """The twin at one instant: the BMS, its ports, the bank and everything around it."""

    t_s: float
    outputs: Outputs
    """What the BMS commands (its ports, outputs, LEDs, active codes)."""
    readings: Readings
    """What the app's status page shows."""
    settings: Settings
    config_fault: bool
    """E-B31 latched (stored configuration corrupted, not yet recovered)."""
    bms_temperature_c: float
    bms_draw_a: float
    """The BMS's own supply plus what its disconnect outputs source."""
    bank_voltage_v: float
    bank_current_a: float
    bank_soc_pct: float
    """Usable charge over capacity, all batteries."""
    ab_voltage_v: float
    ab_current_a: float
    """Into the bank through the AB port."""
    ab_limit_a: float
    system_plus_voltage_v: float
    system_plus_current_a: float
    """Into the bank through System+."""
    bank_devices_current_a: float
    """Into the bank from the devices connected to it directly."""
    batteries: tuple[BatteryState, ...]
    alternator: AlternatorState | None
    starter: StarterState | None
    devices: tuple[DeviceState, ...]
    fuse: FuseState
    faults: tuple[str, ...]
    """The injected faults present, by their scenario names ("bms-cable-unplugged", ...)."""
    ambient_c: float
    solar_fraction: float
    shore_power: bool
    energy: EnergyState

    @property
    def cell_min_v(self) -> float:
        """The lowest cell of the bank."""
        return min(b.cell_min_v for b in self.batteries)

    @property
    def cell_max_v(self) -> float:
        """The highest cell of the bank."""
        return max(b.cell_max_v for b in self.batteries)
