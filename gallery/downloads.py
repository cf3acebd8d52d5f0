"""Downloads: one original with its story embedded, or many as a ZIP streamed to the browser."""

from __future__ import annotations

import json
from pathlib import Path

from django.http import HttpResponse, StreamingHttpResponse
from django.utils import timezone

from gallery.embed import Story, embedded_stream
from gallery.models import Asset
from gallery.serving import file_response
from gallery.zipstream import ZipEntry, safe_filename, unique_names, zip_stream

EXTENSIONS = {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp", "image/gif": "gif",
              "video/mp4": "mp4", "video/webm": "webm", "video/quicktime": "mov"}


def story_of(asset: Asset) -> Story:
    generation = asset.generation
    if generation is None:
        return Story(prompt="", seed=None, model="")
    return Story(prompt=generation.prompt, seed=generation.seed, model=generation.model_id,
                 negative_prompt=str(generation.arguments.get("negative_prompt") or "").strip())


def download_name(asset: Asset) -> str:
    """A file name made from the prompt, safe on every operating system."""
    extension = EXTENSIONS.get(asset.content_type, Path(asset.file.name).suffix.lstrip(".") or "bin")
    prompt = asset.generation.prompt if asset.generation else asset.original_name
    return safe_filename(prompt or "atelier", extension)


def original_response(asset: Asset, *, as_download: bool, with_story: bool = True) -> HttpResponse:
    """The original inline, or as a download named after its prompt with its story embedded.

    Without the story (a share link that hides prompts) the file goes out as stored, under a
    neutral name.
    """
    if not as_download:
        return file_response(asset.file, asset.content_type)
    if not with_story:
        extension = EXTENSIONS.get(asset.content_type, "bin")
        return file_response(asset.file, asset.content_type, download_name=f"atelier-{str(asset.id)[:8]}.{extension}")
    chunks, length = embedded_stream(_open(asset), asset.content_type, story_of(asset))
    response = StreamingHttpResponse(chunks, content_type=asset.content_type)
    response["Content-Length"] = str(length)
    response["Content-Disposition"] = _attachment(download_name(asset))
    response["Cache-Control"] = "private, no-store"
    return response


def zip_response(assets: list[Asset]) -> StreamingHttpResponse:
    """Originals (with their story embedded) plus one JSON file of everyone's metadata."""
    names = unique_names([download_name(asset) for asset in assets])
    entries = [
        ZipEntry(name=name, chunks=(lambda asset=asset: embedded_stream(
            _open(asset), asset.content_type, story_of(asset))[0]), modified_at=asset.created_at)
        for name, asset in zip(names, assets)
    ]
    metadata = [dict(metadata_of(asset), file=name) for name, asset in zip(names, assets)]
    entries.append(ZipEntry(name="metadata.json",
                            chunks=lambda: [json.dumps(metadata, indent=2, ensure_ascii=False).encode()]))
    response = StreamingHttpResponse(zip_stream(entries), content_type="application/zip")
    response["Content-Disposition"] = _attachment(f"atelier-{timezone.now():%Y-%m-%d-%H%M}.zip")
    return response


def metadata_of(asset: Asset) -> dict:
    generation = asset.generation
    data = {
        "id": str(asset.id), "kind": asset.kind, "content_type": asset.content_type, "bytes": asset.bytes,
        "width": asset.width, "height": asset.height, "sha256": asset.checksum,
        "created_at": asset.created_at.isoformat(), "author": asset.owner.get_username(),
    }
    if generation is not None:
        data.update({
            "model": generation.model_id, "model_title": generation.model_title, "prompt": generation.prompt,
            "seed": generation.seed, "parameters": generation.arguments,
            "inference_seconds": generation.inference_seconds, "request_id": generation.request_id,
        })
    return data


def _open(asset: Asset):
    """The stored original, open for reading, from local disk or a bucket alike."""
    return asset.file.storage.open(asset.file.name, "rb")


def _attachment(filename: str) -> str:
    from django.utils.http import content_disposition_header

    return content_disposition_header(True, filename)
