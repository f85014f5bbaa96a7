"""Every example in examples/ is checked with its findings pinned; the JSON output matches the
published schema docs/schemas/check.schema.json; exit codes; invalid files (issue 15)."""

import json
from pathlib import Path

import pytest
from pydantic import ValidationError

from smartbms import scenario as sc
from smartbms.check import (
    check_file,
    check_files,
    check_text,
    exit_code,
    from_json,
    json_schema_text,
    to_json,
)

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = ROOT / "docs" / "schemas" / "check.schema.json"
EXAMPLES = sorted(
    p.relative_to(ROOT).as_posix()
    for p in (ROOT / "examples").rglob("*.toml")
    if "sweeps" not in p.parts  # sweep files name a scenario; they are not installations
)

E, W = "error", "warning"
EXPECTED: dict[str, tuple[tuple[str, str], ...]] = {
    "examples/bms-cable-unplugged.toml": (("CHK-9", E),),
    "examples/check/good-van.toml": (),
    "examples/check/many-mistakes.toml": (
        ("CHK-2", E),
        ("CHK-5", E),
        ("CHK-6", E),
        ("CHK-7", E),
        ("CHK-9", E),
        ("CHK-10", E),
        ("CHK-10", E),
        ("CHK-3", W),
        ("CHK-4", W),
        ("CHK-8", W),
        ("CHK-11", W),
        ("CHK-12", W),
        ("CHK-13", W),
    ),
    "examples/cold-morning.toml": (("CHK-9", E),),
    "examples/fuse-mismatch.toml": (("CHK-2", E), ("CHK-9", W)),
    "examples/manual-figure-1.toml": (("CHK-9", W),),
    "examples/manual-figure-2.toml": (("CHK-9", E),),
    "examples/residual-drain-200ah-alternator-only.toml": (
        ("CHK-1", E),
        ("CHK-9", E),
        ("CHK-8", W),
    ),
    "examples/residual-drain-200ah-remote-on.toml": (("CHK-1", E), ("CHK-9", E), ("CHK-8", W)),
    "examples/residual-drain-200ah.toml": (("CHK-1", E), ("CHK-8", W), ("CHK-9", W)),
    "examples/smart-alternator.toml": (("CHK-9", E), ("CHK-13", W)),
    "examples/system-plus-short.toml": (("CHK-9", E),),
    "examples/weak-cell.toml": (("CHK-9", E),),
}


def test_every_example_has_its_expected_findings_pinned() -> None:
    assert sorted(EXPECTED) == EXAMPLES


