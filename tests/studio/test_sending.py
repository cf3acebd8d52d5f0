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
