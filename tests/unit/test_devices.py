"""The twin's devices: remote signal chain and cables (PLT-9), System+ devices (PLT-8), residual
loads (PLT-10), and the output checks (OUT-1, OUT-2, OUT-3, OUT-5)."""

import math
from collections.abc import Callable

import pytest

from smartbms.core.constants import OUTPUT_SOURCE_LIMIT_A
from smartbms.core.signals import Level
from smartbms.plant.devices import (
    DEVICE_TYPES,
    Alarm,
    BatteryProtect,
    Cable,
    Charger,
    ChargeStage,
    Connection,
    Control,
    CyrixLiCharge,
    CyrixLiLoad,
    DcLoad,
    Device,
    DeviceContext,
    Inverter,
    InverterCharger,
    RemoteInput,
    ResidualLoad,
    SolarCharger,
    Terminal,
    cable_terminal,
    input_is_on,
    make_device,
    mppt_remote_input,
)

H, F = Level.HIGH, Level.FLOATING
BANK_V = 13.2


def ctx(
    *,
    ld: Level = H,
    cd: Level = H,
    pa: Level = F,
    shore: bool = False,
    sun: float = 0.0,
    now_s: float = 0.0,
    ld_v: float | None = None,
) -> DeviceContext:
    return DeviceContext(
        now_s=now_s,
        shore_power=shore,
        solar_fraction=sun,
        ambient_c=20.0,
        load_disconnect=ld,
        charge_disconnect=cd,
        prealarm=pa,
        load_disconnect_v=ld_v,
    )


def stage(device: Charger | InverterCharger | SolarCharger) -> ChargeStage:
    """The charge stage, read fresh (a helper, so the type checker does not pin it)."""
    return device.charging.stage


def code(bp: BatteryProtect) -> str | None:
    """The BatteryProtect's display code, read fresh."""
    return bp.error_code


def alarmed(bp: BatteryProtect) -> bool:
    """The BatteryProtect's alarm output, read fresh."""
    return bp.alarm


def locked(cyrix: CyrixLiLoad) -> bool:
    """The Cyrix-Li-Load's lockout, read fresh."""
    return cyrix.locked_out


def latched(inverter: Inverter) -> bool:
    """The inverter's low-battery latch, read fresh."""
    return inverter.low_battery


def bank_load(**kw: object) -> DcLoad:
    """A 120 W DC load on the bank switched by Load disconnect (10 A at 12 V)."""
    params: dict[str, object] = {
        "name": "load",
        "connection": "bank",
        "power_w": 120.0,
        "control": "load-disconnect",
    }
    params.update(kw)
    device = make_device("dc-load", **params)
    assert isinstance(device, DcLoad)
    return device


# --- PLT-9: the signal chain --------------------------------------------------------------------


@pytest.mark.req("PLT-9")
@pytest.mark.parametrize(
    ("cable", "driven", "terminal"),
    [
        (Cable.DIRECT, True, Terminal.HIGH),
        (Cable.DIRECT, False, Terminal.OPEN),
        (Cable.NON_INVERTING, True, Terminal.HIGH),
        (Cable.NON_INVERTING, False, Terminal.OPEN),
        (Cable.VEDIRECT_NON_INVERTING, True, Terminal.HIGH),
        (Cable.VEDIRECT_NON_INVERTING, False, Terminal.OPEN),
        (Cable.INVERTING, True, Terminal.LOW),
        (Cable.INVERTING, False, Terminal.OPEN),
        (Cable.MULTIPLUS_CABLE, True, Terminal.HIGH),
        (Cable.MULTIPLUS_CABLE, False, Terminal.OPEN),
    ],
)
def test_plt9_cable_turns_the_output_into_a_terminal_signal(
    cable: Cable, driven: bool, terminal: Terminal
) -> None:
    assert cable_terminal(cable, driven) is terminal


@pytest.mark.req("PLT-9")
@pytest.mark.parametrize(
    ("kind", "on_for"),
    [
        (RemoteInput.HIGH_ACTIVE, {Terminal.HIGH}),
        (RemoteInput.VEDIRECT, {Terminal.HIGH}),
        (RemoteInput.RELAY_COIL, {Terminal.HIGH}),
        (RemoteInput.LOW_ACTIVE, {Terminal.LOW}),
    ],
)
def test_plt9_remote_input_kind_reads_the_terminal(
    kind: RemoteInput, on_for: set[Terminal]
) -> None:
    for terminal in Terminal:
        assert input_is_on(kind, terminal) is (terminal in on_for)


# Every buildable cable x input combination, with the output HIGH and FLOATING: (on, on).
TRUTH_TABLE = [
    (RemoteInput.HIGH_ACTIVE, Cable.DIRECT, True, False),
    (RemoteInput.HIGH_ACTIVE, Cable.NON_INVERTING, True, False),
    (RemoteInput.HIGH_ACTIVE, Cable.INVERTING, False, False),  # misbehaviour: never on
    (RemoteInput.LOW_ACTIVE, Cable.INVERTING, True, False),
    (RemoteInput.LOW_ACTIVE, Cable.DIRECT, False, False),  # misbehaviour: never on
    (RemoteInput.LOW_ACTIVE, Cable.NON_INVERTING, False, False),  # misbehaviour: never on
    (RemoteInput.VEDIRECT, Cable.VEDIRECT_NON_INVERTING, True, False),
    (RemoteInput.RELAY_COIL, Cable.DIRECT, False, False),  # a 10 mA output cannot pull it in
]


@pytest.mark.req("PLT-9")
@pytest.mark.parametrize(("kind", "cable", "on_when_high", "on_when_floating"), TRUTH_TABLE)
@pytest.mark.parametrize("output", [Control.LOAD_DISCONNECT, Control.CHARGE_DISCONNECT])
def test_plt9_truth_table_every_cable_and_input(
    kind: RemoteInput,
    cable: Cable,
    on_when_high: bool,
    on_when_floating: bool,
    output: Control,
) -> None:
    """PLT-9: the device runs exactly as the output, cable and input kind say."""
    device = bank_load(control=output, cable=cable, remote_input=kind)
    for level, expected in ((H, on_when_high), (F, on_when_floating)):
        other = H  # the output not wired must not matter
        context = (
            ctx(ld=level, cd=other)
            if output is Control.LOAD_DISCONNECT
            else ctx(ld=other, cd=level)
        )
        assert device.is_on(context) is expected
        assert (device.current_a(context, 12.0) == pytest.approx(-10.0)) is expected
        assert (device.current_a(context, 12.0) == 0.0) is not expected


@pytest.mark.req("PLT-9")
def test_plt9_low_active_vebus_inverter_wired_direct_stays_off_and_is_flagged() -> None:
    """PLT-9: a VE.Bus inverter >= 1200 VA needs the inverting cable; wired direct it never runs."""
    wrong = Inverter(
        name="vebus",
        connection=Connection.BANK,
        ac_load_w=500.0,
        control=Control.LOAD_DISCONNECT,
        cable=Cable.DIRECT,
        remote_input=RemoteInput.LOW_ACTIVE,
    )
    right = Inverter(
        name="vebus",
        connection=Connection.BANK,
        ac_load_w=500.0,
        control=Control.LOAD_DISCONNECT,
        cable=Cable.INVERTING,
        remote_input=RemoteInput.LOW_ACTIVE,
    )
    assert wrong.current_a(ctx(ld=H), 12.8) == 0.0
    assert right.current_a(ctx(ld=H), 12.8) < -40.0
    assert right.current_a(ctx(ld=F), 12.8) == 0.0
    (warning,) = wrong.design_warnings()
    assert "never sees LOW" in warning
    assert "ASS030550100" in warning
    assert right.design_warnings() == []


