"""Switches between the bank and loads or chargers: BatteryProtect, Cyrix-Li-Load, Cyrix-Li-Charge.

Each delay is a `Hold` (the one debounce of `smartbms.core.timing`): it starts when its
condition begins, fires when the condition has held for its time by the end of a step, and says
when that will be, so the stepper never steps over it.
"""

import math
from collections.abc import Mapping
from typing import ClassVar, Final, NamedTuple, Unpack, cast

from smartbms.core.timing import Hold
from smartbms.plant.devices.base import (
    TIME_SLACK_S,
    ChargeAlgorithm,
    ChargerParams,
    ChargesBank,
    ChargeSnapshot,
    Role,
    SwitchedDevice,
    WiringParams,
    current_draw_a,
    finite,
    power_draw_a,
)
from smartbms.plant.devices.context import DeviceContext
from smartbms.plant.devices.wiring import Connection, Control

BP_DISCONNECT_V: Final = 10.5
"""Smart BatteryProtect 12 V factory disengage level."""
BP_RECONNECT_V: Final = 12.0
"""Smart BatteryProtect 12 V factory re-engage level for that disengage level."""
BP_ENGAGE_DELAY_S: Final = 1.0
"""Smart BatteryProtect manual: it connects the load 1 s after the remote input closes."""
BP_DISCONNECT_DELAY_S: Final = 90.0
"""Smart BatteryProtect manual: under-voltage disconnects after 90 s (rides through cranking)."""
BP_RECONNECT_DELAY_S: Final = 30.0
"""Smart BatteryProtect manual: reconnect delay after under-voltage, 30 s."""
BP_LI_ION_DEAD_S: Final = 30.0
"""Smart BatteryProtect manual, Li-ion mode: it stays off 30 s after the remote went floating."""
BP_LOCKOUT_ATTEMPTS: Final = 3
"""Smart BatteryProtect manual, Li-ion mode: the third disengage/re-engage request locks it (E7)."""
BP_LOCKOUT_RELEASE_V: Final = 13.0
"""Smart BatteryProtect manual: E7 clears once the input is above 13.0 V (12 V system) ..."""
BP_LOCKOUT_RELEASE_S: Final = 30.0
"""... for at least 30 s, a sign that the battery is being recharged."""
BP_ON_A: Final = 0.0015
"""Smart BatteryProtect data sheet: own consumption while on."""
BP_OFF_A: Final = 0.0006
"""Smart BatteryProtect data sheet: own consumption while off or after a low-voltage shutdown."""

CYRIX_ENGAGE_DELAY_S: Final = 3.0
"""Cyrix-Li-Charge: it engages 3 s after control and charge voltage are both present."""
CYRIX_CHARGE_CURRENT_A: Final = 30.0
"""Chosen: a 30 A charger behind the Cyrix-Li-Charge."""


class _BatteryProtectState(NamedTuple):
    load_w: float
    engaged: bool
    under_voltage: bool
    locked_out: bool
    attempts: int
    remote_was_on: bool
    remote_on: Hold
    dead_until_s: float
    below: Hold
    above: Hold
    recharged: Hold


class _CyrixLiChargeState(NamedTuple):
    charge_current_a: float
    engaged: bool
    ready: Hold
    charging: ChargeSnapshot


