"""Shared test setup: Hypothesis profiles.

`ci` (the default under `make test`) is derandomized so a verdict is reproducible; `dev` explores
more and randomly: `pytest --hypothesis-profile=dev`.
"""

from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci",
    derandomize=True,
    max_examples=200,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile(
    "dev",
    max_examples=2000,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile("ci")
