"""The project's speed and memory figures in one run (figures next to their goals, not tests).

Run: `.venv/bin/python benchmarks/run.py [--runs N] [--quick]`. Prints a table, then one line of
JSON (the last line of stdout) with every figure. The exit status is 0 whatever the figures.

- fig1: the manual's Figure 1 weekend (48 h) with the default (adaptive) stepper, against real
  time and against the fixed 100 ms reference. The reference is measured on a 2 h slice (the
  whole weekend would take minutes); the fast stepper is also timed on that slice.
- drain: the residual-drain example (10 days) with the default stepper.
- step: one controller step alone with realistic inputs (`controller_step.py`).
- trace: rows per second written by `RunWriter.on_step`, CSV and Parquet (`trace_writer.py`).
- year: Figure 1's system over a year, its 48 h timeline repeated, with a 1 s Parquet trace, in
  a subprocess so that its peak RSS is the whole process's.
- report: the residual drain traced every 10 s over 10 and 100 days, simulated with its report
  by the command line in a child process each (`report_peak_rss_mb_10d`, `_100d`: the child's
  peak RSS; the report reads the trace in one streaming pass, so the two should be close), and
  `short_run_s`: the 10-minute System+ short example with its report, the whole process
  (start-up, imports, run, report) as a user waits for it.
- sweep: parallel efficiency of a Dask sweep with 1 and 2 workers on 100 Figure-1 variants, and
  the overhead the sweep adds per variant (`sweep_bench.py`; `--quick`: 8 variants of 6 h).
- stress: every scenario in `benchmarks/stress/` (issue 12: installations where switching meets
  a sagging voltage) once, with its steps and events per simulated hour and its wall time
  (`stress_<name>_steps_per_h`, `_events_per_h`, `_wall_s`; `stress_steps_per_h_max`).
"""

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import controller_step
import sweep_bench
import trace_writer

from smartbms.core.controller import Controller, StepResult
from smartbms.core.signals import Inputs, Outputs
from smartbms.plant.system import OperatingPoint, TwelveVoltSystem
from smartbms.scenario import Scenario, load_scenario
from smartbms.sim.runner import FixedStep, Simulation, Stepper
from smartbms.twin import TwinState

ROOT = Path(__file__).resolve().parents[1]
FIGURE_1 = ROOT / "examples" / "manual-figure-1.toml"
DRAIN = ROOT / "examples" / "residual-drain-200ah.toml"
SHORT = ROOT / "examples" / "system-plus-short.toml"
REPORT_DAYS = (10, 100)
REPORT_RESOLUTION_S = 10
STRESS = ROOT / "benchmarks" / "stress"
REFERENCE_DT_S = 0.1
YEAR_TIMEOUT_S = 3600.0
MAX_ZERO_STEPS = 10_000
"""A run that takes this many zero-length steps in a row is stuck (it would never end)."""

Figures = dict[str, float | int | str | None]


@dataclass(frozen=True)
class Options:
    """How much to measure."""

    runs: int = 1
    slice_h: float = 2.0
    step_rounds: int = controller_step.ROUNDS
    trace_rows: int = 2_000_000
    year_days: float = 365.0
    stress_h: float | None = None
    """Cut each stress scenario to this many hours (None: run it whole)."""
    sweep_variants: int = 100
    sweep_hours: float = 48.0


@dataclass(frozen=True)
class Goal:
    """A figure's goal: at least (or at most) `value`."""

    value: float
    at_least: bool
    unit: str

    def text(self) -> str:
        """The goal as the table shows it."""
        return f"{'>=' if self.at_least else '<='} {_number(self.value)}{self.unit}"


GOALS = {
    "fig1_x_realtime": Goal(100_000, at_least=True, unit=" x"),
    "fig1_x_vs_reference": Goal(50, at_least=True, unit=" x"),
    "drain_x_realtime": Goal(1_000_000, at_least=True, unit=" x"),
    "step_us_median": Goal(10, at_least=False, unit=" us"),
    "year_peak_rss_mb": Goal(250, at_least=False, unit=" MB"),
    "stress_steps_per_h_max": Goal(100, at_least=False, unit=""),
    "report_peak_rss_mb_100d": Goal(250, at_least=False, unit=" MB"),
    "short_run_s": Goal(1.0, at_least=False, unit=" s"),
    "sweep_parallel_efficiency": Goal(0.85, at_least=True, unit=""),
}

