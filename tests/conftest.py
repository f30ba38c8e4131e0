"""Hypothesis profiles for tests/test_properties.py.

``ci`` (the default) runs a few dozen examples per property, derandomized so
that every run draws the same ones and the suite's time is bounded; ``long``
runs thousands, with new random draws each time, to look for what the CI
examples miss. By hand::

    HYPOTHESIS_PROFILE=long python -m pytest tests/test_properties.py
"""

import os

from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci",
    max_examples=200,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile(
    "long",
    max_examples=2000,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
