"""The fal simulator over a real socket, driven with plain httpx."""

from __future__ import annotations

import base64
import io
import struct
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
from PIL import Image

from fal.simulator import Simulator, SimulatorConfig

KEY = "Key test-key"
INSTANT = "queue=0, run=0"


# -- helpers --------------------------------------------------------------------------------
# Module-wide clients: building an httpx.Client costs ~25 ms (it loads CA certificates).
@pytest.fixture(scope="module")
def client() -> Iterator[httpx.Client]:
    with httpx.Client(headers={"Authorization": KEY}, timeout=10) as http:
        yield http


@pytest.fixture(scope="module")
def anonymous() -> Iterator[httpx.Client]:
    """No Authorization header: file downloads are public, like a CDN."""
    with httpx.Client(timeout=10) as http:
        yield http


def submit(client: httpx.Client, sim: Simulator, model_id: str, body: Any,
           faults: str | None = None, **kwargs: Any) -> httpx.Response:
    headers = {"X-Simulator-Faults": faults} if faults else {}
    return client.post(f"{sim.base_url}/{model_id}", json=body, headers=headers, **kwargs)


def wait_completed(client: httpx.Client, status_url: str, timeout: float = 5.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        response = client.get(status_url, params={"logs": 1})
        if response.status_code == 200:
            return response.json()
        assert response.status_code == 202, response.text
        time.sleep(0.02)
    raise AssertionError(f"{status_url} did not complete within {timeout}s")


def run_job(client: httpx.Client, sim: Simulator, model_id: str, body: dict[str, Any],
            faults: str = INSTANT) -> dict[str, Any]:
    """Submit with instant timings, wait, and return the result JSON."""
    response = submit(client, sim, model_id, body, faults)
    assert response.status_code == 200, response.text
    wait_completed(client, response.json()["status_url"])
    result = client.get(response.json()["response_url"])
    assert result.status_code == 200, result.text
    return result.json()


def data_uri(width: int, height: int, image_format: str = "PNG") -> str:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (200, 30, 30)).save(buffer, image_format)
    mime = "image/png" if image_format == "PNG" else "image/jpeg"
    return f"data:{mime};base64," + base64.b64encode(buffer.getvalue()).decode()


def downloaded_image(anonymous: httpx.Client, url: str) -> Image.Image:
    response = anonymous.get(url)
    assert response.status_code == 200, response.text
    assert response.headers["content-length"] == str(len(response.content))
    image = Image.open(io.BytesIO(response.content))
    image.load()
    return image


# -- auth -------------------------------------------------------------------------------------
def test_queue_endpoints_require_authorization(simulator: Simulator, anonymous: httpx.Client) -> None:
    base = simulator.base_url
    accepted = anonymous.post(f"{base}/fal-ai/flux-1/dev", json={"prompt": "x"}, headers={"Authorization": KEY})
    request_id = accepted.json()["request_id"]
    calls = [
        ("POST", f"{base}/fal-ai/flux-1/dev"),
        ("GET", f"{base}/fal-ai/flux-1/requests/{request_id}/status"),
        ("GET", f"{base}/fal-ai/flux-1/requests/{request_id}"),
        ("PUT", f"{base}/fal-ai/flux-1/requests/{request_id}/cancel"),
    ]
    for method, url in calls:
        response = anonymous.request(method, url, json={"prompt": "x"})
        assert response.status_code == 401, (method, url)
        assert response.json() == {"detail": "Unauthorized"}
    assert anonymous.post(f"{base}/fal-ai/flux-1/dev", json={"prompt": "x"},
                      headers={"Authorization": "Key"}).status_code == 401


def test_normal_mode_rejects_bearer(simulator: Simulator, anonymous: httpx.Client) -> None:
    response = anonymous.post(f"{simulator.base_url}/fal-ai/flux-1/dev", json={"prompt": "x"},
                          headers={"Authorization": "Bearer abc"})
    assert response.status_code == 401


def test_proxy_mode_requires_bearer(
    make_simulator: Callable[..., Simulator], anonymous: httpx.Client
) -> None:
    sim = make_simulator(proxy_mode=True)
    url = f"{sim.base_url}/fal-ai/flux-1/dev"
    assert anonymous.post(url, json={"prompt": "x"}, headers={"Authorization": KEY}).status_code == 401
    assert anonymous.post(url, json={"prompt": "x"}, headers={"Authorization": "Bearer abc"}).status_code == 200


def test_configured_key_must_match(make_simulator: Callable[..., Simulator], anonymous: httpx.Client) -> None:
    sim = make_simulator(key="s3cret")
    url = f"{sim.base_url}/fal-ai/flux-1/dev"
    assert anonymous.post(url, json={"prompt": "x"}, headers={"Authorization": "Key wrong"}).status_code == 401
    assert anonymous.post(url, json={"prompt": "x"}, headers={"Authorization": "Key s3cret"}).status_code == 200


