"""Hypothesis profiles for tests/test_properties.py, and the parity report.

``ci`` (the default) runs a few dozen examples per property, derandomized so
that every run draws the same ones and the suite's time is bounded; ``long``
runs thousands, with new random draws each time, to look for what the CI
examples miss. By hand::

    HYPOTHESIS_PROFILE=long python -m pytest tests/test_properties.py

At the end of a session, the largest deviation from scikit-learn that each
parity module recorded (``_parity.DeviationLog``) is printed under the test
summary: a report, not a test.
"""

import os
import sys

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


def pytest_terminal_summary(terminalreporter):
    parity = sys.modules.get("_parity")  # imported only if a parity module ran
    logs = [log for log in getattr(parity, "LOGS", []) if log.entries]
    if logs:
        terminalreporter.section("largest deviations from scikit-learn")
        for log in logs:
            terminalreporter.write_line(log.summary())