@pytest.mark.req("PLT-9")
def test_plt9_remote_jumper_left_fitted_stays_on_when_it_should_go_off() -> None:
    """PLT-9: the classic installer mistake: the factory bridge overrides the BMS."""
    device = bank_load(remote_jumper=True)
    assert device.current_a(ctx(ld=F), 12.0) == pytest.approx(-10.0)
    assert device.is_on(ctx(ld=F))
    (warning,) = device.design_warnings()
    assert "jumper" in warning
    assert "stays on when it should go off" in warning
    device.set(remote_jumper=False)
    assert device.current_a(ctx(ld=F), 12.0) == 0.0
    assert device.design_warnings() == []


@pytest.mark.req("PLT-9")
@pytest.mark.parametrize(
    ("cable", "control"),
    [
        (Cable.DIRECT, Control.CHARGE_DISCONNECT),
        (Cable.INVERTING, Control.CHARGE_DISCONNECT),
        (Cable.NON_INVERTING, Control.CHARGE_DISCONNECT),
        (Cable.MULTIPLUS_CABLE, Control.BOTH),
    ],
)
def test_plt9_vedirect_input_with_a_wrong_cable_is_a_clear_configuration_error(
    cable: Cable, control: Control
) -> None:
    with pytest.raises(ValueError, match="ASS030550320") as info:
        SolarCharger(name="roof MPPT", model="SmartSolar MPPT 75/15", control=control, cable=cable)
    assert "roof MPPT" in str(info.value)
    assert "VE.Direct" in str(info.value)


@pytest.mark.req("PLT-9")
def test_plt9_vedirect_input_without_control_needs_no_cable() -> None:
    mppt = SolarCharger(control=Control.NONE, cable=Cable.DIRECT)
    assert mppt.current_a(ctx(cd=F, sun=1.0), 13.0) > 0.0
    assert any("keeps charging" in w for w in mppt.design_warnings())


@pytest.mark.req("PLT-9")
def test_plt9_vedirect_cable_does_not_fit_an_h_terminal() -> None:
    with pytest.raises(ValueError, match=r"VE\.Direct port only"):
        bank_load(cable=Cable.VEDIRECT_NON_INVERTING)


@pytest.mark.req("PLT-9")
def test_plt9_small_mppt_defaults_to_the_vedirect_cable_on_charge_disconnect() -> None:
    mppt = SolarCharger(model="SmartSolar MPPT 75/15")
    assert mppt.remote_input is RemoteInput.VEDIRECT
    assert mppt.cable is Cable.VEDIRECT_NON_INVERTING
    assert mppt.control is Control.CHARGE_DISCONNECT
    assert mppt.max_current_a == 15.0
    assert mppt.current_a(ctx(cd=H, sun=1.0), 13.0) > 0.0
    assert mppt.current_a(ctx(cd=F, sun=1.0), 13.0) == 0.0
    assert mppt.design_warnings() == []


@pytest.mark.req("PLT-9")
@pytest.mark.parametrize(
    ("model", "kind"),
    [
        ("SmartSolar MPPT 75/15", RemoteInput.VEDIRECT),
        ("SmartSolar MPPT 100/30", RemoteInput.VEDIRECT),
        ("SmartSolar MPPT 150/35", RemoteInput.VEDIRECT),
        ("SmartSolar MPPT 150/45", RemoteInput.HIGH_ACTIVE),
        ("SmartSolar MPPT 250/60", RemoteInput.HIGH_ACTIVE),
        ("SmartSolar MPPT 250/100", RemoteInput.HIGH_ACTIVE),
        ("BlueSolar MPPT 150/70 CAN-bus", RemoteInput.HIGH_ACTIVE),
        ("BlueSolar MPPT 150/80 CAN-bus", RemoteInput.HIGH_ACTIVE),
        ("BlueSolar MPPT 150/70", RemoteInput.VEDIRECT),
        ("BlueSolar MPPT 100/50", RemoteInput.VEDIRECT),
    ],
)
def test_plt9_mppt_model_selects_its_remote_input_per_appendix_a(
    model: str, kind: RemoteInput
) -> None:
    assert mppt_remote_input(model) is kind
    mppt = SolarCharger(model=model)
    expected = Cable.VEDIRECT_NON_INVERTING if kind is RemoteInput.VEDIRECT else Cable.DIRECT
    assert mppt.cable is expected


@pytest.mark.req("PLT-9")
def test_plt9_unreadable_mppt_model_is_refused() -> None:
    with pytest.raises(ValueError, match="SmartSolar MPPT 75/15"):
        SolarCharger(model="the big one")


@pytest.mark.req("PLT-9")
@pytest.mark.parametrize(
    ("ld", "cd", "on"), [(H, H, True), (H, F, False), (F, H, False), (F, F, False)]
)
def test_plt9_multiplus_cable_needs_both_outputs_high(ld: Level, cd: Level, on: bool) -> None:
    """PLT-9, manual App. A §6: a MultiPlus on the MultiPlus cable runs only with both HIGH."""
    multi = InverterCharger(
        name="multi",
        connection=Connection.BANK,
        ac_load_w=900.0,
        control=Control.BOTH,
        cable=Cable.MULTIPLUS_CABLE,
    )
    inverting = multi.current_a(ctx(ld=ld, cd=cd), 12.8)
    charging = multi.current_a(ctx(ld=ld, cd=cd, shore=True), 13.0)
    assert (inverting < 0.0) is on
    assert (charging == pytest.approx(70.0)) is on
    assert (inverting == 0.0) is not on
    assert (charging == 0.0) is not on
    assert multi.is_on(ctx(ld=ld, cd=cd)) is on
    assert multi.design_warnings() == []


@pytest.mark.req("PLT-9")
def test_plt9_multiplus_ii_two_inverting_cables_split_inverter_and_charger() -> None:
    """PLT-9: Load disconnect stops the inverter, Charge disconnect the charger (manual §6)."""
    multi = InverterCharger(
        connection=Connection.BANK,
        ac_load_w=900.0,
        control=Control.BOTH,
        cable=Cable.INVERTING,
        remote_input=RemoteInput.LOW_ACTIVE,
    )
    assert multi.current_a(ctx(ld=H, cd=F), 12.8) < 0.0
    assert multi.current_a(ctx(ld=F, cd=H), 12.8) == 0.0
    assert multi.current_a(ctx(ld=F, cd=H, shore=True), 13.0) == pytest.approx(70.0)
    assert multi.current_a(ctx(ld=H, cd=F, shore=True), 13.0) == 0.0
    assert multi.is_on(ctx(ld=H, cd=F, shore=True))  # still passing shore power through


@pytest.mark.req("PLT-9")
def test_plt9_multiplus_cable_and_both_control_go_together() -> None:
    with pytest.raises(ValueError, match="set control to both"):
        InverterCharger(
            connection=Connection.BANK, control=Control.LOAD_DISCONNECT, cable=Cable.MULTIPLUS_CABLE
        )
    with pytest.raises(ValueError, match="ASS070200100"):
        bank_load(control=Control.BOTH, cable=Cable.DIRECT)
    both = bank_load(control=Control.BOTH, cable=Cable.MULTIPLUS_CABLE)
    assert both.current_a(ctx(ld=H, cd=H), 12.0) == pytest.approx(-10.0)
    assert both.current_a(ctx(ld=H, cd=F), 12.0) == 0.0


@pytest.mark.req("PLT-8", "PLT-9")
def test_plt8_inverter_charger_on_system_plus_has_no_remote() -> None:
    with pytest.raises(ValueError, match="through the port"):
        InverterCharger(connection=Connection.SYSTEM_PLUS, control=Control.LOAD_DISCONNECT)
    multi = InverterCharger(ac_load_w=900.0)
    assert multi.connection is Connection.SYSTEM_PLUS
    assert multi.current_a(ctx(ld=F, cd=F), 12.0) < 0.0  # the port protects, not a remote
    assert multi.design_warnings() == []


