"""Share links: what a link grants, checked on every request."""

from __future__ import annotations

import secrets

from django.db.models import F, QuerySet
from django.utils import timezone

from gallery.models import Asset, ShareLink
from gallery.permissions import visible_assets


def new_token() -> str:
    return secrets.token_urlsafe(32)  # 256 random bits


def live_link(token: str) -> ShareLink | None:
    """The link for this token if it exists, is not revoked and has not expired."""
    if not token or len(token) > 64:
        return None
    link = ShareLink.objects.select_related("asset", "album", "created_by").filter(token=token).first()
    return link if link is not None and link.is_live else None


def shared_assets(link: ShareLink) -> QuerySet:
    """What the link shows: its item, or the album's items its creator may see, in album order."""
    creator_sees = visible_assets(link.created_by)
    if link.asset_id:
        return creator_sees.filter(id=link.asset_id)
    return (creator_sees.filter(album_items__album=link.album)
            .order_by("album_items__position", "album_items__added_at"))


def count_view(link: ShareLink) -> None:
    ShareLink.objects.filter(pk=link.pk).update(view_count=F("view_count") + 1)


def revoke(link: ShareLink) -> bool:
    """True if this call withdrew the link (False: it already was)."""
    return bool(ShareLink.objects.filter(pk=link.pk, revoked_at__isnull=True).update(revoked_at=timezone.now()))


def links_for(target: Asset | object) -> QuerySet:
    field = "asset" if isinstance(target, Asset) else "album"
    return ShareLink.objects.filter(**{field: target}).order_by("-created_at")
