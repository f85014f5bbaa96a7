"""The scenario file format: valid files load with every default filled in; wrong files fail with
one paragraph naming the file, the right line, the field path and what is allowed.

The broken corpus lives in tests/scenarios/broken/: each file starts with `# expect:` (a fragment
of the message), `# line:` (the line the message must name, or `none`) and `# field:`.
"""

import dataclasses
import math
import re
from pathlib import Path
from typing import get_args

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from smartbms import scenario as sc
from smartbms.core import FuseType, PreAlarmMode, PreAlarmUsage, RemoteFunction, Settings
from smartbms.core.settings import CHARGE_LIMIT, SETTING_SPECS, SOFT_SWITCH
from smartbms.plant.battery import BatteryOptions
from smartbms.plant.params import battery_models
from smartbms.scenario import Scenario, ScenarioError, load_scenario, parse_scenario

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"
BROKEN = sorted((SCENARIOS / "broken").glob("*.toml"))
VALID = sorted((SCENARIOS / "valid").glob("*.toml"))
DOC = Path(__file__).resolve().parents[2] / "docs" / "scenario-format.md"

BASE = """\
[scenario]
name = "van"
duration_h = 24

[bms]
installed_fuse = "125A"
"""
BATTERY = '\n[[battery]]\nmodel = "LFP-Smart 12.8/200"\n'

NOISE = ("Traceback", "pydantic", "Input should", "validation error", "errors.pydantic.dev")


def _error(text: str, source: str = "van.toml") -> ScenarioError:
    with pytest.raises(ScenarioError) as caught:
        parse_scenario(text, source)
    return caught.value


def _assert_one_clean_paragraph(error: ScenarioError) -> None:
    text = str(error)
    assert "\n" not in text
    for noise in NOISE:
        assert noise not in text


# --- the broken corpus ---------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Expectation:
    fragment: str
    line: int | None
    field: str


def _expectation(path: Path) -> Expectation:
    head = path.read_text(encoding="utf-8").splitlines()[:3]
    values = {}
    for text in head:
        found = re.fullmatch(r"# (expect|line|field): ?(.*)", text)
        assert found, f"{path.name}: the first three lines must be # expect/# line/# field"
        values[found[1]] = found[2]
    line = None if values["line"] == "none" else int(values["line"])
    return Expectation(values["expect"], line, values["field"])


def test_the_broken_corpus_is_large_enough() -> None:
    assert len(BROKEN) >= 25


@pytest.mark.req("SYS-1", "CFG-2")
@pytest.mark.parametrize("path", BROKEN, ids=[p.stem for p in BROKEN])
def test_a_broken_file_names_file_line_field_and_what_is_allowed(path: Path) -> None:
    """SYS-1 (bank size) and CFG-2 (settings refused naming the setting) are in the corpus."""
    expected = _expectation(path)
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    error = caught.value
    text = str(error)
    _assert_one_clean_paragraph(error)
    assert text.startswith(str(path))
    assert path.name in text
    assert expected.fragment in text
    assert error.line == expected.line
    if expected.line is None:
        assert ", line " not in text
    else:
        assert f"{path}, line {expected.line}" in text
    assert error.field == expected.field
    if expected.field:
        assert f", {expected.field}: " in text
    assert error.source == str(path)
    assert error.message in text


# --- valid files -----------------------------------------------------------------------------


@pytest.mark.parametrize("path", VALID, ids=[p.stem for p in VALID])
def test_a_valid_file_loads(path: Path) -> None:
    scenario = load_scenario(path)
    assert isinstance(scenario, Scenario)
    assert scenario.duration_s > 0