@pytest.mark.req("PLT-9")
def test_plt9_phoenix_inverter_direct_on_h_follows_load_disconnect() -> None:
    phoenix = make_device(
        "inverter",
        name="phoenix",
        connection="bank",
        ac_load_w=300.0,
        control="load-disconnect",
        remote_input="high-active",
    )
    assert phoenix.current_a(ctx(ld=H), 12.8) < 0.0
    assert phoenix.current_a(ctx(ld=F), 12.8) == 0.0
    assert phoenix.design_warnings() == []


@pytest.mark.req("PLT-9")
def test_plt9_ip43_charger_on_charge_disconnect_stops_charging() -> None:
    ip43 = Charger(name="ip43", connection=Connection.BANK, control=Control.CHARGE_DISCONNECT)
    assert ip43.current_a(ctx(cd=H, shore=True), 13.0) == pytest.approx(30.0)
    assert ip43.current_a(ctx(cd=F, shore=True), 13.0) == 0.0
    assert ip43.current_a(ctx(cd=H, shore=False), 13.0) == 0.0
    assert ip43.design_warnings() == []


@pytest.mark.req("PLT-9")
def test_plt9_design_checks_flag_an_unprotected_bank_device() -> None:
    load = DcLoad(connection=Connection.BANK, power_w=50.0)
    assert any("keeps discharging" in w for w in load.design_warnings())
    charger_on_ld = Charger(connection=Connection.BANK, control=Control.LOAD_DISCONNECT)
    assert any("keeps charging" in w for w in charger_on_ld.design_warnings())
    assert DcLoad(power_w=50.0).design_warnings() == []  # System+ is protected by the port


# --- PLT-8: devices on System+ ------------------------------------------------------------------


@pytest.mark.req("PLT-8")
@pytest.mark.parametrize(
    ("ac_w", "eff", "idle_w", "volts", "amps"),
    [
        (1000.0, 90.0, 8.0, 12.0, -(1000.0 / 0.9 + 8.0) / 12.0),  # -93.259 A
        (1000.0, 100.0, 0.0, 12.5, -80.0),
        (0.0, 90.0, 8.0, 12.8, -0.625),
        (450.0, 90.0, 8.0, 13.0, -(500.0 + 8.0) / 13.0),
    ],
)
def test_plt8_inverter_dc_current_is_ac_over_efficiency_plus_idle(
    ac_w: float, eff: float, idle_w: float, volts: float, amps: float
) -> None:
    inverter = Inverter(ac_load_w=ac_w, efficiency_pct=eff, idle_w=idle_w)
    assert inverter.current_a(ctx(), volts) == pytest.approx(amps, rel=1e-12)


@pytest.mark.req("PLT-8")
def test_plt8_inverter_1000w_at_12v_draws_92_89a() -> None:
    """The default Phoenix 12/1200 at its 1,000 W rating: 89.7 % on its curve (inverter_models)."""
    assert Inverter(ac_load_w=1000.0).current_a(ctx(), 12.0) == pytest.approx(-92.887, abs=1e-3)


@pytest.mark.req("PLT-8")
def test_plt8_inverter_energy_counter_to_the_number() -> None:
    inverter = Inverter(ac_load_w=1000.0, efficiency_pct=90.0, idle_w=8.0)
    inverter.advance(ctx(), 12.0, 3600.0)
    assert inverter.energy_out_wh == pytest.approx(1000.0 / 0.9 + 8.0)
    assert inverter.energy_in_wh == 0.0


def _run(device: Device, volts: float, start_s: float, end_s: float, **kw: object) -> None:
    """Advance in 1 s steps at a fixed voltage (context keywords as `ctx`)."""
    now = start_s
    while now < end_s - 1e-9:
        device.advance(ctx(now_s=now, **kw), volts, 1.0)  # type: ignore[arg-type]
        now += 1.0


@pytest.mark.req("PLT-8")
def test_plt8_inverter_low_battery_shutdown_and_restart_at_victrons_levels() -> None:
    """Phoenix Inverter VE.Direct manual, "Low battery alarm and charge detect settings": 12 V
    shutdown 9.3 V, restart 10.9 V; Phoenix Inverter manual §4.3: restart after a minimum delay
    of 30 s above the restart level."""
    inverter = Inverter(ac_load_w=500.0)
    assert (inverter.low_voltage_cutoff_v, inverter.restart_voltage_v) == (9.3, 10.9)
    inverter.advance(ctx(now_s=0.0), 9.31, 1.0)
    assert not latched(inverter)
    inverter.advance(ctx(now_s=1.0), 9.29, 1.0)
    assert latched(inverter)
    assert inverter.current_a(ctx(), 12.4) == 0.0
    assert not inverter.is_on(ctx())
    _run(inverter, 10.89, 2.0, 100.0)  # below the restart level: stays off
    assert latched(inverter)
    assert inverter.next_change_s(ctx(now_s=100.0)) == math.inf
    _run(inverter, 10.9, 100.0, 129.0)
    assert latched(inverter)
    assert inverter.next_change_s(ctx(now_s=129.0)) == pytest.approx(130.0)
    _run(inverter, 10.9, 129.0, 130.0)
    assert not latched(inverter)
    assert inverter.current_a(ctx(), 10.9) < 0.0


@pytest.mark.req("PLT-8")
def test_plt8_inverter_reports_its_restart_delay_from_the_step_that_starts_it() -> None:
    """Phoenix Inverter manual §4.3: back 30 s after its supply returns above the restart level
    (docs/decisions.md: losing the supply while shut down still needs the 30 s). The delay starts
    with the step whose start sees the supply, so its end is told before that step is taken
    (`pending_change_s`), and asking leaves the inverter as it was (issue 12)."""
    inverter = Inverter(ac_load_w=1500.0)
    _run(inverter, 9.0, 0.0, 1.0)  # shuts down
    _run(inverter, 0.0, 1.0, 100.0)  # its System+ port blocked: no supply
    assert latched(inverter)
    before = inverter.save_state()
    assert inverter.next_change_s(ctx(now_s=100.0)) == math.inf  # it has not seen 12 V yet
    assert inverter.pending_change_s(ctx(now_s=100.0), 12.0) == pytest.approx(130.0)
    assert inverter.pending_change_s(ctx(now_s=100.0), 10.89) == math.inf  # below: no delay
    assert inverter.save_state() == before
    _run(inverter, 12.0, 100.0, 129.0)
    assert latched(inverter)
    _run(inverter, 12.0, 129.0, 130.0)
    assert not latched(inverter)


@pytest.mark.req("PLT-8")
def test_plt8_inverter_reports_its_charge_detect_delay_from_the_step_that_starts_it() -> None:
    """Phoenix Inverter manual §4.3: after it stopped retrying, on again after 30 s above the
    charge-detect level; that delay too is told from the step whose start sees 14 V."""
    inverter = Inverter(ac_load_w=500.0)
    now = 0.0
    for _ in range(3):
        _run(inverter, 9.0, now, now + 1.0)
        _run(inverter, 12.0, now + 1.0, now + 31.0)
        now += 41.0
    _run(inverter, 9.0, now, now + 1.0)  # it gives up
    assert inverter.next_change_s(ctx(now_s=now + 1.0)) == math.inf
    assert inverter.pending_change_s(ctx(now_s=now + 1.0), 14.0) == pytest.approx(now + 31.0)
    assert inverter.pending_change_s(ctx(now_s=now + 1.0), 13.9) == math.inf


