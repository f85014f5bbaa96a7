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
    ChargerParams,
    ChargesBank,
    Role,
    SwitchedDevice,
    WiringParams,
    current_draw_a,
    finite,
    power_draw_a,
)
from smartbms.plant.devices.charging import (
    ChargeAlgorithm,
    ChargeSnapshot,
    Rebulk,
)
from smartbms.plant.devices.context import DeviceContext
from smartbms.plant.devices.wiring import Connection, Control

BP_DISCONNECT_V: Final = 10.5
"""Smart BatteryProtect 12 V factory disengage level."""
BP_RECONNECT_V: Final = 12.0
"""Smart BatteryProtect 12 V factory re-engage level for that disengage level."""
BP_ENGAGE_DELAY_S: Final = 1.0
"""Smart BatteryProtect manual: it connects the load 1 s after the remote input closes."""
BP_ALARM_DELAY_S: Final = 12.0
"""BatteryProtect data sheet: the alarm output activates after 12 s below the disconnect level
(so starting the engine does not trigger it)."""
BP_DISCONNECT_DELAY_S: Final = 90.0
"""BatteryProtect data sheet: the load is disconnected 90 s after the alarm activated, unless the
voltage rises to the reconnect level meanwhile (e.g. the engine was started)."""
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

CYRIX_LOAD_ENGAGE_DELAY_S: Final = 30.0
"""Cyrix-Li-Load data sheet: when the BMS output is high again it re-engages after 30 s."""
CYRIX_LOAD_ATTEMPTS: Final = 3
"""Cyrix-Li-Load data sheet: after 3 attempts it stays open until the bank is recharged ..."""
CYRIX_LOAD_RELEASE_V: Final = 13.0
"""... that is, above 13 V (12 V system) ..."""
CYRIX_LOAD_RELEASE_S: Final = 30.0
"""... for at least 30 s."""
CYRIX_ENGAGE_DELAY_S: Final = 3.0
"""Cyrix-Li-Charge data sheet: it engages 3 s after control and charge voltage are present."""
CYRIX_CHARGE_QUICK_ATTEMPTS: Final = 2
"""Cyrix-Li-Charge data sheet: after 2 re-attempts ..."""
CYRIX_CHARGE_SLOW_DELAY_S: Final = 600.0
"""... the delay becomes 10 min (a charger that keeps tripping the cell over-voltage alarm)."""
CYRIX_CHARGE_CURRENT_A: Final = 30.0
"""Chosen: a 30 A charger behind the Cyrix-Li-Charge."""


class _BatteryProtectState(NamedTuple):
    load_w: float
    engaged: bool
    alarm: bool
    countdown: Hold
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
    attempts: int
    retrying: bool
    ready: Hold
    charging: ChargeSnapshot


