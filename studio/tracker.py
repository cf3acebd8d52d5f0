"""The tracker: one event loop that watches every job in flight.

Each pass claims the jobs whose check is due (a lease in the database, so several trackers
can share the work and a dead one's jobs come back after CLAIM_LEASE) and keeps them: their
status is polled from one asyncio loop with aiohttp, so 1,000 jobs in flight cost no
thread each and no thread hand-off per poll. Only what a person would see (state, queue
position, new log lines) is written, for all jobs of a pass in one transaction; the leases of
every watched job are renewed together. Database work runs on one thread of its own, in order.

The look that sees a job done also fetches its result JSON, written with "collecting" in the
same transaction. Completed jobs are collected at once (fal keeps results only minutes) on
their own threads, so polls never wait behind downloads; a lease held for the whole download
(studio.leases) makes sure exactly one tracker collects each job. A tracker keeps only as
many completed jobs as its collectors can start soon (COLLECT_BACKLOG); the others go back to
the database at once for any tracker with a free collector, so when many jobs finish together
every tracker's collectors share them instead of one tracker queueing hundreds while the others
idle. Their thumbnails follow in a worker process (gallery.previews), so "saved" never waits
for the WebP encoder. Its sender threads (studio.sending) send new jobs without input images,
and its recovery thread (studio.recovery) sends submissions whose worker died before sending
them.
"""

from __future__ import annotations

import asyncio
import heapq
import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from django.db import close_old_connections

import fal
from atelier.rows import RowQuery
from gallery.previews import PreviewMaker
from studio import jobs, recovery, sending
from studio.leases import LeaseKeeper
from studio.models import Generation

logger = logging.getLogger(__name__)
State = Generation.State

# Downloads and saving run on their own threads, so status polls never queue behind them.
# Collecting mostly waits (on the service, on SQLite's write lock), so more threads than cores.
COLLECT_THREADS = 16
# Completed jobs a tracker holds for its collectors, per collecting thread (running or next).
COLLECT_BACKLOG = 2
# Status requests in the air at once (and connections to the service): a look costs little CPU,
# but on a busy machine each one waits tens of milliseconds for its answer.
CONCURRENCY = 128
# The most jobs one tracker watches; more stay in the database for another tracker.
MAX_WATCHED = 5000
# How often a watched job is looked at: soon after submission, then every POLL_INTERVAL.
FIRST_LOOKS = (0.25, 0.5)
POLL_INTERVAL = 1.0
# A job handed over by our sender and not looked at within this long no longer holds sending up.
FIRST_LOOK_GRACE = 5.0
# Thumbnails start once no output has been saved for this long (gallery.previews waits meanwhile).
QUIET_AFTER_SAVING = 0.3
# Leases of watched jobs are renewed well before they run out (a third of jobs.CLAIM_LEASE).
RENEW_EVERY = jobs.CLAIM_LEASE.total_seconds() / 3


@dataclass(order=True)
class _Due:
    at: float
    generation_id: str = field(compare=False)


@dataclass
class _Watched:
    row: Generation  # only jobs._CHECK_FIELDS are loaded: never touch another field here
    looks: int = 0
    polling: bool = False


