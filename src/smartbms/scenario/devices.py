"""The [[device]] tables: loads, chargers and relays, and how the BMS controls each (PLT-8)."""

from typing import Annotated, Any, Literal, Self

from pydantic import Field, model_validator

from smartbms.plant.devices.inverter_models import (
    INVERTER_CHARGER_MODEL,
    INVERTER_MODEL,
    INVERTER_MODELS,
    EfficiencyCurve,
    InverterModel,
)
from smartbms.scenario.base import _num, _problem, _Table

# --- [[device]] ----------------------------------------------------------------------------------

Connection = Literal["bank", "system+"]
Control = Literal["none", "load disconnect", "charge disconnect", "both", "pre-alarm"]
Cable = Literal[
    "direct", "inverting", "non-inverting", "ve.direct non-inverting", "multiplus cable"
]
RemoteInput = Literal["high-active", "low-active", "ve.direct"]

_VE_DIRECT_CABLE = "ve.direct non-inverting"

# Shared field shapes: a timeline "set" is checked against the same bounds as the device.
_PowerW = Annotated[float, Field(gt=0.0, le=10_000.0)]
_AcLoadW = Annotated[float, Field(ge=0.0, le=10_000.0)]
_LoadW = Annotated[float, Field(ge=0.0, le=10_000.0)]
_ChargeA = Annotated[float, Field(gt=0.0, le=400.0)]
_EfficiencyPct = Annotated[float, Field(ge=50.0, le=100.0)]
_IdleW = Annotated[float, Field(ge=0.0, le=200.0)]
_AbsorptionV = Annotated[float, Field(ge=12.0, le=15.5)]
_FloatV = Annotated[float, Field(ge=12.0, le=15.5)]
_AbsorptionH = Annotated[float, Field(ge=0.0, le=24.0)]
_TailA = Annotated[float, Field(ge=0.0, le=100.0)]
"""Absorption ends below this current (0: on time only); left out, the device's default."""
_CutOffV = Annotated[float, Field(ge=9.0, le=13.0)]
"""Where a device's own low-voltage disconnect cuts off ..."""
_ReconnectV = Annotated[float, Field(ge=9.0, le=14.0)]
"""... and where it reconnects (`_check_above` it)."""
_SurgeW = Annotated[float, Field(gt=0.0, le=30_000.0)]


def _surge_field() -> Any:
    """`surge_w`: the AC power an inverter delivers for seconds when a load starts.

    Only the design check reads it (CHK-10: an inrush that trips A-A12); None means the model
    class's default (`smartbms.check`). It is left out of `model_dump`, so the plant never sees it.
    """
    return Field(default=None, exclude=True)


def _check_above(low_key: str, low_v: float, high_key: str, high_v: float) -> None:
    """A hysteresis: the higher level must be above the lower one."""
    if high_v <= low_v:
        msg = f"must be above {low_key} ({_num(low_v)} V) (got {_num(high_v)})"
        raise _problem(msg, high_key)


class DeviceBase(_Table):
    """What every [[device]] has: a name, where it connects, and how the BMS controls it.

    The wiring rules are checked here because they are about the real installation: a rule broken
    in the file is a device that could not be wired that way (PLT-9). Wiring that is possible but
    wrong (e.g. an inverting cable where a non-inverting one belongs) is allowed: the twin then
    shows the misbehaviour, as reality would.
    """

    name: str = Field(min_length=1)
    connection: Connection = "bank"
    control: Control = "none"
    cable: Cable = "direct"
    remote_jumper: bool = False
    remote_input: RemoteInput = "high-active"

    @property
    def device_type(self) -> str:
        """The device's `type` label."""
        value = getattr(self, "type", "")
        return str(value)

    @model_validator(mode="after")
    def _wiring(self) -> Self:
        kind = self.device_type
        if kind == "residual-load":
            if self.connection != "bank":
                raise _problem('a residual-load is wired to the bank: use "bank"', "connection")
            if self.control != "none":
                msg = 'a residual-load is what no output controls (PLT-10): use "none"'
                raise _problem(msg, "control")
        if self.connection == "system+" and self.control != "none":
            msg = (
                'a device on System+ must have control = "none": the BMS switches System+ '
                'devices through the port itself; wire it to the "bank" to control it with '
                "an output"
            )
            raise _problem(msg, "control")
        if self.control == "pre-alarm" and kind != "alarm":
            msg = (
                'only an alarm may hang on the pre-alarm output (up to 1 A); use an "alarm" device'
            )
            raise _problem(msg, "control")
        if kind == "alarm" and self.control != "pre-alarm":
            raise _problem('an alarm is driven by the pre-alarm output: use "pre-alarm"', "control")
        if self.cable != "direct" and self.control == "none":
            msg = f'"{self.cable}" connects a BMS output, but control is "none": set control'
            raise _problem(msg, "cable")
        if self.cable == "multiplus cable" and not (
            kind == "inverter-charger" and self.connection == "bank" and self.control == "both"
        ):
            msg = '"multiplus cable" only fits an inverter-charger on "bank" with control = "both"'
            raise _problem(msg, "cable")
        if self.control != "none" and self.remote_input == "ve.direct":
            if self.cable != _VE_DIRECT_CABLE:
                model = getattr(self, "model", None) or "the SmartSolar MPPT 75/15"
                who = model if kind == "solar-charger" else "this device"
                msg = (
                    f"{who} has no remote terminal: use the VE.Direct non-inverting remote on/off "
                    f'cable (cable = "{_VE_DIRECT_CABLE}")'
                )
                raise _problem(msg, "cable")
        elif self.cable == _VE_DIRECT_CABLE:
            msg = (
                "the VE.Direct non-inverting cable plugs into a VE.Direct port: set "
                'remote_input = "ve.direct"'
            )
            raise _problem(msg, "remote_input")
        return self


