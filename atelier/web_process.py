"""A web server process, made ready for its requests before the first one arrives.

Python's cyclic garbage collector runs every few hundred allocations, and each full pass walks
every object the process holds, Django's URLconf, models and templates included, while it
holds the interpreter lock: measured under bench/load_job_cards.py, passes of 30-190 ms in
which a gunicorn worker answered nobody, and 5 % of its CPU. The objects loaded at start-up
live as long as the process, so they are frozen out of the collector's sight, and the
youngest generation is collected less often (a request's own objects are freed by reference
counting; the collector only finds cycles).

Only web server processes call `prepare()` (atelier.wsgi, atelier.asgi): tasks and the
tracker keep the interpreter's defaults.
"""

from __future__ import annotations

import gc

# Allocations (minus deallocations) between two collections of the youngest generation;
# Python's default is 700. 10,000: the collector's share of a poll measured 2.5 % -> 1.3 %,
# its longest pause 53 -> 13 ms (one process, 3,000 polls and 50 Generates).
YOUNG_THRESHOLD = 10_000


def prepare() -> None:
    """Load what the first request would, then freeze it out of the collector's walks."""
    from django.urls import get_resolver

    get_resolver().url_patterns  # imports the URLconf and every view module
    gc.collect()
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(YOUNG_THRESHOLD, middle, old)
