"""The per-model form: fal input types, limits, input pictures, upstream errors, and reuse."""

from __future__ import annotations

import io
import uuid

import pytest
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils.datastructures import MultiValueDict
from PIL import Image

from gallery.models import Asset
from studio.catalogue import builtin_catalogue
from studio.generation_form import GenerationForm, InputImage, initial_from_arguments

pytestmark = pytest.mark.django_db

SPECS = {spec.id: spec for spec in builtin_catalogue().models}


def png_bytes(size: tuple[int, int] = (96, 80), mode: str = "RGB", fmt: str = "PNG") -> bytes:
    buffer = io.BytesIO()
    Image.new(mode, size, "white" if mode != "1" else 1).save(buffer, format=fmt)
    return buffer.getvalue()


def upload(name: str = "photo.png", content: bytes | None = None, content_type: str = "image/png"):
    return SimpleUploadedFile(name, png_bytes() if content is None else content, content_type=content_type)


def submitted(form: GenerationForm, **changes) -> dict:
    """What a browser would send for an untouched form, with `changes` typed in."""
    data: dict = {}
    for bound in form:
        value = bound.value()
        if bound.widget_type == "checkbox":
            if value:
                data[bound.name] = "on"
        elif isinstance(value, list):
            data[bound.name] = [str(item) for item in value]
        elif value is not None and bound.widget_type != "file":
            data[bound.name] = str(value)
    for name, value in changes.items():
        if value is None:
            data.pop(name, None)
        else:
            data[name] = value
    return data


def bound_form(model_id: str, user, files=None, **changes) -> GenerationForm:
    spec = SPECS[model_id]
    data = submitted(GenerationForm(spec, user), **changes)
    return GenerationForm(spec, user, data=data, files=files)


@pytest.fixture
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def make_asset(owner, kind: str = "image") -> Asset:
    content = png_bytes()
    asset = Asset(owner=owner, kind=kind, source=Asset.Source.UPLOAD, content_type="image/png",
                  bytes=len(content), checksum="0" * 64, width=96, height=80)
    asset.file.save("input.png", ContentFile(content), save=False)
    asset.save()
    return asset


# --- arguments() ----------------------------------------------------------------------------
def test_flux_dev_arguments_have_fal_types(member):
    form = bound_form("fal-ai/flux-1/dev", member, prompt="  a red fox in snow  ", num_images="2",
                      seed="42", guidance_scale="4.5")
    assert form.is_valid(), form.errors
    assert form.arguments() == {
        "prompt": "a red fox in snow",
        "image_size": "landscape_4_3",
        "num_images": 2,
        "seed": 42,
        "num_inference_steps": 28,
        "guidance_scale": 4.5,
        "enable_safety_checker": True,
        "output_format": "jpeg",
        "acceleration": "none",
    }
    assert form.prompt() == "a red fox in snow"
    assert form.image_field_names() == {}


def test_blank_seed_is_left_out_and_unticked_box_is_false(member):
    form = bound_form("fal-ai/flux-1/dev", member, prompt="a fox", enable_safety_checker=None)
    assert form.is_valid(), form.errors
    arguments = form.arguments()
    assert "seed" not in arguments
    assert arguments["enable_safety_checker"] is False


def test_kling_duration_stays_a_string(member):
    form = bound_form("fal-ai/kling-video/v2.5-turbo/pro/text-to-video", member, prompt="waves", duration="10",
                      aspect_ratio="9:16")
    assert form.is_valid(), form.errors
    assert form.arguments() == {
        "prompt": "waves", "duration": "10", "aspect_ratio": "9:16",
        "negative_prompt": "blur, distort, and low quality", "cfg_scale": 0.5,
    }


