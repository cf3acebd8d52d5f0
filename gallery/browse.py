"""What the gallery shows: filters read from the URL, and keyset (cursor) pages, newest first.

Filters live in the query string so a view can be bookmarked and sent to a colleague.
Pages continue from the last item seen (created_at, id), never by OFFSET, so new items
arriving meanwhile cause neither duplicates nor gaps, and deep pages cost what the first does.
"""

from __future__ import annotations

import base64
import binascii
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from datetime import timezone as dt_timezone
from urllib.parse import urlencode

from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from gallery.models import Asset
from gallery.search import filter_by_prompt

PAGE_SIZE = 48


@dataclass
class GalleryFilters:
    scope: str = "team"  # "mine" or "team"
    model: str = ""
    kind: str = ""  # "image" / "video" / ""
    date_from: date | None = None
    date_to: date | None = None
    favourites: bool = False
    album: str = ""
    q: str = ""
    problems: list[str] = field(default_factory=list)

    @classmethod
    def from_query(cls, params) -> GalleryFilters:
        """Read the URL's filters; a value that makes no sense is dropped with a message."""
        filters = cls()
        filters.scope = "mine" if params.get("scope") == "mine" else "team"
        filters.model = params.get("model", "").strip()[:200]
        kind = params.get("kind", "")
        filters.kind = kind if kind in (Asset.Kind.IMAGE, Asset.Kind.VIDEO) else ""
        filters.favourites = params.get("favourites") in ("1", "on", "true")
        filters.q = params.get("q", "").strip()[:200]
        album = params.get("album", "").strip()
        if album:
            try:
                filters.album = str(uuid.UUID(album))
            except ValueError:
                filters.problems.append(_("That album does not exist; showing everything instead."))
        for name, label in (("date_from", pgettext("date filter", "From")), ("date_to", pgettext("date filter", "To"))):
            text = params.get(name, "").strip()
            if text:
                try:
                    value = parse_date(text) if len(text) <= 10 else None
                except ValueError:  # well-formed but impossible, such as 2026-02-30
                    value = None
                if value is not None and not date(1, 1, 2) <= value <= date(9999, 12, 30):
                    value = None
                if value is None:
                    filters.problems.append(_("“%(label)s” must be a date such as 2026-11-25.") % {"label": label})
                setattr(filters, name, value)
        return filters

    def query_string(self, **changes) -> str:
        """The URL query for these filters (optionally changed), without empty values."""
        values = {
            "scope": "mine" if self.scope == "mine" else "",
            "model": self.model, "kind": self.kind, "q": self.q, "album": self.album,
            "favourites": "1" if self.favourites else "",
            "date_from": self.date_from.isoformat() if self.date_from else "",
            "date_to": self.date_to.isoformat() if self.date_to else "",
        }
        values.update(changes)
        return urlencode({key: value for key, value in values.items() if value})

    @property
    def active(self) -> bool:
        return bool(self.query_string(scope=""))


def filtered_assets(user, filters: GalleryFilters, visible: QuerySet) -> QuerySet:
    assets = visible.filter(source=Asset.Source.OUTPUT)
    if filters.scope == "mine":
        assets = assets.filter(owner=user)
    if filters.model:
        assets = assets.filter(generation__model_id=filters.model)
    if filters.kind:
        assets = assets.filter(kind=filters.kind)
    tz = timezone.get_current_timezone()
    if filters.date_from:
        assets = assets.filter(created_at__gte=datetime.combine(filters.date_from, time.min, tzinfo=tz))
    if filters.date_to:
        assets = assets.filter(created_at__lt=datetime.combine(filters.date_to + timedelta(days=1), time.min, tzinfo=tz))
    if filters.favourites:
        assets = assets.filter(favourites__user=user)
    if filters.album:
        assets = assets.filter(album_items__album_id=filters.album)
    if filters.q:
        assets = filter_by_prompt(assets, filters.q)
    return assets.order_by("-created_at", "-id")


# --- Cursors -----------------------------------------------------------------------------
def encode_cursor(asset: Asset) -> str:
    raw = f"{asset.created_at.isoformat()}|{asset.id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, uuid.UUID] | None:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        moment_text, id_text = raw.split("|", 1)
        moment = parse_datetime(moment_text)
        if moment is None or timezone.is_naive(moment):
            return None
        moment.astimezone(dt_timezone.utc)  # out-of-range moments raise here, not in the query
        return moment, uuid.UUID(id_text)
    except (ValueError, OverflowError, binascii.Error, UnicodeDecodeError):
        return None


def after_cursor(assets: QuerySet, cursor: str) -> QuerySet:
    """The items that come after the cursor in newest-first order (a bad cursor starts over)."""
    position = decode_cursor(cursor) if cursor else None
    if position is None:
        return assets
    moment, asset_id = position
    # created_at <= moment on its own lets the index start at the cursor; with only the OR,
    # PostgreSQL and SQLite walk (and discard) every newer entry first.
    return assets.filter(Q(created_at__lte=moment), Q(created_at__lt=moment) | Q(id__lt=asset_id))


def before_cursor(assets: QuerySet, cursor: str) -> QuerySet:
    """The items that come before it, nearest first (for the detail page's "previous")."""
    position = decode_cursor(cursor)
    if position is None:
        return assets.none()
    moment, asset_id = position
    return (assets.filter(Q(created_at__gte=moment), Q(created_at__gt=moment) | Q(id__gt=asset_id))
            .order_by("created_at", "id"))


@dataclass
class Page:
    items: list[Asset]
    next_cursor: str | None


def page_of(assets: QuerySet, cursor: str = "", size: int = PAGE_SIZE) -> Page:
    items = list(after_cursor(assets, cursor)[: size + 1])
    has_more = len(items) > size
    items = items[:size]
    return Page(items, encode_cursor(items[-1]) if has_more and items else None)
