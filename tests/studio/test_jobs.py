"""A generation's life against the simulator over real HTTP: submit, track, collect."""

from __future__ import annotations

import tracemalloc
from datetime import timedelta

import pytest
from PIL import Image

from gallery.models import Asset
from studio import jobs
from studio.models import Generation
from tests.studio.conftest import drive, make_generation

pytestmark = pytest.mark.django_db
State = Generation.State


def test_text_to_image_with_two_outputs_keeps_both_at_the_requested_size(fal_service, member):
    generation = drive(make_generation(member, "fal-ai/flux-1/dev", {
        "prompt": "a red kite [sim: queue=0.1, run=0.1]", "num_images": 2, "image_size": "landscape_16_9", "seed": 1234}))
    assert generation.state == State.DONE, generation.error_message
    assets = list(generation.assets.order_by("position"))
    assert [a.position for a in assets] == [0, 1]
    for asset in assets:
        assert (asset.width, asset.height) == (1024, 576)
        with Image.open(asset.file.path) as image:
            assert image.size == (1024, 576)
        with Image.open(asset.thumbnail.path) as thumb:
            assert thumb.format == "WEBP" and max(thumb.size) <= 512
        assert len(asset.checksum) == 64 and asset.bytes == asset.file.size
    assert generation.seed == 1234
    assert generation.inference_seconds is not None
    assert generation.request_id and generation.submitted_at and generation.completed_at and generation.finished_at
    assert generation.result["images"][0]["url"]


def test_edit_model_receives_the_uploaded_image(fal_service, member, uploaded_image):
    generation = make_generation(member, "fal-ai/nano-banana/edit", {
        "prompt": "make it blue [sim: queue=0, run=0]", "image_urls": [f"asset:{uploaded_image.id}"], "aspect_ratio": "auto"})
    generation.input_assets.add(uploaded_image)
    generation = drive(generation)
    assert generation.state == State.DONE, generation.error_message
    [output] = generation.assets.all()
    # The simulator sizes "auto" from the data URI it received: proof the image travelled.
    assert (output.width, output.height) == (uploaded_image.width, uploaded_image.height) == (320, 200)
    assert list(uploaded_image.used_by.all()) == [generation]


def test_video_model_keeps_a_playable_mp4(fal_service, member):
    generation = drive(make_generation(member, "fal-ai/veo3", {"prompt": "waves [sim: queue=0, run=0]", "duration": "4s"}))
    assert generation.state == State.DONE, generation.error_message
    [video] = generation.assets.all()
    assert video.kind == Asset.Kind.VIDEO and video.content_type == "video/mp4"
    with video.file.open("rb") as handle:
        assert handle.read(12)[4:8] == b"ftyp"
    assert video.thumbnail  # a poster from the first frames


def test_cancel_while_queued(fal_service, member):
    generation = make_generation(member, "fal-ai/flux-1/dev", {"prompt": "never mind [sim: queue=30]"})
    jobs.submit(str(generation.id))
    generation.refresh_from_db()
    assert generation.state == State.QUEUED and generation.request_id
    assert jobs.request_cancel(generation)
    jobs.cancel_upstream(str(generation.id))
    generation.refresh_from_db()
    assert generation.state == State.CANCELLED and generation.finished_at
    cancels = [hit for hit in fal_service.log if hit.method == "PUT"]
    assert len(cancels) == 1 and cancels[0].status == 202


def test_cancel_before_submission_never_reaches_the_service(fal_service, member):
    generation = make_generation(member, "fal-ai/flux-1/dev", {"prompt": "changed my mind"})
    assert jobs.request_cancel(generation)
    jobs.submit(str(generation.id))
    assert not [hit for hit in fal_service.log if hit.method == "POST"]


def test_failed_completion_is_reported(fal_service, member):
    generation = drive(make_generation(member, "fal-ai/flux-1/dev", {"prompt": "doomed [sim: fail, queue=0, run=0]"}))
    assert generation.state == State.FAILED
    assert generation.error_type == "upstream" and generation.error_message
    assert not generation.assets.exists()


def test_invalid_input_is_mapped_to_its_field(fal_service, member):
    generation = drive(make_generation(member, "fal-ai/flux-1/dev", {"prompt": "x", "image_size": "enormous"}))
    assert generation.state == State.FAILED and generation.error_type == "invalid_input"
    assert list(generation.field_errors) == ["image_size"]


def test_rate_limits_are_ridden_out(fal_service, member, upstream_sleeps):
    generation = drive(make_generation(member, "fal-ai/flux-1/dev", {"prompt": "busy [sim: rate_limit=2, queue=0, run=0]"}))
    assert generation.state == State.DONE, generation.error_message
    assert upstream_sleeps[:2] == [1.0, 1.0]


