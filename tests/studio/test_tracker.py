"""The tracker loop (studio.tracker) against the simulator over real HTTP.

The loop runs in the test's thread with its database work done inline (the test database
lives in this thread's transaction), so these tests allow the ORM inside the event loop.
"""

from __future__ import annotations

import asyncio
import threading
import time
from concurrent.futures import Future
from datetime import timedelta

import pytest
from django.db import connections

from gallery import previews
from gallery.models import Asset
from studio import jobs, tracker
from studio.leases import LeaseKeeper
from studio.models import Generation

from .conftest import make_generation

pytestmark = pytest.mark.django_db
State = Generation.State


class Inline:
    """An executor that runs each call at once, in the caller's thread."""

    def submit(self, function, *args, **kwargs) -> Future:
        future: Future = Future()
        try:
            future.set_result(function(*args, **kwargs))
        except BaseException as error:  # noqa: BLE001 - handed to the caller like a real executor
            future.set_exception(error)
        return future

    def shutdown(self, wait: bool = True) -> None:
        pass


@pytest.fixture
def quick_tracker(fal_service, monkeypatch):
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # inline database work, see the docstring
    monkeypatch.setattr(tracker, "close_old_connections", lambda: None)  # the test's connection stays open
    monkeypatch.setattr(tracker, "FIRST_LOOKS", (0.02,))
    monkeypatch.setattr(tracker, "POLL_INTERVAL", 0.05)

    def make() -> tracker.Tracker:
        watcher = tracker.Tracker(tick=0.01, claim_every=0.02, preview_processes=0)
        watcher._db = watcher._collectors = Inline()
        # Its renewing thread would use a connection of its own; with an hour's lease it never runs.
        watcher._leases = LeaseKeeper(lease=timedelta(hours=1))
        return watcher
    return make


def watch(*trackers: tracker.Tracker, until, timeout: float = 10.0) -> None:
    """Run the trackers in one event loop until `until()` holds (checked between passes)."""
    stop = threading.Event()
    connection = connections["default"]  # the test's, holding its transaction

    async def main() -> None:
        # Database handles are per event loop; share the test's with every task of this one.
        connections["default"] = connection

        async def judge() -> None:
            deadline = asyncio.get_running_loop().time() + timeout
            while not until() and asyncio.get_running_loop().time() < deadline:
                await asyncio.sleep(0.02)
            stop.set()
        await asyncio.gather(judge(), *(t.watch(stop) for t in trackers))
    asyncio.run(main())


def submitted(member, count: int, prompt: str, **arguments) -> list[Generation]:
    rows = [make_generation(member, "fal-ai/flux-1/dev", {"prompt": f"{prompt} {i}", **arguments}) for i in range(count)]
    for row in rows:
        jobs.submit(str(row.id))
    return rows


def all_final() -> bool:
    return not Generation.objects.exclude(state__in=Generation.FINAL_STATES).exists()


def test_two_trackers_share_the_jobs_and_collect_each_once(quick_tracker, member, fal_service):
    rows = submitted(member, 6, "shared [sim: queue=0.1, run=0.2]", num_images=2)
    first, second = quick_tracker(), quick_tracker()
    watch(first, second, until=all_final)
    for row in rows:
        row.refresh_from_db()
        assert row.state == State.DONE, row.error_message
        assert row.completed_at and row.started_at and row.inference_seconds is not None
        assert sorted(row.assets.values_list("position", flat=True)) == [0, 1]
    assert Asset.objects.filter(source=Asset.Source.OUTPUT).count() == 12
    # Each job's result was fetched exactly once: nobody collected it twice.
    results = [hit for hit in fal_service.log if hit.method == "GET" and "/requests/" in hit.path
               and not hit.path.endswith("/status")]
    assert len(results) == 6


def test_a_stopped_tracker_hands_its_jobs_back_and_a_new_one_finishes_them(quick_tracker, member):
    [row] = submitted(member, 1, "restart [sim: queue=0, run=1.5]")
    watch(quick_tracker(), until=lambda: Generation.objects.filter(id=row.id, state=State.RUNNING).exists())
    row.refresh_from_db()
    assert row.state == State.RUNNING and row.started_at is not None
    # Stopped mid-job: the job is released at once, not after the lease runs out.
    assert row.next_check_at <= jobs.timezone.now()
    watch(quick_tracker(), until=all_final)
    row.refresh_from_db()
    assert row.state == State.DONE and row.assets.count() == 1


def test_logs_and_queue_positions_are_written_while_running(quick_tracker, member):
    [row] = submitted(member, 1, "logs [sim: queue=0, run=0.6]")
    seen_logs = []

    def until() -> bool:
        logs = Generation.objects.values_list("logs", flat=True).get(id=row.id)
        if logs and logs not in seen_logs:
            seen_logs.append(logs)
        return all_final()
    watch(quick_tracker(), until=until)
    assert len(seen_logs) >= 2  # the card shows new lines as they come
    row.refresh_from_db()
    assert row.state == State.DONE and row.logs[-1]["message"].startswith("Generated")