def test_the_minimal_file_gets_every_default() -> None:
    s = load_scenario(SCENARIOS / "valid" / "minimal.toml")
    assert s.scenario.name == "minimal"
    assert s.scenario.description == ""
    assert s.duration_s == 24 * 3600.0
    assert s.scenario.trace_resolution_s == 10.0
    assert s.scenario.start_time_of_day_h == 8.0
    env = s.environment
    assert (env.ambient_c, env.ambient_swing_c) == (20.0, 0.0)
    assert (env.sunrise_h, env.sunset_h, env.clear_sky_fraction) == (6.5, 20.0, 1.0)
    bms = s.bms
    assert bms.settings.fuse_type is FuseType.NOT_SET
    assert bms.installed_fuse is FuseType.MEGA_125A
    assert bms.settings.charge_limit_v == 14.2
    assert bms.settings.prealarm_usage is PreAlarmUsage.USE
    assert bms.settings.prealarm_mode is PreAlarmMode.CONTINUOUS
    assert bms.settings.remote_function is RemoteFunction.ALTERNATOR_AND_SYSTEM_PLUS
    assert bms.settings.soft_switch_on is True
    assert (bms.remote_terminal, bms.remote_closed) == ("loop", True)
    assert bms.temperature_c == 20.0
    assert bms.ab_wiring_resistance_ohm == 0.004
    assert bms.system_plus_resistance_ohm == 0.0005
    assert bms.app_connected is False
    assert s.settings() == Settings(fuse_type=FuseType.NOT_SET)
    (battery,) = s.battery
    assert battery.model == "LFP-Smart 12.8/200"
    assert (battery.count, battery.soc_pct, battery.temperature_c) == (1, 100.0, 20.0)
    assert battery.cell_capacity_factors == (1.0, 1.0, 1.0, 1.0)
    assert battery.cell_soc_offsets_pct == (0.0, 0.0, 0.0, 0.0)
    assert battery.cell_resistance_factors == (1.0, 1.0, 1.0, 1.0)
    assert (battery.cell_under_voltage_v, battery.cell_prealarm_v) == (2.8, 3.1)
    assert battery.charge_min_c == 5.0
    assert battery.supports_prealarm is True
    assert battery.connection_resistance_ohm == 0.0002
    assert battery.balancing is True
    assert s.alternator is None
    assert s.starter_battery is None
    assert s.device == ()
    assert s.timeline == ()


def test_the_rich_file_uses_every_section_device_action_and_fault() -> None:
    s = load_scenario(SCENARIOS / "valid" / "rich.toml")
    assert s.duration_s == 3 * 86_400.0
    assert s.battery_count == 3
    expanded = s.expanded_batteries()
    assert [b.model for b in expanded] == [
        "LFP-Smart 12.8/200",
        "LFP-Smart 12.8/200",
        "LFP-Smart 12.8/100 (no pre-alarm)",
    ]
    assert all(b.count == 1 for b in expanded)
    # a battery without its own temperature takes the ambient; one with it keeps it
    assert [b.temperature_c for b in expanded] == [12.0, 12.0, 10.0]
    assert s.bms.temperature_c == 15.0
    assert s.bms.settings.soft_switch_on is True
    assert s.bms.installed_fuse is FuseType.MEGA_80A
    assert s.starter_battery is not None
    assert s.starter_battery.capacity_ah == 95.0
    device_types = {type(d) for d in s.device}
    assert device_types == set(get_args(get_args(sc.Device)[0]))
    actions = {type(e) for e in s.timeline}
    union_members = set(get_args(get_args(sc.TimelineEntry)[0]))
    faults = set(get_args(get_args(sc.Fault)[0]))
    assert actions == (union_members - {sc.Fault}) | faults
    assert [e.at_s for e in s.timeline] == sorted(e.at_s for e in s.timeline)
    assert isinstance(s.timeline[0], sc.EngineStart)
    assert s.timeline[0].crank is True
    # the multiplus defaults to System+ but is wired to the bank here; the lamp says System+
    assert s.device_named("multiplus").connection == "bank"
    assert s.device_named("lamp").connection == "system+"
    assert s.devices_of(sc.SolarCharger)[0].remote_input == "ve.direct"
    assert s.device_named("buzzer").control == "pre-alarm"
    short = s.entries_of(sc.SystemPlusShort)[0]
    assert (short.duration_s, short.resistance_ohm) == (0.2, 0.002)


def test_timeline_entries_are_sorted_by_time_and_stable_for_equal_times() -> None:
    s = load_scenario(SCENARIOS / "valid" / "rich.toml")
    at_ten = [e for e in s.timeline if e.at_s == 10 * 3600.0]
    assert [e.name for e in at_ten if isinstance(e, sc.SettingChange)] == [
        "charge_limit_v",
        "prealarm_mode",
        "soft_switch_on",
    ]
    at_two = [type(e).__name__ for e in s.timeline if e.at_s == 2 * 3600.0]
    assert at_two == ["Note", "SetDevice"]