class Tracker:
    def __init__(self, *, concurrency: int = CONCURRENCY, collect_threads: int = COLLECT_THREADS,
                 tick: float = 0.05, claim_every: float = 0.1, preview_processes: int = 1,
                 collect_backlog: int = COLLECT_BACKLOG) -> None:
        self.concurrency = concurrency
        self.collect_threads = collect_threads
        self.max_collecting = max(1, collect_threads * collect_backlog)
        self._collecting = 0  # collects handed to our threads and not finished yet
        self._collecting_lock = threading.Lock()
        self._room_freed = threading.Condition(self._collecting_lock)  # wakes senders waiting for room
        self.tick = tick
        self.claim_every = claim_every
        self._last_saved = 0.0  # time.monotonic() when a collect last ended
        # Thumbnails wait while outputs are being saved (for at most previews.MAX_HOLD_SECONDS).
        self.previews = (PreviewMaker(processes=preview_processes, busy=self._saving_outputs)
                         if preview_processes else None)
        self.watched: dict[str, _Watched] = {}
        self._due: list[_Due] = []  # heap of next looks
        self._changes: dict[str, dict] = {}  # per job, written at the next flush
        self._failures: list[tuple[Generation, fal.FalError]] = []
        self._in_air = 0
        self._leases = LeaseKeeper()
        self._loop: asyncio.AbstractEventLoop | None = None  # while watch() runs
        # Jobs our sender handed over, not looked at yet: id -> time.monotonic() (under _collecting_lock).
        self._first_look_due: dict[str, float] = {}
        self._sending = 0  # sends in the air (under _collecting_lock)

    # --- Running ------------------------------------------------------------------------
    def run(self, stop: threading.Event) -> None:
        recovery.start(stop)  # crashed submissions and dead processes' files, on its own thread
        senders = sending.start(stop, wait_for_room=self._wait_for_room, done_sending=self._done_sending,
                                every=self.claim_every, hand_to=self._hand_over)
        preview_thread = None
        if self.previews is not None:
            preview_thread = threading.Thread(target=self.previews.run, args=(stop,), name="previews", daemon=True)
            preview_thread.start()
        # All database work of the loop happens on this one thread, in order.
        self._db = ThreadPoolExecutor(max_workers=1, thread_name_prefix="tracker-db")
        self._collectors = ThreadPoolExecutor(max_workers=self.collect_threads, thread_name_prefix="collect")
        try:
            asyncio.run(self.watch(stop))
        finally:
            for sender in senders:
                sender.join()  # a send in the air lands and its request id is stored
            self._collectors.shutdown(wait=True)
            self._leases.stop()
            self._db.submit(close_old_connections).result()
            self._db.shutdown(wait=True)
            if preview_thread is not None:
                preview_thread.join()

    async def watch(self, stop: threading.Event) -> None:
        """The loop itself; `run` sets up the threads it uses (tests may supply their own)."""
        self._completed = asyncio.Event()  # a look saw a job finish: write (and collect) it now
        client = jobs.get_client()
        http = client.open_async(max_connections=self.concurrency)
        try:
            async with http:
                self._client, self._http, self._loop = client, http, asyncio.get_running_loop()
                # Two tasks: looks start on time even while the database is slow (SQLite may
                # wait for its write lock behind a submit or a collect).
                await asyncio.gather(self._look_loop(client, http, stop), self._database_loop(stop))
                while self._in_air:  # let the looks in the air land, then write them
                    await asyncio.sleep(self.tick)
                await self._flush()
        finally:
            self._loop = None  # the sender hands no more jobs over: they go back to the database
            # Hand the watched jobs back, so a restarted tracker looks at them at once.
            await self._in_db(jobs.release, list(self.watched))

    async def _look_loop(self, client: fal.FalClient, http, stop: threading.Event) -> None:
        loop = asyncio.get_running_loop()
        while not stop.is_set():
            self._start_due_looks(client, http, loop)
            await asyncio.sleep(self.tick)

    async def _database_loop(self, stop: threading.Event) -> None:
        last_claim = last_renew = 0.0
        while not stop.is_set():
            now = time.monotonic()
            if now - last_claim >= self.claim_every:
                last_claim = now
                await self._claim()
            if self._changes or self._failures:
                await self._flush()
            if now - last_renew >= RENEW_EVERY:
                last_renew = now
                await self._renew()
            try:
                await asyncio.wait_for(self._completed.wait(), timeout=self.tick)
            except asyncio.TimeoutError:
                pass
            self._completed.clear()

    async def _in_db(self, function, *args):
        def run():
            close_old_connections()  # honours CONN_MAX_AGE and drops broken connections
            return function(*args)
        return await asyncio.get_running_loop().run_in_executor(self._db, run)

    # --- Claiming and leases --------------------------------------------------------------
    async def _claim(self) -> None:
        room = MAX_WATCHED - len(self.watched)
        if room <= 0:
            return
        try:
            rows = await self._in_db(jobs.claim_due_rows, min(room, 500), self._collect_room())
        except Exception:
            logger.exception("Claiming due jobs failed; trying again")
            return
        now = time.monotonic()
        for row in rows:
            generation_id = str(row.id)
            if row.state == State.COLLECTING:
                self._collect(generation_id, row.next_check_at)  # the lease claim_due_rows wrote
            elif generation_id not in self.watched:
                self.watched[generation_id] = _Watched(row)
                heapq.heappush(self._due, _Due(now, generation_id))

    async def _renew(self) -> None:
        if not self.watched:
            return
        held = list(self.watched)
        try:
            still = await self._in_db(jobs.renew_leases, held)
        except Exception:
            logger.exception("Renewing the claims on watched jobs failed; trying again")
            return
        for generation_id in held:
            if generation_id not in still:
                self.watched.pop(generation_id, None)  # cancelled, failed or collected elsewhere

    # --- Looking --------------------------------------------------------------------------
    def _start_due_looks(self, client: fal.FalClient, http, loop: asyncio.AbstractEventLoop) -> None:
        now = time.monotonic()
        while self._due and self._due[0].at <= now and self._in_air < self.concurrency:
            generation_id = heapq.heappop(self._due).generation_id
            watched = self.watched.get(generation_id)
            if watched is None or watched.polling:
                continue
            watched.polling = True
            self._in_air += 1
            loop.create_task(self._look(client, http, watched))

    async def _look(self, client: fal.FalClient, http, watched: _Watched) -> None:
        row = watched.row
        generation_id = str(row.id)
        try:
            try:
                status = await client.astatus(http, client.handle_for(row.model_id, row.request_id))
            except fal.FalError as error:
                # Written at the next flush with the usual backoff; the job goes back to the database.
                self._failures.append((row, error))
                self.watched.pop(generation_id, None)
                return
            except Exception:
                logger.exception("Looking at generation %s failed", generation_id)
                self._schedule(watched, POLL_INTERVAL)
                return
            changes = jobs.status_changes(row, status, _now())
            if changes.get("state") == State.COLLECTING:
                # Fetched here, it is stored with "collecting" in one write: the collector goes
                # straight to the files. Trouble is left to the collector, which handles it.
                try:
                    changes.update(jobs.result_changes(
                        await client.aresult(http, client.handle_for(row.model_id, row.request_id))))
                except fal.FalError:
                    pass  # the collector fetches it again and handles what went wrong
                except Exception:
                    logger.exception("Fetching the result of %s failed; its collector fetches it", generation_id)
            if changes:
                self._changes.setdefault(generation_id, {}).update(changes)
                for name, value in changes.items():
                    if name in jobs._CHECK_FIELDS:
                        setattr(row, name, value)  # the next look compares with what was written
            if isinstance(status, fal.Completed):
                self.watched.pop(generation_id, None)  # collected (or failed) after the flush
                self._completed.set()
            else:
                watched.looks += 1
                self._schedule(watched, FIRST_LOOKS[watched.looks - 1] if watched.looks <= len(FIRST_LOOKS)
                               else POLL_INTERVAL)
        finally:
            watched.polling = False
            self._in_air -= 1
            if generation_id in self._first_look_due:
                with self._room_freed:
                    self._first_look_due.pop(generation_id, None)
                    self._room_freed.notify_all()
            self._start_due_looks(client, http, asyncio.get_running_loop())  # the freed slot at once

    # --- Jobs our sender just sent ---------------------------------------------------------
    def _hand_over(self, row: Generation) -> bool:
        """From the sender thread: watch this job, leased to us, from now (False: we are stopping)."""
        loop = self._loop
        if loop is None:
            return False
        generation_id = str(row.id)
        with self._collecting_lock:
            self._first_look_due[generation_id] = time.monotonic()
        try:
            loop.call_soon_threadsafe(self._watch_handed, row)
        except RuntimeError:  # the loop has just closed
            with self._collecting_lock:
                self._first_look_due.pop(generation_id, None)
            return False
        return True

    def _watch_handed(self, row: Generation) -> None:
        generation_id = str(row.id)
        if generation_id not in self.watched:
            self.watched[generation_id] = _Watched(row)
            heapq.heappush(self._due, _Due(time.monotonic(), generation_id))
        self._start_due_looks(self._client, self._http, asyncio.get_running_loop())

    def _schedule(self, watched: _Watched, after: float) -> None:
        heapq.heappush(self._due, _Due(time.monotonic() + after, str(watched.row.id)))

    # --- Writing --------------------------------------------------------------------------
    async def _flush(self) -> None:
        changes, self._changes = self._changes, {}
        failures, self._failures = self._failures, []
        ours = self._share_what_we_cannot_collect(changes)
        try:
            collecting, gone = await self._in_db(_write, changes, failures)
        except Exception:
            logger.exception("Writing the status of %d jobs failed; trying again", len(changes))
            for generation_id, older in changes.items():  # newer changes found meanwhile win
                self._changes[generation_id] = {**older, **self._changes.get(generation_id, {})}
            self._failures[:0] = failures
            return
        for generation_id in gone:
            self.watched.pop(generation_id, None)
        for generation_id in collecting & ours:
            self._collect(generation_id, changes[generation_id]["next_check_at"])  # the lease we wrote

    # --- Collecting -----------------------------------------------------------------------
    def _collect_room(self) -> int:
        with self._collecting_lock:
            return max(0, self.max_collecting - self._collecting)

    def _saving_outputs(self) -> bool:
        """Whether outputs are being saved, or were a moment ago (a burst of them comes in waves)."""
        with self._collecting_lock:
            return self._collecting > 0 or time.monotonic() - self._last_saved < QUIET_AFTER_SAVING

    def _wait_for_room(self, timeout: float) -> bool:
        """Wait up to `timeout` until fewer jobs than we have collecting threads are being sent,
        or were sent and not looked at yet, or are being saved (each may be done already), then
        take a place for one send (studio.sending; given back by _done_sending). A job still
        running upstream after its first look does not count, so any number can be in flight."""
        def room() -> bool:
            now = time.monotonic()
            for generation_id, since in list(self._first_look_due.items()):
                if now - since > FIRST_LOOK_GRACE:  # taken from us meanwhile: never looked at here
                    del self._first_look_due[generation_id]
            return self._sending + len(self._first_look_due) + self._collecting < self.collect_threads
        with self._room_freed:
            if not self._room_freed.wait_for(room, timeout):
                return False
            self._sending += 1
            return True

    def _done_sending(self) -> None:
        with self._room_freed:
            self._sending -= 1
            self._room_freed.notify_all()

    def _share_what_we_cannot_collect(self, changes: dict[str, dict]) -> set[str]:
        """Keep the completed jobs our collectors can take soon; make the rest due now, for anyone.

        Without this, the tracker that saw most of a burst of completions would queue them all
        behind its own threads while other trackers' collectors idle. Returns the ids kept.
        """
        room = self._collect_room()
        now = _now()
        ours: set[str] = set()
        for generation_id, change in changes.items():
            if change.get("state") != State.COLLECTING:
                continue
            if len(ours) < room:
                ours.add(generation_id)
            else:
                change["next_check_at"] = now  # any tracker's next claim takes it (ours too)
        return ours

    def _collect(self, generation_id: str, lease) -> None:
        with self._collecting_lock:
            self._collecting += 1

        def run() -> None:
            try:
                generation = _COLLECTING.get(generation_id, State.COLLECTING)
                if generation is None:
                    return
                # Still ours after waiting for a free thread (our lease is the token)? Then keep
                # it ours until it is saved; a tracker that took it over meanwhile collects it.
                current, generation.next_check_at = generation.next_check_at, lease
                if not self._leases.take(generation, current):
                    return
                try:
                    jobs.collect(generation)
                finally:
                    self._leases.release(generation)
            except Exception:
                logger.exception("Collecting generation %s failed", generation_id)
            finally:
                with self._collecting_lock:
                    self._collecting -= 1
                    self._last_saved = time.monotonic()
                    self._room_freed.notify_all()
                close_old_connections()
                if self.previews is not None:
                    self.previews.nudge()
        self._collectors.submit(run)


# The job a collector takes, by a statement built once (the ORM's query building cost more).
_COLLECTING = RowQuery(Generation, "id", "state")


def _write(changes: dict[str, dict], failures: list[tuple[Generation, fal.FalError]]) -> tuple[set[str], set[str]]:
    collecting, gone = jobs.record_statuses(changes) if changes else (set(), set())
    for row, error in failures:
        try:
            jobs._check_failed(row, error)
        except Exception:
            logger.exception("Recording a failed look at %s failed; its lease brings it back", row.id)
    return collecting, gone


def _now():
    from django.utils import timezone

    return timezone.now()


def run_forever(*, stop: threading.Event | None = None, **options) -> None:
    """Track until `stop` is set (see Tracker for the options)."""
    logger.info("Tracker started")
    Tracker(**options).run(stop or threading.Event())