def test_a_job_cancelled_while_watched_is_never_collected(quick_tracker, member, monkeypatch):
    monkeypatch.setattr(tracker, "RENEW_EVERY", 0.05)
    [row] = submitted(member, 1, "cancel me [sim: queue=0, run=0.4]")
    cancelled = []

    def until() -> bool:
        if not cancelled and Generation.objects.filter(id=row.id, state=State.RUNNING).exists():
            cancelled.append(jobs.request_cancel(Generation.objects.get(id=row.id)))
        return bool(cancelled) and jobs.timezone.now() > row.created_at + timedelta(seconds=1.5)
    watch(quick_tracker(), until=until)
    row.refresh_from_db()
    assert cancelled == [True] and row.state == State.CANCELLED and row.assets.count() == 0


def test_passing_trouble_goes_back_to_the_database_with_backoff(quick_tracker, member):
    [row] = submitted(member, 1, "flaky [sim: server_error=1, queue=0, run=0]")
    watch(quick_tracker(), until=lambda: Generation.objects.filter(id=row.id, check_failures=1).exists())
    row.refresh_from_db()
    assert row.waiting_reason == jobs.WAITING_FOR_SERVICE and row.next_check_at > jobs.timezone.now()
    Generation.objects.filter(id=row.id).update(next_check_at=jobs.timezone.now())  # skip the wait
    watch(quick_tracker(), until=all_final)
    row.refresh_from_db()
    assert row.state == State.DONE and row.waiting_reason == "" and row.check_failures == 0


def test_outputs_are_saved_first_and_the_thumbnail_follows(quick_tracker, member, client):
    [row] = submitted(member, 1, "thumb later [sim: queue=0, run=0]")
    watch(quick_tracker(), until=all_final)
    asset = Asset.objects.get(generation=row)
    assert not asset.thumbnail and asset.thumbnail_due_at is not None
    client.force_login(member)
    # Meanwhile the gallery shows the original, and asks browsers not to keep it as the thumbnail.
    response = client.get(f"/gallery/assets/{asset.id}/thumbnail")
    assert response.status_code == 200 and response["Content-Type"] == "image/jpeg"
    assert response["Cache-Control"] == "private, no-cache"
    assert previews.make_due() == 1
    asset.refresh_from_db()
    assert asset.thumbnail and asset.thumbnail_due_at is None
    assert client.get(f"/gallery/assets/{asset.id}/thumbnail")["Content-Type"] == "image/webp"


def test_owed_thumbnails_are_made_in_a_worker_process(member, media_root, uploaded_image, monkeypatch):
    """What a restarted tracker does with thumbnails a dead one owed: makes them, once."""
    from gallery.assets import store_asset
    from gallery.ingest import receive, verify
    from PIL import Image

    from .conftest import png_bytes

    def owed(width: int, height: int, due_in: timedelta) -> Asset:
        path, size, checksum = receive([png_bytes(width, height)])
        asset = store_asset(verify(path, size, checksum), owner=member, source=Asset.Source.UPLOAD, thumbnail_later=True)
        Asset.objects.filter(id=asset.id).update(thumbnail_due_at=jobs.timezone.now() + due_in)
        return asset

    lapsed = owed(1200, 600, -timedelta(minutes=5))  # its maker's lease ran out
    held = owed(300, 300, timedelta(minutes=1))  # another maker holds it
    stop = threading.Event()
    original = previews.record

    def record(asset, made):
        original(asset, made)
        stop.set()
    monkeypatch.setattr(previews, "record", record)
    monkeypatch.setattr(previews, "close_old_connections", lambda: None)  # the test's connection stays open
    guard = threading.Timer(60, stop.set)  # a hang fails below instead of blocking the suite
    guard.daemon = True
    guard.start()
    previews.PreviewMaker(processes=1, tick=0.05).run(stop)
    guard.cancel()
    lapsed.refresh_from_db()
    held.refresh_from_db()
    assert lapsed.thumbnail_due_at is None and lapsed.thumbnail.name.endswith(f"{lapsed.id}.webp")
    with Image.open(lapsed.thumbnail.path) as thumbnail:
        assert thumbnail.format == "WEBP" and thumbnail.size == (512, 256)
    assert not held.thumbnail and held.thumbnail_due_at is not None


class Held:
    """An executor whose calls wait until the test runs them: collectors that are all busy."""

    def __init__(self) -> None:
        self.calls: list = []

    def submit(self, function, *args, **kwargs) -> Future:
        self.calls.append((function, args, kwargs))
        return Future()

    def run_all(self) -> None:
        for function, args, kwargs in self.calls:
            function(*args, **kwargs)

    def shutdown(self, wait: bool = True) -> None:
        pass


def results_fetched(fal_service) -> list[str]:
    return [hit.path for hit in fal_service.log if hit.method == "GET" and "/requests/" in hit.path
            and not hit.path.endswith("/status")]


