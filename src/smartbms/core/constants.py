"""Every implementation-defined number of the Smart BMS 12-200, in one place.

SPEC.md section 12 lists the decisions where the manual is silent; this module holds each of them
once, with a one-line reason, so no other module carries a behavioural literal. The numbers the
manual states exactly (13 V, 0.5 V / 10 s, 30 s, 10 mA, 17.5 mA, ...) are here too, tagged
"manual", so a reader can tell a fact from a choice.
"""

from typing import Final

# --- Alternator / Starter Batt+ (AB) port ---------------------------------------------------------
ALT_ENGAGE_V: Final = 13.0
"""manual §2.2: current flows only while V_AB *exceeds* 13 V (strictly greater)."""
ALT_ENGAGE_DEBOUNCE_S: Final = 1.0
"""SPEC §12: the AB port closes only after its conditions have held this long (no chatter)."""
ALT_HOLD_MARGIN_V: Final = 0.05
"""SPEC §12 (ALT-1): a sagging source is backed off to hold V_AB this far above 13 V."""
ALT_RECONNECT_HYST_V: Final = 0.5
"""manual §3.5.1d: re-enable when the bank is 0.5 V below the charge limit ..."""
ALT_RECONNECT_HOLD_S: Final = 10.0
"""manual §3.5.1d: ... for 10 consecutive seconds."""
ALT_INPUT_MAX_V: Final = 16.0
"""SPEC §12: above this the AB port stays off (transients are 'regulated down to a safe level')."""
FUSE_SENSE_REF_V: Final = 0.050
"""SPEC §12 (ALT-4): the limiter regulates the drop across the installed fuse to this value."""
ALT_CHARGING_MIN_DROP_V: Final = 0.0005
"""Chosen: fuse drop above which LED-1 says 'alternator charging' (1 % of full scale)."""

# --- BMS internal temperature ---------------------------------------------------------------------
BMS_DERATE_START_C: Final = 75.0
"""SPEC §12: the AB current limit starts derating linearly here ..."""
BMS_OVERTEMP_TRIP_C: Final = 85.0
"""SPEC §12: ... reaches 0 % here, where A-B15 trips and the AB port opens."""
BMS_OVERTEMP_RELEASE_C: Final = 70.0
"""SPEC §12: A-B15 clears only once the BMS has cooled to this (hysteresis, no chatter)."""

# --- System+ port ---------------------------------------------------------------------------------
SP_CONTINUOUS_A: Final = 200.0
"""manual §4: 200 A continuous in each direction."""
SP_OVERLOAD_MAX_S: Final = 60.0
"""SPEC §12: above SP_CONTINUOUS_A for this long is an overload (A-A12)."""
SP_PEAK_A: Final = 400.0
"""manual §4: 400 A peak discharge."""
SP_PEAK_MAX_S: Final = 0.5
"""SPEC §12: above SP_PEAK_A for this long is an overload (A-A12)."""
SP_SHORT_CIRCUIT_A: Final = 600.0
"""SPEC §12: discharge above this trips A-A12 at once."""
SP_RETRY_DELAY_S: Final = 10.0
"""SPEC §12: after an A-A12 trip the port retries after this delay ..."""
SP_RETRY_MAX: Final = 3
"""SPEC §12: ... at most this many times ..."""
SP_RETRY_WINDOW_S: Final = 300.0
"""SPEC §12: ... within this window, then it stays off until the system is switched off and on."""

# --- Outputs --------------------------------------------------------------------------------------
PREALARM_MIN_LEAD_S: Final = 30.0
"""manual §2.2: the pre-alarm trips at least 30 s before the load disconnect."""
PREALARM_BLINK_ON_S: Final = 1.0
"""SPEC §12: intermittent pre-alarm, time high."""
PREALARM_BLINK_OFF_S: Final = 1.0
"""SPEC §12: intermittent pre-alarm, time floating."""
OUTPUT_HIGH_DROP_V: Final = 0.1
"""manual §4: Load/Charge disconnect high level is V_bank - 0.1 V."""
OUTPUT_SOURCE_LIMIT_A: Final = 0.010
"""manual §4: Load/Charge disconnect source current limit (short-circuit protected)."""
PREALARM_MAX_A: Final = 1.0
"""manual §4: pre-alarm output maximum (not short-circuit protected)."""

# --- What the sensors can read (outside: a failed measurement, never a number) -------------------
MEASURABLE_V: Final = 150.0
"""Chosen: full scale of every voltage input, ±; above a 12 V system's worst load dump."""
MEASURABLE_SYSTEM_PLUS_A: Final = 100_000.0
"""Chosen: full scale of the System+ current, ±; five batteries cannot drive half of it."""
MEASURABLE_PREALARM_A: Final = 100.0
"""Chosen: full scale of the pre-alarm output's current sense, ±; 100x what damages it."""
MEASURABLE_MIN_C: Final = -55.0
"""Chosen: the internal temperature sensor's lowest reading (a silicon sensor's range) ..."""
MEASURABLE_MAX_C: Final = 150.0
"""Chosen: ... and its highest."""
MEASUREMENT_RECOVERY_S: Final = 10.0
"""Chosen: a failed measurement is trusted after this long of valid readings again (as ALT-5)."""