class BatteryProtect(SwitchedDevice):
    """A (Smart) BatteryProtect in front of DC loads `load_w`.

    It conducts while its remote says on (1 s after the remote closes; at once off when it
    opens) and its own under-voltage protection has not tripped: below `disconnect_voltage_v`
    for 90 s it disengages, at `reconnect_voltage_v` for 30 s it re-engages. In Li-ion mode
    (for a BMS) the voltage thresholds are off; after the remote floats it stays off 30 s, and
    the third disengage/re-engage request locks it out (E7) until the input has been above
    13.0 V for 30 s.
    """

    TYPE_NAME = "battery-protect"
    ROLE = Role.LOAD
    CONTROL = Control.LOAD_DISCONNECT
    SETTABLE: ClassVar[Mapping[str, str]] = {"load_w": "load_w", **SwitchedDevice.SETTABLE}

    def __init__(
        self,
        *,
        name: str = "battery-protect",
        connection: Connection = Connection.BANK,
        load_w: float = 0.0,
        disconnect_voltage_v: float = BP_DISCONNECT_V,
        reconnect_voltage_v: float = BP_RECONNECT_V,
        engage_delay_s: float = BP_ENGAGE_DELAY_S,
        disconnect_delay_s: float = BP_DISCONNECT_DELAY_S,
        reconnect_delay_s: float = BP_RECONNECT_DELAY_S,
        li_ion_mode: bool = False,
        **params: Unpack[WiringParams],
    ) -> None:
        super().__init__(name=name, connection=connection, params=params)
        if not 0.0 < disconnect_voltage_v < reconnect_voltage_v:
            msg = f"{name}: need 0 < disconnect_voltage_v < reconnect_voltage_v"
            raise ValueError(msg)
        self.load_w = finite(name, "load_w", load_w)
        self.disconnect_voltage_v = float(disconnect_voltage_v)
        self.reconnect_voltage_v = float(reconnect_voltage_v)
        self.engage_delay_s = finite(name, "engage_delay_s", engage_delay_s)
        self.disconnect_delay_s = finite(name, "disconnect_delay_s", disconnect_delay_s)
        self.reconnect_delay_s = finite(name, "reconnect_delay_s", reconnect_delay_s)
        self.li_ion_mode = li_ion_mode
        self.engaged = True
        """The remote side has let it conduct (it starts as an installed, running unit)."""
        self.under_voltage = False
        """Its own under-voltage protection has tripped (E3)."""
        self.locked_out = False
        """E7 BMS lockout (Li-ion mode)."""
        self.attempts = 0
        """Re-engage requests since the bank was last seen recharged (Li-ion mode)."""
        self._remote_was_on = True
        self._remote_on = Hold(self.engage_delay_s)
        """The remote has said on: it engages after its delay (and the Li-ion dead time)."""
        self._dead_until_s = -math.inf
        """Li-ion mode: the end of the dead time after the remote went floating."""
        self._below = Hold(self.disconnect_delay_s)
        """Under the disconnect voltage, towards E3."""
        self._above = Hold(self.reconnect_delay_s)
        """At the reconnect voltage while E3 holds, towards clearing it."""
        self._recharged = Hold(BP_LOCKOUT_RELEASE_S)
        """Above 13.0 V with E7 attempts counted, towards clearing them."""

    def _conducting(self, remote_on: bool) -> bool:
        return (
            self.on
            and remote_on
            and self.engaged
            and not self.under_voltage
            and not self.locked_out
        )

    def current_a(self, ctx: DeviceContext, bus_voltage_v: float) -> float:
        """Its loads while it conducts, plus its own consumption."""
        own_a = current_draw_a(BP_OFF_A, bus_voltage_v)
        if self._conducting(self.remote(ctx, bus_voltage_v)[0]):
            own_a = current_draw_a(BP_ON_A, bus_voltage_v) + power_draw_a(
                self.load_w, bus_voltage_v
            )
        return -own_a - self.prealarm_output_current_a(ctx, bus_voltage_v)

    def is_on(self, ctx: DeviceContext) -> bool:
        """Conducting to its loads now."""
        return self._conducting(self.remote(ctx, self.last_bus_voltage_v)[0])

    def _step(self, ctx: DeviceContext, bus_voltage_v: float, dt_s: float) -> None:
        end_s = ctx.now_s + dt_s
        self._step_remote(ctx.now_s, end_s, self.remote(ctx, bus_voltage_v)[0])
        self._step_monitor(ctx.now_s, end_s, bus_voltage_v)
        # a recharged bank clears the E7 count and lockout
        self._recharged = self._recharged.look(
            bus_voltage_v > BP_LOCKOUT_RELEASE_V and (self.attempts > 0 or self.locked_out),
            ctx.now_s,
        )
        if self._recharged.done(end_s, TIME_SLACK_S):
            self.attempts = 0
            self.locked_out = False
            self._recharged = self._recharged.stop()

    def _step_remote(self, now_s: float, end_s: float, remote_on: bool) -> None:
        """The remote side: engage delay, Li-ion dead time, E7 attempts."""
        if not remote_on:
            if self._remote_was_on:
                self._dead_until_s = now_s + BP_LI_ION_DEAD_S
            self.engaged = False
            self._remote_on = self._remote_on.stop()
        else:
            if not self._remote_was_on and self.li_ion_mode:
                self.attempts += 1
                if self.attempts >= BP_LOCKOUT_ATTEMPTS:
                    self.locked_out = True
            if not self.engaged:
                self._remote_on = self._remote_on.start(now_s)
                if end_s + TIME_SLACK_S >= self._engage_at_s(now_s):
                    self.engaged = True
                    self._remote_on = self._remote_on.stop()
        self._remote_was_on = remote_on

    def _step_monitor(self, now_s: float, end_s: float, bus_voltage_v: float) -> None:
        """Its own input monitor: E3 after the disconnect delay, cleared after the reconnect one."""
        if self.li_ion_mode:
            self.under_voltage = False
            self._below = self._below.stop()
            self._above = self._above.stop()
        elif not self.under_voltage:
            self._above = self._above.stop()
            self._below = self._below.look(bus_voltage_v < self.disconnect_voltage_v, now_s)
            if self._below.done(end_s, TIME_SLACK_S):
                self.under_voltage = True
                self._below = self._below.stop()
        else:
            self._below = self._below.stop()
            self._above = self._above.look(bus_voltage_v >= self.reconnect_voltage_v, now_s)
            if self._above.done(end_s, TIME_SLACK_S):
                self.under_voltage = False
                self._above = self._above.stop()

    def _engage_at_s(self, now_s: float) -> float:
        remote_on = self._remote_on
        at = remote_on.due_s if remote_on.running else now_s + self.engage_delay_s
        return max(at, self._dead_until_s) if self.li_ion_mode else at

    def next_change_s(self, ctx: DeviceContext) -> float:
        """Engage delay, Li-ion dead time, under-voltage delays, E7 release."""
        engage_s = math.inf
        remote_on = self.remote(ctx, self.last_bus_voltage_v)[0]
        if remote_on and not self.engaged and not self.locked_out:
            engage_s = self._engage_at_s(ctx.now_s)
        return min(engage_s, self._below.due_s, self._above.due_s, self._recharged.due_s)

    def _save_own(self) -> _BatteryProtectState:
        return _BatteryProtectState(
            self.load_w,
            self.engaged,
            self.under_voltage,
            self.locked_out,
            self.attempts,
            self._remote_was_on,
            self._remote_on,
            self._dead_until_s,
            self._below,
            self._above,
            self._recharged,
        )

    def _load_own(self, own: tuple[object, ...]) -> None:
        (
            self.load_w,
            self.engaged,
            self.under_voltage,
            self.locked_out,
            self.attempts,
            self._remote_was_on,
            self._remote_on,
            self._dead_until_s,
            self._below,
            self._above,
            self._recharged,
        ) = cast(_BatteryProtectState, own)

    def _latches(self) -> tuple[object, ...]:
        return (
            self.engaged,
            self.under_voltage,
            self.locked_out,
            self.attempts,
            self._remote_was_on,
            self._remote_on.running,
            self._below.running,
            self._above.running,
            self._recharged.running,
        )

    @property
    def error_code(self) -> str | None:
        """What its display shows: E7 (BMS lockout), E3 (under-voltage) or nothing."""
        if self.locked_out:
            return "E7"
        if self.under_voltage:
            return "E3"
        return None


