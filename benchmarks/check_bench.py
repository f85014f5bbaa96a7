"""`check --simulate` speed: the whole battery CHK-S1 ... CHK-S6 for one design (issue 15).

Goal: under 10 s wall on a 2-core machine, all cores used. Run:
`.venv/bin/python benchmarks/check_bench.py [--runs N] [--workers N] [FILE ...]` (default: the
examples in examples/check/). Prints a table, then one line of JSON (the last line of stdout)
with `check_simulate_s` (the slowest design's median) and one `check_simulate_<name>_s` per
design. The exit status is 0 whatever the figures: this is a benchmark, not a test.
"""

import argparse
import json
import os
import statistics
import time
from collections.abc import Sequence
from pathlib import Path

from smartbms.check.simulate import simulate
from smartbms.scenario import load_scenario

ROOT = Path(__file__).resolve().parents[1]
GOAL_S = 10.0


def key(path: Path) -> str:
    """`check_simulate_good_van_s` for examples/check/good-van.toml."""
    return f"check_simulate_{path.stem.replace('-', '_')}_s"


def time_design(path: Path, runs: int, workers: int | None) -> float:
    """The median wall time of the whole battery (the warm-up included)."""
    scenario = load_scenario(path, design_only=True)
    walls = []
    for _ in range(runs):
        start = time.perf_counter()
        simulate(scenario, workers=workers)
        walls.append(time.perf_counter() - start)
    return statistics.median(walls)


def main(argv: Sequence[str] | None = None) -> int:
    """Time each design and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="*", type=Path)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--workers", type=int, default=None)
    args = parser.parse_args(argv)
    files = args.files or sorted((ROOT / "examples" / "check").glob("*.toml"))
    figures: dict[str, float | int] = {"check_cores": os.cpu_count() or 1}
    for path in files:
        figures[key(path)] = round(time_design(path, args.runs, args.workers), 3)
        print(f"{path.name:40} {figures[key(path)]:8.2f} s  (goal < {GOAL_S:g} s)")
    walls = [v for k, v in figures.items() if k.startswith("check_simulate_")]
    figures["check_simulate_s"] = max(walls, default=0.0)
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
