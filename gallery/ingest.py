"""Land a file in storage safely: stream to a temporary file, verify, thumbnail, move into place.

Memory stays flat whatever the file's size: bytes go from the network to disk in chunks,
and the checksum is computed on the way.
"""

from __future__ import annotations

import errno
import hashlib
import os
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.core.files import File
from django.core.files.storage import FileSystemStorage, default_storage
from PIL import ExifTags, Image, ImageOps

THUMBNAIL_BOX = (512, 512)
# libwebp's effort (0-6). Measured on 512-px thumbnails: method 2 costs 8-26 ms where the default 4
# costs 28-47 ms, for files 3-4 % larger; a thumbnail is made for every output, so CPU wins.
WEBP_THUMBNAIL_OPTIONS = {"quality": 80, "method": 2}
# Pillow refuses images above this many pixels (decompression bombs).
MAX_IMAGE_PIXELS = 100_000_000
Image.MAX_IMAGE_PIXELS = MAX_IMAGE_PIXELS

_IMAGE_TYPES = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp", "GIF": "image/gif"}


# Errors of the disk, not of the file: waiting (for space, for permissions) will fix them.
STORAGE_FULL_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG})
STORAGE_DENIED_ERRNOS = frozenset({errno.EACCES, errno.EPERM, errno.EROFS})


def storage_problem(error: BaseException) -> str | None:
    """"full" or "unwritable" when an OSError comes from the storage itself, else None."""
    if isinstance(error, OSError):
        if error.errno in STORAGE_FULL_ERRNOS:
            return "full"
        if error.errno in STORAGE_DENIED_ERRNOS:
            return "unwritable"
    return None


class IngestError(Exception):
    """The file is not what it claims to be, or is incomplete. The message is plain language."""


@dataclass
class VerifiedFile:
    path: Path
    kind: str  # "image", "video", "audio" or "file"
    content_type: str
    extension: str
    bytes: int
    checksum: str
    width: int | None = None
    height: int | None = None


def temp_dir() -> Path:
    """Temporary files live beside the media, so the final move is a rename on one volume.

    Each process has its own folder there, removed by the tracker if the process dies.
    """
    from gallery import scratch

    return scratch.own_dir()


def receive(chunks: Iterable[bytes], *, expected_bytes: int | None = None, max_bytes: int | None = None) -> tuple[Path, int, str]:
    """Write chunks to a temporary file. Returns (path, size, sha256). Removes it on failure."""
    limit = max_bytes or settings.ATELIER_MAX_DOWNLOAD_BYTES
    digest = hashlib.sha256()
    size = 0
    handle = tempfile.NamedTemporaryFile(dir=temp_dir(), prefix="in-", delete=False)
    try:
        with handle:
            for chunk in chunks:
                size += len(chunk)
                if size > limit:
                    raise IngestError(f"The file is larger than the {limit // 1_000_000} MB limit.")
                digest.update(chunk)
                handle.write(chunk)
        if expected_bytes is not None and size != expected_bytes:
            raise IngestError(f"The download stopped early ({size} of {expected_bytes} bytes).")
        if size == 0:
            raise IngestError("The file is empty.")
    except BaseException:
        Path(handle.name).unlink(missing_ok=True)
        raise
    return Path(handle.name), size, digest.hexdigest()


def verify(path: Path, size: int, checksum: str, *, claimed_type: str | None = None) -> VerifiedFile:
    """Decide what the file really is from its bytes, never from its name or claimed type.

    A refused file is removed: nothing half-checked stays on disk.
    """
    try:
        return _verify(path, size, checksum, claimed_type)
    except BaseException:
        path.unlink(missing_ok=True)
        raise


