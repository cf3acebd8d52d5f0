"""People tests: the login rate limit counts in the cache, so each test starts with it empty."""

from __future__ import annotations

import pytest
from django.core.cache import cache


@pytest.fixture(autouse=True)
def empty_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def clock(monkeypatch):
    """The rate limit's time source, moved by hand: `clock.now += 16 * 60`."""
    from accounts import throttle

    class Clock:
        now = 1_000_000.0

        def __call__(self) -> float:
            return self.now

    fake = Clock()
    monkeypatch.setattr(throttle, "clock", fake)
    return fake


@pytest.fixture(autouse=True)
def quick_password_hashing(settings):
    """These tests log in dozens of times; the real hasher is slow on purpose."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
