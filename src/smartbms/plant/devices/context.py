"""What every device sees at one instant: the time, the world and the BMS outputs.

Its own module because both the signal chain (`wiring`) and the devices (`base`) read it.
"""

import dataclasses

from smartbms.core.signals import Level


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class DeviceContext:
    """The world and the BMS outputs at one instant, as every device sees them."""

    now_s: float
    shore_power: bool
    """AC shore or generator power is present."""
    solar_fraction: float
    """Irradiance relative to the panel's peak, 0...1."""
    ambient_c: float
    load_disconnect: Level
    charge_disconnect: Level
    prealarm: Level
    bank_voltage_v: float | None = None
    """The bank, which powers the BMS outputs; None: take the device's bus voltage."""
    load_disconnect_v: float | None = None
    """The Load disconnect terminal voltage with every input on it (the system knows them all);
    None: judge it from this device's input alone."""
    charge_disconnect_v: float | None = None
    """As `load_disconnect_v`, for Charge disconnect."""
