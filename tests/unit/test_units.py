"""Times in words: the one duration and clock formatter of the report and the command line."""

import pytest

from smartbms.core.units import clock_text, duration_text

DAY = 86400.0


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0.0, "0 00:00:00"),
        (1697.9, "0 00:28:17"),
        (2 * DAY + 3723.0, "2 01:02:03"),
        (-5.0, "0 00:00:00"),
    ],
)
def test_clock_text(seconds: float, text: str) -> None:
    assert clock_text(seconds) == text


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (9000.0, "0 02:30:00.0"),
        (9030.25, "0 02:30:30.2"),
        (0.29999999999, "0 00:00:00.3"),  # a float a hair short of its tenth still reads as it
        (DAY + 60.05, "1 00:01:00.0"),
    ],
)
def test_clock_text_with_tenths(seconds: float, text: str) -> None:
    assert clock_text(seconds, tenths=True) == text


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (30.0, "30.0 s"),
        (99.96, "100 s"),
        (1399.4, "23 min 19 s"),
        (1200.0, "20 min"),
        (7200.0, "2 h"),
        (7494.8, "2 h 05 min"),
        (30 * DAY, "30 d"),
        (7 * DAY + 16 * 3600.0, "7 d 16 h"),
        (-1.0, "0.0 s"),
    ],
)
def test_duration_text(seconds: float, text: str) -> None:
    assert duration_text(seconds) == text
