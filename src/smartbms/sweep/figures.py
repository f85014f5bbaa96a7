"""The figures a sweep collects from each variant: named numbers read from its summary and verdicts.

A figure is one column of results.parquet. Each has a unit, a kind (number, flag or text) and a
direction ("higher" or "lower" is better, or none), which the report uses to pick the best
variant. Times the summary keeps in seconds are given here in the unit a reader thinks in (hours
to a load disconnect, days until damage); `None` means "never" (or "no alternator"), and for a
time-to-trouble figure "never" is the best value there is.
"""

import dataclasses
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Literal

from smartbms.sim.summary import Summary
from smartbms.sim.verdicts import Verdict, VerdictStatus

FigureValue = float | bool | str | None
Kind = Literal["number", "flag", "text"]
Better = Literal["higher", "lower"] | None
Reader = Callable[[Summary, Sequence[Verdict]], FigureValue]


@dataclasses.dataclass(frozen=True, slots=True)
class Figure:
    """One collected figure: how to read it and how to judge it."""

    name: str
    title: str
    unit: str
    kind: Kind
    better: Better
    read: Reader
    none_is_best: bool = False
    """For a time until trouble: None ("never") beats every number."""
    none_text: str = "—"


def _hours(seconds: float | None) -> float | None:
    return None if seconds is None else seconds / 3600.0


def _days(seconds: float | None) -> float | None:
    return None if seconds is None else seconds / 86_400.0


_STATUS_ORDER: dict[str, int] = {"ok": 0, "info": 1, "warning": 2, "problem": 3}
"""Verdict statuses from best to worst (a "lower" text figure ranks by this)."""

VERDICT_TITLES = (
    "Lowest cell voltage",
    "Pre-alarm (W-B12)",
    "Load disconnect",
    "Pre-alarm lead",
    "Alternator overheating",
    "Starter battery lowest",
    "Battery damaged",
    "Battery current",
    "Final state of charge",
    "BMS temperature",
    "Codes shown",
)
"""The titles `smartbms.sim.verdicts.verdicts` gives (a test keeps the two in step)."""


def verdict_slug(title: str) -> str:
    """`verdict_load_disconnect` for "Load disconnect" ("(W-B12)" dropped)."""
    words = re.sub(r"\(.*?\)", "", title).strip().lower()
    return "verdict_" + re.sub(r"[^a-z0-9]+", "_", words).strip("_")


def _verdict_reader(title: str) -> Reader:
    def read(_: Summary, found: Sequence[Verdict]) -> FigureValue:
        return next((v.status for v in found if v.title == title), None)

    return read


def _worst(_: Summary, found: Sequence[Verdict]) -> FigureValue:
    statuses: list[VerdictStatus] = [v.status for v in found]
    return max(statuses, key=_STATUS_ORDER.__getitem__, default=None)


def _energy(port: str) -> Figure:
    words = port.replace("_", " ")
    return Figure(
        f"energy_{port}_wh",
        f"Energy: {words}",
        "Wh",
        "number",
        "lower" if port == "bms_consumption" else None,
        lambda s, _: float(getattr(s.energy_wh, port)),
    )


_ENERGY_PORTS = (
    "alternator_in",
    "system_plus_in",
    "system_plus_out",
    "bank_devices_in",
    "bank_devices_out",
    "bms_consumption",
    "bms_heat",
    "batteries_in",
    "batteries_out",
)

