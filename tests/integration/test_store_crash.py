"""The settings store against a real file system and a real crash (CFG-3).

CFG-3: "a write interrupted at any byte leaves either the old or the new settings, never a mix."
First the interruption is laid out by hand at every byte (what the directory holds after a crash
of our writer, and what a naive in-place writer would leave); then a real process that saves in a
tight loop is killed with SIGKILL at random moments and the file must always load whole.
"""

import json
import os
import pathlib
import random
import signal
import subprocess
import sys
import time

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
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(
            filter(
                None,
                [str(pathlib.Path(smartbms.__file__).parents[1]), os.environ.get("PYTHONPATH")],
            )
        ),
    }
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
