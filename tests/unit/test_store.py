"""The settings store: round trip, corruption detection, factory reset, E-B31 at boot and after.

CFG-3: settings survive power loss and any damage to the file is detected (checksum plus a
byte-exact re-serialization), reported as a state, never as an exception or as other settings.
CFG-4: factory reset restores every field. ERR-2: corrupted or missing settings boot into E-B31,
which clears only after a factory reset followed by at least 3 minutes without power.
"""

import hashlib
import json
import pathlib
from collections.abc import Callable

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from smartbms.core import (
    Code,
    Controller,
    FuseType,
    Inputs,
    PreAlarmMode,
    PreAlarmUsage,
    RemoteFunction,
    Settings,
)
from smartbms.store import (
    FORMAT_VERSION,
    MAGIC,
    LoadResult,
    SettingsStore,
    StoreStatus,
    boot_controller,
    decode_settings,
    encode_settings,
)

FACTORY = Settings.factory()

CUSTOM = Settings(
    fuse_type=FuseType.ATO_2X7_5A,
    prealarm_usage=PreAlarmUsage.NOT_AVAILABLE,
    prealarm_mode=PreAlarmMode.INTERMITTENT,
    charge_limit_v=13.85,
    remote_function=RemoteFunction.EVERYTHING,
    soft_switch_on=False,
    pin="493817",
)
"""Differs from the factory defaults in every field."""

EVERY_MASK = range(1, 256)
"""Every way to change one byte."""

FILE_MASKS = (0x01, 0x02, 0x04, 0x08, 0x10, 0x20, 0x40, 0x80, 0xFF)
"""Every single-bit flip and the full inversion, for the tests that go through the disk."""

settings_values = st.builds(
    Settings,
    fuse_type=st.sampled_from(FuseType),
    prealarm_usage=st.sampled_from(PreAlarmUsage),
    prealarm_mode=st.sampled_from(PreAlarmMode),
    charge_limit_v=st.floats(min_value=13.0, max_value=15.3),
    remote_function=st.sampled_from(RemoteFunction),
    soft_switch_on=st.booleans(),
    pin=st.text(alphabet="0123456789", min_size=6, max_size=6),
)


def forge(body: bytes, header: bytes = b"SMARTBMS-SETTINGS 1") -> bytes:
    """A file with a correct checksum around any settings line (the format, written by hand)."""
    sealed = header + b"\n" + body + b"\n"
    return sealed + hashlib.sha256(sealed).hexdigest().encode() + b"\n"


def canonical_body(**overrides: object) -> bytes:
    """CUSTOM's settings line with some raw JSON values replaced."""
    values = {**CUSTOM.to_mapping(), **overrides}
    return json.dumps(values, sort_keys=True, separators=(",", ":")).encode()


def flipped(data: bytes, position: int, mask: int) -> bytes:
    damaged = bytearray(data)
    damaged[position] ^= mask
    return bytes(damaged)


def temp_files(directory: pathlib.Path) -> list[pathlib.Path]:
    return sorted(p for p in directory.iterdir() if p.name.endswith(".tmp"))


@pytest.fixture
def store(tmp_path: pathlib.Path) -> SettingsStore:
    return SettingsStore(tmp_path / "settings.smartbms")


def assert_corrupted(result: LoadResult) -> None:
    assert result.status is StoreStatus.CORRUPTED
    assert not result.ok
    assert result.settings is None
    assert result.detail


# --- round trip (CFG-1, CFG-3) -------------------------------------------------------------------


@pytest.mark.req("CFG-3", "CFG-1")
@hypothesis_settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(first=settings_values, second=settings_values)
def test_cfg3_any_settings_survive_a_save_and_load(
    store: SettingsStore, first: Settings, second: Settings
) -> None:
    """CFG-3: every field, every value: what was saved last is what loads, equal field by field."""
    store.save(first)
    store.save(second)
    result = store.load()
    assert result == LoadResult(StoreStatus.OK, second, "ok")
    assert result.ok
    assert SettingsStore(store.path).load().settings == second  # a fresh store: a power cycle


@pytest.mark.req("CFG-3", "CFG-1")
@given(value=settings_values)
def test_cfg3_encoding_round_trips_and_is_deterministic(value: Settings) -> None:
    data = encode_settings(value)
    assert decode_settings(data) == LoadResult(StoreStatus.OK, value, "ok")
    assert encode_settings(decode_settings(data).settings or FACTORY) == data