class DcLoad(DeviceBase):
    """A DC load (fridge, lights, pump): constant power or constant current (PLT-8)."""

    type: Literal["dc-load"] = "dc-load"
    power_w: _PowerW | None = None
    current_a: Annotated[float, Field(gt=0.0, le=600.0)] | None = None
    on: bool = True

    @classmethod
    def _prepare(cls, data: dict[str, Any]) -> dict[str, Any]:
        given = [key for key in data if key in ("power_w", "current_a")]
        if len(given) > 1:
            raise _problem(f"{given[0]} is already given; give power_w or current_a", given[1])
        if not given:
            raise _problem(
                "missing (required): give exactly one of power_w or current_a", "power_w"
            )
        return data


class _InverterFields(DeviceBase):
    """What every inverter has: its model class and its own low-battery monitor.

    Defaults (docs/scenario-format.md): the model's efficiency curve and zero-load power;
    Victron's 12 V low-battery levels 9.3 / 10.9 / 14.0 V with the 30 s restart delay.
    """

    ac_load_w: _AcLoadW = 0.0
    surge_w: _SurgeW | None = _surge_field()
    model: str | None = None
    efficiency_pct: _EfficiencyPct | None = None
    """A flat efficiency instead of the model's curve."""
    idle_w: _IdleW | None = None
    """Another zero-load power than the model's."""
    low_voltage_cutoff_v: _CutOffV = 9.3
    restart_voltage_v: _ReconnectV = 10.9
    charge_detect_v: Annotated[float, Field(ge=9.0, le=16.0)] = 14.0
    restart_delay_s: Annotated[float, Field(ge=0.0, le=600.0)] = 30.0

    @model_validator(mode="after")
    def _restart(self) -> Self:
        _check_above(
            "low_voltage_cutoff_v",
            self.low_voltage_cutoff_v,
            "restart_voltage_v",
            self.restart_voltage_v,
        )
        if self.charge_detect_v < self.restart_voltage_v:
            msg = (
                f"must not be below restart_voltage_v ({_num(self.restart_voltage_v)} V) "
                f"(got {_num(self.charge_detect_v)})"
            )
            raise _problem(msg, "charge_detect_v")
        if self.model is not None and self.model not in INVERTER_MODELS:
            msg = f"unknown inverter model {self.model!r}; known: {', '.join(INVERTER_MODELS)}"
            raise _problem(msg, "model")
        return self

    @property
    def model_class(self) -> InverterModel:
        """The model's published figures (the type's default model when the file names none)."""
        default = (
            INVERTER_CHARGER_MODEL if self.device_type == "inverter-charger" else INVERTER_MODEL
        )
        return INVERTER_MODELS[self.model or default]

    def dc_power_w(self, ac_power_w: float) -> float:
        """DC input while inverting `ac_power_w`, as the twin draws it (for the design check)."""
        model = self.model_class
        no_load_w = model.no_load_w if self.idle_w is None else self.idle_w
        if self.efficiency_pct is not None:
            flat = EfficiencyCurve.flat(efficiency_pct=self.efficiency_pct, no_load_w=no_load_w)
            return flat.dc_power_w(ac_power_w)
        curve = EfficiencyCurve.from_peak(
            rated_power_w=model.rated_power_w,
            peak_efficiency_pct=model.peak_efficiency_pct,
            no_load_w=no_load_w,
        )
        return curve.dc_power_w(ac_power_w)


