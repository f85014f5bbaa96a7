"""Hand-made `TwinState` and `Summary` values for the summary, verdict, report and CLI tests.

Both are built from literals, so the tests of what reads them need no simulator: a quiet
one-battery run by default, with any field changed by keyword.
"""

import dataclasses

from smartbms.core.settings import Settings
from smartbms.core.signals import ALL_OPEN, Readings
from smartbms.sim.summary import (
    BatterySummary,
    CellPlace,
    EnergySummary,
    Incidents,
    RunClock,
    Summary,
)
from smartbms.twin.state import (
    AlternatorState,
    BatteryState,
    EnergyState,
    FuseState,
    StarterState,
    TwinState,
)

MODEL = "LFP-Smart 12.8/200"
CELLS_V = (3.30, 3.31, 3.32, 3.33)


def battery_state(number: int = 1, **changes: object) -> BatteryState:
    """A healthy, balanced battery at 60 %."""
    base = BatteryState(
        number=number,
        model=MODEL,
        capacity_ah=200.0,
        soc_pct=60.0,
        current_a=0.0,
        cell_voltages_v=CELLS_V,
        temperature_c=20.0,
        allowed_to_charge=True,
        allowed_to_discharge=True,
        prealarm=False,
        balancer="balanced",
        damaged=False,
        damaged_at_s=None,
    )
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def energy_state(**changes: float) -> EnergyState:
    """No energy through any port."""
    base = EnergyState(
        ab_in_wh=0.0,
        system_plus_in_wh=0.0,
        system_plus_out_wh=0.0,
        bank_devices_in_wh=0.0,
        bank_devices_out_wh=0.0,
        bms_consumption_wh=0.0,
        bms_heat_wh=0.0,
        batteries_in_wh=0.0,
        batteries_out_wh=0.0,
    )
    return dataclasses.replace(base, **changes)


def readings(
    shown_a: float | None = None, shown_pct: float | None = None, bank_v: float = 13.2
) -> Readings:
    """The app's status page, with the alternator current it shows (None: not shown)."""
    return Readings(
        bank_voltage_v=bank_v,
        ab_voltage_v=0.0,
        system_plus_voltage_v=bank_v,
        alternator_current_a=shown_a,
        alternator_current_pct=shown_pct,
        fuse_type_prompt=False,
    )


def alternator_state(**changes: object) -> AlternatorState:
    """A stopped alternator that never ran at maximum output."""
    base = AlternatorState(
        running=False,
        smart_mode=False,
        set_point_v=14.4,
        current_a=0.0,
        rated_current_a=90.0,
        at_max_total_s=0.0,
        at_max_since_s=None,
        overheat_risk_at_s=None,
    )
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def starter_state(lowest_voltage_v: float = 12.6) -> StarterState:
    """A charged starter battery."""
    return StarterState(soc_pct=90.0, current_a=0.0, lowest_voltage_v=lowest_voltage_v)


def twin_state(t_s: float = 0.0, **changes: object) -> TwinState:
    """A quiet one-battery system at `t_s`: no alternator, no starter, no devices."""
    base = TwinState(
        t_s=t_s,
        outputs=ALL_OPEN,
        readings=readings(),
        settings=Settings.factory(),
        config_fault=False,
        bms_temperature_c=25.0,
        bms_draw_a=0.0175,
        bank_voltage_v=13.2,
        bank_current_a=0.0,
        bank_soc_pct=60.0,
        ab_voltage_v=0.0,
        ab_current_a=0.0,
        ab_limit_a=0.0,
        system_plus_voltage_v=13.2,
        system_plus_current_a=0.0,
        bank_devices_current_a=0.0,
        batteries=(battery_state(),),
        alternator=None,
        starter=None,
        devices=(),
        fuse=FuseState(installed="125A", setting="125A", blown=False, limit_a=100.0),
        faults=(),
        ambient_c=20.0,
        solar_fraction=0.0,
        shore_power=False,
        energy=energy_state(),
    )
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def energy_summary(**changes: float) -> EnergySummary:
    """No energy through any port."""
    return dataclasses.replace(EnergySummary.from_state(energy_state()), **changes)


def battery_summary(number: int = 1, **changes: object) -> BatterySummary:
    """A healthy battery that ended at 60 %."""
    base = BatterySummary(
        battery=number,
        model=MODEL,
        final_soc_pct=60.0,
        damaged=False,
        damaged_at_s=None,
        balancer="balanced",
    )
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def summary(**changes: object) -> Summary:
    """An hour's quiet run: nothing cut, nothing damaged, no code; changed by `changes`."""
    base = Summary(
        scenario="fake",
        status="complete",
        duration_s=3600.0,
        steps=100,
        wall_time_s=0.5,
        lowest_cell_voltage_v=3.3,
        lowest_cell_at_s=0.0,
        lowest_cell=CellPlace(battery=1, cell=1),
        highest_cell_voltage_v=3.33,
        lowest_bank_soc_pct=60.0,
        final_bank_soc_pct=60.0,
        time_to_prealarm_s=None,
        time_to_load_disconnect_s=None,
        prealarm_lead_s=(),
        alternator_overheating_risk=False,
        alternator_overheating_risk_at_s=None,
        alternator_at_max_output_s=None,
        alternator_charging_s=0.0,
        highest_ab_current_a=0.0,
        highest_displayed_ab_current_a=0.0,
        highest_displayed_ab_pct=0.0,
        starter_lowest_voltage_v=None,
        battery_damaged=False,
        battery_damaged_at_s=None,
        batteries=(battery_summary(),),
        battery_overloads=(),
        highest_bms_temperature_c=25.0,
        lowest_battery_temperature_c=20.0,
        highest_battery_temperature_c=20.0,
        codes_seen=(),
        energy_wh=energy_summary(),
        event_counts={},
        charge_limit_v=14.2,
        clock=RunClock(start_time_of_day_s=8 * 3600.0, start_date=None),
        incidents=incidents(),
    )
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def incidents(**changes: object) -> Incidents:
    """Nothing tripped, locked out, blown or mismatched; the loads always on."""
    base = Incidents(
        loads_off_s=0.0,
        loads_off_first_s=None,
        system_plus_trips=0,
        system_plus_first_trip_s=None,
        system_plus_trip_cause=None,
        system_plus_trip_peak_a=None,
        system_plus_lockout_at_s=None,
        system_plus_locked_out_s=0.0,
        fuse_blown_at_s=None,
        fuse_mismatch_s=0.0,
        fuse_setting=None,
        fuse_installed=None,
        fuse_mismatch_limit_a=None,
        fuse_mismatch_ab_current_a=None,
        fuse_mismatch_displayed_a=None,
        fuse_mismatch_displayed_pct=None,
        ab_at_limit_longest_s=0.0,
        ab_at_limit_at_s=None,
        ab_at_limit_a=None,
    )
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]