@pytest.mark.req("CFG-2")
def test_a_setting_action_holds_the_settings_plain_value() -> None:
    s = load_scenario(SCENARIOS / "valid" / "rich.toml")
    changes = {e.name: e.value for e in s.entries_of(sc.SettingChange)}
    assert changes == {
        "charge_limit_v": 14.4,
        "prealarm_mode": "continuous",
        "soft_switch_on": True,
    }
    settings = s.settings()
    for name, value in changes.items():
        settings = settings.changed(**{name: value})
    assert settings.prealarm_mode is PreAlarmMode.CONTINUOUS


def test_setting_names_are_the_settings_fields_except_the_pin() -> None:
    fields = {f.name for f in dataclasses.fields(Settings)} - {"pin"}
    assert set(get_args(sc.SettingName)) == fields


def test_time_forms_are_normalised_to_seconds() -> None:
    for key, value, seconds in (
        ("duration_s", 90, 90.0),
        ("duration_min", 90, 5400.0),
        ("duration_h", 1.5, 5400.0),
        ("duration_d", 2, 172_800.0),
    ):
        text = BASE.replace("duration_h = 24", f"{key} = {value}") + BATTERY
        assert parse_scenario(text, "t.toml").duration_s == seconds
    timeline = '\n[[timeline]]\nat_min = 90\naction = "note"\ntext = "x"\n'
    s = parse_scenario(BASE + BATTERY + timeline, "t.toml")
    assert s.timeline[0].at_s == 5400.0


def test_an_alternator_brings_a_default_starter_battery() -> None:
    s = parse_scenario(BASE + BATTERY + "\n[alternator]\nrated_current_a = 90\n", "t.toml")
    assert s.alternator is not None
    assert (s.alternator.regulated_voltage_v, s.alternator.mode) == (14.4, "normal")
    assert s.alternator.smart_voltage_v is None
    assert s.alternator.running is False
    assert s.starter_battery == sc.StarterBatteryConfig()
    assert s.starter_battery.capacity_ah == 70.0
    assert s.starter_battery.soc_pct == 90.0
    assert s.starter_battery.crank_current_a == 250.0


def test_device_defaults_depend_on_the_type() -> None:
    devices = """
[[device]]
name = "multi"
type = "inverter-charger"
charge_current_a = 50

[[device]]
name = "mppt"
type = "solar-charger"
pv_peak_w = 100
max_current_a = 10

[[device]]
name = "phoenix"
type = "inverter"

[[device]]
name = "beeper"
type = "alarm"
"""
    s = parse_scenario(BASE + BATTERY + devices, "t.toml")
    multi = s.device_named("multi")
    assert isinstance(multi, sc.InverterCharger)
    assert (multi.connection, multi.control, multi.cable) == ("system+", "none", "direct")
    assert (multi.absorption_voltage_v, multi.float_voltage_v, multi.absorption_time_h) == (
        14.2,
        13.5,
        1.0,
    )
    # left out: the model's curve and zero-load power (plant.devices.inverter_models)
    assert (multi.model, multi.efficiency_pct, multi.idle_w, multi.ac_load_w) == (
        None,
        None,
        None,
        0.0,
    )
    mppt = s.device_named("mppt")
    assert (mppt.connection, mppt.remote_input) == ("bank", "ve.direct")
    phoenix = s.device_named("phoenix")
    assert isinstance(phoenix, sc.Inverter)
    assert phoenix.remote_input == "high-active"
    # Victron's 12 V defaults (Phoenix Inverter VE.Direct manual): 9.3 / 10.9 / 14 V, 30 s
    assert (
        phoenix.idle_w,
        phoenix.low_voltage_cutoff_v,
        phoenix.restart_voltage_v,
        phoenix.charge_detect_v,
        phoenix.restart_delay_s,
    ) == (None, 9.3, 10.9, 14.0, 30.0)
    beeper = s.device_named("beeper")
    assert isinstance(beeper, sc.Alarm)
    assert (beeper.control, beeper.current_a, beeper.kind) == ("pre-alarm", 0.05, "buzzer")
    with pytest.raises(KeyError):
        s.device_named("nobody")


def test_supports_prealarm_defaults_to_the_model() -> None:
    text = BASE + '\n[[battery]]\nmodel = "LFP-Smart 12.8/100 (no pre-alarm)"\n'
    (battery,) = parse_scenario(text, "t.toml").battery
    assert battery.supports_prealarm is False
    assert battery.params == battery_models()["LFP-Smart 12.8/100 (no pre-alarm)"]


