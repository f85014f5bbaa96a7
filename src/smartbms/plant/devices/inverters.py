"""Inverters: a Phoenix or VE.Bus inverter, and a MultiPlus inverter/charger.

Their DC draw follows the model's efficiency curve (`inverter_models`), and their own
low-battery monitor shuts down, restarts and gives up as Victron's do (`low_battery`).
"""

import functools
from collections.abc import Callable, Mapping
from typing import ClassVar, Final, NamedTuple, TypedDict, Unpack, cast

from smartbms.plant.devices.base import (
    MIN_BUS_V,
    ChargesBank,
    Role,
    SwitchedDevice,
    WiringParams,
    finite,
    no_current,
    power_draw_a,
    valid_efficiency_pct,
)
from smartbms.plant.devices.charging import (
    ChargeAlgorithm,
    ChargeSetPoints,
    ChargeSnapshot,
    Rebulk,
)
from smartbms.plant.devices.context import DeviceContext
from smartbms.plant.devices.inverter_models import (
    INVERTER_CHARGER_MODEL,
    INVERTER_MODEL,
    EfficiencyCurve,
    inverter_model,
)
from smartbms.plant.devices.low_battery import (
    CHARGE_DETECT_V,
    RESTART_DELAY_S,
    RESTART_V,
    SHUTDOWN_V,
    LowBatteryMonitor,
    LowBatteryState,
)
from smartbms.plant.devices.wiring import Connection, Control

MULTIPLUS_CHARGE_CURRENT_A: Final = 70.0
"""MultiPlus 12/1600/70: a 70 A charger."""


class _InverterSettings(TypedDict, total=False):
    """An inverter's own keywords after its load (left out: the defaults above)."""

    model: str
    efficiency_pct: float
    idle_w: float
    low_voltage_cutoff_v: float
    restart_voltage_v: float
    charge_detect_v: float
    restart_delay_s: float


class InverterParams(_InverterSettings, WiringParams, total=False):
    """An inverter's keywords after its load: its own settings, then its wiring."""


class InverterChargerParams(ChargeSetPoints, InverterParams, total=False):
    """An inverter/charger's: its charge set points, then an inverter's."""


class _InverterState(NamedTuple):
    ac_load_w: float
    low_battery: LowBatteryState


class _InverterChargerState(NamedTuple):
    ac_load_w: float
    low_battery: LowBatteryState
    charge_current_a: float
    charging: ChargeSnapshot


