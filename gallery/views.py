"""Gallery pages: browse, inspect, favourite, gather into albums, download and delete."""

from __future__ import annotations

import json
import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST

from atelier.lookups import get_or_404
from audit.models import AuditEvent
from audit.record import record, share_link_details, share_link_target
from gallery import actions, sharing
from gallery.browse import GalleryFilters, after_cursor, before_cursor, encode_cursor, filtered_assets, page_of
from gallery.downloads import original_response, zip_response
from gallery.forms import ShareLinkForm
from gallery.models import Asset, Visibility
from gallery.permissions import albums_open_to, may_change, may_edit_album, visible_albums, visible_assets
from gallery.serving import file_response, thumbnail_response

MAX_BULK = 500


def _get_asset_for_user(request: HttpRequest, asset_id: str) -> Asset:
    return get_or_404(visible_assets(request.user).select_related("generation", "owner"), asset_id, "No such item.")


def _get_changeable_asset(request: HttpRequest, asset_id: str) -> Asset:
    """An asset the visitor may delete, share or hide (author or administrator), or 404."""
    asset = _get_asset_for_user(request, asset_id)
    if not may_change(request.user, asset):
        raise Http404("No such item.")
    return asset


# --- Grid -------------------------------------------------------------------------------
@login_required
@require_GET
def index(request: HttpRequest) -> HttpResponse:
    filters = GalleryFilters.from_query(request.GET)
    assets = filtered_assets(request.user, filters, visible_assets(request.user))
    page = page_of(assets.select_related("generation"), request.GET.get("after", ""))
    context = {
        "filters": filters,
        "page": page,
        "favourite_ids": actions.favourite_ids(request.user, page.items),
        "query": filters.query_string(),
    }
    if request.htmx and request.GET.get("after"):
        return render(request, "gallery/index.html#grid_page", context)
    context.update({
        "models": actions.models_in_gallery(),
        "albums": visible_albums(request.user),
        "open_albums": albums_open_to(request.user),
        "problems": filters.problems,
    })
    return render(request, "gallery/index.html", context)


# --- Detail -----------------------------------------------------------------------------
@login_required
@require_GET
def detail(request: HttpRequest, asset_id: str) -> HttpResponse:
    asset = _get_asset_for_user(request, asset_id)
    filters = GalleryFilters.from_query(request.GET)
    same_view = filtered_assets(request.user, filters, visible_assets(request.user))
    cursor = encode_cursor(asset)
    newer = before_cursor(same_view, cursor).first()
    older = after_cursor(same_view, cursor).first()
    generation = asset.generation
    return render(request, "gallery/detail.html", {
        "asset": asset,
        "generation": generation,
        "query": filters.query_string(),
        "problems": filters.problems,
        "newer": newer,
        "older": older,
        "is_favourite": asset.favourites.filter(user=request.user).exists(),
        "can_change": may_change(request.user, asset),
        "inputs": list(generation.input_assets.all()) if generation else [],
        "made_from_this": Asset.objects.filter(generation__input_assets=asset, source=Asset.Source.OUTPUT)
                                       .distinct().order_by("-created_at")[:24],
        "siblings": generation.assets.exclude(id=asset.id).filter(source=Asset.Source.OUTPUT) if generation else [],
        "parameters": json.dumps(generation.arguments, indent=2, ensure_ascii=False) if generation else "",
        "input_models": actions.models_taking_images() if asset.is_image else [],
        "albums": albums_open_to(request.user),
        "album_ids": set(asset.album_items.values_list("album_id", flat=True)),
        "share_links": sharing.links_for(asset) if may_change(request.user, asset) else [],
        "share_form": ShareLinkForm(),
    })


# --- Files ------------------------------------------------------------------------------
@login_required
@require_GET
def asset_file(request: HttpRequest, asset_id: str) -> HttpResponse:
    """The original, inline (for <img>/<video>), or as a download with ?download=1."""
    asset = _get_asset_for_user(request, asset_id)
    return original_response(asset, as_download=request.GET.get("download") == "1")


@login_required
@require_GET
def asset_thumbnail(request: HttpRequest, asset_id: str) -> FileResponse:
    return thumbnail_response(_get_asset_for_user(request, asset_id))


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
    return file_response(asset.file, asset.content_type)


# --- Actions on one item ----------------------------------------------------------------
@login_required
@require_POST
def toggle_favourite(request: HttpRequest, asset_id: str) -> HttpResponse:
    asset = _get_asset_for_user(request, asset_id)
    is_favourite = actions.toggle_favourite(request.user, asset)
    if request.htmx:
        return render(request, "gallery/_favourite_button.html", {"asset": asset, "is_favourite": is_favourite})
    return redirect("gallery:detail", asset.id)


@login_required
@require_POST
def add_to_album(request: HttpRequest, asset_id: str) -> HttpResponse:
    asset = _get_asset_for_user(request, asset_id)
    album = actions.album_from_form(request)
    if album is False:
        raise Http404("No such album.")
    if album is None:
        messages.error(request, _("Choose an album, or type a name for a new one."))
    else:
        actions.add_to_album(album, [asset])
        messages.success(request, _("Added to “%(album)s”.") % {"album": album.name})
    return redirect("gallery:detail", asset.id)