@pytest.mark.req("PLT-8")
def test_plt8_inverter_stops_retrying_after_three_quick_failures_until_charge_detect() -> None:
    """Phoenix Inverter manual §4.3: after three restarts followed by a low battery shutdown
    within 30 s of restarting it stops retrying; it switches on again once the battery stays
    above the charge-detect level (VE.Direct manual: 14 V) for 30 s, or when switched off and
    on."""
    inverter = Inverter(ac_load_w=500.0)
    now = 0.0
    for restart in range(1, 4):
        _run(inverter, 9.0, now, now + 1.0)  # shuts down
        assert latched(inverter)
        _run(inverter, 12.0, now + 1.0, now + 31.0)  # 30 s above 10.9 V: restarts
        assert not latched(inverter)
        assert inverter.monitor.restarts == restart
        now += 31.0 + 10.0  # runs 10 s, then sags again
    _run(inverter, 9.0, now, now + 1.0)  # the fourth shutdown within 30 s: it gives up
    _run(inverter, 13.9, now + 1.0, now + 600.0)
    assert latched(inverter)
    _run(inverter, 14.0, now + 600.0, now + 629.0)
    assert latched(inverter)
    _run(inverter, 14.0, now + 629.0, now + 630.0)
    assert not latched(inverter)
    assert inverter.monitor.restarts == 0
    # a good run (over 30 s after a restart) starts the count afresh
    _run(inverter, 9.0, 5000.0, 5001.0)
    _run(inverter, 12.0, 5001.0, 5031.0)
    _run(inverter, 12.0, 5031.0, 5100.0)
    _run(inverter, 9.0, 5100.0, 5101.0)
    assert inverter.monitor.restarts == 0
    # switched off and on: it starts at once
    inverter.set(on=False)
    _run(inverter, 9.5, 5101.0, 5102.0)
    inverter.set(on=True)
    assert not latched(inverter)


@pytest.mark.req("PLT-8")
def test_plt8_a_multiplus_shuts_down_only_while_inverting_and_boots_after_its_supply_returns() -> (
    None
):
    """Phoenix Inverter manual §4.3 levels for the VE.Bus inverter too. Decided: on shore power
    it does not invert, so a sag cannot shut it down; a dead DC supply while shut down (a
    blocked System+ port) forgets its retries, and it needs 30 s above 10.9 V to come back."""
    multi = InverterCharger(ac_load_w=1500.0)
    _run(multi, 9.0, 0.0, 10.0, shore=True)
    assert not latched(multi)
    _run(multi, 9.0, 10.0, 11.0)
    assert latched(multi)
    _run(multi, 12.0, 11.0, 41.0)  # restart 1
    _run(multi, 9.0, 41.0, 42.0)  # quick failure
    assert multi.monitor.restarts == 1
    _run(multi, 0.0, 42.0, 50.0)  # the port blocks: no supply
    assert multi.monitor.restarts == 0
    assert latched(multi)
    _run(multi, 13.0, 50.0, 79.0)
    assert latched(multi)
    _run(multi, 13.0, 79.0, 80.0)
    assert not latched(multi)


@pytest.mark.req("PLT-8")
def test_plt8_set_changes_ac_load_and_refuses_unknown_names() -> None:
    inverter = Inverter(efficiency_pct=90.0, idle_w=8.0)
    inverter.set(ac_load_w=900.0)
    assert inverter.current_a(ctx(), 12.0) == pytest.approx(-(1000.0 + 8.0) / 12.0)
    inverter.set(on=False)
    assert inverter.current_a(ctx(), 12.0) == 0.0
    with pytest.raises(ValueError, match=r"cannot set power_w; allowed: ac_load_w, on"):
        inverter.set(power_w=5.0)
    with pytest.raises(ValueError, match="true or false"):
        inverter.set(on=1)
    with pytest.raises(ValueError, match=">= 0"):
        inverter.set(ac_load_w=-1.0)
    with pytest.raises(ValueError, match="cannot set"):
        inverter.set(on=True, bogus=1.0)
    assert inverter.on is False  # all or nothing


@pytest.mark.req("PLT-8")
def test_plt8_dc_load_constant_power_and_current_fall_to_zero_below_six_volts() -> None:
    load = DcLoad(power_w=120.0)
    assert load.current_a(ctx(), 12.0) == pytest.approx(-10.0)
    assert load.current_a(ctx(), 6.0) == pytest.approx(-20.0)
    assert load.current_a(ctx(), 3.0) == pytest.approx(-10.0)  # resistive below 6 V
    assert load.current_a(ctx(), 0.0) == 0.0
    assert load.current_a(ctx(), -1.0) == 0.0
    fixed = DcLoad(current_a=5.0)
    assert fixed.current_a(ctx(), 12.0) == pytest.approx(-5.0)
    assert fixed.current_a(ctx(), 3.0) == pytest.approx(-2.5)
    fixed.set(current_a=2.0, power_w=24.0)
    assert fixed.current_a(ctx(), 12.0) == pytest.approx(-4.0)


@pytest.mark.req("PLT-8")
def test_plt8_device_currents_are_continuous_in_the_bus_voltage() -> None:
    devices: list[Device] = [
        DcLoad(power_w=500.0, current_a=1.0),
        Inverter(ac_load_w=800.0),
        Charger(),
        SolarCharger(control=Control.NONE, pv_peak_w=400.0),
        InverterCharger(),
    ]
    context = ctx(shore=True, sun=0.8)
    for device in devices:
        previous = device.current_a(context, 0.0)
        volts = 0.0
        while volts < 16.0:  # 0.1 mV apart: the CV droop takes 50 mV to a charger's rating
            volts += 0.0001
            now = device.current_a(context, volts)
            assert abs(now - previous) < 0.2, (device, volts)
            previous = now


@pytest.mark.req("PLT-8")
def test_plt8_charger_cv_taper_to_the_number() -> None:
    charger = Charger(charge_current_a=30.0, cv_resistance_ohm=0.01)
    shore = ctx(shore=True)
    assert charger.current_a(shore, 13.0) == pytest.approx(30.0)  # CC: (14.2-13)/0.01 = 120
    assert charger.current_a(shore, 13.9) == pytest.approx(30.0)
    assert charger.current_a(shore, 14.0) == pytest.approx(20.0)
    assert charger.current_a(shore, 14.15) == pytest.approx(5.0)
    assert charger.current_a(shore, 14.2) == 0.0
    assert charger.current_a(shore, 14.4) == 0.0  # never discharges
    assert charger.current_a(ctx(shore=False), 13.0) == 0.0


@pytest.mark.req("PLT-8")
def test_plt8_absorption_then_float_and_next_change_s() -> None:
    charger = Charger(charge_current_a=30.0, cv_resistance_ohm=0.01)
    charger.advance(ctx(shore=True, now_s=0.0), 13.5, 10.0)
    assert stage(charger) is ChargeStage.BULK  # CC: CV limit not reached
    assert charger.next_change_s(ctx(shore=True, now_s=10.0)) == math.inf
    charger.advance(ctx(shore=True, now_s=10.0), 14.0, 10.0)  # 20 A < 30 A: CV binds
    assert stage(charger) is ChargeStage.ABSORPTION  # since t = 10 s, its operating point
    assert charger.next_change_s(ctx(shore=True, now_s=20.0)) == pytest.approx(3610.0)
    charger.advance(ctx(shore=True, now_s=20.0), 14.1, 3589.0)
    assert stage(charger) is ChargeStage.ABSORPTION
    assert charger.next_change_s(ctx(shore=True, now_s=3609.0)) == pytest.approx(3610.0)
    charger.advance(ctx(shore=True, now_s=3609.0), 14.1, 1.0)
    assert stage(charger) is ChargeStage.FLOAT
    assert charger.current_a(ctx(shore=True), 13.4) == pytest.approx(10.0)  # (13.5-13.4)/0.01
    assert charger.current_a(ctx(shore=True), 13.5) == 0.0
    assert charger.next_change_s(ctx(shore=True, now_s=3610.0)) == math.inf
    charger.advance(ctx(shore=False, now_s=3610.0), 13.4, 1.0)  # shore power goes
    assert stage(charger) is ChargeStage.BULK


