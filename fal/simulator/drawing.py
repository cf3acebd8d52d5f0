"""Placeholder images drawn with Pillow.

The same inputs always give the same picture: colours and shapes come from a
random generator seeded with the request's seed, prompt, size and model.
"""

from __future__ import annotations

import colorsys
import io
import random
import textwrap
from functools import lru_cache

from PIL import Image, ImageDraw, ImageFont, ImageOps

CONTENT_TYPES: dict[str, str] = {"jpeg": "image/jpeg", "png": "image/png", "webp": "image/webp"}
EXTENSIONS: dict[str, str] = {"jpeg": "jpg", "png": "png", "webp": "webp"}

Font = ImageFont.FreeTypeFont | ImageFont.ImageFont
RGB = tuple[int, int, int]


def render_image(
    *, width: int, height: int, seed: int, prompt: str, model_id: str,
    image_format: str, index: int = 0, count: int = 1,
) -> bytes:
    """Encode a width x height placeholder in ``image_format`` (jpeg, png or webp)."""
    rng = random.Random(f"{seed}|{index}|{prompt}|{width}x{height}|{model_id}")
    hue = ((seed + index * 7919) % 3600) / 3600  # colour scheme follows the seed
    image = _background(width, height, hue, rng)
    _shapes(image, hue, rng)
    _caption(image, seed=seed, prompt=prompt, model_id=model_id, index=index, count=count)
    return _encode(image, image_format)


def _colour(hue: float, saturation: float, value: float) -> RGB:
    red, green, blue = colorsys.hsv_to_rgb(hue % 1.0, saturation, value)
    return (int(red * 255), int(green * 255), int(blue * 255))


def _background(width: int, height: int, hue: float, rng: random.Random) -> Image.Image:
    # A 256x256 gradient scaled up is far cheaper than painting every pixel.
    gradient = Image.linear_gradient("L").rotate(rng.choice((0, 90, 180, 270)))
    dark = _colour(hue, 0.7, 0.25)
    light = _colour(hue + 0.08, 0.5, 0.85)
    return ImageOps.colorize(gradient, dark, light).resize((width, height), Image.Resampling.BILINEAR)


def _shapes(image: Image.Image, hue: float, rng: random.Random) -> None:
    width, height = image.size
    overlay = Image.new("RGBA", image.size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(overlay)
    span = min(width, height)
    for _ in range(rng.randint(5, 9)):
        radius = rng.uniform(0.08, 0.3) * span
        x, y = rng.uniform(0, width), rng.uniform(0, height)
        fill = (*_colour(hue + rng.uniform(-0.2, 0.2), rng.uniform(0.4, 0.9), rng.uniform(0.5, 1.0)),
                rng.randint(70, 150))
        box = (x - radius, y - radius, x + radius, y + radius)
        if rng.random() < 0.5:
            draw.ellipse(box, fill=fill)
        else:
            draw.rounded_rectangle(box, radius=radius / 4, fill=fill)
    image.paste(Image.alpha_composite(image.convert("RGBA"), overlay).convert("RGB"))


def _caption(image: Image.Image, *, seed: int, prompt: str, model_id: str, index: int, count: int) -> None:
    width, height = image.size
    span = min(width, height)
    label_font = _font(max(10, span // 8))
    info_size = max(8, span // 30)
    info_font = _font(info_size)
    details = f"seed {seed} · {width}x{height}" + (f" · image {index + 1}/{count}" if count > 1 else "")
    wrap_at = max(8, int(width * 0.9 / (info_size * 0.5)))
    # Keep the caption within the picture: as many prompt lines as fit below the header.
    room = max(0, int((height * 0.9 - span // 8 * 1.3) / (info_size * 1.3)) - 2)
    prompt_lines = textwrap.wrap(prompt, wrap_at)[:room] if room else []
    lines: list[tuple[str, Font]] = [("SIMULATOR", label_font), (model_id, info_font), (details, info_font)]
    lines += [(line, info_font) for line in prompt_lines]

    draw = ImageDraw.Draw(image)
    heights = [_line_height(draw, text, font) for text, font in lines]
    y = max(0, (height - sum(heights)) // 2)
    stroke = max(1, info_size // 10)
    for (text, font), line_height in zip(lines, heights):
        text_width = draw.textlength(text, font=font)
        x = max(2, int((width - text_width) / 2))
        draw.text((x, y), text, font=font, fill=(255, 255, 255), stroke_width=stroke, stroke_fill=(0, 0, 0))
        y += line_height


def _line_height(draw: ImageDraw.ImageDraw, text: str, font: Font) -> int:
    left, top, right, bottom = draw.textbbox((0, 0), text or " ", font=font)
    return int((bottom - top) * 1.35) + 2


@lru_cache(maxsize=64)
def _font(size: int) -> Font:
    try:
        return ImageFont.load_default(size=size)
    except (ImportError, OSError, TypeError):  # no FreeType: the small bitmap font still works
        return ImageFont.load_default()


def _encode(image: Image.Image, image_format: str) -> bytes:
    buffer = io.BytesIO()
    if image_format == "png":
        image.save(buffer, "PNG", compress_level=1)  # fast; size does not matter here
    elif image_format == "webp":
        image.save(buffer, "WEBP", quality=80, method=0)
    else:
        image.save(buffer, "JPEG", quality=85)
    return buffer.getvalue()
