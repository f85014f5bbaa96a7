"""A run's files: events.jsonl, trace.csv (or .parquet), summary.json and report.html.

The trace is sampled at the scenario's resolution: a step longer than the resolution writes one
row per sample time, holding the values of the step's start (nothing changes faster than the
stepper allows in a quiet stretch), so memory and file size do not depend on the stepper.

A folder holds one run, never a mix. Before anything else `RunWriter` writes the marker
`INCOMPLETE.txt` and removes the result files of an earlier run (only those: a folder may hold
other things); summary.json and report.html are each written whole (a temporary file renamed
into place); the marker goes only when the run is complete. So a run killed hard leaves the
marker, the events and trace it wrote, and no summary or report that could pass for its own;
an interrupted run keeps its files, marked "interrupted", and the marker.
"""

import contextlib
import math
import os
import shutil
from collections.abc import Sequence
from pathlib import Path

from smartbms.core.events import Event
from smartbms.core.signals import Level
from smartbms.sim.results import EventWriter, TraceValue, TraceWriter
from smartbms.sim.runner import RunResult, codes_text
from smartbms.twin import TwinState

LED_COLUMNS = (
    "led_alternator_charging",
    "led_over_temperature",
    "led_bms_active",
    "led_bluetooth",
    "led_charge_disconnect",
    "led_load_disconnect",
    "led_system_plus_charging",
)
_LED_VALUE = {"off": 0, "on": 1, "blink": 2}
FLAG_COLUMNS = (
    "ab_enabled",
    "system_plus_charge_allowed",
    "system_plus_discharge_allowed",
    "load_disconnect_high",
    "charge_disconnect_high",
    "prealarm_high",
)
_INT_COLUMNS = frozenset({*FLAG_COLUMNS, *LED_COLUMNS})
CELLS_PER_BATTERY = 4
"""Every Lithium Battery 12,8V Smart has four cells in series: battery{n}_cell{1..4}_v."""
_SAMPLE_EPS_S = 1e-9


def columns_for(battery_count: int) -> tuple[str, ...]:
    """The trace's columns for a bank of `battery_count` batteries (per-battery ones repeat)."""
    columns = [
        "t_s",
        "bank_voltage_v",
        "cell_min_v",
        "cell_max_v",
        "bank_soc_pct",
        "bank_current_a",
    ]
    for index in range(1, battery_count + 1):
        columns += [
            f"battery{index}_soc_pct",
            f"battery{index}_current_a",
            f"battery{index}_cell_min_v",
            f"battery{index}_cell_max_v",
            f"battery{index}_temperature_c",
            *(f"battery{index}_cell{k}_v" for k in range(1, CELLS_PER_BATTERY + 1)),
        ]
    columns += [
        "ab_voltage_v",
        "ab_current_a",
        "ab_limit_a",
        "displayed_ab_current_a",
        "displayed_ab_pct",
        "alternator_current_a",
        "starter_soc_pct",
        "system_plus_voltage_v",
        "system_plus_current_a",
        "bank_devices_current_a",
        "bms_draw_a",
        "bms_temperature_c",
        "ambient_c",
        "solar_fraction",
        "charge_limit_v",
        *FLAG_COLUMNS,
        *LED_COLUMNS,
        "codes",
    ]
    return tuple(columns)


def trace_row(state: TwinState) -> list[TraceValue]:
    """One trace row for the twin's state at one instant."""
    batteries = state.batteries
    row: list[TraceValue] = [
        round(state.t_s, 6),
        state.bank_voltage_v,
        state.cell_min_v,
        state.cell_max_v,
        state.bank_soc_pct,
        state.bank_current_a,
    ]
    for battery in batteries:
        volts = battery.cell_voltages_v
        row += [battery.soc_pct, battery.current_a, min(volts), max(volts), battery.temperature_c]
        row += _cells(volts)
    readings, outputs = state.readings, state.outputs
    row += [
        state.ab_voltage_v,
        state.ab_current_a,
        state.ab_limit_a,
        _or_nan(readings.alternator_current_a),
        _or_nan(readings.alternator_current_pct),
        state.alternator.current_a if state.alternator is not None else 0.0,
        state.starter.soc_pct if state.starter is not None else math.nan,
        state.system_plus_voltage_v,
        state.system_plus_current_a,
        state.bank_devices_current_a,
        state.bms_draw_a,
        state.bms_temperature_c,
        state.ambient_c,
        state.solar_fraction,
        state.settings.charge_limit_v,
        int(outputs.ab_enabled),
        int(outputs.system_plus_charge_allowed),
        int(outputs.system_plus_discharge_allowed),
        int(outputs.load_disconnect is Level.HIGH),
        int(outputs.charge_disconnect is Level.HIGH),
        int(outputs.prealarm is Level.HIGH),
        *(_LED_VALUE[mode.value] for mode in outputs.leds.as_tuple()),
        codes_text(outputs.codes) if outputs.codes else "",
    ]
    return row


