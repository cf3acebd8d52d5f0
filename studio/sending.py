"""Sending text-only jobs to fal, from the tracker's process (studio.tracker starts it).

A job without input images needs nothing prepared: the tracker sends it as soon as it
appears (it looks every `every` seconds), with no task in a queue. That saves the task
queue's own writes and its worker's wake-up for most jobs, and the tracker is running
wherever jobs are followed anyway. Jobs with input images still go through a task
(studio.tasks.submit_generation): reading and encoding images would hold the tracker up.

Sending waits while as many jobs as the tracker has collecting threads are being saved or
were just sent and not looked at yet (each may be done already): outputs already paid for
come first (fal keeps them only minutes), and a new job would only add to the downloads
waiting. A job still running upstream after its first look does not count. Each job sent is
handed straight to the tracker's watch list, leased to it, so its first look needs no claim.
Each send is studio.jobs.submit, so its rules hold here too: the request id is stored the
moment fal returns it, and a job is never sent twice, whichever process tries.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from django.db import close_old_connections

from studio import jobs
from studio.models import Generation

logger = logging.getLogger(__name__)

# Jobs read per look at the database; the rest follow at the next look.
BATCH = 50
# Sending threads: fal takes 0.1-0.3 s to answer a submit over the internet; meanwhile the
# others send (200 jobs with a 0.15 s answer: 15.5 s on 2 threads, 4.3 s on 8).
THREADS = 8


def run(stop: threading.Event, *, wait_for_room: Callable[[float], bool], every: float = 0.1,
        done_sending: Callable[[], None] = lambda: None, hand_to: Callable[[Generation], bool] | None = None,
        share: tuple[int, int] = (0, 1)) -> None:
    """Send waiting jobs until `stop` is set. A send in progress finishes before this returns.

    `wait_for_room(timeout)` takes a place for one send as soon as the tracker has room (True),
    or gives up after `timeout` (False); `done_sending()` gives the place back once the job is
    sent and handed over (`hand_to(job)`, see jobs.submit), or not sent after all.
    `share` (i, n): this thread sends the i-th of every n waiting jobs.
    """
    mine, threads = share
    while not stop.is_set():
        sent = 0
        try:
            for generation_id in jobs.sendable_by_tracker(BATCH)[mine::threads]:
                while not wait_for_room(every):
                    if stop.is_set():
                        return
                try:
                    jobs.submit(generation_id, hand_to=hand_to)
                finally:
                    done_sending()
                sent += 1
                if stop.is_set():
                    return
        except Exception:  # the next look tries again; jobs.submit leaves every job resumable
            logger.exception("Sending waiting jobs failed")
        finally:
            close_old_connections()
        if not sent:
            stop.wait(every)


def start(stop: threading.Event, *, wait_for_room: Callable[[float], bool], every: float = 0.1,
          done_sending: Callable[[], None] = lambda: None, hand_to: Callable[[Generation], bool] | None = None,
          threads: int = THREADS) -> list[threading.Thread]:
    started = []
    for index in range(threads):
        thread = threading.Thread(target=run, args=(stop,), name=f"sender-{index}", daemon=True,
                                  kwargs={"wait_for_room": wait_for_room, "every": every, "hand_to": hand_to,
                                          "done_sending": done_sending, "share": (index, threads)})
        thread.start()
        started.append(thread)
    return started
