"""How long one controller step takes with realistic, changing inputs (a figure, not a test).

Run: `.venv/bin/python benchmarks/controller_step.py`. Prints the median and spread of the
per-step time over several rounds of 10,000 steps of a charging system sampled at 100 ms.
`benchmarks/run.py` reports the same figure through `measure_step_us`.
"""

import statistics
import time

from smartbms.core import Controller, FuseType, Inputs, Settings

STEPS = 10_000
ROUNDS = 7


def realistic_inputs(steps: int = STEPS) -> list[Inputs]:
    """A charging system's inputs, slowly changing from one 100 ms sample to the next."""
    return [
        Inputs(
            ab_voltage_v=14.0 + 0.0001 * (i % 300),
            bank_voltage_v=13.3 + 0.00005 * (i % 500),
            alternator_fuse_drop_v=0.030 + 0.000001 * (i % 100),
            system_plus_current_a=-20.0 - 0.01 * (i % 50),
            internal_temperature_c=35.0,
        )
        for i in range(steps)
    ]


def measure_step_us(rounds: int = ROUNDS, steps: int = STEPS) -> list[float]:
    """The mean time of one step in each of `rounds` rounds of `steps` steps, in microseconds."""
    samples = realistic_inputs(steps)
    per_step_us: list[float] = []
    for round_index in range(rounds):
        controller = Controller(Settings(fuse_type=FuseType.MEGA_100A))
        start = time.perf_counter()
        for i, inputs in enumerate(samples):
            controller.step(inputs, round_index * 10_000.0 + i * 0.1)
        per_step_us.append((time.perf_counter() - start) / steps * 1e6)
    return per_step_us


def main() -> None:
    """Measure and print the figure."""
    per_step_us = measure_step_us()
    median = statistics.median(per_step_us)
    print(
        f"controller step: median {median:.2f} us, min {min(per_step_us):.2f}, "
        f"max {max(per_step_us):.2f} ({ROUNDS} rounds of {STEPS} steps)"
    )


if __name__ == "__main__":
    main()