def test_log_records_the_scheme_but_never_the_key(
    simulator: Simulator, client: httpx.Client, anonymous: httpx.Client
) -> None:
    submit(client, simulator, "fal-ai/flux-1/dev", {"prompt": "x"})
    anonymous.get(f"{simulator.base_url}/fal-ai/flux-1/requests/{uuid.uuid4()}/status")
    first, second = simulator.log[-2:]
    assert (first.method, first.path, first.status) == ("POST", "/fal-ai/flux-1/dev", 200)
    assert first.auth_scheme == "Key"
    assert (second.status, second.auth_scheme) == (401, None)
    assert all("test-key" not in repr(hit) for hit in simulator.log)


# -- submit, app-id prefixes, proxy URLs ---------------------------------------------------------
@pytest.mark.parametrize(
    ("model_id", "body", "prefix"),
    [
        ("fal-ai/flux-lora", {"prompt": "x"}, "fal-ai/flux-lora"),
        ("fal-ai/flux-1/dev", {"prompt": "x"}, "fal-ai/flux-1"),
        ("fal-ai/flux-pro/kontext/max", {"prompt": "x", "image_url": "https://e.com/a.png"}, "fal-ai/flux-pro"),
        ("fal-ai/flux-pro/kontext/max/multi", {"prompt": "x", "image_urls": ["https://example.com/a.png"]},
         "fal-ai/flux-pro"),
        ("workflows/acme/poster-flow/v2", {"prompt": "x"}, "workflows/acme/poster-flow"),
    ],
)
def test_submit_answers_with_urls_on_the_app_prefix(
    simulator: Simulator, client: httpx.Client, model_id: str, body: dict[str, Any], prefix: str
) -> None:
    # ?fal_webhook= is accepted (and ignored).
    response = client.post(f"{simulator.base_url}/{model_id}", json=body,
                           params={"fal_webhook": "https://e.com/hook"})
    assert response.status_code == 200, response.text
    data = response.json()
    request_id = data["request_id"]
    assert uuid.UUID(request_id).version == 4
    assert response.headers["x-fal-request-id"] == request_id
    base = f"{simulator.base_url}/{prefix}/requests/{request_id}"
    assert data == {
        "status": "IN_QUEUE", "request_id": request_id, "response_url": base,
        "status_url": f"{base}/status", "cancel_url": f"{base}/cancel", "queue_position": data["queue_position"],
    }
    assert isinstance(data["queue_position"], int)
    assert client.get(data["status_url"]).status_code == 202
    # Only owner/app (or ns/owner/app) is accepted: the full id is the wrong prefix.
    wrong = client.get(f"{simulator.base_url}/{model_id}/requests/{request_id}/status")
    if model_id.count("/") + 1 > len(prefix.split("/")):
        assert wrong.status_code == 404
        assert wrong.json() == {"detail": "Request not found"}


def test_unknown_request_id_is_not_found(simulator: Simulator, client: httpx.Client) -> None:
    missing = f"{simulator.base_url}/fal-ai/flux-1/requests/{uuid.uuid4()}"
    assert client.get(f"{missing}/status").json() == {"detail": "Request not found"}
    assert client.get(missing).status_code == 404


def test_proxy_mode_returns_official_queue_host_urls(make_simulator: Callable[..., Simulator]) -> None:
    sim = make_simulator(proxy_mode=True)
    with httpx.Client(headers={"Authorization": "Bearer abc"}, timeout=10) as http:
        data = submit(http, sim, "fal-ai/flux-1/dev", {"prompt": "x"}, INSTANT).json()
        request_id = data["request_id"]
        assert data["status_url"] == f"https://queue.fal.run/fal-ai/flux-1/requests/{request_id}/status"
        assert data["response_url"].startswith("https://queue.fal.run/")
        # Like the aggregator's clients, rewrite the host before following the URLs.
        status = wait_completed(http, data["status_url"].replace("https://queue.fal.run", sim.base_url))
        assert status["status_url"].startswith("https://queue.fal.run/")
        result = http.get(data["response_url"].replace("https://queue.fal.run", sim.base_url)).json()
    # Files stay on the simulator's own base, like a CDN.
    assert result["images"][0]["url"].startswith(f"{sim.base_url}/files/")


# -- validation ---------------------------------------------------------------------------------
def test_missing_prompt_gives_a_422_list(simulator: Simulator, client: httpx.Client) -> None:
    response = submit(client, simulator, "fal-ai/flux-1/dev", {"image_size": "square"})
    assert response.status_code == 422
    assert response.json() == {"detail": [{"loc": ["body", "prompt"], "msg": "Field required", "type": "missing"}]}


