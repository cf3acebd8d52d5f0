"""Finding an object by its public id, 404 when it is unknown or not the visitor's to see."""

from __future__ import annotations

import uuid

from django.db.models import Model, QuerySet
from django.http import Http404


def get_or_404(queryset: QuerySet, public_id: str, message: str = "Not found.") -> Model:
    """The row with this UUID from a queryset already narrowed to what the visitor may see.

    A malformed id and a hidden row answer alike: 404, never a hint that something exists.
    """
    found = queryset.filter(id=public_uuid(public_id, message)).first()
    if found is None:
        raise Http404(message)
    return found


def public_uuid(public_id: str, message: str = "Not found.") -> uuid.UUID:
    """The UUID a public id names; 404 when it is malformed."""
    try:
        return uuid.UUID(str(public_id))
    except ValueError:
        raise Http404(message) from None
