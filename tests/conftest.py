"""Shared test set-up.

Tests that need a service or a browser that is missing skip locally with a reason that
says how to enable them; under CI (CI=true) every skip is turned into a failure, so CI
never passes by skipping.
"""

from __future__ import annotations

import os

import pytest

pytest_plugins = [
    "tests.fixtures_simulator",
    "tests.fixtures_users",
]

IN_CI = os.environ.get("CI", "").lower() == "true"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if IN_CI and report.skipped:
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        report.outcome = "failed"
        report.longrepr = f"Skipped under CI=true, which must run every test: {reason}"


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Login throttles live in the cache: no test inherits another's counters."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()