@pytest.mark.parametrize(
    ("model_id", "body", "field"),
    [
        ("fal-ai/flux-1/dev", {"prompt": "x", "image_size": "huge"}, "image_size"),
        ("fal-ai/flux-1/dev", {"prompt": "x", "output_format": "gif"}, "output_format"),
        ("fal-ai/flux-1/dev", {"prompt": "x", "num_images": 5}, "num_images"),
        ("fal-ai/flux-1/dev", {"prompt": "x", "num_images": "2"}, "num_images"),
        ("fal-ai/flux-1/dev", {"prompt": "x", "image_size": {"width": 32, "height": 512}}, "image_size"),
        ("fal-ai/bytedance/seedream/v4/text-to-image", {"prompt": "x", "num_images": 7}, "num_images"),
        ("fal-ai/bytedance/seedream/v4/text-to-image",
         {"prompt": "x", "image_size": {"width": 512, "height": 512}}, "image_size"),
        ("fal-ai/flux-pro/kontext", {"prompt": "x", "image_url": "https://e.com/a.png", "safety_tolerance": 2},
         "safety_tolerance"),
        ("fal-ai/flux-pro/kontext", {"prompt": "x", "image_url": "ftp://e.com/a.png"}, "image_url"),
        ("fal-ai/nano-banana/edit", {"prompt": "x", "image_urls": []}, "image_urls"),
        ("fal-ai/nano-banana/edit", {"prompt": "x", "image_urls": "https://e.com/a.png"}, "image_urls"),
        ("fal-ai/veo3", {"prompt": "x", "duration": 8}, "duration"),
        ("fal-ai/veo3", {"prompt": "x", "duration": "5"}, "duration"),
        ("fal-ai/kling-video/v2.5-turbo/pro/text-to-video", {"prompt": "x", "duration": "5s"}, "duration"),
        ("fal-ai/kling-video/v2.5-turbo/pro/image-to-video", {"prompt": "x"}, "image_url"),
    ],
)
def test_invalid_input_gives_a_422_list_naming_the_field(
    simulator: Simulator, client: httpx.Client, model_id: str, body: dict[str, Any], field: str
) -> None:
    response = submit(client, simulator, model_id, body)
    assert response.status_code == 422, response.text
    detail = response.json()["detail"]
    assert isinstance(detail, list) and detail
    assert detail[0]["loc"][:2] == ["body", field]
    assert isinstance(detail[0]["msg"], str) and isinstance(detail[0]["type"], str)


def test_bad_enum_message_lists_the_choices(simulator: Simulator, client: httpx.Client) -> None:
    detail = submit(client, simulator, "fal-ai/veo3", {"prompt": "x", "duration": 8}).json()["detail"]
    assert detail == [{"loc": ["body", "duration"], "msg": "Input should be '4s', '6s' or '8s'",
                       "type": "literal_error"}]


@pytest.mark.parametrize("content", [b"{not json", b"[1, 2]", b""])
def test_unreadable_body_gives_a_422_string(
    simulator: Simulator, client: httpx.Client, content: bytes
) -> None:
    response = client.post(f"{simulator.base_url}/fal-ai/flux-1/dev", content=content,
                           headers={"Content-Type": "application/json"})
    assert response.status_code == 422
    assert isinstance(response.json()["detail"], str)


def test_redux_is_accepted_without_a_prompt(simulator: Simulator, client: httpx.Client) -> None:
    result = run_job(client, simulator, "fal-ai/flux-1/dev/redux", {"image_url": "https://example.com/a.png"})
    assert (result["images"][0]["width"], result["images"][0]["height"]) == (1024, 768)
    assert result["prompt"] == ""


def test_unknown_model_is_a_generic_text_to_image_model(simulator: Simulator, client: httpx.Client) -> None:
    assert submit(client, simulator, "someone/new-model", {}).status_code == 422
    result = run_job(client, simulator, "someone/new-model/v1",
                     {"prompt": "x", "image_size": "portrait_16_9", "whatever": 1})
    assert (result["images"][0]["width"], result["images"][0]["height"]) == (576, 1024)


