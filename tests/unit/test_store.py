"""The settings store: round trip, corruption detection, factory reset, E-B31 at boot and after.

CFG-3: settings survive power loss and any damage to the file is detected (checksum plus a
byte-exact re-serialization), reported as a state, never as an exception or as other settings.
CFG-4: factory reset restores every field. ERR-2: corrupted or missing settings boot into E-B31,
which clears only after a factory reset followed by at least 3 minutes without power. Faults of
the file system (CFG-3): whatever is not a regular file at the path (a FIFO must never block a
load), symlinks written through, permission denied, concurrent writers in one process.
"""

import contextlib
import errno
import fcntl
import hashlib
import json
import os
import pathlib
import re
import socket
import stat
import tempfile
import threading
import time
from collections.abc import Callable
from typing import TypeVar, cast

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
    SettingsPathError,
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


# --- only a regular file is settings: FIFO, directory, device, socket (CFG-3, ERR-2) -------------

BOUND_S = 5.0
"""What "at once" means here: generous for a loaded CI machine, short next to a hang."""

T = TypeVar("T")


def release_fifo(path: pathlib.Path) -> None:
    """Unblock whoever is stuck opening the FIFO at `path` (a regression), so the test can end."""
    for flags in (os.O_RDONLY | os.O_NONBLOCK, os.O_WRONLY | os.O_NONBLOCK):
        with contextlib.suppress(OSError):
            os.close(os.open(path, flags))


def bounded(action: Callable[[], T], fifo: pathlib.Path | None = None) -> T:
    """Run `action` in a thread; fail the test (not hang it) if it takes longer than BOUND_S."""
    outcome: list[tuple[T | None, BaseException | None]] = []

    def run() -> None:
        try:
            outcome.append((action(), None))
        except BaseException as error:  # handed to the test thread below
            outcome.append((None, error))

    thread = threading.Thread(target=run, daemon=True)
    started = time.monotonic()
    thread.start()
    thread.join(BOUND_S)
    if thread.is_alive():
        if fifo is not None:
            release_fifo(fifo)
        thread.join(BOUND_S)
        pytest.fail(f"blocked for more than {BOUND_S} s")
    assert time.monotonic() - started < BOUND_S
    value, error = outcome[0]
    if error is not None:
        raise error
    return cast(T, value)


def make_directory(path: pathlib.Path) -> None:
    path.mkdir()


def make_fifo(path: pathlib.Path) -> None:
    os.mkfifo(path)


def make_socket(path: pathlib.Path) -> None:
    with contextlib.chdir(path.parent), socket.socket(socket.AF_UNIX) as listener:
        listener.bind(path.name)  # relative: a pytest tmp_path can be too long for sun_path


def make_device(path: pathlib.Path) -> None:
    """A character device node like /dev/null (major 1, minor 3); needs CAP_MKNOD."""
    try:
        os.mknod(path, stat.S_IFCHR | 0o600, os.makedev(1, 3))
    except PermissionError:
        pytest.skip("creating a device node needs CAP_MKNOD")


def make_link_to_fifo(path: pathlib.Path) -> None:
    os.mkfifo(path.with_name("pipe"))
    path.symlink_to("pipe")


NON_REGULAR = [
    (make_fifo, "a FIFO (named pipe)"),
    (make_directory, "a directory"),
    (make_device, "a character device"),
    (make_socket, "a socket"),
    (make_link_to_fifo, "a FIFO (named pipe)"),
]
NON_REGULAR_IDS = ["fifo", "directory", "device", "socket", "link-to-fifo"]


@pytest.mark.req("CFG-3", "ERR-2")
@pytest.mark.parametrize(("make", "kind"), NON_REGULAR, ids=NON_REGULAR_IDS)
def test_cfg3_a_non_regular_file_at_the_path_loads_as_corrupted_at_once(
    store: SettingsStore, make: Callable[[pathlib.Path], None], kind: str
) -> None:
    """CFG-3: never a blocked read; a detail naming the path and what is there; E-B31 at boot."""
    make(store.path)
    result = bounded(store.load, fifo=store.path)
    assert_corrupted(result)
    assert result.detail == f"unreadable: {store.path} is {kind}, not a regular file"
    controller, booted = bounded(lambda: boot_controller(store), fifo=store.path)
    assert booted == result
    assert Code.E_B31 in controller.step(Inputs(), 0.0).outputs.codes


