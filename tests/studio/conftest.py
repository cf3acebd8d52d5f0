"""Jobs against a live simulator: settings point at it, media goes to a temporary folder."""

from __future__ import annotations

from tests.conftest import SENTINEL_KEY

import io
import time

import pytest
from PIL import Image

from fal import FalClient, RetryPolicy
from gallery import previews
from gallery.assets import store_asset
from gallery.ingest import receive, verify
from gallery.models import Asset
from studio import jobs
from studio.models import Generation


@pytest.fixture
def upstream_sleeps():
    return []


@pytest.fixture
def fal_service(simulator, settings, media_root, monkeypatch, upstream_sleeps):
    """Jobs talk to the test simulator; retries record their waits instead of sleeping."""
    settings.FAL_BASE_URL = simulator.base_url
    settings.FAL_KEY = SENTINEL_KEY
    settings.FAL_AUTH_SCHEME = "key"
    client = FalClient(simulator.base_url, SENTINEL_KEY, sleep=upstream_sleeps.append,
                       retry=RetryPolicy(max_attempts=3, base_delay=0.01, max_delay=0.05))
    monkeypatch.setattr(jobs, "get_client", lambda: client)
    monkeypatch.setattr(jobs, "POLL_INTERVAL", jobs.timedelta(milliseconds=20))
    yield simulator
    client.close()


def png_bytes(width: int = 320, height: int = 200, color=(200, 80, 40)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), color).save(buffer, "PNG")
    return buffer.getvalue()


@pytest.fixture
def uploaded_image(member, media_root) -> Asset:
    path, size, checksum = receive([png_bytes()])
    return store_asset(verify(path, size, checksum), owner=member, source=Asset.Source.UPLOAD, original_name="in.png")


def make_generation(user, model_id: str, arguments: dict, **fields) -> Generation:
    return Generation.objects.create(user=user, model_id=model_id, model_title=model_id, kind="text-to-image",
                                     arguments=arguments, prompt=arguments.get("prompt", ""),
                                     client_token=fields.pop("client_token", str(time.monotonic_ns())), **fields)


def drive(generation: Generation, timeout: float = 15.0) -> Generation:
    """What the worker and the tracker do, step by step, until the job is final."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        generation.refresh_from_db()
        if generation.is_final:
            previews.make_due()  # the tracker makes thumbnails after the outputs are saved
            return generation
        if generation.state == Generation.State.SUBMITTING:
            jobs.submit(str(generation.id))
        else:
            for generation_id in jobs.claim_due():
                jobs.check(generation_id)
        time.sleep(0.02)
    raise AssertionError(f"still {generation.state} after {timeout}s")
