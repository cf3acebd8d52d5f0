"""The fault suite: jobs driven through upstream failures at every protocol step.

For each fault: what the person sees, that retries stop at a bound, and that every output
that could be saved was saved exactly once. Run alone with `pytest -m faults`.
"""

from __future__ import annotations

import io
from contextlib import contextmanager
from datetime import timedelta

import pytest
from PIL import Image

import fal
from gallery.models import Asset
from studio import jobs
from studio.models import Generation
from tests.studio.conftest import drive, make_generation

pytestmark = [pytest.mark.django_db, pytest.mark.faults]
State = Generation.State


@pytest.fixture
def no_backoff(monkeypatch):
    monkeypatch.setattr(jobs, "_backoff", lambda failures, error=None: timedelta(0))


def status_polls(simulator, generation):
    return [hit for hit in simulator.log if hit.path.endswith(f"/requests/{generation.request_id}/status")]


def test_a_429_storm_is_waited_out_and_polls_stay_bounded(fal_service, member, no_backoff):
    generation = drive(make_generation(member, "fal-ai/flux-1/dev", {"prompt": "storm [sim: rate_limit=12, queue=0, run=0]"}))
    assert generation.state == State.DONE and generation.assets.count() == 1
    assert 12 < len(status_polls(fal_service, generation)) <= 16


def test_a_5xx_burst_shows_waiting_then_completes(fal_service, member, no_backoff):
    generation = make_generation(member, "fal-ai/flux-1/dev", {"prompt": "burst [sim: server_error=7, queue=0, run=0]"})
    jobs.submit(str(generation.id))
    jobs.check(jobs.claim_due()[0])
    generation.refresh_from_db()
    assert generation.waiting_reason == jobs.WAITING_FOR_SERVICE and not generation.is_final
    generation = drive(generation)
    assert generation.state == State.DONE and generation.waiting_reason == ""


def test_endless_5xx_gives_up_in_plain_words(fal_service, member, no_backoff, monkeypatch):
    monkeypatch.setattr(jobs, "GIVE_UP_AFTER", timedelta(seconds=-1))
    generation = drive(make_generation(member, "fal-ai/flux-1/dev", {"prompt": "down [sim: server_error=1000]"}))
    assert generation.state == State.FAILED and generation.error_type == "upstream"
    assert "runner" in generation.error_message.lower() or generation.error_message
    assert len(status_polls(fal_service, generation)) <= 3  # one check's attempts, then it stopped


def flaky(monkeypatch, client, name, failures):
    """The client's `name` call raises the given errors first, then behaves."""
    real = getattr(client, name)
    queue = list(failures)

    def wrapper(*args, **kwargs):
        if queue:
            raise queue.pop(0)
        return real(*args, **kwargs)

    monkeypatch.setattr(client, name, wrapper)


@pytest.mark.parametrize("error", [
    fal.NetworkError("Could not reach the service (ConnectError)."),
    fal.NetworkError("Could not reach the service (ReadTimeout)."),
    fal.ProtocolError("The service answered with something that is not JSON (HTTP 502)."),
])
def test_broken_connections_and_garbled_status_answers_are_retried(fal_service, member, no_backoff, monkeypatch, error):
    client = jobs.get_client()
    flaky(monkeypatch, client, "status", [error, error])
    generation = drive(make_generation(member, "fal-ai/flux-1/dev", {"prompt": "shaky [sim: queue=0, run=0]"}))
    assert generation.state == State.DONE and generation.assets.count() == 1


def test_a_broken_result_fetch_is_retried_and_the_result_kept_once(fal_service, member, no_backoff, monkeypatch):
    client = jobs.get_client()
    flaky(monkeypatch, client, "result", [fal.NetworkError("Could not reach the service (ReadError).")])
    generation = drive(make_generation(member, "fal-ai/flux-1/dev", {"prompt": "retry [sim: queue=0, run=0]", "num_images": 2}))
    assert generation.state == State.DONE
    assert sorted(generation.assets.values_list("position", flat=True)) == [0, 1]