# -- status: queue position and logs --------------------------------------------------------------
def test_queue_position_counts_down_and_logs_grow(simulator: Simulator, client: httpx.Client) -> None:
    data = submit(client, simulator, "fal-ai/flux-1/schnell", {"prompt": "x"}, "queue=0.45, run=0.45").json()
    assert data["queue_position"] == 2
    positions: list[int] = []
    log_counts: list[int] = []
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        response = client.get(data["status_url"], params={"logs": "1"})
        body = response.json()
        if body["status"] == "IN_QUEUE":
            assert response.status_code == 202
            positions.append(body["queue_position"])
        elif body["status"] == "IN_PROGRESS":
            assert response.status_code == 202
            log_counts.append(len(body["logs"]))
        else:
            assert response.status_code == 200
            break
        time.sleep(0.02)
    assert positions == sorted(positions, reverse=True)
    assert positions[0] == 2 and positions[-1] == 0
    assert log_counts == sorted(log_counts) and log_counts[-1] > log_counts[0]
    assert body["logs"][0]["message"].startswith("Loading model")
    assert any(entry["message"] == "Step 4/4" for entry in body["logs"])  # schnell: 4 steps
    entry = body["logs"][0]
    assert set(entry) == {"message", "level", "source", "timestamp"} and entry["level"] == "INFO"
    assert isinstance(body["metrics"]["inference_time"], float)
    assert "error" not in body
    # logs=0 / false leave them out; logs=true is understood too.
    assert client.get(data["status_url"], params={"logs": "0"}).json()["logs"] is None
    assert client.get(data["status_url"], params={"logs": "false"}).json()["logs"] is None
    assert len(client.get(data["status_url"], params={"logs": "true"}).json()["logs"]) == len(body["logs"])


def test_result_before_completion_is_400(simulator: Simulator, client: httpx.Client) -> None:
    data = submit(client, simulator, "fal-ai/flux-1/dev", {"prompt": "x"}, "queue=5").json()
    response = client.get(data["response_url"])
    assert response.status_code == 400
    assert response.json() == {"detail": "Request is still in progress"}


# -- result shapes ----------------------------------------------------------------------------
def test_flux_result_shape(simulator: Simulator, client: httpx.Client, anonymous: httpx.Client) -> None:
    result = run_job(client, simulator, "fal-ai/flux-1/dev", {"prompt": "a fox", "num_images": 2, "seed": 42})
    assert set(result) == {"images", "timings", "seed", "has_nsfw_concepts", "prompt"}
    assert result["seed"] == 42 and result["prompt"] == "a fox"
    assert result["has_nsfw_concepts"] == [False, False]
    assert isinstance(result["timings"]["inference"], float)
    assert [set(image) for image in result["images"]] == [{"url", "width", "height", "content_type"}] * 2
    assert result["images"][0]["content_type"] == "image/jpeg"
    first, second = (anonymous.get(image["url"]).content for image in result["images"])
    assert first != second  # num_images gives distinct pictures
    assert anonymous.get(result["images"][0]["url"]).content == first  # and the same picture on every download


def test_seed_is_invented_when_not_given(simulator: Simulator, client: httpx.Client) -> None:
    result = run_job(client, simulator, "fal-ai/flux-1/dev", {"prompt": "x"})
    assert isinstance(result["seed"], int) and 0 <= result["seed"] < 2**31


def test_seedream_result_shape(simulator: Simulator, client: httpx.Client) -> None:
    result = run_job(client, simulator, "fal-ai/bytedance/seedream/v4/text-to-image", {"prompt": "x", "seed": 7})
    assert set(result) == {"images", "seed"} and result["seed"] == 7
    image = result["images"][0]
    assert (image["width"], image["height"], image["content_type"]) == (2048, 2048, "image/jpeg")


def test_nano_banana_result_shape(
    simulator: Simulator, client: httpx.Client, anonymous: httpx.Client
) -> None:
    result = run_job(client, simulator, "fal-ai/nano-banana", {"prompt": "x"})
    assert result == {"images": [result["images"][0]], "description": ""}
    assert result["images"][0]["content_type"] == "image/png"
    assert downloaded_image(anonymous, result["images"][0]["url"]).format == "PNG"


@pytest.mark.parametrize(
    ("model_id", "body", "shape"),
    [
        ("fal-ai/veo3", {"prompt": "x"}, (320, 180)),
        ("fal-ai/veo3", {"prompt": "x", "aspect_ratio": "9:16", "duration": "4s"}, (180, 320)),
        ("fal-ai/kling-video/v2.5-turbo/pro/text-to-video",
         {"prompt": "x", "aspect_ratio": "1:1", "duration": "10"},
         (240, 240)),
        ("fal-ai/kling-video/v2.5-turbo/pro/image-to-video", {"prompt": "x", "image_url": data_uri(90, 160)},
         (180, 320)),
        ("fal-ai/veo3/fast/image-to-video", {"prompt": "x", "image_url": "https://example.com/a.png"}, (320, 180)),
    ],
)
def test_video_result_is_a_real_mp4(
    simulator: Simulator, client: httpx.Client, anonymous: httpx.Client,
    model_id: str, body: dict[str, Any], shape: tuple[int, int],
) -> None:
    result = run_job(client, simulator, model_id, body)
    assert set(result) == {"video"}
    video = result["video"]
    assert set(video) == {"url", "content_type", "file_name", "file_size"}
    assert video["content_type"] == "video/mp4"
    response = anonymous.get(video["url"])
    assert response.headers["content-type"] == "video/mp4"
    assert response.content[4:8] == b"ftyp" and len(response.content) == video["file_size"]
    assert _mp4_dimensions(response.content) == shape