_FIGURES: tuple[Figure, ...] = (
    Figure(
        "time_to_load_disconnect_h",
        "Time to load disconnect",
        "h",
        "number",
        "higher",
        lambda s, _: _hours(s.time_to_load_disconnect_s),
        none_is_best=True,
        none_text="never",
    ),
    Figure(
        "time_to_prealarm_h",
        "Time to pre-alarm",
        "h",
        "number",
        "higher",
        lambda s, _: _hours(s.time_to_prealarm_s),
        none_is_best=True,
        none_text="never",
    ),
    Figure(
        "lowest_bank_soc_pct",
        "Lowest state of charge",
        "%",
        "number",
        "higher",
        lambda s, _: s.lowest_bank_soc_pct,
    ),
    Figure(
        "final_bank_soc_pct",
        "Final state of charge",
        "%",
        "number",
        "higher",
        lambda s, _: s.final_bank_soc_pct,
    ),
    Figure(
        "lowest_cell_voltage_v",
        "Lowest cell voltage",
        "V",
        "number",
        "higher",
        lambda s, _: s.lowest_cell_voltage_v,
    ),
    Figure(
        "highest_cell_voltage_v",
        "Highest cell voltage",
        "V",
        "number",
        "lower",
        lambda s, _: s.highest_cell_voltage_v,
    ),
    Figure(
        "alternator_at_limit_h",
        "Hours at the alternator's maximum output",
        "h",
        "number",
        "lower",
        lambda s, _: _hours(s.alternator_at_max_output_s),
        none_text="no alternator",
    ),
    Figure(
        "alternator_charging_h",
        "Hours of alternator charging",
        "h",
        "number",
        None,
        lambda s, _: s.alternator_charging_s / 3600.0,
    ),
    Figure(
        "alternator_overheating_risk",
        "Alternator overheating risk",
        "",
        "flag",
        "lower",
        lambda s, _: s.alternator_overheating_risk,
    ),
    Figure(
        "highest_ab_current_a",
        "Highest alternator current",
        "A",
        "number",
        None,
        lambda s, _: s.highest_ab_current_a,
    ),
    Figure(
        "days_until_damage",
        "Days until battery damage",
        "days",
        "number",
        "higher",
        lambda s, _: _days(s.battery_damaged_at_s),
        none_is_best=True,
        none_text="never",
    ),
    Figure(
        "battery_damaged",
        "Battery damaged",
        "",
        "flag",
        "lower",
        lambda s, _: s.battery_damaged,
    ),
    Figure(
        "starter_lowest_voltage_v",
        "Starter battery lowest",
        "V",
        "number",
        "higher",
        lambda s, _: s.starter_lowest_voltage_v,
        none_text="no starter",
    ),
    Figure(
        "highest_bms_temperature_c",
        "Highest BMS temperature",
        "°C",
        "number",
        "lower",
        lambda s, _: s.highest_bms_temperature_c,
    ),
    Figure(
        "lowest_battery_temperature_c",
        "Lowest battery temperature",
        "°C",
        "number",
        None,
        lambda s, _: s.lowest_battery_temperature_c,
    ),
    Figure(
        "highest_battery_temperature_c",
        "Highest battery temperature",
        "°C",
        "number",
        None,
        lambda s, _: s.highest_battery_temperature_c,
    ),
    *(_energy(port) for port in _ENERGY_PORTS),
    Figure(
        "codes_seen",
        "Codes shown",
        "",
        "text",
        None,
        lambda s, _: " ".join(s.codes_seen),
    ),
    Figure("steps", "Stepper steps", "", "number", None, lambda s, _: float(s.steps)),
    Figure("worst_verdict", "Worst verdict", "", "text", "lower", _worst),
    *(
        Figure(
            verdict_slug(title), f"Verdict: {title}", "", "text", "lower", _verdict_reader(title)
        )
        for title in VERDICT_TITLES
    ),
)

FIGURES: Mapping[str, Figure] = {figure.name: figure for figure in _FIGURES}
"""Every figure a sweep file may name, by name."""

DEFAULT_FIGURES = (
    "time_to_load_disconnect_h",
    "lowest_bank_soc_pct",
    "final_bank_soc_pct",
    "lowest_cell_voltage_v",
    "alternator_at_limit_h",
    "days_until_damage",
    "energy_alternator_in_wh",
    "energy_system_plus_in_wh",
    "worst_verdict",
)
"""What a sweep collects when its file names no figures."""


def read_figures(
    names: Sequence[str], summary: Summary, found: Sequence[Verdict]
) -> dict[str, FigureValue]:
    """The named figures of one run (numbers rounded to 6 significant digits, as stored)."""
    values: dict[str, FigureValue] = {}
    for name in names:
        value = FIGURES[name].read(summary, found)
        if isinstance(value, float):
            value = float(f"{value:.6g}")
        values[name] = value
    return values


def rank_key(figure: Figure, value: FigureValue) -> float:
    """A number that is smaller for a better value (infinite when the figure cannot rank it)."""
    if figure.better is None:
        return float("inf")
    if value is None:
        return float("-inf") if figure.none_is_best else float("inf")
    if isinstance(value, str):
        score = float(_STATUS_ORDER.get(value, len(_STATUS_ORDER)))
    else:
        score = float(value)
    return -score if figure.better == "higher" else score
