"""report.html: one run on one self-contained page (verdicts, linked interactive charts, events).

`write_report` is the entry point. The modules: `digest` reads the trace in one streaming pass and
thins it, `charts` turns it into panels with sensible axes, `events` turns events into markers and
table rows, `page` renders the Jinja2 template (`templates/`, package data) with uPlot inlined,
and `static` (only with `--static`) draws the same panels as PNG images with matplotlib. The
verdicts themselves come from `smartbms.sim.verdicts`.
"""

from smartbms.sim.report.digest import BUCKETS, Digest, Series, digest_trace
from smartbms.sim.report.events import MAX_EVENT_ROWS, event_details, table_events
from smartbms.sim.report.page import render_page, write_report

__all__ = [
    "BUCKETS",
    "MAX_EVENT_ROWS",
    "Digest",
    "Series",
    "digest_trace",
    "event_details",
    "render_page",
    "table_events",
    "write_report",
]
