"""Video outputs: the bundled MP4 clips, optionally padded to a large size.

Padding appends one top-level ``free`` box, which MP4 readers skip, so a padded
file is still a valid MP4. Padded files are streamed, never held in memory.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path

ASSET_DIR = Path(__file__).resolve().parent / "assets"
CHUNK_SIZE = 256 * 1024
_ZEROS = bytes(CHUNK_SIZE)


def asset_for(width: int, height: int) -> str:
    """The bundled clip (320x180, 180x320 or 240x240) whose shape matches width x height."""
    if width > height:
        return "landscape.mp4"
    if height > width:
        return "portrait.mp4"
    return "square.mp4"


@lru_cache(maxsize=8)
def asset_bytes(name: str) -> bytes:
    return (ASSET_DIR / name).read_bytes()


def video_length(name: str, big_mb: float | None) -> int:
    """Byte length of the served file: the clip, or ``big_mb`` MiB when that is larger."""
    base = len(asset_bytes(name))
    if big_mb is None:
        return base
    target = int(big_mb * 1024 * 1024)
    return target if target >= base + 8 else base  # a box needs at least its 8-byte header


def iter_video(name: str, length: int, limit: int | None = None) -> Iterator[bytes]:
    """Yield the file's bytes in chunks, stopping after ``limit`` bytes when given."""
    clip = asset_bytes(name)
    remaining = length if limit is None else min(limit, length)
    pad = length - len(clip)
    head = clip
    if pad > 0:
        # 32-bit size when it fits, else size=1 plus a 64-bit "largesize".
        box = struct.pack(">I4s", pad, b"free") if pad < 2**32 else struct.pack(">I4sQ", 1, b"free", pad)
        head = clip + box
    for piece in (head[i:i + CHUNK_SIZE] for i in range(0, len(head), CHUNK_SIZE)):
        if remaining <= 0:
            return
        piece = piece[:remaining]
        remaining -= len(piece)
        yield piece
    while remaining > 0:
        piece = _ZEROS[:remaining]
        remaining -= len(piece)
        yield piece