@pytest.mark.req("CFG-3", "CFG-1")
def test_cfg3_every_charge_limit_step_round_trips() -> None:
    """CFG-1: each of the 231 settable limits 13.00...15.30 V loads back exactly."""
    for hundredths in range(1300, 1531):
        value = FACTORY.changed(charge_limit_v=hundredths / 100)
        assert decode_settings(encode_settings(value)).settings == value


@pytest.mark.req("CFG-3")
def test_cfg3_file_is_header_canonical_json_and_sha256(store: SettingsStore) -> None:
    """CFG-3: the documented format, rebuilt independently of the writer."""
    store.save(CUSTOM)
    data = store.path.read_bytes()
    header, body, digest, rest = data.split(b"\n")
    assert header == MAGIC + b" " + str(FORMAT_VERSION).encode() == b"SMARTBMS-SETTINGS 1"
    assert json.loads(body) == CUSTOM.to_mapping()
    assert body == json.dumps(CUSTOM.to_mapping(), sort_keys=True, separators=(",", ":")).encode()
    assert digest == hashlib.sha256(header + b"\n" + body + b"\n").hexdigest().encode()
    assert rest == b""
    assert data == forge(body)


# --- corruption is detected (CFG-3) --------------------------------------------------------------


@pytest.mark.req("CFG-3")
@pytest.mark.parametrize("value", [FACTORY, CUSTOM], ids=["factory", "custom"])
def test_cfg3_every_single_byte_flip_is_detected(value: Settings) -> None:
    """CFG-3: each byte position, each of the 255 ways to change it: CORRUPTED, never other data."""
    data = encode_settings(value)
    for position in range(len(data)):
        for mask in EVERY_MASK:
            assert_corrupted(decode_settings(flipped(data, position, mask)))


@pytest.mark.req("CFG-3")
def test_cfg3_every_single_byte_flip_in_the_stored_file_is_detected(
    store: SettingsStore,
) -> None:
    """CFG-3: the same through the file system, with every single-bit flip and 0xFF."""
    store.save(CUSTOM)
    data = store.path.read_bytes()
    for position in range(len(data)):
        for mask in FILE_MASKS:
            store.path.write_bytes(flipped(data, position, mask))
            assert_corrupted(store.load())


@pytest.mark.req("CFG-3")
def test_cfg3_every_truncation_is_detected(store: SettingsStore) -> None:
    store.save(CUSTOM)
    data = store.path.read_bytes()
    for length in range(len(data)):
        store.path.write_bytes(data[:length])
        result = store.load()
        assert_corrupted(result)
        assert "truncated" in result.detail


@pytest.mark.req("CFG-3")
@pytest.mark.parametrize(
    "garbage",
    [b"\n", b" ", b"x", b"\x00", b"\xff" * 3, b"SMARTBMS-SETTINGS 1\n", b"\n" * 5000],
    ids=["newline", "space", "letter", "nul", "high-bytes", "header", "huge"],
)
def test_cfg3_appended_garbage_is_detected(store: SettingsStore, garbage: bytes) -> None:
    store.save(CUSTOM)
    store.path.write_bytes(store.path.read_bytes() + garbage)
    assert_corrupted(store.load())


@pytest.mark.req("CFG-3")
def test_cfg3_two_files_back_to_back_are_corrupted(store: SettingsStore) -> None:
    store.path.write_bytes(encode_settings(CUSTOM) + encode_settings(FACTORY))
    assert_corrupted(store.load())


@pytest.mark.req("CFG-3")
def test_cfg3_missing_file_is_missing(store: SettingsStore, tmp_path: pathlib.Path) -> None:
    assert store.load() == LoadResult(StoreStatus.MISSING, None, "no settings file")
    in_missing_directory = SettingsStore(tmp_path / "no-such-dir" / "settings")
    assert in_missing_directory.load().status is StoreStatus.MISSING


