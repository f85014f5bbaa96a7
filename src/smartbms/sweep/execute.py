"""Running a batch of variants (in a Dask worker, or in-process): each becomes one result row.

A variant runs as `smartbms simulate` would run it, without trace or report: a
`smartbms.sim.runner.Simulation` with no writer, its summary and verdicts read into figures. A
variant that fails (the scenario refuses the combination, the run raises) is a row with status
"failed" and the error in words; the batch goes on. Nothing here reads a clock into a row, so a
row is the same on any machine, in any order, with any number of workers.

A batch with a warm-up runs the group's first valid variant up to the warm-up time once, keeps
that twin's snapshot, its summary so far and its events, and runs each variant from there.
"""

import copy
import dataclasses
import time
import traceback
from typing import Any

from pydantic import ValidationError

from smartbms.core.events import Event
from smartbms.scenario import Scenario
from smartbms.scenario.base import _tuples
from smartbms.scenario.errors import _translate
from smartbms.scenario.locate import _Locator
from smartbms.sim.results import event_record
from smartbms.sim.runner import Simulation
from smartbms.sim.summary import Summary, SummaryBuilder
from smartbms.sim.verdicts import verdicts
from smartbms.sweep.figures import FigureValue, read_figures
from smartbms.sweep.plan import Batch, VariantSpec
from smartbms.twin import Twin, TwinSnapshot

Row = dict[str, Any]
"""One results row: variant_id, the parameters, the figures, status and error."""

_VERDICT_EVENTS = frozenset({"LoadDisconnected", "PreAlarmRaised", "PreAlarmCleared"})
"""The events the verdicts read (the rest stay out of the row's way)."""


class _VariantError(Exception):
    """A variant that cannot run, in one sentence."""


def validate(variant: VariantSpec) -> Scenario:
    """The variant's scenario; `_VariantError` with the scenario's own wording if refused."""
    try:
        return Scenario.model_validate(_tuples(variant.data))
    except ValidationError as exc:
        error = _translate(exc, _Locator(variant.text), variant.source, Scenario)
        raise _VariantError("; ".join(error.paragraphs())) from None


@dataclasses.dataclass(frozen=True, slots=True)
class BatchResult:
    """A batch's rows, and how long the worker spent on it (for the figures, not the rows)."""

    rows: list[Row]
    run_s: float


def run_batch(batch: Batch) -> BatchResult:
    """Run every variant of a batch; one row each, in the batch's order."""
    started = time.perf_counter()
    rows: dict[int, Row] = {}
    scenarios: dict[int, Scenario] = {}
    for variant in batch.variants:
        try:
            scenarios[variant.variant_id] = validate(variant)
        except _VariantError as error:
            rows[variant.variant_id] = failed_row(variant, str(error), batch.figures)
    warm = None
    if batch.warm_up_s is not None and len(scenarios) > 1:
        first = next(iter(scenarios.values()))
        warm = warm_up(first, batch.warm_up_s)
    for variant in batch.variants:
        scenario = scenarios.get(variant.variant_id)
        if scenario is None:
            continue
        try:
            summary, records = run_from(warm, scenario) if warm is not None else run_fresh(scenario)
        except Exception as error:  # a failing variant is a row; the sweep goes on
            text = f"{type(error).__name__}: {error}".strip().rstrip(":")
            detail = traceback.format_exception_only(error)[-1].strip()
            rows[variant.variant_id] = failed_row(variant, text or detail, batch.figures)
            continue
        figures = read_figures(batch.figures, summary, verdicts(summary, records))
        rows[variant.variant_id] = ok_row(variant, figures)
    return BatchResult([rows[v.variant_id] for v in batch.variants], time.perf_counter() - started)


def ok_row(variant: VariantSpec, figures: dict[str, FigureValue]) -> Row:
    """A finished variant's row."""
    return {
        "variant_id": variant.variant_id,
        **dict(variant.params),
        **figures,
        "status": "ok",
        "error": None,
    }


def failed_row(variant: VariantSpec, error: str, figures: tuple[str, ...]) -> Row:
    """A failed variant's row: its parameters, no figures, the error."""
    return {
        "variant_id": variant.variant_id,
        **dict(variant.params),
        **dict.fromkeys(figures),
        "status": "failed",
        "error": error,
    }


def _records(events: list[Event]) -> list[dict[str, object]]:
    return [event_record(e) for e in events if e.kind in _VERDICT_EVENTS]


def run_fresh(scenario: Scenario) -> tuple[Summary, list[dict[str, object]]]:
    """A whole run from t = 0, no trace or report: its summary and the verdicts' events."""
    result = Simulation(scenario).run()
    return result.summary, _records(result.events)


@dataclasses.dataclass(frozen=True, slots=True)
class WarmUp:
    """A twin run to the warm-up time: its snapshot, summary so far and events."""

    snapshot: TwinSnapshot
    builder: SummaryBuilder
    events: tuple[Event, ...]


def warm_up(scenario: Scenario, until_s: float) -> WarmUp:
    """Run `scenario` to `until_s` as `Simulation.run` would, and keep where it got to."""
    twin = Twin.from_scenario(scenario)
    section = scenario.scenario
    builder = SummaryBuilder(  # as Simulation.run makes it: a warm start must equal a fresh one
        section.name,
        scenario.duration_s,
        start_time_of_day_s=section.start_time_of_day_h * 3600.0,
        start_date=section.start_date,
    )
    stop = twin.observe_steps(builder.step)
    events = twin.advance_to(until_s)
    for event in events:
        builder.event(event)
    stop()
    return WarmUp(twin.snapshot(), builder, events)


def run_from(warm: WarmUp, scenario: Scenario) -> tuple[Summary, list[dict[str, object]]]:
    """Run a variant from the warm-up's snapshot to its end (the same result as a fresh run)."""
    started = time.perf_counter()
    twin = Twin.restore(dataclasses.replace(warm.snapshot, scenario=scenario))
    builder = copy.deepcopy(warm.builder)
    builder.duration_s = scenario.duration_s
    stop = twin.observe_steps(builder.step)
    end_s = scenario.duration_s
    events = list(warm.events)
    try:
        for event in twin.advance_to(end_s):
            events.append(event)
            builder.event(event)
    finally:
        stop()
    final = twin.state
    builder.step(end_s, 0.0, final)
    wall_s = time.perf_counter() - started
    summary = builder.build(final, steps=twin.steps, wall_time_s=wall_s)
    return summary, _records(events)
