"""Sweep files: field paths, values, expansion order and the errors an invalid axis gets."""

import tomllib
from pathlib import Path

import pytest

from smartbms.scenario import ScenarioError
from smartbms.sim.verdicts import verdicts
from smartbms.sweep import axes as ax
from smartbms.sweep import load_sweep, plan_batches, toml_out
from smartbms.sweep.figures import FIGURES, VERDICT_TITLES, verdict_slug
from smartbms.sweep.plan import default_batch_size
from tests.unit.summaries import summary

ROOT = Path(__file__).resolve().parents[2]
DRAIN = ROOT / "examples" / "residual-drain-200ah.toml"


def write(tmp_path: Path, body: str, base: Path = DRAIN) -> Path:
    path = tmp_path / "sweep.toml"
    head = f'[sweep]\nname = "t"\nscenario = "{base}"\n'
    path.write_text(head + body, encoding="utf-8")
    return path


def error_of(path: Path) -> ScenarioError:
    with pytest.raises(ScenarioError) as caught:
        load_sweep(path)
    return caught.value


# --- field paths and values ---------------------------------------------------------------------


def test_field_paths_count_tables_from_one() -> None:
    assert ax.parse_field("battery[1].soc_pct") == ("battery", 0, "soc_pct")
    assert ax.parse_field("device[2].power_w") == ("device", 1, "power_w")
    assert ax.field_text(("device", 1, "power_w")) == "device[2].power_w"
    for bad in ("battery[0].soc_pct", "battery[1]", "a..b", "3x"):
        with pytest.raises(ax.AxisError):
            ax.parse_field(bad)


def test_ranges_keep_whole_numbers_and_tidy_floats() -> None:
    assert ax.range_values(7, 21, 7, None) == (7, 14, 21)
    assert ax.range_values(0.1, 0.3, 0.1, None) == (0.1, 0.2, 0.3)
    assert ax.range_values(10.0, 20.0, None, 3) == (10.0, 15.0, 20.0)
    assert ax.range_values(5, 1, 1, None) == ()


def test_random_draws_are_reproducible_and_bounded() -> None:
    params: dict[str, float | None] = {"low": 1.0, "high": 2.0, "mean": None, "sd": None}
    first = ax.random_values("uniform", 20, 7, params, 3)
    assert first == ax.random_values("uniform", 20, 7, params, 3)
    assert first != ax.random_values("uniform", 20, 8, params, 3)
    assert all(isinstance(v, float) and 1.0 <= v <= 2.0 for v in first)
    clipped = {"low": 0.0, "high": 1.0, "mean": 0.5, "sd": 5.0}
    assert all(0.0 <= float(v) <= 1.0 for v in ax.random_values("normal", 50, 1, clipped, None))


def test_setting_a_time_drops_its_other_units() -> None:
    data = {"timeline": [{"at_h": 2.0, "action": "remote"}]}
    changed = ax.apply(data, [(("timeline", 0, "at_min"), 30)])
    assert changed["timeline"][0] == {"action": "remote", "at_min": 30}
    assert data["timeline"][0]["at_h"] == 2.0  # the base is never changed


# --- expansion ----------------------------------------------------------------------------------


def test_grid_ids_run_the_last_axis_fastest(tmp_path: Path) -> None:
    sweep = load_sweep(
        write(
            tmp_path,
            '[[axis]]\nfield = "battery[1].soc_pct"\nvalues = [5.0, 6.0]\n'
            '[[axis]]\nfield = "device[2].current_a"\n'
            "range = { start = 0.01, stop = 0.03, step = 0.01 }\n",
        )
    )
    assert sweep.count == 6
    assert sweep.params(0) == (("battery[1].soc_pct", 5.0), ("device[2].current_a", 0.01))
    assert sweep.params(1) == (("battery[1].soc_pct", 5.0), ("device[2].current_a", 0.02))
    assert sweep.params(3) == (("battery[1].soc_pct", 6.0), ("device[2].current_a", 0.01))
    assert sweep.variant(4).data["device"][1]["current_a"] == 0.02
    with pytest.raises(IndexError, match="variants 0 to 5"):
        sweep.variant(6)


def test_zip_pairs_values_and_one_axis_may_set_several_fields(tmp_path: Path) -> None:
    sweep = load_sweep(
        write(
            tmp_path,
            'combine = "zip"\n'
            '[[axis]]\nname = "fuse"\nfield = ["bms.fuse_type", "bms.installed_fuse"]\n'
            'values = ["60A", "80A"]\n'
            '[[axis]]\nfield = "battery[1].soc_pct"\n'
            "random = { distribution = 'uniform', low = 5, high = 9, count = 2, seed = 3 }\n",
        )
    )
    assert sweep.count == 2
    data = sweep.variant(1).data
    assert data["bms"]["fuse_type"] == data["bms"]["installed_fuse"] == "80A"


def test_batches_cover_every_variant_once_and_group_warm_ups() -> None:
    sweep = load_sweep(ROOT / "examples" / "sweeps" / "residual-drain-holiday.toml")
    batches = plan_batches(sweep, range(sweep.count), 2)
    ids = sorted(i for batch in batches for i in batch.ids)
    assert ids == list(range(sweep.count))
    shared = [b for b in batches if b.warm_up_s is not None]
    assert shared
    for batch in shared:  # one drain per batch: only the holiday's length differs
        drains = {dict(v.params)["alarm drain (A)"] for v in batch.variants}
        assert len(drains) == 1
        assert batch.warm_up_s is not None
        assert batch.warm_up_s < 7 * 86_400
    assert default_batch_size(1000, 2) == 32
    assert default_batch_size(10_000, 2) == 50
    assert default_batch_size(3, 8) == 1


