"""ALT-1 against a sagging source, whole system (issue 12 part 1): the AB gate engages once per
drive and stays engaged while the engine runs, whatever the alternator can give.

Every drawn installation is an alternator that may be too small for its fuse (or "smart", just
above or below 13.0 V), a bank from nearly flat to well charged, a warm or hot day, and a
timeline of engine starts/stops and smart-mode switches. The port may engage at most once per
thing that can legitimately re-engage it (an engine start, a switch back to normal mode) plus
once: it never chatters on its own threshold.
"""

import itertools

from hypothesis import given, settings
from hypothesis import strategies as st

from smartbms.core import constants as c
from smartbms.core.events import AlternatorInputDisabled, AlternatorInputEnabled
from smartbms.scenario import parse_scenario
from smartbms.sim.runner import Simulation

FUSES = ("125A", "100A", "80A", "60A", "2x30A")
ACTIONS = ("engine-start", "engine-stop", "smart", "normal")


@st.composite
def installations(draw: st.DrawFn) -> tuple[str, int]:
    """(scenario text, how many actions may re-engage the port)."""
    rated_a = draw(st.one_of(st.floats(10.0, 70.0), st.floats(70.0, 200.0)))
    regulated_v = draw(st.floats(13.2, 14.8))
    smart_v = draw(st.floats(12.4, 13.15))
    resistance_ohm = draw(st.floats(0.002, 0.05))
    soc_pct = draw(st.floats(4.0, 80.0))
    ambient_c = draw(st.floats(8.0, 45.0))  # charging allowed (5...50 °C)
    fuse = draw(st.sampled_from(FUSES))
    speed = draw(st.sampled_from(("idle", "cruising")))
    mode = draw(st.sampled_from(("normal", "smart")))
    times_min = sorted(draw(st.lists(st.floats(0.5, 55.0), min_size=1, max_size=6, unique=True)))
    actions = [draw(st.sampled_from(ACTIONS)) for _ in times_min]
    lines = [
        "[scenario]",
        'name = "sagging source"',
        "duration_h = 1",
        "trace_resolution_s = 600",
        "[environment]",
        f"ambient_c = {ambient_c}",
        "[bms]",
        f'fuse_type = "{fuse}"',
        f'installed_fuse = "{fuse}"',
        "[[battery]]",
        'model = "LFP-Smart 12.8/200"',
        f"soc_pct = {soc_pct}",
        "[alternator]",
        f"rated_current_a = {rated_a}",
        f"regulated_voltage_v = {regulated_v}",
        f"smart_voltage_v = {smart_v}",
        f"internal_resistance_ohm = {resistance_ohm}",
        f'mode = "{mode}"',
        "running = true",
        f'speed = "{speed}"',
        "[starter_battery]",
        "soc_pct = 95.0",
        "[[device]]",
        'name = "Fridge"',
        'type = "dc-load"',
        "power_w = 45.0",
    ]
    may_engage = 1
    for at_min, action in zip(times_min, actions, strict=True):
        lines += ["[[timeline]]", f"at_min = {at_min}"]
        if action in ("smart", "normal"):
            lines += ['action = "alternator-mode"', f'mode = "{action}"']
        else:
            lines.append(f'action = "{action}"')
        may_engage += action in ("engine-start", "normal")
    return "\n".join(lines) + "\n", may_engage


@given(installation=installations())
@settings(max_examples=30)
def test_alt1_a_sagging_source_engages_at_most_once_per_start(
    installation: tuple[str, int],
) -> None:
    """ALT-1: the port toggles at most (engine starts + switches to normal + 1) times an hour."""
    text, may_engage = installation
    result = Simulation(parse_scenario(text, "sagging source")).run()
    enabled = [e for e in result.events if isinstance(e, AlternatorInputEnabled)]
    disabled = [e for e in result.events if isinstance(e, AlternatorInputDisabled)]
    assert len(enabled) <= may_engage, [(type(e).__name__, e.t_s) for e in result.events]
    assert len(disabled) <= len(enabled)
    assert result.steps <= 200  # and the stepper stays calm (no 1 s deadline every second)
    # engagements are never closer than the debounce
    times = [e.t_s for e in enabled]
    assert all(b - a >= c.ALT_ENGAGE_DEBOUNCE_S for a, b in itertools.pairwise(times))