def test_a_battery_gives_the_plant_its_options() -> None:
    s = load_scenario(SCENARIOS / "valid" / "rich.toml")
    options = s.battery[0].options()
    assert isinstance(options, BatteryOptions)
    assert options.cell_capacity_factors == (1.0, 0.98, 1.0, 1.01)
    assert options.cell_under_voltage_v == 2.7
    assert options.connection_resistance_ohm == 0.0003


def test_the_scenario_is_frozen() -> None:
    s = load_scenario(SCENARIOS / "valid" / "minimal.toml")
    with pytest.raises(ValidationError):
        s.bms.settings = Settings(charge_limit_v=13.5)
    with pytest.raises(dataclasses.FrozenInstanceError):
        s.bms.settings.charge_limit_v = 13.5  # type: ignore[misc]


def test_the_sun_and_the_air_follow_the_clock() -> None:
    text = BASE.replace("[bms]", "start_time_of_day_h = 5\n\n[bms]") + BATTERY
    text += "\n[environment]\nambient_c = 10\nambient_swing_c = 5\nsunrise_h = 6\nsunset_h = 18\n"
    s = parse_scenario(text, "t.toml")
    assert s.time_of_day_h(0.0) == 5.0
    assert s.time_of_day_h(20 * 3600.0) == 1.0
    assert s.ambient_c_at(0.0) == pytest.approx(5.0)  # coldest at 05:00
    assert s.ambient_c_at(12 * 3600.0) == pytest.approx(15.0)  # warmest at 17:00
    assert s.ambient_c_at(0.0, ambient_c=20.0) == pytest.approx(15.0)
    assert s.sun_fraction_at(0.0) == 0.0  # 05:00, before sunrise
    assert s.sun_fraction_at(7 * 3600.0) == pytest.approx(1.0)  # noon
    assert s.sun_fraction_at(7 * 3600.0, clear_sky_fraction=0.5) == pytest.approx(0.5)
    assert s.sun_fraction_at(14 * 3600.0) == 0.0  # 19:00, after sunset
    assert math.isclose(s.environment.sun_fraction_at(9.0), math.sin(math.pi / 4))


# --- SYS-1 and CFG-2 beyond the corpus ---------------------------------------------------------


@pytest.mark.req("SYS-1")
@pytest.mark.parametrize("counts", [(1,), (5,), (2, 3), (1, 1, 1, 1, 1)])
def test_a_bank_of_one_to_five_batteries_loads(counts: tuple[int, ...]) -> None:
    batteries = "".join(
        f'\n[[battery]]\nmodel = "LFP-Smart 12.8/100"\ncount = {n}\n' for n in counts
    )
    assert parse_scenario(BASE + batteries, "t.toml").battery_count == sum(counts)


@pytest.mark.req("SYS-1")
@pytest.mark.parametrize("counts", [(6,), (5, 1), (2, 2, 2), (1, 1, 1, 1, 1, 1)])
def test_a_bank_of_more_than_five_batteries_is_refused(counts: tuple[int, ...]) -> None:
    batteries = "".join(
        f'\n[[battery]]\nmodel = "LFP-Smart 12.8/100"\ncount = {n}\n' for n in counts
    )
    error = _error(BASE + batteries)
    _assert_one_clean_paragraph(error)
    assert "1 to 5" in str(error)
    assert "SYS-1" in str(error)
    assert error.line is not None


@pytest.mark.req("SYS-1")
def test_an_empty_bank_is_refused() -> None:
    error = _error("battery = []\n" + BASE)
    assert "the bank needs 1 to 5 batteries (SYS-1)" in str(error)
    assert error.field == "battery"


