"""Output pixel sizes: named image sizes, aspect ratios and input images.

Every rule here is deterministic, so the size reported in the result JSON is
known without drawing anything, and the drawn file is made to match it.
"""

from __future__ import annotations

import base64
import binascii
import io
import re

from PIL import Image, UnidentifiedImageError

Size = tuple[int, int]  # (width, height)

IMAGE_SIZES: dict[str, Size] = {
    "square_hd": (1024, 1024),
    "square": (512, 512),
    "portrait_4_3": (768, 1024),
    "portrait_16_9": (576, 1024),
    "landscape_4_3": (1024, 768),
    "landscape_16_9": (1024, 576),
}

# Seedream v4's extra names for its own choice of size.
SEEDREAM_IMAGE_SIZES: dict[str, Size] = {
    **IMAGE_SIZES,
    "auto": (2048, 2048),
    "auto_2K": (2048, 2048),
    "auto_4K": (4096, 4096),
}

# Near one megapixel, both sides multiples of 16 (the usual SDXL/flux buckets).
ASPECT_RATIOS: dict[str, Size] = {
    "1:1": (1024, 1024),
    "16:9": (1344, 768),
    "9:16": (768, 1344),
    "4:3": (1152, 896),
    "3:4": (896, 1152),
    "3:2": (1216, 832),
    "2:3": (832, 1216),
    "5:4": (1120, 896),
    "4:5": (896, 1120),
    "21:9": (1536, 640),
    "9:21": (640, 1536),
}

MIN_SIDE = 64
MAX_SIDE = 4096
FALLBACK_SIZE: Size = (1024, 1024)  # for edits whose input image cannot be read

_DATA_URI = re.compile(r"data:(?P<mime>[^;,]*)(?P<params>(;[^;,]*)*),(?P<payload>.*)", re.DOTALL)


def aspect_ratio_size(ratio: str, double: bool = False) -> Size:
    width, height = ASPECT_RATIOS[ratio]
    return (width * 2, height * 2) if double else (width, height)


def clamp_size(size: Size) -> Size:
    """Keep an input-derived size drawable (each side within MIN_SIDE..MAX_SIDE)."""
    width, height = size
    return (min(max(width, MIN_SIDE), MAX_SIDE), min(max(height, MIN_SIDE), MAX_SIDE))


def data_uri_image_size(url: object) -> Size | None:
    """Pixel size of an image given as a data URI, or None when it is not one Pillow can read.

    Only the header is parsed (Image.open is lazy), so large inputs stay cheap.
    """
    if not isinstance(url, str) or not url.startswith("data:"):
        return None
    match = _DATA_URI.fullmatch(url)
    if match is None:
        return None
    payload = match.group("payload")
    try:
        if ";base64" in match.group("params").lower():
            raw = base64.b64decode(payload, validate=False)
        else:
            raw = payload.encode("latin-1", errors="ignore")
    except (binascii.Error, ValueError):
        return None
    try:
        with Image.open(io.BytesIO(raw)) as image:
            return image.size
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
        return None


def input_image_size(url: object) -> Size:
    """Size an edit model gives its output when it follows its input image."""
    size = data_uri_image_size(url)
    return clamp_size(size) if size else FALLBACK_SIZE