@pytest.mark.req("PLT-8")
def test_plt8_multiplus_charges_on_shore_power_and_inverts_without() -> None:
    multi = InverterCharger(
        ac_load_w=900.0, efficiency_pct=90.0, idle_w=8.0, cv_resistance_ohm=0.01
    )
    assert multi.current_a(ctx(shore=True), 13.0) == pytest.approx(70.0)
    assert multi.current_a(ctx(shore=True), 14.0) == pytest.approx(20.0)
    assert multi.current_a(ctx(shore=False), 12.0) == pytest.approx(-(1000.0 + 8.0) / 12.0)
    multi.advance(ctx(shore=True, now_s=0.0), 13.6, 60.0)  # 60 A < 70 A: absorption
    assert stage(multi) is ChargeStage.ABSORPTION
    assert multi.next_change_s(ctx(shore=True, now_s=60.0)) == pytest.approx(3600.0)
    assert multi.energy_in_wh == pytest.approx(60.0 * 13.6 / 60.0)
    multi.advance(ctx(shore=False, now_s=60.0), 12.8, 1.0)
    assert stage(multi) is ChargeStage.BULK  # reset when shore power goes


@pytest.mark.req("PLT-8")
def test_plt8_solar_current_is_min_of_power_max_current_and_cv() -> None:
    mppt = SolarCharger(
        control=Control.NONE, pv_peak_w=200.0, max_current_a=15.0, cv_resistance_ohm=0.01
    )
    assert mppt.current_a(ctx(sun=1.0), 13.0) == pytest.approx(200.0 * 0.97 / 13.0)
    assert mppt.current_a(ctx(sun=0.5), 13.0) == pytest.approx(100.0 * 0.97 / 13.0)
    mppt.set(pv_peak_w=400.0)
    assert mppt.current_a(ctx(sun=1.0), 13.0) == pytest.approx(15.0)
    assert mppt.current_a(ctx(sun=1.0), 14.15) == pytest.approx(5.0)
    assert mppt.current_a(ctx(sun=0.0), 13.0) == 0.0
    assert not mppt.is_on(ctx(sun=0.0))
    mppt.advance(ctx(sun=1.0), 14.1, 1.0)
    assert stage(mppt) is ChargeStage.ABSORPTION
    mppt.advance(ctx(sun=0.0), 13.3, 1.0)  # night restarts the cycle
    assert stage(mppt) is ChargeStage.BULK


@pytest.mark.req("PLT-8")
def test_plt8_absorption_timer_pauses_while_a_load_holds_the_charger_at_its_limit() -> None:
    """SmartSolar MPPT manual §3.8, "Pausing of the absorption time counter": it counts while
    the absorption voltage is held and pauses while the charger cannot hold it."""
    charger = Charger(charge_current_a=30.0, cv_resistance_ohm=0.01)
    _run(charger, 14.0, 0.0, 600.0, shore=True)  # 20 A: absorption, 600 s counted
    assert stage(charger) is ChargeStage.ABSORPTION
    _run(charger, 13.5, 600.0, 1800.0, shore=True)  # a load: 70 A asked, 30 A given
    assert stage(charger) is ChargeStage.ABSORPTION
    assert charger.charging.absorption_elapsed_s == pytest.approx(600.0)
    _run(charger, 14.0, 1800.0, 4799.0, shore=True)
    assert stage(charger) is ChargeStage.ABSORPTION
    _run(charger, 14.0, 4799.0, 4800.0, shore=True)  # 600 + 3000 s = the hour
    assert stage(charger) is ChargeStage.FLOAT


@pytest.mark.req("PLT-8")
def test_plt8_mppt_ends_absorption_at_its_1a_tail_current_not_on_a_weak_sun() -> None:
    """SmartSolar MPPT 75/10-100/20 manual §3.8: absorption ends when the battery current drops
    below the tail current, 1 A by default; not because of low solar output. Decided: it has to
    stay below for a minute."""
    mppt = SolarCharger(
        control=Control.NONE, pv_peak_w=200.0, max_current_a=15.0, cv_resistance_ohm=0.01
    )
    assert mppt.charging.tail_current_a == 1.0
    _run(mppt, 14.15, 0.0, 60.0, sun=1.0)  # 5 A
    assert stage(mppt) is ChargeStage.ABSORPTION
    _run(mppt, 14.0, 60.0, 120.0, sun=0.003)  # 0.6 W of sun: 0.04 A, at its limit: no tail
    assert stage(mppt) is ChargeStage.ABSORPTION
    _run(mppt, 14.195, 120.0, 150.0, sun=1.0)  # 0.5 A while holding 14.2 V: full ...
    _run(mppt, 14.15, 150.0, 151.0, sun=1.0)  # ... but 5 A again: not yet
    _run(mppt, 14.195, 151.0, 210.0, sun=1.0)
    assert stage(mppt) is ChargeStage.ABSORPTION
    assert mppt.next_change_s(ctx(sun=1.0, now_s=210.0)) == pytest.approx(211.0)
    _run(mppt, 14.195, 210.0, 211.0, sun=1.0)  # a minute below 1 A
    assert stage(mppt) is ChargeStage.FLOAT


@pytest.mark.req("PLT-8")
def test_plt8_mppt_re_bulks_after_a_minute_below_float_minus_0v1() -> None:
    """SmartSolar MPPT manual, "Re-bulk voltage offset": the cycle restarts once the battery
    voltage drops below float minus the offset (0.1 V) for one minute."""
    mppt = SolarCharger(control=Control.NONE, pv_peak_w=200.0, max_current_a=15.0)
    _run(mppt, 14.2, 0.0, 60.0, sun=1.0)  # tail: float
    assert stage(mppt) is ChargeStage.FLOAT
    _run(mppt, 13.39, 60.0, 110.0, sun=1.0)
    _run(mppt, 13.41, 110.0, 160.0, sun=1.0)  # back above 13.4 V in time: no re-bulk
    assert stage(mppt) is ChargeStage.FLOAT
    _run(mppt, 13.39, 160.0, 219.0, sun=1.0)
    assert stage(mppt) is ChargeStage.FLOAT
    assert mppt.next_change_s(ctx(sun=1.0, now_s=219.0)) == pytest.approx(220.0)
    _run(mppt, 13.39, 219.0, 220.0, sun=1.0)
    assert stage(mppt) is ChargeStage.BULK


@pytest.mark.req("PLT-8")
@pytest.mark.parametrize(
    "make",
    [
        lambda: Charger(charge_current_a=30.0, cv_resistance_ohm=0.01),
        lambda: InverterCharger(cv_resistance_ohm=0.01),
    ],
)
def test_plt8_mains_chargers_re_bulk_after_4s_at_full_current(make: Callable[[], Device]) -> None:
    """Blue Smart IP22 manual, "Commencing a new charge cycle": with the default re-bulk
    method the current output must be at its maximum for four seconds. Decided: the MultiPlus
    (VE.Bus) does the same."""
    device = make()
    _run(device, 14.2, 0.0, 3601.0, shore=True)
    assert device.stage == "float"
    _run(device, 12.5, 3601.0, 3604.0, shore=True)  # a big load: at full current for 3 s
    _run(device, 13.49, 3604.0, 3610.0, shore=True)
    assert device.stage == "float"
    _run(device, 12.5, 3610.0, 3613.0, shore=True)
    assert device.stage == "float"
    assert device.next_change_s(ctx(shore=True, now_s=3613.0)) == pytest.approx(3614.0)
    _run(device, 12.5, 3613.0, 3614.0, shore=True)
    assert device.stage == "bulk"