class Inverter(SwitchedDevice):
    """A DC-to-AC inverter: Phoenix (HIGH-active H) or VE.Bus >= 1200 VA (LOW-active).

    DC power = its model's efficiency curve at the AC load (zero-load power included) while it
    inverts; `efficiency_pct` gives a flat efficiency instead, `idle_w` another zero-load power.
    Its own low-battery monitor (`LowBatteryMonitor`): off below `low_voltage_cutoff_v`, on
    again after `restart_delay_s` above `restart_voltage_v`, and after three quick failures only
    once above `charge_detect_v` for 30 s.
    """

    TYPE_NAME = "inverter"
    ROLE = Role.LOAD
    SETTABLE: ClassVar[Mapping[str, str]] = {"ac_load_w": "ac_load_w", **SwitchedDevice.SETTABLE}
    DEFAULT_MODEL: ClassVar[str] = INVERTER_MODEL

    def __init__(
        self,
        *,
        name: str = "inverter",
        connection: Connection = Connection.SYSTEM_PLUS,
        ac_load_w: float = 0.0,
        **params: Unpack[InverterParams],
    ) -> None:
        super().__init__(name=name, connection=connection, params=params)
        self.ac_load_w = finite(name, "ac_load_w", ac_load_w)
        self.model = params.get("model", self.DEFAULT_MODEL)
        self.efficiency = _efficiency(name, self.model, params)
        cutoff_v = params.get("low_voltage_cutoff_v", SHUTDOWN_V)
        restart_v = params.get("restart_voltage_v", RESTART_V)
        charge_detect_v = params.get("charge_detect_v", max(CHARGE_DETECT_V, restart_v))
        if not 0.0 < cutoff_v < restart_v <= charge_detect_v:
            msg = f"{name}: need 0 < low_voltage_cutoff_v < restart_voltage_v <= charge_detect_v"
            raise ValueError(msg)
        self.monitor = LowBatteryMonitor(
            shutdown_v=cutoff_v,
            restart_v=restart_v,
            charge_detect_v=charge_detect_v,
            restart_delay_s=finite(
                name, "restart_delay_s", params.get("restart_delay_s", RESTART_DELAY_S)
            ),
        )
        """Its own low-battery monitor."""

    @property
    def low_battery(self) -> bool:
        """Its low-battery monitor keeps it off now."""
        return self.monitor.shut_down

    @property
    def low_voltage_cutoff_v(self) -> float:
        """Where it shuts down."""
        return self.monitor.shutdown_v

    @property
    def restart_voltage_v(self) -> float:
        """Where it may restart (after the restart delay)."""
        return self.monitor.restart_v

    @property
    def idle_w(self) -> float:
        """Its zero-load power."""
        return self.efficiency.no_load_w

    @property
    def dc_power_w(self) -> float:
        """DC input power while inverting."""
        return self.efficiency.dc_power_w(self.ac_load_w)

    def _inverting(self, ctx: DeviceContext, remote: tuple[bool, bool]) -> bool:
        del ctx  # an inverter without a charger ignores shore power
        return self.on and remote[0] and not self.low_battery

    def current_a(self, ctx: DeviceContext, bus_voltage_v: float) -> float:
        """-(DC power of the AC load) / V while inverting."""
        if not self._inverting(ctx, self.remote(ctx, bus_voltage_v)):
            return 0.0
        return -power_draw_a(self.dc_power_w, bus_voltage_v) - self.prealarm_output_current_a(
            ctx, bus_voltage_v
        )

    def characteristic(self, ctx: DeviceContext) -> Callable[[float], float]:
        """`current_a` with the remote, the monitor, the load and the pre-alarm worked out once.

        In a context that fixes the bank voltage they do not depend on the bus voltage.
        """
        bank_v = ctx.bank_voltage_v
        if bank_v is None or type(self).current_a is not Inverter.current_a:
            return super().characteristic(ctx)
        if not self._inverting(ctx, self.remote(ctx, bank_v)):
            return no_current
        power_w = self.dc_power_w
        prealarm_a = self.prealarm_output_current_a(ctx, bank_v)
        return lambda v: -power_draw_a(power_w, v) - prealarm_a

    def is_on(self, ctx: DeviceContext) -> bool:
        """Inverting now."""
        return self._inverting(ctx, self.remote(ctx, self.last_bus_voltage_v))

    def _wants_to_invert(self, ctx: DeviceContext, remote: tuple[bool, bool]) -> bool:
        """Switched on and allowed to invert, whatever its monitor says."""
        del ctx
        return remote[0]

    def _step(self, ctx: DeviceContext, bus_voltage_v: float, dt_s: float) -> None:
        remote = self.remote(ctx, bus_voltage_v)
        if not self.on or not remote[0]:
            self.monitor.reset()  # switched off, by hand or by its remote
            return
        if self.low_battery and bus_voltage_v < MIN_BUS_V:
            # shut down it draws nothing, so this is its supply gone (a blocked System+ port)
            self.monitor.power_lost()
            return
        self.monitor.step(
            ctx.now_s,
            ctx.now_s + dt_s,
            bus_voltage_v,
            inverting=self._wants_to_invert(ctx, remote),
        )

    def next_change_s(self, ctx: DeviceContext) -> float:
        """The end of its restart or charge-detect delay."""
        del ctx
        return self.monitor.next_change_s()

    def _save_own(self) -> tuple[object, ...]:
        return _InverterState(self.ac_load_w, self.monitor.save_state())

    def _load_own(self, own: tuple[object, ...]) -> None:
        state = cast(_InverterState, own)
        self.ac_load_w = state.ac_load_w
        self.monitor.load_state(state.low_battery)

    def _latches(self) -> tuple[object, ...]:
        return self.monitor.latches()


