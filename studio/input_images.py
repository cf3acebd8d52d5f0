"""Input images for fal, rebuilt from our stored assets at submit time.

By default they travel as data URIs, which work behind any firewall. With PUBLIC_BASE_URL
set they travel as signed, expiring URLs of ours (gallery.views.signed_asset_file).
"""

from __future__ import annotations

import base64
from typing import Any

from django.conf import settings
from django.core import signing
from django.urls import reverse

from gallery.models import Asset
from studio.models import Generation

ASSET_PREFIX = "asset:"


def asset_reference(asset: Asset) -> str:
    return f"{ASSET_PREFIX}{asset.id}"


def resolve_inputs(generation: Generation) -> dict[str, Any]:
    """The arguments to send, with every "asset:<id>" replaced by the asset's data URI."""
    # Most jobs (text-to-image) have no input image: no query for them.
    assets = ({str(asset.id): asset for asset in generation.input_assets.all()}
              if has_input_images(generation.arguments) else {})

    def resolve(value: Any) -> Any:
        if isinstance(value, str) and value.startswith(ASSET_PREFIX):
            asset = assets.get(value[len(ASSET_PREFIX):])
            if asset is None:
                raise MissingInputImage("An input image of this job is no longer in the gallery.")
            return signed_url(asset) if settings.PUBLIC_BASE_URL else data_uri(asset)
        if isinstance(value, list):
            return [resolve(item) for item in value]
        return value

    return {name: resolve(value) for name, value in generation.arguments.items()}


def has_input_images(value: Any) -> bool:
    """Whether these arguments name any gallery item ("asset:<id>") to send."""
    if isinstance(value, str):
        return value.startswith(ASSET_PREFIX)
    if isinstance(value, dict):
        return any(has_input_images(item) for item in value.values())
    if isinstance(value, list):
        return any(has_input_images(item) for item in value)
    return False


def data_uri(asset: Asset) -> str:
    with asset.file.open("rb") as handle:
        encoded = base64.b64encode(handle.read()).decode("ascii")
    return f"data:{asset.content_type};base64,{encoded}"


SIGNING_SALT = "atelier.input-image"


def signed_url(asset: Asset) -> str:
    token = signing.dumps(str(asset.id), salt=SIGNING_SALT, compress=True)
    return settings.PUBLIC_BASE_URL + reverse("gallery:signed_asset_file", args=[token])


def asset_id_from_token(token: str) -> str | None:
    """The asset id a signed URL grants, or None when it is forged or expired."""
    try:
        return signing.loads(token, salt=SIGNING_SALT, max_age=settings.INPUT_URL_TTL_SECONDS)
    except signing.BadSignature:  # SignatureExpired is a BadSignature too
        return None


class MissingInputImage(Exception):
    pass
