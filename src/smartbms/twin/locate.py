"""Where in a step something crossed: a guess from the looks that bracket it (issues 12, 18).

A located crossing was bisected with full trials (Euler, the corrector's passes, the end's
solve, the looks): from a 5-120 s step to the 1 ms bracket, 13-19 trials. But nearly every
crossing is a continuous quantity passing a level (the bank voltage the charge limit, a cell's
voltage a monitor's level, a device's bus voltage its own), and the trials that bracket it
already tell how those quantities move. So the looks are asked again, cheaply, of what lies
between: the BMS's inputs, each battery's state (its cells' charge and polarisation, its
temperature) and each device's bus voltage, interpolated through three trials (the side that did
not cross first: where two levels meet, a charger reaching its own voltage with the BMS's limit,
the quantities kink at the crossing), judged by the batteries' own `look`, the devices'
`pending_state` and a copy of the controller, as at a trial's end. Only the parts that changed
at the bracket's high end are asked (the BMS not when a battery's latches, its chain lines,
changed). Their first change is the guess; two trials either side of it close the bracket. The
guess only says where to try: the bracket's ends are always full trials (the step still ends on
a trial that differs, with one that does not at most `locate_s` before it), and a guess that
does not halve the bracket is followed by a bisection.

Nothing here knows a threshold: each part's own look is asked. What no cheap look sees (the
alternator's overheat timer, a boolean input such as the BMS's supply) gives no guess, and the
step is bisected as before.
"""

import dataclasses
import math
from collections.abc import Callable, Sequence
from typing import NamedTuple

from smartbms.core.controller import Controller
from smartbms.core.signals import Inputs, Outputs
from smartbms.plant.battery import BatterySnapshot, LithiumBattery
from smartbms.plant.devices import Connection, Device, DeviceSnapshot
from smartbms.plant.system import OperatingPoint, TwelveVoltSystem
from smartbms.twin.crossing import controller_would_change
from smartbms.twin.stepper import StepStart, Trial

GUESS_SPREAD = 0.1
"""A guess is tried this share of how far the last one moved either side of it (each guess is
better than the last: the full bank's charge limit, 5.19 s, then 5.1218 s for 5.1222 s)."""
FIRST_SPREAD = 0.125
"""The first guess has none before it: it is taken to be off by this share of the bracket."""
GUESS_STEPS = 1024.0
"""A guess is worked out to this share of the bracket (ten looks; the next guess refines it)."""
GUESS_WIDTH = 0.1
"""A guess is tried at least this share of `locate_s` before and after it: a good guess places
the crossing within 0.2 ms, not bisection's 1 ms (the full bank's charge-limit cycles start
where the last ended: against the converged run, its 60 events in the first 40 minutes are off
by 0.54 s in all, at most 15 ms; bisected, 0.88 s and 18 ms)."""


@dataclasses.dataclass(frozen=True, slots=True)
class Look:
    """What a trial's end showed the looks: enough to ask them again in between."""

    t_s: float
    """Into the step."""
    inputs: Inputs
    batteries: tuple[BatterySnapshot, ...]
    currents_a: tuple[float, ...]
    bus_voltages_v: tuple[float, ...]
    """Each device's with latches, in order."""
    devices: tuple[DeviceSnapshot, ...]
    """The state of each device with latches (its timers run with the step)."""


def _latching(system: TwelveVoltSystem) -> list[Device]:
    return [d for d in system.devices if d.has_latches]


def _bus_voltages(system: TwelveVoltSystem, op: OperatingPoint) -> tuple[float, ...]:
    return tuple(
        op.bank_voltage_v if d.connection is Connection.BANK else op.system_plus_voltage_v
        for d in system.devices
        if d.has_latches
    )


def look_at_start(system: TwelveVoltSystem, here: StepStart, inputs: Inputs) -> Look:
    """The step's start as a look (`inputs`: what the BMS measured there)."""
    return Look(
        0.0,
        inputs,
        here.state.batteries,
        here.op.battery_currents_a,
        _bus_voltages(system, here.op),
        tuple(
            state
            for device, state in zip(system.devices, here.state.devices, strict=True)
            if device.has_latches
        ),
    )


def look_at_end(system: TwelveVoltSystem, t_s: float, trial: Trial, outputs: Outputs) -> Look:
    """The look at the end of `trial`, `t_s` into its step; the plant must stand there."""
    op = trial.op_end
    return Look(
        t_s,
        system.measure(op, outputs),
        tuple([battery.save_state() for battery in system.batteries]),
        op.battery_currents_a,
        _bus_voltages(system, op),
        tuple([device.save_state() for device in _latching(system)]),
    )


Mixer = Callable[[Sequence[float]], object]
"""A weighted sum of like values, worked out for the weights it is given."""


