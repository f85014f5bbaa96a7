"""Loads without a charger: a DC load, the residual standby current, an alarm on a BMS output."""

from collections.abc import Callable, Mapping
from typing import ClassVar, Final, NamedTuple, Unpack, cast

from smartbms.core import constants as c
from smartbms.core.signals import Level
from smartbms.plant.devices.base import (
    Device,
    Role,
    SwitchedDevice,
    WiringParams,
    current_draw_a,
    finite,
    no_current,
    power_draw_a,
)
from smartbms.plant.devices.context import DeviceContext
from smartbms.plant.devices.wiring import (
    REMOTE_HIGH_MIN_V,
    Connection,
    Control,
    RemoteInput,
    Wiring,
    disconnect_output_warnings,
    inductive_warning,
    output_voltage_v,
)

RESIDUAL_CURRENT_A: Final = 0.010
"""manual §3.1's example: an alarm system's 10 mA, which empties a bank in days."""
ALARM_CURRENT_A: Final[Mapping[str, float]] = {"buzzer": 0.030, "led": 0.010, "relay": 0.150}
"""Chosen: a piezo buzzer, an LED with its resistor, a 12 V relay coil."""


class _DcLoadState(NamedTuple):
    power_w: float
    constant_current_a: float


class DcLoad(SwitchedDevice):
    """A DC load: constant power plus constant current; an Orion Tr is one with a remote."""

    TYPE_NAME = "dc-load"
    ROLE = Role.LOAD
    SETTABLE: ClassVar[Mapping[str, str]] = {
        "power_w": "power_w",
        "current_a": "constant_current_a",
        **SwitchedDevice.SETTABLE,
    }

    def __init__(
        self,
        *,
        name: str = "dc-load",
        connection: Connection = Connection.SYSTEM_PLUS,
        power_w: float = 0.0,
        current_a: float = 0.0,
        **params: Unpack[WiringParams],
    ) -> None:
        super().__init__(name=name, connection=connection, params=params)
        self.power_w = finite(name, "power_w", power_w)
        self.constant_current_a = finite(name, "current_a", current_a)

    def current_a(self, ctx: DeviceContext, bus_voltage_v: float) -> float:
        """-(P/V + I) while on and allowed."""
        if not (self.on and self.remote(ctx, bus_voltage_v)[0]):
            return 0.0
        return -(
            power_draw_a(self.power_w, bus_voltage_v)
            + current_draw_a(self.constant_current_a, bus_voltage_v)
        ) - self.prealarm_output_current_a(ctx, bus_voltage_v)

    def characteristic(self, ctx: DeviceContext) -> Callable[[float], float]:
        """`current_a` with the switch, the remote and the pre-alarm's draw worked out once.

        In a context that fixes the bank voltage they do not depend on the bus voltage.
        """
        bank_v = ctx.bank_voltage_v
        if bank_v is None or type(self).current_a is not DcLoad.current_a:
            return super().characteristic(ctx)
        if not (self.on and self.remote(ctx, bank_v)[0]):
            return no_current
        power_w, constant_a = self.power_w, self.constant_current_a
        prealarm_a = self.prealarm_output_current_a(ctx, bank_v)
        return lambda v: -(power_draw_a(power_w, v) + current_draw_a(constant_a, v)) - prealarm_a

    def is_on(self, ctx: DeviceContext) -> bool:
        """Switched on and allowed by its remote."""
        return self.on and self.remote(ctx, self.last_bus_voltage_v)[0]

    def _save_own(self) -> _DcLoadState:
        return _DcLoadState(self.power_w, self.constant_current_a)

    def _load_own(self, own: tuple[object, ...]) -> None:
        self.power_w, self.constant_current_a = cast(_DcLoadState, own)


class ResidualLoad(Device):
    """A standby current on the bank that no output controls (PLT-10): it outlives a shutdown."""

    TYPE_NAME = "residual-load"
    ROLE = Role.PASSIVE
    SETTABLE: ClassVar[Mapping[str, str]] = {"current_a": "constant_current_a", "on": "on"}

    def __init__(
        self, *, name: str = "residual-load", current_a: float = RESIDUAL_CURRENT_A, on: bool = True
    ) -> None:
        super().__init__(
            name=name, connection=Connection.BANK, wiring=Wiring(), remote_jumper=False, on=on
        )
        self.constant_current_a = finite(name, "current_a", current_a)

    def current_a(self, ctx: DeviceContext, bus_voltage_v: float) -> float:
        """-I, whatever the BMS outputs say."""
        del ctx  # no output reaches it
        return -current_draw_a(self.constant_current_a, bus_voltage_v) if self.on else 0.0

    def is_on(self, ctx: DeviceContext) -> bool:
        """Drawing now."""
        del ctx
        return self.on and self.constant_current_a > 0.0

    def _save_own(self) -> tuple[float]:
        return (self.constant_current_a,)

    def _load_own(self, own: tuple[object, ...]) -> None:
        (self.constant_current_a,) = cast(tuple[float], own)


