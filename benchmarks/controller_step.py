"""How long one controller step takes with realistic, changing inputs (a figure, not a test).

Run: `.venv/bin/python benchmarks/controller_step.py`. Prints the median and spread of the
per-step time over several rounds of 10,000 steps of a charging system sampled at 100 ms.
"""

import statistics
import time

from smartbms.core import Controller, FuseType, Inputs, Settings

STEPS = 10_000
ROUNDS = 7


def _inputs() -> list[Inputs]:
    return [
        Inputs(
            ab_voltage_v=14.0 + 0.0001 * (i % 300),
            bank_voltage_v=13.3 + 0.00005 * (i % 500),
            alternator_fuse_drop_v=0.030 + 0.000001 * (i % 100),
            system_plus_current_a=-20.0 - 0.01 * (i % 50),
            internal_temperature_c=35.0,
        )
        for i in range(STEPS)
    ]


def main() -> None:
    """Measure and print the figure."""
    samples = _inputs()
    per_step_us: list[float] = []
    for round_index in range(ROUNDS):
        controller = Controller(Settings(fuse_type=FuseType.MEGA_100A))
        start = time.perf_counter()
        for i, inputs in enumerate(samples):
            controller.step(inputs, round_index * 10_000.0 + i * 0.1)
        per_step_us.append((time.perf_counter() - start) / STEPS * 1e6)
    median = statistics.median(per_step_us)
    print(
        f"controller step: median {median:.2f} us, min {min(per_step_us):.2f}, "
        f"max {max(per_step_us):.2f} ({ROUNDS} rounds of {STEPS} steps)"
    )


if __name__ == "__main__":
    main()