@pytest.mark.req("CFG-3")
@pytest.mark.parametrize(("make", "kind"), NON_REGULAR, ids=NON_REGULAR_IDS)
def test_cfg3_save_refuses_a_non_regular_file_and_leaves_it_alone(
    store: SettingsStore, make: Callable[[pathlib.Path], None], kind: str
) -> None:
    """CFG-3: nothing is written over it or into it, nothing is left behind, and nothing blocks."""
    make(store.path)
    before = store.path.stat()
    for action in (lambda: store.save(CUSTOM), store.factory_reset):
        with pytest.raises(
            SettingsPathError, match=f"{re.escape(str(store.path))}.* is {re.escape(kind)}"
        ):
            bounded(action, fifo=store.path)
    after = store.path.stat()
    assert (after.st_mode, after.st_ino, after.st_size) == (
        before.st_mode,
        before.st_ino,
        before.st_size,
    )
    assert bounded(store.initialize, fifo=store.path) is False
    assert temp_files(store.path.parent) == []


@pytest.mark.req("CFG-3")
def test_cfg3_a_fifo_swapped_in_after_the_type_check_does_not_block_the_load(
    store: SettingsStore, tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """CFG-3: the race. The first check sees a regular file, the open finds a FIFO: O_NONBLOCK
    keeps the open from waiting for a writer, and fstat on the descriptor refuses it."""
    make_fifo(store.path)
    decoy = tmp_path / "regular"
    decoy.write_bytes(encode_settings(CUSTOM))
    real_stat = pathlib.Path.stat

    def stat_before_the_swap(self: pathlib.Path, *, follow_symlinks: bool = True) -> os.stat_result:
        chosen = decoy if self == store.path else self
        return real_stat(chosen, follow_symlinks=follow_symlinks)

    monkeypatch.setattr(pathlib.Path, "stat", stat_before_the_swap)
    result = bounded(store.load, fifo=store.path)
    assert_corrupted(result)
    assert result.detail == f"unreadable: {store.path} is a FIFO (named pipe), not a regular file"


@pytest.mark.req("CFG-3")
def test_cfg3_dev_null_is_not_empty_settings() -> None:
    """CFG-3: a real device node, read only: refused by type before it is opened."""
    if not stat.S_ISCHR(pathlib.Path("/dev/null").stat().st_mode):
        pytest.skip("no /dev/null character device here")
    result = bounded(SettingsStore(pathlib.Path("/dev/null")).load)
    assert_corrupted(result)
    assert result.detail == "unreadable: /dev/null is a character device, not a regular file"


# --- symlinks: written through to their target (CFG-3) -------------------------------------------


@pytest.mark.req("CFG-3")
def test_cfg3_save_through_a_symlink_writes_its_target_and_keeps_the_link(
    tmp_path: pathlib.Path,
) -> None:
    """CFG-3: the link stays as written (relative); temp and lock files live by the target."""
    (tmp_path / "disk").mkdir()
    target = tmp_path / "disk" / "settings.real"
    link = tmp_path / "settings.smartbms"
    link.symlink_to(pathlib.Path("disk") / "settings.real")
    store = SettingsStore(link)
    for value in (CUSTOM, FACTORY, CUSTOM):
        store.save(value)
        assert link.is_symlink()
        assert link.readlink() == pathlib.Path("disk") / "settings.real"
        assert target.read_bytes() == encode_settings(value)
        assert store.load() == LoadResult(StoreStatus.OK, value, "ok")
        assert SettingsStore(target).load().settings == value
    assert sorted(p.name for p in tmp_path.iterdir()) == ["disk", "settings.smartbms"]
    assert sorted(p.name for p in target.parent.iterdir()) == [
        ".settings.real.lock",
        "settings.real",
    ]


@pytest.mark.req("CFG-3")
def test_cfg3_a_chain_of_links_is_followed_to_the_end(tmp_path: pathlib.Path) -> None:
    target = tmp_path / "settings.real"
    target.write_bytes(encode_settings(FACTORY))
    (tmp_path / "middle").symlink_to(target)
    (tmp_path / "settings.smartbms").symlink_to(tmp_path / "middle")
    store = SettingsStore(tmp_path / "settings.smartbms")
    store.save(CUSTOM)
    assert (tmp_path / "middle").is_symlink()
    assert store.path.is_symlink()
    assert SettingsStore(target).load().settings == CUSTOM


@pytest.mark.req("CFG-3", "ERR-2")
def test_cfg3_a_dangling_link_is_missing_and_initialize_creates_its_target(
    tmp_path: pathlib.Path,
) -> None:
    link = tmp_path / "settings.smartbms"
    link.symlink_to("settings.real")
    store = SettingsStore(link)
    assert store.load().status is StoreStatus.MISSING
    assert store.initialize() is True
    assert link.is_symlink()
    assert SettingsStore(tmp_path / "settings.real").load().settings == FACTORY


@pytest.mark.req("CFG-3")
def test_cfg3_a_symlink_loop_is_a_clear_error(tmp_path: pathlib.Path) -> None:
    """CFG-3: a loop is unreadable data on load and an error naming the path on save."""
    link = tmp_path / "settings.smartbms"
    link.symlink_to("other")
    (tmp_path / "other").symlink_to("settings.smartbms")
    store = SettingsStore(link)
    result = store.load()
    assert_corrupted(result)
    assert result.detail.startswith(f"unreadable: {link}: ")
    with pytest.raises(OSError, match=re.escape(str(link))):
        store.save(CUSTOM)
    assert link.is_symlink()


# --- permissions, modes, fsync order (CFG-3) -----------------------------------------------------

needs_non_root = pytest.mark.skipif(
    os.name != "posix" or os.geteuid() == 0, reason="root is not refused by file permissions"
)


@pytest.mark.req("CFG-3", "ERR-2")
@needs_non_root
def test_cfg3_an_unreadable_file_is_corrupted_with_permission_denied(
    store: SettingsStore,
) -> None:
    store.save(CUSTOM)
    store.path.chmod(0)
    result = store.load()
    assert_corrupted(result)
    assert result.detail == f"unreadable: {store.path}: Permission denied"


@pytest.mark.req("CFG-3", "ERR-2")
def test_cfg3_permission_denied_on_open_is_corrupted_naming_the_path(
    store: SettingsStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """CFG-3: the same as the test above, for a test run as root: the refusal is injected."""
    store.save(CUSTOM)

    def refuse(path: object, flags: int, mode: int = 0o777) -> int:
        raise PermissionError(errno.EACCES, "Permission denied", str(path))

    monkeypatch.setattr(os, "open", refuse)
    result = store.load()
    monkeypatch.undo()
    assert_corrupted(result)
    assert result.detail == f"unreadable: {store.path}: Permission denied"


@pytest.mark.req("CFG-3")
@needs_non_root
def test_cfg3_save_into_a_read_only_directory_names_the_settings(
    store: SettingsStore,
) -> None:
    store.save(CUSTOM)
    store.path.parent.chmod(0o500)
    try:
        with pytest.raises(PermissionError, match=re.escape(str(store.path))):
            store.save(FACTORY)
    finally:
        store.path.parent.chmod(0o700)
    assert store.load().settings == CUSTOM
    assert temp_files(store.path.parent) == []


@pytest.mark.req("CFG-3")
def test_cfg3_permission_denied_on_save_names_the_settings_and_keeps_the_old_file(
    store: SettingsStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """CFG-3: one clear error: the errno's class, the settings path and what was refused."""
    store.save(CUSTOM)
    temp = store.path.parent / f".{store.path.name}.x.tmp"

    def refuse(**_: object) -> tuple[int, str]:
        raise PermissionError(errno.EACCES, "Permission denied", str(temp))

    monkeypatch.setattr(tempfile, "mkstemp", refuse)
    with pytest.raises(PermissionError) as raised:
        store.save(FACTORY)
    monkeypatch.undo()
    assert raised.value.errno == errno.EACCES
    assert raised.value.filename == str(store.path)
    assert str(raised.value) == (
        f"[Errno 13] cannot save the settings: Permission denied ({temp}): '{store.path}'"
    )
    assert store.load().settings == CUSTOM
    assert temp_files(store.path.parent) == []


@pytest.mark.req("CFG-3")
def test_cfg3_save_keeps_the_permission_bits_of_the_file(store: SettingsStore) -> None:
    store.save(FACTORY)
    assert stat.S_IMODE(store.path.stat().st_mode) == 0o600  # a new file: private
    store.path.chmod(0o640)
    store.save(CUSTOM)
    assert stat.S_IMODE(store.path.stat().st_mode) == 0o640


@pytest.mark.req("CFG-3")
def test_cfg3_save_fsyncs_the_file_then_renames_then_fsyncs_the_directory(
    store: SettingsStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """CFG-3: the data is on disk before the rename makes it current, the rename after it."""
    steps: list[str] = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(fd: int) -> None:
        steps.append("fsync directory" if stat.S_ISDIR(os.fstat(fd).st_mode) else "fsync file")
        real_fsync(fd)

    def replace(source: str, target: str) -> None:
        steps.append("rename")
        real_replace(source, target)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "replace", replace)
    store.save(CUSTOM)
    monkeypatch.undo()
    assert steps == ["fsync file", "rename", "fsync directory"]
    assert store.load().settings == CUSTOM


# --- concurrent writers: a lock, unique temporary files (CFG-3) ----------------------------------


@pytest.mark.req("CFG-3")
def test_cfg3_a_save_waits_while_another_writer_holds_the_lock(store: SettingsStore) -> None:
    """CFG-3: writers serialize on an flock of ``.<name>.lock`` beside the settings."""
    store.save(FACTORY)
    lock_path = store.path.parent / f".{store.path.name}.lock"
    with lock_path.open("rb") as held:
        fcntl.flock(held.fileno(), fcntl.LOCK_EX)
        writer = threading.Thread(target=store.save, args=(CUSTOM,), daemon=True)
        writer.start()
        writer.join(0.3)
        assert writer.is_alive()
        assert store.load().settings == FACTORY
        assert temp_files(store.path.parent) == []  # it waits before making its temp file
    writer.join(BOUND_S)
    assert not writer.is_alive()
    assert store.load().settings == CUSTOM


WRITER_THREADS = 4
SAVES_PER_THREAD = 25


def numbered(writer: int, number: int) -> Settings:
    """Writer `writer`'s save number `number`: the PIN says whose and which."""
    base = (
        FACTORY,
        CUSTOM,
        CUSTOM.changed(charge_limit_v=15.3),
        FACTORY.changed(fuse_type=FuseType.MEGA_100A),
    )
    return base[writer % len(base)].changed(pin=f"{writer}{number:05d}")


@pytest.mark.req("CFG-3")
def test_cfg3_concurrent_writer_threads_never_lose_or_mix_a_write(store: SettingsStore) -> None:
    """CFG-3: several stores on one file in one process; the file ends as someone's last save."""
    store.save(FACTORY)
    errors: list[BaseException] = []
    start = threading.Barrier(WRITER_THREADS)

    def write(writer: int) -> None:
        own = SettingsStore(store.path)
        start.wait()
        try:
            for number in range(SAVES_PER_THREAD):
                own.save(numbered(writer, number))
        except BaseException as error:  # reported below
            errors.append(error)

    threads = [threading.Thread(target=write, args=(w,)) for w in range(WRITER_THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60.0)
    assert errors == []
    last_saves = {numbered(w, SAVES_PER_THREAD - 1) for w in range(WRITER_THREADS)}
    assert store.load().settings in last_saves
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
