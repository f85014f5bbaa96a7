"""Temporary: feeds `SummaryBuilder` from the plant while the runner is not yet a loop over Twin.

Delete this module once the runner steps a `Twin` and hands `SummaryBuilder.step` its
`TwinState`. Until then it reads the same quantities from the plant that the twin's state will
carry, so summary.json already has its final schema and the builder's bookkeeping is shared.
"""

import dataclasses
from typing import Any

from smartbms import scenario as sc
from smartbms.core.events import Event
from smartbms.core.signals import Outputs, Readings
from smartbms.plant.system import OperatingPoint, TwelveVoltSystem
from smartbms.sim.summary import BatterySummary, EnergySummary, SummaryBuilder
from smartbms.twin.state import EnergyState


class PlantSummaryBuilder:
    """The runner's old summary interface, on top of `SummaryBuilder`."""

    def __init__(self, scenario: sc.Scenario, system: TwelveVoltSystem) -> None:
        self.system = system
        self.builder = SummaryBuilder(scenario.scenario.name, scenario.duration_s)

    def step(
        self,
        t: float,
        dt: float,
        op: OperatingPoint,
        outputs: Outputs,  # noqa: ARG002  # same signature as every step observer
        readings: Readings,
    ) -> None:
        """Take in one step (its state at the start, held for dt)."""
        system = self.system
        for index, (battery, current) in enumerate(
            zip(system.batteries, op.battery_currents_a, strict=True)
        ):
            volts = battery.cell_voltages_v(current)
            self.builder._battery(t, index + 1, volts, battery.temperature_c)
        bms_c = system.bms_thermal.temperature_c
        self.builder._bank(dt, self._bank_soc_pct(), bms_c, op.ab_current_a, readings)

    def event(self, event: Event) -> None:
        """Take in one event."""
        self.builder.event(event)

    def _bank_soc_pct(self) -> float:
        batteries = self.system.batteries
        return sum(b.soc_pct * b.capacity_ah for b in batteries) / sum(
            b.capacity_ah for b in batteries
        )

    def build(self) -> dict[str, Any]:
        """summary.json's content; the run writer fills in `steps` and `wall_time_s`."""
        system = self.system
        damaged_at = self.builder._damaged_at_s
        batteries = tuple(
            BatterySummary(
                battery=index + 1,
                model=battery.model.name,
                final_soc_pct=round(battery.soc_pct, 2),
                damaged=battery.damaged,
                damaged_at_s=damaged_at.get(index + 1, battery.damaged_at_s),
                balancer=battery.balancer_status.value,
            )
            for index, battery in enumerate(system.batteries)
        )
        energy = EnergyState(**dataclasses.asdict(system.energy))
        summary = self.builder._assemble(
            final_bank_soc_pct=self._bank_soc_pct(),
            batteries=batteries,
            alternator_at_max_output_s=system.alternator.at_max_total_s
            if system.alternator is not None
            else None,
            starter_lowest_voltage_v=system.starter.lowest_voltage_v
            if system.starter is not None
            else None,
            energy=EnergySummary.from_state(energy),
            steps=0,
            wall_time_s=0.0,
            status="complete",
        )
        return summary.to_dict()
