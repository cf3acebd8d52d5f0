"""Albums: named collections, ordered, private or shared with the team."""

from __future__ import annotations


from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.db.models import Count
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from accounts.roles import can_generate
from atelier.lookups import get_or_404
from audit.models import AuditEvent
from audit.record import record, share_link_details, share_link_target
from gallery import sharing
from gallery.forms import AlbumForm, ShareLinkForm
from gallery.models import Album, AlbumItem, Asset
from gallery.permissions import may_add_to_album, may_edit_album, visible_albums, visible_assets


def _get_album_for_user(request: HttpRequest, album_id: str) -> Album:
    return get_or_404(visible_albums(request.user).select_related("owner", "cover"), album_id, "No such album.")


def _get_editable_album(request: HttpRequest, album_id: str) -> Album:
    album = _get_album_for_user(request, album_id)
    if not may_edit_album(request.user, album):
        raise Http404("No such album.")
    return album


@login_required
@require_GET
def album_list(request: HttpRequest) -> HttpResponse:
    albums = visible_albums(request.user).select_related("owner", "cover").annotate(size=Count("items"))
    return render(request, "gallery/albums.html", {
        "albums": albums, "form": AlbumForm(), "can_create": can_generate(request.user)})


@login_required
@require_POST
def album_create(request: HttpRequest) -> HttpResponse:
    if not can_generate(request.user):
        raise Http404("Viewers cannot create albums.")
    form = AlbumForm(request.POST)
    if not form.is_valid():
        albums = visible_albums(request.user).select_related("owner", "cover").annotate(size=Count("items"))
        return render(request, "gallery/albums.html", {"albums": albums, "form": form, "can_create": True})
    album = form.save(commit=False)
    album.owner = request.user
    album.save()
    return redirect("gallery:album", album.id)


@login_required
@require_GET
def album_detail(request: HttpRequest, album_id: str) -> HttpResponse:
    album = _get_album_for_user(request, album_id)
    # Only the items this person may see, in the album's order.
    items = (AlbumItem.objects.filter(album=album, asset__in=visible_assets(request.user))
             .select_related("asset", "asset__generation").order_by("position", "added_at"))
    editable = may_edit_album(request.user, album)
    return render(request, "gallery/album.html", {
        "album": album, "items": items, "editable": editable,
        "may_add": may_add_to_album(request.user, album),
        "form": AlbumForm(instance=album) if editable else None,
        "share_form": ShareLinkForm(), "share_links": sharing.links_for(album) if editable else [],
    })


@login_required
@require_POST
def album_edit(request: HttpRequest, album_id: str) -> HttpResponse:
    album = _get_editable_album(request, album_id)
    old_visibility = album.visibility
    form = AlbumForm(request.POST, instance=album)
    if form.is_valid():
        form.save()
        if album.visibility != old_visibility:
            record(request, AuditEvent.Action.ALBUM_VISIBILITY, f"Album “{album.name}” ({album.id})",
                   **{"from": old_visibility, "to": album.visibility})
        messages.success(request, _("Album saved."))
    else:
        messages.error(request, " ".join(error for errors in form.errors.values() for error in errors))
    return redirect("gallery:album", album.id)


@login_required
@require_POST
def album_delete(request: HttpRequest, album_id: str) -> HttpResponse:
    album = _get_editable_album(request, album_id)
    album.delete()  # the items themselves stay in the gallery
    messages.success(request, _("The album “%(album)s” is gone; its items are still in the gallery.") % {
        "album": album.name})
    return redirect("gallery:albums")


@login_required
@require_POST
def album_item_action(request: HttpRequest, album_id: str, asset_id: str) -> HttpResponse:
    """Remove an item, move it up or down, or make it the cover."""
    album = _get_editable_album(request, album_id)
    asset = get_or_404(Asset.objects.filter(album_items__album=album), asset_id,
                       "Not in this album.")
    item = AlbumItem.objects.get(album=album, asset=asset)
    action = request.POST.get("action")
    if action == "remove":
        item.delete()
        if album.cover_id == item.asset_id:
            Album.objects.filter(id=album.id).update(cover=None)
    elif action in ("up", "down"):
        _move(album, item, -1 if action == "up" else 1)
    elif action == "cover":
        Album.objects.filter(id=album.id).update(cover_id=item.asset_id)
    return redirect(reverse("gallery:album", args=[album.id]) + f"#item-{item.asset_id}")


def _move(album: Album, item: AlbumItem, step: int) -> None:
    """Swap with the neighbour; positions are renumbered 1…n first so they are distinct."""
    with transaction.atomic():
        ordered = list(AlbumItem.objects.select_for_update().filter(album=album).order_by("position", "added_at"))
        index = next(i for i, other in enumerate(ordered) if other.pk == item.pk)
        target = index + step
        if 0 <= target < len(ordered):
            ordered[index], ordered[target] = ordered[target], ordered[index]
        for position, other in enumerate(ordered, start=1):
            if other.position != position:
                other.position = position
                other.save(update_fields=["position"])


@login_required
@require_POST
def album_share(request: HttpRequest, album_id: str) -> HttpResponse:
    album = _get_editable_album(request, album_id)
    form = ShareLinkForm(request.POST)
    if form.is_valid():
        link = form.create(request.user, album=album)
        record(request, AuditEvent.Action.SHARE_CREATED, share_link_target(link), **share_link_details(link))
        messages.success(request, _("Share link created. Anyone with it can open this album: %(link)s") % {
            "link": request.build_absolute_uri(reverse("gallery:shared", args=[link.token]))})
    return redirect("gallery:album", album.id)
