"""The settings store against a real file system and a real crash (CFG-3).

CFG-3: "a write interrupted at any byte leaves either the old or the new settings, never a mix."
First the interruption is laid out by hand at every byte (what the directory holds after a crash
of our writer, and what a naive in-place writer would leave); then a real process that saves in a
tight loop is killed with SIGKILL at random moments and the file must always load whole. Then
several processes at once: writers racing each other (the last complete write wins, no temporary
file is lost or left), several writers killed at random moments, and a boot whose settings path
is a FIFO, which must come back with E-B31 instead of hanging the process.
"""

import contextlib
import json
import os
import pathlib
import random
import signal
import stat
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest

import smartbms
from smartbms.core import FuseType, PreAlarmMode, RemoteFunction, Settings
from smartbms.store import LoadResult, SettingsStore, StoreStatus, encode_settings

OLD = Settings(fuse_type=FuseType.MEGA_125A, charge_limit_v=14.25, pin="111111")
NEW = Settings(fuse_type=FuseType.MEGA_100A, charge_limit_v=13.75, pin="222222")
"""Same file length, different content: an in-place overwrite keeps every line intact."""

LONGER = Settings(
    fuse_type=FuseType.ATO_2X7_5A,
    prealarm_mode=PreAlarmMode.INTERMITTENT,
    remote_function=RemoteFunction.EVERYTHING,
    soft_switch_on=False,
    charge_limit_v=15.3,
    pin="987654",
)
"""A longer file than OLD, so a partial overwrite leaves OLD's tail behind."""

PAIRS = [(OLD, NEW), (OLD, LONGER), (LONGER, OLD)]
PAIR_IDS = ["same-length", "grows", "shrinks"]


def temp_files(directory: pathlib.Path) -> list[pathlib.Path]:
    return sorted(p for p in directory.iterdir() if p.name.endswith(".tmp"))


def child_env() -> dict[str, str]:
    """The environment for a child Python that imports this smartbms."""
    return {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(
            filter(
                None,
                [str(pathlib.Path(smartbms.__file__).parents[1]), os.environ.get("PYTHONPATH")],
            )
        ),
    }


@pytest.fixture
def store(tmp_path: pathlib.Path) -> SettingsStore:
    return SettingsStore(tmp_path / "settings.smartbms")


@pytest.mark.req("CFG-3")
@pytest.mark.parametrize(("old", "new"), PAIRS, ids=PAIR_IDS)
def test_cfg3_write_interrupted_at_every_byte_leaves_the_old_settings(
    store: SettingsStore, old: Settings, new: Settings
) -> None:
    """CFG-3: killed before the rename, with k of the new bytes written: the old settings load."""
    store.save(old)
    new_bytes = encode_settings(new)
    temp = store.path.parent / f".{store.path.name}.crashed.tmp"
    for k in range(len(new_bytes) + 1):
        temp.write_bytes(new_bytes[:k])
        assert store.load() == LoadResult(StoreStatus.OK, old, "ok"), k
    # The rename is the commit point: after it, the new settings load.
    temp.replace(store.path)
    assert store.load().settings == new
    # A later save cleans up whatever a crash left behind.
    temp.write_bytes(new_bytes[:10])
    store.save(old)
    assert store.load().settings == old
    assert temp_files(store.path.parent) == []


@pytest.mark.req("CFG-3")
@pytest.mark.parametrize(("old", "new"), PAIRS, ids=PAIR_IDS)
def test_cfg3_a_partially_overwritten_file_is_corrupted_never_a_mix(
    store: SettingsStore, old: Settings, new: Settings
) -> None:
    """CFG-3: what a non-atomic writer leaves (truncated, or new head on old tail) is detected."""
    old_bytes, new_bytes = encode_settings(old), encode_settings(new)
    for k in range(len(new_bytes) + 1):
        truncating_writer = new_bytes[:k]
        in_place_writer = new_bytes[:k] + old_bytes[k:]
        for data in (truncating_writer, in_place_writer):
            store.path.write_bytes(data)
            result = store.load()
            if data == old_bytes:
                assert result.settings == old, k
            elif data == new_bytes:
                assert result.settings == new, k
            else:
                assert result.status is StoreStatus.CORRUPTED, (k, data)
                assert result.settings is None


