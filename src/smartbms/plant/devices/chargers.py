"""Chargers on the bank or on System+: a mains charger and an MPPT solar charger."""

import re
from collections.abc import Callable, Mapping
from typing import ClassVar, Final, NamedTuple, Unpack, cast

from smartbms.plant.devices.base import (
    MIN_BUS_V,
    ChargerParams,
    ChargesBank,
    Role,
    SwitchedDevice,
    finite,
    no_current,
    valid_efficiency_pct,
)
from smartbms.plant.devices.charging import (
    ChargeAlgorithm,
    ChargeSnapshot,
    Rebulk,
)
from smartbms.plant.devices.context import DeviceContext
from smartbms.plant.devices.wiring import Cable, Connection, Control, RemoteInput

CHARGER_CURRENT_A: Final = 30.0
"""Phoenix Smart IP43 Charger 12/30."""
MPPT_MODEL: Final = "SmartSolar MPPT 75/15"
"""The smallest common SmartSolar; it needs the VE.Direct cable (manual App. A §4)."""
MPPT_PV_PEAK_W: Final = 200.0
"""A panel that suits a 75/15 on a 12 V bank (15 A x 14.2 V = 213 W)."""
MPPT_TAIL_CURRENT_A: Final = 1.0
"""SmartSolar MPPT 75/10-100/20 manual §3.8: absorption also ends below the tail current, 1 A by
default (2 A on the larger models)."""
MPPT_EFFICIENCY_PCT: Final = 97.0
"""SmartSolar data sheets: 98 % maximum; 97 % in typical use."""


class _ChargerState(NamedTuple):
    charge_current_a: float
    charging: ChargeSnapshot


class _SolarChargerState(NamedTuple):
    pv_peak_w: float
    max_current_a: float
    charging: ChargeSnapshot


class Charger(ChargesBank, SwitchedDevice):
    """A mains charger (generic, or a Phoenix Smart IP43 with a HIGH-active H terminal)."""

    TYPE_NAME = "charger"
    ROLE = Role.CHARGER
    SETTABLE: ClassVar[Mapping[str, str]] = {
        "charge_current_a": "charge_current_a",
        **SwitchedDevice.SETTABLE,
    }

    def __init__(
        self,
        *,
        name: str = "charger",
        connection: Connection = Connection.SYSTEM_PLUS,
        charge_current_a: float = CHARGER_CURRENT_A,
        **params: Unpack[ChargerParams],
    ) -> None:
        super().__init__(name=name, connection=connection, params=params)
        self.charge_current_a = finite(name, "charge_current_a", charge_current_a)
        self.charging = ChargeAlgorithm.from_params(
            params, rated_current_a=self.charge_current_a, rebulk=Rebulk.CURRENT
        )

    def _active(self, ctx: DeviceContext, bus_voltage_v: float) -> bool:
        return ctx.shore_power and self.on and self.remote(ctx, bus_voltage_v)[1]

    def current_a(self, ctx: DeviceContext, bus_voltage_v: float) -> float:
        """CV-limited charge current while it has shore power and its remote allows it."""
        if not self._active(ctx, bus_voltage_v):
            return 0.0
        return self.charging.current_a(
            bus_voltage_v, self.charge_current_a
        ) - self.prealarm_output_current_a(ctx, bus_voltage_v)

    def is_on(self, ctx: DeviceContext) -> bool:
        """Charging (or ready to) now."""
        return self._active(ctx, self.last_bus_voltage_v)

    def _step(self, ctx: DeviceContext, bus_voltage_v: float, dt_s: float) -> None:
        self.charging.step(
            now_s=ctx.now_s,
            active=self._active(ctx, bus_voltage_v),
            bus_voltage_v=bus_voltage_v,
            limit_a=self.charge_current_a,
            dt_s=dt_s,
        )

    def next_change_s(self, ctx: DeviceContext) -> float:
        """End of absorption while charging."""
        active = self._active(ctx, self.last_bus_voltage_v)
        return self.charging.next_change_s(ctx.now_s, active=active)

    def _save_own(self) -> _ChargerState:
        return _ChargerState(self.charge_current_a, self.charging.save_state())

    def _load_own(self, own: tuple[object, ...]) -> None:
        self.charge_current_a, charging = cast(_ChargerState, own)
        self.charging.load_state(charging)

    def _latches(self) -> tuple[object, ...]:
        return self.charging.latches()


_MPPT_RATING = re.compile(r"(\d+)\s*/\s*(\d+)")
_MPPT_DIRECT_CAN = frozenset({(150, 70), (150, 80)})
"""manual App. A §3: the BlueSolar CAN-bus models with a remote terminal."""


def mppt_rating(model: str) -> tuple[int, int]:
    """(max PV volts, max charge amps) from a model name such as 'SmartSolar MPPT 75/15'."""
    match = _MPPT_RATING.search(model)
    if match is None:
        msg = f"cannot read the rating of MPPT model {model!r}: expected e.g. {MPPT_MODEL!r}"
        raise ValueError(msg)
    return int(match.group(1)), int(match.group(2))


def mppt_remote_input(model: str) -> RemoteInput:
    """Manual App. A §3, §4: which MPPTs take Charge disconnect directly, which need VE.Direct."""
    volts, amps = mppt_rating(model)
    lower = model.lower()
    if "bluesolar" in lower:
        can = re.search(r"\bcan", lower) is not None
        direct = can and (volts, amps) in _MPPT_DIRECT_CAN
    else:
        direct = (volts >= 150 and amps >= 45) or (volts >= 250 and amps >= 60)
    return RemoteInput.HIGH_ACTIVE if direct else RemoteInput.VEDIRECT


