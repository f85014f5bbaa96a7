"""What every device is: the solver's contract, the charge stages, and saving a device's state.

The network solver asks each device for its current at a bus voltage (`current_a`, pure and
continuous, so the solver may probe it many times) and then lets it live through a step
(`advance`: latches, delays, charge stages, energy counters). A device that runs a timer of its
own says when it ends (`next_change_s`) so the simulator never steps over it.

Current bookkeeping: `current_a` is the current a device pushes into its bus. The milliamps a
remote input draws from the Load/Charge disconnect outputs are *not* in it: the system adds them
to the BMS's own draw from `remote_input_current_a` (PWR-1: output currents come on top). What a
device draws from the pre-alarm output *is* in its `current_a` (that output is the bank), and
`prealarm_output_current_a` reports it for OUT-5.

A device's state is what `advance` and the timeline (`set`) change: its switch and jumper, its
energy counters, the parameters `set` may change, its latches and timers. `save_state` gives it
as a frozen value and `load_state` puts it back, so a stepper can try a step and take it back.
"""

import abc
import enum
import functools
import inspect
import math
from collections.abc import Callable, Mapping
from typing import ClassVar, Final, NamedTuple, TypedDict, get_args

from smartbms.core.signals import Level
from smartbms.plant.devices.charging import ChargeAlgorithm, ChargeSetPoints
from smartbms.plant.devices.context import DeviceContext
from smartbms.plant.devices.wiring import (
    ALWAYS,
    NOMINAL_BANK_V,
    Cable,
    Connection,
    Control,
    RemoteInput,
    Wiring,
    check_wiring,
    make_wiring,
    remote_enabled,
    wiring_warnings,
)

# --- defaults, each with its reason ---------------------------------------------------------------

MIN_BUS_V: Final = 6.0
"""Chosen: below this a device's electronics quit; its current falls linearly to 0 (a resistor),
so P/V never blows up and the solver always sees a continuous curve."""
TIME_SLACK_S: Final = 1e-9
"""Float slack when a timer's end is compared with the end of a step (lands exactly on it)."""

# --- closed sets ----------------------------------------------------------------------------------


class Role(enum.Enum):
    """What a device does to the bank, for the design checks."""

    LOAD = "load"
    CHARGER = "charger"
    BOTH = "both"
    PASSIVE = "passive"


# --- shared physics -------------------------------------------------------------------------------


def no_current(bus_voltage_v: float) -> float:
    """No current at any bus voltage: the `characteristic` of a device that is off."""
    del bus_voltage_v
    return 0.0


def power_draw_a(power_w: float, bus_voltage_v: float) -> float:
    """Current of a constant-power load: P/V, and resistive (to 0 A at 0 V) below MIN_BUS_V."""
    if bus_voltage_v >= MIN_BUS_V:
        return power_w / bus_voltage_v
    if bus_voltage_v <= 0.0:
        return 0.0
    return power_w * bus_voltage_v / (MIN_BUS_V * MIN_BUS_V)


def current_draw_a(current_a: float, bus_voltage_v: float) -> float:
    """Current of a constant-current load, falling linearly to 0 A at 0 V below MIN_BUS_V."""
    if bus_voltage_v >= MIN_BUS_V:
        return current_a
    if bus_voltage_v <= 0.0:
        return 0.0
    return current_a * bus_voltage_v / MIN_BUS_V


# --- the devices ----------------------------------------------------------------------------------


def finite(name: str, field: str, value: object, *, positive: bool = False) -> float:
    """A finite, non-negative (or positive) number, or a ValueError naming the field."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        msg = f"{name}: {field} must be a number, got {value!r}"
        raise ValueError(msg)
    if not math.isfinite(value) or value < 0.0 or (positive and value == 0.0):
        bound = "> 0" if positive else ">= 0"
        msg = f"{name}: {field} must be a finite number {bound}, got {value!r}"
        raise ValueError(msg)
    return float(value)


def valid_efficiency_pct(name: str, value: float) -> float:
    """An efficiency in (0, 100] %, or a ValueError naming the device."""
    if not 0.0 < value <= 100.0:
        msg = f"{name}: efficiency_pct must be in (0, 100], got {value!r}"
        raise ValueError(msg)
    return float(value)


class DeviceSnapshot(NamedTuple):
    """A device's state (see `Device.save_state`): what every device has, then its own part."""

    on: bool
    remote_jumper: bool
    energy_in_wh: float
    energy_out_wh: float
    last_bus_voltage_v: float
    own: tuple[object, ...]
    """The device class's own state: the parameters `set` changes, its latches and timers."""


