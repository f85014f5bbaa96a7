"""Inverters: a Phoenix or VE.Bus inverter, and a MultiPlus inverter/charger."""

from collections.abc import Mapping
from typing import ClassVar, Final, NamedTuple, TypedDict, Unpack, cast

from smartbms.plant.devices.base import (
    ChargeAlgorithm,
    ChargesBank,
    ChargeSetPoints,
    ChargeSnapshot,
    Role,
    SwitchedDevice,
    WiringParams,
    finite,
    power_draw_a,
    valid_efficiency_pct,
)
from smartbms.plant.devices.context import DeviceContext
from smartbms.plant.devices.wiring import Connection, Control

INVERTER_EFFICIENCY_PCT: Final = 90.0
"""Phoenix inverters at moderate load (data sheets: 91...94 % peak)."""
INVERTER_IDLE_W: Final = 8.0
"""Zero-load power of a Phoenix 12 V inverter of 800...1200 VA, drawn while it is on."""
INVERTER_LOW_VOLTAGE_CUTOFF_V: Final = 10.9
"""A lithium-friendly low-battery shutdown, well above a 12 V lead-acid setting of 9.3 V."""
INVERTER_RESTART_V: Final = 12.5
"""Restart only on a visibly recharged bank (1.6 V hysteresis: no load cycling)."""
MULTIPLUS_CHARGE_CURRENT_A: Final = 70.0
"""MultiPlus 12/1600/70: a 70 A charger."""


class _InverterSettings(TypedDict, total=False):
    """An inverter's own keywords after its load (left out: the defaults above)."""

    efficiency_pct: float
    idle_w: float
    low_voltage_cutoff_v: float
    restart_voltage_v: float


class InverterParams(_InverterSettings, WiringParams, total=False):
    """An inverter's keywords after its load: its own settings, then its wiring."""


class InverterChargerParams(ChargeSetPoints, InverterParams, total=False):
    """An inverter/charger's: its charge set points, then an inverter's."""


class _InverterState(NamedTuple):
    ac_load_w: float
    low_battery: bool


class _InverterChargerState(NamedTuple):
    ac_load_w: float
    low_battery: bool
    charge_current_a: float
    charging: ChargeSnapshot


class Inverter(SwitchedDevice):
    """A DC-to-AC inverter: Phoenix (HIGH-active H) or VE.Bus >= 1200 VA (LOW-active).

    DC power = AC load / efficiency + idle power while it runs. It has its own low-battery
    latch: off below `low_voltage_cutoff_v`, on again only at `restart_voltage_v`.
    """

    TYPE_NAME = "inverter"
    ROLE = Role.LOAD
    SETTABLE: ClassVar[Mapping[str, str]] = {"ac_load_w": "ac_load_w", **SwitchedDevice.SETTABLE}

    def __init__(
        self,
        *,
        name: str = "inverter",
        connection: Connection = Connection.SYSTEM_PLUS,
        ac_load_w: float = 0.0,
        **params: Unpack[InverterParams],
    ) -> None:
        super().__init__(name=name, connection=connection, params=params)
        self.efficiency_pct = valid_efficiency_pct(
            name, params.get("efficiency_pct", INVERTER_EFFICIENCY_PCT)
        )
        cutoff_v = params.get("low_voltage_cutoff_v", INVERTER_LOW_VOLTAGE_CUTOFF_V)
        restart_v = params.get("restart_voltage_v", INVERTER_RESTART_V)
        if not 0.0 < cutoff_v < restart_v:
            msg = f"{name}: need 0 < low_voltage_cutoff_v < restart_voltage_v"
            raise ValueError(msg)
        self.ac_load_w = finite(name, "ac_load_w", ac_load_w)
        self.idle_w = finite(name, "idle_w", params.get("idle_w", INVERTER_IDLE_W))
        self.low_voltage_cutoff_v = float(cutoff_v)
        self.restart_voltage_v = float(restart_v)
        self.low_battery = False
        """Its own low-battery shutdown latch."""

    @property
    def dc_power_w(self) -> float:
        """DC input power while inverting."""
        return self.ac_load_w * 100.0 / self.efficiency_pct + self.idle_w

    def _inverting(self, ctx: DeviceContext, remote: tuple[bool, bool]) -> bool:
        del ctx  # an inverter without a charger ignores shore power
        return self.on and remote[0] and not self.low_battery

    def current_a(self, ctx: DeviceContext, bus_voltage_v: float) -> float:
        """-(AC load / efficiency + idle) / V while inverting."""
        if not self._inverting(ctx, self.remote(ctx, bus_voltage_v)):
            return 0.0
        return -power_draw_a(self.dc_power_w, bus_voltage_v) - self.prealarm_output_current_a(
            ctx, bus_voltage_v
        )

    def is_on(self, ctx: DeviceContext) -> bool:
        """Inverting now."""
        return self._inverting(ctx, self.remote(ctx, self.last_bus_voltage_v))

    def _step(self, ctx: DeviceContext, bus_voltage_v: float, dt_s: float) -> None:
        del dt_s  # the latch acts at once, no delay
        if self.low_battery:
            if bus_voltage_v >= self.restart_voltage_v:
                self.low_battery = False
        elif bus_voltage_v < self.low_voltage_cutoff_v and self._inverting(
            ctx, self.remote(ctx, bus_voltage_v)
        ):
            self.low_battery = True

    def _save_own(self) -> tuple[object, ...]:
        return _InverterState(self.ac_load_w, self.low_battery)

    def _load_own(self, own: tuple[object, ...]) -> None:
        self.ac_load_w, self.low_battery = cast(_InverterState, own)

    def _latches(self) -> tuple[object, ...]:
        return (self.low_battery,)