@pytest.mark.req("CFG-2")
@pytest.mark.parametrize(
    ("key", "value", "allowed"),
    [
        ("fuse_type", '"130A"', "not set, 125A"),
        ("charge_limit_v", "12.9", "13.0 to 15.3 V"),
        ("charge_limit_v", '"high"', "13.0 to 15.3"),
        ("prealarm_usage", '"sometimes"', "'use pre-alarm', 'pre-alarm not available'"),
        ("prealarm_mode", '"blinking"', "'continuous', 'intermittent'"),
        ("remote_function", '"all"', "'alternator and system+ only', 'switch everything off'"),
        ("soft_switch", '"maybe"', "on or off"),
        ("soft_switch", "1", "on"),
    ],
)
def test_a_refused_bms_setting_names_the_setting_and_what_is_allowed(
    key: str, value: str, allowed: str
) -> None:
    text = BASE.replace('installed_fuse = "125A"', f'installed_fuse = "125A"\n{key} = {value}')
    error = _error(text + BATTERY)
    _assert_one_clean_paragraph(error)
    assert error.field == f"bms.{key}"
    assert error.line == 7
    assert allowed in str(error)


@pytest.mark.req("CFG-2")
def test_bms_settings_are_one_core_settings_value_worded_by_the_core() -> None:
    """No mirror: [bms] holds a `Settings`, and what is allowed is the core's own wording."""
    assert set(sc.BmsConfig.model_fields).isdisjoint(SETTING_SPECS)
    setting_keys = {"soft_switch_on" if k == "soft_switch" else k for k in sc.BmsConfig.user_keys()}
    assert set(SETTING_SPECS) - setting_keys == {"pin"}
    s = parse_scenario(BASE + BATTERY, "t.toml")
    assert s.bms.settings is s.settings()
    assert s.settings() == Settings.factory()
    for key, value, spec in (
        ("charge_limit_v", "15.8", CHARGE_LIMIT),
        ("charge_limit_v", '"14.2 V"', CHARGE_LIMIT),
        ("soft_switch", "1", SOFT_SWITCH),
    ):
        text = BASE.replace('"125A"', f'"125A"\n{key} = {value}') + BATTERY
        error = _error(text)
        assert error.field == f"bms.{key}"
        assert error.message.endswith(f"{spec.allowed} (got {value})") or error.message.endswith(
            f"allowed: {spec.allowed}"
        )


@pytest.mark.req("CFG-1")
def test_bms_settings_accept_the_app_labels() -> None:
    text = BASE.replace(
        'installed_fuse = "125A"',
        'installed_fuse = "2 x 7.5 A"\nfuse_type = "2x7.5A"\ncharge_limit_v = 14.204\n'
        'prealarm_usage = "Pre-alarm not available"\nsoft_switch = "off"',
    )
    bms = parse_scenario(text + BATTERY, "t.toml").bms
    assert bms.installed_fuse is FuseType.ATO_2X7_5A
    assert bms.settings.fuse_type is FuseType.ATO_2X7_5A
    assert bms.settings.charge_limit_v == 14.2
    assert bms.settings.prealarm_usage is PreAlarmUsage.NOT_AVAILABLE
    assert bms.settings.soft_switch_on is False


# --- messages ------------------------------------------------------------------------------------


def test_the_error_carries_its_parts() -> None:
    error = _error(BASE.replace('"125A"', '"125A"\nfuse_typ = "125A"') + BATTERY, "a/van.toml")
    assert (error.source, error.line, error.field) == ("a/van.toml", 7, "bms.fuse_typ")
    assert error.message.startswith("unknown field; did you mean 'fuse_type'? Allowed: fuse_type")
    assert error.more_problems == 0
    assert str(error) == f"a/van.toml, line 7, bms.fuse_typ: {error.message}"


def test_one_more_problem_is_singular() -> None:
    text = BASE.replace('"125A"', '"125A"\ncharge_limit_v = 2') + BATTERY + "soc_pct = -1\n"
    error = _error(text)
    assert error.line == 7
    assert str(error).endswith("(and 1 more problem)")


def test_the_first_problem_is_the_first_by_line() -> None:
    text = BATTERY.lstrip() + "soc_pct = 200\n\n" + BASE.replace("24", "-3")
    error = _error(text)
    assert (error.line, error.field) == (3, "battery[1].soc_pct")


def test_a_toml_error_at_the_end_names_the_last_line() -> None:
    error = _error(BASE + 'text = """never closed\n')
    assert error.line == 7
    assert "invalid TOML" in str(error)
    _assert_one_clean_paragraph(error)


def test_a_duplicate_table_is_a_toml_error() -> None:
    error = _error(BASE + BATTERY + '\n[bms]\ninstalled_fuse = "80A"\n')
    assert error.line == 11
    assert "invalid TOML" in error.message


