"""A run's files: events.jsonl, trace.csv (or .parquet), summary.json and report.html.

The trace is sampled at the scenario's resolution: a step longer than the resolution writes one
row per sample time, holding the values of the step's start (nothing changes faster than the
stepper allows in a quiet stretch), so memory and file size do not depend on the stepper.
"""

import math
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


class RunWriter:
    """Streams a run into a folder; `finish` writes the summary (and the caller the report)."""

    def __init__(
        self, out_dir: Path, battery_count: int, resolution_s: float, trace_format: str
    ) -> None:
        out_dir.mkdir(parents=True, exist_ok=True)
        self.out_dir = out_dir
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

    def finish(self, result: RunResult) -> None:
        """Close the streams and write summary.json."""
        self.trace.close()
        self.events.close()
        self.summary_path.write_text(result.summary.to_json() + "\n", encoding="utf-8")
