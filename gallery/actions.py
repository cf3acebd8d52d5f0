"""What people do to gallery items: favourite, gather into albums, delete."""

from __future__ import annotations

import uuid

from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils.translation import gettext

from accounts.roles import can_generate
from gallery.assets import remove_stored
from gallery.models import Album, AlbumItem, Asset, Favourite
from gallery.permissions import albums_open_to
from studio.models import Generation



def favourite_ids(user, assets: list[Asset]) -> set:
    if not assets:
        return set()
    return set(Favourite.objects.filter(user=user, asset__in=assets).values_list("asset_id", flat=True))


def toggle_favourite(user, asset: Asset) -> bool:
    """Flip the favourite; returns whether it is one now."""
    deleted, _ = Favourite.objects.filter(user=user, asset=asset).delete()
    if deleted:
        return False
    try:
        with transaction.atomic():
            Favourite.objects.create(user=user, asset=asset)
    except IntegrityError:  # a double click: it is a favourite either way
        pass
    return True


def add_favourites(user, assets: list[Asset]) -> int:
    existing = favourite_ids(user, assets)
    new = [Favourite(user=user, asset=asset) for asset in assets if asset.id not in existing]
    Favourite.objects.bulk_create(new, ignore_conflicts=True)
    return len(new)


def album_from_form(request: HttpRequest) -> Album | None | bool:
    """The album chosen in a form (`album`), or a new one named in `new_album`.

    None when the form names none; False when it names one this person may not add to.
    """
    name = "".join(char for char in request.POST.get("new_album", "") if char.isprintable()).strip()[:120]
    if name:
        if not can_generate(request.user):
            return False
        album, _ = Album.objects.get_or_create(owner=request.user, name=name)
        return album
    try:
        album_id = uuid.UUID(request.POST.get("album", ""))
    except ValueError:
        return None
    album = albums_open_to(request.user).filter(id=album_id).first()
    return album if album is not None else False


def add_to_album(album: Album, assets: list[Asset]) -> None:
    start = (album.items.order_by("-position").values_list("position", flat=True).first() or 0) + 1
    AlbumItem.objects.bulk_create(
        [AlbumItem(album=album, asset=asset, position=start + offset) for offset, asset in enumerate(assets)],
        ignore_conflicts=True)


def set_visibility(asset: Asset, visibility: str) -> None:
    """A job's outputs share one visibility: change the generation and all of them."""
    with transaction.atomic():
        if asset.generation_id:
            Generation.objects.filter(id=asset.generation_id).update(visibility=visibility)
            Asset.objects.filter(generation_id=asset.generation_id).update(visibility=visibility)
        else:
            Asset.objects.filter(id=asset.id).update(visibility=visibility)


def delete_assets(assets: list[Asset]) -> None:
    """Remove the rows, then (once that is committed) their files."""
    names = [name for asset in assets for name in (asset.file.name, asset.thumbnail.name) if name]
    with transaction.atomic():
        Asset.objects.filter(id__in=[asset.id for asset in assets]).delete()
        transaction.on_commit(lambda: remove_stored(names))


def models_in_gallery() -> list[tuple[str, str]]:
    """(id, title) of every catalogue model, hidden ones too: their items stay in the gallery."""
    from studio.catalogue import all_models

    return [(spec.id, gettext(spec.title)) for spec in all_models(include_hidden=True)]


def models_taking_images():
    """Visible models that take an input picture, for "Use as input"."""
    from studio.catalogue import all_models

    return [spec for spec in all_models() if spec.image_fields]