def mixer(values: Sequence[object]) -> Mixer:
    """The weighted sum of like values: floats summed, tuples field by field, else the first.

    Worked out once for many weights: what is alike in every value (most of a battery's state)
    is the first value itself, and a float that is not finite in every value (a timer not
    running) is the first value's too.
    """
    first = values[0]
    if all(v == first for v in values):
        return lambda _: first
    if type(first) is float:
        floats = tuple(v for v in values if type(v) is float and math.isfinite(v))
        if len(floats) == len(values):
            return _dot(floats)
        return lambda _: first
    if isinstance(first, tuple):
        rows = [v for v in values if type(v) is type(first)]
        if len(rows) == len(values) and all(len(v) == len(first) for v in rows):
            fields = [mixer(column) for column in zip(*rows, strict=True)]
            kind = type(first)
            return lambda weights: tuple.__new__(kind, [field(weights) for field in fields])
    return lambda _: first


def _dot(values: tuple[float, ...]) -> Callable[[Sequence[float]], float]:
    """The weighted sum of `values` (two or three of them: written out, it is called often)."""
    if len(values) == 2:
        a, b = values
        return lambda w: a * w[0] + b * w[1]
    if len(values) == 3:
        a, b, c = values
        return lambda w: a * w[0] + b * w[1] + c * w[2]
    return lambda w: sum(x * y for x, y in zip(w, values, strict=True))


def _weights(times: Sequence[float], t: float) -> tuple[float, ...]:
    """Lagrange's weights of the looks at `times` for the instant `t`."""
    out = []
    for i, ti in enumerate(times):
        w = 1.0
        for j, tj in enumerate(times):
            if j != i:
                w *= (t - tj) / (ti - tj)
        out.append(w)
    return tuple(out)


