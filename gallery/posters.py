"""A still (poster) for a video, so the gallery shows a picture instead of a blank tile.

PyAV (`av`) is optional: without it, or for a file it cannot decode, there is simply no poster.
"""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path
from typing import Any

from PIL import Image

from gallery.ingest import THUMBNAIL_BOX, WEBP_THUMBNAIL_OPTIONS, storage_problem, temp_dir

logger = logging.getLogger(__name__)

# Half a second in: the very first frame is often black or a fade-in.
POSTER_AT_SECONDS = 0.5
# Bounds the work on streams without timestamps or with a long run of frames before 0.5 s.
MAX_FRAMES_DECODED = 120


def make_video_poster(path: Path, directory: Path | None = None) -> Path | None:
    """A WebP poster fitting THUMBNAIL_BOX in `directory` (default `temp_dir()`), or None (logged)."""
    try:
        import av  # optional dependency; imported here so this module loads without it
    except ImportError:
        logger.warning("No poster for %s: PyAV (the `av` package) is not installed", path.name)
        return None
    try:
        image = _poster_frame(av, path)
    except Exception as error:  # FFmpeg reports damaged input in many ways; a poster is never worth a crash
        logger.warning("No poster for %s: %s", path.name, error)
        return None
    if image is None:
        logger.warning("No poster for %s: no video frame could be decoded", path.name)
        return None
    return _save_webp(image, path, directory)


def _poster_frame(av: Any, path: Path) -> Image.Image | None:
    with av.open(str(path), metadata_errors="ignore") as container:
        if container.format.name.endswith("_pipe") or container.format.name == "image2":
            return None  # a still image that FFmpeg also reads: not a video
        if not container.streams.video:
            return None
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        frame = _frame_near(container.decode(stream), POSTER_AT_SECONDS)
        if frame is None:
            return None
        return _upright(frame.to_image(), frame, stream)


def _frame_near(frames: Any, seconds: float) -> Any:
    """The first frame at or after `seconds`, else the last one decoded (short clips)."""
    chosen = None
    for count, frame in enumerate(frames, start=1):
        chosen = frame
        if (frame.time is not None and frame.time >= seconds) or count >= MAX_FRAMES_DECODED:
            break
    return chosen


def _upright(image: Image.Image, frame: Any, stream: Any) -> Image.Image:
    """Apply what players apply: non-square pixels and the rotation phones record."""
    aspect = stream.codec_context.sample_aspect_ratio
    if aspect and aspect != 1:
        image = image.resize((max(1, round(image.width * aspect)), image.height))
    rotation = getattr(frame, "rotation", 0) or 0  # counter-clockwise degrees (display matrix)
    if rotation % 360:
        image = image.rotate(rotation, expand=True)
    return image


def _save_webp(image: Image.Image, source: Path, directory: Path | None) -> Path | None:
    image = image.convert("RGB")
    image.thumbnail(THUMBNAIL_BOX)
    handle = tempfile.NamedTemporaryFile(dir=directory or temp_dir(), prefix="po-", suffix=".webp", delete=False)
    try:
        with handle:
            image.save(handle, "WEBP", **WEBP_THUMBNAIL_OPTIONS)
    except OSError as error:
        Path(handle.name).unlink(missing_ok=True)
        if storage_problem(error):
            raise  # a full or locked disk is retried by the caller, not papered over
        logger.warning("No poster for %s: %s", source.name, error)
        return None
    return Path(handle.name)