class Device(abc.ABC):
    """A device on the bank or on System+, as the network solver sees it."""

    TYPE_NAME: ClassVar[str]
    """The name `make_device` knows it by."""
    ROLE: ClassVar[Role]
    SETTABLE: ClassVar[Mapping[str, str]]
    """Timeline name -> attribute that `set` may change (each one part of `_save_own`)."""
    TWO_INPUTS: ClassVar[bool] = False
    """It has separate remote inputs for discharging and charging (MultiPlus-II assistants)."""

    def __init__(
        self,
        *,
        name: str,
        connection: Connection,
        wiring: Wiring,
        remote_jumper: bool,
        on: bool,
    ) -> None:
        check_wiring(name, wiring, two_inputs=self.TWO_INPUTS)
        self.name = name
        self.connection = connection
        self.wiring = wiring
        self.remote_jumper = remote_jumper
        self.on = on
        self.energy_in_wh = 0.0
        self.energy_out_wh = 0.0
        self.last_bus_voltage_v = NOMINAL_BANK_V
        """The bus voltage of the last `advance` (what `is_on` judges the outputs by)."""
        self._remote_cache: tuple[DeviceContext, bool, tuple[bool, bool]] | None = None

    # --- wiring, as the system reads it ---------------------------------------------------------

    @property
    def control(self) -> Control:
        """The BMS output wired to the device."""
        return self.wiring.control

    @property
    def cable(self) -> Cable:
        """The interface between that output and the device."""
        return self.wiring.cable

    @property
    def remote_input(self) -> RemoteInput:
        """How the device reads its remote terminal."""
        return self.wiring.remote_input

    @property
    def remote_input_current_a(self) -> float:
        """What the device's input draws from a Load/Charge disconnect output at its high level."""
        return self.wiring.remote_input_current_a

    def remote(self, ctx: DeviceContext, bus_voltage_v: float) -> tuple[bool, bool]:
        """(may discharge, may charge) by the remote input right now."""
        if self.remote_jumper or self.wiring.control is Control.NONE:
            return ALWAYS  # no output reaches the input (as `remote_enabled` says first)
        if ctx.bank_voltage_v is None:
            return remote_enabled(self.wiring, ctx, bus_voltage_v, jumper=self.remote_jumper)
        # The context fixes the bank voltage, so the answer holds for every bus voltage the
        # solver tries in it: keep it (the context is held, so its identity is not reused).
        cached = self._remote_cache
        if cached is not None and cached[0] is ctx and cached[1] == self.remote_jumper:
            return cached[2]
        answer = remote_enabled(self.wiring, ctx, ctx.bank_voltage_v, jumper=self.remote_jumper)
        self._remote_cache = (ctx, self.remote_jumper, answer)
        return answer

    def prealarm_output_current_a(self, ctx: DeviceContext, bus_voltage_v: float) -> float:
        """Current drawn from the pre-alarm output (OUT-5); it is part of `current_a` too."""
        if self.wiring.control is not Control.PREALARM or ctx.prealarm is not Level.HIGH:
            return 0.0
        bank_v = bus_voltage_v if ctx.bank_voltage_v is None else ctx.bank_voltage_v
        return current_draw_a(self.wiring.remote_input_current_a, bank_v)

    @property
    def stage(self) -> str | None:
        """The charge stage's name ("bulk", "absorption", "float"); None: it does not charge."""
        return None

    # --- the solver's contract ------------------------------------------------------------------

    @abc.abstractmethod
    def current_a(self, ctx: DeviceContext, bus_voltage_v: float) -> float:
        """Current into the bus (positive charges the bank). Pure and continuous in the voltage."""

    def characteristic(self, ctx: DeviceContext) -> Callable[[float], float]:
        """`current_a` in `ctx` as a function of the bus voltage alone.

        The network solve asks for several voltages in one context; a device may work out
        what does not depend on the voltage once (the same answers as `current_a`).
        """
        return functools.partial(self.current_a, ctx)

    @abc.abstractmethod
    def is_on(self, ctx: DeviceContext) -> bool:
        """Whether the device is operating right now (for the trace and the report)."""

    def advance(self, ctx: DeviceContext, bus_voltage_v: float, dt_s: float) -> None:
        """Live through `dt_s` at this operating point: energy counters, then timers and latches."""
        if dt_s < 0.0:
            msg = f"{self.name}: dt_s must be >= 0, got {dt_s}"
            raise ValueError(msg)
        energy_wh = self.current_a(ctx, bus_voltage_v) * bus_voltage_v * dt_s / 3600.0
        if energy_wh >= 0.0:
            self.energy_in_wh += energy_wh
        else:
            self.energy_out_wh -= energy_wh
        self._step(ctx, bus_voltage_v, dt_s)
        self.last_bus_voltage_v = bus_voltage_v

    def _step(self, ctx: DeviceContext, bus_voltage_v: float, dt_s: float) -> None:
        """Timers and latches over a step; the state before it set the step's currents.

        It changes only the class's own state (`_save_own`).
        """
        del ctx, bus_voltage_v, dt_s  # a device without timers or latches has nothing to update

    def next_change_s(self, ctx: DeviceContext) -> float:
        """Earliest time an internal timer changes the device's behaviour by itself."""
        del ctx  # no timer of its own
        return math.inf

    @property
    def has_latches(self) -> bool:
        """Whether it has timers or latches of its own (a `_step` of its own class)."""
        return type(self)._step is not Device._step

    # --- its state ------------------------------------------------------------------------------

    def save_state(self) -> DeviceSnapshot:
        """Everything `advance` and `set` change, as a frozen value (`load_state` takes it)."""
        return DeviceSnapshot(
            self.on,
            self.remote_jumper,
            self.energy_in_wh,
            self.energy_out_wh,
            self.last_bus_voltage_v,
            self._save_own(),
        )

    def load_state(self, state: DeviceSnapshot) -> None:
        """Put back what `save_state` gave (of this same device)."""
        (
            self.on,
            self.remote_jumper,
            self.energy_in_wh,
            self.energy_out_wh,
            self.last_bus_voltage_v,
            own,
        ) = state
        self._load_own(own)

    @abc.abstractmethod
    def _save_own(self) -> tuple[object, ...]:
        """The class's own state: its `SETTABLE` parameters, latches, timers and charge stage.

        (`on` and `remote_jumper` are the base's.)
        """

    @abc.abstractmethod
    def _load_own(self, own: tuple[object, ...]) -> None:
        """Put back what `_save_own` gave."""

    def _latches(self) -> tuple[object, ...]:
        """Its latches, counters, charge stage and which timers run (not their times)."""
        return ()

    def discrete_state(self) -> tuple[object, ...]:
        """Its switch, jumper and `_latches`: what a threshold crossing changes.

        A stepper compares it before and after a step to tell that a crossing happened in it.
        """
        return (self.on, self.remote_jumper, self._latches())

    def pending_state(self, ctx: DeviceContext, bus_voltage_v: float) -> tuple[object, ...]:
        """`discrete_state` once the device has seen this operating point (then taken back).

        A device judges each step by the voltage at its start, so a crossing inside a step
        shows only here, not yet in its own state.
        """
        saved = self._save_own()
        self._step(ctx, bus_voltage_v, 0.0)
        pending = self.discrete_state()
        self._load_own(saved)
        return pending

    def pending_change_s(self, ctx: DeviceContext, bus_voltage_v: float) -> float:
        """`next_change_s` once the device has seen this operating point (then taken back).

        A delay whose condition holds at a step's start starts there (a `Hold` looks at the
        start's voltage), so before the device has seen it `next_change_s` cannot tell its
        end: the inverter's 30 s restart delay, begun when a reconnect brings its supply back
        above the restart level, was located as a crossing by trials every cycle (issue 12).
        """
        if not self.has_latches:
            return self.next_change_s(ctx)
        saved, last_v = self._save_own(), self.last_bus_voltage_v
        self._step(ctx, bus_voltage_v, 0.0)
        self.last_bus_voltage_v = bus_voltage_v
        due_s = self.next_change_s(ctx)
        self._load_own(saved)
        self.last_bus_voltage_v = last_v
        return due_s

    def set(self, **values: float | bool) -> None:
        """Timeline changes, e.g. `set(power_w=500)` or `set(on=False)`; all or nothing."""
        allowed = self.SETTABLE
        unknown = sorted(values.keys() - allowed.keys())
        if unknown:
            msg = (
                f"{self.name}: cannot set {', '.join(unknown)}; "
                f"allowed: {', '.join(sorted(allowed))}"
            )
            raise ValueError(msg)
        checked: dict[str, float | bool] = {}
        for key, value in values.items():
            attr = allowed[key]
            if isinstance(getattr(self, attr), bool):
                if not isinstance(value, bool):
                    msg = f"{self.name}: {key} must be true or false, got {value!r}"
                    raise ValueError(msg)
                checked[attr] = value
            else:
                checked[attr] = finite(self.name, key, value)
        for attr, value in checked.items():
            setattr(self, attr, value)

    # --- design checks --------------------------------------------------------------------------

    def design_warnings(self) -> list[str]:
        """What an installer should fix: wrong cable, fitted jumper, overloaded output, ..."""
        warnings = wiring_warnings(self.name, self.wiring, jumper=self.remote_jumper)
        if self.connection is not Connection.BANK or self.remote_jumper:
            return warnings
        control = self.wiring.control
        if self.ROLE in (Role.LOAD, Role.BOTH) and control not in (
            Control.LOAD_DISCONNECT,
            Control.BOTH,
        ):
            warnings.append(
                f"{self.name}: on the bank but not switched by Load disconnect: it keeps "
                "discharging the bank after a low-cell shutdown"
            )
        if self.ROLE in (Role.CHARGER, Role.BOTH) and control not in (
            Control.CHARGE_DISCONNECT,
            Control.BOTH,
        ):
            warnings.append(
                f"{self.name}: on the bank but not switched by Charge disconnect: it keeps "
                "charging at cell over-voltage or over-temperature"
            )
        return warnings

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r}, connection={self.connection.value})"


