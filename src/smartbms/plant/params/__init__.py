"""Parameter sets of the plant, stored as TOML data files with units in their keys.

Models and parameters are separate (as in PyBaMM): code asks for a parameter set by name
(`battery_model("LFP-Smart 12.8/200")`) and gets a frozen value; the numbers and their sources
live in the data files beside this module.
"""

import bisect
import dataclasses
import functools
import math
import tomllib
from importlib import resources


@dataclasses.dataclass(frozen=True, slots=True)
class Table:
    """A piecewise-linear curve y(x) over increasing x, held flat beyond its ends."""

    xs: tuple[float, ...]
    ys: tuple[float, ...]

    def __post_init__(self) -> None:
        if len(self.xs) != len(self.ys) or len(self.xs) < 2:
            msg = "a table needs at least two points and as many ys as xs"
            raise ValueError(msg)
        if any(b <= a for a, b in zip(self.xs, self.xs[1:], strict=False)):
            msg = "table xs must increase strictly"
            raise ValueError(msg)

    def __call__(self, x: float) -> float:
        """Interpolate y at x."""
        xs = self.xs
        if x <= xs[0]:
            return self.ys[0]
        if x >= xs[-1]:
            return self.ys[-1]
        i = bisect.bisect_right(xs, x)
        x0, x1 = xs[i - 1], xs[i]
        y0, y1 = self.ys[i - 1], self.ys[i]
        return y0 + (y1 - y0) * (x - x0) / (x1 - x0)


@dataclasses.dataclass(frozen=True, slots=True)
class Derating:
    """Usable capacity vs temperature: a smooth power curve through the data sheet's points.

    1 - drop_at_0c ((reference - T) / reference)^exponent below the reference temperature, full
    above it, held at its `lowest_c` value below that (no tabulated kinks to step across).
    """

    reference_c: float
    drop_at_0c: float
    exponent: float
    lowest_c: float

    def __call__(self, temperature_c: float) -> float:
        """The usable fraction of the 25 °C capacity at `temperature_c`."""
        reference = self.reference_c
        if temperature_c >= reference:
            return 1.0
        below = (reference - max(temperature_c, self.lowest_c)) / reference
        return 1.0 - self.drop_at_0c * math.pow(below, self.exponent)

    def slope_per_c(self, temperature_c: float) -> float:
        """How fast the usable fraction grows with the temperature at `temperature_c` (1/K).

        Zero where the curve is flat (at and above the reference, at and below `lowest_c`).
        """
        reference = self.reference_c
        if temperature_c >= reference or temperature_c <= self.lowest_c:
            return 0.0
        below = (reference - temperature_c) / reference
        return self.drop_at_0c * self.exponent * math.pow(below, self.exponent - 1.0) / reference


@dataclasses.dataclass(frozen=True, slots=True)
class CellModel:
    """One LFP cell: open-circuit curve, polarisation, hysteresis, temperature and thermal data."""

    ocv: Table
    """The rest curve midway between the charge and discharge branches; it ends a little
    beyond 100 %, where a charger's voltage is reached (the over-full range)."""
    overcharge_v_per_pct: float
    overdischarge_v_per_pct: float
    lowest_v: float
    highest_v: float
    overfull_relax_s: float
    """How fast charge pushed in beyond 100 % relaxes back to full at rest."""
    r1_fraction_of_r0: float
    tau_s: float
    hysteresis_half_gap_v: float
    hysteresis_throughput_fraction: float
    capacity_fraction: Derating
    resistance_factor: Table
    heat_capacity_j_per_k_per_100ah: float
    thermal_resistance_k_per_w_at_100ah: float

    def ocv_v(self, soc_pct: float) -> float:
        """Open-circuit voltage; steep run-away beyond the curve's ends (over-charge/-discharge)."""
        table = self.ocv
        if soc_pct > table.xs[-1]:
            v = table.ys[-1] + (soc_pct - table.xs[-1]) * self.overcharge_v_per_pct
            return min(v, self.highest_v)
        if soc_pct < 0.0:
            v = table.ys[0] + soc_pct * self.overdischarge_v_per_pct
            return max(v, self.lowest_v)
        return table(soc_pct)

    def ocv_knots_pct(self) -> tuple[float, ...]:
        """Where `ocv_v` changes slope: the table's bends and ends, where the run-aways clamp."""
        xs, ys = self.ocv.xs, self.ocv.ys
        slopes = [
            (y1 - y0) / (x1 - x0) for x0, x1, y0, y1 in zip(xs, xs[1:], ys, ys[1:], strict=False)
        ]
        bends = [
            x
            for x, before, after in zip(xs[1:-1], slopes, slopes[1:], strict=False)
            if not math.isclose(before, after, rel_tol=1e-9)
        ]
        low = -(ys[0] - self.lowest_v) / self.overdischarge_v_per_pct
        high = xs[-1] + (self.highest_v - ys[-1]) / self.overcharge_v_per_pct
        return (low, xs[0], *bends, xs[-1], high)