def test_veo3_duration_and_safety_tolerance_are_strings(member):
    form = bound_form("fal-ai/veo3", member, prompt="a drone shot over hills", duration="6s",
                      generate_audio=None, safety_tolerance="2")
    assert form.is_valid(), form.errors
    arguments = form.arguments()
    assert arguments["duration"] == "6s"
    assert arguments["safety_tolerance"] == "2"
    assert arguments["generate_audio"] is False
    assert arguments["resolution"] == "720p" and arguments["aspect_ratio"] == "16:9"
    assert "negative_prompt" not in arguments


def test_seedream_default_is_a_custom_2048_square(member):
    form = bound_form("fal-ai/bytedance/seedream/v4/text-to-image", member, prompt="a poster")
    assert form.is_valid(), form.errors
    arguments = form.arguments()
    assert arguments["image_size"] == {"width": 2048, "height": 2048}
    assert arguments["num_images"] == 1
    assert "enhance_prompt_mode" not in arguments  # optional, no default: fal decides


def test_seedream_custom_and_named_sizes(member):
    form = bound_form("fal-ai/bytedance/seedream/v4/text-to-image", member, prompt="a poster",
                      image_size="custom", image_size_width="1536", image_size_height="2048")
    assert form.is_valid(), form.errors
    assert form.arguments()["image_size"] == {"width": 1536, "height": 2048}
    form = bound_form("fal-ai/bytedance/seedream/v4/text-to-image", member, prompt="a poster", image_size="auto_4K")
    assert form.is_valid(), form.errors
    assert form.arguments()["image_size"] == "auto_4K"


def test_custom_size_needs_width_and_height_in_range(member):
    form = bound_form("fal-ai/flux-1/dev", member, prompt="x", image_size="custom", image_size_width="5000",
                      image_size_height=None)
    assert not form.is_valid()
    assert form.errors["image_size_width"] == ["The highest allowed value is 4096."]
    assert "height" in form.errors["image_size_height"][0]


def test_nano_banana_arguments(member):
    form = bound_form("fal-ai/nano-banana", member, prompt="a banana", aspect_ratio="16:9", num_images="3")
    assert form.is_valid(), form.errors
    assert form.arguments() == {
        "prompt": "a banana", "aspect_ratio": "16:9", "num_images": 3, "output_format": "png",
        "safety_tolerance": "4", "limit_generations": False,
    }


def test_flux_lora_lines_become_path_and_scale(member):
    form = bound_form("fal-ai/flux-lora", member, prompt="a logo",
                      loras="https://example.com/a.safetensors 0.8\n\nhttps://example.com/b.safetensors\n")
    assert form.is_valid(), form.errors
    assert form.arguments()["loras"] == [
        {"path": "https://example.com/a.safetensors", "scale": 0.8},
        {"path": "https://example.com/b.safetensors", "scale": 1.0},
    ]
    assert form.arguments()["acceleration"] == "none"


def test_flux_lora_bad_scale_is_explained(member):
    form = bound_form("fal-ai/flux-lora", member, prompt="a logo", loras="https://example.com/a.safetensors lots")
    assert not form.is_valid()
    assert "Line 1" in form.errors["loras"][0] and "not a number" in form.errors["loras"][0]


def test_optional_choice_without_default_offers_a_blank_option(member):
    form = GenerationForm(SPECS["fal-ai/flux-pro/kontext"], member)
    choices = dict(form.fields["aspect_ratio"].choices)
    assert choices[""] == "Same as the input picture"
    assert choices["16:9"] == "Widescreen 16:9"


# --- Checking ---------------------------------------------------------------------------------
def test_missing_prompt_is_an_error_on_the_prompt(member):
    form = bound_form("fal-ai/flux-1/dev", member, prompt="   ")
    assert not form.is_valid()
    assert form.errors["prompt"] == ["Please write a prompt: describe what you want to see."]
    with pytest.raises(ValueError):
        form.arguments()


def test_out_of_range_steps_are_refused(member):
    form = bound_form("fal-ai/flux-1/schnell", member, prompt="x", num_inference_steps="13")
    assert not form.is_valid()
    assert form.errors["num_inference_steps"] == ["The highest allowed value is 12."]
    form = bound_form("fal-ai/flux-1/schnell", member, prompt="x", num_inference_steps="four")
    assert not form.is_valid()
    assert form.errors["num_inference_steps"] == ["Please enter a whole number."]