@pytest.mark.req("PLT-8")
@pytest.mark.parametrize(("rated_a", "droop_mohm"), [(30.0, 50.0 / 30.0), (70.0, 50.0 / 70.0)])
def test_plt8_a_charger_reaches_its_rating_50mv_below_its_set_point(
    rated_a: float, droop_mohm: float
) -> None:
    """Chosen (plant/devices/charging.py, CV_BAND_V): a charger regulates within 50 mV, so a
    load that pulls the bus under its float voltage gets its full current (and re-bulks it)."""
    charger = Charger(charge_current_a=rated_a)
    assert charger.charging.cv_resistance_ohm == pytest.approx(droop_mohm / 1000.0)
    shore = ctx(shore=True)
    assert charger.current_a(shore, 14.15) == pytest.approx(rated_a)
    assert charger.current_a(shore, 14.175) == pytest.approx(rated_a / 2.0)
    assert charger.current_a(shore, 14.2) == 0.0


# --- BatteryProtect ------------------------------------------------------------------------------


def _hold(device: Device, volts: float, start_s: float, end_s: float, *, ld: Level = H) -> None:
    """Advance in 1 s steps at a fixed voltage."""
    now = start_s
    while now < end_s - 1e-9:
        device.advance(ctx(now_s=now, ld=ld), volts, 1.0)
        now += 1.0


@pytest.mark.req("PLT-9")
def test_plt9_battery_protect_under_voltage_thresholds_and_delays() -> None:
    """BatteryProtect data sheet: alarm output after 12 s below the disconnect level, the load
    disconnected 90 s after the alarm, reconnected 30 s after the reconnect level."""
    bp = BatteryProtect(load_w=120.0)
    assert bp.current_a(ctx(), 12.0) == pytest.approx(-(10.0 + 0.0015))
    _hold(bp, 10.4, 0.0, 11.0)
    assert not alarmed(bp)
    assert bp.next_change_s(ctx(now_s=11.0)) == pytest.approx(12.0)
    _hold(bp, 10.4, 11.0, 12.0)
    assert alarmed(bp)  # 12 s: the alarm output
    assert bp.is_on(ctx())
    _hold(bp, 10.4, 12.0, 101.0)
    assert bp.is_on(ctx())
    assert code(bp) is None
    assert bp.next_change_s(ctx(now_s=101.0)) == pytest.approx(102.0)
    _hold(bp, 10.4, 101.0, 102.0)  # 90 s after the alarm
    assert not bp.is_on(ctx())
    assert code(bp) == "E3"
    assert bp.current_a(ctx(), 11.0) == pytest.approx(-0.0006)
    _hold(bp, 11.99, 102.0, 200.0)  # below the reconnect level: stays off
    assert not bp.is_on(ctx())
    _hold(bp, 12.0, 200.0, 229.0)
    assert not bp.is_on(ctx())
    assert bp.next_change_s(ctx(now_s=229.0)) == pytest.approx(230.0)
    _hold(bp, 12.0, 229.0, 230.0)
    assert bp.is_on(ctx())
    assert code(bp) is None
    assert not alarmed(bp)


@pytest.mark.req("PLT-9")
def test_plt9_battery_protect_reports_its_delays_from_the_step_that_starts_them() -> None:
    """BatteryProtect data sheet: the alarm 12 s below the disconnect level, the reconnect 30 s
    above the reconnect level. Each delay starts with the step whose start sees its level, and
    its end is told before that step is taken (`pending_change_s`, issue 12)."""
    bp = BatteryProtect(load_w=120.0)
    _hold(bp, 12.4, 0.0, 10.0)  # engaged, nothing running
    assert bp.next_change_s(ctx(now_s=10.0)) == math.inf
    assert bp.pending_change_s(ctx(now_s=10.0), 10.4) == pytest.approx(22.0)
    _hold(bp, 10.4, 10.0, 112.0)  # alarm at 22 s, E3 at 112 s
    assert code(bp) == "E3"
    before = bp.save_state()
    assert bp.next_change_s(ctx(now_s=112.0)) == math.inf
    assert bp.pending_change_s(ctx(now_s=112.0), 12.0) == pytest.approx(142.0)
    assert bp.save_state() == before


@pytest.mark.req("PLT-9")
def test_plt9_battery_protect_reaching_the_reconnect_level_cancels_the_countdown() -> None:
    """BatteryProtect data sheet: if the voltage rises to the connection threshold within the
    90 s (the engine was started), the load is not disconnected; above the disconnect level but
    short of the reconnect level, the countdown goes on."""
    bp = BatteryProtect(load_w=120.0)
    _hold(bp, 10.4, 0.0, 50.0)
    assert alarmed(bp)
    _hold(bp, 11.0, 50.0, 102.0)  # above 10.5 V, below 12.0 V: still disconnects at 102 s
    assert code(bp) == "E3"
    bp = BatteryProtect(load_w=120.0)
    _hold(bp, 10.4, 0.0, 50.0)
    _hold(bp, 12.0, 50.0, 51.0)  # the engine starts: cancelled
    assert not alarmed(bp)
    _hold(bp, 10.4, 51.0, 150.0)  # a new dip starts both delays again (alarm at 63 s)
    assert bp.is_on(ctx())
    assert bp.next_change_s(ctx(now_s=150.0)) == pytest.approx(153.0)


@pytest.mark.req("PLT-9")
def test_plt9_battery_protect_a_short_dip_does_not_trip_it() -> None:
    bp = BatteryProtect(load_w=120.0)
    _hold(bp, 10.0, 0.0, 60.0)
    _hold(bp, 12.5, 60.0, 61.0)
    _hold(bp, 10.0, 61.0, 140.0)
    assert bp.is_on(ctx())


@pytest.mark.req("PLT-9")
def test_plt9_battery_protect_follows_load_disconnect_with_a_1s_engage_delay() -> None:
    bp = BatteryProtect(load_w=120.0)
    assert bp.current_a(ctx(ld=F), 12.0) == pytest.approx(-0.0006)  # off at once
    bp.advance(ctx(ld=F, now_s=0.0), 12.0, 5.0)
    assert not bp.is_on(ctx(ld=H))
    assert bp.next_change_s(ctx(ld=H, now_s=5.0)) == pytest.approx(6.0)
    bp.advance(ctx(ld=H, now_s=5.0), 12.0, 0.5)
    assert not bp.is_on(ctx(ld=H))
    bp.advance(ctx(ld=H, now_s=5.5), 12.0, 0.5)
    assert bp.is_on(ctx(ld=H))
    assert bp.current_a(ctx(ld=H), 12.0) == pytest.approx(-10.0015)


@pytest.mark.req("PLT-9")
def test_plt9_battery_protect_li_ion_mode_ignores_thresholds_and_locks_out_e7() -> None:
    bp = BatteryProtect(load_w=120.0, li_ion_mode=True)
    _hold(bp, 10.0, 0.0, 200.0)
    assert bp.is_on(ctx())  # the BMS protects, not the thresholds
    # first disengage: 30 s dead time even if the BMS re-engages at once
    _hold(bp, 12.5, 200.0, 210.0, ld=F)
    _hold(bp, 12.5, 210.0, 229.0, ld=H)
    assert not bp.is_on(ctx())
    assert bp.next_change_s(ctx(now_s=229.0)) == pytest.approx(230.0)
    _hold(bp, 12.5, 229.0, 230.0, ld=H)
    assert bp.is_on(ctx())
    assert bp.attempts == 1
    # second cycle still works
    _hold(bp, 12.5, 230.0, 240.0, ld=F)
    _hold(bp, 12.5, 240.0, 270.0, ld=H)
    assert bp.is_on(ctx())
    assert bp.attempts == 2
    # the third re-engage request locks it out (E7)
    _hold(bp, 12.5, 270.0, 280.0, ld=F)
    _hold(bp, 12.5, 280.0, 400.0, ld=H)
    assert not bp.is_on(ctx())
    assert code(bp) == "E7"
    # recharged: above 13.0 V for 30 s
    _hold(bp, 13.1, 400.0, 429.0, ld=H)
    assert bp.locked_out
    assert bp.next_change_s(ctx(now_s=429.0)) == pytest.approx(430.0)
    _hold(bp, 13.1, 429.0, 430.0, ld=H)
    assert bp.is_on(ctx())
    assert code(bp) is None
    assert bp.attempts == 0