def test_one_failed_download_does_not_duplicate_the_other_output(fal_service, member, no_backoff, monkeypatch):
    client = jobs.get_client()
    real = client.download
    calls = []

    @contextmanager
    def download(url):
        calls.append(url)
        if len([u for u in calls if u == url]) <= jobs.MAX_DOWNLOAD_ATTEMPTS and url.rsplit("/", 1)[-1].startswith("1."):
            raise fal.NetworkError("The file download broke off (RemoteProtocolError).")
        with real(url) as file:
            yield file

    monkeypatch.setattr(client, "download", download)
    generation = drive(make_generation(member, "fal-ai/flux-1/dev", {"prompt": "half [sim: queue=0, run=0]", "num_images": 2}))
    assert generation.state == State.DONE
    assert sorted(generation.assets.values_list("position", flat=True)) == [0, 1]
    first_url = [u for u in calls if u.rsplit("/", 1)[-1].startswith("0.")]
    assert len(first_url) == 1  # the good one was fetched (and kept) exactly once


@pytest.mark.parametrize(("result", "kind"), [
    ({"images": "not a list", "seed": 1}, "no_output"),
    ({"images": [{"url": "ftp://cdn.example/x.png"}]}, "no_output"),  # not a web address: not a file
    ({"video": {"url": "http://169.254.169.254/latest/meta-data"}}, "upstream"),
])
def test_unexpected_result_shapes_fail_in_plain_words(fal_service, member, monkeypatch, result, kind):
    client = jobs.get_client()
    monkeypatch.setattr(client, "result", lambda handle: result)
    generation = drive(make_generation(member, "fal-ai/flux-1/dev", {"prompt": "odd [sim: queue=0, run=0]"}))
    assert generation.state == State.FAILED and generation.error_type == kind and generation.error_message
    assert not Asset.objects.exists()
    assert generation.result == result  # the answer is kept for the record


def test_a_corrupted_image_is_refused_and_nothing_half_written_stays(fal_service, member, monkeypatch, media_root):
    client = jobs.get_client()

    @contextmanager
    def corrupted(url):
        data = io.BytesIO()
        Image.new("RGB", (64, 64), "red").save(data, "PNG")
        broken = data.getvalue()[:40] + b"\x00" * 200
        yield fal.FileDownload(data=broken, content_type="image/png")

    monkeypatch.setattr(client, "download", corrupted)
    generation = drive(make_generation(member, "fal-ai/flux-1/dev", {"prompt": "rot [sim: queue=0, run=0]"}))
    assert generation.state == State.FAILED and generation.error_type == "bad_output"
    assert "damaged" in generation.error_message
    assert [p for p in media_root.rglob("*") if p.is_file()] == []


def test_a_file_larger_than_allowed_is_refused(fal_service, member, settings, media_root):
    settings.ATELIER_MAX_DOWNLOAD_BYTES = 20_000
    generation = drive(make_generation(member, "fal-ai/veo3", {"prompt": "huge [sim: big_mb=1, queue=0, run=0]"}))
    assert generation.state == State.FAILED and "larger than" in generation.error_message
    assert [p for p in media_root.rglob("*") if p.is_file()] == []


def test_a_result_that_expires_before_collection(fal_service, member):
    generation = drive(make_generation(member, "fal-ai/flux-1/dev", {"prompt": "gone [sim: queue=0, run=0, expire=0]"}))
    assert generation.state == State.FAILED and generation.error_type == "expired"


def test_files_that_expire_during_download(fal_service, member, monkeypatch):
    client = jobs.get_client()

    @contextmanager
    def expired(url):
        raise fal.NotFoundError("This result has expired.", status_code=410)
        yield  # pragma: no cover

    monkeypatch.setattr(client, "download", expired)
    generation = drive(make_generation(member, "fal-ai/flux-1/dev", {"prompt": "late [sim: queue=0, run=0]"}))
    assert generation.state == State.FAILED and generation.error_type == "expired"
    assert generation.result is not None  # the result JSON was kept first
