"""Gallery fixtures: generations with saved outputs, made directly (no fal round trip)."""

from __future__ import annotations

import itertools
from datetime import timedelta

import pytest
from django.utils import timezone

from gallery.assets import store_asset
from gallery.ingest import receive, verify
from gallery.models import Asset
from studio.models import Generation
from tests.studio.conftest import png_bytes

_counter = itertools.count()


@pytest.fixture
def make_item(media_root):
    """make_item(owner, prompt=…, model_id=…, kind=…, minutes_ago=…) → an output Asset with a real file."""
    base = timezone.now()

    def factory(owner, prompt="a quiet harbour at dawn", *, model_id="fal-ai/flux-1/dev", kind="image",
                minutes_ago=None, seed=42, nsfw=False, width=64, height=48, inputs=()):
        number = next(_counter)
        created = base - timedelta(minutes=minutes_ago if minutes_ago is not None else number)
        generation = Generation.objects.create(
            user=owner, model_id=model_id, model_title=model_id.split("/", 1)[-1], kind="text-to-image",
            arguments={"prompt": prompt, "seed": seed}, prompt=prompt, client_token=f"t{number}",
            state=Generation.State.DONE, seed=seed, created_at=created, finished_at=created)
        generation.input_assets.set(inputs)
        if kind == "video":
            data = open("fal/simulator/assets/square.mp4", "rb").read()
        else:
            data = png_bytes(width, height, color=(number * 37 % 255, 90, 140))
        path, size, checksum = receive([data])
        asset = store_asset(verify(path, size, checksum), owner=owner, source=Asset.Source.OUTPUT,
                            generation=generation, nsfw=nsfw)
        Asset.objects.filter(id=asset.id).update(created_at=created)
        asset.refresh_from_db()
        return asset

    return factory