def _cells(volts: tuple[float, ...]) -> list[TraceValue]:
    """The cell voltages, exactly `CELLS_PER_BATTERY` of them (NaN for a missing one)."""
    cells: list[TraceValue] = list(volts[:CELLS_PER_BATTERY])
    return cells + [math.nan] * (CELLS_PER_BATTERY - len(cells))


def _or_nan(value: float | None) -> float:
    return math.nan if value is None else value


def trace_kinds(columns: Sequence[str]) -> tuple[str, ...]:
    """Each trace column's type for `TraceWriter`: flags and LEDs int, codes str, the rest float."""
    return tuple(
        "str" if name == "codes" else "int" if name in _INT_COLUMNS else "float" for name in columns
    )


def samples_in_step(next_sample: int, t: float, dt: float, resolution_s: float) -> range:
    """The sample indices k a step [t, t + dt) writes, none before `next_sample`.

    Sample k is at `k * resolution_s`; one less than 1 ns before a step boundary counts as on
    it, so the step that starts there writes it. (The samples the writer used to find by
    stepping k one at a time, found without the loop.)
    """
    stop = _first_sample_from(t + dt - _SAMPLE_EPS_S, resolution_s)
    first = max(next_sample, _first_sample_from(t - _SAMPLE_EPS_S, resolution_s))
    return range(first, max(first, stop))


def _first_sample_from(t: float, resolution_s: float) -> int:
    """The first sample index k >= 0 with `k * resolution_s >= t` (exactly, as floats compare)."""
    if t <= 0.0:
        return 0
    k = math.ceil(t / resolution_s)
    while k > 0 and (k - 1) * resolution_s >= t:
        k -= 1
    while k * resolution_s < t:
        k += 1
    return k


MARKER = "INCOMPLETE.txt"
"""Present while a run writes into its folder, and after a run that did not complete."""
RESULT_FILES = ("summary.json", "report.html", "events.jsonl", "trace.csv", "trace.parquet")
"""The files a run writes: removed from the folder before a new run starts writing."""
_MARKER_TEXT = (
    "A smartbms run is writing into this folder, or was stopped before it finished: the files "
    "here are not a complete run. ({why})\n"
)
_ROW_BYTES = 12
"""About this many bytes per value in a CSV trace row (Parquet: a fifth of it)."""
_SPARE_BYTES = 16 * 2**20


class OutputError(Exception):
    """The output folder cannot take a run: one sentence saying why (before anything runs)."""


def trace_bytes_estimate(
    duration_s: float, resolution_s: float, battery_count: int, trace_format: str
) -> int:
    """About how many bytes the trace of a run will take."""
    rows = duration_s / resolution_s + 1
    size = rows * len(columns_for(battery_count)) * _ROW_BYTES
    return int(size if trace_format == "csv" else size / 5)


def check_free_space(out_dir: Path, needed_bytes: int) -> None:
    """Refuse a run whose trace cannot fit on the disk (`OutputError`); unknown space passes."""
    try:
        usage = shutil.disk_usage(out_dir)
    except OSError:
        return
    free = usage.free
    if usage.total == 0:  # a pseudo file system (/proc): the folder check will say more
        return
    if free < needed_bytes + _SPARE_BYTES:
        msg = (
            f"not enough space for the results in {out_dir}: the trace needs about "
            f"{_mib(needed_bytes)}, the disk has {_mib(free)} free (a coarser "
            "trace_resolution_s, --trace-format parquet or a shorter duration needs less)"
        )
        raise OutputError(msg)


