"""Gallery pages: what people have generated and kept, and the files themselves."""

from __future__ import annotations

import uuid

from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from gallery.models import Asset

GRID_SIZE = 60


def visible_assets(user):
    """What a person may see: the whole team shares its work (sharing rules come later)."""
    return Asset.objects.all()


def _get_asset_for_user(request: HttpRequest, asset_id: str) -> Asset:
    """The asset, or 404 (never a hint that it exists)."""
    try:
        key = uuid.UUID(str(asset_id))
    except ValueError:
        raise Http404("No such item.") from None
    asset = visible_assets(request.user).filter(id=key).first()
    if asset is None:
        raise Http404("No such item.")
    return asset


@login_required
@require_GET
def index(request: HttpRequest) -> HttpResponse:
    assets = visible_assets(request.user).filter(source=Asset.Source.OUTPUT).select_related("generation")[:GRID_SIZE]
    return render(request, "gallery/index.html", {"assets": assets})


@login_required
@require_GET
def asset_file(request: HttpRequest, asset_id: str) -> FileResponse:
    asset = _get_asset_for_user(request, asset_id)
    response = FileResponse(asset.file.open("rb"), content_type=asset.content_type)
    response["Cache-Control"] = "private, max-age=86400"
    return response


@login_required
@require_GET
def asset_thumbnail(request: HttpRequest, asset_id: str) -> FileResponse:
    asset = _get_asset_for_user(request, asset_id)
    if not asset.thumbnail:
        raise Http404("This item has no thumbnail.")
    response = FileResponse(asset.thumbnail.open("rb"), content_type="image/webp")
    response["Cache-Control"] = "private, max-age=86400"
    return response


@require_GET
def signed_asset_file(request: HttpRequest, token: str) -> FileResponse:
    """An input image for fal: no login, but only with a valid, unexpired signature."""
    from studio.input_images import asset_id_from_token

    asset_id = asset_id_from_token(token)
    if asset_id is None:
        raise Http404("This link is invalid or has expired.")
    asset = Asset.objects.filter(id=asset_id).first()
    if asset is None:
        raise Http404("No such item.")
    return FileResponse(asset.file.open("rb"), content_type=asset.content_type)
