"""What makes a network solve cheaper (issue 18, part 5) without changing what it computes:
the devices' characteristic worked out once per solve (PLT-8, PLT-9: the same current as
`current_a` at every voltage), cells that are alike answered once for all four (PLT-1: the same
EMF, terminal voltages and SoC as cell by cell), and the devices' context kept while what it is
made of stands (OUT-1, OUT-2: a jumper fitted or the weather changing makes a new one)."""

import dataclasses
import itertools
from pathlib import Path

import pytest

from smartbms.core.signals import ALL_OPEN, Level
from smartbms.plant.battery import BatteryOptions, LithiumBattery
from smartbms.plant.devices import DcLoad, Device, DeviceContext
from smartbms.plant.params import battery_model
from smartbms.scenario import load_scenario
from smartbms.twin.build import build_system
from tests.scenarios.helpers import EXAMPLES

VALID = Path(__file__).parent.parent / "scenarios" / "valid"
SCENARIOS = [*sorted(EXAMPLES.glob("*.toml")), VALID / "rich.toml"]


def _devices() -> list[Device]:
    """Every device of the examples (and the rich valid scenario), one of each name."""
    found: dict[str, Device] = {}
    for path in SCENARIOS:
        for device in build_system(load_scenario(path)).devices:
            found.setdefault(f"{type(device).__name__} {device.name}", device)
    return list(found.values())


DEVICES = _devices()
VOLTAGES = [0.0, 3.0, 7.9, 9.5, 11.0, 12.8, 13.6, 14.2, 14.4, 16.0]


def _contexts() -> list[DeviceContext]:
    contexts = []
    for shore, sun, ld, cd, pre, bank_v in itertools.product(
        (False, True),
        (0.0, 0.6),
        (Level.HIGH, Level.FLOATING),
        (Level.HIGH, Level.FLOATING),
        (Level.HIGH, Level.FLOATING),
        (12.8, 7.0, None),
    ):

        def high(level: Level, v: float | None = bank_v) -> float | None:
            return None if v is None else (v - 0.1 if level is Level.HIGH else 0.0)

        contexts.append(
            DeviceContext(
                now_s=100.0,
                shore_power=shore,
                solar_fraction=sun,
                ambient_c=20.0,
                load_disconnect=ld,
                charge_disconnect=cd,
                prealarm=pre,
                bank_voltage_v=bank_v,
                load_disconnect_v=high(ld),
                charge_disconnect_v=high(cd),
            )
        )
    return contexts


CONTEXTS = _contexts()


def test_the_examples_hold_the_devices_with_a_characteristic_of_their_own() -> None:
    names = {type(device).__name__ for device in DEVICES}
    assert {"SolarCharger", "InverterCharger", "Inverter", "DcLoad"} <= names


def test_a_subclass_that_changes_the_current_is_not_answered_by_its_parent() -> None:
    class Doubled(DcLoad):
        def current_a(self, ctx: DeviceContext, bus_voltage_v: float) -> float:
            return 2.0 * super().current_a(ctx, bus_voltage_v)

    load = Doubled(name="doubled", power_w=100.0)
    for ctx in CONTEXTS:
        assert load.characteristic(ctx)(12.0) == load.current_a(ctx, 12.0)


@pytest.mark.parametrize("device", DEVICES, ids=lambda d: f"{type(d).__name__}-{d.name}")
@pytest.mark.parametrize("on", [True, False])
def test_a_devices_characteristic_is_its_current_at_every_voltage(device: Device, on: bool) -> None:
    device.on = on
    try:
        for ctx in CONTEXTS:
            current_a = device.characteristic(ctx)
            for v in VOLTAGES:
                assert current_a(v) == device.current_a(ctx, v), (ctx, v)  # exactly
    finally:
        device.on = True


def _battery(**options: object) -> LithiumBattery:
    return LithiumBattery(
        battery_model("LFP-Smart 12.8/200"),
        BatteryOptions(**options),  # type: ignore[arg-type]
    )


def _cell_by_cell(battery: LithiumBattery, current_a: float) -> tuple[float, tuple[float, ...]]:
    factor = battery.cell_model.resistance_factor(battery.temperature_c)
    emf = sum(battery.cell_emf_v(cell) for cell in battery.cells)
    volts = tuple(
        battery.cell_emf_v(cell) + current_a * cell.r0_ohm * factor for cell in battery.cells
    )
    return emf, volts


@pytest.mark.parametrize("soc_pct", [0.0, 3.0, 45.0, 99.0, 100.0])
def test_alike_cells_answer_as_each_cell_would(soc_pct: float) -> None:
    battery = _battery(soc_pct=soc_pct, temperature_c=5.0)
    battery.advance(-30.0, 120.0, 5.0, 120.0)  # hysteresis and polarisation move
    assert battery.cells_alike()
    emf, volts = _cell_by_cell(battery, -30.0)
    assert battery.emf_v() == emf  # exactly: the same sum, term by term
    assert battery.cell_voltages_v(-30.0) == volts
    assert battery.soc_pct == min(battery.cell_soc_pct(cell) for cell in battery.cells)


@pytest.mark.parametrize(
    "options",
    [
        {"cell_capacity_factors": (1.0, 0.8, 1.0, 1.0)},
        {"cell_soc_offsets_pct": (0.0, 0.0, -2.0, 0.0)},
        {"cell_resistance_factors": (1.0, 1.0, 1.0, 1.5)},
    ],
)
def test_a_weak_offset_or_resistive_cell_is_answered_cell_by_cell(
    options: dict[str, object],
) -> None:
    battery = _battery(soc_pct=50.0, **options)
    assert not battery.cells_alike()
    emf, volts = _cell_by_cell(battery, 12.0)
    assert battery.emf_v() == emf
    assert battery.cell_voltages_v(12.0) == volts


def test_a_bleeding_cell_is_no_longer_alike() -> None:
    battery = _battery(soc_pct=50.0)
    assert battery.cells_alike()
    battery.cells[2].bleeding = True
    assert not battery.cells_alike()


def test_the_context_is_kept_until_a_jumper_or_the_weather_changes() -> None:
    system = build_system(load_scenario(EXAMPLES / "manual-figure-1.toml"))
    # the MPPT on Charge disconnect, with an input heavy enough to sag the output (OUT-2)
    wired = next(d for d in system.devices if d.name.startswith("SmartSolar"))
    wired.wiring = dataclasses.replace(wired.wiring, remote_input_current_a=0.05)
    outputs = dataclasses.replace(
        ALL_OPEN, load_disconnect=Level.HIGH, charge_disconnect=Level.HIGH
    )
    loaded = system.context(10.0, outputs, 13.2)
    assert system.context(10.0, outputs, 13.2) is loaded
    wired.remote_jumper = True  # the input is bypassed: the output carries no load
    unloaded = system.context(10.0, outputs, 13.2)
    assert unloaded.charge_disconnect_v == pytest.approx(13.1)
    assert loaded.charge_disconnect_v is not None
    assert loaded.charge_disconnect_v < 13.0
    system.surroundings.solar_fraction = 0.25
    assert system.context(10.0, outputs, 13.2).solar_fraction == 0.25
    assert system.context(11.0, outputs, 13.2).now_s == 11.0
    assert system.context(11.0, ALL_OPEN, 13.2).charge_disconnect is Level.FLOATING