@pytest.mark.req("CFG-3", "CFG-2")
@pytest.mark.parametrize(
    ("body", "detail"),
    [
        (canonical_body(charge_limit_v=20.0), "charge_limit_v"),
        (canonical_body(charge_limit_v=12.99), "charge_limit_v"),
        (canonical_body(fuse_type="150A"), "fuse_type"),
        (canonical_body(prealarm_mode="blinking"), "prealarm_mode"),
        (canonical_body(pin="12345"), "pin"),
        (canonical_body(pin="abcdef"), "pin"),
        (canonical_body(soft_switch_on=1), "soft_switch_on"),
        (canonical_body(charge_limit_v=10**400), "invalid setting"),
        (canonical_body(colour="red"), "colour"),
    ],
    ids=[
        "limit-20V",
        "limit-below-range",
        "unknown-fuse",
        "unknown-mode",
        "short-pin",
        "letter-pin",
        "int-switch",
        "huge-int",
        "unknown-field",
    ],
)
def test_cfg3_valid_checksum_with_refused_value_is_corrupted(
    store: SettingsStore, body: bytes, detail: str
) -> None:
    """CFG-3/CFG-2: a correct checksum does not make an out-of-range value acceptable."""
    store.path.write_bytes(forge(body))
    result = store.load()
    assert_corrupted(result)
    assert result.detail.startswith("invalid setting")
    assert detail in result.detail


@pytest.mark.req("CFG-3")
@pytest.mark.parametrize(
    ("data", "detail"),
    [
        (forge(canonical_body(charge_limit_v="13.85")), "canonical"),  # Settings accepts text
        (forge(canonical_body(soft_switch_on="off")), "canonical"),
        (forge(canonical_body(fuse_type="2 x 7.5 A")), "canonical"),
        (forge(canonical_body(prealarm_mode=" Intermittent")), "canonical"),
        (forge(canonical_body(charge_limit_v=13.851)), "canonical"),  # rounds to 13.85
        (forge(json.dumps(CUSTOM.to_mapping(), sort_keys=True).encode()), "canonical"),
        (forge(json.dumps(CUSTOM.to_mapping()).encode()), "canonical"),
        (forge(canonical_body()[:-1] + b',"pin":"493817"}'), "canonical"),  # duplicate key
        (forge(json.dumps({"pin": "493817"}).encode()), "canonical"),  # fields missing
        (forge(b"{}"), "canonical"),
        (forge(canonical_body().replace(b'"4938', b'"\\u0034\\u0039\\u00338')), "canonical"),
        (forge(b"[1, 2]"), "JSON object"),
        (forge(b"[" * 3000 + b"]" * 3000), "too large"),
        (forge(b"[" * 1500 + b"]" * 1500), "JSON"),
        (forge(b'{"charge_limit_v":NaN}'), "charge_limit_v"),
        (forge(canonical_body().replace(b"493817", "49381\u0667".encode())), "ASCII"),
        (forge(canonical_body(), header=b"SMARTBMS-SETTINGS 2"), "unknown format version"),
        (forge(canonical_body(), header=b"SMARTBMS-SETTINGS 01"), "unknown format version"),
        (forge(canonical_body(), header=b"SMARTBMS-CONFIG 1"), "bad magic"),
        (forge(canonical_body()).upper(), "malformed checksum"),
        (forge(canonical_body())[:-66] + forge(canonical_body())[-66:].upper(), "malformed"),
        (forge(canonical_body()).replace(b"\n", b"\r\n"), "unknown format version"),
        (b"", "truncated"),
    ],
)
def test_cfg3_anything_but_the_one_canonical_file_is_corrupted(
    store: SettingsStore, data: bytes, detail: str
) -> None:
    """CFG-3: even with a correct checksum, only the exact bytes we write are accepted."""
    store.path.write_bytes(data)
    result = store.load()
    assert_corrupted(result)
    assert detail in result.detail


@pytest.mark.req("CFG-3")
def test_cfg3_unreadable_settings_path_is_corrupted_not_an_exception(
    store: SettingsStore,
) -> None:
    store.path.mkdir()
    result = store.load()
    assert_corrupted(result)
    assert "unreadable" in result.detail


def test_load_result_carries_settings_exactly_when_ok() -> None:
    """A programmer error (not file content) is the one thing that raises."""
    with pytest.raises(ValueError, match="exactly when"):
        LoadResult(StoreStatus.OK, None, "ok")
    with pytest.raises(ValueError, match="exactly when"):
        LoadResult(StoreStatus.CORRUPTED, FACTORY, "checksum mismatch")


# --- atomic save and stale temporary files (CFG-3) -----------------------------------------------


@pytest.mark.req("CFG-3")
def test_cfg3_save_over_existing_file_removes_a_stale_temp_file(store: SettingsStore) -> None:
    """CFG-3: a killed write's temp file is cleaned up by the next save; others are untouched."""
    store.save(FACTORY)
    directory = store.path.parent
    stale = directory / f".{store.path.name}.k1ll3d.tmp"
    stale.write_bytes(encode_settings(CUSTOM)[:97])
    unrelated = directory / "notes.tmp"
    unrelated.write_bytes(b"not ours")
    store.save(CUSTOM)
    assert store.load().settings == CUSTOM
    assert not stale.exists()
    assert temp_files(directory) == [unrelated]