class SolarCharger(ChargesBank, SwitchedDevice):
    """An MPPT solar charger: PV power through the tracker, then the charge stages.

    Its remote input follows the model (manual App. A §3/§4): SmartSolar up to 150/35 and most
    BlueSolars have only VE.Direct (the ASS030550320 cable); the big ones a HIGH-active terminal.
    """

    TYPE_NAME = "solar-charger"
    ROLE = Role.CHARGER
    CONTROL = Control.CHARGE_DISCONNECT
    SETTABLE: ClassVar[Mapping[str, str]] = {
        "pv_peak_w": "pv_peak_w",
        "max_current_a": "max_current_a",
        **SwitchedDevice.SETTABLE,
    }

    def __init__(
        self,
        *,
        name: str = "solar-charger",
        connection: Connection = Connection.BANK,
        model: str = MPPT_MODEL,
        pv_peak_w: float = MPPT_PV_PEAK_W,
        max_current_a: float | None = None,
        efficiency_pct: float = MPPT_EFFICIENCY_PCT,
        **params: Unpack[ChargerParams],
    ) -> None:
        # left out, the remote input is the model's, and the cable one that fits it
        if "remote_input" not in params:
            params["remote_input"] = mppt_remote_input(model)
        if params["remote_input"] is RemoteInput.VEDIRECT:
            params.setdefault("cable", Cable.VEDIRECT_NON_INVERTING)
        super().__init__(name=name, connection=connection, params=params)
        self.efficiency_pct = valid_efficiency_pct(name, efficiency_pct)
        self.model = model
        self.pv_peak_w = finite(name, "pv_peak_w", pv_peak_w)
        if max_current_a is None:
            max_current_a = float(mppt_rating(model)[1])
        self.max_current_a = finite(name, "max_current_a", max_current_a)
        self.charging = ChargeAlgorithm.from_params(
            params,
            rated_current_a=self.max_current_a,
            tail_current_a=MPPT_TAIL_CURRENT_A,
            rebulk=Rebulk.VOLTAGE,
        )

    def pv_power_w(self, ctx: DeviceContext) -> float:
        """Power out of the tracker: peak x irradiance x efficiency."""
        fraction = min(max(ctx.solar_fraction, 0.0), 1.0)
        return self.pv_peak_w * fraction * self.efficiency_pct / 100.0

    def _limit_a(self, ctx: DeviceContext, bus_voltage_v: float) -> float:
        return min(self.pv_power_w(ctx) / max(bus_voltage_v, MIN_BUS_V), self.max_current_a)

    def _active(self, ctx: DeviceContext, bus_voltage_v: float) -> bool:
        return self.on and self.pv_power_w(ctx) > 0.0 and self.remote(ctx, bus_voltage_v)[1]

    def current_a(self, ctx: DeviceContext, bus_voltage_v: float) -> float:
        """min(P / V, max current, CV limit) while the sun shines and the remote allows it."""
        if not self._active(ctx, bus_voltage_v):
            return 0.0
        return self.charging.current_a(
            bus_voltage_v, self._limit_a(ctx, bus_voltage_v)
        ) - self.prealarm_output_current_a(ctx, bus_voltage_v)

    def characteristic(self, ctx: DeviceContext) -> Callable[[float], float]:
        """`current_a` with the sun, the remote and the pre-alarm's draw worked out once.

        In a context that fixes the bank voltage they do not depend on the bus voltage.
        """
        bank_v = ctx.bank_voltage_v
        if bank_v is None or type(self).current_a is not SolarCharger.current_a:
            return super().characteristic(ctx)
        if not self._active(ctx, bank_v):
            return no_current
        pv_w = self.pv_power_w(ctx)
        most_a = self.max_current_a
        charging = self.charging
        prealarm_a = self.prealarm_output_current_a(ctx, bank_v)
        return lambda v: charging.current_a(v, min(pv_w / max(v, MIN_BUS_V), most_a)) - prealarm_a

    def is_on(self, ctx: DeviceContext) -> bool:
        """Harvesting now."""
        return self._active(ctx, self.last_bus_voltage_v)

    def _step(self, ctx: DeviceContext, bus_voltage_v: float, dt_s: float) -> None:
        self.charging.step(
            now_s=ctx.now_s,
            active=self._active(ctx, bus_voltage_v),
            bus_voltage_v=bus_voltage_v,
            limit_a=self._limit_a(ctx, bus_voltage_v),
            dt_s=dt_s,
        )

    def next_change_s(self, ctx: DeviceContext) -> float:
        """End of absorption while harvesting."""
        active = self._active(ctx, self.last_bus_voltage_v)
        return self.charging.next_change_s(ctx.now_s, active=active)

    def _save_own(self) -> _SolarChargerState:
        return _SolarChargerState(self.pv_peak_w, self.max_current_a, self.charging.save_state())

    def _load_own(self, own: tuple[object, ...]) -> None:
        self.pv_peak_w, self.max_current_a, charging = cast(_SolarChargerState, own)
        self.charging.load_state(charging)

    def _latches(self) -> tuple[object, ...]:
        return self.charging.latches()