def test_jobs_a_busy_tracker_cannot_collect_soon_are_collected_by_another(quick_tracker, member, fal_service):
    rows = submitted(member, 5, "burst [sim: queue=0, run=0.2]")
    busy = quick_tracker()
    busy.max_collecting = 2  # its collectors can take two jobs soon
    busy._collectors = Held()
    watch(busy, until=lambda: not Generation.objects.filter(state__in=[State.QUEUED, State.RUNNING]).exists())
    # It saw all five finish and kept two; the other three are due at once, for any tracker.
    assert len(busy._collectors.calls) == 2
    now = jobs.timezone.now()
    collecting = Generation.objects.filter(state=State.COLLECTING)
    assert collecting.count() == 5 and collecting.filter(next_check_at__lte=now).count() == 3

    # A second tracker with free collectors takes those three at once, not after a lease runs out.
    watch(quick_tracker(), until=lambda: Generation.objects.filter(state=State.DONE).count() == 3, timeout=5)
    assert Generation.objects.filter(state=State.DONE).count() == 3
    busy._collectors.run_all()  # the busy tracker's collectors get to its two
    for row in rows:
        row.refresh_from_db()
        assert row.state == State.DONE and row.assets.count() == 1
    assert len(results_fetched(fal_service)) == 5  # each collected once


def test_a_tracker_with_free_collectors_takes_no_more_done_jobs_than_it_can_start(quick_tracker, member):
    submitted(member, 4, "shared pool [sim: queue=0, run=0]")
    Generation.objects.update(state=State.COLLECTING, next_check_at=jobs.timezone.now())  # left for anyone
    idle = quick_tracker()
    idle.max_collecting = 3
    idle._collectors = Held()
    watch(idle, until=lambda: False, timeout=0.5)  # many claim passes
    assert len(idle._collectors.calls) == 3
    # The fourth stays due for another tracker instead of waiting behind this one's collectors.
    assert Generation.objects.filter(state=State.COLLECTING, next_check_at__lte=jobs.timezone.now()).count() == 1


def test_thumbnails_wait_while_outputs_are_being_saved_but_not_for_ever(monkeypatch):
    from concurrent.futures import ThreadPoolExecutor

    monkeypatch.setattr(previews, "MAX_HOLD_SECONDS", 0.4)
    claims: list[float] = []
    monkeypatch.setattr(previews, "claim_due", lambda room: claims.append(time.monotonic()) or [])
    monkeypatch.setattr(previews, "close_old_connections", lambda: None)
    saving = threading.Event()

    def run_maker() -> tuple[threading.Event, threading.Thread]:
        stop = threading.Event()
        maker = previews.PreviewMaker(processes=1, tick=0.02, pool_factory=ThreadPoolExecutor, busy=saving.is_set)
        thread = threading.Thread(target=maker.run, args=(stop,))
        thread.start()
        return stop, thread

    saving.set()  # a collector is saving outputs
    started = time.monotonic()
    stop, thread = run_maker()
    time.sleep(0.2)
    assert claims == []  # held back while saving
    time.sleep(0.5)
    stop.set()
    thread.join()
    assert claims and claims[0] - started >= 0.4  # but not longer than MAX_HOLD_SECONDS
    claims.clear()
    saving.clear()  # nothing being saved: thumbnails are claimed at once
    stop, thread = run_maker()
    time.sleep(0.2)
    stop.set()
    thread.join()
    assert claims


def test_the_look_that_sees_a_job_done_stores_its_result_with_it(quick_tracker, member, fal_service):
    [row] = submitted(member, 1, "result at once [sim: queue=0, run=0.1]", num_images=2)
    watcher = quick_tracker()
    watcher._collectors = Held()  # no collector runs: what is stored, the look stored
    watch(watcher, until=lambda: Generation.objects.filter(state=State.COLLECTING).exists())
    row.refresh_from_db()
    assert row.state == State.COLLECTING and len(row.result["images"]) == 2 and row.seed is not None
    assert not row.assets.exists()  # the result JSON is kept before any file is fetched
    watcher._collectors.run_all()
    row.refresh_from_db()
    assert row.state == State.DONE and row.assets.count() == 2
    assert len(results_fetched(fal_service)) == 1  # the collector did not fetch it again


def test_a_result_the_look_could_not_fetch_is_fetched_by_the_collector(quick_tracker, member, fal_service,
                                                                      monkeypatch):
    import fal as fal_package

    async def unreachable(session, handle):
        raise fal_package.NetworkError("Could not reach the service (test).")

    [row] = submitted(member, 1, "result later [sim: queue=0, run=0.1]")
    watcher = quick_tracker()
    monkeypatch.setattr(jobs.get_client(), "aresult", unreachable)
    watch(watcher, until=all_final)
    row.refresh_from_db()
    assert row.state == State.DONE and row.result and row.assets.count() == 1
    assert len(results_fetched(fal_service)) == 1
