"""The client against the simulator over a real socket: the protocol end to end."""

from __future__ import annotations

from tests.conftest import SENTINEL_KEY

import io
import time

import pytest
from PIL import Image

import fal
from fal import FalClient, RetryPolicy

FAST = "[sim: queue=0, run=0]"


@pytest.fixture
def sleeps():
    return []


@pytest.fixture
def client_for(sleeps):
    made = []

    def factory(sim, *, scheme="key", key=SENTINEL_KEY, attempts=3, timeout=5.0):
        client = FalClient(sim.base_url, key, auth_scheme=scheme, timeout=timeout, sleep=sleeps.append,
                           retry=RetryPolicy(max_attempts=attempts, base_delay=0.01, max_delay=0.05))
        made.append(client)
        return client

    yield factory
    for client in made:
        client.close()


def until_completed(client, handle, timeout=10.0) -> fal.Completed:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = client.status(handle)
        if isinstance(status, fal.Completed):
            return status
        time.sleep(0.02)
    raise AssertionError("the request did not complete in time")


def status_hits(sim, request_id):
    return [hit for hit in sim.log if hit.path.endswith(f"/requests/{request_id}/status")]


@pytest.mark.parametrize(
    ("model_id", "arguments", "prefix"),
    [
        ("fal-ai/nano-banana", {"prompt": f"two segments {FAST}"}, "/fal-ai/nano-banana/requests/"),
        ("fal-ai/flux-1/dev", {"prompt": f"three segments {FAST}"}, "/fal-ai/flux-1/requests/"),
        ("fal-ai/flux-pro/kontext/text-to-image", {"prompt": f"four segments {FAST}"}, "/fal-ai/flux-pro/requests/"),
    ],
)
def test_app_id_rule_for_two_three_and_four_segment_ids(simulator, client_for, model_id, arguments, prefix):
    client = client_for(simulator)
    handle = client.submit(model_id, arguments)
    assert handle.status_url == f"{simulator.base_url}{prefix}{handle.request_id}/status"
    assert handle.response_url == f"{simulator.base_url}{prefix}{handle.request_id}"
    assert client.handle_for(model_id, handle.request_id) == fal.RequestHandle(
        model_id, handle.request_id, handle.status_url, handle.response_url, handle.cancel_url)
    until_completed(client, handle)
    assert fal.extract_media(client.result(handle))


def test_proxy_mode_urls_are_rewritten_onto_the_base_and_bearer_is_sent(make_simulator, client_for):
    proxy = make_simulator(proxy_mode=True)
    client = client_for(proxy, scheme="bearer")
    handle = client.submit("fal-ai/flux-1/schnell", {"prompt": f"a proxy {FAST}"})
    for url in (handle.status_url, handle.response_url, handle.cancel_url):
        assert url.startswith(proxy.base_url + "/fal-ai/flux-1/requests/")
    until_completed(client, handle)
    assert client.result(handle)["images"]
    assert {hit.auth_scheme for hit in proxy.log if not hit.path.startswith("/files/")} == {"Bearer"}


def test_key_scheme_is_refused_by_a_bearer_proxy_and_vice_versa(make_simulator, client_for):
    proxy = make_simulator(proxy_mode=True)
    with pytest.raises(fal.AuthenticationError) as caught:
        client_for(proxy, scheme="key").submit("fal-ai/flux-1/dev", {"prompt": "x"})
    assert caught.value.status_code == 401 and not caught.value.retryable
    direct = make_simulator()
    with pytest.raises(fal.AuthenticationError):
        client_for(direct, scheme="bearer").submit("fal-ai/flux-1/dev", {"prompt": "x"})
    client_for(direct, scheme="key").submit("fal-ai/flux-1/dev", {"prompt": "x"})
    assert [hit.auth_scheme for hit in direct.log] == ["Bearer", "Key"]


def test_wrong_key_is_an_authentication_error_without_the_key_in_it(make_simulator, client_for):
    sim = make_simulator(key="the-right-key")
    with pytest.raises(fal.AuthenticationError) as caught:
        client_for(sim, key="sk-wrong-key-123").submit("fal-ai/flux-1/dev", {"prompt": "x"})
    assert "sk-wrong-key-123" not in str(caught.value) + repr(caught.value)


def test_validation_error_maps_to_fields(simulator, client_for):
    client = client_for(simulator)
    with pytest.raises(fal.ValidationError) as caught:
        client.submit("fal-ai/flux-1/dev", {"image_size": "enormous"})
    fields = caught.value.messages_by_field()
    assert set(fields) == {"prompt", "image_size"}
    assert all(messages for messages in fields.values())