WRITER = """
import json, pathlib, sys
from smartbms.core import Settings
from smartbms.store import SettingsStore

store = SettingsStore(pathlib.Path(sys.argv[1]))
a = Settings.from_mapping(json.loads(sys.argv[2]))
b = Settings.from_mapping(json.loads(sys.argv[3]))
sys.stdout.write("ready\\n")
sys.stdout.flush()
while True:
    store.save(a)
    store.save(b)
"""
"""Saves A and B alternately, as fast as it can, until it is killed."""

KILL_ROUNDS = 15
KILL_DELAY_S = (0.002, 0.05)


@pytest.mark.req("CFG-3")
@pytest.mark.slow
@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs POSIX SIGKILL")
def test_cfg3_writer_killed_at_random_moments_leaves_whole_settings(
    store: SettingsStore,
) -> None:
    """CFG-3: SIGKILL a process that saves A/B in a loop; every time, A or B loads whole."""
    a, b = OLD, LONGER
    store.save(a)
    rng = random.Random(31)  # fixed seed: the same delays every run
    env = child_env()
    args = [json.dumps(a.to_mapping()), json.dumps(b.to_mapping())]
    started = time.monotonic()
    for round_number in range(KILL_ROUNDS):
        with subprocess.Popen(
            [sys.executable, "-c", WRITER, str(store.path), *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
        ) as writer:
            assert writer.stdout is not None
            ready = writer.stdout.readline()
            if ready != b"ready\n":
                writer.kill()
                _, err = writer.communicate(timeout=10)
                pytest.fail(f"the writer did not start: {err.decode(errors='replace')}")
            time.sleep(rng.uniform(*KILL_DELAY_S))
            os.kill(writer.pid, signal.SIGKILL)
            _, err = writer.communicate(timeout=10)
        assert writer.returncode == -signal.SIGKILL, err.decode(errors="replace")
        result = store.load()
        assert result.status is StoreStatus.OK, (round_number, result.detail)
        assert result.settings in (a, b), round_number
    assert time.monotonic() - started < 30.0
    # Whatever temp files the kills left are never read, and the next save removes them.
    store.save(a)
    assert store.load().settings == a
    assert temp_files(store.path.parent) == []


# --- several processes at once (CFG-3) -----------------------------------------------------------

RACER = """
import json, pathlib, sys
from smartbms.core import Settings
from smartbms.store import SettingsStore

store = SettingsStore(pathlib.Path(sys.argv[1]))
writer, saves, endless = int(sys.argv[2]), int(sys.argv[3]), sys.argv[4] == "endless"
base = Settings.from_mapping(json.loads(sys.argv[5]))
sys.stdout.write("ready\\n")
sys.stdout.flush()
sys.stdin.readline()  # all writers start together
while True:
    for number in range(saves):
        store.save(base.changed(pin=f"{writer}{number:05d}"))
    if not endless:
        break
"""
"""Writer `writer` saves its own settings `saves` times, numbered in the PIN (once, or forever)."""

RACERS = (OLD, NEW, LONGER, Settings.factory())
"""One base per writer, of three different file lengths, so a mix could not hide."""
SAVES_PER_RACER = 100


def numbered(writer: int, number: int) -> Settings:
    return RACERS[writer].changed(pin=f"{writer}{number:05d}")


def is_some_save(result: LoadResult) -> bool:
    """The file is exactly one complete save of one racer, never a blend of two."""
    if result.settings is None:
        return False
    pin = result.settings.pin
    writer, number = int(pin[0]), int(pin[1:])
    return writer < len(RACERS) and result.settings == numbered(writer, number)


@contextlib.contextmanager
def racing(
    path: pathlib.Path, saves: int, *, endless: bool
) -> Iterator[list[subprocess.Popen[bytes]]]:
    """Start one RACER per base, release them together once all are ready, kill leftovers."""
    racers: list[subprocess.Popen[bytes]] = []
    try:
        for writer, base in enumerate(RACERS):
            mode = "endless" if endless else "once"
            args = [str(path), str(writer), str(saves), mode, json.dumps(base.to_mapping())]
            racers.append(
                subprocess.Popen(
                    [sys.executable, "-c", RACER, *args],
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    env=child_env(),
                )
            )
        for racer in racers:
            assert racer.stdout is not None
            if racer.stdout.readline() != b"ready\n":
                racer.kill()
                _, err = racer.communicate(timeout=10)
                pytest.fail(f"a writer did not start: {err.decode(errors='replace')}")
        for racer in racers:
            assert racer.stdin is not None
            racer.stdin.write(b"go\n")
            racer.stdin.flush()
        yield racers
    finally:  # a failed assertion must not leave endless writers behind
        for racer in racers:
            if racer.poll() is None:
                racer.kill()
            racer.communicate(timeout=10)


@pytest.mark.req("CFG-3")
@pytest.mark.slow
def test_cfg3_concurrent_writer_processes_never_lose_or_mix_a_write(
    store: SettingsStore,
) -> None:
    """CFG-3: 4 processes save 100 numbered settings each; a reader checks the file meanwhile.

    Every read is one complete save; no writer fails (before the lock, one writer deleted another's
    temporary file and the rename failed); the file ends as some writer's last save, because the
    last complete write wins; and no temporary file is left.
    """
    store.save(numbered(0, 0))
    started = time.monotonic()
    reads = 0
    with racing(store.path, SAVES_PER_RACER, endless=False) as racers:
        while any(racer.poll() is None for racer in racers):
            result = store.load()
            assert is_some_save(result), result
            reads += 1
            assert time.monotonic() - started < 60.0
        for racer in racers:
            _, err = racer.communicate(timeout=10)
            assert racer.returncode == 0, err.decode(errors="replace")
    assert reads > 0
    last_saves = {numbered(w, SAVES_PER_RACER - 1) for w in range(len(RACERS))}
    assert store.load().settings in last_saves
    assert temp_files(store.path.parent) == []


@pytest.mark.req("CFG-3")
@pytest.mark.slow
@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs POSIX SIGKILL")
def test_cfg3_concurrent_writers_killed_at_random_moments_leave_one_whole_save(
    store: SettingsStore,
) -> None:
    """CFG-3: 4 endless writers, SIGKILLed one by one at random moments: always one whole save.

    A writer killed while holding the lock releases it by dying, so the others go on.
    """
    store.save(numbered(0, 0))
    rng = random.Random(311)  # fixed seed: the same delays every run
    started = time.monotonic()
    for round_number in range(KILL_ROUNDS // 3):
        with racing(store.path, 1000, endless=True) as racers:
            for racer in rng.sample(racers, len(racers)):
                time.sleep(rng.uniform(*KILL_DELAY_S))
                racer.kill()
                _, err = racer.communicate(timeout=10)
                assert racer.returncode == -signal.SIGKILL, err.decode(errors="replace")
                result = store.load()
                assert is_some_save(result), (round_number, result)
    assert time.monotonic() - started < 60.0
    store.save(OLD)
    assert store.load().settings == OLD
    assert temp_files(store.path.parent) == []


FIFO_BOOT = """
import pathlib, sys
from smartbms.core import Inputs
from smartbms.store import SettingsStore, boot_controller

controller, result = boot_controller(SettingsStore(pathlib.Path(sys.argv[1])))
codes = controller.step(Inputs(), 0.0).outputs.codes
print(result.status.value, sorted(code.name for code in codes), result.detail, sep="\\n")
"""

FIFO_BOOT_BOUND_S = 20.0
"""A Python start plus an import, on a loaded machine; a blocking open would never return."""


@pytest.mark.req("CFG-3", "ERR-2")
@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs POSIX FIFOs")
def test_cfg3_a_process_booting_on_a_fifo_gets_e_b31_and_does_not_hang(
    store: SettingsStore,
) -> None:
    """CFG-3/ERR-2: a FIFO at the settings path, no writer: the boot returns with E-B31."""
    os.mkfifo(store.path)
    with subprocess.Popen(
        [sys.executable, "-c", FIFO_BOOT, str(store.path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=child_env(),
    ) as boot:
        try:
            out, err = boot.communicate(timeout=FIFO_BOOT_BOUND_S)
        except subprocess.TimeoutExpired:
            boot.kill()
            boot.communicate(timeout=10)
            pytest.fail(f"the boot blocked on the FIFO for more than {FIFO_BOOT_BOUND_S} s")
    assert boot.returncode == 0, err.decode(errors="replace")
    status, codes, detail = out.decode().splitlines()
    assert status == StoreStatus.CORRUPTED.value
    assert "E_B31" in codes
    assert detail == f"unreadable: {store.path} is a FIFO (named pipe), not a regular file"
    assert stat.S_ISFIFO(store.path.stat().st_mode)
