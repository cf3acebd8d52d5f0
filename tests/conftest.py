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
# The fal key every test that talks to a (simulated) service uses. Nothing may ever show it.
SENTINEL_KEY = "sk-sentinel-5f3a9c1e7b"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    # An expected failure (xfail) is reported as skipped too; only real skips count here.
    if IN_CI and report.skipped and not hasattr(report, "wasxfail"):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        report.outcome = "failed"
        report.longrepr = f"Skipped under CI=true, which must run every test: {reason}"


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix, tmp_path_factory):
    """SQLite tests use a database file, not shared-cache memory.

    Browser tests run the live server and a tracker thread side by side, as production does;
    shared-cache memory databases lock whole tables ("database table is locked") where a
    file in WAL mode lets readers and the writer take turns.
    """
    from django.conf import settings

    database = settings.DATABASES["default"]
    if "sqlite" in database["ENGINE"]:  # Django's backend or ours (atelier.sqlite_backend)
        database.setdefault("TEST", {})["NAME"] = str(tmp_path_factory.mktemp("database") / "test.sqlite3")


@pytest.fixture
def media_root(settings, tmp_path):
    """Stored files go to a folder of this test's own."""
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Login throttles live in the cache: no test inherits another's counters."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _the_key_never_leaks(monkeypatch, caplog):
    """Every page and error response a test gets, and every log record, is scanned for the key."""
    import logging

    from django.test import Client

    caplog.set_level(logging.DEBUG)
    original = Client.request

    def checked(self, **request):
        response = original(self, **request)
        headers = str(dict(response.headers))
        body = b"" if response.streaming else response.content
        assert SENTINEL_KEY not in headers and SENTINEL_KEY.encode() not in body, (
            f"the fal key appeared in the answer to {request.get('PATH_INFO')}")
        return response

    monkeypatch.setattr(Client, "request", checked)
    yield
    assert SENTINEL_KEY not in caplog.text, "the fal key appeared in a log record"
