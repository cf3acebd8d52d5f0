"""The one place that builds a fal client from settings. Views never talk to fal."""

from __future__ import annotations

import functools

from django.conf import settings

from fal import FalClient, RetryPolicy


def get_client() -> FalClient:
    return _client(settings.FAL_BASE_URL, settings.FAL_KEY, settings.FAL_AUTH_SCHEME, settings.FAL_TIMEOUT_SECONDS)


@functools.lru_cache(maxsize=4)
def _client(base_url: str, key: str, auth_scheme: str, timeout: int) -> FalClient:
    # One shared client per process: httpx pools are thread-safe and keep connections warm.
    # Few in-call retries: a job that keeps failing is rescheduled instead of holding a thread.
    return FalClient(base_url, key, auth_scheme=auth_scheme, timeout=timeout,
                     retry=RetryPolicy(max_attempts=3, base_delay=0.5, max_delay=5.0), max_retry_after=10.0)
