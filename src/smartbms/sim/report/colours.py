"""The report's colours and page geometry, shared by its plots, markers and page."""

from smartbms.core.codes import Severity

# --- colours (Okabe-Ito where series must be told apart: safe for colour-blind readers) ---------
GREEN = "#1a7f37"
AMBER = "#b58300"
ORANGE = "#d9480f"
RED = "#c92a2a"
DARK_RED = "#862e2e"
PURPLE = "#7048e8"
GREY = "#6e7781"
INK = "#1f2328"
SERIES = ("#0072B2", "#009E73", "#CC79A7", "#56B4E9", "#8c6d31", "#6a4c93")
"""Per battery; no red, orange or amber: those mean thresholds and alarms on this page."""
LED_HEX = {
    "green": "#2f9e44",
    "red": "#e03131",
    "blue": "#1c7ed6",
    "yellow": "#f1c40f",
    "orange": "#f76707",
}
SEVERITY_HEX = {Severity.ERROR: RED, Severity.ALARM: ORANGE, Severity.WARNING: AMBER}
