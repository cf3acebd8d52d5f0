"""Pages for people without an account, opened through a share link. No login needed."""

from __future__ import annotations


from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from atelier.lookups import get_or_404
from gallery import sharing
from gallery.downloads import original_response
from gallery.models import Asset
from gallery.serving import file_response, thumbnail_response


def _link_or_404(token: str):
    link = sharing.live_link(token)
    if link is None:
        raise Http404("This link does not work: it may have expired or been withdrawn.")
    return link


def _shared_asset(link, asset_id: str) -> Asset:
    return get_or_404(sharing.shared_assets(link).select_related("generation"), asset_id, "No such item.")


@require_GET
def shared(request: HttpRequest, token: str) -> HttpResponse:
    link = _link_or_404(token)
    sharing.count_view(link)
    items = list(sharing.shared_assets(link).select_related("generation"))
    if link.asset_id:
        if not items:
            raise Http404("No such item.")
        return render(request, "gallery/shared_item.html", {"link": link, "asset": items[0]})
    return render(request, "gallery/shared_album.html", {"link": link, "album": link.album, "items": items})


@require_GET
def shared_item(request: HttpRequest, token: str, asset_id: str) -> HttpResponse:
    link = _link_or_404(token)
    asset = _shared_asset(link, asset_id)
    return render(request, "gallery/shared_item.html", {"link": link, "asset": asset, "album": link.album})


@require_GET
def shared_file(request: HttpRequest, token: str, asset_id: str) -> HttpResponse:
    link = _link_or_404(token)
    asset = _shared_asset(link, asset_id)
    if request.GET.get("download") == "1":
        if not link.allow_download:
            raise Http404("Downloads are not allowed for this link.")
        return original_response(asset, as_download=True, with_story=link.show_prompts)
    return file_response(asset.file, asset.content_type)


@require_GET
def shared_thumbnail(request: HttpRequest, token: str, asset_id: str) -> HttpResponse:
    link = _link_or_404(token)
    return thumbnail_response(_shared_asset(link, asset_id))
