"""report.html: one run on one self-contained page (verdicts, plots on one time axis, events).

`write_report` is the entry point. The modules: `trace` reads and thins the trace, `plots`
draws the matplotlib figures, `svg` inlines them, `events` turns events into markers and table
rows, `page` assembles the HTML. The verdicts themselves come from `smartbms.sim.verdicts`.
"""

from smartbms.sim.report.events import MAX_EVENT_ROWS, event_details, table_events
from smartbms.sim.report.page import render_page, write_report
from smartbms.sim.report.trace import Trace, envelope, intervals, read_trace

__all__ = [
    "MAX_EVENT_ROWS",
    "Trace",
    "envelope",
    "event_details",
    "intervals",
    "read_trace",
    "render_page",
    "table_events",
    "write_report",
]