def test_the_examples_load() -> None:
    fuse = load_sweep(ROOT / "examples" / "sweeps" / "fuse-and-capacity.toml")
    assert fuse.count == 24
    assert len(fuse.digest) == 64


# --- errors ---------------------------------------------------------------------------------------


def test_a_value_the_scenario_refuses_names_the_sweep_line(tmp_path: Path) -> None:
    path = write(tmp_path, '[[axis]]\nfield = "battery[1].soc_pct"\nvalues = [5.0,\n  120.0]\n')
    error = error_of(path)
    assert error.source == str(path)
    assert error.line == 7
    assert error.field == "axis[1].values[2]"
    assert "battery[1].soc_pct = 120.0" in error.message
    assert "from 0 to 100 %" in error.message


def test_an_unknown_field_gets_a_suggestion(tmp_path: Path) -> None:
    error = error_of(write(tmp_path, '[[axis]]\nfield = "battery[1].soc_pc"\nvalues = [5.0]\n'))
    assert error.line == 5
    assert "did you mean 'soc_pct'?" in error.message


def test_a_table_the_base_does_not_have(tmp_path: Path) -> None:
    error = error_of(write(tmp_path, '[[axis]]\nfield = "device[7].current_a"\nvalues = [1.0]\n'))
    assert error.field == "axis[1].field"
    assert "no device[7]: the base scenario has 2 [[device]] tables" in error.message


def test_a_bad_path_and_a_bad_figure(tmp_path: Path) -> None:
    error = error_of(write(tmp_path, '[[axis]]\nfield = "battery[0].soc_pct"\nvalues = [5.0]\n'))
    assert "counted from 1" in error.message
    path = tmp_path / "f.toml"
    path.write_text(
        f'[sweep]\nname = "t"\nscenario = "{DRAIN}"\nfigures = ["days_untill_damage"]\n',
        encoding="utf-8",
    )
    error = error_of(path)
    assert error.line == 4
    assert error.field == "sweep.figures[1]"
    assert "did you mean 'days_until_damage'?" in error.message


def test_sweep_file_structure_errors(tmp_path: Path) -> None:
    error = error_of(write(tmp_path, '[[axis]]\nfield = "battery[1].soc_pct"\n'))
    assert "exactly one of values" in error.message
    error = error_of(
        write(tmp_path, '[[axis]]\nfield = "battery[1].soc_pct"\nrange = { start = 1, stop = 5 }\n')
    )
    assert "exactly one of step and count" in error.message
    error = error_of(write(tmp_path, "[axes]\n"))
    assert "did you mean [axis]?" in error.message
    missing = tmp_path / "m.toml"
    missing.write_text('[sweep]\nname = "t"\nscenario = "nowhere.toml"\n', encoding="utf-8")
    error = error_of(missing)
    assert error.line == 3
    assert "relative to the sweep file" in error.message


def test_axes_need_their_own_columns_and_fields(tmp_path: Path) -> None:
    error = error_of(
        write(
            tmp_path,
            '[[axis]]\nfield = "battery[1].soc_pct"\nvalues = [5.0]\n'
            '[[axis]]\nname = "status"\nfield = "battery[1].soc_pct"\nvalues = [6.0]\n',
        )
    )
    assert error.more_problems == 1
    assert "the column 'status' is taken" in error.problems[0].message
    assert "axis[1] already sets battery[1].soc_pct" in error.problems[1].message


def test_zip_needs_equal_lengths(tmp_path: Path) -> None:
    error = error_of(
        write(
            tmp_path,
            'combine = "zip"\n[[axis]]\nfield = "battery[1].soc_pct"\nvalues = [5.0, 6.0]\n'
            '[[axis]]\nfield = "device[2].current_a"\nvalues = [0.01]\n',
        )
    )
    assert error.field == "sweep.combine"
    assert "battery[1].soc_pct: 2, device[2].current_a: 1" in error.message


# --- figures -------------------------------------------------------------------------------------


def test_verdict_figures_follow_the_verdicts() -> None:
    titles = {v.title for v in verdicts(summary())}
    assert titles <= set(VERDICT_TITLES)
    assert verdict_slug("Pre-alarm (W-B12)") == "verdict_pre_alarm"
    for title in VERDICT_TITLES:
        assert verdict_slug(title) in FIGURES


# --- a variant as a file ----------------------------------------------------------------------


@pytest.mark.parametrize("example", sorted((ROOT / "examples").glob("*.toml")), ids=str)
def test_scenario_data_written_back_reads_the_same(example: Path) -> None:
    data = tomllib.loads(example.read_text(encoding="utf-8"))
    assert tomllib.loads(toml_out.dumps(data, header="variant 3\nof a sweep")) == data


def test_odd_keys_and_texts_survive() -> None:
    data = {"a b": {"x": 'say "hi"\n', "n": [1, 2.5, True], "t": {"k": 1}}, "z": [{"q": 1}]}
    assert tomllib.loads(toml_out.dumps(data)) == data
