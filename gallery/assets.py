"""Turn a verified file into a gallery Asset: file and thumbnail in place, row saved."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction

from gallery import scratch
from gallery.ingest import VerifiedFile, make_thumbnail, place
from gallery.posters import make_video_poster
from gallery.models import Asset, Visibility, asset_path, thumbnail_path

logger = logging.getLogger(__name__)


def store_asset(verified: VerifiedFile, *, owner=None, source: str, generation=None, position: int = 0,
                nsfw: bool = False, original_name: str = "", visibility: str | None = None,
                thumbnail_later: bool = False, then: Callable[[], object] | None = None) -> Asset:
    """Move the file into storage and record it. Consumes `verified.path`.

    Outputs belong to their generation's author (without `owner`) and are seen by whom it is;
    other files default to the team. With
    `thumbnail_later`, the thumbnail (or video poster) is only owed, and gallery.previews
    makes it: the file counts as saved without waiting for the encoder. `then` runs in the
    transaction that records the asset (not when another collector recorded it first).
    """
    if visibility is None:
        visibility = generation.visibility if generation is not None else Visibility.TEAM
    asset = Asset(
        owner_id=owner.pk if owner is not None else generation.user_id, generation=generation, position=position,
        kind=verified.kind, source=source,
        visibility=visibility,
        content_type=verified.content_type, bytes=verified.bytes, width=verified.width,
        height=verified.height, checksum=verified.checksum, nsfw=nsfw, original_name=original_name[:255],
    )
    thumb: Path | None = None
    stored: list[str] = []
    note: Path | None = None
    try:
        if thumbnail_later and verified.kind in (Asset.Kind.IMAGE, Asset.Kind.VIDEO):
            asset.thumbnail_due_at = asset.created_at
        elif verified.kind == Asset.Kind.IMAGE:
            thumb = make_thumbnail(verified.path)
        elif verified.kind == Asset.Kind.VIDEO:
            thumb = make_video_poster(verified.path)  # None when no frame can be decoded
        names = [asset_path(asset, f"file.{verified.extension}")]
        if thumb is not None:
            names.append(thumbnail_path(asset, "thumb.webp"))
        # Should this process die before the row is saved, the note lets a sweeper remove the files.
        note = scratch.note_placing(names)
        asset.file.name = place(verified.path, names[0])
        stored.append(asset.file.name)
        if thumb is not None:
            asset.thumbnail.name = place(thumb, names[1])
            stored.append(asset.thumbnail.name)
        with transaction.atomic():  # callers hold no transaction: this commits the row
            asset.save(force_insert=True)
            if then is not None:
                then()
        _forget(note)
        return asset
    except IntegrityError:
        # Another collector saved this output first: keep theirs, drop our copy.
        remove_stored(stored)
        _forget(note)
        return Asset.objects.get(generation=generation, position=position, source=source)
    except BaseException:
        remove_stored(stored)
        _forget(note)
        raise
    finally:
        verified.path.unlink(missing_ok=True)
        if thumb is not None:
            thumb.unlink(missing_ok=True)


def _forget(note: Path | None) -> None:
    if note is not None:
        note.unlink(missing_ok=True)


def remove_stored(names: list[str]) -> None:
    """Delete files from storage; a failure is logged, never raised (the rows are already gone)."""
    for name in names:
        try:
            default_storage.delete(name)
        except Exception:  # OSError on disk, botocore's ClientError from a bucket
            logger.warning("Could not remove %s after a failed save", name)