def test_a_path_given_as_text_loads_like_a_path(tmp_path: Path) -> None:
    path = SCENARIOS / "valid" / "minimal.toml"
    assert load_scenario(str(path)) == load_scenario(path)
    broken = BROKEN[0]
    with pytest.raises(ScenarioError) as caught:
        load_scenario(str(broken))
    assert caught.value.source == str(broken)
    with pytest.raises(ScenarioError, match="cannot read"):
        load_scenario(str(tmp_path / "nowhere.toml"))


def test_a_missing_file_is_a_scenario_error(tmp_path: Path) -> None:
    path = tmp_path / "nowhere.toml"
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    assert "nowhere.toml" in str(caught.value)
    assert "cannot read" in str(caught.value)


def test_a_binary_file_is_a_scenario_error(tmp_path: Path) -> None:
    path = tmp_path / "blob.toml"
    path.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    assert "UTF-8" in str(caught.value)


def _toml(header: str, values: dict[str, object]) -> str:
    """A table in TOML, from plain values."""
    lines = [header]
    for key, value in values.items():
        if isinstance(value, bool):
            lines.append(f"{key} = {'true' if value else 'false'}")
        elif isinstance(value, str):
            lines.append(f'{key} = "{value}"')
        else:
            lines.append(f"{key} = {value}")
    return "\n" + "\n".join(lines) + "\n"


def _device(kind: str, **values: object) -> dict[str, object]:
    return {"name": "x", "type": kind, **values}


@pytest.mark.parametrize(
    ("device", "field", "fragment"),
    [
        pytest.param(
            _device("dc-load", power_w=5, current_a=1),
            "current_a",
            "power_w is already given",
            id="both-load-forms",
        ),
        pytest.param(
            _device("dc-load"), "power_w", "exactly one of power_w or current_a", id="no-load-form"
        ),
        pytest.param(
            _device("residual-load", current_a=0.1, connection="system+"),
            "connection",
            "residual-load",
            id="residual-on-system-plus",
        ),
        pytest.param(
            _device("residual-load", current_a=0.1, control="load disconnect"),
            "control",
            "PLT-10",
            id="residual-with-control",
        ),
        pytest.param(
            _device("dc-load", power_w=5, control="pre-alarm"),
            "control",
            "only an alarm",
            id="prealarm-on-load",
        ),
        pytest.param(
            _device("dc-load", power_w=5, cable="inverting"),
            "cable",
            'control is "none"',
            id="cable-without-control",
        ),
        pytest.param(
            _device(
                "charger",
                charge_current_a=5,
                control="charge disconnect",
                cable="ve.direct non-inverting",
            ),
            "remote_input",
            'remote_input = "ve.direct"',
            id="vedirect-cable-needs-vedirect-input",
        ),
        pytest.param(
            _device("inverter", restart_voltage_v=9.2),
            "restart_voltage_v",
            "above low_voltage_cutoff_v",
            id="inverter-restart",
        ),
        pytest.param(
            _device("charger", charge_current_a=5, float_voltage_v=14.5),
            "float_voltage_v",
            "absorption_voltage_v",
            id="float-above-absorption",
        ),
        pytest.param(
            _device("battery-protect", load_w=5, reconnect_voltage_v=10),
            "reconnect_voltage_v",
            "above disconnect_voltage_v",
            id="battery-protect-hysteresis",
        ),
        pytest.param(
            {"type": "charger", "charge_current_a": 5},
            "name",
            "missing (required)",
            id="no-name",
        ),
        pytest.param(
            {"name": "x", "power_w": 5},
            "type",
            'missing (required); allowed: "dc-load"',
            id="no-type",
        ),
        pytest.param(
            _device(
                "inverter-charger",
                charge_current_a=5,
                connection="bank",
                control="load disconnect",
                cable="multiplus cable",
            ),
            "cable",
            "multiplus cable",
            id="multiplus-cable-needs-both",
        ),
    ],
)
def test_device_wiring_and_value_rules(
    device: dict[str, object], field: str, fragment: str
) -> None:
    error = _error(BASE + BATTERY + _toml("[[device]]", device))
    _assert_one_clean_paragraph(error)
    assert error.field == f"device[1].{field}"
    assert fragment in error.message
    assert error.line is not None