# --- in-process figures --------------------------------------------------------------------------


def with_duration(scenario: Scenario, duration_s: float) -> Scenario:
    """The same scenario, cut to `duration_s`."""
    section = scenario.scenario.model_copy(update={"duration_s": duration_s})
    return scenario.model_copy(update={"scenario": section})


def timed_run(scenario: Scenario, stepper: Stepper | None = None) -> tuple[float, int]:
    """Wall time (construction and run) and step count of one simulation."""
    start = time.perf_counter()
    result = Simulation(scenario, stepper=stepper).run()  # None: the default stepper
    return time.perf_counter() - start, result.steps


def work_per_step(scenario: Scenario) -> tuple[float, float]:
    """Network solves and controller steps per twin step, from a separate counted run."""
    counts = {"solve": 0, "step": 0}
    solve, step = TwelveVoltSystem.solve, Controller.step

    def counted_solve(self: TwelveVoltSystem, now_s: float, outputs: Outputs) -> OperatingPoint:
        counts["solve"] += 1
        return solve(self, now_s, outputs)

    def counted_step(self: Controller, inputs: Inputs, now_s: float) -> StepResult:
        counts["step"] += 1
        return step(self, inputs, now_s)

    TwelveVoltSystem.solve = counted_solve  # type: ignore[method-assign]
    Controller.step = counted_step  # type: ignore[method-assign]
    try:
        steps = Simulation(scenario).run().steps
    finally:
        TwelveVoltSystem.solve = solve  # type: ignore[method-assign]
        Controller.step = step  # type: ignore[method-assign]
    return counts["solve"] / steps, counts["step"] / steps


def measure_once(options: Options) -> Figures:
    """One round of every in-process figure."""
    figure_1 = load_scenario(FIGURE_1)
    fig1_wall, fig1_steps = timed_run(figure_1)
    cpu_start = time.process_time()
    Simulation(figure_1).run()
    fig1_cpu = time.process_time() - cpu_start
    fig1_solves, fig1_decisions = work_per_step(figure_1)
    piece = with_duration(figure_1, options.slice_h * 3600.0)
    reference_wall, reference_steps = timed_run(piece, FixedStep(REFERENCE_DT_S))
    slice_wall, slice_steps = timed_run(piece)
    drain = load_scenario(DRAIN)
    drain_wall, drain_steps = timed_run(drain)
    reference_rate = piece.duration_s / reference_wall
    step_us = controller_step.measure_step_us(rounds=options.step_rounds)
    csv_rate, _ = trace_writer.measure_rows_per_s("csv", options.trace_rows, 600)
    parquet_rate, _ = trace_writer.measure_rows_per_s("parquet", options.trace_rows, 600)
    return {
        "fig1_x_realtime": figure_1.duration_s / fig1_wall,
        "fig1_x_vs_reference": figure_1.duration_s / fig1_wall / reference_rate,
        "fig1_slice_x_vs_reference": piece.duration_s / slice_wall / reference_rate,
        "fig1_wall_s": fig1_wall,
        "fig1_steps": fig1_steps,
        "fig1_cpu_s": fig1_cpu,
        "fig1_solves_per_step": fig1_solves,
        "fig1_controller_steps_per_step": fig1_decisions,
        "reference_sim_s_per_wall_s": reference_rate,
        "reference_wall_s": reference_wall,
        "reference_steps": reference_steps,
        "slice_wall_s": slice_wall,
        "slice_steps": slice_steps,
        "drain_x_realtime": drain.duration_s / drain_wall,
        "drain_wall_s": drain_wall,
        "drain_steps": drain_steps,
        "step_us_median": statistics.median(step_us),
        "trace_csv_rows_per_s": csv_rate,
        "trace_parquet_rows_per_s": parquet_rate,
    }


