"""Input images travel to fal as data URIs, rebuilt from our stored assets at submit time."""

from __future__ import annotations

import base64
from typing import Any

from gallery.models import Asset
from studio.models import Generation

ASSET_PREFIX = "asset:"


def asset_reference(asset: Asset) -> str:
    return f"{ASSET_PREFIX}{asset.id}"


def resolve_inputs(generation: Generation) -> dict[str, Any]:
    """The arguments to send, with every "asset:<id>" replaced by the asset's data URI."""
    assets = {str(asset.id): asset for asset in generation.input_assets.all()}

    def resolve(value: Any) -> Any:
        if isinstance(value, str) and value.startswith(ASSET_PREFIX):
            asset = assets.get(value[len(ASSET_PREFIX):])
            if asset is None:
                raise MissingInputImage("An input image of this job is no longer in the gallery.")
            return data_uri(asset)
        if isinstance(value, list):
            return [resolve(item) for item in value]
        return value

    return {name: resolve(value) for name, value in generation.arguments.items()}


def data_uri(asset: Asset) -> str:
    with asset.file.open("rb") as handle:
        encoded = base64.b64encode(handle.read()).decode("ascii")
    return f"data:{asset.content_type};base64,{encoded}"


class MissingInputImage(Exception):
    pass