class InverterCharger(ChargesBank, Inverter):
    """A MultiPlus: with shore power it passes the AC load through and charges; else it inverts.

    On System+ (manual Fig. 1, 2) the BMS controls it through the port, so it has no remote.
    On the bank, a MultiPlus 500-1600 VA takes the MultiPlus cable (on only while both outputs
    are HIGH); a MultiPlus-II takes two inverting cables, Load disconnect stopping its inverter
    and Charge disconnect its charger (manual App. A §6).
    """

    TYPE_NAME = "inverter-charger"
    ROLE = Role.BOTH
    TWO_INPUTS = True
    SETTABLE: ClassVar[Mapping[str, str]] = {
        "ac_load_w": "ac_load_w",
        "charge_current_a": "charge_current_a",
        **SwitchedDevice.SETTABLE,
    }

    def __init__(
        self,
        *,
        name: str = "inverter-charger",
        connection: Connection = Connection.SYSTEM_PLUS,
        ac_load_w: float = 0.0,
        charge_current_a: float = MULTIPLUS_CHARGE_CURRENT_A,
        **params: Unpack[InverterChargerParams],
    ) -> None:
        control = params.get("control", self.CONTROL)
        if connection is Connection.SYSTEM_PLUS and control is not Control.NONE:
            msg = (
                f"{name}: an inverter/charger on System+ is controlled by the BMS through the "
                "port; wire it to the bank to use the outputs (manual App. A §6)"
            )
            raise ValueError(msg)
        inverter: InverterParams = params  # the charge set points ride along, unread
        super().__init__(name=name, connection=connection, ac_load_w=ac_load_w, **inverter)
        self.charge_current_a = finite(name, "charge_current_a", charge_current_a)
        self.charging = ChargeAlgorithm.from_params(params)

    def _inverting(self, ctx: DeviceContext, remote: tuple[bool, bool]) -> bool:
        return not ctx.shore_power and self.on and remote[0] and not self.low_battery

    def _charging(self, ctx: DeviceContext, remote: tuple[bool, bool]) -> bool:
        return ctx.shore_power and self.on and remote[1]

    def current_a(self, ctx: DeviceContext, bus_voltage_v: float) -> float:
        """Charge current on shore power (the AC load passes through), else the inverter's."""
        remote = self.remote(ctx, bus_voltage_v)
        prealarm_a = self.prealarm_output_current_a(ctx, bus_voltage_v)
        if self._charging(ctx, remote):
            return self.charging.current_a(bus_voltage_v, self.charge_current_a) - prealarm_a
        if self._inverting(ctx, remote):
            return -power_draw_a(self.dc_power_w, bus_voltage_v) - prealarm_a
        return 0.0

    def is_on(self, ctx: DeviceContext) -> bool:
        """Inverting, charging, or passing shore power through."""
        remote = self.remote(ctx, self.last_bus_voltage_v)
        if ctx.shore_power:
            return self.on and (remote[0] or remote[1])
        return self._inverting(ctx, remote)

    def _step(self, ctx: DeviceContext, bus_voltage_v: float, dt_s: float) -> None:
        super()._step(ctx, bus_voltage_v, dt_s)
        self.charging.step(
            active=self._charging(ctx, self.remote(ctx, bus_voltage_v)),
            bus_voltage_v=bus_voltage_v,
            limit_a=self.charge_current_a,
            dt_s=dt_s,
        )

    def next_change_s(self, ctx: DeviceContext) -> float:
        """End of absorption while charging."""
        active = self._charging(ctx, self.remote(ctx, self.last_bus_voltage_v))
        return self.charging.next_change_s(ctx.now_s, active=active)

    def _save_own(self) -> tuple[object, ...]:
        return _InverterChargerState(
            self.ac_load_w, self.low_battery, self.charge_current_a, self.charging.save_state()
        )

    def _load_own(self, own: tuple[object, ...]) -> None:
        state = cast(_InverterChargerState, own)
        self.ac_load_w, self.low_battery, self.charge_current_a, charging = state
        self.charging.load_state(charging)

    def _latches(self) -> tuple[object, ...]:
        return (self.low_battery, self.charging.stage)
