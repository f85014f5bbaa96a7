"""Inverter model classes: rating, peak efficiency and zero-load power from Victron's tables.

An inverter's losses are a fixed part (its zero-load power, drawn whenever it inverts), a part
proportional to the power (switching) and a resistive part growing with its square:

    P_dc = P_ac + P0 + a P_ac + b P_ac^2

Victron publishes P0 ("zero-load power") and the peak ("maximum") efficiency per model, not the
curve. Decided (docs/decisions.md): the peak lies at 40 % of the continuous rating, where
published curves of sine inverters of this kind peak (30-50 %). That fixes b = P0 / P*^2 and
a = 1 / eta_max - 1 - 2 P0 / P*, so the curve meets both published numbers exactly; a MultiPlus
12/1200 then runs at 88 % at 100 W and 91 % at full load.

Sources: MultiPlus 12 V 500-1200 VA manual, §7.1 Technical specifications
(https://victronenergy.com/media/pg/MultiPlus_12V_500-1200VA_120Vac/en/technical-data.html):
12/500 90 % 6 W, 12/800 92 % 7 W, 12/1200 93 % 10 W (retrieved). The others are Victron's data
sheet figures as commonly quoted (Phoenix Inverter VE.Direct 250-1200 VA, Phoenix Inverter Smart
1600-5000 VA, MultiPlus 12/1600/70 - 12/3000/120 230 V); they were not retrieved in this session
and are marked `confirmed=False`.
"""

import dataclasses
import math
from collections.abc import Mapping
from typing import Final

PEAK_AT_FRACTION: Final = 0.4
"""Decided: the efficiency peaks at 40 % of the continuous rating (published curves: 30-50 %)."""


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class InverterModel:
    """One model's published figures."""

    name: str
    rated_power_w: float
    """Continuous output power at 25 °C (W)."""
    peak_efficiency_pct: float
    no_load_w: float
    confirmed: bool = True
    """The figures were read from Victron's page in this work (False: quoted from memory)."""


def _models(*models: InverterModel) -> Mapping[str, InverterModel]:
    return {model.name: model for model in models}


INVERTER_MODELS: Final[Mapping[str, InverterModel]] = _models(
    InverterModel(name="MultiPlus 12/500/20", rated_power_w=430.0, peak_efficiency_pct=90.0,
                  no_load_w=6.0),
    InverterModel(name="MultiPlus 12/800/35", rated_power_w=700.0, peak_efficiency_pct=92.0,
                  no_load_w=7.0),
    InverterModel(name="MultiPlus 12/1200/50", rated_power_w=1000.0, peak_efficiency_pct=93.0,
                  no_load_w=10.0),
    InverterModel(name="MultiPlus 12/1600/70", rated_power_w=1300.0, peak_efficiency_pct=93.0,
                  no_load_w=10.0, confirmed=False),
    InverterModel(name="MultiPlus 12/2000/80", rated_power_w=1600.0, peak_efficiency_pct=93.0,
                  no_load_w=11.0, confirmed=False),
    InverterModel(name="MultiPlus 12/3000/120", rated_power_w=2400.0, peak_efficiency_pct=93.0,
                  no_load_w=20.0, confirmed=False),
    InverterModel(name="Phoenix 12/250", rated_power_w=200.0, peak_efficiency_pct=87.0,
                  no_load_w=4.2, confirmed=False),
    InverterModel(name="Phoenix 12/375", rated_power_w=300.0, peak_efficiency_pct=89.0,
                  no_load_w=5.6, confirmed=False),
    InverterModel(name="Phoenix 12/500", rated_power_w=400.0, peak_efficiency_pct=90.0,
                  no_load_w=6.0, confirmed=False),
    InverterModel(name="Phoenix 12/800", rated_power_w=650.0, peak_efficiency_pct=90.0,
                  no_load_w=6.5, confirmed=False),
    InverterModel(name="Phoenix 12/1200", rated_power_w=1000.0, peak_efficiency_pct=91.0,
                  no_load_w=7.0, confirmed=False),
    InverterModel(name="Phoenix Smart 12/1600", rated_power_w=1300.0, peak_efficiency_pct=92.0,
                  no_load_w=8.0, confirmed=False),
    InverterModel(name="Phoenix Smart 12/2000", rated_power_w=1600.0, peak_efficiency_pct=92.0,
                  no_load_w=9.0, confirmed=False),
    InverterModel(name="Phoenix Smart 12/3000", rated_power_w=2400.0, peak_efficiency_pct=92.0,
                  no_load_w=12.0, confirmed=False),
)  # fmt: skip
"""Every known model by name."""

INVERTER_MODEL: Final = "Phoenix 12/1200"
"""The inverter when a scenario names none: a common van size."""
INVERTER_CHARGER_MODEL: Final = "MultiPlus 12/1600/70"
"""The inverter/charger when a scenario names none: the 70 A charger the twin defaults to."""


def inverter_model(name: str) -> InverterModel:
    """A model by name, or a ValueError listing the known ones."""
    model = INVERTER_MODELS.get(name)
    if model is None:
        msg = f"unknown inverter model {name!r}; known: {', '.join(INVERTER_MODELS)}"
        raise ValueError(msg)
    return model


@dataclasses.dataclass(frozen=True, slots=True)
class EfficiencyCurve:
    """DC input power for an AC output: P_ac + P0 + a P_ac + b P_ac^2 (module docstring).

    `flat_pct` set: a flat efficiency instead (P_ac / eta + P0), as a scenario that gives
    `efficiency_pct` asks for.
    """

    no_load_w: float
    linear: float
    quadratic_per_w: float
    flat_pct: float | None = None

    @classmethod
    def from_peak(
        cls, *, rated_power_w: float, peak_efficiency_pct: float, no_load_w: float
    ) -> "EfficiencyCurve":
        """The curve through the published peak efficiency at 40 % of the rating."""
        peak_w = PEAK_AT_FRACTION * rated_power_w
        linear = 100.0 / peak_efficiency_pct - 1.0 - 2.0 * no_load_w / peak_w
        if not (math.isfinite(linear) and linear >= 0.0):
            msg = (
                f"a peak efficiency of {peak_efficiency_pct} % with {no_load_w} W at no load "
                f"cannot peak at {peak_w:.0f} W: lower the zero-load power or the efficiency"
            )
            raise ValueError(msg)
        return cls(no_load_w, linear, no_load_w / (peak_w * peak_w))

    @classmethod
    def flat(cls, *, efficiency_pct: float, no_load_w: float) -> "EfficiencyCurve":
        """A flat efficiency plus the zero-load power."""
        return cls(no_load_w, 0.0, 0.0, efficiency_pct)

    def dc_power_w(self, ac_power_w: float) -> float:
        """DC input power while inverting `ac_power_w`."""
        if self.flat_pct is not None:
            return ac_power_w * 100.0 / self.flat_pct + self.no_load_w
        return (
            ac_power_w * (1.0 + self.linear)
            + self.quadratic_per_w * ac_power_w * ac_power_w
            + self.no_load_w
        )

    def efficiency_pct(self, ac_power_w: float) -> float:
        """AC out over DC in, in percent (0 at no load)."""
        if ac_power_w <= 0.0:
            return 0.0
        return 100.0 * ac_power_w / self.dc_power_w(ac_power_w)
