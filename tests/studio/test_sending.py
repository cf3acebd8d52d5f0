"""The tracker sends jobs without input images itself (studio.sending), with no task queue."""

from __future__ import annotations

import threading
import time

import pytest
from django_tasks_db.models import DBTaskResult

from studio import sending, tracker
from studio.models import Generation

from .conftest import make_generation

State = Generation.State


def posts(fal_service) -> int:
    return sum(hit.method == "POST" for hit in fal_service.log)


@pytest.mark.django_db(transaction=True)
def test_a_running_tracker_sends_a_new_job_and_saves_its_output(fal_service, member):
    generation = make_generation(member, "fal-ai/flux-1/dev", {"prompt": "sent by the tracker [sim: queue=0, run=0.2]"})
    stop = threading.Event()
    thread = threading.Thread(target=tracker.run_forever, kwargs={"stop": stop, "preview_processes": 0})
    thread.start()
    try:
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and not Generation.objects.get(id=generation.id).is_final:
            time.sleep(0.05)
    finally:
        stop.set()
        thread.join(timeout=15)
    generation.refresh_from_db()
    assert generation.state == State.DONE, generation.error_message
    assert generation.request_id and generation.assets.count() == 1
    assert posts(fal_service) == 1 and not DBTaskResult.objects.exists()


@pytest.mark.django_db
def test_sending_waits_while_every_collector_is_busy(fal_service, member, monkeypatch):
    monkeypatch.setattr(sending, "close_old_connections", lambda: None)  # the test's transaction stays open
    generation = make_generation(member, "fal-ai/flux-1/dev", {"prompt": "after the downloads [sim: queue=0, run=0]"})
    stop = threading.Event()
    seen_while_busy: list[int] = []

    def wait_for_room(timeout: float) -> bool:  # busy for the first three looks, then free
        if len(seen_while_busy) < 3:
            seen_while_busy.append(posts(fal_service))
            time.sleep(timeout)
            return False
        return True

    timer = threading.Timer(1.0, stop.set)
    timer.start()
    sending.run(stop, wait_for_room=wait_for_room, every=0.02)
    timer.cancel()
    generation.refresh_from_db()
    assert seen_while_busy == [0, 0, 0]
    assert posts(fal_service) == 1 and generation.state == State.QUEUED and generation.request_id


@pytest.mark.django_db
def test_a_sent_job_is_handed_to_the_tracker_leased_to_it(fal_service, member):
    from studio import jobs

    handed: list[Generation] = []
    generation = make_generation(member, "fal-ai/flux-1/dev", {"prompt": "straight to the watcher [sim: queue=1, run=1]"})
    jobs.submit(str(generation.id), hand_to=lambda row: handed.append(row) or True)
    [row] = handed
    assert row.id == generation.id and row.state == State.QUEUED and row.request_id  # what was written
    generation.refresh_from_db()
    assert generation.request_id == row.request_id
    # Leased to the tracker it was handed to: no other tracker claims it meanwhile.
    assert generation.next_check_at > jobs.timezone.now() + jobs.CLAIM_LEASE / 2
    assert jobs.claim_due() == []


@pytest.mark.django_db
def test_a_job_the_tracker_cannot_take_is_left_for_any_tracker(fal_service, member):
    from studio import jobs

    generation = make_generation(member, "fal-ai/flux-1/dev", {"prompt": "the tracker is stopping [sim: queue=1, run=1]"})
    jobs.submit(str(generation.id), hand_to=lambda row: False)
    generation.refresh_from_db()
    assert generation.state == State.QUEUED and generation.request_id
    assert jobs.claim_due() == [str(generation.id)]


def test_sending_pauses_while_as_many_jobs_as_collecting_threads_are_in_the_pipeline():
    watcher = tracker.Tracker(collect_threads=4, preview_processes=0)
    watcher._collecting = 1  # being saved
    watcher._first_look_due = {"a": time.monotonic(), "b": time.monotonic()}  # sent, not looked at yet
    assert watcher._wait_for_room(0.01) is True  # a place for one send: now 4 in the pipeline
    assert watcher._sending == 1 and watcher._wait_for_room(0.01) is False
    watcher._done_sending()  # that send is over (its job handed over or not sent after all)
    watcher._first_look_due["b"] -= tracker.FIRST_LOOK_GRACE + 1  # never looked at here: taken by another
    assert watcher._wait_for_room(0.01) is True and watcher._sending == 1