@pytest.mark.req("CFG-3")
def test_cfg3_a_temp_file_is_never_read_as_settings(store: SettingsStore) -> None:
    """CFG-3: a complete, valid temp file that never got renamed does not count."""
    stale = store.path.parent / f".{store.path.name}.abcdef.tmp"
    stale.write_bytes(encode_settings(CUSTOM))
    assert store.load().status is StoreStatus.MISSING
    store.save(FACTORY)
    assert store.load().settings == FACTORY


@pytest.mark.req("CFG-3")
def test_cfg3_failed_save_keeps_old_file_and_leaves_no_temp_file(
    store: SettingsStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    store.save(CUSTOM)

    def refuse(self: pathlib.Path, target: pathlib.Path) -> pathlib.Path:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(pathlib.Path, "replace", refuse)
    with pytest.raises(OSError, match="No space left"):
        store.save(FACTORY)
    monkeypatch.undo()
    assert store.load().settings == CUSTOM
    assert temp_files(store.path.parent) == []


# --- factory reset and first boot (CFG-4, ERR-2) -------------------------------------------------


@pytest.mark.req("CFG-4", "CFG-5")
def test_cfg4_factory_reset_restores_every_field(store: SettingsStore) -> None:
    """CFG-4: every field, including PIN 000000 and fuse type not set, is back to the default."""
    for name, custom_value in CUSTOM.to_mapping().items():
        assert custom_value != FACTORY.to_mapping()[name], f"CUSTOM must differ in {name}"
    store.save(CUSTOM)
    assert store.factory_reset() == FACTORY
    stored = store.load().settings
    assert stored == FACTORY
    assert stored is not None
    assert stored.pin == "000000"
    assert stored.fuse_type is FuseType.NOT_SET
    assert stored.prealarm_usage is PreAlarmUsage.USE
    assert stored.prealarm_mode is PreAlarmMode.CONTINUOUS
    assert stored.charge_limit_v == 14.2
    assert stored.remote_function is RemoteFunction.ALTERNATOR_AND_SYSTEM_PLUS
    assert stored.soft_switch_on is True


@pytest.mark.req("CFG-4", "CFG-3")
def test_cfg4_factory_reset_repairs_a_corrupted_file(store: SettingsStore) -> None:
    store.path.write_bytes(b"garbage")
    store.factory_reset()
    assert store.load().settings == FACTORY


@pytest.mark.req("ERR-2")
def test_err2_initialize_writes_factory_defaults_only_for_a_new_device(
    store: SettingsStore,
) -> None:
    assert store.initialize() is True
    assert store.load().settings == FACTORY
    store.save(CUSTOM)
    assert store.initialize() is False
    assert store.load().settings == CUSTOM


@pytest.mark.req("ERR-2", "CFG-3")
def test_err2_initialize_never_hides_a_corrupted_file(store: SettingsStore) -> None:
    """ERR-2: a corrupted file stays corrupted so that the boot still raises E-B31."""
    damaged = flipped(encode_settings(CUSTOM), 50, 0x01)
    store.path.write_bytes(damaged)
    assert store.initialize() is False
    assert store.path.read_bytes() == damaged
    controller, result = boot_controller(store)
    assert result.status is StoreStatus.CORRUPTED
    assert Code.E_B31 in controller.step(Inputs(), 0.0).outputs.codes


# --- boot (ERR-2, CFG-3) -------------------------------------------------------------------------


@pytest.mark.req("ERR-2", "CFG-3")
def test_err2_boot_with_valid_settings_runs_them(store: SettingsStore) -> None:
    store.save(CUSTOM.changed(soft_switch_on=True))
    controller, result = boot_controller(store)
    assert result.status is StoreStatus.OK
    assert controller.settings == CUSTOM.changed(soft_switch_on=True)
    outputs = controller.step(Inputs(), 0.0).outputs
    assert outputs.codes == frozenset()
    assert not outputs.safe_state
    assert not controller.config_fault


def corrupt(store: SettingsStore) -> None:
    store.path.write_bytes(flipped(encode_settings(CUSTOM), 40, 0x04))


def missing(store: SettingsStore) -> None:
    assert not store.path.exists()


def truncated(store: SettingsStore) -> None:
    store.path.write_bytes(encode_settings(CUSTOM)[:-1])


def forged_out_of_range(store: SettingsStore) -> None:
    store.path.write_bytes(forge(canonical_body(charge_limit_v=20.0)))


@pytest.mark.req("ERR-2", "CFG-3")
@pytest.mark.parametrize("damage", [corrupt, missing, truncated, forged_out_of_range])
def test_err2_boot_on_missing_or_corrupted_settings_raises_e_b31_in_safe_state(
    store: SettingsStore, damage: Callable[[SettingsStore], None]
) -> None:
    """ERR-2/CFG-3: the first step after such a boot shows E-B31 and holds the safe state."""
    damage(store)
    controller, result = boot_controller(store)
    assert result.status is not StoreStatus.OK
    outputs = controller.step(Inputs(), 0.0).outputs
    assert Code.E_B31 in outputs.codes
    assert outputs.safe_state
    assert not outputs.ab_enabled
    assert not outputs.system_plus_charge_allowed
    assert not outputs.system_plus_discharge_allowed
    assert controller.settings == FACTORY


# --- the E-B31 recovery, store and controller together (ERR-2) -----------------------------------


def boot_corrupted(store: SettingsStore) -> Controller:
    corrupt(store)
    controller, _ = boot_controller(store)
    first = controller.step(Inputs(), 0.0).outputs
    assert Code.E_B31 in first.codes
    assert first.safe_state
    return controller


def unpowered(controller: Controller, start_s: float, duration_s: float) -> float:
    """Step without power every 10 s from `start_s` for `duration_s`; return the end time."""
    now_s = start_s
    while now_s < start_s + duration_s:
        assert controller.step(Inputs(powered=False), now_s).outputs.codes == frozenset()
        now_s += 10.0
    return start_s + duration_s


@pytest.mark.req("ERR-2", "CFG-4", "CFG-3")
@pytest.mark.parametrize(("off_s", "recovered"), [(180.0, True), (179.9, False), (900.0, True)])
def test_err2_factory_reset_then_three_minutes_unpowered_clears_e_b31(
    store: SettingsStore, off_s: float, recovered: bool
) -> None:
    """ERR-2: reset, save, then >= 180 s without power clears E-B31; 179.9 s does not."""
    controller = boot_corrupted(store)
    controller.factory_reset(pin="000000", now_s=10.0)
    store.save(controller.settings)
    assert Code.E_B31 in controller.step(Inputs(), 11.0).outputs.codes  # a reset alone: no
    t_s = 20.0
    end_s = unpowered(controller, t_s, off_s)
    outputs = controller.step(Inputs(), end_s).outputs
    assert (Code.E_B31 in outputs.codes) is not recovered
    assert outputs.safe_state is not recovered
    assert controller.config_fault is not recovered
    assert store.load() == LoadResult(StoreStatus.OK, FACTORY, "ok")
    rebooted, _ = boot_controller(store)
    assert Code.E_B31 not in rebooted.step(Inputs(), 0.0).outputs.codes


@pytest.mark.req("ERR-2")
def test_err2_power_off_before_the_factory_reset_does_not_clear_e_b31(
    store: SettingsStore,
) -> None:
    """ERR-2: the manual's order is reset first, then 3 minutes without power."""
    controller = boot_corrupted(store)
    end_s = unpowered(controller, 5.0, 400.0)
    assert Code.E_B31 in controller.step(Inputs(), end_s).outputs.codes
    controller.factory_reset(pin="000000", now_s=end_s + 1.0)
    store.save(controller.settings)
    assert Code.E_B31 in controller.step(Inputs(), end_s + 2.0).outputs.codes
    # ... and done in the right order, the same controller recovers.
    back_s = unpowered(controller, end_s + 3.0, 180.0)
    assert Code.E_B31 not in controller.step(Inputs(), back_s).outputs.codes


@pytest.mark.req("ERR-2")
def test_err2_two_short_outages_do_not_add_up_to_three_minutes(store: SettingsStore) -> None:
    controller = boot_corrupted(store)
    controller.factory_reset(pin="000000", now_s=1.0)
    store.save(controller.settings)
    first_s = unpowered(controller, 2.0, 100.0)
    assert Code.E_B31 in controller.step(Inputs(), first_s).outputs.codes
    second_s = unpowered(controller, first_s + 1.0, 100.0)
    assert Code.E_B31 in controller.step(Inputs(), second_s).outputs.codes
