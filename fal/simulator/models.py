"""The models the simulator knows: input fields, required fields, sizing and output shape.

Field lists follow fal-protocol.md §4. Anything not listed here is treated as a
generic text-to-image model, so administrators can add models by id.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Literal

from . import sizes

FieldKind = Literal["str", "int", "float", "bool", "enum", "image_size", "image_url", "image_urls", "loras"]
# Output JSON shapes: flux = images+timings+seed+nsfw+prompt; seedream = images+seed;
# gemini = images+description (imagen4, nano-banana); video = {"video": File}.
Family = Literal["flux", "seedream", "gemini", "video"]
# How the output size is chosen (see outputs.output_size).
SizeRule = Literal["image_size", "aspect_ratio", "input_image", "video"]


@dataclass(frozen=True)
class Field:
    kind: FieldKind
    choices: tuple[str, ...] = ()
    minimum: float | None = None
    maximum: float | None = None


@dataclass(frozen=True)
class ModelSpec:
    model_id: str
    family: Family
    required: tuple[str, ...]
    fields: Mapping[str, Field]
    size_rule: SizeRule
    default_image_size: str | None = None  # image_size rule
    image_sizes: Mapping[str, sizes.Size] = field(default_factory=lambda: sizes.IMAGE_SIZES)
    min_pixels: int | None = None  # limits for a {width, height} image_size
    max_pixels: int | None = None
    default_aspect_ratio: str | None = None  # aspect_ratio / video rules; None or "auto" = follow input
    doubles_at_2k: bool = False  # imagen4 resolution="2K"
    default_format: str = "jpeg"
    default_steps: int = 28  # only for the "Step k/N" log lines
    known: bool = True

    @property
    def output_formats(self) -> tuple[str, ...]:
        spec = self.fields.get("output_format")
        return spec.choices if spec else (self.default_format,)


# -- field building blocks ---------------------------------------------------------------
STR = Field("str")
INT = Field("int")
BOOL = Field("bool")
IMAGE_SIZE = Field("image_size")
IMAGE_URL = Field("image_url")
IMAGE_URLS = Field("image_urls")
LORAS = Field("loras")
NUM_IMAGES = Field("int", minimum=1, maximum=4)
NUM_IMAGES_6 = Field("int", minimum=1, maximum=6)
GUIDANCE = Field("float", minimum=0, maximum=20)
SAFETY_TOLERANCE = Field("enum", ("1", "2", "3", "4", "5", "6"))
JPEG_PNG = Field("enum", ("jpeg", "png"))
JPEG_PNG_WEBP = Field("enum", ("jpeg", "png", "webp"))
KONTEXT_RATIOS = Field("enum", ("21:9", "16:9", "4:3", "3:2", "1:1", "2:3", "3:4", "9:16", "9:21"))
NANO_RATIOS = ("21:9", "16:9", "3:2", "4:3", "5:4", "1:1", "4:5", "3:4", "2:3", "9:16")
VEO_DURATION = Field("enum", ("4s", "6s", "8s"))
KLING_DURATION = Field("enum", ("5", "10"))
VIDEO_RESOLUTION = Field("enum", ("720p", "1080p"))


def _steps(maximum: int) -> Field:
    return Field("int", minimum=1, maximum=maximum)


def _acceleration(*choices: str) -> Field:
    return Field("enum", choices)


def _flux(model_id: str, *, steps_max: int = 50, default_steps: int = 28, **extra: Field) -> ModelSpec:
    fields: dict[str, Field] = {
        "prompt": STR,
        "image_size": IMAGE_SIZE,
        "num_inference_steps": _steps(steps_max),
        "guidance_scale": GUIDANCE,
        "num_images": NUM_IMAGES,
        "seed": INT,
        "enable_safety_checker": BOOL,
        "output_format": JPEG_PNG,
        "acceleration": _acceleration("none", "regular", "high"),
        "sync_mode": BOOL,
        **extra,
    }
    return ModelSpec(model_id, "flux", ("prompt",), fields, "image_size",
                     default_image_size="landscape_4_3", default_steps=default_steps)


def _redux(model_id: str, *, steps_max: int, default_steps: int) -> ModelSpec:
    spec = _flux(model_id, steps_max=steps_max, default_steps=default_steps, image_url=IMAGE_URL)
    fields = {name: f for name, f in spec.fields.items() if name != "prompt"}  # redux has no prompt
    return replace(spec, required=("image_url",), fields=fields)


def _kontext(model_id: str, images: str | None, default_ratio: str | None) -> ModelSpec:
    fields: dict[str, Field] = {"prompt": STR}
    if images:
        fields[images] = IMAGE_URLS if images == "image_urls" else IMAGE_URL
    fields.update({
        "aspect_ratio": KONTEXT_RATIOS,
        "guidance_scale": GUIDANCE,
        "num_images": NUM_IMAGES,
        "seed": INT,
        "output_format": JPEG_PNG,
        "safety_tolerance": SAFETY_TOLERANCE,
        "enhance_prompt": BOOL,
        "sync_mode": BOOL,
    })
    required = ("prompt", images) if images else ("prompt",)
    return ModelSpec(model_id, "flux", required, fields, "aspect_ratio", default_aspect_ratio=default_ratio)


def _seedream(model_id: str, edit: bool) -> ModelSpec:
    fields: dict[str, Field] = {"prompt": STR}
    if edit:
        fields["image_urls"] = IMAGE_URLS
    fields.update({
        "image_size": IMAGE_SIZE,
        "num_images": NUM_IMAGES_6,
        "max_images": NUM_IMAGES_6,
        "seed": INT,
        "enable_safety_checker": BOOL,
        "enhance_prompt_mode": Field("enum", ("standard", "fast")),
        "sync_mode": BOOL,
    })
    return ModelSpec(
        model_id, "seedream", ("prompt", "image_urls") if edit else ("prompt",), fields, "image_size",
        default_image_size="auto", image_sizes=sizes.SEEDREAM_IMAGE_SIZES,
        min_pixels=960 * 960, max_pixels=4096 * 4096,
    )


def _nano_banana(model_id: str, edit: bool) -> ModelSpec:
    fields: dict[str, Field] = {"prompt": STR}
    if edit:
        fields["image_urls"] = IMAGE_URLS
    fields.update({
        "aspect_ratio": Field("enum", (*NANO_RATIOS, "auto") if edit else NANO_RATIOS),
        "num_images": NUM_IMAGES,
        "output_format": JPEG_PNG_WEBP,
        "safety_tolerance": SAFETY_TOLERANCE,
        "limit_generations": BOOL,
        "seed": INT,
        "sync_mode": BOOL,
    })
    return ModelSpec(model_id, "gemini", ("prompt", "image_urls") if edit else ("prompt",), fields,
                     "aspect_ratio", default_aspect_ratio="auto" if edit else "1:1", default_format="png")


def _veo(model_id: str, image: bool) -> ModelSpec:
    fields: dict[str, Field] = {"prompt": STR}
    if image:
        fields["image_url"] = IMAGE_URL
    fields.update({
        "aspect_ratio": Field("enum", ("auto", "16:9", "9:16") if image else ("16:9", "9:16")),
        "duration": VEO_DURATION,
        "resolution": VIDEO_RESOLUTION,
        "generate_audio": BOOL,
        "negative_prompt": STR,
        "enhance_prompt": BOOL,
        "seed": INT,
        "auto_fix": BOOL,
        "safety_tolerance": SAFETY_TOLERANCE,
    })
    return ModelSpec(model_id, "video", ("prompt", "image_url") if image else ("prompt",), fields, "video",
                     default_aspect_ratio="auto" if image else "16:9", default_format="mp4", default_steps=20)


def _kling(model_id: str, image: bool) -> ModelSpec:
    fields: dict[str, Field] = {"prompt": STR}
    if image:
        fields.update(image_url=IMAGE_URL, tail_image_url=IMAGE_URL)
    else:
        fields["aspect_ratio"] = Field("enum", ("16:9", "9:16", "1:1"))
    fields.update(duration=KLING_DURATION, negative_prompt=STR, cfg_scale=Field("float", minimum=0, maximum=1))
    return ModelSpec(model_id, "video", ("prompt", "image_url") if image else ("prompt",), fields, "video",
                     default_aspect_ratio=None if image else "16:9", default_format="mp4", default_steps=20)


_SPECS: list[ModelSpec] = [
    _flux("fal-ai/flux-1/dev"),
    _flux("fal-ai/flux-1/schnell", steps_max=12, default_steps=4),
    replace(
        _flux("fal-ai/flux-1/dev/image-to-image", default_steps=40,
              image_url=IMAGE_URL, strength=Field("float", minimum=0.01, maximum=1)),
        required=("prompt", "image_url"), size_rule="input_image", default_image_size=None,
    ),
    _redux("fal-ai/flux-1/dev/redux", steps_max=50, default_steps=28),
    _redux("fal-ai/flux-1/schnell/redux", steps_max=12, default_steps=4),
    _flux("fal-ai/flux-lora", loras=LORAS, acceleration=_acceleration("none", "regular")),
    _kontext("fal-ai/flux-pro/kontext", "image_url", None),
    _kontext("fal-ai/flux-pro/kontext/max", "image_url", None),
    _kontext("fal-ai/flux-pro/kontext/max/multi", "image_urls", None),
    _kontext("fal-ai/flux-pro/kontext/multi", "image_urls", None),
    _kontext("fal-ai/flux-pro/kontext/text-to-image", None, "1:1"),
    _kontext("fal-ai/flux-pro/kontext/max/text-to-image", None, "1:1"),
    _seedream("fal-ai/bytedance/seedream/v4/text-to-image", edit=False),
    _seedream("fal-ai/bytedance/seedream/v4/edit", edit=True),
    ModelSpec(
        "fal-ai/imagen4/preview", "gemini", ("prompt",),
        {
            "prompt": STR,
            "negative_prompt": STR,
            "aspect_ratio": Field("enum", ("1:1", "16:9", "9:16", "4:3", "3:4")),
            "num_images": NUM_IMAGES,
            "output_format": JPEG_PNG_WEBP,
            "resolution": Field("enum", ("1K", "2K")),
            "safety_tolerance": SAFETY_TOLERANCE,
            "seed": INT,
            "sync_mode": BOOL,
        },
        "aspect_ratio", default_aspect_ratio="1:1", doubles_at_2k=True, default_format="png",
    ),
    ModelSpec(
        "fal-ai/qwen-image-edit-plus", "flux", ("prompt", "image_urls"),
        {
            "prompt": STR,
            "image_urls": IMAGE_URLS,
            "image_size": IMAGE_SIZE,
            "num_inference_steps": _steps(100),
            "guidance_scale": GUIDANCE,
            "negative_prompt": STR,
            "num_images": NUM_IMAGES,
            "seed": INT,
            "enable_safety_checker": BOOL,
            "output_format": JPEG_PNG,
            "acceleration": _acceleration("none", "regular"),
            "sync_mode": BOOL,
        },
        "image_size", default_image_size="square_hd", default_format="png", default_steps=50,
    ),
    _nano_banana("fal-ai/nano-banana", edit=False),
    _nano_banana("fal-ai/nano-banana/edit", edit=True),
    _veo("fal-ai/veo3", image=False),
    _veo("fal-ai/veo3/fast/image-to-video", image=True),
    _kling("fal-ai/kling-video/v2.5-turbo/pro/text-to-video", image=False),
    _kling("fal-ai/kling-video/v2.5-turbo/pro/image-to-video", image=True),
]

MODELS: dict[str, ModelSpec] = {spec.model_id: spec for spec in _SPECS}

# Unknown ids: prompt required, image_size honoured, anything else ignored.
_GENERIC = ModelSpec(
    "generic", "flux", ("prompt",),
    {"prompt": STR, "image_size": IMAGE_SIZE, "num_images": NUM_IMAGES, "seed": INT,
     "output_format": JPEG_PNG_WEBP, "sync_mode": BOOL},
    "image_size", default_image_size="landscape_4_3", known=False,
)


def spec_for(model_id: str) -> ModelSpec:
    return MODELS.get(model_id) or replace(_GENERIC, model_id=model_id)


def app_prefix(model_id: str) -> str:
    """The path prefix of status/result/cancel: ``owner/app``, or ``ns/owner/app`` for namespaces."""
    parts = model_id.strip("/").split("/")
    keep = 3 if parts[0] in ("workflows", "comfy") else 2
    return "/".join(parts[:keep])
