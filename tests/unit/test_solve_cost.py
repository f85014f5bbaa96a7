"""What makes a network solve cheaper (issue 18, part 5) without changing what it computes:
the devices' characteristic worked out once per solve (PLT-8, PLT-9: the same current as
`current_a` at every voltage), cells that are alike answered once for all four (PLT-1: the same
EMF, terminal voltages, SoC and knot times as cell by cell), the devices' context kept while what
it is made of stands (OUT-1, OUT-2: a jumper fitted or the weather changing makes a new one), a
device no output reaches answered without its remote (OUT-1, OUT-2), the System+ devices' currents
kept in their order (SP-6), the lags a step's corrections follow worked out once per step
(PLT-1, PLT-11: the same RC branch and temperature as worked out at each correction), and a bank
of alike batteries integrated once per trial (PLT-4: each battery ends the trial, and Figure 1
its first hours, exactly as when each is integrated on its own)."""

import dataclasses
import itertools
from collections.abc import Mapping
from pathlib import Path

import pytest

from smartbms.core.fuses import FuseType
from smartbms.core.signals import ALL_OPEN, Level
from smartbms.plant import battery as battery_module
from smartbms.plant.battery import BatteryOptions, LithiumBattery
from smartbms.plant.devices import Connection, DcLoad, Device, DeviceContext, wiring
from smartbms.plant.params import battery_model
from smartbms.plant.system import TwelveVoltSystem
from smartbms.scenario import load_scenario
from smartbms.twin import Twin
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


@pytest.mark.parametrize("current_a", [-150.0, -3.0, 0.0, 2.0, 90.0])
@pytest.mark.parametrize("soc_pct", [0.5, 13.0, 99.9, 100.0])
def test_alike_cells_time_their_knots_as_each_cell_would(soc_pct: float, current_a: float) -> None:
    """The soonest knot of four alike cells is the first cell's (the same float)."""
    battery = _battery(soc_pct=soc_pct, temperature_c=2.0)
    battery.advance(current_a, 200.0, 2.0, 200.0)  # over full, warming, polarised
    assert battery.cells_alike()
    alike = (
        battery.time_to_ocv_knot_s(current_a, 0.5, -4.0),
        battery.time_past_ocv_knot_s(current_a, -4.0),
    )
    battery._distinct_cells = lambda: battery.cells  # type: ignore[method-assign]
    assert alike == (
        battery.time_to_ocv_knot_s(current_a, 0.5, -4.0),
        battery.time_past_ocv_knot_s(current_a, -4.0),
    )


def _soc_reads(battery: LithiumBattery, monkeypatch: pytest.MonkeyPatch) -> list[object]:
    reads: list[object] = []
    plain = LithiumBattery.cell_soc_pct

    def counted(self: LithiumBattery, cell: battery_module.Cell) -> float:
        reads.append(cell)
        return plain(self, cell)

    monkeypatch.setattr(LithiumBattery, "cell_soc_pct", counted)
    battery.time_to_ocv_knot_s(-20.0, 0.5)
    return reads


def test_alike_cells_time_their_knots_once(monkeypatch: pytest.MonkeyPatch) -> None:
    assert len(_soc_reads(_battery(soc_pct=50.0), monkeypatch)) == 1
    weak = _battery(soc_pct=50.0, cell_capacity_factors=(1.0, 0.8, 1.0, 1.0))
    assert len(_soc_reads(weak, monkeypatch)) == 4


def _step_with_corrections(battery: LithiumBattery, dt_s: float) -> None:
    """A trial as the fast stepper takes it: Euler, the ramp, two more passes, the bend."""
    battery.advance(-40.0, dt_s, 10.0, dt_s, latch=False)
    battery.correct_for_ramp(-40.0, -42.0, dt_s, ambient_start_c=10.0, ambient_end_c=10.5)
    battery.move_ramp_end(-42.0, -41.5, dt_s)
    battery.move_ramp_end(-41.5, -41.6, dt_s)
    battery.bend_ramp(0.002, dt_s)