def test_rate_limit_waits_for_retry_after_then_succeeds(simulator, client_for, sleeps):
    client = client_for(simulator, attempts=5)
    handle = client.submit("fal-ai/flux-1/dev", {"prompt": "busy [sim: rate_limit=2, retry_after=1, queue=0, run=0]"})
    status = client.status(handle)
    assert isinstance(status, (fal.Queued, fal.InProgress, fal.Completed))
    assert sleeps == [1.0, 1.0]
    codes = [hit.status for hit in status_hits(simulator, handle.request_id)]
    assert codes[:2] == [429, 429] and codes[2] in (200, 202) and len(codes) == 3


def test_server_errors_are_retried_then_succeed(simulator, client_for, sleeps):
    client = client_for(simulator, attempts=3)
    handle = client.submit("fal-ai/flux-1/dev", {"prompt": f"flaky [sim: server_error=2] {FAST}"})
    client.status(handle)
    assert len(sleeps) == 2
    assert [hit.status for hit in status_hits(simulator, handle.request_id)][:2] == [503, 503]


def test_server_errors_beyond_the_attempts_raise_with_their_error_type(simulator, client_for):
    client = client_for(simulator, attempts=3)
    handle = client.submit("fal-ai/flux-1/dev", {"prompt": "down [sim: server_error=10]"})
    with pytest.raises(fal.UpstreamError) as caught:
        client.status(handle)
    assert caught.value.status_code == 503
    assert caught.value.error_type == "runner_scheduling_failure"
    assert caught.value.retryable
    assert len(status_hits(simulator, handle.request_id)) == 3


def test_failed_completion_surfaces_as_an_error_at_result_time(simulator, client_for):
    client = client_for(simulator)
    handle = client.submit("fal-ai/flux-1/dev", {"prompt": f"doomed [sim: fail] {FAST}"})
    status = until_completed(client, handle)
    assert status.failed and status.error
    with pytest.raises(fal.UpstreamError) as caught:
        client.result(handle)
    assert caught.value.error_type == status.error_type
    assert caught.value.message


def test_payment_required_on_submit(simulator, client_for):
    with pytest.raises(fal.PaymentRequiredError) as caught:
        client_for(simulator).submit("fal-ai/flux-1/dev", {"prompt": "broke [sim: payment]"})
    assert "balance" in caught.value.message.lower()


def test_submit_whose_answer_never_comes_is_not_resent(simulator, client_for):
    client = client_for(simulator, timeout=0.5)
    with pytest.raises(fal.SubmitOutcomeUnknown):
        client.submit("fal-ai/flux-1/dev", {"prompt": "slow [sim: slow_start=2]"})
    assert [hit.method for hit in simulator.log].count("POST") <= 1


def test_cancel_while_queued(simulator, client_for):
    client = client_for(simulator)
    handle = client.submit("fal-ai/flux-1/dev", {"prompt": "wait [sim: queue=30]"})
    assert isinstance(client.status(handle), fal.Queued)
    assert client.cancel(handle) == "CANCELLATION_REQUESTED"
    status = client.status(handle)
    assert isinstance(status, fal.Completed) and status.error_type == "request_cancelled"


def test_cancel_after_completion_and_of_unknown_requests(simulator, client_for):
    client = client_for(simulator)
    handle = client.submit("fal-ai/flux-1/dev", {"prompt": f"quick {FAST}"})
    until_completed(client, handle)
    assert client.cancel(handle) == "ALREADY_COMPLETED"
    assert client.cancel(client.handle_for("fal-ai/flux-1/dev", "no-such-request")) == "NOT_FOUND"


def test_queue_position_and_logs_are_reported(simulator, client_for):
    client = client_for(simulator)
    handle = client.submit("fal-ai/flux-1/dev", {"prompt": "watch [sim: queue=0.6, run=0.6]"})
    seen_queued = seen_logs = False
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        status = client.status(handle)
        seen_queued |= isinstance(status, fal.Queued) and status.position is not None
        seen_logs |= isinstance(status, fal.InProgress) and bool(status.logs)
        if isinstance(status, fal.Completed):
            break
        time.sleep(0.05)
    assert seen_queued and seen_logs and status.inference_time is not None


def download_image(client, media):
    with client.download(media.url) as download:
        data = b"".join(download.iter_bytes())
    return Image.open(io.BytesIO(data)), download.content_type