# --- the devices a BMS output may switch ----------------------------------------------------------


class WiringParams(TypedDict, total=False):
    """The keywords every device a BMS output may switch takes, each optional.

    Left out: `on` True, `control` the class's `CONTROL`, `cable` DIRECT, `remote_input`
    HIGH_ACTIVE, `remote_jumper` False, `remote_input_current_a` by the kind of input.
    """

    on: bool
    control: Control
    cable: Cable
    remote_input: RemoteInput
    remote_jumper: bool
    remote_input_current_a: float | None


class ChargerParams(ChargeSetPoints, WiringParams, total=False):
    """A charging device's keywords: its charge set points, then its wiring."""


@functools.cache
def keywords(cls: type[Device]) -> tuple[str, ...]:
    """The keywords a device class takes, its `**params` spelled out from their TypedDict."""
    names: list[str] = []
    for param in inspect.signature(cls).parameters.values():
        if param.kind is inspect.Parameter.VAR_KEYWORD:
            (params_type,) = get_args(param.annotation)
            names.extend(params_type.__annotations__)
        else:
            names.append(param.name)
    return tuple(names)


class SwitchedDevice(Device):
    """A device whose remote input a BMS output may switch, wired as its `WiringParams` say.

    Its class takes those keywords as `**params` (with its own ones before them) and hands them
    here, so each device states only what is its own.
    """

    CONTROL: ClassVar[Control] = Control.NONE
    """The output it is wired to when its keywords do not say."""
    SETTABLE: ClassVar[Mapping[str, str]] = {"on": "on", "remote_jumper": "remote_jumper"}
    """What every switched device lets the timeline set; a class adds its own parameters."""

    def __init__(self, *, name: str, connection: Connection, params: WiringParams) -> None:
        unknown = sorted(params.keys() - set(keywords(type(self))))
        if unknown:
            msg = f"{type(self).__name__}() got an unexpected keyword argument {unknown[0]!r}"
            raise TypeError(msg)
        super().__init__(
            name=name,
            connection=connection,
            wiring=make_wiring(
                params.get("control", self.CONTROL),
                params.get("cable", Cable.DIRECT),
                params.get("remote_input", RemoteInput.HIGH_ACTIVE),
                params.get("remote_input_current_a"),
            ),
            remote_jumper=params.get("remote_jumper", False),
            on=params.get("on", True),
        )


class ChargesBank:
    """Mixed into a device with a Victron charge algorithm: it shows its stage."""

    charging: ChargeAlgorithm

    @property
    def stage(self) -> str | None:
        """The charge stage's name: "bulk", "absorption" or "float"."""
        return self.charging.stage.value
