"""Sending stored files after the permission check.

By default Django streams the file from storage (local disk or a bucket), in chunks. In
production the check can hand the transfer to someone else: FILE_SERVING=x-accel-redirect
(nginx, with an `internal` location at MEDIA_INTERNAL_URL aliasing MEDIA_ROOT), x-sendfile
(Apache mod_xsendfile, lighttpd), or presigned (media in a bucket: a redirect to a link that
works for S3_URL_TTL_SECONDS, so the bytes never pass through a web process).
"""

from __future__ import annotations

from urllib.parse import quote

from django.conf import settings
from django.db.models.fields.files import FieldFile
from django.http import FileResponse, Http404, HttpResponse, HttpResponseRedirect
from django.utils.http import content_disposition_header


def file_response(stored: FieldFile, content_type: str, *, download_name: str | None = None) -> HttpResponse:
    mode = settings.FILE_SERVING
    if mode == "presigned":
        return _presigned_redirect(stored, content_type, download_name)
    if mode == "x-accel-redirect":
        response = HttpResponse(content_type=content_type)
        response["X-Accel-Redirect"] = settings.MEDIA_INTERNAL_URL + quote(stored.name)
    elif mode == "x-sendfile":
        response = HttpResponse(content_type=content_type)
        response["X-Sendfile"] = stored.path
    else:
        response = FileResponse(stored.storage.open(stored.name, "rb"), content_type=content_type)
    if download_name:
        response["Content-Disposition"] = content_disposition_header(True, download_name)
    # Files sit behind a permission check: shared caches must not keep them.
    response["Cache-Control"] = "private, max-age=3600"
    response["X-Content-Type-Options"] = "nosniff"
    return response


def _presigned_redirect(stored: FieldFile, content_type: str, download_name: str | None) -> HttpResponse:
    # The bucket answers with our type and name, whatever the object's own metadata says.
    parameters = {"ResponseContentType": content_type}
    if download_name:
        parameters["ResponseContentDisposition"] = content_disposition_header(True, download_name)
    url = stored.storage.url(stored.name, parameters=parameters, expire=settings.S3_URL_TTL_SECONDS)
    response = HttpResponseRedirect(url)
    # The link expires: a browser may reuse the redirect for a while, never past the link's life.
    response["Cache-Control"] = f"private, max-age={max(0, settings.S3_URL_TTL_SECONDS // 2)}"
    return response


def thumbnail_response(asset) -> HttpResponse:
    """The thumbnail; for an image whose thumbnail is still being made (gallery.previews), the
    original meanwhile, marked not to be cached so the browser picks up the real one later."""
    if asset.thumbnail:
        return file_response(asset.thumbnail, "image/webp")
    if not asset.is_image:
        raise Http404("This item has no thumbnail.")
    response = file_response(asset.file, asset.content_type)
    response["Cache-Control"] = "private, no-cache"
    return response