@login_required
@require_POST
def delete_asset(request: HttpRequest, asset_id: str) -> HttpResponse:
    asset = _get_changeable_asset(request, asset_id)
    actions.delete_assets([asset])
    messages.success(request, _("Deleted. The file is gone for good."))
    return redirect(f"{reverse('gallery:index')}?{request.POST.get('query', '')}")


# --- Bulk -------------------------------------------------------------------------------
@login_required
@require_POST
def bulk(request: HttpRequest) -> HttpResponse:
    """One form, several buttons: favourite, add to album, delete, or download as a ZIP."""
    ids = []
    for value in request.POST.getlist("ids")[:MAX_BULK]:
        try:
            ids.append(uuid.UUID(value))
        except ValueError:
            continue
    chosen = list(visible_assets(request.user).filter(id__in=ids).select_related("generation", "owner")
                  .order_by("-created_at", "-id"))
    back = f"{reverse('gallery:index')}?{request.POST.get('query', '')}"
    if not chosen:
        messages.error(request, _("Select at least one item first."))
        return redirect(back)
    action = request.POST.get("action")
    if action == "zip":
        return zip_response(chosen)
    if action == "favourite":
        added = actions.add_favourites(request.user, chosen)
        messages.success(request, ngettext("%(count)d item added to your favourites.",
                                           "%(count)d items added to your favourites.", added) % {"count": added})
    elif action == "album":
        album = actions.album_from_form(request)
        if album is False:
            raise Http404("No such album.")
        if album is None:
            messages.error(request, _("Choose an album, or type a name for a new one."))
        else:
            actions.add_to_album(album, chosen)
            messages.success(request, ngettext("Added %(count)d item to “%(album)s”.",
                                               "Added %(count)d items to “%(album)s”.", len(chosen))
                             % {"count": len(chosen), "album": album.name})
    elif action == "delete":
        allowed = [asset for asset in chosen if may_change(request.user, asset)]
        actions.delete_assets(allowed)
        skipped = len(chosen) - len(allowed)
        text = ngettext("Deleted %(count)d item.", "Deleted %(count)d items.", len(allowed)) % {"count": len(allowed)}
        if skipped:
            text += " " + ngettext("%(count)d belongs to someone else and was kept.",
                                   "%(count)d belong to someone else and were kept.", skipped) % {"count": skipped}
        messages.success(request, text)
    else:
        messages.error(request, _("Choose what to do with the selected items."))
    return redirect(back)


@login_required
@require_POST
def change_visibility(request: HttpRequest, asset_id: str) -> HttpResponse:
    """Team or private, for the item's whole job (all its outputs move together)."""
    asset = _get_changeable_asset(request, asset_id)
    visibility = request.POST.get("visibility")
    if visibility not in Visibility.values:
        messages.error(request, _("Choose who may see this: the team, or only you."))
    else:
        old_visibility = asset.visibility
        actions.set_visibility(asset, visibility)
        if visibility != old_visibility:
            record(request, AuditEvent.Action.ITEM_VISIBILITY, f"Item {asset.id}",
                   **{"from": old_visibility, "to": visibility, "whole_job": bool(asset.generation_id)})
        messages.success(request, _("Only you (and administrators) can see this now.") if visibility == Visibility.PRIVATE
                         else _("The whole team can see this now."))
    return redirect("gallery:detail", asset.id)


@login_required
@require_POST
def share_asset(request: HttpRequest, asset_id: str) -> HttpResponse:
    asset = _get_changeable_asset(request, asset_id)
    form = ShareLinkForm(request.POST)
    if form.is_valid():
        link = form.create(request.user, asset=asset)
        record(request, AuditEvent.Action.SHARE_CREATED, share_link_target(link), **share_link_details(link))
        messages.success(request, _("Share link created. Anyone with it can open this item: %(link)s") % {
            "link": request.build_absolute_uri(reverse("gallery:shared", args=[link.token]))})
    else:
        messages.error(request, " ".join(error for errors in form.errors.values() for error in errors))
    return redirect("gallery:detail", asset.id)


@login_required
@require_POST
def revoke_share(request: HttpRequest, link_id: int) -> HttpResponse:
    link = sharing.ShareLink.objects.filter(pk=link_id).select_related("asset", "album").first()
    target_ok = link is not None and (
        (link.asset is not None and may_change(request.user, link.asset))
        or (link.album is not None and may_edit_album(request.user, link.album)))
    if not target_ok:
        raise Http404("No such link.")
    if sharing.revoke(link):
        record(request, AuditEvent.Action.SHARE_WITHDRAWN, share_link_target(link), **share_link_details(link))
    messages.success(request, _("The link no longer works."))
    if link.asset_id:
        return redirect("gallery:detail", link.asset_id)
    return redirect("gallery:album", link.album_id)