@pytest.mark.parametrize("example", EXAMPLES)
def test_example_findings(example: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    report = check_file(example)
    found = tuple((f.rule, f.severity) for f in report.findings)
    assert found == (*EXPECTED[example], ("CHK-14", "info"))
    assert report.budget is not None
    assert report.exit_code == (1 if any(s == E for _, s in EXPECTED[example]) else 0)
    for f in report.findings:
        assert f.message.endswith(".")
        assert "§" in f.fix or "App." in f.fix or f.rule == "CHK-14"
        if f.rule != "CHK-14":
            assert f.where.line is not None
            assert f.where.field


def test_the_manuals_residual_drain_example_in_numbers(monkeypatch: pytest.MonkeyPatch) -> None:
    """§3.1: 10 mA on 200 Ah damages after about 8 days (5.5 mA alarm + 4.5 mA BMS switched off)."""
    monkeypatch.chdir(ROOT)
    [chk9] = [
        f for f in check_file("examples/residual-drain-200ah.toml").findings if f.rule == "CHK-9"
    ]
    assert "10.0 mA" in chk9.message
    assert "2 Ah reserve lasts 8.3 days" in chk9.message
    assert chk9.where == type(chk9.where)(29, "device[2]")


def test_good_van_budget(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    budget = check_file("examples/check/good-van.toml").budget
    assert budget is not None
    assert budget.ah_out_per_day == pytest.approx(297.7)
    assert budget.ah_in_per_day == pytest.approx(118.2)
    assert budget.autonomy_days == pytest.approx(2.21)
    assert budget.drive_h_per_day == pytest.approx(2.99)


# --- JSON and its schema --------------------------------------------------------------------------


def test_the_committed_schema_is_the_generated_one() -> None:
    """docs/schemas/check.schema.json: regenerate with `smartbms.check.json_schema_text()`."""
    assert SCHEMA.read_text(encoding="utf-8") == json_schema_text()


def test_json_output_validates_against_the_published_schema(tmp_path: Path) -> None:
    jsonschema_rs = pytest.importorskip("jsonschema_rs")  # in dev through schemathesis
    bad = tmp_path / "bad.toml"
    bad.write_text('[bms]\ninstalled_fuse = "70A"\n', encoding="utf-8")
    reports = check_files([*(ROOT / e for e in EXAMPLES), bad])
    data = json.loads(to_json(reports))
    assert isinstance(data, list)
    assert len(data) == len(EXAMPLES) + 1
    validator = jsonschema_rs.validator_for(json.loads(SCHEMA.read_text(encoding="utf-8")))
    assert validator.is_valid(data)
    assert set(data[0]) == {"file", "findings", "budget"}
    assert set(data[0]["findings"][0]) == {"rule", "severity", "message", "fix", "where"}
    assert set(data[0]["findings"][0]["where"]) == {"line", "field"}
    assert set(data[0]["budget"]) == {
        "ah_in_per_day",
        "ah_out_per_day",
        "wh_in_per_day",
        "wh_out_per_day",
        "autonomy_days",
        "drive_h_per_day",
    }
    assert not validator.is_valid([{**data[0], "extra": 1}])
    assert not validator.is_valid(
        [{**data[0], "findings": [{**data[0]["findings"][0], "rule": "X"}]}]
    )


def test_json_reads_back_and_refuses_a_wrong_shape() -> None:
    reports = [check_file(ROOT / "examples/check/many-mistakes.toml")]
    assert from_json(to_json(reports)) == reports
    with pytest.raises(ValidationError):
        from_json('[{"file": "x", "findings": [], "budget": null, "more": 1}]')
    with pytest.raises(ValidationError):
        from_json(
            '[{"file": "x", "findings": [{"rule": "CHK-1", "severity": "fatal"}], "budget": null}]'
        )


# --- invalid files and exit codes -----------------------------------------------------------------


def test_an_invalid_file_is_reported_not_raised(tmp_path: Path) -> None:
    path = tmp_path / "van.toml"
    path.write_text(
        '[bms]\ninstalled_fuse = "80A"\n\n[[battery]]\nmodel = "LFP-Smart 12.8/201"\n',
        encoding="utf-8",
    )
    report = check_file(path)
    assert report.invalid
    assert report.exit_code == 2
    [f] = report.findings
    assert (f.rule, f.severity) == ("FILE", "error")
    assert f.where.line == 5
    assert f.where.field == "battery[1].model"
    assert "unknown battery model" in f.message
    missing = check_file(tmp_path / "missing.toml")
    assert missing.exit_code == 2
    assert "cannot read the file" in missing.findings[0].message


def test_a_design_needs_no_scenario_section_or_timeline_but_a_run_still_does() -> None:
    text = (
        '[bms]\nfuse_type = "60A"\ninstalled_fuse = "60A"\n\n'
        '[[battery]]\nmodel = "LFP-Smart 12.8/100"\n'
    )
    assert not check_text(text, "design.toml").invalid
    with pytest.raises(sc.ScenarioError, match=r"\[scenario\]"):
        sc.parse_scenario(text, "design.toml")
    partial = '[scenario]\ndescription = "no name, no duration"\n\n' + text
    assert sc.parse_scenario(partial, "van.toml", design_only=True).scenario.name == "van"
    with pytest.raises(sc.ScenarioError, match="duration"):
        sc.parse_scenario(partial, "van.toml")


def test_exit_code_is_the_highest_over_the_files(tmp_path: Path) -> None:
    good = check_file(ROOT / "examples/check/good-van.toml")
    bad = check_file(ROOT / "examples/check/many-mistakes.toml")
    broken = check_file(tmp_path / "none.toml")
    assert exit_code([]) == 0
    assert exit_code([good]) == 0
    assert exit_code([good, bad]) == 1
    assert exit_code([bad, broken, good]) == 2


def test_docs_name_every_rule() -> None:
    text = (ROOT / "docs" / "check.md").read_text(encoding="utf-8")
    for n in range(1, 15):
        assert f"### CHK-{n} " in text
    for n in range(1, 7):
        assert f"CHK-S{n}" in text


def test_simulated_findings_come_after_the_rules_of_their_severity() -> None:
    report = check_file(ROOT / "examples/check/good-van.toml", simulate=True, workers=1)
    rules = [f.rule for f in report.findings]
    assert rules == ["CHK-14", *(f"CHK-S{n}" for n in range(1, 7))]
