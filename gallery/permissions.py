"""Who may see and change what. Every page and every file URL asks here.

An item is visible to its author, to administrators, and to the whole team when its
visibility is "team". Albums follow the same rule for their listing; being in a team album
does not make a private item visible. Share links grant exactly what they name (see
gallery.sharing). Everyone else gets a 404, never a 403.
"""

from __future__ import annotations

from django.db.models import Q, QuerySet

from accounts.roles import can_generate, is_administrator
from gallery.models import Album, Asset, Visibility


def visible_assets(user) -> QuerySet:
    if not user.is_authenticated or not user.is_active:
        return Asset.objects.none()
    if is_administrator(user):
        return Asset.objects.all()
    return Asset.objects.filter(Q(visibility=Visibility.TEAM) | Q(owner=user))


def visible_albums(user) -> QuerySet:
    if not user.is_authenticated or not user.is_active:
        return Album.objects.none()
    if is_administrator(user):
        return Album.objects.all()
    return Album.objects.filter(Q(visibility=Visibility.TEAM) | Q(owner=user))


def may_edit_album(user, album: Album) -> bool:
    return album.owner_id == user.id or is_administrator(user)


def may_add_to_album(user, album: Album) -> bool:
    if may_edit_album(user, album):
        return True
    return album.visibility == Visibility.TEAM and album.members_may_add and can_generate(user)


def albums_open_to(user) -> QuerySet:
    """Albums this person may add items to (for the "Add to album" menus)."""
    if is_administrator(user):
        return Album.objects.all()
    allowed = Q(owner=user)
    if can_generate(user):
        allowed |= Q(visibility=Visibility.TEAM, members_may_add=True)
    return Album.objects.filter(allowed)


def may_change(user, asset: Asset) -> bool:
    """Delete it, or change who sees it: its author or an administrator."""
    return asset.owner_id == user.id or is_administrator(user)
