"""What a request produces: output sizes, planned files and the result JSON."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from . import sizes, video
from .drawing import CONTENT_TYPES, EXTENSIONS
from .models import ModelSpec


@dataclass(frozen=True)
class OutputFile:
    """One file a completed request serves under ``/files/{request_id}/{name}``."""

    index: int
    name: str
    content_type: str
    width: int
    height: int
    image_format: str | None = None  # jpeg/png/webp for images
    asset: str | None = None  # bundled clip for videos
    length: int | None = None  # known up front for videos only


def first_input_image(params: dict[str, Any]) -> Any:
    if params.get("image_url") is not None:
        return params["image_url"]
    urls = params.get("image_urls")
    return urls[0] if isinstance(urls, list) and urls else None


def output_size(spec: ModelSpec, params: dict[str, Any]) -> sizes.Size:
    """The exact pixel size of every image (or the shape of the video) a request produces."""
    if spec.size_rule == "image_size":
        value = params.get("image_size", spec.default_image_size)
        if isinstance(value, dict):
            return (value.get("width", 512), value.get("height", 512))
        return spec.image_sizes[value]
    if spec.size_rule == "input_image":
        return sizes.input_image_size(first_input_image(params))
    ratio = params.get("aspect_ratio", spec.default_aspect_ratio)
    if spec.size_rule == "video":
        if ratio in (None, "auto"):
            return sizes.data_uri_image_size(first_input_image(params)) or sizes.ASPECT_RATIOS["16:9"]
        return sizes.aspect_ratio_size(ratio)
    if ratio in (None, "auto"):
        return sizes.input_image_size(first_input_image(params))
    return sizes.aspect_ratio_size(ratio, double=spec.doubles_at_2k and params.get("resolution") == "2K")


def plan_files(spec: ModelSpec, params: dict[str, Any], big_mb: float | None) -> list[OutputFile]:
    """Decide every output file without drawing anything (drawing happens on download)."""
    width, height = output_size(spec, params)
    if spec.family == "video":
        asset = video.asset_for(width, height)
        return [OutputFile(0, "0.mp4", "video/mp4", width, height, asset=asset,
                           length=video.video_length(asset, big_mb))]
    image_format = params.get("output_format", spec.default_format)
    if image_format not in spec.output_formats:
        image_format = spec.default_format
    count = params.get("num_images", 1)
    return [
        OutputFile(i, f"{i}.{EXTENSIONS[image_format]}", CONTENT_TYPES[image_format], width, height,
                   image_format=image_format)
        for i in range(count)
    ]


def result_json(
    spec: ModelSpec, files: list[OutputFile], *, file_base: str, seed: int, prompt: str,
    nsfw: bool, inference_seconds: float,
) -> dict[str, Any]:
    """The model's output JSON, shaped like the real model family's."""
    if spec.family == "video":
        clip = files[0]
        return {"video": {"url": f"{file_base}/{clip.name}", "content_type": clip.content_type,
                          "file_name": "output.mp4", "file_size": clip.length}}
    images = [
        {"url": f"{file_base}/{f.name}", "width": f.width, "height": f.height, "content_type": f.content_type}
        for f in files
    ]
    if spec.family == "seedream":
        return {"images": images, "seed": seed}
    if spec.family == "gemini":
        return {"images": images, "description": ""}
    return {
        "images": images,
        "timings": {"inference": round(inference_seconds, 3)},
        "seed": seed,
        "has_nsfw_concepts": [nsfw] * len(images),
        "prompt": prompt,
    }