class BatteryProtect(SwitchedDevice):
    """A (Smart) BatteryProtect in front of DC loads `load_w`.

    It conducts while its remote says on (1 s after the remote closes; at once off when it
    opens: the BMS's disconnect is instantaneous) and its own under-voltage protection has not
    tripped: 12 s below `disconnect_voltage_v` raise its alarm, 90 s later it disengages unless
    the voltage has risen to `reconnect_voltage_v`; at `reconnect_voltage_v` for 30 s it
    re-engages. In Li-ion mode
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
        alarm_delay_s: float = BP_ALARM_DELAY_S,
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
        self.alarm_delay_s = finite(name, "alarm_delay_s", alarm_delay_s)
        self.disconnect_delay_s = finite(name, "disconnect_delay_s", disconnect_delay_s)
        self.reconnect_delay_s = finite(name, "reconnect_delay_s", reconnect_delay_s)
        self.li_ion_mode = li_ion_mode
        self.engaged = True
        """The remote side has let it conduct (it starts as an installed, running unit)."""
        self.alarm = False
        """Its alarm output: 12 s under the disconnect level, until the reconnect level."""
        self._countdown = Hold(self.disconnect_delay_s)
        """From the alarm to the disconnect."""
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
        self._below = Hold(self.alarm_delay_s)
        """Under the disconnect voltage, towards the alarm."""
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
        """Its own input monitor: the alarm after 12 s, E3 90 s later, cleared after 30 s."""
        if self.li_ion_mode:
            self.under_voltage = self.alarm = False
            self._below = self._below.stop()
            self._countdown = self._countdown.stop()
            self._above = self._above.stop()
        elif not self.under_voltage:
            self._above = self._above.stop()
            self._step_alarm(now_s, end_s, bus_voltage_v)
        else:
            self._below = self._below.stop()
            self._above = self._above.look(bus_voltage_v >= self.reconnect_voltage_v, now_s)
            if self._above.done(end_s, TIME_SLACK_S):
                self.under_voltage = self.alarm = False
                self._above = self._above.stop()

    def _step_alarm(self, now_s: float, end_s: float, bus_voltage_v: float) -> None:
        """Towards the alarm, then from the alarm towards E3 (cancelled at the reconnect level)."""
        if not self.alarm:
            self._below = self._below.look(bus_voltage_v < self.disconnect_voltage_v, now_s)
            if not self._below.done(end_s, TIME_SLACK_S):
                return
            self.alarm = True
            self._countdown = Hold(self.disconnect_delay_s, self._below.due_s)
            self._below = self._below.stop()
        if bus_voltage_v >= self.reconnect_voltage_v:
            self.alarm = False
            self._countdown = self._countdown.stop()
        elif self._countdown.done(end_s, TIME_SLACK_S):
            self.under_voltage = True
            self._countdown = self._countdown.stop()

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
        return min(
            engage_s,
            self._below.due_s,
            self._countdown.due_s,
            self._above.due_s,
            self._recharged.due_s,
        )

    def _save_own(self) -> _BatteryProtectState:
        return _BatteryProtectState(
            self.load_w,
            self.engaged,
            self.alarm,
            self._countdown,
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
            self.alarm,
            self._countdown,
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
            self.alarm,
            self._countdown.running,
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


class _CyrixLiLoadState(NamedTuple):
    load_w: float
    engaged: bool
    attempts: int
    locked_out: bool
    remote_was_on: bool
    remote_on: Hold
    recharged: Hold


class CyrixLiLoad(SwitchedDevice):
    """A Cyrix-Li-Load in front of DC loads `load_w`.

    Cyrix-Li-Load data sheet: it opens when its control input goes free floating; when the
    BMS output comes back high (the bank recovered after the loads went) it re-engages after
    30 s; after 3 attempts it stays open until the bank has been above 13 V for at least 30 s
    (a sign it is being recharged).
    """

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
        engage_delay_s: float = CYRIX_LOAD_ENGAGE_DELAY_S,
        **params: Unpack[WiringParams],
    ) -> None:
        super().__init__(name=name, connection=connection, params=params)
        self.load_w = finite(name, "load_w", load_w)
        self.engage_delay_s = finite(name, "engage_delay_s", engage_delay_s)
        self.engaged = True
        """Closed (it starts as an installed, running unit)."""
        self.attempts = 0
        """Re-engagements since the bank was last seen recharged."""
        self.locked_out = False
        self._remote_was_on = True
        self._remote_on = Hold(self.engage_delay_s)
        self._recharged = Hold(CYRIX_LOAD_RELEASE_S)

    def _closed(self, remote_on: bool) -> bool:
        return self.on and remote_on and self.engaged

    def current_a(self, ctx: DeviceContext, bus_voltage_v: float) -> float:
        """Its loads while closed."""
        if not self._closed(self.remote(ctx, bus_voltage_v)[0]):
            return 0.0
        return -power_draw_a(self.load_w, bus_voltage_v) - self.prealarm_output_current_a(
            ctx, bus_voltage_v
        )

    def is_on(self, ctx: DeviceContext) -> bool:
        """Closed now."""
        return self._closed(self.remote(ctx, self.last_bus_voltage_v)[0])

    def _step(self, ctx: DeviceContext, bus_voltage_v: float, dt_s: float) -> None:
        now_s, end_s = ctx.now_s, ctx.now_s + dt_s
        remote_on = self.remote(ctx, bus_voltage_v)[0]
        if not remote_on:
            self.engaged = False
            self._remote_on = self._remote_on.stop()
        else:
            if not self._remote_was_on:
                self.attempts += 1
                if self.attempts > CYRIX_LOAD_ATTEMPTS:
                    self.locked_out = True
            if not self.engaged and not self.locked_out:
                self._remote_on = self._remote_on.start(now_s)
                if self._remote_on.done(end_s, TIME_SLACK_S):
                    self.engaged = True
                    self._remote_on = self._remote_on.stop()
        self._remote_was_on = remote_on
        # a recharged bank clears the count and the lockout
        self._recharged = self._recharged.look(
            bus_voltage_v > CYRIX_LOAD_RELEASE_V and (self.attempts > 0 or self.locked_out),
            now_s,
        )
        if self._recharged.done(end_s, TIME_SLACK_S):
            self.attempts = 0
            self.locked_out = False
            self._recharged = self._recharged.stop()

    def next_change_s(self, ctx: DeviceContext) -> float:
        """The end of the re-engage delay or of the 30 s above 13 V."""
        engage_s = math.inf
        remote_on = self.remote(ctx, self.last_bus_voltage_v)[0]
        if remote_on and not self.engaged and not self.locked_out:
            remote = self._remote_on
            engage_s = remote.due_s if remote.running else ctx.now_s + self.engage_delay_s
        return min(engage_s, self._recharged.due_s)

    def _save_own(self) -> _CyrixLiLoadState:
        return _CyrixLiLoadState(
            self.load_w,
            self.engaged,
            self.attempts,
            self.locked_out,
            self._remote_was_on,
            self._remote_on,
            self._recharged,
        )

    def _load_own(self, own: tuple[object, ...]) -> None:
        (
            self.load_w,
            self.engaged,
            self.attempts,
            self.locked_out,
            self._remote_was_on,
            self._remote_on,
            self._recharged,
        ) = cast(_CyrixLiLoadState, own)

    def _latches(self) -> tuple[object, ...]:
        return (
            self.engaged,
            self.attempts,
            self.locked_out,
            self._remote_was_on,
            self._remote_on.running,
            self._recharged.running,
        )


CHARGE_SOURCES: Final = ("shore", "always")
"""When the charger behind a Cyrix-Li-Charge gives voltage: with shore power, or always."""


class CyrixLiCharge(ChargesBank, SwitchedDevice):
    """A Cyrix-Li-Charge between a charger and the bank.

    It engages `engage_delay_s` after its control input is HIGH *and* charge voltage is present
    on its charger side, and opens at once when either goes. After 2 re-attempts (engaging again
    after the BMS opened it while the charger stayed) the delay becomes 10 min (data sheet);
    decided: the count starts afresh when the charge source goes. Behind it, a charger of
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
        self.charging = ChargeAlgorithm.from_params(
            params, rated_current_a=self.charge_current_a, rebulk=Rebulk.CURRENT
        )
        self.engaged = False
        self.attempts = 0
        """Re-attempts since the charge source came."""
        self._retrying = False
        """The BMS opened it while the charger stayed: the next engagement is a re-attempt."""
        self._ready = Hold(self.engage_delay_s)
        """Control HIGH and charge voltage present, towards engaging."""

    @property
    def delay_s(self) -> float:
        """The engage delay now: 3 s, or 10 min after 2 re-attempts."""
        if self._retrying and self.attempts >= CYRIX_CHARGE_QUICK_ATTEMPTS:
            return max(self.engage_delay_s, CYRIX_CHARGE_SLOW_DELAY_S)
        return self.engage_delay_s

    def _has_source(self, ctx: DeviceContext) -> bool:
        """Its charger gives voltage (and it is switched on)."""
        return self.on and (self.source == "always" or ctx.shore_power)

    def _is_ready(self, ctx: DeviceContext, bus_voltage_v: float) -> bool:
        """Control HIGH and charge voltage present."""
        return self._has_source(ctx) and self.remote(ctx, bus_voltage_v)[1]

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
        if not self._has_source(ctx):
            self.attempts = 0
            self._retrying = False
        if not ready:
            if self.engaged and self._has_source(ctx):
                self._retrying = True
            self.engaged = False
            self._ready = self._ready.stop()
        self.charging.step(
            now_s=ctx.now_s,
            active=ready and self.engaged,
            bus_voltage_v=bus_voltage_v,
            limit_a=self.charge_current_a,
            dt_s=dt_s,
        )
        if ready and not self.engaged:
            if not self._ready.running:
                self._ready = Hold(self.delay_s, ctx.now_s)
            if self._ready.done(ctx.now_s + dt_s, TIME_SLACK_S):
                self.engaged = True
                self._ready = self._ready.stop()
                if self._retrying:
                    self.attempts += 1
                    self._retrying = False

    def next_change_s(self, ctx: DeviceContext) -> float:
        """The end of the engage delay, or of absorption while engaged."""
        if not self._is_ready(ctx, self.last_bus_voltage_v):
            return math.inf
        if not self.engaged:
            ready = self._ready
            return ready.due_s if ready.running else ctx.now_s + self.delay_s
        return self.charging.next_change_s(ctx.now_s, active=True)

    def _save_own(self) -> _CyrixLiChargeState:
        return _CyrixLiChargeState(
            self.charge_current_a,
            self.engaged,
            self.attempts,
            self._retrying,
            self._ready,
            self.charging.save_state(),
        )

    def _load_own(self, own: tuple[object, ...]) -> None:
        state = cast(_CyrixLiChargeState, own)
        (
            self.charge_current_a,
            self.engaged,
            self.attempts,
            self._retrying,
            self._ready,
            charging,
        ) = state
        self.charging.load_state(charging)

    def _latches(self) -> tuple[object, ...]:
        return (
            self.engaged,
            self.attempts,
            self._retrying,
            self._ready.running,
            *self.charging.latches(),
        )
