"""The tracker: one loop that watches every job in flight, many at a time.

No thread sleeps through a job. Each pass claims the jobs whose check is due (a lease in the
database, so several trackers can share the work and a dead one's jobs come back) and hands
them to a thread pool; a slow download on one thread never delays the others' checks. Jobs
collect inside the pool, at once, because fal keeps results only minutes; a lease held for
the whole download (studio.leases) makes sure exactly one tracker collects each job.
"""

from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor

from django.db import close_old_connections

from studio import jobs
from studio.leases import LeaseKeeper

logger = logging.getLogger(__name__)
# Downloads and thumbnails run on their own threads, so status checks never queue behind them.
COLLECT_THREADS = 4
# How often a tracker looks for submissions whose worker died (studio.jobs.ABANDONED_SUBMIT_AFTER).
SWEEP_SECONDS = 60.0


def _check_one(generation_id: str, claimed=None, collect_with=None) -> None:
    try:
        jobs.check(generation_id, claimed=claimed, collect_with=collect_with)
    except Exception:  # one broken job must not stop the others; its lease brings it back
        logger.exception("Checking generation %s failed", generation_id)
    finally:
        close_old_connections()


def run_forever(*, threads: int = 8, tick: float = 0.1, stop: threading.Event | None = None) -> None:
    stop = stop or threading.Event()
    busy: set[Future] = set()
    room = threading.Condition()
    logger.info("Tracker started with %d threads", threads)

    def finished(_: Future) -> None:
        with room:
            room.notify()

    collectors = ThreadPoolExecutor(max_workers=COLLECT_THREADS, thread_name_prefix="collect")
    leases = LeaseKeeper()

    def collect_later(generation) -> None:
        # Status checks never wait behind downloads and thumbnails: collecting has its own threads.
        def run() -> None:
            try:
                # Still ours after waiting for a free thread? Then keep it ours until it is saved.
                if not leases.take(generation):
                    return
                try:
                    jobs.collect(generation)
                finally:
                    leases.release(generation)
            except Exception:
                logger.exception("Collecting generation %s failed", generation.id)
            finally:
                close_old_connections()
        collectors.submit(run)

    next_sweep = 0.0
    with collectors, ThreadPoolExecutor(max_workers=threads, thread_name_prefix="track") as pool:
        while not stop.is_set():
            if time.monotonic() >= next_sweep:
                next_sweep = time.monotonic() + SWEEP_SECONDS
                try:
                    jobs.requeue_abandoned_submissions()
                except Exception:
                    logger.exception("Looking for abandoned submissions failed; trying again later")
            busy = {future for future in busy if not future.done()}
            free = threads * 2 - len(busy)  # a small backlog keeps every thread fed
            claimed = 0
            if free > 0:
                try:
                    for generation in jobs.claim_due_rows(limit=free):
                        future = pool.submit(_check_one, str(generation.id), generation, collect_later)
                        future.add_done_callback(finished)
                        busy.add(future)
                        claimed += 1
                except Exception:
                    logger.exception("Claiming due jobs failed; trying again")
                close_old_connections()
            if claimed and claimed >= free:
                # More may be due: claim again as soon as half the backlog is done, not a tick later.
                with room:
                    room.wait_for(lambda: stop.is_set() or sum(not f.done() for f in busy) <= threads, timeout=tick)
            else:
                stop.wait(tick)
    leases.stop()