@pytest.mark.parametrize(
    ("entry", "field", "fragment"),
    [
        pytest.param(
            {"action": "alternator-mode", "mode": "smart"},
            "action",
            "needs an [alternator]",
            id="alternator-mode-without-alternator",
        ),
        pytest.param(
            {"action": "set", "device": "x"}, "action", "at least one of power_w", id="empty-set"
        ),
        pytest.param(
            {"action": "fault", "fault": "loose-connection", "battery": 2, "resistance_ohm": 0.1},
            "battery",
            "no battery 2",
            id="loose-connection-index",
        ),
        pytest.param(
            {"action": "fault", "fault": "system-plus-short"},
            "duration",
            "exactly one of duration_s",
            id="short-without-duration",
        ),
        pytest.param(
            {"action": "fault", "fault": "heat", "bms_extra_c": -3},
            "bms_extra_c",
            "from 0 to 100 °C (got -3)",
            id="heat-range",
        ),
        pytest.param(
            {"action": "solar", "clear_sky_fraction": 2},
            "clear_sky_fraction",
            "from 0 to 1 (got 2)",
            id="solar-range",
        ),
        pytest.param({"action": "note", "text": ""}, "text", "must not be empty", id="empty-note"),
        pytest.param(
            {"action": "shore-power"},
            "on",
            "missing (required); allowed: true or false",
            id="shore-power-without-on",
        ),
        pytest.param(
            {"action": "setting", "name": "pin", "value": "123456"},
            "name",
            'one of "fuse_type"',
            id="the-pin-is-no-scenario-setting",
        ),
        pytest.param(
            {"action": "setting", "name": "fuse_type", "value": 125},
            "value",
            "allowed: not set, 125A",
            id="fuse-setting-value",
        ),
        pytest.param(
            {"action": "engine-stop", "crank": True},
            "crank",
            "unknown field; allowed: at_s, at_min, at_h, at_d, action",
            id="field-of-another-action",
        ),
    ],
)
def test_timeline_rules(entry: dict[str, object], field: str, fragment: str) -> None:
    error = _error(BASE + BATTERY + _toml("[[timeline]]", {"at_h": 1, **entry}))
    _assert_one_clean_paragraph(error)
    assert error.field == f"timeline[1].{field}"
    assert fragment in error.message


def test_a_set_is_checked_against_the_devices_own_range() -> None:
    devices = '\n[[device]]\nname = "tracker"\ntype = "residual-load"\ncurrent_a = 0.01\n'
    timeline = '\n[[timeline]]\nat_h = 1\naction = "set"\ndevice = "tracker"\ncurrent_a = 50\n'
    error = _error(BASE + BATTERY + devices + timeline)
    assert error.field == "timeline[1].current_a"
    assert "greater than 0 and at most 10 A (got 50)" in error.message
    load = '\n[[device]]\nname = "fridge"\ntype = "dc-load"\ncurrent_a = 3\n'
    change = '\n[[timeline]]\nat_h = 1\naction = "set"\ndevice = "fridge"\npower_w = 50\n'
    error = _error(BASE + BATTERY + load + change)
    assert "defined by current_a; set current_a instead" in error.message


def test_the_problem_inside_a_valid_time_form_is_named_as_written() -> None:
    timeline = '\n[[timeline]]\nat_d = -1\naction = "engine-stop"\n'
    error = _error(BASE + BATTERY + timeline)
    assert (error.line, error.field) == (12, "timeline[1].at_d")
    assert "at least 0 and at most 400 days (got -1 days)" in error.message


def test_a_too_long_scenario_is_refused() -> None:
    error = _error(BASE.replace("duration_h = 24", "duration_d = 401") + BATTERY)
    assert (error.line, error.field) == (3, "scenario.duration_d")
    assert "at most 400 days" in error.message


RICH_LINES = (SCENARIOS / "valid" / "rich.toml").read_text(encoding="utf-8").splitlines()
JUNK = [
    '"x"',
    "-1",
    "0",
    "1e9",
    "true",
    "[1, 2]",
    "{ a = 1 }",
    "inf",
    '""',
    "[]",
    "[bms]",
    "x.y = 1",
]