def measure(options: Options, progress: Callable[[str], None]) -> Figures:
    """Every in-process figure: the median of `options.runs` rounds, with min and max if several."""
    rounds: list[Figures] = []
    for index in range(options.runs):
        progress(f"round {index + 1} of {options.runs}")
        rounds.append(measure_once(options))
    figures: Figures = {}
    for key in rounds[0]:
        values = [float(v) for r in rounds if isinstance(v := r[key], int | float)]
        integral = all(isinstance(r[key], int) for r in rounds)
        median = statistics.median(values)
        figures[key] = round(median) if integral else median
        if options.runs > 1:
            figures[f"{key}_min"] = min(values)
            figures[f"{key}_max"] = max(values)
    return figures


def stress_key(path: Path) -> str:
    """The JSON key stem of a stress scenario: `stress_<file name, _ for ->`."""
    return "stress_" + path.stem.replace("-", "_")


def measure_stress(options: Options, progress: Callable[[str], None]) -> Figures:
    """Each stress scenario once: steps and events per simulated hour, wall time."""
    figures: Figures = {}
    rates: list[float] = []
    for path in sorted(STRESS.glob("*.toml")):
        progress(f"stress: {path.stem}")
        scenario = load_scenario(path)
        if options.stress_h is not None:
            scenario = with_duration(scenario, min(scenario.duration_s, options.stress_h * 3600))
        start = time.perf_counter()
        result = Simulation(scenario).run()
        wall = time.perf_counter() - start
        hours = scenario.duration_s / 3600.0
        key = stress_key(path)
        figures[f"{key}_steps_per_h"] = result.steps / hours
        figures[f"{key}_events_per_h"] = len(result.events) / hours
        figures[f"{key}_wall_s"] = wall
        rates.append(result.steps / hours)
    figures["stress_steps_per_h_max"] = max(rates, default=None)
    return figures


# --- the year, in a subprocess -------------------------------------------------------------------


def year_scenario_text(days: float) -> str:
    """Figure 1's file with its 48 h timeline repeating over `days` days, traced every second."""
    text = FIGURE_1.read_text(encoding="utf-8")
    for old, new in (
        ("duration_h = 48\n", f"duration_d = {days!r}\ntimeline_period_h = 48\n"),
        ("trace_resolution_s = 30\n", "trace_resolution_s = 1\n"),
    ):
        if old not in text:
            msg = f"{FIGURE_1.name} no longer has the line {old.strip()!r}"
            raise ValueError(msg)
        text = text.replace(old, new, 1)
    return text


def year_child(out_dir: Path, days: float) -> Figures:
    """Run the year and write its trace as the CLI does (in the child process)."""
    from smartbms.scenario import ScenarioError, parse_scenario  # noqa: PLC0415
    from smartbms.sim.output import RunWriter  # noqa: PLC0415

    try:
        scenario = parse_scenario(year_scenario_text(days), f"{FIGURE_1.name}, {days:g} days")
    except ScenarioError as error:
        return {"year_error": f"the scenario is refused: {error}"}
    start = time.perf_counter()
    simulation = Simulation(scenario)
    writer = RunWriter(
        out_dir, scenario.battery_count, scenario.scenario.trace_resolution_s, "parquet"
    )
    zero_steps = 0

    def on_step(t: float, dt: float, state: TwinState) -> None:
        nonlocal zero_steps
        zero_steps = zero_steps + 1 if dt == 0.0 else 0
        if zero_steps > MAX_ZERO_STEPS:
            raise _StuckError(t)
        writer.on_step(t, dt, state)

    try:
        result = simulation.run(on_event=writer.on_event, on_step=on_step)
    except _StuckError as stuck:
        return {
            "year_error": f"the run is stuck at t = {stuck.t_s!r} s (day {stuck.t_s / 86400:.2f}):"
            f" over {MAX_ZERO_STEPS:,} zero-length steps in a row",
            "year_stuck_at_s": stuck.t_s,
            "year_wall_s": time.perf_counter() - start,
            "year_trace_rows": writer.trace.rows,
        }
    writer.finish(result)
    wall = time.perf_counter() - start
    return {
        "year_wall_s": wall,
        "year_x_realtime": scenario.duration_s / wall,
        "year_steps": result.steps,
        "year_events": len(result.events),
        "year_trace_rows": writer.trace.rows,
        "year_trace_mb": writer.trace_path.stat().st_size / 1e6,
        "year_trace_rows_per_wall_s": writer.trace.rows / wall,
    }