class Guess:
    """The looks of a step's bracket, asked again in between (see the module)."""

    def __init__(
        self,
        system: TwelveVoltSystem,
        controller: Controller,
        outputs: Outputs,
        inputs_start: Inputs,
        here: StepStart,
        *,
        locate_s: float,
    ) -> None:
        self.system = system
        self.controller = controller
        self.outputs = outputs
        self.inputs_start = inputs_start
        self.here = here
        self.least_s = GUESS_WIDTH * locate_s
        self.last_s: float | None = None
        """The last guess (into the step)."""
        n = len(system.batteries)
        self._latching = _latching(system)
        signature = here.signature
        self._battery_latches = signature[:n]
        self._device_latches = signature[len(signature) - len(_bus_voltages(system, here.op)) :]
        self._numeric = tuple(
            f.name
            for f in dataclasses.fields(inputs_start)
            if type(getattr(inputs_start, f.name)) is float
        )

    def which(self, trial: Trial) -> tuple[tuple[int, ...], tuple[int, ...], bool] | None:
        """The batteries and devices whose latches `trial` changed, and whether the BMS would.

        None when something else changed (the alternator's timer): no cheap look sees it.
        """
        n = len(self._battery_latches)
        sig = trial.signature
        n_devices = len(self._device_latches)
        batteries = tuple(i for i in range(n) if sig[i] != self._battery_latches[i])
        devices = tuple(
            k for k in range(n_devices) if sig[len(sig) - n_devices + k] != self._device_latches[k]
        )
        middle = sig[n : len(sig) - n_devices]
        start_middle = self.here.signature[n : len(sig) - n_devices]
        if middle != start_middle:
            return None
        # a battery's latches are the chain lines: the BMS's change follows them
        return batteries, devices, trial.changed and not batteries

    def tries(
        self,
        looks: Sequence[Look],
        low_s: float,
        high_s: float,
        parts: tuple[tuple[int, ...], tuple[int, ...], bool],
    ) -> list[float]:
        """Where to try next in the bracket (low_s, high_s]: either side of the guess, or none.

        The looks interpolated are the three nearest the bracket on the side that did not
        cross, and the nearest crossed ones while it has fewer: the quantities may kink where
        they cross (a charger reaching its voltage as the bank reaches the BMS's limit). The
        tries are a share of how far the guess moved since the last one either side of it
        (the first: a share of the bracket), at least `GUESS_WIDTH` x `locate_s`.
        """
        before = sorted((x for x in looks if x.t_s <= low_s), key=lambda x: -x.t_s)
        after = sorted((x for x in looks if x.t_s >= high_s), key=lambda x: x.t_s)
        if not before or not after:
            return []
        width = high_s - low_s
        precision = max(0.25 * self.least_s, width / GUESS_STEPS)
        around = [*before[:3], *after][:3]
        guessed = self.first_change_s(around, low_s, high_s, parts, precision)
        if guessed is None:
            return []
        moved = FIRST_SPREAD * width if self.last_s is None else abs(guessed - self.last_s)
        spread = min(max(self.least_s, precision, GUESS_SPREAD * moved), 0.25 * width)
        self.last_s = guessed
        return [guessed - spread, guessed + spread]

    def first_change_s(
        self,
        looks: Sequence[Look],
        low_s: float,
        high_s: float,
        parts: tuple[tuple[int, ...], tuple[int, ...], bool],
        precision_s: float,
    ) -> float | None:
        """The first instant in (low_s, high_s] where the interpolated looks change, or None.

        `looks[0]` is the bracket's low end (its latches are the start's), `looks[1]` its high
        end; a third, if given, makes the interpolation quadratic. None when the high end's look
        shows no change here (the parts looked at did not cause it).
        """
        times = [look.t_s for look in looks]
        batteries, devices, _ = parts
        live = [self.system.batteries[i] for i in batteries]
        saved = [battery.save_state() for battery in live]
        saved_devices = [self._latching[k].save_state() for k in devices]
        try:
            differs = self._differs_at(looks, parts)
            if not differs(_weights(times, high_s), high_s):
                return None
            low, high = low_s, high_s
            while high - low > precision_s:
                middle = 0.5 * (low + high)
                if differs(_weights(times, middle), middle):
                    high = middle
                else:
                    low = middle
            return high
        finally:
            for battery, state in zip(live, saved, strict=True):
                battery.load_state(state)
            for k, device_state in zip(devices, saved_devices, strict=True):
                self._latching[k].load_state(device_state)

    def _differs_at(
        self, looks: Sequence[Look], parts: tuple[tuple[int, ...], tuple[int, ...], bool]
    ) -> Callable[[tuple[float, ...], float], bool]:
        """Whether the parts' looks differ from the start's at interpolation `weights`, `t`.

        A battery is put in its low look's state, then the floats that move between the looks
        (its temperature, its cells' charge, polarisation and hysteresis) are set to their
        interpolation; a device stays in its low look's state (its timers count from when they
        started) and sees the interpolated bus voltage.
        """
        system, here = self.system, self.here
        batteries, devices, controller = parts
        currents = mixer([look.currents_a for look in looks])
        lows = {i: looks[0].batteries[i] for i in batteries}
        moving = {
            i: _moving(system.batteries[i], [look.batteries[i] for look in looks])
            for i in batteries
        }
        for k in devices:
            self._latching[k].load_state(looks[0].devices[k])
        bus = {k: mixer([look.bus_voltages_v[k] for look in looks]) for k in devices}
        first = looks[0].inputs
        inputs = {
            name: mixer([getattr(look.inputs, name) for look in looks])
            for name in self._numeric
            if any(getattr(look.inputs, name) != getattr(first, name) for look in looks)
        }

        def differs(weights: tuple[float, ...], t: float) -> bool:
            t_abs = here.t_s + t
            for i in batteries:
                battery = system.batteries[i]
                battery.load_state(lows[i])
                for target, name, value in moving[i]:
                    setattr(target, name, value(weights))
                battery.look(currents(weights)[i], t_abs)  # type: ignore[index]
                if battery.latches() != self._battery_latches[i]:
                    return True
            if devices:
                ctx = system.context(t_abs, self.outputs)
                for k in devices:
                    pending = self._latching[k].pending_state(ctx, bus[k](weights))  # type: ignore[arg-type]
                    if pending != self._device_latches[k]:
                        return True
            if controller:
                mixed = dataclasses.replace(
                    first,
                    **{name: value(weights) for name, value in inputs.items()},  # type: ignore[arg-type]
                )
                if controller_would_change(self.controller, mixed, self.inputs_start, t_abs, here):
                    return True
            return False

        return differs


def _moving(
    battery: LithiumBattery, states: Sequence[BatterySnapshot]
) -> list[tuple[object, str, Callable[[Sequence[float]], float]]]:
    """The battery's and its cells' floats that differ between `states`, by attribute name.

    Only those a snapshot names as the live object does (its temperature, a cell's charge,
    polarisation and hysteresis), and only where each state has a finite number.
    """
    out: list[tuple[object, str, Callable[[Sequence[float]], float]]] = []
    pairs: list[tuple[object, Sequence[NamedTuple]]] = [(battery, states)]
    pairs += [(cell, [state.cells[c] for state in states]) for c, cell in enumerate(battery.cells)]
    for target, snapshots in pairs:
        for f, name in enumerate(snapshots[0]._fields):
            values = tuple(snapshot[f] for snapshot in snapshots)
            if (
                all(type(v) is float and math.isfinite(v) for v in values)
                and any(v != values[0] for v in values)
                and hasattr(target, name)
            ):
                out.append((target, name, _dot(values)))
    return out