class CyrixLiLoad(SwitchedDevice):
    """A Cyrix-Li-Load in front of DC loads `load_w`: closed while its control input is HIGH."""

    TYPE_NAME = "cyrix-li-load"
    ROLE = Role.LOAD
    CONTROL = Control.LOAD_DISCONNECT
    SETTABLE: ClassVar[Mapping[str, str]] = {"load_w": "load_w", **SwitchedDevice.SETTABLE}

    def __init__(
        self,
        *,
        name: str = "cyrix-li-load",
        connection: Connection = Connection.BANK,
        load_w: float = 0.0,
        **params: Unpack[WiringParams],
    ) -> None:
        super().__init__(name=name, connection=connection, params=params)
        self.load_w = finite(name, "load_w", load_w)

    def current_a(self, ctx: DeviceContext, bus_voltage_v: float) -> float:
        """Its loads while closed."""
        if not (self.on and self.remote(ctx, bus_voltage_v)[0]):
            return 0.0
        return -power_draw_a(self.load_w, bus_voltage_v) - self.prealarm_output_current_a(
            ctx, bus_voltage_v
        )

    def is_on(self, ctx: DeviceContext) -> bool:
        """Closed now."""
        return self.on and self.remote(ctx, self.last_bus_voltage_v)[0]

    def _save_own(self) -> tuple[float]:
        return (self.load_w,)

    def _load_own(self, own: tuple[object, ...]) -> None:
        (self.load_w,) = cast(tuple[float], own)