class _StuckError(Exception):
    """The run makes no progress: zero-length steps, one after the other."""

    def __init__(self, t_s: float) -> None:
        super().__init__(t_s)
        self.t_s = t_s


def measure_year(days: float, timeout_s: float = YEAR_TIMEOUT_S) -> Figures:
    """The year figures, from a child process; `year_peak_rss_mb` is the child's peak RSS.

    When the year cannot be run (the scenario refused, the run stuck or failed, too slow), the
    figure is None and `year_error` says why; the child's peak RSS until then is still given as
    `year_peak_rss_mb_until_error`.
    """
    figures: Figures = {"year_days": days, "year_peak_rss_mb": None}
    with tempfile.TemporaryDirectory(prefix="smartbms-year-") as tmp:
        command = [sys.executable, __file__, "--year-child", tmp, "--year-days", repr(days)]
        try:
            done = subprocess.run(  # noqa: S603  # this very script
                command, capture_output=True, text=True, check=False, timeout=timeout_s
            )
        except subprocess.TimeoutExpired:
            figures["year_error"] = f"the child took over {timeout_s:g} s and was stopped"
            return figures
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        figures["year_error"] = f"the child failed (exit {done.returncode}): {last}"
        figures["year_peak_rss_mb_until_error"] = peak_mb
        return figures
    child: Figures = json.loads(lines[-1])
    figures.update(child)
    if "year_error" in child:
        figures["year_peak_rss_mb_until_error"] = peak_mb
    else:
        figures["year_peak_rss_mb"] = peak_mb
    return figures


# --- the report's memory and a short run, each in a child process ------------------------------

_CLI = "import sys; from smartbms.cli import main; sys.exit(main(sys.argv[1:]))"


def drain_scenario_text(days: float, resolution_s: float = REPORT_RESOLUTION_S) -> str:
    """The residual-drain example over `days` days, traced every `resolution_s` (10 s)."""
    text = DRAIN.read_text(encoding="utf-8")
    for old, new in (
        ("duration_d = 10\n", f"duration_d = {days!r}\n"),
        ("trace_resolution_s = 600\n", f"trace_resolution_s = {resolution_s!r}\n"),
    ):
        if old not in text:
            msg = f"{DRAIN.name} no longer has the line {old.strip()!r}"
            raise ValueError(msg)
        text = text.replace(old, new, 1)
    return text


