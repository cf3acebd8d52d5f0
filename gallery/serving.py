"""Sending stored files after the permission check.

By default Django streams the file. In production the check can hand the transfer to the
front server: FILE_SERVING=x-accel-redirect (nginx, with an `internal` location at
MEDIA_INTERNAL_URL aliasing MEDIA_ROOT) or x-sendfile (Apache mod_xsendfile, lighttpd).
"""

from __future__ import annotations

from urllib.parse import quote

from django.conf import settings
from django.db.models.fields.files import FieldFile
from django.http import FileResponse, Http404, HttpResponse
from django.utils.http import content_disposition_header


def file_response(stored: FieldFile, content_type: str, *, download_name: str | None = None) -> HttpResponse:
    mode = settings.FILE_SERVING
    if mode == "x-accel-redirect":
        response = HttpResponse(content_type=content_type)
        response["X-Accel-Redirect"] = settings.MEDIA_INTERNAL_URL + quote(stored.name)
    elif mode == "x-sendfile":
        response = HttpResponse(content_type=content_type)
        response["X-Sendfile"] = stored.path
    else:
        response = FileResponse(stored.open("rb"), content_type=content_type)
    if download_name:
        response["Content-Disposition"] = content_disposition_header(True, download_name)
    # Files sit behind a permission check: shared caches must not keep them.
    response["Cache-Control"] = "private, max-age=3600"
    response["X-Content-Type-Options"] = "nosniff"
    return response


def thumbnail_response(asset) -> HttpResponse:
    """The thumbnail; for an image whose thumbnail is still being made, the original meanwhile,
    marked not to be cached so the browser picks up the real thumbnail later."""
    if asset.thumbnail:
        return file_response(asset.thumbnail, "image/webp")
    if not asset.is_image:
        raise Http404("This item has no thumbnail.")
    response = file_response(asset.file, asset.content_type)
    response["Cache-Control"] = "private, no-cache"
    return response
