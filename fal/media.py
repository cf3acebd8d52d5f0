"""Find every media file in a result JSON, whatever the model's output shape.

fal models put files under `images[]`, `image`, `video`, `audio`, or deeper in nested
objects, as `{url, content_type?, file_name?, file_size?, width?, height?}`. Some give a
bare URL string instead. The result is untrusted input: odd types become None.
"""

from __future__ import annotations

import mimetypes
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

# Keys whose bare string values are media URLs (object values are recognised by `url`).
_MEDIA_KEYS = {"image", "images", "video", "videos", "audio", "audios", "audio_file", "file", "files"}
_KINDS = ("image", "video", "audio")


@dataclass(frozen=True)
class MediaFile:
    url: str
    kind: str  # "image", "video", "audio" or "file"
    path: str  # where it was found, e.g. "images[1]"
    content_type: str | None = None
    file_name: str | None = None
    file_size: int | None = None
    width: int | None = None
    height: int | None = None


def extract_media(result: Any) -> list[MediaFile]:
    """All media files in `result`, in document order, each URL once."""
    found: list[MediaFile] = []
    seen: set[str] = set()

    def add(media: MediaFile | None) -> None:
        if media is not None and media.url not in seen:
            seen.add(media.url)
            found.append(media)

    def walk(node: Any, path: str, key_hint: str) -> None:
        if isinstance(node, dict):
            if _is_url(node.get("url")):
                add(_from_object(node, path, key_hint))
                return
            for key, value in node.items():
                walk(value, f"{path}.{key}" if path else str(key), str(key))
        elif isinstance(node, list):
            for index, value in enumerate(node):
                walk(value, f"{path}[{index}]", key_hint)
        elif isinstance(node, str) and key_hint in _MEDIA_KEYS and _is_url(node):
            add(MediaFile(url=node, kind=_kind(None, node, key_hint), path=path))

    walk(result, "", "")
    return found


def _is_url(value: Any) -> bool:
    return isinstance(value, str) and value.startswith(("https://", "http://", "data:"))


def _from_object(node: dict, path: str, key_hint: str) -> MediaFile:
    url = node["url"]
    content_type = _text(node.get("content_type"))
    return MediaFile(
        url=url,
        kind=_kind(content_type, url, key_hint),
        path=path,
        content_type=content_type,
        file_name=_text(node.get("file_name")),
        file_size=_count(node.get("file_size")),
        width=_count(node.get("width")),
        height=_count(node.get("height")),
    )


def _kind(content_type: str | None, url: str, key_hint: str) -> str:
    guessed = content_type
    if not guessed:
        if url.startswith("data:"):
            guessed = url[5:].split(";", 1)[0].split(",", 1)[0]
        else:
            try:
                guessed = mimetypes.guess_type(urlsplit(url).path)[0]
            except ValueError:  # a malformed address; the download refuses it later
                guessed = None
    major = (guessed or "").split("/", 1)[0]
    if major in _KINDS:
        return major
    for kind in _KINDS:
        if key_hint.startswith(kind):
            return kind
    return "file"


def _text(value: Any) -> str | None:
    return value.strip() or None if isinstance(value, str) else None


def _count(value: Any) -> int | None:
    # bool is an int in Python; a width of True is nonsense.
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    number = int(value)
    return number if number >= 0 and number == value else None