@dataclasses.dataclass(frozen=True, slots=True)
class BatteryModel:
    """A Lithium Battery 12,8V Smart model (PLT-1)."""

    name: str
    capacity_ah: float
    internal_resistance_ohm: float
    max_charge_a: float
    max_discharge_a: float
    supports_prealarm: bool

    def rating_a(self, current_a: float) -> float:
        """The maximum continuous current in the direction of `current_a` (> 0: charging)."""
        return self.max_charge_a if current_a > 0.0 else self.max_discharge_a


def _read(name: str) -> dict[str, object]:
    text = resources.files(__name__).joinpath(name).read_text(encoding="utf-8")
    return tomllib.loads(text)


def _floats(values: object) -> tuple[float, ...]:
    assert isinstance(values, list)  # noqa: S101  # our own data file
    return tuple(float(v) for v in values)


@functools.cache
def cell_model() -> CellModel:
    """The LFP cell of the Smart range (lfp_cell.toml)."""
    data = _read("lfp_cell.toml")
    ocv = data["ocv"]
    overfull = data["overfull"]
    rc = data["rc"]
    hysteresis = data["hysteresis"]
    temperature = data["temperature"]
    thermal = data["thermal"]
    assert isinstance(ocv, dict)  # noqa: S101
    assert isinstance(overfull, dict)  # noqa: S101
    assert isinstance(rc, dict)  # noqa: S101
    assert isinstance(hysteresis, dict)  # noqa: S101
    assert isinstance(temperature, dict)  # noqa: S101
    assert isinstance(thermal, dict)  # noqa: S101
    return CellModel(
        ocv=Table(_floats(ocv["soc_pct"]), _floats(ocv["ocv_v"])),
        overcharge_v_per_pct=float(ocv["overcharge_v_per_pct"]),
        overdischarge_v_per_pct=float(ocv["overdischarge_v_per_pct"]),
        lowest_v=float(ocv["lowest_v"]),
        highest_v=float(ocv["highest_v"]),
        overfull_relax_s=float(overfull["relax_s"]),
        r1_fraction_of_r0=float(rc["r1_fraction_of_r0"]),
        tau_s=float(rc["tau_s"]),
        hysteresis_half_gap_v=float(hysteresis["half_gap_v"]),
        hysteresis_throughput_fraction=float(hysteresis["throughput_fraction"]),
        capacity_fraction=Derating(
            reference_c=float(temperature["reference_c"]),
            drop_at_0c=float(temperature["drop_at_0c"]),
            exponent=float(temperature["exponent"]),
            lowest_c=float(temperature["lowest_c"]),
        ),
        resistance_factor=Table(
            _floats(temperature["temperature_c"]), _floats(temperature["resistance_factor"])
        ),
        heat_capacity_j_per_k_per_100ah=float(thermal["heat_capacity_j_per_k_per_100ah"]),
        thermal_resistance_k_per_w_at_100ah=float(thermal["thermal_resistance_k_per_w_at_100ah"]),
    )


@functools.cache
def battery_models() -> dict[str, BatteryModel]:
    """Every battery model by name (batteries.toml)."""
    models: dict[str, BatteryModel] = {}
    for name, row in _read("batteries.toml").items():
        assert isinstance(row, dict)  # noqa: S101
        models[name] = BatteryModel(
            name=name,
            capacity_ah=float(row["capacity_ah"]),
            internal_resistance_ohm=float(row["internal_resistance_ohm"]),
            max_charge_a=float(row["max_charge_a"]),
            max_discharge_a=float(row["max_discharge_a"]),
            supports_prealarm=bool(row["supports_prealarm"]),
        )
    return models


def battery_model(name: str) -> BatteryModel:
    """One battery model by name; `KeyError` lists the known names."""
    models = battery_models()
    try:
        return models[name]
    except KeyError:
        known = ", ".join(repr(n) for n in models)
        msg = f"unknown battery model {name!r}; known models: {known}"
        raise KeyError(msg) from None
