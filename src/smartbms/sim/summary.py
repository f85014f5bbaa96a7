"""The verdicts of a run (`summary.json`): what an installer wants to know at a glance.

Everything is accumulated while the run goes, so the summary costs no memory per step.
"""

import math

from smartbms import scenario as sc
from smartbms.core.events import (
    CodeRaised,
    Event,
    LoadDisconnected,
    PreAlarmRaised,
)
from smartbms.core.signals import Outputs, Readings
from smartbms.plant.events import AlternatorOverheatRisk, BatteryDamaged
from smartbms.plant.system import OperatingPoint, TwelveVoltSystem


def _r(value: float, digits: int = 3) -> float | None:
    return None if math.isinf(value) or math.isnan(value) else round(value, digits)


class SummaryBuilder:
    """Watches the steps and events of one run and writes its verdicts."""

    def __init__(self, scenario: sc.Scenario, system: TwelveVoltSystem) -> None:
        self.scenario = scenario
        self.system = system
        self.lowest_cell_v = math.inf
        self.lowest_cell_at_s = 0.0
        self.lowest_cell_where = (0, 0)
        self.highest_cell_v = -math.inf
        self.highest_cell_at_s = 0.0
        self.lowest_bank_soc_pct = math.inf
        self.highest_bms_c = -math.inf
        self.lowest_battery_c = math.inf
        self.highest_battery_c = -math.inf
        self.prealarm_times: list[float] = []
        self.disconnect_times: list[float] = []
        self.overheat_at_s: float | None = None
        self.damaged_at_s: dict[int, float] = {}
        self.codes_seen: list[str] = []
        self.event_counts: dict[str, int] = {}
        self.ab_charging_s = 0.0
        self.highest_ab_current_a = 0.0
        self.highest_shown_ab_current_a = 0.0
        self.highest_shown_ab_pct = 0.0

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
            low = min(volts)
            if low < self.lowest_cell_v:
                self.lowest_cell_v = low
                self.lowest_cell_at_s = t
                self.lowest_cell_where = (index + 1, volts.index(low) + 1)
            high = max(volts)
            if high > self.highest_cell_v:
                self.highest_cell_v = high
                self.highest_cell_at_s = t
            self.lowest_battery_c = min(self.lowest_battery_c, battery.temperature_c)
            self.highest_battery_c = max(self.highest_battery_c, battery.temperature_c)
        self.lowest_bank_soc_pct = min(self.lowest_bank_soc_pct, self.bank_soc_pct())
        self.highest_bms_c = max(self.highest_bms_c, system.bms_thermal.temperature_c)
        if op.ab_current_a > 0.1:
            self.ab_charging_s += dt
        self.highest_ab_current_a = max(self.highest_ab_current_a, op.ab_current_a)
        shown = readings.alternator_current_a
        if shown is not None:
            self.highest_shown_ab_current_a = max(self.highest_shown_ab_current_a, shown)
            pct = readings.alternator_current_pct or 0.0
            self.highest_shown_ab_pct = max(self.highest_shown_ab_pct, pct)

    def event(self, event: Event) -> None:
        """Take in one event."""
        self.event_counts[event.kind] = self.event_counts.get(event.kind, 0) + 1
        if isinstance(event, PreAlarmRaised):
            self.prealarm_times.append(event.t_s)
        elif isinstance(event, LoadDisconnected):
            self.disconnect_times.append(event.t_s)
        elif isinstance(event, AlternatorOverheatRisk) and self.overheat_at_s is None:
            self.overheat_at_s = event.t_s
        elif isinstance(event, BatteryDamaged):
            self.damaged_at_s.setdefault(event.battery, event.t_s)
        elif isinstance(event, CodeRaised) and event.raised.value not in self.codes_seen:
            self.codes_seen.append(event.raised.value)

    def bank_soc_pct(self) -> float:
        """The bank's state of charge: usable charge over capacity, all batteries."""
        batteries = self.system.batteries
        return sum(b.soc_pct * b.capacity_ah for b in batteries) / sum(
            b.capacity_ah for b in batteries
        )

    def _leads_s(self) -> list[float]:
        """For each load disconnect, the time since the pre-alarm before it rose."""
        leads = []
        for t_ld in self.disconnect_times:
            before = [t for t in self.prealarm_times if t <= t_ld]
            if before:
                leads.append(round(t_ld - before[-1], 3))
        return leads

    def build(self) -> dict[str, object]:
        """The verdicts, JSON-ready."""
        system = self.system
        alternator = system.alternator
        starter = system.starter
        energy = system.energy
        batteries = []
        for index, battery in enumerate(system.batteries):
            batteries.append(
                {
                    "battery": index + 1,
                    "model": battery.model.name,
                    "final_soc_pct": _r(battery.soc_pct, 2),
                    "damaged": battery.damaged,
                    "damaged_at_h": _r(self.damaged_at_s[index + 1] / 3600.0, 3)
                    if index + 1 in self.damaged_at_s
                    else None,
                    "balancer": battery.balancer_status.value,
                }
            )
        first_damage = min(self.damaged_at_s.values(), default=None)
        return {
            "scenario": self.scenario.scenario.name,
            "duration_h": _r(self.scenario.duration_s / 3600.0, 4),
            "lowest_cell_voltage_v": _r(self.lowest_cell_v),
            "lowest_cell_at_h": _r(self.lowest_cell_at_s / 3600.0, 4),
            "lowest_cell": {
                "battery": self.lowest_cell_where[0],
                "cell": self.lowest_cell_where[1],
            },
            "highest_cell_voltage_v": _r(self.highest_cell_v),
            "lowest_bank_soc_pct": _r(self.lowest_bank_soc_pct, 2),
            "final_bank_soc_pct": _r(self.bank_soc_pct(), 2),
            "time_to_prealarm_h": _r(self.prealarm_times[0] / 3600.0, 4)
            if self.prealarm_times
            else None,
            "time_to_load_disconnect_h": _r(self.disconnect_times[0] / 3600.0, 4)
            if self.disconnect_times
            else None,
            "prealarm_lead_s": self._leads_s(),
            "alternator_overheating_risk": self.overheat_at_s is not None,
            "alternator_overheating_risk_at_h": _r(self.overheat_at_s / 3600.0, 4)
            if self.overheat_at_s is not None
            else None,
            "alternator_minutes_at_max_output": _r(alternator.at_max_total_s / 60.0, 2)
            if alternator is not None
            else None,
            "alternator_charging_h": _r(self.ab_charging_s / 3600.0, 3),
            "highest_ab_current_a": _r(self.highest_ab_current_a, 2),
            "highest_displayed_ab_current_a": _r(self.highest_shown_ab_current_a, 2),
            "highest_displayed_ab_pct": _r(self.highest_shown_ab_pct, 1),
            "starter_lowest_voltage_v": _r(starter.lowest_voltage_v)
            if starter is not None
            else None,
            "battery_damaged": bool(self.damaged_at_s),
            "battery_damaged_at_h": _r(first_damage / 3600.0, 3)
            if first_damage is not None
            else None,
            "batteries": batteries,
            "highest_bms_temperature_c": _r(self.highest_bms_c, 2),
            "lowest_battery_temperature_c": _r(self.lowest_battery_c, 2),
            "highest_battery_temperature_c": _r(self.highest_battery_c, 2),
            "codes_seen": self.codes_seen,
            "energy_wh": {
                "alternator_in": _r(energy.ab_in_wh, 1),
                "system_plus_in": _r(energy.system_plus_in_wh, 1),
                "system_plus_out": _r(energy.system_plus_out_wh, 1),
                "bank_devices_in": _r(energy.bank_devices_in_wh, 1),
                "bank_devices_out": _r(energy.bank_devices_out_wh, 1),
                "bms_consumption": _r(energy.bms_consumption_wh, 1),
                "bms_heat": _r(energy.bms_heat_wh, 1),
                "batteries_in": _r(energy.batteries_in_wh, 1),
                "batteries_out": _r(energy.batteries_out_wh, 1),
            },
            "event_counts": dict(sorted(self.event_counts.items())),
        }
