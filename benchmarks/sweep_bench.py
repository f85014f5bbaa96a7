"""Sweep figures: parallel efficiency on Dask and the overhead a sweep adds to each variant.

Run: `.venv/bin/python benchmarks/sweep_bench.py [--variants N] [--hours H]`; prints one JSON
line. `benchmarks/run.py` calls `measure_sweep` for its `sweep_*` keys.

- The variants: the manual's Figure 1 weekend (48 h) with the first battery's state of charge
  stepped, so every variant is a different whole run (an installation axis: no warm-up is shared).
- serial: the same runs one after the other in this process (`execute.run_fresh`), no Dask.
- 1 and 2 workers: `run_sweep` on a `LocalCluster` of that many processes (started before the
  clock runs; its start-up is given apart), results written and compacted as the CLI does.
- `sweep_parallel_efficiency` = T(1 worker) / (2 x T(2 workers)); goal >= 0.85 on 2 cores.
- `sweep_variant_overhead_ms` = (T(1 worker) - time the worker spent running the variants) /
  variants: what the sweep machinery (pickling, scheduling, Parquet parts, compaction) adds per
  variant. Both times come from the same run, so a change of load between runs does not enter
  it; `sweep_serial_overhead_ms` compares with the serial run instead (noisier).
- `sweep_worker_utilisation` = time the workers spent running variants / (2 x T(2 workers)):
  how busy the two workers were (the scheduling tail and overhead make up the rest).

On a machine shared with other work these figures are noisy: the 2-worker run needs both cores.
"""

import argparse
import json
import logging
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from distributed import Client, LocalCluster

from smartbms.sweep import Sweep, load_sweep, run_sweep
from smartbms.sweep.execute import run_fresh, validate

ROOT = Path(__file__).resolve().parents[1]
FIGURE_1 = ROOT / "examples" / "manual-figure-1.toml"

Figures = dict[str, float | int | str | None]


def bench_sweep(folder: Path, variants: int, hours: float) -> Sweep:
    """`variants` Figure 1 runs of `hours` (48: the whole weekend), the SoC stepped."""
    base = FIGURE_1
    if hours != 48:
        text = FIGURE_1.read_text(encoding="utf-8")
        cut = text.replace("duration_h = 48\n", f"duration_h = {hours!r}\n", 1)
        entries = cut.split("\n[[timeline]]\n")
        kept = [entries[0]]
        for entry in entries[1:]:
            at = float(entry.split("at_h = ", 1)[1].split("\n", 1)[0])
            if at <= hours:
                kept.append(entry)
        base = folder / "figure-1-cut.toml"
        base.write_text("\n[[timeline]]\n".join(kept), encoding="utf-8")
    path = folder / "bench.toml"
    path.write_text(
        f'[sweep]\nname = "bench"\nscenario = "{base}"\n'
        f'[[axis]]\nfield = "battery[1].soc_pct"\n'
        f"range = {{ start = 40.0, stop = 60.0, count = {variants} }}\n",
        encoding="utf-8",
    )
    return load_sweep(path)


def timed_sweep(sweep: Sweep, folder: Path, workers: int) -> tuple[float, float, float]:
    """Cluster start-up, sweep wall time and the workers' run time with `workers` processes."""
    start = time.perf_counter()
    with (
        LocalCluster(  # type: ignore[no-untyped-call]
            n_workers=workers,
            threads_per_worker=1,
            processes=True,
            dashboard_address=":0",
            silence_logs=logging.CRITICAL,
        ) as cluster,
        Client(cluster) as client,  # type: ignore[no-untyped-call]
    ):
        client.wait_for_workers(workers)
        started = time.perf_counter()
        outcome = run_sweep(sweep, folder / f"out-{workers}", client=client)
        return started - start, time.perf_counter() - started, outcome.run_s


def timed_serial(sweep: Sweep) -> float:
    """The same variants one after the other in this process."""
    start = time.perf_counter()
    for variant_id in range(sweep.count):
        run_fresh(validate(sweep.variant(variant_id)))
    return time.perf_counter() - start


def measure_sweep(variants: int = 100, hours: float = 48.0) -> Figures:
    """Every sweep figure (see the module doc)."""
    with tempfile.TemporaryDirectory(prefix="smartbms-sweep-bench-") as tmp:
        folder = Path(tmp)
        sweep = bench_sweep(folder, variants, hours)
        serial = timed_serial(sweep)
        start_1, one, run_1 = timed_sweep(sweep, folder, 1)
        start_2, two, run_2 = timed_sweep(sweep, folder, 2)
    return {
        "sweep_variants": variants,
        "sweep_variant_hours": hours,
        "sweep_serial_wall_s": serial,
        "sweep_1_worker_wall_s": one,
        "sweep_2_workers_wall_s": two,
        "sweep_cluster_start_s": (start_1 + start_2) / 2,
        "sweep_parallel_efficiency": one / (2 * two),
        "sweep_variant_overhead_ms": (one - run_1) / variants * 1000.0,
        "sweep_serial_overhead_ms": (one - serial) / variants * 1000.0,
        "sweep_worker_utilisation": run_2 / (2 * two),
    }


def main(argv: Sequence[str] | None = None) -> int:
    """Measure and print one JSON line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--variants", type=int, default=100)
    parser.add_argument("--hours", type=float, default=48.0, help="Figure 1 cut to this long")
    args = parser.parse_args(argv)
    print(json.dumps(measure_sweep(args.variants, args.hours)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
