"""The App. B code table: every code with its cause and remedy in English (ERR-1...ERR-9)."""

import pytest

from smartbms.core import CODE_TABLE, Code, Severity, lookup_code


@pytest.mark.req("ERR-9")
def test_err9_table_holds_exactly_the_eight_codes_of_appendix_b() -> None:
    """ERR-9: E-B30, E-B31, E-B32, E-B33, A-A12, A-B11, A-B15, W-B12, each with its own row."""
    labels = {code.value for code in Code}
    assert labels == {"E-B30", "E-B31", "E-B32", "E-B33", "A-A12", "A-B11", "A-B15", "W-B12"}
    assert set(CODE_TABLE) == set(Code)
    for code, info in CODE_TABLE.items():
        assert info.code is code
        assert code.info is info


@pytest.mark.req("ERR-9")
@pytest.mark.parametrize("code", list(Code))
def test_err9_every_code_has_a_name_a_cause_and_a_remedy(code: Code) -> None:
    """ERR-9: a non-empty name, cause sentence and at least one remedy step, in English."""
    info = code.info
    assert info.name.strip()
    assert info.cause.strip().endswith(".")
    assert info.remedy
    for step in info.remedy:
        assert step.strip().endswith(".")
    text = " ".join((info.name, info.cause, *info.remedy)).lower()
    for dutch in ("storing", "accu", "onder-spanning", "kortsluiting", "zekering"):
        assert dutch not in text


@pytest.mark.req("ERR-9", "ERR-1", "ERR-2", "ERR-3", "ERR-4", "ERR-5", "ERR-6", "ERR-7", "ERR-8")
@pytest.mark.parametrize(
    ("code", "name", "severity", "cause_words", "remedy_words"),
    [
        (
            Code.E_B30,
            "Calibration failure",
            Severity.ERROR,
            ["calibration data", "corrupted or missing"],
            ["cannot be corrected by the user", "replaced"],
        ),
        (
            Code.E_B31,
            "Configuration failure",
            Severity.ERROR,
            ["configuration data", "corrupted or missing"],
            ["Reset to factory defaults", "wait 3 minutes", "Reconfigure"],
        ),
        (
            Code.E_B32,
            "Battery BMS cable not connected or defective",
            Severity.ERROR,
            ["M8", "pre-alarm", "do not support"],
            ["Pre-alarm not available", "support the pre-alarm"],
        ),
        (
            Code.E_B33,
            "Reference voltage failure",
            Severity.ERROR,
            ["reference voltage"],
            ["cannot be corrected by the user", "replaced"],
        ),
        (
            Code.A_A12,
            "Short circuit",
            Severity.ALARM,
            ["short circuit", "overload", "inrush"],
            ["short circuit", "200 A continuous", "400 A peak", "loose or high-resistance"],
        ),
        (
            Code.A_B11,
            "Under-voltage",
            Severity.ALARM,
            ["does not allow discharge"],
            ["recharge the battery", "charging system"],
        ),
        (
            Code.A_B15,
            "Over-temperature",
            Severity.ALARM,
            ["temperature", "too high"],
            ["right fuse", "loose or high-resistance", "cooler place", "active cooling"],
        ),
        (
            Code.W_B12,
            "Under-voltage warning",
            Severity.WARNING,
            ["pre-alarm", "Urgent intervention", "prevent a shutdown"],
            ["recharge the battery", "charging system"],
        ),
    ],
)
def test_err9_code_texts_translate_appendix_b(
    code: Code, name: str, severity: Severity, cause_words: list[str], remedy_words: list[str]
) -> None:
    """ERR-1/ERR-2/ERR-3/ERR-4/ERR-5/ERR-6/ERR-7/ERR-8/ERR-9: each App. B cause and remedy."""
    info = code.info
    assert info.name == name
    assert info.severity is severity
    for word in cause_words:
        assert word in info.cause
    remedy = " ".join(info.remedy)
    for word in remedy_words:
        assert word in remedy


@pytest.mark.req("ERR-2")
def test_err2_e_b31_remedy_is_the_three_steps_in_order() -> None:
    """ERR-2: (1) factory reset, (2) unpower for 3 minutes, (3) reconfigure if needed."""
    steps = Code.E_B31.info.remedy
    assert len(steps) == 3
    assert "factory defaults" in steps[0]
    assert "Settings > More options > Reset to factory defaults" in steps[0]
    assert "Disconnect all power" in steps[1]
    assert "3 minutes" in steps[1]
    assert "Reconfigure" in steps[2]


@pytest.mark.req("ERR-1", "ERR-4", "ERR-2", "ERR-3")
def test_err1_err4_not_user_correctable_internal_failures() -> None:
    """ERR-1/ERR-4/ERR-2/ERR-3: E-B30 and E-B33 are not user-correctable; E-B31 and E-B32 are."""
    assert not Code.E_B30.info.user_correctable
    assert not Code.E_B33.info.user_correctable
    assert Code.E_B31.info.user_correctable
    assert Code.E_B32.info.user_correctable


@pytest.mark.req("SAFE")
def test_safe_only_errors_put_the_bms_in_the_safe_state() -> None:
    """SAFE: the four E-codes hold the safe state; alarms and the warning do not."""
    assert {code for code in Code if code.puts_in_safe_state} == {
        Code.E_B30,
        Code.E_B31,
        Code.E_B32,
        Code.E_B33,
    }


@pytest.mark.req("ERR-9")
@pytest.mark.parametrize(
    ("label", "code"),
    [("A-B11", Code.A_B11), ("a-b11", Code.A_B11), ("AB11", Code.A_B11), (" e-b31 ", Code.E_B31)],
)
def test_err9_lookup_forgives_case_and_dash(label: str, code: Code) -> None:
    """ERR-9: the CLI and the app find a code however the user types it."""
    assert lookup_code(label) is code


@pytest.mark.req("ERR-9")
def test_err9_lookup_of_an_unknown_code_lists_the_known_ones() -> None:
    """ERR-9: an unknown code is refused with the list of codes."""
    with pytest.raises(KeyError, match="E-B30") as excinfo:
        lookup_code("X-Y99")
    for code in Code:
        assert code.value in str(excinfo.value)
