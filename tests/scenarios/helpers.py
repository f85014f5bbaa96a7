"""What the scenario tests share: where the examples are, cutting a run short, event identity."""

from pathlib import Path

from smartbms.core.events import Event
from smartbms.scenario import Scenario
from smartbms.sim.results import event_record

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
STRESS = Path(__file__).resolve().parents[2] / "benchmarks" / "stress"
"""The stress set (issue 12): installations where switching meets a sagging voltage."""
HOUR_S = 3600.0


def until(scenario: Scenario, end_s: float) -> Scenario:
    """The same scenario, ending at `end_s`."""
    section = scenario.scenario.model_copy(update={"duration_s": end_s})
    return scenario.model_copy(update={"scenario": section})


def identity(event: Event) -> dict[str, object]:
    """An event without its time and measured values: what must be the same in two runs."""
    record = event_record(event)
    return {k: v for k, v in record.items() if k != "t_s" and not isinstance(v, float)}