# --- Remote on/off terminal -----------------------------------------------------------------------
REMOTE_L_LOW_MAX_V: Final = 5.0
"""manual §4: ON when L is pulled to battery minus, V_L < 5 V."""
REMOTE_H_HIGH_MIN_V: Final = 3.0
"""manual §4: ON when H is high, V_H > 3 V."""

# --- Own consumption ------------------------------------------------------------------------------
SUPPLY_ON_A: Final = 0.0175
"""manual §4: remote ON."""
SUPPLY_OFF_ACTIVE_A: Final = 0.0065
"""manual §4: remote OFF, BMS functionality still active."""
SUPPLY_OFF_DISABLED_A: Final = 0.0045
"""manual §4: remote OFF, BMS functionality disabled."""

# --- Battery thresholds (the batteries' own cell monitors; used by the plant) --------------------
CELL_UV_DEFAULT_V: Final = 2.8
"""manual §2.2: ATD withdrawn at this cell voltage by default."""
CELL_UV_MIN_V: Final = 2.6
"""manual §2.2: lowest adjustable under-voltage threshold."""
CELL_UV_MAX_V: Final = 2.8
"""manual §2.2: highest adjustable under-voltage threshold."""
CELL_PREALARM_V: Final = 3.1
"""manual §2.2: chain pre-alarm at this cell voltage."""
CELL_OV_V: Final = 3.75
"""SPEC §12 (not public): ATC withdrawn at this cell voltage ..."""
CELL_OV_RELEASE_V: Final = 3.50
"""SPEC §12 (not public): ... and returned below this one."""
BATT_CHARGE_MIN_C: Final = 5.0
"""battery data sheet: no charging below 5 °C by default (adjustable -20...+20 °C)."""
BATT_CHARGE_MIN_RANGE_C: Final = (-20.0, 20.0)
"""battery manual: adjustable range of the low-temperature charge cut-off."""
BATT_CHARGE_MAX_C: Final = 50.0
"""battery data sheet: no charging above 50 °C."""
BATT_DISCHARGE_MIN_C: Final = -20.0
"""battery data sheet: no discharging below -20 °C."""
BATT_DISCHARGE_MAX_C: Final = 50.0
"""battery data sheet: no discharging above 50 °C."""
CELL_UV_RELEASE_V: Final = 3.2
"""Chosen: ATD returns only once every cell is back at this (real recharge, no load cycling)."""
CELL_PREALARM_RELEASE_V: Final = 3.2
"""Chosen: the pre-alarm clears once every cell is back at this (0.1 V hysteresis)."""
BATT_TEMP_HYST_C: Final = 1.0
"""Chosen: a temperature cut-off releases this far inside its limit (no chatter)."""
CELL_BALANCE_START_V: Final = 3.45
"""Chosen: a cell above this and above the lowest cell is bled (end-of-charge balancing)."""
CELL_BALANCE_TARGET_V: Final = 3.55
"""Battery manual: at the end of charge all cells converge to 3.55 V."""
CELL_BALANCE_BLEED_A: Final = 0.5
"""Chosen (not public): balancing bleed current per cell."""
CELL_BALANCED_SPREAD_V: Final = 0.02
"""Chosen: cells within this of each other at the end of charge count as balanced."""
CELL_IMBALANCE_SPREAD_V: Final = 0.10
"""Chosen: a spread above this at the end of charge is reported as an imbalance."""
DEEP_DISCHARGE_RESERVE_AH_PER_100AH: Final = 1.0
"""manual §3.1: about 1 Ah per 100 Ah remains after a low-cell-voltage shutdown."""
ALTERNATOR_OVERHEAT_S: Final = 300.0
"""manual §2.2: most alternators overheat at maximum output for more than 5 minutes."""

# --- Configuration --------------------------------------------------------------------------------
CHARGE_LIMIT_DEFAULT_V: Final = 14.2
"""manual §3.5.1d: the default battery charge limit."""
CHARGE_LIMIT_MIN_V: Final = 13.0
"""manual §3.5.1d: lowest battery charge limit."""
CHARGE_LIMIT_MAX_V: Final = 15.3
"""manual §3.5.1d: highest battery charge limit."""
CHARGE_LIMIT_STEP_V: Final = 0.01
"""Chosen: the app sets the charge limit in 10 mV steps; finer values are rounded to this."""
E_B31_POWER_OFF_MIN_S: Final = 180.0
"""manual App. B: after the factory reset, disconnect all power and wait 3 minutes."""
DEFAULT_PIN: Final = "000000"
"""manual §3.5.1: the factory pairing PIN."""
PIN_LENGTH: Final = 6
"""manual §3.5.1: the PIN has six digits."""
MAX_BATTERIES: Final = 5
"""manual §2.1: up to 5 batteries in parallel."""
MIN_BATTERIES: Final = 1
"""A bank has at least one battery (SYS-1)."""

# --- LEDs -----------------------------------------------------------------------------------------
LED_BLINK_PERIOD_S: Final = 1.0
"""Chosen: a blinking LED is lit for half of this period (displays only; no output follows it)."""