CHARGE_SOURCES: Final = ("shore", "always")
"""When the charger behind a Cyrix-Li-Charge gives voltage: with shore power, or always."""


class CyrixLiCharge(ChargesBank, SwitchedDevice):
    """A Cyrix-Li-Charge between a charger and the bank.

    It engages `engage_delay_s` after its control input is HIGH *and* charge voltage is present
    on its charger side, and opens at once when either goes. Behind it, a charger of
    `charge_current_a` with the usual charge stages.
    """

    TYPE_NAME = "cyrix-li-charge"
    ROLE = Role.CHARGER
    CONTROL = Control.CHARGE_DISCONNECT
    SETTABLE: ClassVar[Mapping[str, str]] = {
        "charge_current_a": "charge_current_a",
        **SwitchedDevice.SETTABLE,
    }

    def __init__(
        self,
        *,
        name: str = "cyrix-li-charge",
        connection: Connection = Connection.BANK,
        charge_current_a: float = CYRIX_CHARGE_CURRENT_A,
        source: str = "shore",
        engage_delay_s: float = CYRIX_ENGAGE_DELAY_S,
        **params: Unpack[ChargerParams],
    ) -> None:
        super().__init__(name=name, connection=connection, params=params)
        if source not in CHARGE_SOURCES:
            msg = f"{name}: source must be one of {', '.join(CHARGE_SOURCES)}, got {source!r}"
            raise ValueError(msg)
        self.source = source
        self.charge_current_a = finite(name, "charge_current_a", charge_current_a)
        self.engage_delay_s = finite(name, "engage_delay_s", engage_delay_s)
        self.charging = ChargeAlgorithm.from_params(params)
        self.engaged = False
        self._ready = Hold(self.engage_delay_s)
        """Control HIGH and charge voltage present, towards engaging."""

    def _is_ready(self, ctx: DeviceContext, bus_voltage_v: float) -> bool:
        """Control HIGH and charge voltage present."""
        charge_voltage = self.source == "always" or ctx.shore_power
        return self.on and charge_voltage and self.remote(ctx, bus_voltage_v)[1]

    def current_a(self, ctx: DeviceContext, bus_voltage_v: float) -> float:
        """The charger's current while engaged."""
        if not (self.engaged and self._is_ready(ctx, bus_voltage_v)):
            return 0.0
        return self.charging.current_a(
            bus_voltage_v, self.charge_current_a
        ) - self.prealarm_output_current_a(ctx, bus_voltage_v)

    def is_on(self, ctx: DeviceContext) -> bool:
        """Engaged now."""
        return self.engaged and self._is_ready(ctx, self.last_bus_voltage_v)

    def _step(self, ctx: DeviceContext, bus_voltage_v: float, dt_s: float) -> None:
        ready = self._is_ready(ctx, bus_voltage_v)
        if not ready:
            self.engaged = False
            self._ready = self._ready.stop()
        self.charging.step(
            active=ready and self.engaged,
            bus_voltage_v=bus_voltage_v,
            limit_a=self.charge_current_a,
            dt_s=dt_s,
        )
        if ready and not self.engaged:
            self._ready = self._ready.start(ctx.now_s)
            if self._ready.done(ctx.now_s + dt_s, TIME_SLACK_S):
                self.engaged = True
                self._ready = self._ready.stop()

    def next_change_s(self, ctx: DeviceContext) -> float:
        """The end of the engage delay, or of absorption while engaged."""
        if not self._is_ready(ctx, self.last_bus_voltage_v):
            return math.inf
        if not self.engaged:
            ready = self._ready
            return ready.due_s if ready.running else ctx.now_s + self.engage_delay_s
        return self.charging.next_change_s(ctx.now_s, active=True)

    def _save_own(self) -> _CyrixLiChargeState:
        return _CyrixLiChargeState(
            self.charge_current_a, self.engaged, self._ready, self.charging.save_state()
        )

    def _load_own(self, own: tuple[object, ...]) -> None:
        state = cast(_CyrixLiChargeState, own)
        self.charge_current_a, self.engaged, self._ready, charging = state
        self.charging.load_state(charging)

    def _latches(self) -> tuple[object, ...]:
        return (self.engaged, self._ready.running, self.charging.stage)
