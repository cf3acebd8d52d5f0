"""Holding a job while it is collected, so that exactly one tracker collects it.

A claim is a lease: `next_check_at` set a minute ahead (studio.jobs.CLAIM_LEASE). The value
we wrote is our token. Before collecting, a tracker renews the lease only if the token is
still the one it wrote, and it keeps renewing while the download runs; a tracker that died
stops renewing, the lease runs out, and another tracker takes the job over (collecting is
idempotent: outputs already saved are skipped). A tracker that stalled past its lease finds
its token replaced and leaves the job to the one that took it.
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime, timedelta

from django.db import close_old_connections
from django.utils import timezone

from studio import jobs
from studio.models import Generation

logger = logging.getLogger(__name__)


class LeaseKeeper:
    def __init__(self, lease: timedelta | None = None) -> None:
        self._lease = lease or jobs.CLAIM_LEASE
        self._held: dict[str, datetime] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def take(self, generation: Generation, current: datetime | None = None) -> bool:
        """Renew our claim on a collecting job; False when it is no longer ours to collect.

        `current` is the lease as just read from the row: when it is still our token with most
        of its time left, the job is ours without a write (nobody takes a lease over before it
        runs out), and the renewing thread extends it in time.
        """
        token = generation.next_check_at
        if token is not None and current == token and token - timezone.now() > self._lease / 2:
            renewed = token
        else:
            renewed = self._renew(str(generation.id), token)
        if renewed is None:
            return False
        generation.next_check_at = renewed
        with self._lock:
            self._held[str(generation.id)] = renewed
            if self._thread is None:
                self._thread = threading.Thread(target=self._keep, name="leases", daemon=True)
                self._thread.start()
        return True

    def release(self, generation: Generation) -> None:
        with self._lock:
            self._held.pop(str(generation.id), None)

    def stop(self) -> None:
        self._stop.set()

    def _renew(self, generation_id: str, token: datetime | None) -> datetime | None:
        if token is None:
            return None
        until = timezone.now() + self._lease
        updated = Generation.objects.filter(id=generation_id, state=Generation.State.COLLECTING,
                                            next_check_at=token).update(next_check_at=until)
        return until if updated else None

    def _keep(self) -> None:
        # A third of the lease: two renewals may fail (a slow database) before the lease runs out.
        while not self._stop.wait(self._lease.total_seconds() / 3):
            with self._lock:
                held = list(self._held.items())
                if not held:  # nothing to keep: the next take() starts a new thread
                    self._thread = None
                    return
            for generation_id, token in held:
                try:
                    renewed = self._renew(generation_id, token)
                except Exception:
                    logger.exception("Renewing the claim on %s failed", generation_id)
                    continue
                with self._lock:
                    if self._held.get(generation_id) != token:
                        continue  # released meanwhile
                    if renewed is None:
                        self._held.pop(generation_id)  # done, rescheduled, or taken over
                    else:
                        self._held[generation_id] = renewed
            close_old_connections()