def _efficiency(name: str, model_name: str, params: InverterParams) -> EfficiencyCurve:
    """The model's curve, or what the keywords say instead."""
    try:
        model = inverter_model(model_name)
    except ValueError as error:
        raise ValueError(f"{name}: {error}") from None
    no_load_w = finite(name, "idle_w", params.get("idle_w", model.no_load_w))
    flat_pct = params.get("efficiency_pct")
    if flat_pct is not None:
        return EfficiencyCurve.flat(
            efficiency_pct=valid_efficiency_pct(name, flat_pct), no_load_w=no_load_w
        )
    return EfficiencyCurve.from_peak(
        rated_power_w=model.rated_power_w,
        peak_efficiency_pct=model.peak_efficiency_pct,
        no_load_w=no_load_w,
    )


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
    DEFAULT_MODEL: ClassVar[str] = INVERTER_CHARGER_MODEL

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
        # decided: VE.Bus chargers re-bulk like the Blue Smart (at full current for 4 s)
        self.charging = ChargeAlgorithm.from_params(
            params, rated_current_a=self.charge_current_a, rebulk=Rebulk.CURRENT
        )

    def _inverting(self, ctx: DeviceContext, remote: tuple[bool, bool]) -> bool:
        return not ctx.shore_power and self.on and remote[0] and not self.low_battery

    def _wants_to_invert(self, ctx: DeviceContext, remote: tuple[bool, bool]) -> bool:
        return not ctx.shore_power and remote[0]

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

    def characteristic(self, ctx: DeviceContext) -> Callable[[float], float]:
        """`current_a` with the remote, shore power, the stage and the pre-alarm worked out once.

        In a context that fixes the bank voltage they do not depend on the bus voltage.
        """
        bank_v = ctx.bank_voltage_v
        if bank_v is None or type(self).current_a is not InverterCharger.current_a:
            return functools.partial(self.current_a, ctx)
        remote = self.remote(ctx, bank_v)
        prealarm_a = self.prealarm_output_current_a(ctx, bank_v)
        if self._charging(ctx, remote):
            charging, most_a = self.charging, self.charge_current_a
            return lambda v: charging.current_a(v, most_a) - prealarm_a
        if self._inverting(ctx, remote):
            power_w = self.dc_power_w
            return lambda v: -power_draw_a(power_w, v) - prealarm_a
        return no_current

    def is_on(self, ctx: DeviceContext) -> bool:
        """Inverting, charging, or passing shore power through."""
        remote = self.remote(ctx, self.last_bus_voltage_v)
        if ctx.shore_power:
            return self.on and (remote[0] or remote[1])
        return self._inverting(ctx, remote)

    def _step(self, ctx: DeviceContext, bus_voltage_v: float, dt_s: float) -> None:
        super()._step(ctx, bus_voltage_v, dt_s)
        self.charging.step(
            now_s=ctx.now_s,
            active=self._charging(ctx, self.remote(ctx, bus_voltage_v)),
            bus_voltage_v=bus_voltage_v,
            limit_a=self.charge_current_a,
            dt_s=dt_s,
        )

    def next_change_s(self, ctx: DeviceContext) -> float:
        """End of absorption while charging, or of its low-battery monitor's delays."""
        active = self._charging(ctx, self.remote(ctx, self.last_bus_voltage_v))
        return min(
            self.charging.next_change_s(ctx.now_s, active=active), self.monitor.next_change_s()
        )

    def _save_own(self) -> tuple[object, ...]:
        return _InverterChargerState(
            self.ac_load_w,
            self.monitor.save_state(),
            self.charge_current_a,
            self.charging.save_state(),
        )

    def _load_own(self, own: tuple[object, ...]) -> None:
        state = cast(_InverterChargerState, own)
        self.ac_load_w, low_battery, self.charge_current_a, charging = state
        self.monitor.load_state(low_battery)
        self.charging.load_state(charging)

    def _latches(self) -> tuple[object, ...]:
        return (*self.monitor.latches(), *self.charging.latches())
