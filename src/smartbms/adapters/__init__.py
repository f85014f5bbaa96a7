"""Drivers that connect the twin to the outside world (Instant Readout in `readout`)."""
