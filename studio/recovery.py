"""Picking up after crashes, run beside the tracker's loop (studio.tracker.run_forever).

- A worker killed while submitting leaves its task marked running for ever and the job in
  "submitting". Jobs never sent are sent again (the claim makes a late original harmless);
  jobs sent without an answer are never resent: they wait for fal's webhook, or end saying
  their fate is unknown (studio.jobs.submit_outcome_unknown).
- A job whose task never reached the queue (the web process died between saving the job and
  queueing it) is sent after a grace period.
- Temporary files and half-placed outputs of dead processes are removed (gallery.scratch).
"""

from __future__ import annotations

import logging
import threading
from datetime import timedelta

from django.db import close_old_connections
from django.db.models import Q
from django.utils import timezone

from gallery import scratch
from studio import jobs
from studio.models import Generation

logger = logging.getLogger(__name__)
State = Generation.State

SWEEP_EVERY_SECONDS = 2.0
SCRATCH_EVERY_SECONDS = 10.0
# A job not picked up by any worker this long after it was made gets sent by the sweeper.
PICKUP_GRACE = timedelta(seconds=30)
BATCH = 20


def recover_submissions(limit: int = BATCH) -> int:
    """Send jobs whose submit never left; settle jobs whose submit left without an answer."""
    now = timezone.now()
    stalled = Generation.objects.filter(state=State.SUBMITTING, request_id="")
    unsent = list(stalled.filter(submit_sent_at__isnull=True)
                  .filter(Q(next_check_at__lt=now) | Q(next_check_at__isnull=True, created_at__lt=now - PICKUP_GRACE))
                  .values_list("id", flat=True)[:limit])
    for generation_id in unsent:
        logger.info("Sending generation %s again: its worker stopped before sending it", generation_id)
        jobs.submit(str(generation_id))
    unanswered = list(stalled.filter(submit_sent_at__isnull=False, next_check_at__lt=now)[:limit])
    for generation in unanswered:
        jobs.submit_outcome_unknown(generation, "its worker stopped while waiting for the answer")
    return len(unsent) + len(unanswered)


def run(stop: threading.Event) -> None:
    last_scratch = 0.0
    while not stop.is_set():
        try:
            recover_submissions()
            if timezone.now().timestamp() - last_scratch >= SCRATCH_EVERY_SECONDS:
                last_scratch = timezone.now().timestamp()
                scratch.sweep()
        except Exception:  # the next sweep tries again
            logger.exception("Recovery sweep failed")
        finally:
            close_old_connections()
        stop.wait(SWEEP_EVERY_SECONDS)


def start(stop: threading.Event) -> threading.Thread:
    thread = threading.Thread(target=run, args=(stop,), name="recovery", daemon=True)
    thread.start()
    return thread