def _verify(path: Path, size: int, checksum: str, claimed_type: str | None) -> VerifiedFile:
    with open(path, "rb") as handle:
        head = handle.read(64)
    if _looks_like_image(head):
        try:
            with Image.open(path) as image:
                image.verify()  # structure and checksums; the image must be reopened after
            with Image.open(path) as image:
                width, height = image.size
                if image.getexif().get(ExifTags.Base.Orientation) in (5, 6, 7, 8):
                    width, height = height, width  # shown turned a quarter: record it as seen
                image_format = image.format or ""
                if image_format == "JPEG":
                    # Every byte is still decoded, only at 1/8 scale (several times faster).
                    image.draft(image.mode, (max(1, image.width // 8), max(1, image.height // 8)))
                image.load()  # decodes fully: catches truncated pixel data verify() misses
        except Image.DecompressionBombError:
            raise IngestError(f"The image has more than {MAX_IMAGE_PIXELS // 1_000_000} megapixels.") from None
        except (OSError, SyntaxError, ValueError):
            raise IngestError("The image is damaged or incomplete.") from None
        content_type = _IMAGE_TYPES.get(image_format)
        if content_type is None:
            raise IngestError(f"Images in {image_format or 'this'} format are not kept.")
        extension = {"image/jpeg": "jpg"}.get(content_type, content_type.split("/")[1])
        return VerifiedFile(path, "image", content_type, extension, size, checksum, width, height)
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand.startswith(b"M4A"):
            return VerifiedFile(path, "audio", "audio/mp4", "m4a", size, checksum)
        if brand == b"qt  ":
            return VerifiedFile(path, "video", "video/quicktime", "mov", size, checksum)
        return VerifiedFile(path, "video", "video/mp4", "mp4", size, checksum)
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return VerifiedFile(path, "video", "video/webm", "webm", size, checksum)
    if head.startswith(b"RIFF") and head[8:12] == b"WAVE":
        return VerifiedFile(path, "audio", "audio/wav", "wav", size, checksum)
    if head.startswith(b"ID3") or head[:2] in (b"\xff\xfb", b"\xff\xf3"):
        return VerifiedFile(path, "audio", "audio/mpeg", "mp3", size, checksum)
    if claimed_type and claimed_type.startswith(("image/", "video/", "audio/")):
        raise IngestError(f"The file does not contain the {claimed_type} it claims to be.")
    return VerifiedFile(path, "file", "application/octet-stream", "bin", size, checksum)


def _looks_like_image(head: bytes) -> bool:
    return (head.startswith(b"\xff\xd8\xff") or head.startswith(b"\x89PNG\r\n\x1a\n")
            or (head.startswith(b"RIFF") and head[8:12] == b"WEBP") or head.startswith((b"GIF87a", b"GIF89a")))


def make_thumbnail(path: Path, directory: Path | None = None) -> Path:
    """A WebP thumbnail that fits THUMBNAIL_BOX, upright whatever the EXIF orientation.

    Written to `directory` (default `temp_dir()`); needs no Django settings when one is given,
    so a worker process can run it.
    """
    with Image.open(path) as image:
        image = ImageOps.exif_transpose(image)
        image.thumbnail(THUMBNAIL_BOX)
        if image.mode not in ("RGB", "RGBA"):
            image = image.convert("RGBA" if "A" in image.getbands() else "RGB")
        handle = tempfile.NamedTemporaryFile(dir=directory or temp_dir(), prefix="th-", suffix=".webp", delete=False)
        try:
            with handle:
                image.save(handle, "WEBP", **WEBP_THUMBNAIL_OPTIONS)
        except BaseException:  # a full disk, say: no half-written thumbnail stays behind
            Path(handle.name).unlink(missing_ok=True)
            raise
    return Path(handle.name)


def make_preview(path: Path, kind: str, directory: Path | None = None) -> Path | None:
    """The thumbnail of an image, or the poster of a video (None when there is none to make)."""
    if kind == "image":
        return make_thumbnail(path, directory)
    if kind == "video":
        from gallery.posters import make_video_poster  # posters imports this module

        return make_video_poster(path, directory)
    return None


def render_preview(source: str, kind: str, directory: str) -> str | None:
    """`make_preview` for a worker process: plain strings in and out, no Django settings used."""
    made = make_preview(Path(source), kind, Path(directory))
    return str(made) if made is not None else None


def place(temp_path: Path, name: str) -> str:
    """Move a verified temporary file to its final name in storage; returns the stored name."""
    if isinstance(default_storage, FileSystemStorage):
        final = Path(default_storage.path(name))
        final.parent.mkdir(parents=True, exist_ok=True)
        os.replace(temp_path, final)  # atomic on one volume: readers see all or nothing
        return name
    try:
        with open(temp_path, "rb") as handle:
            return default_storage.save(name, File(handle))
    finally:
        temp_path.unlink(missing_ok=True)
