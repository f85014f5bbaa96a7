"""The twin's simulation layer: scenario files, the runner, traces, events and reports.

A scenario file (`smartbms.scenario`) describes an installation and a timeline; it is checked
at the edge, so the runner receives a complete, frozen description and never has to guess a
default or handle a malformed value.
"""