# --- Cyrix ---------------------------------------------------------------------------------------


@pytest.mark.req("PLT-9")
def test_plt9_cyrix_li_charge_engages_3s_after_control_and_charge_voltage() -> None:
    cyrix = CyrixLiCharge(charge_current_a=30.0)
    assert cyrix.current_a(ctx(shore=True, now_s=0.0), 13.0) == 0.0
    assert cyrix.next_change_s(ctx(shore=True, now_s=0.0)) == pytest.approx(3.0)
    assert cyrix.next_change_s(ctx(shore=False, now_s=0.0)) == math.inf
    assert cyrix.next_change_s(ctx(cd=F, shore=True, now_s=0.0)) == math.inf
    cyrix.advance(ctx(shore=True, now_s=0.0), 13.0, 1.0)
    cyrix.advance(ctx(shore=True, now_s=1.0), 13.0, 1.0)
    assert not cyrix.is_on(ctx(shore=True))
    assert cyrix.next_change_s(ctx(shore=True, now_s=2.0)) == pytest.approx(3.0)
    cyrix.advance(ctx(shore=True, now_s=2.0), 13.0, 1.0)
    assert cyrix.is_on(ctx(shore=True))
    assert cyrix.current_a(ctx(shore=True, now_s=3.0), 13.0) == pytest.approx(30.0)
    # the control goes away: open at once, and the delay starts again afterwards
    assert cyrix.current_a(ctx(cd=F, shore=True, now_s=4.0), 13.0) == 0.0
    cyrix.advance(ctx(cd=F, shore=True, now_s=4.0), 13.0, 1.0)
    assert cyrix.current_a(ctx(shore=True, now_s=5.0), 13.0) == 0.0
    assert cyrix.next_change_s(ctx(shore=True, now_s=5.0)) == pytest.approx(8.0)


@pytest.mark.req("PLT-9")
def test_plt9_cyrix_li_charge_always_source_needs_no_shore_power() -> None:
    cyrix = CyrixLiCharge(source="always")
    cyrix.advance(ctx(now_s=0.0), 13.0, 3.0)
    assert cyrix.current_a(ctx(now_s=3.0), 13.0) == pytest.approx(30.0)
    with pytest.raises(ValueError, match="shore, always"):
        CyrixLiCharge(source="sometimes")


@pytest.mark.req("PLT-9")
def test_plt9_cyrix_li_load_opens_at_once_on_load_disconnect() -> None:
    cyrix = CyrixLiLoad(load_w=240.0)
    assert cyrix.current_a(ctx(ld=H), 12.0) == pytest.approx(-20.0)
    assert cyrix.current_a(ctx(ld=F), 12.0) == 0.0
    assert cyrix.next_change_s(ctx()) == math.inf
    assert cyrix.design_warnings() == []


@pytest.mark.req("PLT-9")
def test_plt9_cyrix_li_load_re_engages_after_30s_and_gives_up_after_3_attempts() -> None:
    """Cyrix-Li-Load data sheet: when the BMS output is high again the Cyrix re-engages after
    30 s; after 3 attempts it stays open until the voltage has risen above 13 V for at least
    30 s (a sign that the battery is being recharged)."""
    cyrix = CyrixLiLoad(load_w=240.0)
    now = 0.0
    for attempt in range(1, 4):
        _hold(cyrix, 12.8, now, now + 5.0, ld=F)  # the BMS opens it
        assert not cyrix.is_on(ctx(ld=H))
        _hold(cyrix, 12.8, now + 5.0, now + 34.0, ld=H)
        assert not cyrix.is_on(ctx(ld=H))
        assert cyrix.next_change_s(ctx(ld=H, now_s=now + 34.0)) == pytest.approx(now + 35.0)
        _hold(cyrix, 12.8, now + 34.0, now + 35.0, ld=H)  # 30 s after the output came back
        assert cyrix.is_on(ctx(ld=H))
        assert cyrix.attempts == attempt
        now += 100.0
    _hold(cyrix, 12.8, now, now + 5.0, ld=F)
    _hold(cyrix, 12.8, now + 5.0, now + 500.0, ld=H)  # the fourth time: it stays open
    assert locked(cyrix)
    assert not cyrix.is_on(ctx(ld=H))
    _hold(cyrix, 13.0, now + 500.0, now + 600.0, ld=H)  # not above 13 V
    assert locked(cyrix)
    _hold(cyrix, 13.1, now + 600.0, now + 629.0, ld=H)
    assert locked(cyrix)
    _hold(cyrix, 13.1, now + 629.0, now + 630.0, ld=H)  # 30 s above 13 V: recharged
    assert not locked(cyrix)
    assert cyrix.attempts == 0
    _hold(cyrix, 13.1, now + 630.0, now + 660.0, ld=H)
    assert cyrix.is_on(ctx(ld=H))


@pytest.mark.req("PLT-9")
def test_plt9_cyrix_li_charge_waits_10_min_after_two_re_attempts() -> None:
    """Cyrix-Li-Charge data sheet (via /work/shared/reference/victron-protocols.md §2.5): it
    connects the charger after 3 s; after 2 re-attempts the delay becomes 10 min. Decided: the
    count starts afresh when the charge source goes."""
    cyrix = CyrixLiCharge(charge_current_a=30.0)
    _run(cyrix, 13.2, 0.0, 3.0, cd=H, shore=True)
    assert cyrix.is_on(ctx(shore=True))
    now = 3.0
    for attempt in (1, 2):  # the BMS opens it (cell over-voltage) and lets go again
        _run(cyrix, 13.2, now, now + 1.0, cd=F, shore=True)
        _run(cyrix, 13.2, now + 1.0, now + 4.0, cd=H, shore=True)  # 3 s
        assert cyrix.is_on(ctx(shore=True))
        assert cyrix.attempts == attempt
        now += 10.0
    _run(cyrix, 13.2, now, now + 1.0, cd=F, shore=True)
    assert cyrix.delay_s == 600.0
    _run(cyrix, 13.2, now + 1.0, now + 600.0, cd=H, shore=True)
    assert not cyrix.is_on(ctx(shore=True))
    assert cyrix.next_change_s(ctx(shore=True, now_s=now + 600.0)) == pytest.approx(now + 601.0)
    _run(cyrix, 13.2, now + 600.0, now + 601.0, cd=H, shore=True)
    assert cyrix.is_on(ctx(shore=True))
    _run(cyrix, 13.2, now + 601.0, now + 602.0, cd=H)  # shore power goes: a new charge
    assert cyrix.attempts == 0
    assert cyrix.delay_s == 3.0


# --- PLT-10: residual loads ----------------------------------------------------------------------


@pytest.mark.req("PLT-10")
@pytest.mark.parametrize("ld", [H, F])
@pytest.mark.parametrize("cd", [H, F])
@pytest.mark.parametrize("pa", [H, F])
def test_plt10_residual_load_keeps_drawing_whatever_the_outputs(
    ld: Level, cd: Level, pa: Level
) -> None:
    residual = ResidualLoad(name="alarm system", current_a=0.010)
    context = ctx(ld=ld, cd=cd, pa=pa)
    assert residual.current_a(context, 12.0) == pytest.approx(-0.010)
    assert residual.is_on(context)
    assert residual.connection is Connection.BANK
    assert residual.control is Control.NONE
    assert residual.design_warnings() == []
    assert residual.next_change_s(context) == math.inf


