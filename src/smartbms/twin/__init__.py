"""The open twin: a Smart BMS 12-200 and its 12 V system that anyone can drive.

(Being built: `Twin`, clocks, commands, snapshots. `TwinState` is in `smartbms.twin.state`.)
"""