def run_child(command: Sequence[str]) -> tuple[int, float, float, str]:
    """Run a command; its exit status, wall time (s), own peak RSS (MB) and last stderr line."""
    start = time.perf_counter()
    child = subprocess.Popen(  # noqa: S603  # our own interpreter and CLI
        command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    assert child.stderr is not None  # noqa: S101  # a pipe was asked for
    errors = child.stderr.read()
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - start
    child.returncode = os.waitstatus_to_exitcode(status)
    child.stderr.close()
    last = (errors.strip().splitlines() or [""])[-1]
    return child.returncode, wall, usage.ru_maxrss / 1024, last


def measure_report(
    progress: Callable[[str], None],
    days: Sequence[int] = REPORT_DAYS,
    resolution_s: float = REPORT_RESOLUTION_S,
) -> Figures:
    """Peak RSS of simulate-with-report over each length, and the short example's whole run."""
    figures: Figures = {"report_resolution_s": resolution_s}
    with tempfile.TemporaryDirectory(prefix="smartbms-report-") as tmp:
        for length in days:
            progress(
                f"report memory: the drain over {length} days, traced every {resolution_s:g} s"
            )
            scenario = Path(tmp) / f"drain-{length}d.toml"
            scenario.write_text(drain_scenario_text(length, resolution_s), encoding="utf-8")
            out = Path(tmp) / f"out-{length}d"
            command = [sys.executable, "-c", _CLI, "simulate", str(scenario), "--out", str(out)]
            code, wall, peak, last = run_child(command)
            figures[f"report_peak_rss_mb_{length}d"] = peak if code == 0 else None
            figures[f"report_wall_s_{length}d"] = wall
            if code == 0:
                figures[f"report_html_mb_{length}d"] = (out / "report.html").stat().st_size / 1e6
            else:
                figures[f"report_error_{length}d"] = f"exit {code}: {last}"
        progress("the System+ short example with its report, whole process")
        out = Path(tmp) / "short"
        code, wall, _, last = run_child(
            [sys.executable, "-c", _CLI, "simulate", str(SHORT), "--out", str(out)]
        )
        figures["short_run_s"] = wall if code == 0 else None
        if code != 0:
            figures["short_run_error"] = f"exit {code}: {last}"
    small, large = (figures.get(f"report_peak_rss_mb_{d}d") for d in (days[0], days[-1]))
    if isinstance(small, float) and isinstance(large, float):
        figures["report_rss_growth"] = large / small
    return figures


# --- the table -----------------------------------------------------------------------------------

ROWS = (
    ("fig1_x_realtime", "Figure 1 (48 h), default stepper", " x real time"),
    ("fig1_x_vs_reference", "  vs the fixed 100 ms reference", " x"),
    ("fig1_slice_x_vs_reference", "  same, both on the slice", " x"),
    ("reference_sim_s_per_wall_s", "  reference on the slice", " sim s / s"),
    ("fig1_wall_s", "  wall time", " s"),
    ("fig1_steps", "  steps", ""),
    ("fig1_cpu_s", "  CPU time (a loaded machine's wall time lies)", " s"),
    ("fig1_solves_per_step", "  network solves per step", ""),
    ("fig1_controller_steps_per_step", "  controller steps per step", ""),
    ("drain_x_realtime", "Residual drain (10 days)", " x real time"),
    ("drain_wall_s", "  wall time", " s"),
    ("step_us_median", "Controller step, median", " us"),
    ("trace_csv_rows_per_s", "Trace writing, CSV", " rows/s"),
    ("trace_parquet_rows_per_s", "Trace writing, Parquet", " rows/s"),
    ("year_peak_rss_mb", "Year at 1 s, Parquet: peak RSS", " MB"),
    ("year_peak_rss_mb_until_error", "  peak RSS until it stopped", " MB"),
    ("year_stuck_at_s", "  stuck at", " s"),
    ("year_wall_s", "  wall time", " s"),
    ("year_trace_rows", "  trace rows", ""),
    ("year_trace_mb", "  trace file", " MB"),
    ("report_peak_rss_mb_10d", "Drain 10 d at 10 s + report: peak RSS", " MB"),
    ("report_peak_rss_mb_100d", "  100 d: peak RSS", " MB"),
    ("report_rss_growth", "  100 d / 10 d", " x"),
    ("report_wall_s_100d", "  100 d: wall time", " s"),
    ("report_html_mb_100d", "  100 d: report.html", " MB"),
    ("short_run_s", "System+ short + report, whole process", " s"),
    ("stress_steps_per_h_max", "Stress set: most steps per sim hour", ""),
    ("sweep_parallel_efficiency", "Sweep on Dask: 2 workers vs 1", ""),
    ("sweep_variant_overhead_ms", "  overhead per variant", " ms"),
    ("sweep_2_workers_wall_s", "  wall time, 2 workers", " s"),
)


def table(figures: Figures, runs: int) -> str:
    """The figures as a readable table, goals alongside."""
    lines = [f"{'figure':<36} {'value':>22}  {'goal':<16} {'spread' if runs > 1 else ''}"]
    lines.append("-" * len(lines[0]))
    for key, label, unit in ROWS:
        if key not in figures and key not in GOALS:
            continue
        value = figures.get(key)
        text = "n/a" if value is None else f"{_number(value)}{unit}"
        goal = GOALS[key].text() if key in GOALS else ""
        spread = ""
        if f"{key}_min" in figures:
            spread = f"{_number(figures[f'{key}_min'])} .. {_number(figures[f'{key}_max'])}"
        lines.append(f"{label:<36} {text:>22}  {goal:<16} {spread}".rstrip())
    if figures.get("year_error"):
        lines.append(f"year: {figures['year_error']}")
    stress = sorted(STRESS.glob("*.toml"))
    if any(f"{stress_key(p)}_steps_per_h" in figures for p in stress):
        lines.append(f"{'stress scenario':<36} {'steps/h':>10} {'events/h':>10} {'wall s':>8}")
        for path in stress:
            key = stress_key(path)
            if f"{key}_steps_per_h" not in figures:
                continue
            steps, events, wall = (
                _number(figures[f"{key}_{what}"])
                for what in ("steps_per_h", "events_per_h", "wall_s")
            )
            lines.append(f"  {path.stem:<34} {steps:>10} {events:>10} {wall:>8}")
    conditions = (
        f"({runs} run{'s' if runs > 1 else ''}; reference slice {figures['slice_h']:g} h, "
        f"year {figures['year_days']:g} days)"
    )
    lines.append(conditions)
    return "\n".join(lines)


def _number(value: float | int | str | None) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, str):
        return value
    if isinstance(value, int) or abs(value) >= 1000:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.3g}"


