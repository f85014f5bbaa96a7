"""Running a sweep on Dask distributed: batches as tasks, results streamed to Parquet parts.

By default a `LocalCluster` of worker processes, one thread each (the simulation is pure Python
and holds the GIL), as many as the machine has cores; with a scheduler address, an existing Dask
cluster (whose workers have smartbms installed) runs the same tasks. Variants are batched so each
task takes long enough to hide Dask's per-task overhead (about 1 ms, and more for pickling). Each
batch's rows are written as a part the moment it completes (`as_completed`), so an interrupted
sweep keeps every finished batch and a resume runs only the rest.

A worker that dies mid-task loses nothing: the scheduler runs its tasks again elsewhere, and a
task's rows are written once, when its future completes (and rows are keyed by variant ID when
compacted). A task that keeps killing workers ends as failed rows naming the cause.
`workers=0` runs the batches in this process, without Dask (for debugging and tests).
"""

import contextlib
import dataclasses
import logging
import os
import signal
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from smartbms.sweep.execute import BatchResult, Row, failed_row, run_batch
from smartbms.sweep.plan import Batch, Sweep, default_batch_size, plan_batches
from smartbms.sweep.store import ResultStore, read_results

if TYPE_CHECKING:
    from distributed import Client

Progress = Callable[[int, int], None]
"""Called with (variants done, variants in the sweep) at the start and after each batch."""
BatchDone = Callable[[list[Row]], None]
"""Called with each batch's rows once they are on disk."""


@dataclasses.dataclass(frozen=True, slots=True)
class SweepOutcome:
    """What a sweep run did."""

    results_path: Path
    total: int
    ran: int
    """Variants run now (the rest were done by an earlier, interrupted run)."""
    skipped: int
    failed: int
    """Failed rows in the results (this run's and earlier ones')."""
    run_s: float
    """Time the workers spent in batches, summed (wall_s x workers, less the overhead)."""
    wall_s: float
    workers: int
    batches: int


def run_sweep(
    sweep: Sweep,
    out_dir: Path,
    *,
    workers: int | None = None,
    scheduler: str | None = None,
    client: "Client | None" = None,
    batch_size: int | None = None,
    on_progress: Progress | None = None,
    on_batch: BatchDone | None = None,
) -> SweepOutcome:
    """Run every variant not yet on disk in `out_dir`, then compact the results.

    `client` (an existing Dask client) wins over `scheduler` (an address to connect to), which
    wins over `workers` (a new `LocalCluster` of that many processes; None: one per core; 0: no
    Dask, in this process). KeyboardInterrupt stops the sweep, keeping the finished batches.
    """
    started = time.perf_counter()
    store = ResultStore(out_dir, sweep)
    store.open()
    done = store.done_ids()
    todo = [i for i in range(sweep.count) if i not in done]
    progress = on_progress or (lambda _done, _total: None)
    progress(sweep.count - len(todo), sweep.count)
    count = 0
    run_s = 0.0
    own: list[Any] = []
    try:
        if todo and client is None and workers != 0:
            client = _connect(scheduler, workers, own)
        count = _worker_count(client)
        size = batch_size or sweep.batch_size or default_batch_size(len(todo), count)
        batches = plan_batches(sweep, todo, size)
        finished = sweep.count - len(todo)

        def write(result: BatchResult) -> None:
            nonlocal finished, run_s
            rows = result.rows
            store.write_part(rows)
            finished += len(rows)
            run_s += result.run_s
            if on_batch is not None:
                on_batch(rows)
            progress(finished, sweep.count)

        if client is None:
            for batch in batches:
                write(run_batch(batch))
        else:
            _run_on_dask(client, batches, sweep.digest, write)
    finally:
        for thing in reversed(own):
            thing.close()
    results = store.compact()
    failed = sum(1 for row in read_results(results) if row["status"] != "ok")
    return SweepOutcome(
        results,
        sweep.count,
        len(todo),
        sweep.count - len(todo),
        failed,
        run_s,
        time.perf_counter() - started,
        count,
        len(batches) if todo else 0,
    )


def _connect(scheduler: str | None, workers: int | None, own: list[Any]) -> "Client":
    """A client of the given scheduler, or of a new local cluster (added to `own` to close)."""
    from distributed import Client, LocalCluster  # noqa: PLC0415  # optional: the sweep extra

    if scheduler is not None:
        client = Client(scheduler)  # type: ignore[no-untyped-call]
        own.append(client)
        return client
    with _workers_ignore_ctrl_c():
        cluster = LocalCluster(  # type: ignore[no-untyped-call]
            n_workers=workers or os.cpu_count() or 1,
            threads_per_worker=1,
            processes=True,
            dashboard_address=":0",  # None still binds 8787 (an HTTP server for health routes)
            silence_logs=logging.CRITICAL,
        )
    own.append(cluster)
    client = Client(cluster)  # type: ignore[no-untyped-call]
    own.append(client)
    return client


@contextlib.contextmanager
def _workers_ignore_ctrl_c() -> Iterator[None]:
    """Start worker processes with Ctrl-C ignored (they inherit it): this process handles it.

    A terminal sends SIGINT to the whole process group; the workers would each print a
    traceback, while the sweep here stops, keeps its parts and closes the cluster anyway.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def _worker_count(client: "Client | None") -> int:
    if client is None:
        return 1
    return max(1, len(client.scheduler_info().get("workers", {})))


def _run_on_dask(
    client: "Client", batches: list[Batch], digest: str, write: Callable[[BatchResult], None]
) -> None:
    """Submit every batch, write each one's rows as it completes; cancel the rest on the way out."""
    from distributed import as_completed  # noqa: PLC0415

    token = uuid.uuid4().hex[:8]
    futures = {}
    for batch in batches:
        key = f"smartbms-sweep-{digest[:10]}-{token}-{batch.ids[0]}"
        futures[client.submit(run_batch, batch, key=key, retries=1)] = batch
    try:
        for future in as_completed(futures):  # type: ignore[no-untyped-call]
            batch = futures[future]
            try:
                result: BatchResult = future.result()
            except Exception as error:  # e.g. KilledWorker: the rows say so
                reason = f"{type(error).__name__}: {error}"
                rows = [failed_row(v, reason, batch.figures) for v in batch.variants]
                result = BatchResult(rows, 0.0)
            write(result)
            future.release()
    finally:
        pending = [f for f in futures if not f.done()]  # type: ignore[no-untyped-call]
        if pending:
            client.cancel(pending)  # type: ignore[no-untyped-call]