def test_unknown_choice_is_refused(member):
    form = bound_form("fal-ai/veo3", member, prompt="x", duration="8")
    assert not form.is_valid()
    assert form.errors["duration"] == ["Please choose one of the options."]


def test_client_token_is_fresh_and_required(member):
    first = GenerationForm(SPECS["fal-ai/flux-1/dev"], member)
    second = GenerationForm(SPECS["fal-ai/flux-1/dev"], member)
    assert first["client_token"].value() != second["client_token"].value()
    assert len(first["client_token"].value()) >= 16
    form = bound_form("fal-ai/flux-1/dev", member, prompt="x", client_token=None)
    assert not form.is_valid()
    # Shown above the form (the token is hidden), and a fresh token makes the next press work.
    assert "out of date" in form.non_field_errors()[0]
    assert form.data["client_token"]


def test_seed_has_a_roll_hook_and_fields_fold(member):
    form = GenerationForm(SPECS["fal-ai/flux-1/dev"], member)
    assert "data-roll-seed" in str(form["seed"])
    basic = [bound.name for bound in form.basic_fields()]
    advanced = [bound.name for bound in form.advanced_fields()]
    assert basic == ["prompt", "image_size", "image_size_width", "image_size_height", "num_images", "seed"]
    assert advanced == ["num_inference_steps", "guidance_scale", "enable_safety_checker", "output_format",
                        "acceleration"]


# --- Input pictures ----------------------------------------------------------------------------
def test_a_real_png_upload_is_accepted_and_rewound(member):
    picture = upload()
    form = bound_form("fal-ai/flux-pro/kontext", member, files={"image_url": picture}, prompt="make it night")
    assert form.is_valid(), form.errors
    assert "image_url" not in form.arguments()
    assert form.image_field_names() == {"image_url": "image_url"}
    images = form.input_images()
    assert list(images) == ["image_url"]
    assert len(images["image_url"]) == 1 and images["image_url"][0].asset is None
    stored = images["image_url"][0].upload
    assert stored.tell() == 0 and stored.read() == png_bytes()
    assert form.image_arguments({"image_url": ["asset:abc"]}) == {"image_url": "asset:abc"}


def test_webp_and_jpeg_uploads_are_accepted(member):
    files = MultiValueDict({"image_urls": [
        upload("a.webp", png_bytes(fmt="WEBP"), "image/webp"),
        upload("b.jpg", png_bytes(fmt="JPEG"), "image/jpeg"),
    ]})
    form = bound_form("fal-ai/nano-banana/edit", member, files=files, prompt="combine")
    assert form.is_valid(), form.errors
    assert len(form.input_images()["image_urls"]) == 2
    assert form.image_arguments({"image_urls": ["asset:1", "asset:2"]}) == {"image_urls": ["asset:1", "asset:2"]}


def test_a_text_file_named_png_is_refused(member):
    fake = upload("photo.png", b"this is not a picture at all", "image/png")
    form = bound_form("fal-ai/flux-pro/kontext", member, files={"image_url": fake}, prompt="x")
    assert not form.is_valid()
    assert form.errors["image_url"] == ["“photo.png” is not a JPEG, PNG or WebP picture."]


def test_a_gif_is_refused_whatever_its_name(member):
    gif = upload("photo.png", png_bytes(fmt="GIF"), "image/png")
    form = bound_form("fal-ai/flux-pro/kontext", member, files={"image_url": gif}, prompt="x")
    assert not form.is_valid()
    assert "not a JPEG, PNG or WebP" in form.errors["image_url"][0]


def test_a_damaged_png_is_refused(member):
    content = png_bytes()
    damaged = content[:60] + bytes(len(content) - 60)
    form = bound_form("fal-ai/flux-pro/kontext", member, files={"image_url": upload(content=damaged)}, prompt="x")
    assert not form.is_valid()
    assert "could not be read" in form.errors["image_url"][0] or "damaged" in form.errors["image_url"][0]