def test_a_steps_lags_are_worked_out_once(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    for name in ("lag_ramp", "lag_bend"):
        plain = getattr(battery_module, name)

        def counted(tau_s: float, dt_s: float, name: str = name, plain: object = plain) -> float:
            calls.append(name)
            assert callable(plain)
            return float(plain(tau_s, dt_s))

        monkeypatch.setattr(battery_module, name, counted)
    battery = _battery(soc_pct=60.0, temperature_c=5.0)
    _step_with_corrections(battery, 30.0)
    # the RC branch's ramp and bend and the temperature's ramp, for the whole step
    assert sorted(calls) == ["lag_bend", "lag_ramp", "lag_ramp"]
    calls.clear()
    _step_with_corrections(battery, 12.0)  # another step's length: worked out afresh
    assert len(calls) == 3


def test_kept_lags_move_the_battery_as_fresh_ones() -> None:
    """The same RC voltages, temperature and charge, to the last bit, as lags worked out anew."""
    kept, fresh = (
        _battery(soc_pct=60.0, temperature_c=5.0),
        _battery(soc_pct=60.0, temperature_c=5.0),
    )
    plain = fresh._ramp_lags

    def anew(dt_s: float) -> battery_module._RampLags:
        fresh._ramp_lag_cache = (float("nan"), battery_module._RampLags(0.0, 0.0, 0.0))
        return plain(dt_s)

    fresh._ramp_lags = anew  # type: ignore[method-assign]
    for dt_s in (30.0, 30.0, 4.0):
        _step_with_corrections(kept, dt_s)
        _step_with_corrections(fresh, dt_s)
        assert kept.save_state() == fresh.save_state()


def test_only_devices_an_output_reaches_read_their_remote(monkeypatch: pytest.MonkeyPatch) -> None:
    """Figure 1: the MPPT on Charge disconnect reads it; the MultiPlus, fridge and buzzer not."""
    system = build_system(load_scenario(EXAMPLES / "manual-figure-1.toml"))
    read: list[str] = []
    plain = wiring.remote_enabled

    def counted(wired: wiring.Wiring, *args: object, **kwargs: bool) -> tuple[bool, bool]:
        read.append(wired.control.name)
        return plain(wired, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr("smartbms.plant.devices.base.remote_enabled", counted)
    outputs = dataclasses.replace(
        ALL_OPEN, load_disconnect=Level.HIGH, charge_disconnect=Level.HIGH
    )
    system.solve(10.0, outputs)
    assert read == ["CHARGE_DISCONNECT"]
    for device in system.devices:  # and they answer as the signal chain says
        ctx = system.context(10.0, outputs)
        expected = wiring.remote_enabled(device.wiring, ctx, 13.0, jumper=device.remote_jumper)
        assert device.remote(ctx, 13.0) == expected


def test_system_plus_devices_keep_their_own_currents_whatever_their_names() -> None:
    """SP-6: each System+ device's current is its own, even under a name another one has."""
    batteries = [_battery(soc_pct=50.0)]
    devices: list[Device] = [
        DcLoad(name="load", connection=Connection.SYSTEM_PLUS, power_w=100.0),
        DcLoad(name="load", connection=Connection.SYSTEM_PLUS, power_w=300.0),
    ]
    system = TwelveVoltSystem(
        batteries=batteries, devices=devices, installed_fuse=FuseType.MEGA_100A
    )
    outputs = dataclasses.replace(
        ALL_OPEN, system_plus_charge_allowed=True, system_plus_discharge_allowed=True
    )
    op = system.solve(0.0, outputs)
    small, large = op.device_currents_a
    assert large == pytest.approx(3.0 * small)
    assert small + large == pytest.approx(op.system_plus_current_a)


# --- batteries alike ----------------------------------------------------------------------------


def _bank(*options: Mapping[str, object]) -> TwelveVoltSystem:
    """Batteries of one model (with `options` each) and an inverter drawing from them."""
    load: list[Device] = [DcLoad(name="inverter", connection=Connection.BANK, power_w=900.0)]
    return TwelveVoltSystem(
        batteries=[_battery(**o) for o in options],
        devices=load,
        installed_fuse=FuseType.MEGA_100A,
    )


def _trial(system: TwelveVoltSystem, dt_s: float) -> None:
    """One trial as the fast stepper takes it: Euler, two passes, the bend, the look."""
    curvatures = (0.003,) * (len(system.batteries) + 1)  # the starter's last
    start = system.solve(0.0, ALL_OPEN)
    system.advance(0.0, dt_s, start, ALL_OPEN, latch=False)
    predicted = system.solve(dt_s, ALL_OPEN)
    system.correct_for_ramp(start, predicted, dt_s, ALL_OPEN, system.surroundings.ambient_c)
    corrected = system.solve(dt_s, ALL_OPEN)
    system.move_ramp_end(predicted, corrected, dt_s, ALL_OPEN)
    system.bend_ramp(curvatures, corrected, dt_s)
    system.look(dt_s, system.solve(dt_s, ALL_OPEN))


def _calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    calls: list[str] = []
    for name in ("advance", "correct_for_ramp", "move_ramp_end", "bend_ramp", "look", "emf_v"):
        plain = getattr(LithiumBattery, name)

        def counted(
            self: LithiumBattery, *a: object, name: str = name, plain: object = plain, **k: object
        ) -> object:
            calls.append(name)
            assert callable(plain)
            return plain(self, *a, **k)

        monkeypatch.setattr(LithiumBattery, name, counted)
    return calls


ALIKE: tuple[Mapping[str, object], ...] = ({"soc_pct": 40.0, "temperature_c": 3.0},) * 3


def test_a_trial_integrates_one_of_alike_batteries(monkeypatch: pytest.MonkeyPatch) -> None:
    system = _bank(*ALIKE)
    calls = _calls(monkeypatch)
    _trial(system, 60.0)
    # the first battery alone: Euler, the ramp, one more pass, the bend, the look; its EMF
    # answers for all in the trial's three solves (the start's, before it, asks each battery)
    assert [c for c in calls if c != "emf_v"] == [
        "advance",
        "correct_for_ramp",
        "move_ramp_end",
        "bend_ramp",
        "look",
    ]
    assert calls.count("emf_v") == 3 + 3


@pytest.mark.parametrize(
    "other",
    [
        {"cell_capacity_factors": (1.0, 0.9, 1.0, 1.0)},
        {"soc_pct": 41.0},
        {"connection_resistance_ohm": 0.002},
        {"temperature_c": 3.5},
    ],
)
def test_batteries_that_differ_are_integrated_each(
    other: dict[str, object], monkeypatch: pytest.MonkeyPatch
) -> None:
    system = _bank(ALIKE[0], ALIKE[0], {**ALIKE[0], **other})
    calls = _calls(monkeypatch)
    _trial(system, 60.0)
    assert calls.count("advance") == 3
    assert calls.count("look") == 3


def _plain(system: TwelveVoltSystem) -> TwelveVoltSystem:
    """The system with every battery integrated on its own (as before batteries alike)."""
    system._lead_alone = lambda currents_a: False  # type: ignore[method-assign]  # noqa: ARG005
    return system


@pytest.mark.parametrize("dt_s", [0.4, 60.0, 900.0])
def test_alike_batteries_end_a_trial_as_each_integrated_would(dt_s: float) -> None:
    """PLT-4: the same charge, polarisation, temperature, latches and currents, to the bit."""
    fast, plain = _bank(*ALIKE), _plain(_bank(*ALIKE))
    for _ in range(3):
        _trial(fast, dt_s)
        _trial(plain, dt_s)
        assert fast.snapshot() == plain.snapshot()
        assert fast.solve(dt_s, ALL_OPEN) == plain.solve(dt_s, ALL_OPEN)


def test_a_follower_read_within_a_trial_is_in_the_leads_state() -> None:
    """Whoever reads the batteries in a trial (a look into the step) sees each one moved."""
    system = _bank(*ALIKE)
    start = system.solve(0.0, ALL_OPEN)
    system.advance(0.0, 30.0, start, ALL_OPEN, latch=False)
    lead, *others = system.batteries
    assert all(b.save_state() == lead.save_state() for b in others)
    assert lead.soc_pct < 40.0  # it moved


def test_a_restored_trial_forgets_its_lead() -> None:
    system = _bank(*ALIKE)
    before = system.snapshot()
    start = system.solve(0.0, ALL_OPEN)
    system.advance(0.0, 30.0, start, ALL_OPEN, latch=False)
    system.restore(before)
    assert system.snapshot() == before


def test_figure_1_runs_alike_with_its_batteries_integrated_each() -> None:
    """Figure 1's two batteries: four hours of the twin, the same events and state to the bit."""
    scenario = load_scenario(EXAMPLES / "manual-figure-1.toml")
    fast, plain = Twin.from_scenario(scenario), Twin.from_scenario(scenario)
    _plain(plain._engine.system)
    assert fast.advance_to(4 * 3600.0) == plain.advance_to(4 * 3600.0)
    assert fast.state == plain.state
    assert fast.steps == plain.steps