def _mp4_dimensions(data: bytes) -> tuple[int, int]:
    """Width and height from the first track header with a size (tkhd, 16.16 fixed point)."""
    start = 0
    while True:
        at = data.index(b"tkhd", start) - 4
        version = data[at + 8]
        offset = at + 8 + (88 if version == 1 else 76)
        width, height = struct.unpack(">II", data[offset:offset + 8])
        if width:  # audio tracks have 0x0
            return width >> 16, height >> 16
        start = at + 8


# -- exact sizes -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("image_size", "expected"),
    [
        ("square_hd", (1024, 1024)), ("square", (512, 512)), ("portrait_4_3", (768, 1024)),
        ("portrait_16_9", (576, 1024)), ("landscape_4_3", (1024, 768)), ("landscape_16_9", (1024, 576)),
        ({"width": 640, "height": 320}, (640, 320)), ({"width": 64, "height": 4096}, (64, 4096)),
    ],
)
def test_image_size_gives_exact_pixels(
    simulator: Simulator, client: httpx.Client, image_size: Any, expected: tuple[int, int], anonymous: httpx.Client
) -> None:
    result = run_job(client, simulator, "fal-ai/flux-1/dev", {"prompt": "x", "image_size": image_size})
    image = result["images"][0]
    assert (image["width"], image["height"]) == expected
    assert downloaded_image(anonymous, image["url"]).size == expected


@pytest.mark.parametrize(
    ("model_id", "body", "expected"),
    [
        ("fal-ai/flux-1/dev", {"prompt": "x"}, (1024, 768)),
        ("fal-ai/qwen-image-edit-plus", {"prompt": "x", "image_urls": ["https://e.com/a.png"]}, (1024, 1024)),
        ("fal-ai/bytedance/seedream/v4/text-to-image", {"prompt": "x", "image_size": "auto_4K"}, (4096, 4096)),
        ("fal-ai/bytedance/seedream/v4/edit",
         {"prompt": "x", "image_urls": ["https://e.com/a.png"], "image_size": {"width": 1280, "height": 960}},
         (1280, 960)),
        ("fal-ai/nano-banana", {"prompt": "x", "aspect_ratio": "16:9"}, (1344, 768)),
        ("fal-ai/nano-banana", {"prompt": "x", "aspect_ratio": "9:16"}, (768, 1344)),
        ("fal-ai/nano-banana", {"prompt": "x", "aspect_ratio": "21:9"}, (1536, 640)),
        ("fal-ai/nano-banana", {"prompt": "x", "aspect_ratio": "4:5"}, (896, 1120)),
        ("fal-ai/imagen4/preview", {"prompt": "x", "aspect_ratio": "4:3"}, (1152, 896)),
        ("fal-ai/imagen4/preview", {"prompt": "x", "aspect_ratio": "3:4", "resolution": "2K"}, (1792, 2304)),
        ("fal-ai/flux-pro/kontext/text-to-image", {"prompt": "x"}, (1024, 1024)),
        ("fal-ai/flux-pro/kontext/text-to-image", {"prompt": "x", "aspect_ratio": "3:2"}, (1216, 832)),
        ("fal-ai/flux-pro/kontext", {"prompt": "x", "image_url": data_uri(300, 200, "JPEG")}, (300, 200)),
        ("fal-ai/flux-pro/kontext", {"prompt": "x", "image_url": data_uri(300, 200), "aspect_ratio": "9:21"},
         (640, 1536)),
        ("fal-ai/flux-pro/kontext/multi", {"prompt": "x", "image_urls": [data_uri(120, 90), data_uri(50, 50)]},
         (120, 90)),
        ("fal-ai/flux-1/dev/image-to-image", {"prompt": "x", "image_url": data_uri(333, 222)}, (333, 222)),
        ("fal-ai/flux-1/dev/image-to-image", {"prompt": "x", "image_url": "https://e.com/a.png"}, (1024, 1024)),
        ("fal-ai/nano-banana/edit", {"prompt": "x", "image_urls": [data_uri(250, 400)]}, (250, 400)),
        ("fal-ai/nano-banana/edit", {"prompt": "x", "image_urls": ["data:image/png;base64,bm9wZQ=="]},
         (1024, 1024)),
    ],
)
def test_size_rules(
    simulator: Simulator, client: httpx.Client, anonymous: httpx.Client,
    model_id: str, body: dict[str, Any], expected: tuple[int, int],
) -> None:
    image = run_job(client, simulator, model_id, body)["images"][0]
    assert (image["width"], image["height"]) == expected
    if expected[0] * expected[1] <= 2048 * 2048:  # skip drawing the 4K one: the JSON is the point there
        assert downloaded_image(anonymous, image["url"]).size == expected