class Inverter(_InverterFields):
    """A DC-to-AC inverter (Phoenix): AC load to DC current through its efficiency (PLT-8)."""

    type: Literal["inverter"] = "inverter"


def _check_float_below_absorption(absorption_v: float, float_v: float) -> None:
    if float_v > absorption_v:
        msg = (
            f"must not be above absorption_voltage_v ({_num(absorption_v)} V) (got {_num(float_v)})"
        )
        raise _problem(msg, "float_voltage_v")


class InverterCharger(_InverterFields):
    """An inverter/charger (MultiPlus): inverts, and charges while shore power is on (PLT-8)."""

    type: Literal["inverter-charger"] = "inverter-charger"
    connection: Connection = "system+"
    charge_current_a: _ChargeA
    absorption_voltage_v: _AbsorptionV = 14.2
    float_voltage_v: _FloatV = 13.5
    absorption_time_h: _AbsorptionH = 1.0
    tail_current_a: _TailA | None = None

    @model_validator(mode="after")
    def _voltages(self) -> Self:
        _check_float_below_absorption(self.absorption_voltage_v, self.float_voltage_v)
        return self


class Charger(DeviceBase):
    """A mains battery charger (Phoenix Smart IP43): charges while shore power is on."""

    type: Literal["charger"] = "charger"
    charge_current_a: _ChargeA
    absorption_voltage_v: _AbsorptionV = 14.2
    float_voltage_v: _FloatV = 13.5
    absorption_time_h: _AbsorptionH = 1.0
    tail_current_a: _TailA | None = None

    @model_validator(mode="after")
    def _voltages(self) -> Self:
        _check_float_below_absorption(self.absorption_voltage_v, self.float_voltage_v)
        return self


class SolarCharger(DeviceBase):
    """An MPPT solar charger; the small SmartSolar models take the VE.Direct on/off cable."""

    type: Literal["solar-charger"] = "solar-charger"
    remote_input: RemoteInput = "ve.direct"
    model: str | None = None
    pv_peak_w: float = Field(gt=0.0, le=10_000.0)
    max_current_a: float = Field(gt=0.0, le=200.0)
    absorption_voltage_v: _AbsorptionV = 14.2
    float_voltage_v: _FloatV = 13.5
    absorption_time_h: _AbsorptionH = 1.0
    tail_current_a: _TailA | None = None

    @model_validator(mode="after")
    def _voltages(self) -> Self:
        _check_float_below_absorption(self.absorption_voltage_v, self.float_voltage_v)
        return self


class BatteryProtect(DeviceBase):
    """A BatteryProtect switching a load, with its own low-voltage disconnect."""

    type: Literal["battery-protect"] = "battery-protect"
    load_w: _LoadW
    disconnect_voltage_v: _CutOffV = 10.5
    reconnect_voltage_v: _ReconnectV = 12.0

    @model_validator(mode="after")
    def _hysteresis(self) -> Self:
        _check_above(
            "disconnect_voltage_v",
            self.disconnect_voltage_v,
            "reconnect_voltage_v",
            self.reconnect_voltage_v,
        )
        return self


class CyrixLiLoad(DeviceBase):
    """A Cyrix-Li-Load relay between the bank and a load, opened by load disconnect."""

    type: Literal["cyrix-li-load"] = "cyrix-li-load"
    load_w: _LoadW


CyrixSource = Literal["shore", "always"]


class CyrixLiCharge(DeviceBase):
    """A Cyrix-Li-Charge relay between a charge source and the bank, opened by charge disconnect.

    `source` says when its charge source delivers: with shore power, or always.
    """

    type: Literal["cyrix-li-charge"] = "cyrix-li-charge"
    charge_current_a: _ChargeA
    source: CyrixSource = "shore"


class ResidualLoad(DeviceBase):
    """A small load no output controls (alarm system, standby): it drains on (PLT-10)."""

    type: Literal["residual-load"] = "residual-load"
    current_a: float = Field(gt=0.0, le=10.0)


AlarmKind = Literal["buzzer", "led", "relay"]


class Alarm(DeviceBase):
    """A buzzer, LED or relay on the pre-alarm output (OUT-5); above 1 A it damages the output."""

    type: Literal["alarm"] = "alarm"
    control: Control = "pre-alarm"
    current_a: float = Field(default=0.05, gt=0.0, le=5.0)
    kind: AlarmKind = "buzzer"


Device = Annotated[
    DcLoad
    | Inverter
    | InverterCharger
    | Charger
    | SolarCharger
    | BatteryProtect
    | CyrixLiLoad
    | CyrixLiCharge
    | ResidualLoad
    | Alarm,
    Field(discriminator="type"),
]
"""Any [[device]], chosen by its `type`."""
