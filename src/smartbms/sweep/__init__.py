"""Sweeps: many variants of one installation, run on Dask, collected into one table.

`load_sweep(path)` reads a sweep file (docs/sweep-format.md: a base scenario, axes over its
fields, the figures to collect) and checks every axis against the base scenario, with the
scenario's own error messages. `run_sweep(sweep, out_dir)` runs the variants on Dask distributed
(a local cluster of processes, or an existing cluster) into `out_dir/results.parquet`, resumable;
`write_sweep_report` draws the results as an HTML page. `compare_sweep(paths)` makes a sweep
over listed scenario files. Dask and pyarrow are imported only when a sweep runs.
"""

from smartbms.sweep.figures import DEFAULT_FIGURES, FIGURES, Figure
from smartbms.sweep.plan import Axis, Base, Batch, Sweep, VariantSpec, plan_batches
from smartbms.sweep.run import SweepOutcome, run_sweep
from smartbms.sweep.spec import compare_sweep, load_sweep
from smartbms.sweep.store import ResultStore, SweepStateError, read_results

__all__ = [
    "DEFAULT_FIGURES",
    "FIGURES",
    "Axis",
    "Base",
    "Batch",
    "Figure",
    "ResultStore",
    "Sweep",
    "SweepOutcome",
    "SweepStateError",
    "VariantSpec",
    "compare_sweep",
    "load_sweep",
    "plan_batches",
    "read_results",
    "run_sweep",
]