def _mib(size: float) -> str:
    return f"{size / 2**30:,.1f} GiB" if size >= 2**30 else f"{size / 2**20:,.1f} MiB"


def prepare_folder(out_dir: Path) -> None:
    """Make `out_dir` ready for a run: created, writable, marked incomplete, old results gone.

    Raises `OutputError` with one sentence when it cannot be used (a file there, no
    permission, a read-only or full disk).
    """
    if out_dir.exists() and not out_dir.is_dir():
        msg = f"cannot write results to {out_dir}: it is a file, not a folder"
        raise OutputError(msg)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        write_whole(out_dir / MARKER, _MARKER_TEXT.format(why="started"))
        for name in RESULT_FILES:
            with contextlib.suppress(FileNotFoundError):
                (out_dir / name).unlink()
    except OSError as error:
        msg = f"cannot write results to {out_dir}: {_reason(error)}"
        raise OutputError(msg) from None


def _reason(error: OSError) -> str:
    where = f" ({error.filename})" if error.filename else ""
    return f"{error.strerror or error}{where}"


def write_whole(path: Path, text: str) -> None:
    """Write `path` whole or not at all: a temporary sibling, flushed, renamed into place."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with temporary.open("w", encoding="utf-8") as file:
            file.write(text)
            file.flush()
            os.fsync(file.fileno())
        temporary.replace(path)
    except BaseException:
        with contextlib.suppress(OSError):
            temporary.unlink()
        raise


class RunWriter:
    """Streams a run into a folder; `finish` writes the summary (and the caller the report).

    The folder is prepared first (`prepare_folder`: `OutputError` if it cannot be used).
    `finish` removes the marker after a complete run unless `keep_marker` is set, for a caller
    that writes the report too and then calls `seal`.
    """

    def __init__(
        self, out_dir: Path, battery_count: int, resolution_s: float, trace_format: str
    ) -> None:
        prepare_folder(out_dir)
        self.out_dir = out_dir
        self.marker_path = out_dir / MARKER
        self.resolution_s = resolution_s
        suffix = "parquet" if trace_format == "parquet" else "csv"
        self.trace_path = out_dir / f"trace.{suffix}"
        self.events_path = out_dir / "events.jsonl"
        self.summary_path = out_dir / "summary.json"
        columns = columns_for(battery_count)
        self.trace = TraceWriter(self.trace_path, columns, trace_format, trace_kinds(columns))
        self.events = EventWriter(self.events_path)
        self._next_sample = 0

    def on_event(self, event: Event) -> None:
        """Log an event."""
        self.events.write(event)

    def on_step(self, t: float, dt: float, state: TwinState) -> None:
        """Write the sample rows that fall in [t, t + dt) (and the final row when dt is 0).

        Sample k is at `k * resolution_s`; each is written once, holding the step's start values.
        """
        if dt == 0.0:
            row = trace_row(state)
            self.trace.write(row)
            return
        samples = samples_in_step(self._next_sample, t, dt, self.resolution_s)
        self._next_sample = max(self._next_sample, samples.stop)
        if samples:
            row = trace_row(state)
            self.trace.write_held(row, samples.start, len(samples), self.resolution_s)

    def finish(self, result: RunResult, *, keep_marker: bool = False) -> None:
        """Close the streams and write summary.json (whole); unmark a complete run."""
        self.trace.close()
        self.events.close()
        write_whole(self.summary_path, result.summary.to_json() + "\n")
        if not keep_marker:
            self.seal(result)

    def seal(self, result: RunResult) -> None:
        """Mark the folder: complete (the marker goes) or interrupted (the marker says so)."""
        if result.summary.status == "complete":
            self.marker_path.unlink(missing_ok=True)
        else:
            why = (
                "The run was interrupted: summary.json and report.html describe the part that ran."
            )
            write_whole(self.marker_path, _MARKER_TEXT.format(why=why))

    def abort(self) -> None:
        """Close the streams after a failure, quietly: the marker stays."""
        for stream in (self.trace, self.events):
            with contextlib.suppress(OSError, ValueError):
                stream.close()