@pytest.mark.parametrize(
    ("model_id", "output_format", "content_type", "pil_format"),
    [
        ("fal-ai/flux-1/dev", "png", "image/png", "PNG"),
        ("fal-ai/qwen-image-edit-plus", "jpeg", "image/jpeg", "JPEG"),
        ("fal-ai/imagen4/preview", "webp", "image/webp", "WEBP"),
        ("fal-ai/qwen-image-edit-plus", None, "image/png", "PNG"),
        ("fal-ai/flux-pro/kontext/text-to-image", None, "image/jpeg", "JPEG"),
    ],
)
def test_output_format(
    simulator: Simulator, client: httpx.Client, model_id: str, output_format: str | None,
    content_type: str, pil_format: str, anonymous: httpx.Client,
) -> None:
    body: dict[str, Any] = {"prompt": "x", "image_urls": ["https://e.com/a.png"]}
    if output_format:
        body["output_format"] = output_format
    image = run_job(client, simulator, model_id, body)["images"][0]
    assert image["content_type"] == content_type
    response = anonymous.get(image["url"])
    assert response.headers["content-type"] == content_type
    assert Image.open(io.BytesIO(response.content)).format == pil_format


# -- cancel --------------------------------------------------------------------------------------
def test_cancel_while_queued(simulator: Simulator, client: httpx.Client) -> None:
    data = submit(client, simulator, "fal-ai/flux-1/dev", {"prompt": "x"}, "queue=5").json()
    response = client.put(data["cancel_url"])
    assert response.status_code == 202 and response.json() == {"status": "CANCELLATION_REQUESTED"}
    status = client.get(data["status_url"])
    assert status.status_code == 200
    assert status.json()["status"] == "COMPLETED"
    assert status.json()["error"] == "The request was cancelled."
    assert status.json()["error_type"] == "request_cancelled"
    result = client.get(data["response_url"])
    assert result.status_code == 400
    assert result.json() == {"detail": "The request was cancelled.", "error_type": "request_cancelled"}
    assert client.put(data["cancel_url"]).json() == {"status": "ALREADY_COMPLETED"}


def test_cancel_while_in_progress(simulator: Simulator, client: httpx.Client) -> None:
    data = submit(client, simulator, "fal-ai/veo3", {"prompt": "x"}, "queue=0, run=5").json()
    assert client.get(data["status_url"]).json()["status"] == "IN_PROGRESS"
    assert client.put(data["cancel_url"]).status_code == 202
    status = client.get(data["status_url"], params={"logs": 1}).json()
    assert (status["status"], status["error_type"]) == ("COMPLETED", "request_cancelled")
    assert status["logs"][-1]["message"] == "The request was cancelled."
    assert client.get(data["response_url"]).status_code == 400


def test_cancel_after_completion_and_unknown(simulator: Simulator, client: httpx.Client) -> None:
    data = submit(client, simulator, "fal-ai/flux-1/dev", {"prompt": "x"}, INSTANT).json()
    wait_completed(client, data["status_url"])
    response = client.put(data["cancel_url"])
    assert response.status_code == 400 and response.json() == {"status": "ALREADY_COMPLETED"}
    assert client.get(data["response_url"]).status_code == 200
    unknown = client.put(f"{simulator.base_url}/fal-ai/flux-1/requests/{uuid.uuid4()}/cancel")
    assert unknown.status_code == 404 and unknown.json() == {"status": "NOT_FOUND"}


# -- fault switches -----------------------------------------------------------------------------
@pytest.mark.parametrize(("spec", "error_type"), [("fail", "internal_server_error"),
                                                  ("fail=content_policy_violation", "content_policy_violation")])
def test_fail_completes_with_an_error(
    simulator: Simulator, client: httpx.Client, spec: str, error_type: str
) -> None:
    data = submit(client, simulator, "fal-ai/flux-1/dev", {"prompt": f"x [sim: {spec}, queue=0, run=0]"}).json()
    status = wait_completed(client, data["status_url"])
    assert status["status"] == "COMPLETED" and status["error_type"] == error_type
    assert isinstance(status["error"], str) and status["error"]
    assert status["logs"][-1]["level"] == "ERROR"
    result = client.get(data["response_url"])
    assert result.status_code == 500
    assert result.json() == {"detail": status["error"], "error_type": error_type}
    assert result.headers["x-fal-error-type"] == error_type


def test_header_faults_work_for_models_without_a_prompt(simulator: Simulator, client: httpx.Client) -> None:
    data = submit(client, simulator, "fal-ai/flux-1/schnell/redux", {"image_url": "https://e.com/a.png"},
                  "fail, queue=0, run=0").json()
    assert wait_completed(client, data["status_url"])["error_type"] == "internal_server_error"


