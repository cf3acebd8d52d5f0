"""Login rate limit, per account (the username typed) and per address (REMOTE_ADDR).

Each attempt is counted *before* the password is checked, so many attempts sent at once
cannot all slip through while the first ones are still being checked. Once a counter
passes its limit, attempts are refused until its window (which starts at the first
counted attempt) is over. A successful login clears the account's counter and gives the
address its attempt back, so an office behind one address is not locked out by its own
colleagues logging in.

Counters live in Django's cache ("default" alias). The local-memory cache only counts
within one process: with several web processes, configure a shared cache (Redis or the
database cache), or each process counts separately.

The address is REMOTE_ADDR. X-Forwarded-For is not trusted (anyone can send it); behind
a reverse proxy, every request then comes from the proxy's address, so the per-address
limit counts everyone together. IPv6 addresses are grouped by /64, the block one
customer usually gets.

`clock` is looked up at every call, so tests patch it to move time forward.
"""

from __future__ import annotations

import hashlib
import ipaddress
import math
import time
import unicodedata
from dataclasses import dataclass

from django.core.cache import caches
from django.http import HttpRequest
from django.utils.translation import ngettext

CACHE_ALIAS = "default"
KEY_PREFIX = "atelier:login"


@dataclass(frozen=True)
class Limit:
    scope: str
    attempts: int
    window_seconds: int


ACCOUNT_LIMIT = Limit("account", attempts=5, window_seconds=15 * 60)
ADDRESS_LIMIT = Limit("address", attempts=20, window_seconds=15 * 60)


def clock() -> float:
    return time.time()


def register_attempt(request: HttpRequest, username: str) -> int:
    """Count one login attempt; 0 if it may go ahead, else the seconds until it may.

    Both counters advance even when one refuses, so hammering a locked address or account
    does not reset anything; the window never grows longer than it started.
    """
    now = clock()
    wait = 0.0
    for key, limit in _counters(request, username):
        count, started_at = _count(key, limit, now)
        if count > limit.attempts:
            wait = max(wait, started_at + limit.window_seconds - now)
    return math.ceil(wait) if wait > 0 else 0


def login_succeeded(request: HttpRequest, username: str) -> None:
    cache = caches[CACHE_ALIAS]
    (account_key, _), (address_key, address_limit) = _counters(request, username)
    cache.delete_many([f"{account_key}:n", f"{account_key}:t"])
    try:
        cache.decr(f"{address_key}:n")
    except ValueError:
        return  # the window ended meanwhile
    _keep_until_window_ends(address_key, address_limit, clock())


def refusal_message(wait_seconds: int) -> str:
    """The same words whether or not the account exists."""
    minutes = max(1, math.ceil(wait_seconds / 60))
    return ngettext("Too many attempts. Try again in %(count)d minute.",
                    "Too many attempts. Try again in %(count)d minutes.", minutes) % {"count": minutes}


def _counters(request: HttpRequest, username: str) -> list[tuple[str, Limit]]:
    return [
        (f"{KEY_PREFIX}:account:{_digest(_normalise(username))}", ACCOUNT_LIMIT),
        (f"{KEY_PREFIX}:address:{_digest(_address(request))}", ADDRESS_LIMIT),
    ]


def _count(key: str, limit: Limit, now: float) -> tuple[int, float]:
    """Add one to the counter; returns (count, when its window started)."""
    cache = caches[CACHE_ALIAS]
    started_at = cache.get(f"{key}:t")
    if started_at is not None and now - started_at >= limit.window_seconds:
        cache.delete_many([f"{key}:n", f"{key}:t"])  # the window is over (the cache may keep it longer)
        started_at = None
    if started_at is None:
        timeout = limit.window_seconds + 1
        cache.add(f"{key}:t", now, timeout)  # add(): of two first attempts at once, one window wins
        cache.add(f"{key}:n", 0, timeout)
        started_at = cache.get(f"{key}:t", now)
    try:
        count = cache.incr(f"{key}:n")  # atomic in the local-memory and Redis caches
    except ValueError:  # expired between the two calls
        cache.set(f"{key}:n", 1, limit.window_seconds + 1)
        count = 1
    _keep_until_window_ends(key, limit, now, started_at)
    return count, started_at


def _keep_until_window_ends(key: str, limit: Limit, now: float, started_at: float | None = None) -> None:
    # Some caches (the database cache) reset the timeout to the default on incr(); set it back.
    if started_at is None:
        started_at = caches[CACHE_ALIAS].get(f"{key}:t", now)
    remaining = max(1, math.ceil(started_at + limit.window_seconds - now))
    caches[CACHE_ALIAS].touch(f"{key}:n", remaining + 1)


def _normalise(username: str) -> str:
    # Case and Unicode variants of one name share one counter.
    return unicodedata.normalize("NFKC", username or "").strip().casefold()


def _address(request: HttpRequest) -> str:
    raw = request.META.get("REMOTE_ADDR", "") or ""
    try:
        address = ipaddress.ip_address(raw)
    except ValueError:
        return raw
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)


def _digest(value: str) -> str:
    # Cache keys stay short and printable (memcached forbids spaces), and no username is stored.
    return hashlib.sha256(value.encode("utf-8")).hexdigest()[:32]
