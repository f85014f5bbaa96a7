"""Operating points for the stepper's unit tests: only the currents matter to it."""

from smartbms.plant.system import OperatingPoint


def operating_point(*battery_currents_a: float, starter_a: float = 0.0) -> OperatingPoint:
    """A point at 13.3 V with these battery currents (and the starter battery's); all else 0."""
    return OperatingPoint(
        bank_voltage_v=13.3,
        bank_emf_v=13.3,
        battery_currents_a=battery_currents_a,
        ab_voltage_v=0.0,
        ab_current_a=0.0,
        ab_limit_a=0.0,
        alternator_current_a=0.0,
        starter_current_a=starter_a,
        system_plus_voltage_v=13.3,
        system_plus_current_a=0.0,
        device_currents_a=(),
        bms_draw_a=0.0,
        short_current_a=0.0,
    )