# --- main ----------------------------------------------------------------------------------------


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description="Measure smartbms's speed and memory figures.")
    parser.add_argument("--runs", type=int, default=1, help="rounds of the in-process figures")
    parser.add_argument("--quick", action="store_true", help="fewer, shorter rounds (smoke test)")
    parser.add_argument("--slice-h", type=float, default=None, help="reference slice (default 2)")
    parser.add_argument("--year-days", type=float, default=None, help="the year's length (365)")
    parser.add_argument("--trace-rows", type=int, default=None, help="rows per trace figure")
    parser.add_argument(
        "--year-timeout", type=float, default=YEAR_TIMEOUT_S, help="give the year up after (s)"
    )
    parser.add_argument("--year-child", type=Path, default=None, help=argparse.SUPPRESS)
    return parser


def options_from(args: argparse.Namespace) -> Options:
    """The measurement options from the command line (`--quick` sets shorter defaults)."""
    quick = Options(
        runs=1,
        slice_h=0.25,
        step_rounds=3,
        trace_rows=200_000,
        year_days=7.0,
        stress_h=1.0,
        sweep_variants=8,
        sweep_hours=6.0,
    )
    base = quick if args.quick else Options()
    return Options(
        runs=max(1, args.runs),
        slice_h=args.slice_h if args.slice_h is not None else base.slice_h,
        step_rounds=base.step_rounds,
        trace_rows=args.trace_rows if args.trace_rows is not None else base.trace_rows,
        year_days=args.year_days if args.year_days is not None else base.year_days,
        stress_h=base.stress_h,
        sweep_variants=base.sweep_variants,
        sweep_hours=base.sweep_hours,
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Measure, print the table and the JSON line; always 0."""
    args = _parser().parse_args(argv)
    if args.year_child is not None:
        days = args.year_days if args.year_days is not None else 365.0
        print(json.dumps(year_child(args.year_child, days)))
        return 0
    options = options_from(args)
    if options.year_days < 2 or options.slice_h <= 0:
        print("--year-days must be at least 2 (the timeline's period) and --slice-h above 0")
        return 2

    def progress(what: str) -> None:
        print(f"... {what}", file=sys.stderr, flush=True)

    figures = measure(options, progress)
    progress(f"the year ({options.year_days:g} days) in a subprocess")
    figures.update(measure_year(options.year_days, args.year_timeout))
    # --quick: the same lengths traced every 10 min (a smoke test, not the memory figure)
    figures.update(measure_report(progress, REPORT_DAYS, 600.0 if args.quick else 10.0))
    figures.update(measure_stress(options, progress))
    progress(f"sweep: {options.sweep_variants} variants on 1 and 2 Dask workers")
    figures.update(sweep_bench.measure_sweep(options.sweep_variants, options.sweep_hours))
    figures["slice_h"] = options.slice_h
    figures["runs"] = options.runs
    figures["quick"] = args.quick
    print(table(figures, options.runs))
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