def test_passing_upstream_trouble_shows_as_waiting_then_recovers(fal_service, member, monkeypatch):
    monkeypatch.setattr(jobs, "_backoff", lambda failures, error=None: timedelta(0))
    generation = make_generation(member, "fal-ai/flux-1/dev", {"prompt": "flaky [sim: server_error=4, queue=0, run=0]"})
    jobs.submit(str(generation.id))
    [claimed] = jobs.claim_due()
    jobs.check(claimed)  # 3 attempts inside the client, all 503
    generation.refresh_from_db()
    assert generation.state == State.QUEUED and generation.waiting_reason == jobs.WAITING_FOR_SERVICE
    generation = drive(generation)
    assert generation.state == State.DONE and generation.waiting_reason == ""


def test_a_tracker_that_died_mid_job_loses_nothing(fal_service, member, monkeypatch):
    # Long enough that the second claim below comes inside it, even on a busy machine.
    monkeypatch.setattr(jobs, "CLAIM_LEASE", timedelta(milliseconds=500))
    generation = make_generation(member, "fal-ai/flux-1/dev", {"prompt": "resilient [sim: queue=0.1, run=0.1]"})
    jobs.submit(str(generation.id))
    assert jobs.claim_due() == [str(generation.id)]  # claimed, then the tracker "dies"
    assert jobs.claim_due() == []  # the lease keeps others away meanwhile...
    generation = drive(generation)  # ...and once it lapses, a new tracker finishes the job
    assert generation.state == State.DONE and generation.assets.count() == 1


def test_collecting_again_after_a_crash_saves_each_output_once(fal_service, member):
    generation = make_generation(member, "fal-ai/flux-1/dev", {"prompt": "twice [sim: queue=0, run=0]", "num_images": 2})
    jobs.submit(str(generation.id))
    generation = drive_until(generation, State.COLLECTING)
    jobs.collect(generation)
    generation.refresh_from_db()
    assert generation.state == State.DONE
    # A restarted worker that re-runs the step must not duplicate anything.
    Generation.objects.filter(id=generation.id).update(state=State.COLLECTING)
    generation.refresh_from_db()
    jobs.collect(generation)
    assert generation.assets.count() == 2


def drive_until(generation, state):
    import time

    for _ in range(200):
        for generation_id in jobs.claim_due():
            Generation.objects.filter(id=generation_id).update(next_check_at=jobs.timezone.now())
            generation.refresh_from_db()
            status_check_only(generation)
        generation.refresh_from_db()
        if generation.state == state:
            return generation
        time.sleep(0.02)
    raise AssertionError(f"never reached {state}")


def status_check_only(generation):
    """The tracker's look at the status, without its automatic collection."""
    original = jobs.collect
    jobs.collect = lambda generation: None
    try:
        jobs.check(str(generation.id))
    finally:
        jobs.collect = original


def test_expired_result_fails_in_plain_words(fal_service, member):
    generation = make_generation(member, "fal-ai/flux-1/dev", {"prompt": "late [sim: queue=0, run=0, expire=0]"})
    generation = drive(generation)
    assert generation.state == State.FAILED and generation.error_type == "expired"
    assert "expired" in generation.error_message


def test_truncated_downloads_are_retried_and_never_kept_half(fal_service, member, media_root):
    generation = make_generation(member, "fal-ai/flux-1/dev", {"prompt": "cut [sim: truncate, queue=0, run=0]"})
    jobs.submit(str(generation.id))
    generation = drive_until(generation, State.COLLECTING)
    jobs.collect(generation)
    generation.refresh_from_db()
    assert generation.state == State.COLLECTING and generation.waiting_reason
    assert not generation.assets.exists()
    downloads = [hit for hit in fal_service.log if hit.path.startswith("/files/")]
    assert len(downloads) == jobs.MAX_DOWNLOAD_ATTEMPTS
    leftovers = [p for p in media_root.rglob("*") if p.is_file()]
    assert leftovers == []


def test_a_200_mb_download_keeps_memory_flat(fal_service, member):
    generation = make_generation(member, "fal-ai/veo3", {"prompt": "long [sim: big_mb=200, queue=0, run=0]"})
    jobs.submit(str(generation.id))
    generation = drive_until(generation, State.COLLECTING)
    tracemalloc.start()
    try:
        jobs.collect(generation)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    generation.refresh_from_db()
    [video] = generation.assets.all()
    assert generation.state == State.DONE and video.bytes >= 200 * 1024 * 1024
    assert peak < 16 * 1024 * 1024, f"peak Python memory {peak / 1e6:.1f} MB"