def test_too_many_pixels_is_refused(member):
    huge = upload("huge.png", png_bytes((8000, 6000), mode="1"))
    form = bound_form("fal-ai/flux-pro/kontext", member, files={"image_url": huge}, prompt="x")
    assert not form.is_valid()
    assert "8000 × 6000" in form.errors["image_url"][0] and "40 megapixels" in form.errors["image_url"][0]


def test_a_tiny_picture_is_refused(member):
    tiny = upload("tiny.png", png_bytes((32, 200)))
    form = bound_form("fal-ai/flux-pro/kontext", member, files={"image_url": tiny}, prompt="x")
    assert not form.is_valid()
    assert "at least 64 pixels" in form.errors["image_url"][0]


def test_a_file_over_the_size_limit_is_refused(member, settings):
    settings.ATELIER_MAX_UPLOAD_BYTES = 100
    form = bound_form("fal-ai/flux-pro/kontext", member, files={"image_url": upload()}, prompt="x")
    assert not form.is_valid()
    assert "larger than" in form.errors["image_url"][0]


def test_too_many_pictures_are_refused(member):
    files = MultiValueDict({"image_urls": [upload(f"{n}.png") for n in range(5)]})
    form = bound_form("fal-ai/flux-pro/kontext/max/multi", member, files=files, prompt="x")
    assert not form.is_valid()
    assert form.errors["image_urls"] == ["You can use at most 4 pictures here; you gave 5."]


def test_a_required_picture_must_be_given(member):
    form = bound_form("fal-ai/flux-1/dev/redux", member)
    assert not form.is_valid()
    assert form.errors["image_url"] == ["Add a picture: upload one or choose one from the gallery."]


def test_a_gallery_item_can_be_the_input(member, outsider, media_root):
    asset = make_asset(outsider)  # the whole team sees each other's work
    form = bound_form("fal-ai/flux-1/dev/redux", member, image_url_gallery=[str(asset.id)])
    assert form.is_valid(), form.errors
    assert form.input_images() == {"image_url": [InputImage(asset=asset)]}
    assert form.chosen_assets() == {"image_url": [asset]}
    assert form.arguments()["image_size"] == "landscape_4_3"


def test_gallery_items_and_uploads_together(member, media_root):
    first, second = make_asset(member), make_asset(member)
    files = MultiValueDict({"image_urls": [upload()]})
    form = bound_form("fal-ai/bytedance/seedream/v4/edit", member, files=files, prompt="combine",
                      image_urls_gallery=[str(first.id), str(second.id)])
    assert form.is_valid(), form.errors
    images = form.input_images()["image_urls"]
    assert [image.asset for image in images[:2]] == [first, second]
    assert images[2].upload is not None


def test_one_picture_field_takes_only_one(member, media_root):
    asset = make_asset(member)
    form = bound_form("fal-ai/flux-pro/kontext", member, files={"image_url": upload()}, prompt="x",
                      image_url_gallery=[str(asset.id)])
    assert not form.is_valid()
    assert "just one picture" in form.errors["image_url"][0]


def test_a_missing_gallery_item_is_explained(member, media_root):
    video = make_asset(member, kind="video")
    for asset_id in (str(uuid.uuid4()), "not-a-uuid", str(video.id)):
        form = bound_form("fal-ai/flux-1/dev/redux", member, image_url_gallery=[asset_id])
        assert not form.is_valid()
        assert form.errors["image_url"] == ["That gallery item no longer exists."]  # shown on the visible field


