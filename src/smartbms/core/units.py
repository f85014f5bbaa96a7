"""Times in words, one way everywhere: the report, the command line and the summary's readers.

Every time in the code and in `summary.json` is seconds; these functions are the only place
that turns seconds into what a person reads, so the page and the terminal never disagree.
"""

import math


def duration_text(seconds: float) -> str:
    """A duration as a person says it: '30.0 s', '23 min 19 s', '2 h 05 min', '7 d 16 h'."""
    s = max(seconds, 0.0)
    if s < 99.95:
        return f"{s:.1f} s"
    if round(s) < 120:
        return f"{s:.0f} s"
    if round(s) < 3600:
        m, sec = divmod(round(s), 60)
        return f"{m} min {sec:02d} s" if sec else f"{m} min"
    if round(s / 60) < 1440:
        h, m = divmod(round(s / 60), 60)
        return f"{h} h {m:02d} min" if m else f"{h} h"
    d, h = divmod(round(s / 3600), 24)
    return f"{d} d {h} h" if h else f"{d} d"


def clock_text(seconds: float, *, tenths: bool = False) -> str:
    """Time since the start as 'd hh:mm:ss' (or 'd hh:mm:ss.s'), truncated, never rounded up.

    Truncating keeps an event at 29.99 s before one at 30 s in a column of times; the 1 µs of
    slack lets a time computed as 29.9999999 still read as the 30 s it stands for.
    """
    scale = 10 if tenths else 1
    total = max(math.floor(seconds * scale + 1e-6), 0)
    whole, tenth = divmod(total, scale)
    d, rest = divmod(whole, 86400)
    h, rest = divmod(rest, 3600)
    m, s = divmod(rest, 60)
    text = f"{d} {h:02d}:{m:02d}:{s:02d}"
    return f"{text}.{tenth}" if tenths else text


_WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def wall_clock_text(
    seconds: float,
    *,
    start_time_of_day_s: float = 0.0,
    start_weekday: int | None = None,
    with_seconds: bool = True,
) -> str:
    """A time of the run as a wall clock reads it: 'Fri 16:00:05', or 'day 1 16:00:05' undated.

    `seconds` is time since the start, which was `start_time_of_day_s` after midnight of a day
    that was a `start_weekday` (0 Monday ... 6 Sunday; None: undated, day 1). Truncated like
    `clock_text`, never rounded up. (A weekday, not a date: the core keeps clear of `datetime`.)
    """
    total = max(math.floor(seconds + start_time_of_day_s + 1e-6), 0)
    days, rest = divmod(total, 86400)
    h, rest = divmod(rest, 3600)
    m, s = divmod(rest, 60)
    clock = f"{h:02d}:{m:02d}:{s:02d}" if with_seconds else f"{h:02d}:{m:02d}"
    if start_weekday is None:
        return f"day {days + 1} {clock}"
    return f"{_WEEKDAYS[(start_weekday + days) % 7]} {clock}"