def test_inputs_travel_as_data_uris_by_default(member, uploaded_image, settings):
    from studio.input_images import resolve_inputs

    settings.PUBLIC_BASE_URL = ""
    generation = make_generation(member, "fal-ai/flux-pro/kontext", {"prompt": "x", "image_url": f"asset:{uploaded_image.id}"})
    generation.input_assets.add(uploaded_image)
    assert resolve_inputs(generation)["image_url"].startswith("data:image/png;base64,iVBOR")


def test_inputs_travel_as_signed_expiring_urls_with_a_public_base(member, uploaded_image, settings, client):
    from studio.input_images import resolve_inputs

    settings.PUBLIC_BASE_URL = "https://atelier.example.com"
    generation = make_generation(member, "fal-ai/flux-pro/kontext", {"prompt": "x", "image_url": f"asset:{uploaded_image.id}"})
    generation.input_assets.add(uploaded_image)
    url = resolve_inputs(generation)["image_url"]
    assert url.startswith("https://atelier.example.com/gallery/inputs/")
    path = url[len(settings.PUBLIC_BASE_URL):]
    response = client.get(path)  # no login: fal fetches it
    assert response.status_code == 200 and b"".join(response.streaming_content).startswith(b"\x89PNG")
    assert client.get(path[:-3] + "xyz").status_code == 404  # tampered
    settings.INPUT_URL_TTL_SECONDS = -1
    assert client.get(path).status_code == 404  # expired


def test_a_submission_is_sent_once_even_if_its_task_runs_twice(fal_service, member):
    generation = make_generation(member, "fal-ai/flux-1/dev", {"prompt": "once"})
    # Another worker has claimed it and is sending it right now: this one stays out.
    Generation.objects.filter(id=generation.id).update(next_check_at=jobs.timezone.now() + jobs.CLAIM_LEASE)
    jobs.submit(str(generation.id))
    assert not [hit for hit in fal_service.log if hit.method == "POST"]
    # Once that claim lapses (its worker died before sending), the job is sent, once.
    Generation.objects.filter(id=generation.id).update(next_check_at=None)
    jobs.submit(str(generation.id))
    jobs.submit(str(generation.id))
    assert [hit.method for hit in fal_service.log].count("POST") == 1


def refuse_submits(monkeypatch) -> list[str]:
    """Make every submit answer 429 (retry after 2 s); returns the models it was asked for."""
    import fal as fal_package

    calls = []

    def refuse(model_id, arguments, **kwargs):
        calls.append(model_id)
        raise fal_package.RateLimitError("Too many requests at once.", status_code=429, retry_after=2)

    monkeypatch.setattr(jobs.get_client(), "submit", refuse)
    return calls


def test_passing_trouble_on_submit_is_retried_later_by_the_tracker(fal_service, member, monkeypatch):
    from django_tasks_db.models import DBTaskResult

    calls = refuse_submits(monkeypatch)
    generation = make_generation(member, "fal-ai/flux-1/dev", {"prompt": "later"})
    assert jobs.sendable_by_tracker(10) == [str(generation.id)]
    jobs.submit(str(generation.id))
    generation.refresh_from_db()
    assert calls and generation.state == State.SUBMITTING and generation.waiting_reason == jobs.WAITING_FOR_SERVICE
    # Not sent (it may go again), no task: the tracker's sender takes it once the wait is over.
    assert generation.submit_sent_at is None and not DBTaskResult.objects.exists()
    assert generation.next_check_at >= jobs.timezone.now() + jobs.timedelta(seconds=1.5)
    assert jobs.sendable_by_tracker(10) == []
    Generation.objects.filter(id=generation.id).update(next_check_at=jobs.timezone.now() - jobs.timedelta(seconds=1))
    assert jobs.sendable_by_tracker(10) == [str(generation.id)]


def test_passing_trouble_on_submit_with_an_input_image_is_retried_by_a_task(fal_service, member, uploaded_image,
                                                                            monkeypatch):
    from django_tasks_db.models import DBTaskResult

    refuse_submits(monkeypatch)
    generation = make_generation(member, "fal-ai/flux-pro/kontext", {"prompt": "x", "image_url": f"asset:{uploaded_image.id}"})
    generation.input_assets.add(uploaded_image)
    assert jobs.sendable_by_tracker(10) == []  # reading images is a task worker's job
    jobs.submit(str(generation.id))
    generation.refresh_from_db()
    [retry] = DBTaskResult.objects.filter(task_path="studio.tasks.submit_generation")
    assert retry.run_after is not None and retry.args_kwargs["args"] == [str(generation.id)]
    # The claim is released, from the moment the retry task is due (and not sent: it may go again).
    assert generation.next_check_at == retry.run_after and generation.submit_sent_at is None