def test_rate_limit_then_server_error_on_the_first_polls(simulator: Simulator, client: httpx.Client) -> None:
    data = submit(client, simulator, "fal-ai/flux-1/dev", {"prompt": "x"},
                  "rate_limit=2, retry_after=3, server_error=1, queue=0, run=0").json()
    for _ in range(2):
        response = client.get(data["status_url"])
        assert response.status_code == 429
        assert response.json() == {"detail": "Rate limit exceeded"}
        assert response.headers["retry-after"] == "3"
    response = client.get(data["status_url"])
    assert response.status_code == 503
    assert response.json()["error_type"] == "runner_scheduling_failure"
    assert response.headers["x-fal-error-type"] == "runner_scheduling_failure"
    assert client.get(data["status_url"]).status_code == 200
    assert client.get(data["response_url"]).status_code == 200  # result fetches are not affected


def test_rate_limit_defaults(simulator: Simulator, client: httpx.Client) -> None:
    data = submit(client, simulator, "fal-ai/flux-1/dev", {"prompt": "x [sim:rate_limit]"}, INSTANT).json()
    codes = [client.get(data["status_url"]).status_code for _ in range(3)]
    assert codes == [429, 429, 200]
    assert client.get(data["response_url"]).json()["prompt"] == "x"  # token stripped before echoing


def test_server_error_default_count(simulator: Simulator, client: httpx.Client) -> None:
    data = submit(client, simulator, "fal-ai/flux-1/dev", {"prompt": "x"}, "server_error, queue=0, run=0").json()
    assert [client.get(data["status_url"]).status_code for _ in range(3)] == [503, 503, 200]


def test_slow_start_delays_the_submit_but_accepts_it(simulator: Simulator) -> None:
    before = len(simulator.jobs)
    with httpx.Client(headers={"Authorization": KEY}, timeout=0.1) as impatient:
        with pytest.raises(httpx.ReadTimeout):
            submit(impatient, simulator, "fal-ai/flux-1/dev", {"prompt": "x"}, "slow_start=0.4")
    assert len(simulator.jobs) == before + 1  # the request exists although the client never heard
    started = time.monotonic()
    with httpx.Client(headers={"Authorization": KEY}, timeout=5) as patient:
        response = submit(patient, simulator, "fal-ai/flux-1/dev", {"prompt": "x"}, "slow_start=0.3")
        assert response.status_code == 200
    assert time.monotonic() - started >= 0.3


def test_payment_fault_refuses_the_submit(simulator: Simulator, client: httpx.Client) -> None:
    response = submit(client, simulator, "fal-ai/flux-1/dev", {"prompt": "x"}, "payment")
    assert response.status_code == 402
    assert response.json()["detail"].startswith("User is locked. Reason: Exhausted balance")


def test_nsfw_fault_flags_every_image(simulator: Simulator, client: httpx.Client) -> None:
    body = {"prompt": "x", "num_images": 3}
    result = run_job(client, simulator, "fal-ai/flux-1/dev", body, "nsfw, queue=0, run=0")
    assert result["has_nsfw_concepts"] == [True, True, True]


@pytest.mark.parametrize(("model_id", "body"), [("fal-ai/flux-1/dev", {"prompt": "x"}),
                                                ("fal-ai/veo3", {"prompt": "x"})])
def test_truncate_fault_cuts_downloads_short(
    simulator: Simulator, client: httpx.Client, model_id: str, body: dict[str, Any], anonymous: httpx.Client
) -> None:
    result = run_job(client, simulator, model_id, body, "truncate, queue=0, run=0")
    url = result["video"]["url"] if "video" in result else result["images"][0]["url"]
    with pytest.raises(httpx.RemoteProtocolError):
        anonymous.get(url)


def test_expire_fault_expires_files_and_result(
    simulator: Simulator, client: httpx.Client, anonymous: httpx.Client
) -> None:
    data = submit(client, simulator, "fal-ai/flux-1/dev", {"prompt": "x"}, "expire=0.3, queue=0, run=0").json()
    wait_completed(client, data["status_url"])
    url = client.get(data["response_url"]).json()["images"][0]["url"]
    assert anonymous.get(url).status_code == 200
    time.sleep(0.35)
    expired = anonymous.get(url)
    assert expired.status_code == 410 and expired.json() == {"detail": "File expired"}
    assert client.get(data["response_url"]).status_code == 404


def test_queue_and_run_overrides(simulator: Simulator, client: httpx.Client) -> None:
    data = submit(client, simulator, "fal-ai/flux-1/dev", {"prompt": "x"}, "queue=0, run=5").json()
    assert client.get(data["status_url"]).json()["status"] == "IN_PROGRESS"
    data = submit(client, simulator, "fal-ai/flux-1/dev", {"prompt": "x"}, "queue=5").json()
    assert client.get(data["status_url"]).json()["status"] == "IN_QUEUE"