@pytest.mark.parametrize(
    ("model_id", "arguments", "size"),
    [
        ("fal-ai/flux-1/dev", {"image_size": "landscape_16_9"}, (1024, 576)),
        ("fal-ai/flux-1/dev", {"image_size": "portrait_4_3"}, (768, 1024)),
        ("fal-ai/flux-1/schnell", {"image_size": {"width": 800, "height": 600}}, (800, 600)),
        ("fal-ai/flux-1/dev", {}, (1024, 768)),
        ("fal-ai/bytedance/seedream/v4/text-to-image", {"image_size": "square"}, (512, 512)),
    ],
)
def test_images_have_exactly_the_requested_pixel_size(simulator, client_for, model_id, arguments, size):
    client = client_for(simulator)
    handle = client.submit(model_id, {"prompt": f"size check {FAST}", **arguments})
    until_completed(client, handle)
    [media] = fal.extract_media(client.result(handle))
    image, _ = download_image(client, media)
    assert image.size == size == (media.width, media.height)


def test_aspect_ratio_images_match_what_the_result_reports(simulator, client_for):
    client = client_for(simulator)
    for ratio in ("21:9", "1:1", "9:16"):
        handle = client.submit("fal-ai/flux-pro/kontext/text-to-image", {"prompt": f"ratio {FAST}", "aspect_ratio": ratio})
        until_completed(client, handle)
        [media] = fal.extract_media(client.result(handle))
        image, _ = download_image(client, media)
        assert image.size == (media.width, media.height)
        wide, high = (int(part) for part in ratio.split(":"))
        # Sides are multiples of 16, so the ratio is close, not exact.
        assert abs(image.width / image.height / (wide / high) - 1) < 0.04


def test_media_extraction_from_an_images_list_with_format(simulator, client_for):
    client = client_for(simulator)
    handle = client.submit("fal-ai/flux-1/dev", {"prompt": f"two {FAST}", "num_images": 2, "output_format": "png"})
    until_completed(client, handle)
    result = client.result(handle)
    media = fal.extract_media(result)
    assert [m.path for m in media] == ["images[0]", "images[1]"]
    assert all(m.kind == "image" for m in media)
    first, content_type = download_image(client, media[0])
    assert first.format == "PNG" and content_type == "image/png"
    assert isinstance(result["seed"], int) and result["timings"]["inference"] >= 0


def test_media_extraction_from_a_video_result(simulator, client_for):
    client = client_for(simulator)
    handle = client.submit("fal-ai/kling-video/v2.5-turbo/pro/text-to-video", {"prompt": f"a wave {FAST}", "duration": "5"})
    until_completed(client, handle)
    [media] = fal.extract_media(client.result(handle))
    assert media.kind == "video" and media.path == "video" and media.content_type == "video/mp4"
    with client.download(media.url) as download:
        data = b"".join(download.iter_bytes())
    assert data[4:8] == b"ftyp" and len(data) == media.file_size


def test_expired_file_is_not_found(simulator, client_for):
    client = client_for(simulator)
    handle = client.submit("fal-ai/flux-1/dev", {"prompt": f"fleeting [sim: expire=0.1, queue=0, run=0]"})
    until_completed(client, handle)
    [media] = fal.extract_media(client.result(handle))
    time.sleep(0.2)
    with pytest.raises(fal.NotFoundError):
        with client.download(media.url):
            pass


def test_truncated_download_raises_a_network_error(simulator, client_for):
    client = client_for(simulator)
    handle = client.submit("fal-ai/flux-1/dev", {"prompt": f"cut short [sim: truncate] {FAST}"})
    until_completed(client, handle)
    [media] = fal.extract_media(client.result(handle))
    with pytest.raises(fal.NetworkError):
        with client.download(media.url) as download:
            b"".join(download.iter_bytes())


def test_status_from_an_event_loop_answers_once_and_raises_at_once(simulator, client_for, sleeps):
    """astatus (the tracker's polls): one attempt, the same status values and error classes."""
    import asyncio

    client = client_for(simulator)
    busy = client.submit("fal-ai/flux-1/dev", {"prompt": "busy [sim: rate_limit=1, queue=0, run=0]"})
    fine = client.submit("fal-ai/flux-1/dev", {"prompt": "fine [sim: queue=0, run=0]"})
    time.sleep(0.1)

    async def look(handle):
        async with client.open_async() as session:
            try:
                return await client.astatus(session, handle)
            except fal.FalError as error:
                return error
    limited = asyncio.run(look(busy))
    assert isinstance(limited, fal.RateLimitError) and limited.retry_after == 1.0 and sleeps == []
    assert isinstance(asyncio.run(look(busy)), fal.Completed)  # the next look, scheduled by the caller
    done = asyncio.run(look(fine))
    assert isinstance(done, fal.Completed) and done.logs and not done.failed
    gone = asyncio.run(look(client.handle_for("fal-ai/flux-1/dev", "no-such-request")))
    assert isinstance(gone, fal.NotFoundError) and SENTINEL_KEY not in str(gone)
