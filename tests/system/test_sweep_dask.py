"""Sweeps on a real Dask `LocalCluster` of worker processes (as `smartbms sweep` runs them).

The cluster is started once for the module (two workers, one thread each). The variants are
the first hours of the manual's Figure 1 weekend (drive out, then camp), so each task takes a
fraction of a second.
"""

import os
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest
from distributed import Client, LocalCluster

from smartbms.sweep import Sweep, load_sweep, read_results, run_sweep

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
FIGURE_1 = ROOT / "examples" / "manual-figure-1.toml"
SWEEP = """[sweep]
name = "Figure 1, its first hours"
scenario = "{base}"
figures = ["lowest_bank_soc_pct", "final_bank_soc_pct", "energy_alternator_in_wh", "steps"]
batch_size = 2

[[axis]]
field = "scenario.duration_h"
values = [{hours}]

[[axis]]
field = "battery[1].soc_pct"
values = [20.0, 45.0, 70.0, 95.0]
"""


def make_sweep(tmp_path: Path, hours: str = "4.0, 6.0") -> Sweep:
    """Figure 1 up to its Friday evening (engine start at 0 h, stop at 3 h), swept."""
    text = FIGURE_1.read_text(encoding="utf-8")
    base = tmp_path / "figure-1-friday.toml"
    base.write_text(text[: text.index("# Friday evening")], encoding="utf-8")
    path = tmp_path / "sweep.toml"
    path.write_text(SWEEP.format(base=base, hours=hours), encoding="utf-8")
    return load_sweep(path)


@pytest.fixture(scope="module")
def client() -> Iterator[Client]:
    """Two worker processes, one thread each, like the default cluster on a 2-core machine."""
    cluster = LocalCluster(  # type: ignore[no-untyped-call]
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        dashboard_address=":0",  # None still binds 8787 (an HTTP server for health routes)
        silence_logs=50,
    )
    with cluster, Client(cluster) as dask_client:  # type: ignore[no-untyped-call]
        yield dask_client


def by_id(path: Path) -> list[dict[str, object]]:
    return sorted(read_results(path), key=lambda row: int(str(row["variant_id"])))


def test_two_workers_give_the_table_one_worker_gives(client: Client, tmp_path: Path) -> None:
    sweep = make_sweep(tmp_path)
    two = run_sweep(sweep, tmp_path / "two", client=client)
    assert two.workers == 2
    one = run_sweep(sweep, tmp_path / "one", workers=1)
    assert one.workers == 1
    rows = by_id(two.results_path)
    assert rows == by_id(one.results_path)
    assert [row["variant_id"] for row in rows] == list(range(8))
    assert all(row["status"] == "ok" for row in rows)


def test_a_failing_variant_is_a_row_and_the_sweep_goes_on(client: Client, tmp_path: Path) -> None:
    # 2.9 h ends before the engine stop at 3 h: the scenario refuses those variants (on the
    # worker, with the scenario's own message).
    sweep = make_sweep(tmp_path, hours="2.9, 3.5")
    outcome = run_sweep(sweep, tmp_path / "out", client=client)
    rows = by_id(outcome.results_path)
    failed = [row for row in rows if row["status"] == "failed"]
    assert [row["variant_id"] for row in failed] == [0, 1, 2, 3]
    assert all("after the end of the scenario" in str(row["error"]) for row in failed)
    assert all(row["status"] == "ok" for row in rows if row not in failed)
    assert outcome.failed == 4


def test_a_killed_worker_loses_no_variant_and_duplicates_none(
    client: Client, tmp_path: Path
) -> None:
    sweep = make_sweep(tmp_path, hours="3.5, 4.0, 4.5")
    pids = client.run(os.getpid)
    killed: list[int] = []
    written: list[int] = []

    def kill_a_busy_worker(rows: list[dict[str, object]]) -> None:
        written.extend(int(str(row["variant_id"])) for row in rows)
        if killed:
            return
        processing = client.processing()  # type: ignore[no-untyped-call]
        busy = [address for address, keys in processing.items() if keys]
        if busy:
            killed.append(pids[busy[0]])
            os.kill(pids[busy[0]], signal.SIGKILL)

    outcome = run_sweep(sweep, tmp_path / "out", client=client, on_batch=kill_a_busy_worker)
    assert killed, "no worker was busy after the first batch"
    assert sorted(written) == list(range(12))  # every batch written once
    rows = by_id(outcome.results_path)
    assert [row["variant_id"] for row in rows] == list(range(12))
    assert all(row["status"] == "ok" for row in rows)
    client.wait_for_workers(2, timeout=60)


def test_resume_after_an_interrupt(client: Client, tmp_path: Path) -> None:
    sweep = make_sweep(tmp_path)
    out = tmp_path / "out"

    def interrupt(_: list[dict[str, object]]) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_sweep(sweep, out, client=client, on_batch=interrupt)
    assert not (out / "results.parquet").exists()
    done = len(list((out / "parts").glob("part-*.parquet")))
    assert done == 1
    outcome = run_sweep(sweep, out, client=client)
    assert outcome.skipped == 2
    assert outcome.ran == 6
    assert [row["variant_id"] for row in by_id(outcome.results_path)] == list(range(8))