@pytest.mark.req("PLT-10")
def test_plt10_residual_load_energy_over_eight_days() -> None:
    residual = ResidualLoad()
    residual.advance(ctx(ld=F, cd=F), 12.0, 8 * 24 * 3600.0)
    assert residual.energy_out_wh == pytest.approx(0.010 * 12.0 * 8 * 24)


# --- OUT-1, OUT-2, OUT-3, OUT-5: what the outputs can drive -------------------------------------


@pytest.mark.req("OUT-3")
@pytest.mark.parametrize("output", [Control.CHARGE_DISCONNECT, Control.LOAD_DISCONNECT])
def test_out3_relay_coil_on_a_disconnect_output_is_allowed_but_flagged(output: Control) -> None:
    """OUT-3: not suitable for an inductive load such as a relay coil."""
    relay = DcLoad(
        name="fridge relay",
        connection=Connection.BANK,
        power_w=60.0,
        control=output,
        remote_input=RemoteInput.RELAY_COIL,
    )
    warnings = relay.design_warnings()
    assert any("inductive load such as a relay coil" in w for w in warnings)
    assert all(w.startswith("fridge relay:") for w in warnings)
    coil = Alarm(name="coil", kind="relay", control=output)
    assert any("relay coil" in w for w in coil.design_warnings())


@pytest.mark.req("OUT-3")
def test_out3_relay_on_the_prealarm_output_is_fine() -> None:
    assert Alarm(kind="relay", control=Control.PREALARM).design_warnings() == []


@pytest.mark.req("OUT-1", "OUT-2")
@pytest.mark.parametrize("output", [Control.LOAD_DISCONNECT, Control.CHARGE_DISCONNECT])
def test_out1_out2_an_input_above_10ma_sags_the_output_below_high(output: Control) -> None:
    """OUT-1/2: a 150 mA coil sags the 10 mA output to 0.85 V: the device never sees HIGH."""
    relay = DcLoad(
        connection=Connection.BANK,
        power_w=60.0,
        control=output,
        remote_input=RemoteInput.RELAY_COIL,
    )
    assert relay.remote_input_current_a == pytest.approx(0.15)
    assert relay.current_a(ctx(ld=H, cd=H), 13.2) == 0.0
    assert not relay.is_on(ctx(ld=H, cd=H))
    (sag,) = [w for w in relay.design_warnings() if "sags" in w]
    assert "0.85 V" in sag
    assert "never sees HIGH" in sag
    # same input, same current, through an ordinary remote input: sags but still reads HIGH
    hungry = DcLoad(
        connection=Connection.BANK, power_w=60.0, control=output, remote_input_current_a=0.012
    )
    assert hungry.current_a(ctx(ld=H, cd=H), 13.2) == pytest.approx(-60.0 / 13.2)
    (warning,) = [w for w in hungry.design_warnings() if "mA" in w]
    assert "12 mA" in warning
    assert "still reads HIGH" in warning
    # at exactly 10 mA nothing sags
    fine = DcLoad(
        connection=Connection.BANK,
        power_w=60.0,
        control=output,
        remote_input_current_a=OUTPUT_SOURCE_LIMIT_A,
    )
    assert not [w for w in fine.design_warnings() if "mA" in w]


@pytest.mark.req("OUT-1", "OUT-2")
def test_out1_sag_threshold_is_3v() -> None:
    """OUT-1: 10 mA into R: HIGH iff 0.010 x R >= 3.0 V, with R = 13.1 V / I_rated."""
    just_high = bank_load(remote_input_current_a=13.1 / 300.0)  # sags to exactly 3.0 V
    just_low = bank_load(remote_input_current_a=13.1 / 299.0)
    assert just_high.current_a(ctx(), 13.2) == pytest.approx(-120.0 / 13.2)
    assert just_low.current_a(ctx(), 13.2) == 0.0


@pytest.mark.req("OUT-1")
def test_out1_the_systems_shared_output_voltage_wins() -> None:
    """OUT-1: other inputs on one output sag it for all; the system passes the voltage."""
    device = bank_load()
    assert device.current_a(ctx(ld=H, ld_v=12.9), 13.0) == pytest.approx(-120.0 / 13.0)
    assert device.current_a(ctx(ld=H, ld_v=2.5), 13.0) == 0.0
    assert device.current_a(ctx(ld=F, ld_v=12.9), 13.0) == 0.0


@pytest.mark.req("OUT-5")
def test_out5_alarm_on_prealarm_draws_from_the_bank_while_high() -> None:
    buzzer = Alarm(name="buzzer", kind="buzzer")
    assert buzzer.control is Control.PREALARM
    assert buzzer.connection is Connection.BANK
    assert buzzer.current_a(ctx(pa=H), 12.8) == pytest.approx(-0.030)
    assert buzzer.prealarm_output_current_a(ctx(pa=H), 12.8) == pytest.approx(0.030)
    assert buzzer.current_a(ctx(pa=F), 12.8) == 0.0
    assert buzzer.is_on(ctx(pa=H))
    assert not buzzer.is_on(ctx(pa=F))
    buzzer.set(current_a=0.05)
    assert buzzer.current_a(ctx(pa=H), 12.8) == pytest.approx(-0.05)
    heavy = Alarm(kind="relay", current_a=1.5)
    (warning,) = heavy.design_warnings()
    assert "damaged" in warning


@pytest.mark.req("OUT-1", "OUT-5")
def test_out1_alarm_on_a_disconnect_output_is_counted_by_the_bms_draw() -> None:
    led = Alarm(kind="led", control=Control.LOAD_DISCONNECT)
    assert led.remote_input_current_a == pytest.approx(0.010)
    assert led.current_a(ctx(ld=H), 12.8) == 0.0  # the system adds it to the BMS's draw
    assert led.is_on(ctx(ld=H))
    assert not led.is_on(ctx(ld=F))
    assert led.design_warnings() == []
    coil = Alarm(kind="relay", control=Control.LOAD_DISCONNECT)
    assert not coil.is_on(ctx(ld=H))  # sagged to 0.85 V: never pulls in
    with pytest.raises(ValueError, match="one output"):
        Alarm(control=Control.NONE)


# --- the factory and the contract ---------------------------------------------------------------


@pytest.mark.req("PLT-8", "PLT-9")
def test_plt8_make_device_knows_every_kind_and_names_what_is_allowed() -> None:
    assert sorted(DEVICE_TYPES) == sorted(
        [
            "dc-load",
            "inverter",
            "inverter-charger",
            "charger",
            "solar-charger",
            "battery-protect",
            "cyrix-li-load",
            "cyrix-li-charge",
            "residual-load",
            "alarm",
        ]
    )
    for kind, cls in DEVICE_TYPES.items():
        device = make_device(kind, name=kind)
        assert type(device) is cls
        assert device.name == kind
        assert device.next_change_s(ctx()) == math.inf or kind == "cyrix-li-charge"
    with pytest.raises(ValueError, match="allowed: dc-load, inverter"):
        make_device("toaster")
    with pytest.raises(ValueError, match=r"unknown parameter\(s\) colour; allowed: name"):
        make_device("dc-load", colour="red")
    with pytest.raises(ValueError, match="control must be one of none, load-disconnect"):
        make_device("dc-load", control="sometimes")
    device = make_device(
        "inverter",
        connection="bank",
        control="LOAD_DISCONNECT",
        cable="inverting",
        remote_input="low-active",
    )
    assert device.control is Control.LOAD_DISCONNECT
    assert device.cable is Cable.INVERTING


@pytest.mark.req("PLT-8")
def test_plt8_energy_counters_split_in_and_out() -> None:
    charger = Charger()
    charger.advance(ctx(shore=True), 13.0, 1800.0)
    assert charger.energy_in_wh == pytest.approx(30.0 * 13.0 / 2.0)
    assert charger.energy_out_wh == 0.0
    with pytest.raises(ValueError, match="dt_s"):
        charger.advance(ctx(shore=True), 13.0, -1.0)