# --- Upstream errors -------------------------------------------------------------------------------
def test_upstream_errors_mark_the_fields(member):
    form = bound_form("fal-ai/bytedance/seedream/v4/edit", member, files=MultiValueDict({"image_urls": [upload()]}),
                      prompt="x")
    assert form.is_valid(), form.errors
    form.apply_upstream_errors({
        "image_urls": ["At most 10 images are allowed."],
        "prompt": ["The prompt is too long."],
        "": ["Something about the whole request."],
        "mystery": ["An input we do not know."],
    })
    assert not form.is_valid()
    assert form.errors["image_urls"] == ["At most 10 images are allowed."]
    assert form.errors["prompt"] == ["The prompt is too long."]
    assert form.non_field_errors() == ["Something about the whole request.", "An input we do not know. (mystery)"]


def test_upstream_errors_on_an_unbound_form(member):
    spec = SPECS["fal-ai/flux-pro/kontext"]
    form = GenerationForm(spec, member, initial=initial_from_arguments(spec, {"prompt": "x"}))
    form.apply_upstream_errors({"image_url": ["The picture could not be downloaded."]})
    assert form["image_url"].errors == ["The picture could not be downloaded."]
    assert form["prompt"].value() == "x"


# --- Reuse ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("model_id", [
    "fal-ai/flux-1/dev", "fal-ai/bytedance/seedream/v4/text-to-image", "fal-ai/veo3", "fal-ai/flux-lora",
    "fal-ai/kling-video/v2.5-turbo/pro/text-to-video", "fal-ai/nano-banana",
])
def test_initial_from_arguments_round_trips(member, model_id):
    spec = SPECS[model_id]
    changes = {"prompt": "a lighthouse at dusk", "seed": "1234"}
    if spec.field("loras"):
        changes["loras"] = "https://example.com/a.safetensors 0.5"
    if spec.field("image_size") and model_id.endswith("text-to-image"):
        changes.update(image_size="custom", image_size_width="1200", image_size_height="1600")
    if spec.field("duration"):
        changes["duration"] = spec.field("duration").choices[0].value
    if spec.field("enable_safety_checker"):
        changes["enable_safety_checker"] = None
    form = bound_form(model_id, member, **changes)
    assert form.is_valid(), form.errors
    arguments = form.arguments()

    same = GenerationForm(spec, member, initial=initial_from_arguments(spec, arguments))
    again = GenerationForm(spec, member, data=submitted(same))
    assert again.is_valid(), again.errors
    assert again.arguments() == arguments

    fresh = GenerationForm(spec, member, initial=initial_from_arguments(spec, arguments, new_seed=True))
    if spec.field("seed"):
        assert arguments["seed"] == 1234
        assert fresh["seed"].value() in (None, "")
    new = GenerationForm(spec, member, data=submitted(fresh))
    assert new.is_valid(), new.errors
    assert new.arguments() == {key: value for key, value in arguments.items() if key != "seed"}


def test_initial_from_arguments_picks_gallery_items(member, media_root):
    asset = make_asset(member)
    kontext = SPECS["fal-ai/flux-pro/kontext"]
    initial = initial_from_arguments(kontext, {"prompt": "x", "image_url": f"asset:{asset.id}", "seed": 7})
    assert initial == {"prompt": "x", "image_url_gallery": [str(asset.id)], "seed": 7}
    form = GenerationForm(kontext, member, initial=initial)
    assert form.chosen_assets() == {"image_url": [asset]}
    again = GenerationForm(kontext, member, data=submitted(form))
    assert again.is_valid(), again.errors
    assert again.input_images() == {"image_url": [InputImage(asset=asset)]}

    multi = SPECS["fal-ai/nano-banana/edit"]
    initial = initial_from_arguments(
        multi, {"prompt": "x", "image_urls": [f"asset:{asset.id}", "data:image/png;base64,AA"]})
    assert initial["image_urls_gallery"] == [str(asset.id)]


def test_initial_from_arguments_skips_values_that_no_longer_fit(member):
    spec = SPECS["fal-ai/veo3"]
    initial = initial_from_arguments(spec, {"prompt": "x", "duration": 8, "unknown": 1, "resolution": "4K"})
    assert initial == {"prompt": "x"}
