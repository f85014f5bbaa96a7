"""How much each device draws or gives, judged at the bank's nominal voltage (shared by the rules).

A design check has no simulation: it reads the file's numbers as they are written (a dc-load at
its power, an inverter at its AC load through its efficiency plus its idle power) and turns watts
into amperes at `NOMINAL_V`, the Lithium Battery 12,8V Smart's nominal voltage.
"""

from typing import Final

from smartbms import scenario as sc

NOMINAL_V: Final = 12.8
"""Lithium Battery 12,8V Smart nominal voltage: watts to amperes for every design rule."""
PEAK_FACTOR: Final = 2.0
"""Default `surge_w`: the model class's peak power, taken as twice its continuous rating (Victron's
Phoenix and MultiPlus data sheets: Phoenix 12/800 1600 W peak, MultiPlus 12/1600 3000 W, 12/3000
6000 W): a starting load takes what the inverter can give."""

LOADS: Final = (
    sc.DcLoad,
    sc.Inverter,
    sc.InverterCharger,
    sc.BatteryProtect,
    sc.CyrixLiLoad,
    sc.ResidualLoad,
)
"""Devices that take current from the bank."""
CHARGERS: Final = (sc.Charger, sc.SolarCharger, sc.CyrixLiCharge, sc.InverterCharger)
"""Devices that put current into the bank."""

LOAD_OUTPUTS: Final = ("load disconnect", "both")
CHARGE_OUTPUTS: Final = ("charge disconnect", "both")


def bank_capacity_ah(scenario: sc.Scenario) -> float:
    """The bank's capacity at 25 °C: every battery in parallel."""
    return sum(b.params.capacity_ah * b.count for b in scenario.battery)


def running_w(device: sc.DeviceBase) -> float:
    """The DC power a load draws while it runs as the file describes it (0 for a charger)."""
    if isinstance(device, sc.DcLoad):
        if not device.on:
            return 0.0
        return (
            device.power_w if device.power_w is not None else (device.current_a or 0.0) * NOMINAL_V
        )
    if isinstance(device, sc.Inverter | sc.InverterCharger):
        return device.dc_power_w(device.ac_load_w)
    if isinstance(device, sc.BatteryProtect | sc.CyrixLiLoad):
        return device.load_w
    if isinstance(device, sc.ResidualLoad):
        return device.current_a * NOMINAL_V
    return 0.0


def running_a(device: sc.DeviceBase) -> float:
    """`running_w` in amperes at the nominal voltage."""
    return running_w(device) / NOMINAL_V


def surge_ac_w(device: sc.Inverter | sc.InverterCharger) -> float:
    """The AC power while a load starts: `surge_w` if given, else the model class's peak power."""
    if device.surge_w is not None:
        return device.surge_w
    return max(PEAK_FACTOR * device.model_class.rated_power_w, device.ac_load_w)


def surge_a(device: sc.DeviceBase) -> float:
    """The DC current while the device's load starts (a plain DC load has no surge)."""
    if isinstance(device, sc.Inverter | sc.InverterCharger):
        return max(device.dc_power_w(surge_ac_w(device)) / NOMINAL_V, running_a(device))
    return running_a(device)


def is_load(device: sc.DeviceBase) -> bool:
    """It takes current from the bank."""
    return isinstance(device, LOADS)


def is_charger(device: sc.DeviceBase) -> bool:
    """It puts current into the bank."""
    return isinstance(device, CHARGERS)


def switched_by_load_disconnect(device: sc.DeviceBase) -> bool:
    """Load disconnect reaches it (whether through the right cable is CHK-5's business)."""
    return device.control in LOAD_OUTPUTS


def stopped_by_charge_disconnect(device: sc.DeviceBase) -> bool:
    """Charge disconnect reaches it."""
    return device.control in CHARGE_OUTPUTS


def residual_after_shutdown_a(scenario: sc.Scenario) -> list[tuple[int, sc.DeviceBase, float]]:
    """(index, device, amperes) of what keeps draining the bank after a low-voltage shutdown.

    System+ is off then (SP-2), Load disconnect floats and the pre-alarm output with it (OUT-7):
    what remains are the bank-side loads no Load disconnect switches.
    """
    found: list[tuple[int, sc.DeviceBase, float]] = []
    for i, device in enumerate(scenario.device):
        if device.connection != "bank" or not is_load(device):
            continue
        if switched_by_load_disconnect(device) and not device.remote_jumper:
            continue
        amps = running_a(device)
        if amps > 0.0:
            found.append((i, device, amps))
    return found
