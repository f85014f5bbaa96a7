"""Rules about devices on the bank and the outputs that switch them: CHK-5, CHK-7, CHK-8."""

from typing import NamedTuple

from smartbms import scenario as sc
from smartbms.check.findings import Finding, finding
from smartbms.check.loads import (
    is_charger,
    is_load,
    running_a,
    stopped_by_charge_disconnect,
    switched_by_load_disconnect,
)

_DISCONNECTS = ("load disconnect", "charge disconnect", "both")
INVERTING = "the inverting remote on-off cable (ASS030550100 or -120)"
MULTIPLUS = "the Smart BMS CL 12-100 to MultiPlus cable (ASS070200100)"
TWO_INVERTING = "two inverting remote on-off cables (ASS030550100), one per output"


def _output(device: sc.DeviceBase) -> str:
    return {"both": "Load and Charge disconnect"}.get(device.control, device.control.capitalize())


def _name(device: sc.DeviceBase) -> str:
    return f'"{device.name}" ({device.device_type})'


def chk5_interface(s: sc.Scenario) -> list[Finding]:
    """CHK-5: an output-controlled device with the wrong interface cable, or none (App. A)."""
    found = []
    for i, device in enumerate(s.device):
        if device.control not in _DISCONNECTS:
            continue
        problem = _interface_problem(device)
        if problem is not None:
            path = ("device", i, problem.field)
            found.append(finding("CHK-5", "error", problem.message, problem.fix, path))
    return found


class _Problem(NamedTuple):
    message: str
    fix: str
    field: str


def _interface_problem(device: sc.DeviceBase) -> _Problem | None:
    """(message, fix, field) of what is wrong between a BMS output and the device's input."""
    out, who = _output(device), _name(device)
    mixed = isinstance(device, sc.InverterCharger)
    if device.remote_jumper:
        return _Problem(
            message=f"{who}: its remote jumper is still fitted, so it ignores {out} and stays on "
            "when the BMS switches it off.",
            fix="Remove the remote jumper so the BMS output alone switches it (manual App. A).",
            field="remote_jumper",
        )
    if device.control == "both" and device.cable != "multiplus cable" and not mixed:
        return _Problem(
            message=f"{who}: one remote input cannot follow both Load and Charge disconnect "
            f"through a {device.cable} cable; it follows neither as intended.",
            fix="Control it with the one output it needs: Load disconnect for a load, Charge "
            "disconnect for a charger (manual App. A).",
            field="control",
        )
    low_active = device.remote_input == "low-active"
    if device.cable == "multiplus cable":
        sees_active = not low_active
    else:
        sees_active = (device.cable == "inverting") == low_active
    if sees_active:
        return None
    if low_active:
        right = TWO_INVERTING if mixed else INVERTING
        where = "App. A §6" if mixed else "App. A §2"
        return _Problem(
            message=f"{who}: a LOW-active (VE.Bus) remote input never sees LOW through a "
            f"{device.cable} connection to {out}: it never switches on, even when the BMS "
            "allows it.",
            fix=f'Use {right} (cable = "inverting") (manual {where}).',
            field="cable",
        )
    right = MULTIPLUS if mixed and device.control == "both" else "a plain wire to its H terminal"
    cable = "direct" if right.startswith("a plain") else "multiplus cable"
    return _Problem(
        message=f"{who}: the {device.cable} cable pulls its HIGH-active input LOW: it never "
        "switches on, even when the BMS allows it.",
        fix=f'Connect {out} with {right} (cable = "{cable}") (manual App. A §1, §5, §6).',
        field="cable",
    )


def chk7_unstoppable_charger(s: sc.Scenario) -> list[Finding]:
    """CHK-7: a charger on the bank that Charge disconnect does not stop."""
    found = []
    for i, device in enumerate(s.device):
        if device.connection != "bank" or not is_charger(device):
            continue
        if stopped_by_charge_disconnect(device) and not device.remote_jumper:
            continue
        how = (
            "its remote jumper keeps it on"
            if device.remote_jumper
            else f'control = "{device.control}"'
        )
        msg = (
            f"{_name(device)} charges the bank directly and Charge disconnect does not stop it "
            f"({how}): nothing stops it on cell over-voltage or in the cold."
        )
        fix = (
            "Wire its remote input to Charge disconnect (App. A §3-§5), put a Cyrix-Li-Charge in "
            'its path, or connect it to System+ (connection = "system+") (manual §3.2.2).'
        )
        field = "remote_jumper" if device.remote_jumper else "control"
        found.append(finding("CHK-7", "error", msg, fix, ("device", i, field)))
    return found


def chk8_unswitched_load(s: sc.Scenario) -> list[Finding]:
    """CHK-8: a load on the bank that Load disconnect does not switch off."""
    found = []
    for i, device in enumerate(s.device):
        if device.connection != "bank" or not is_load(device):
            continue
        if switched_by_load_disconnect(device) and not device.remote_jumper:
            continue
        amps = running_a(device)
        msg = (
            f"{_name(device)} draws {amps * 1000:.0f} mA from the bank directly and Load "
            "disconnect does not switch it: it keeps draining after a low-voltage shutdown."
            if amps < 1.0
            else f"{_name(device)} draws {amps:.1f} A from the bank directly and Load disconnect "
            "does not switch it: it keeps draining after a low-voltage shutdown."
        )
        fix = (
            "Switch it with Load disconnect (its remote input, a BatteryProtect or a "
            'Cyrix-Li-Load), or connect it to System+ (connection = "system+") (manual §3.1, '
            "§3.2.1)."
        )
        field = "control" if "control" in device.model_fields_set else "connection"
        found.append(finding("CHK-8", "warning", msg, fix, ("device", i, field)))
    return found