@given(
    edits=st.lists(
        st.tuples(
            st.integers(0, len(RICH_LINES) - 1),
            st.sampled_from(["delete", "value", "insert", "cut"]),
            st.sampled_from(JUNK),
            st.integers(0, 40),
        ),
        min_size=1,
        max_size=3,
    )
)
def test_any_edit_of_a_valid_file_loads_or_fails_cleanly(
    edits: list[tuple[int, str, str, int]],
) -> None:
    lines = list(RICH_LINES)
    for index, kind, junk, cut in edits:
        i = min(index, len(lines) - 1)
        if kind == "delete" and len(lines) > 1:
            del lines[i]
        elif kind == "value" and "=" in lines[i]:
            lines[i] = lines[i].split("=")[0] + "= " + junk
        elif kind == "insert":
            lines.insert(i, junk)
        else:
            lines[i] = lines[i][:cut]
    error: ScenarioError | None = None
    try:
        parse_scenario("\n".join(lines), "edited.toml")
    except ScenarioError as exc:
        error = exc
    if error is not None:
        _assert_one_clean_paragraph(error)
        assert str(error).startswith("edited.toml")
        assert error.line is None or 1 <= error.line <= len(lines) + 1


# --- the line locator ----------------------------------------------------------------------------


def test_the_locator_follows_tables_arrays_and_inline_forms() -> None:
    text = """\
top = 1
"quoted key".inner = 2
[a]
b.c = 3
list = [
  1,
  [2, 3],
  { x = 4 },
]
s = '''
[not.a.table]
'''
[[arr]]
k = 1
[arr.sub]
k = 2
[[arr]]
k = 3  # comment
"""
    lines = sc._Locator(text).lines
    assert lines[("top",)] == 1
    assert lines[("quoted key", "inner")] == 2
    assert lines[("a",)] == 3
    assert lines[("a", "b", "c")] == 4
    assert lines[("a", "list")] == 5
    assert lines[("a", "list", 1)] == 7
    assert lines[("a", "list", 1, 1)] == 7
    assert lines[("a", "list", 2, "x")] == 8
    assert lines[("a", "s")] == 10
    assert ("not",) not in lines
    assert lines[("arr", 0)] == 13
    assert lines[("arr", 0, "sub", "k")] == 16
    assert lines[("arr", 1, "k")] == 18


def test_a_missing_key_points_at_its_table() -> None:
    locator = sc._Locator(BASE)
    assert locator.find(("bms", "installed_fuse")) == (6, ("bms", "installed_fuse"))
    assert locator.find(("bms", "fuse_type")) == (5, ("bms", "fuse_type"))
    assert locator.find(("scenario", "duration_s")) == (3, ("scenario", "duration_h"))
    assert locator.find(("battery",)) == (None, ("battery",))


# --- the documentation ---------------------------------------------------------------------------


def _doc_blocks() -> list[str]:
    return re.findall(r"```toml\n(.*?)```", DOC.read_text(encoding="utf-8"), flags=re.DOTALL)


def test_the_doc_names_every_key() -> None:
    doc = DOC.read_text(encoding="utf-8")
    tables: list[type[sc._Table]] = [
        sc.ScenarioSection,
        sc.Environment,
        sc.BmsConfig,
        sc.BatteryConfig,
        sc.AlternatorConfig,
        sc.StarterBatteryConfig,
    ]
    tables += list(get_args(get_args(sc.Device)[0]))
    tables += [t for t in get_args(get_args(sc.TimelineEntry)[0]) if t is not sc.Fault]
    tables += list(get_args(get_args(sc.Fault)[0]))
    for section in sc.Scenario.user_keys():
        assert f"`[{section}]`" in doc or f"`[[{section}]]`" in doc, section
    for table in tables:
        for key in table.user_keys():
            assert f"`{key}`" in doc, f"{table.__name__}.{key} is not documented"


def test_the_docs_complete_example_loads_and_so_does_each_snippet() -> None:
    blocks = _doc_blocks()
    complete = [b for b in blocks if "[scenario]" in b]
    snippets = [b for b in blocks if "[scenario]" not in b]
    assert len(complete) == 1
    scenario = parse_scenario(complete[0], "docs/scenario-format.md")
    assert scenario.device
    assert len(snippets) >= 26  # one per timeline action and fault
    for snippet in snippets:
        try:
            parse_scenario(complete[0] + "\n" + snippet, "snippet")
        except ScenarioError as exc:  # pragma: no cover - only on a wrong doc
            pytest.fail(f"{exc}\n{snippet}")