def test_big_mb_pads_the_video_with_a_free_box(
    simulator: Simulator, client: httpx.Client, anonymous: httpx.Client
) -> None:
    result = run_job(client, simulator, "fal-ai/veo3", {"prompt": "x"}, "big_mb=3, queue=0, run=0")
    size = 3 * 1024 * 1024
    assert result["video"]["file_size"] == size
    head = bytearray()
    with anonymous.stream("GET", result["video"]["url"]) as response:
        assert response.headers["content-length"] == str(size)
        for chunk in response.iter_bytes():
            if len(head) < 65536:
                head += chunk[: 65536 - len(head)]
        assert response.num_bytes_downloaded == size
    # The top-level boxes must tile the file exactly, the padding `free` box last.
    boxes: list[bytes] = []
    at = 0
    while at < size:
        length, kind = struct.unpack(">I4s", head[at:at + 8])
        boxes.append(kind)
        at += length
    assert at == size and boxes[0] == b"ftyp" and boxes[-1] == b"free"


@pytest.mark.parametrize("where", ["header", "prompt"])
def test_unknown_fault_is_named_in_a_422(simulator: Simulator, client: httpx.Client, where: str) -> None:
    if where == "header":
        response = submit(client, simulator, "fal-ai/flux-1/dev", {"prompt": "x"}, "fial")
    else:
        response = submit(client, simulator, "fal-ai/flux-1/dev", {"prompt": "x [sim: fial]"})
    assert response.status_code == 422
    assert "fial" in response.json()["detail"]


# -- files and TTLs ------------------------------------------------------------------------------
def test_files_expire_after_the_file_ttl(
    make_simulator: Callable[..., Simulator], client: httpx.Client, anonymous: httpx.Client
) -> None:
    sim = make_simulator(file_ttl_seconds=0.3, result_ttl_seconds=0.6)
    data = submit(client, sim, "fal-ai/flux-1/dev", {"prompt": "x"}, INSTANT).json()
    wait_completed(client, data["status_url"])
    url = client.get(data["response_url"]).json()["images"][0]["url"]
    assert anonymous.get(url).status_code == 200
    time.sleep(0.35)
    assert anonymous.get(url).status_code == 410
    assert client.get(data["response_url"]).status_code == 200  # the result outlives its files
    time.sleep(0.3)
    assert client.get(data["response_url"]).status_code == 404
    assert anonymous.get(f"{sim.base_url}/files/{uuid.uuid4()}/0.jpg").status_code == 404


def test_files_of_unfinished_requests_are_not_found(
    simulator: Simulator, client: httpx.Client, anonymous: httpx.Client
) -> None:
    data = submit(client, simulator, "fal-ai/flux-1/dev", {"prompt": "x"}, "queue=5").json()
    assert anonymous.get(f"{simulator.base_url}/files/{data['request_id']}/0.jpg").status_code == 404


# -- server behaviour --------------------------------------------------------------------------
def test_hundreds_of_concurrent_jobs(simulator: Simulator) -> None:
    limits = httpx.Limits(max_connections=100, max_keepalive_connections=100)
    with httpx.Client(headers={"Authorization": KEY}, timeout=10, limits=limits) as http:

        def one(index: int) -> int:
            data = submit(http, simulator, "fal-ai/flux-1/schnell", {"prompt": f"job {index}"},
                          "queue=0.1, run=0.1").json()
            wait_completed(http, data["status_url"])
            return http.get(data["response_url"]).status_code

        with ThreadPoolExecutor(max_workers=100) as pool:
            codes = list(pool.map(one, range(300)))
    assert codes == [200] * 300


def test_stop_closes_keep_alive_connections_and_frees_the_port() -> None:
    sim = Simulator(SimulatorConfig(queue_seconds=0, run_seconds=0)).start()
    base = sim.base_url
    with httpx.Client(headers={"Authorization": KEY}, timeout=2) as http:
        assert http.post(f"{base}/fal-ai/flux-1/dev", json={"prompt": "x"}).status_code == 200
        threads_before = threading.active_count()
        sim.stop()
        with pytest.raises(httpx.TransportError):
            http.post(f"{base}/fal-ai/flux-1/dev", json={"prompt": "x"})
    assert threading.active_count() <= threads_before
    sim.stop()  # idempotent


def test_context_manager_and_index(client: httpx.Client) -> None:
    with Simulator(SimulatorConfig()) as sim:
        index = client.get(sim.base_url + "/").json()
        assert "fal-ai/flux-1/dev" in index["models"] and index["simulator"] == "fal"
