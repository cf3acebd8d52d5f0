"""A worker that dies while submitting: the job is sent exactly once, or ends saying its fate
is unknown, never hangs and is never sent twice. fal's webhook brings back a request id whose
submit answer was lost. (The crash suite does the same with real processes and SIGKILL.)"""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

import fal
from studio import jobs, recovery
from studio.models import Generation
from studio.webhooks import webhook_url
from tests.studio.conftest import drive, make_generation

State = Generation.State


def submits(simulator) -> int:
    return sum(1 for hit in simulator.log if hit.method == "POST" and hit.path.startswith("/fal-ai/"))


def lapse(generation: Generation, **fields) -> None:
    """The claim of a worker that died has run out."""
    Generation.objects.filter(id=generation.id).update(next_check_at=timezone.now() - timedelta(seconds=1), **fields)


@pytest.mark.django_db
def test_a_job_whose_worker_died_before_sending_is_sent_once_by_the_sweeper(fal_service, member):
    generation = make_generation(member, "fal-ai/flux-1/dev", {"prompt": "orphan [sim: queue=0, run=0]"})
    lapse(generation)  # claimed, then the worker was killed: its task stays "running" for ever
    assert recovery.recover_submissions() == 1
    generation.refresh_from_db()
    assert generation.request_id and generation.state == State.QUEUED
    assert recovery.recover_submissions() == 0  # nothing more to do
    jobs.submit(str(generation.id))  # the dead worker's task, should it ever run again
    assert submits(fal_service) == 1
    assert drive(generation).state == State.DONE


@pytest.mark.django_db
def test_a_job_never_queued_is_sent_after_the_grace(fal_service, member):
    """The web process died between saving the job and queueing its task."""
    generation = make_generation(member, "fal-ai/flux-1/dev", {"prompt": "lost task [sim: queue=0, run=0]"})
    assert recovery.recover_submissions() == 0  # a fresh job is the worker's
    Generation.objects.filter(id=generation.id).update(created_at=timezone.now() - recovery.PICKUP_GRACE * 2)
    assert recovery.recover_submissions() == 1 and submits(fal_service) == 1


@pytest.mark.django_db
def test_a_late_worker_cannot_send_a_job_taken_over(fal_service, member, monkeypatch):
    generation = make_generation(member, "fal-ai/flux-1/dev", {"prompt": "slowpoke [sim: queue=0, run=0]"})
    real_resolve = jobs.resolve_inputs

    def slow_resolve(job):
        # While this worker prepares, its claim runs out and the sweeper sends the job.
        monkeypatch.setattr(jobs, "resolve_inputs", real_resolve)
        lapse(job)
        recovery.recover_submissions()
        return real_resolve(job)

    monkeypatch.setattr(jobs, "resolve_inputs", slow_resolve)
    jobs.submit(str(generation.id))
    assert submits(fal_service) == 1


@pytest.mark.django_db
def test_a_submit_that_left_without_an_answer_ends_plainly_and_is_not_resent(fal_service, member, client, member_client):
    generation = make_generation(member, "fal-ai/flux-1/dev", {"prompt": "unknown"})
    lapse(generation, submit_sent_at=timezone.now() - timedelta(minutes=5))  # sent, then the worker died
    recovery.recover_submissions()
    generation.refresh_from_db()
    assert generation.state == State.FAILED and generation.error_type == "submit_unknown"
    assert submits(fal_service) == 0
    card = member_client.get(reverse("studio:job_card", args=[generation.id])).content.decode()
    assert "could not confirm" in card and "charged twice" in card and "Retry" in card


@pytest.mark.django_db
def test_a_live_worker_waiting_for_the_answer_is_left_alone(fal_service, member):
    generation = make_generation(member, "fal-ai/flux-1/dev", {"prompt": "patience"})
    Generation.objects.filter(id=generation.id).update(
        submit_sent_at=timezone.now(), next_check_at=timezone.now() + jobs.submit_answer_lease())
    assert recovery.recover_submissions() == 0
    generation.refresh_from_db()
    assert generation.state == State.SUBMITTING and not generation.is_final


@pytest.mark.django_db(transaction=True)
def test_fal_webhook_brings_back_a_job_whose_submit_answer_was_lost(fal_service, member, member_client, settings,
                                                                    live_server, monkeypatch):
    settings.PUBLIC_BASE_URL = live_server.url
    client = jobs.get_client()
    real_submit = client.submit

    def answer_lost(model_id, arguments, **kwargs):
        real_submit(model_id, arguments, **kwargs)  # fal accepted it...
        raise fal.SubmitOutcomeUnknown("The request was sent but no answer came back (ReadTimeout).")

    monkeypatch.setattr(client, "submit", answer_lost)
    generation = make_generation(member, "fal-ai/flux-1/dev", {"prompt": "webhook [sim: queue=0.2, run=0.2]"})
    jobs.submit(str(generation.id))
    generation.refresh_from_db()
    assert generation.state == State.SUBMITTING and generation.waiting_reason == jobs.SUBMIT_UNCONFIRMED_WAITING
    card = member_client.get(reverse("studio:job_card", args=[generation.id])).content.decode()
    assert "lost contact" in card

    deadline = time.monotonic() + 15
    while not generation.request_id and time.monotonic() < deadline:  # fal calls us when it is done
        time.sleep(0.05)
        generation.refresh_from_db()
    assert generation.request_id and generation.waiting_reason == ""
    generation = drive(generation)
    assert generation.state == State.DONE and generation.assets.count() == 1
    assert submits(fal_service) == 1
    assert [call.status for call in fal_service.webhooks.calls] == [200]


@pytest.mark.django_db
def test_the_webhook_accepts_only_signed_addresses_and_a_request_id(member, client, settings):
    settings.PUBLIC_BASE_URL = "https://atelier.example.com"
    generation = make_generation(member, "fal-ai/flux-1/dev", {"prompt": "hook"},
                                 submit_sent_at=timezone.now(), next_check_at=timezone.now() + timedelta(minutes=1))
    path = webhook_url(generation).removeprefix(settings.PUBLIC_BASE_URL)
    forged = reverse("studio:fal_webhook", args=["not-a-signature"])
    assert client.post(forged, {"request_id": "x"}, content_type="application/json").status_code == 404
    assert client.get(path).status_code == 405
    assert client.post(path, "not json", content_type="application/json").status_code == 400
    assert client.post(path, {"request_id": "req-1", "status": "OK"}, content_type="application/json").status_code == 200
    generation.refresh_from_db()
    assert generation.request_id == "req-1" and generation.state == State.QUEUED
    # A second call naming another request changes nothing.
    client.post(path, {"request_id": "req-2"}, content_type="application/json")
    generation.refresh_from_db()
    assert generation.request_id == "req-1"
