"""A batch run of one scenario: a thin loop over `Twin`, from t = 0 to the scenario's end.

The twin does the physics, the BMS and the stepping; a run only drives it to the end in chunks
(so events and progress reach the user while it runs; the chunking changes nothing, see
`smartbms.twin`) and hands each step's state to its recorders (trace, summary).
"""

import dataclasses
import time
from collections.abc import Callable

from smartbms import scenario as sc
from smartbms.core.codes import Code
from smartbms.core.events import Event
from smartbms.sim.summary import Status, Summary, SummaryBuilder
from smartbms.twin import AdaptiveStep, FixedStep, Stepper, Twin, TwinState

__all__ = ["AdaptiveStep", "FixedStep", "RunResult", "Simulation", "Stepper", "codes_text"]

CHUNKS = 512
"""A run advances the twin in this many chunks: the pace of progress and live event output."""

StepObserver = Callable[[float, float, TwinState], None]
"""Called once per step with its start, its length and the state at its start (and once at
the end with length 0)."""


@dataclasses.dataclass(slots=True)
class RunResult:
    """What a run produced (the trace goes to its writer, not here)."""

    events: list[Event]
    summary: Summary
    steps: int
    wall_s: float


class Simulation:
    """One run of one scenario."""

    def __init__(self, scenario: sc.Scenario, *, stepper: Stepper | None = None) -> None:
        self.scenario = scenario
        self.twin = Twin.from_scenario(scenario, stepper=stepper)
        self.stepper: Stepper = stepper or AdaptiveStep()

    def run(
        self,
        *,
        on_event: Callable[[Event], None] | None = None,
        on_step: StepObserver | None = None,
        on_progress: Callable[[float], None] | None = None,
    ) -> RunResult:
        """Run to the end; call the hooks as events, steps and progress happen.

        `on_step(t, dt, state)` sees the twin as it was at `t` (the step's start), once per step.
        Ctrl-C (KeyboardInterrupt) ends the run where it is: the result is what ran, its summary
        marked "interrupted".
        """
        started = time.perf_counter()
        twin = self.twin
        end_s = self.scenario.duration_s
        section = self.scenario.scenario
        summary = SummaryBuilder(
            section.name,
            end_s,
            start_time_of_day_s=section.start_time_of_day_h * 3600.0,
            start_date=section.start_date,
        )
        events: list[Event] = []

        def step(t: float, dt: float, state: TwinState) -> None:
            summary.step(t, dt, state)
            if on_step is not None:
                on_step(t, dt, state)

        stop = twin.observe_steps(step)
        status: Status = "complete"
        try:
            for k in range(1, CHUNKS + 1):
                for event in twin.advance_to(end_s * k / CHUNKS):
                    events.append(event)
                    summary.event(event)
                    if on_event is not None:
                        on_event(event)
                if on_progress is not None:
                    on_progress(k / CHUNKS)
        except KeyboardInterrupt:
            status = "interrupted"
        finally:
            stop()
        final = twin.state
        step(end_s if status == "complete" else final.t_s, 0.0, final)
        wall_s = time.perf_counter() - started
        return RunResult(
            events,
            summary.build(final, steps=twin.steps, wall_time_s=wall_s, status=status),
            twin.steps,
            wall_s,
        )


def codes_text(codes: frozenset[Code]) -> str:
    """Codes as one trace cell, in table order ("A-B11 W-B12")."""
    return " ".join(code.value for code in Code if code in codes)