ALARM_KINDS: Final = tuple(ALARM_CURRENT_A)
"""The alarm devices an output can power."""


class Alarm(Device):
    """A buzzer, LED or relay powered by a BMS output (normally the pre-alarm, OUT-5).

    On the pre-alarm output it draws its `current_a` from the bank while the output is HIGH (the
    system reads it as the output's current; above 1 A the output is damaged). On a Load/Charge
    disconnect output it is that output's load: 10 mA at most, so a relay coil there sags the
    output and never pulls in (OUT-1..3); the system counts that current as the BMS's draw.
    """

    TYPE_NAME = "alarm"
    ROLE = Role.PASSIVE
    SETTABLE: ClassVar[Mapping[str, str]] = {"current_a": "drawn_a", "on": "on"}

    def __init__(
        self,
        *,
        name: str = "alarm",
        kind: str = "buzzer",
        current_a: float | None = None,
        control: Control = Control.PREALARM,
        on: bool = True,
    ) -> None:
        if kind not in ALARM_CURRENT_A:
            msg = f"{name}: kind must be one of {', '.join(ALARM_KINDS)}, got {kind!r}"
            raise ValueError(msg)
        if control in (Control.NONE, Control.BOTH):
            msg = (
                f"{name}: an alarm is powered by one output: "
                "prealarm, load-disconnect or charge-disconnect"
            )
            raise ValueError(msg)
        drawn_a = ALARM_CURRENT_A[kind] if current_a is None else current_a
        super().__init__(
            name=name,
            connection=Connection.BANK,
            wiring=Wiring(
                control=control,
                remote_input=RemoteInput.RELAY_COIL if kind == "relay" else RemoteInput.HIGH_ACTIVE,
                remote_input_current_a=finite(name, "current_a", drawn_a, positive=True),
            ),
            remote_jumper=False,
            on=on,
        )
        self.kind = kind
        self.drawn_a = self.wiring.remote_input_current_a

    @property
    def remote_input_current_a(self) -> float:
        """What it draws from its output at the high level."""
        return self.drawn_a if self.on else 0.0

    def _terminal_v(self, ctx: DeviceContext, bank_voltage_v: float) -> float:
        return output_voltage_v(self.wiring.control, ctx, bank_voltage_v, self.drawn_a)

    def prealarm_output_current_a(self, ctx: DeviceContext, bus_voltage_v: float) -> float:
        """Its current while the pre-alarm output is HIGH (OUT-5)."""
        if not self.on or self.wiring.control is not Control.PREALARM:
            return 0.0
        if ctx.prealarm is not Level.HIGH:
            return 0.0
        bank_v = bus_voltage_v if ctx.bank_voltage_v is None else ctx.bank_voltage_v
        return current_draw_a(self.drawn_a, bank_v)

    def current_a(self, ctx: DeviceContext, bus_voltage_v: float) -> float:
        """-I while the pre-alarm is HIGH; on a disconnect output the BMS's draw counts it."""
        return -self.prealarm_output_current_a(ctx, bus_voltage_v)

    def is_on(self, ctx: DeviceContext) -> bool:
        """Sounding, lit or pulled in: its output gives it at least 3 V."""
        bank_v = self.last_bus_voltage_v if ctx.bank_voltage_v is None else ctx.bank_voltage_v
        return self.on and self._terminal_v(ctx, bank_v) >= REMOTE_HIGH_MIN_V

    def _save_own(self) -> tuple[float]:
        return (self.drawn_a,)

    def _load_own(self, own: tuple[object, ...]) -> None:
        (self.drawn_a,) = cast(tuple[float], own)

    def design_warnings(self) -> list[str]:
        """Relay coil on a disconnect output (OUT-3), overload of any output (OUT-1/2/5)."""
        control = self.wiring.control
        out = control.label
        if control is Control.PREALARM:
            if self.drawn_a > c.PREALARM_MAX_A:
                return [
                    (
                        f"{self.name}: draws {self.drawn_a:g} A from the Pre-alarm output, which "
                        f"gives {c.PREALARM_MAX_A:g} A at most and is not short-circuit "
                        "protected: it will be damaged (manual §4)"
                    )
                ]
            return []
        warnings = disconnect_output_warnings(self.name, out, self.drawn_a)
        if self.kind == "relay":
            warnings.append(inductive_warning(self.name, out))
        return warnings
