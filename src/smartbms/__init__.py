"""smartbms: an open, faithful software Victron Smart BMS 12-200 and the 12 V system around it."""

__version__ = "0.1.0"
