"""Sending text-only jobs to fal, from the tracker's process (studio.tracker starts it).

A job without input images needs nothing prepared: the tracker sends it as soon as it
appears (one of its sending threads looks every `every` seconds), with no task in a queue. That saves the task
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
import time
from collections import deque
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


class Waiting:
    """The jobs waiting to be sent, shared by the sending threads. One thread at a time looks
    for new ones in the database, every `every` seconds while none come (at once while more
    are waiting); the others sleep until it finds some."""

    def __init__(self, every: float) -> None:
        self.every = every
        self._ids: deque[str] = deque()
        self._taken: set[str] = set()  # handed to a thread and not done yet: still unsent in the database
        self._read_at = -every
        self._more = False  # the last read was cut at its limit: read again at once
        self._looking = False  # a thread is looking in the database
        self._changed = threading.Condition()

    def take(self, stop: threading.Event) -> str | None:
        """The next job to send; None once `stop` is set."""
        with self._changed:
            while not stop.is_set():
                if self._ids:
                    generation_id = self._ids.popleft()
                    self._taken.add(generation_id)
                    return generation_id
                if self._looking:
                    self._changed.wait(1.0)  # woken when the looking thread finds some
                    continue
                self._looking = True
                try:
                    self._look(stop)
                finally:
                    self._looking = False
                    self._changed.notify_all()
            return None

    def _look(self, stop: threading.Event) -> None:
        """Called holding the condition; released while sleeping and reading."""
        delay = 0.0 if self._more else self._read_at + self.every - time.monotonic()
        limit = BATCH + len(self._taken)
        self._changed.release()
        try:
            if delay > 0 and stop.wait(delay):
                return
            close_old_connections()  # honours CONN_MAX_AGE between reads
            self._read_at = time.monotonic()
            found = jobs.sendable_by_tracker(limit)
        finally:
            self._changed.acquire()
        self._more = len(found) >= limit
        self._ids.extend(generation_id for generation_id in found if generation_id not in self._taken)

    def done(self, generation_id: str) -> None:
        with self._changed:
            self._taken.discard(generation_id)


def run(stop: threading.Event, *, wait_for_room: Callable[[float], bool], every: float = 0.1,
        done_sending: Callable[[], None] = lambda: None, hand_to: Callable[[Generation], bool] | None = None,
        waiting: Waiting | None = None) -> None:
    """Send waiting jobs until `stop` is set. A send in progress finishes before this returns.

    `wait_for_room(timeout)` takes a place for one send as soon as the tracker has room (True),
    or gives up after `timeout` (False); `done_sending()` gives the place back once the job is
    sent and handed over (`hand_to(job)`, see jobs.submit), or not sent after all. `waiting`
    is the list the sending threads share (a list of its own by default).
    """
    waiting = waiting or Waiting(every)
    while not stop.is_set():
        generation_id = None
        try:
            generation_id = waiting.take(stop)
            if generation_id is None:
                return
            while not wait_for_room(every):
                if stop.is_set():
                    return
            try:
                jobs.submit(generation_id, hand_to=hand_to)
            finally:
                done_sending()
        except Exception:  # the next look tries again; jobs.submit leaves every job resumable
            logger.exception("Sending waiting jobs failed")
            stop.wait(every)
        finally:
            if generation_id is not None:
                waiting.done(generation_id)
                close_old_connections()


def start(stop: threading.Event, *, wait_for_room: Callable[[float], bool], every: float = 0.1,
          done_sending: Callable[[], None] = lambda: None, hand_to: Callable[[Generation], bool] | None = None,
          threads: int = THREADS) -> list[threading.Thread]:
    waiting = Waiting(every)
    started = []
    for index in range(threads):
        thread = threading.Thread(target=run, args=(stop,), name=f"sender-{index}", daemon=True,
                                  kwargs={"wait_for_room": wait_for_room, "every": every, "hand_to": hand_to,
                                          "done_sending": done_sending, "waiting": waiting})
        thread.start()
        started.append(thread)
    return started
