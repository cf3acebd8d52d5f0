"""The model catalogue: built-in entries, their quirks, the strict loader, and administrators' entries."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from studio.catalogue import (
    CatalogueError,
    CustomSize,
    Kind,
    all_models,
    builtin_catalogue,
    get_model,
    models_by_kind,
    parse_catalogue,
    spec_from_dict,
)
from studio.models import CatalogueEntry

EXPECTED_KINDS = {
    "fal-ai/flux-1/dev": "text-to-image",
    "fal-ai/flux-1/schnell": "text-to-image",
    "fal-ai/flux-1/dev/image-to-image": "image-to-image",
    "fal-ai/flux-1/dev/redux": "image-to-image",
    "fal-ai/flux-pro/kontext": "image-edit",
    "fal-ai/flux-pro/kontext/max": "image-edit",
    "fal-ai/flux-pro/kontext/max/multi": "image-edit",
    "fal-ai/flux-pro/kontext/text-to-image": "text-to-image",
    "fal-ai/bytedance/seedream/v4/text-to-image": "text-to-image",
    "fal-ai/bytedance/seedream/v4/edit": "image-edit",
    "fal-ai/imagen4/preview": "text-to-image",
    "fal-ai/qwen-image-edit-plus": "image-edit",
    "fal-ai/nano-banana": "text-to-image",
    "fal-ai/nano-banana/edit": "image-edit",
    "fal-ai/flux-lora": "text-to-image",
    "fal-ai/veo3": "text-to-video",
    "fal-ai/veo3/fast/image-to-video": "image-to-video",
    "fal-ai/kling-video/v2.5-turbo/pro/text-to-video": "text-to-video",
    "fal-ai/kling-video/v2.5-turbo/pro/image-to-video": "image-to-video",
}
BUILTIN = {spec.id: spec for spec in builtin_catalogue().models}

NEW_MODEL_FIELDS = [
    {"use": "prompt"},
    {"use": "image_size", "default": "square_hd"},
    {"use": "seed"},
    {"name": "style", "type": "choice", "label": "Style", "default": "photo",
     "choices": [{"value": "photo", "label": "Photograph"}, {"value": "drawing", "label": "Drawing"}]},
]


def test_every_listed_model_is_built_in_with_its_kind():
    assert {model_id: spec.kind for model_id, spec in BUILTIN.items()} == EXPECTED_KINDS
    for spec in BUILTIN.values():
        assert spec.builtin and spec.title and spec.description
        assert spec.output == ("video" if spec.kind.endswith("video") else "image")


def test_no_model_offers_sync_mode():
    assert all(spec.field("sync_mode") is None for spec in BUILTIN.values())


def test_veo3_durations_are_strings_with_8s_default():
    for model_id in ("fal-ai/veo3", "fal-ai/veo3/fast/image-to-video"):
        duration = BUILTIN[model_id].field("duration")
        assert [choice.value for choice in duration.choices] == ["4s", "6s", "8s"]
        assert duration.default == "8s"
        assert duration.choice_label("8s") == "8 seconds"
        assert not duration.advanced


def test_kling_durations_are_strings_without_unit():
    for model_id in ("fal-ai/kling-video/v2.5-turbo/pro/text-to-video",
                     "fal-ai/kling-video/v2.5-turbo/pro/image-to-video"):
        spec = BUILTIN[model_id]
        duration = spec.field("duration")
        assert [choice.value for choice in duration.choices] == ["5", "10"]
        assert duration.default == "5"
        assert duration.choice_label("5") == "5 seconds"
        assert spec.field("negative_prompt").default == "blur, distort, and low quality"
    assert BUILTIN["fal-ai/kling-video/v2.5-turbo/pro/image-to-video"].field("aspect_ratio") is None


def test_safety_tolerance_is_a_string_choice_with_documented_defaults():
    expected = {
        "fal-ai/flux-pro/kontext": "2", "fal-ai/flux-pro/kontext/max": "2",
        "fal-ai/flux-pro/kontext/max/multi": "2", "fal-ai/flux-pro/kontext/text-to-image": "2",
        "fal-ai/imagen4/preview": "4", "fal-ai/nano-banana": "4", "fal-ai/nano-banana/edit": "4",
        "fal-ai/veo3": "4", "fal-ai/veo3/fast/image-to-video": "4",
    }
    for model_id, default in expected.items():
        field = BUILTIN[model_id].field("safety_tolerance")
        assert [choice.value for choice in field.choices] == ["1", "2", "3", "4", "5", "6"]
        assert field.default == default
        assert field.advanced
        assert "strictest" in field.choice_label("1") and "permissive" in field.choice_label("6")


def test_redux_has_no_prompt_and_needs_a_picture():
    redux = BUILTIN["fal-ai/flux-1/dev/redux"]
    assert not redux.has_prompt
    assert [(f.name, f.type, f.required) for f in redux.image_fields] == [("image_url", "image", True)]


def test_schnell_steps_default_to_4_up_to_12():
    steps = BUILTIN["fal-ai/flux-1/schnell"].field("num_inference_steps")
    assert (steps.default, steps.min, steps.max, steps.advanced) == (4, 1, 12, True)
    assert BUILTIN["fal-ai/flux-1/dev"].field("num_inference_steps").default == 28


def test_kontext_has_no_safety_checker():
    for model_id in EXPECTED_KINDS:
        if "kontext" in model_id:
            assert BUILTIN[model_id].field("enable_safety_checker") is None


def test_other_documented_defaults():
    qwen = BUILTIN["fal-ai/qwen-image-edit-plus"]
    assert qwen.field("output_format").default == "png"
    assert qwen.field("acceleration").default == "regular"
    assert qwen.field("image_size").default == "square_hd"
    assert qwen.field("num_inference_steps").default == 50
    assert qwen.field("guidance_scale").default == 4.0
    assert BUILTIN["fal-ai/imagen4/preview"].field("output_format").default == "png"
    assert BUILTIN["fal-ai/flux-1/dev/image-to-image"].field("strength").default == 0.95
    assert BUILTIN["fal-ai/flux-1/dev/image-to-image"].field("image_size") is None
    seedream = BUILTIN["fal-ai/bytedance/seedream/v4/text-to-image"].field("image_size")
    assert seedream.default == CustomSize(2048, 2048)
    assert {"auto", "auto_2K", "auto_4K"} <= {choice.value for choice in seedream.choices}
    edit_images = BUILTIN["fal-ai/bytedance/seedream/v4/edit"].field("image_urls")
    assert (edit_images.type, edit_images.max_items, edit_images.required) == ("images", 10, True)
    assert BUILTIN["fal-ai/flux-lora"].field("loras").type == "loras"
    assert BUILTIN["fal-ai/flux-pro/kontext/max/multi"].field("image_urls").type == "images"


def test_num_images_is_an_integer_and_basic():
    for spec in BUILTIN.values():
        field = spec.field("num_images")
        if field is not None:
            assert field.type == "integer" and isinstance(field.default, int) and not field.advanced


def test_basic_and_advanced_split():
    basic_names = {"prompt", "image_size", "aspect_ratio", "num_images", "seed", "image_url", "image_urls",
                   "duration"}
    advanced_names = {"num_inference_steps", "guidance_scale", "enable_safety_checker", "output_format",
                      "acceleration", "enhance_prompt", "safety_tolerance", "negative_prompt"}
    for spec in BUILTIN.values():
        for field in spec.fields:
            if field.name in basic_names:
                assert not field.advanced, (spec.id, field.name)
            if field.name in advanced_names:
                assert field.advanced, (spec.id, field.name)


def test_every_choice_has_a_friendly_label():
    for spec in BUILTIN.values():
        for field in spec.fields:
            for choice in field.choices:
                assert choice.label and choice.label != choice.value, (spec.id, field.name, choice)
    assert BUILTIN["fal-ai/flux-1/dev"].field("image_size").choice_label("landscape_4_3") == "Landscape 4:3"
    assert BUILTIN["fal-ai/veo3"].field("aspect_ratio").choice_label("16:9") == "Widescreen 16:9"


def test_every_field_has_a_label_and_image_fields_map_to_fal_names():
    for spec in BUILTIN.values():
        for field in spec.fields:
            assert field.label
        for field in spec.image_fields:
            assert field.name.endswith("_url" if field.type == "image" else "_urls")


BAD_TOML = """
[[models]]
id = "fal-ai/broken"
title = "Broken"
description = "A model with a mistake."
kind = "text-to-image"
output = "image"
fields = [
  { name = "prompt", type = "prompt", label = "Prompt", required = true },
  { name = "steps", type = "integer", label = "Steps", default = 60, min = 1, max = 50 },
]
"""


def test_a_bad_toml_entry_names_the_model_and_field():
    with pytest.raises(CatalogueError) as caught:
        parse_catalogue(BAD_TOML, source="test.toml")
    message = str(caught.value)
    assert "fal-ai/broken" in message and "steps" in message and "maximum 50" in message


@pytest.mark.parametrize(("field", "words"), [
    ({"name": "x", "type": "colour", "label": "X"}, "unknown type"),
    ({"name": "x", "type": "choice", "label": "X", "choices": ["png", "jpeg"], "default": "gif"},
     "not among the choices"),
    ({"name": "x", "type": "choice", "label": "X", "choices": ["a", "b"]}, "needs a label"),
    ({"name": "x", "type": "integer", "label": "X", "min": 5, "max": 1}, "above the maximum"),
    ({"name": "x", "type": "integer"}, "label"),
    ({"name": "x", "type": "choice", "label": "X", "choices": [{"value": "5", "label": "Five"}], "default": 5},
     "not among the choices"),
    ({"name": "x", "type": "integer", "label": "X", "defualt": 3}, "unknown setting"),
    ({"name": "sync_mode", "type": "boolean", "label": "Sync"}, "Atelier sets this input"),
    ({"name": "picture", "type": "image", "label": "Picture"}, "_url"),
    ({"use": "no_such_template"}, "not a shared field"),
])
def test_strict_field_checks(field, words):
    data = {"id": "fal-ai/x/y", "title": "X", "description": "X.", "kind": "text-to-image",
            "fields": [{"use": "prompt"}, field]}
    with pytest.raises(CatalogueError) as caught:
        spec_from_dict(data, builtin=False)
    assert words in str(caught.value)
    assert "fal-ai/x/y" in str(caught.value)


def test_model_id_is_checked():
    data = {"id": "not an id", "title": "X", "kind": "text-to-image", "fields": [{"use": "prompt"}]}
    with pytest.raises(CatalogueError) as caught:
        spec_from_dict(data, builtin=False)
    assert caught.value.key == "id"


def test_edit_kinds_need_a_picture_field():
    data = {"id": "fal-ai/x/edit", "title": "X", "kind": "image-edit", "fields": [{"use": "prompt"}]}
    with pytest.raises(CatalogueError, match="input picture"):
        spec_from_dict(data, builtin=False)


# --- Administrators' entries -----------------------------------------------------------------
@pytest.mark.django_db
def test_an_admin_entry_hides_a_built_in_model():
    entry = CatalogueEntry(model_id="fal-ai/flux-1/schnell", hidden=True)
    entry.full_clean()
    entry.save()
    assert "fal-ai/flux-1/schnell" not in {spec.id for spec in all_models()}
    assert get_model("fal-ai/flux-1/schnell") is None
    hidden = [spec for spec in all_models(include_hidden=True) if spec.id == "fal-ai/flux-1/schnell"]
    assert len(hidden) == 1 and hidden[0].hidden
    titles = [spec.title for _, specs in models_by_kind() for spec in specs]
    assert "FLUX.1 [schnell]" not in titles and "FLUX.1 [dev]" in titles


@pytest.mark.django_db
def test_an_admin_entry_adds_a_model_by_id():
    entry = CatalogueEntry(model_id="fal-ai/recraft/v3/text-to-image", title="Recraft V3",
                           description="Illustrations.", kind="text-to-image", fields=NEW_MODEL_FIELDS)
    entry.full_clean()
    entry.save()
    assert entry.output == "image"
    spec = get_model("fal-ai/recraft/v3/text-to-image")
    assert spec is not None and not spec.builtin
    assert spec.title == "Recraft V3"
    assert [f.name for f in spec.fields] == ["prompt", "image_size", "seed", "style"]
    assert spec.field("image_size").default == "square_hd"
    assert spec.field("style").choice_label("photo") == "Photograph"
    assert spec.id in {model.id for model in all_models()}

    entry.hidden = True
    entry.save()
    assert get_model(spec.id) is None
    assert spec.id not in {model.id for model in all_models()}


@pytest.mark.django_db
def test_all_models_reads_the_entries_in_one_query(django_assert_num_queries):
    CatalogueEntry.objects.create(model_id="fal-ai/flux-1/dev", hidden=True)
    CatalogueEntry.objects.create(model_id="fal-ai/a/b", title="A", kind="text-to-image",
                                  fields=[{"use": "prompt"}])
    with django_assert_num_queries(1):
        models = all_models()
    ids = [spec.id for spec in models]
    assert "fal-ai/flux-1/dev" not in ids and ids[-1] == "fal-ai/a/b"
    with django_assert_num_queries(1):
        groups = models_by_kind()
    assert [label for label, _ in groups] == [kind.label for kind in Kind]


@pytest.mark.django_db
def test_invalid_admin_field_list_is_rejected_in_plain_words():
    entry = CatalogueEntry(model_id="fal-ai/some/model", title="Some model", kind="text-to-image",
                           fields=[{"use": "prompt"},
                                   {"name": "steps", "type": "integer", "label": "Steps", "default": 60, "max": 50}])
    with pytest.raises(ValidationError) as caught:
        entry.full_clean()
    assert caught.value.message_dict == {"fields": ["Field “steps”: the default 60 is above the maximum 50."]}


@pytest.mark.django_db
def test_admin_entry_needs_title_kind_and_fields_for_a_new_model():
    with pytest.raises(ValidationError) as caught:
        CatalogueEntry(model_id="fal-ai/some/model").full_clean()
    assert set(caught.value.message_dict) == {"title", "kind", "fields"}


@pytest.mark.django_db
def test_admin_entry_rejects_a_field_list_that_is_not_a_list():
    entry = CatalogueEntry(model_id="fal-ai/some/model", title="Some", kind="text-to-image",
                           fields={"prompt": "text"})
    with pytest.raises(ValidationError) as caught:
        entry.full_clean()
    assert "must be a list" in caught.value.message_dict["fields"][0]


@pytest.mark.django_db
def test_admin_entry_for_a_built_in_only_changes_hidden():
    entry = CatalogueEntry(model_id="fal-ai/flux-1/dev", title="My FLUX", hidden=True)
    with pytest.raises(ValidationError) as caught:
        entry.full_clean()
    assert "built-in model" in caught.value.message_dict["title"][0]


@pytest.mark.django_db
def test_admin_entry_with_a_bad_id_is_rejected():
    entry = CatalogueEntry(model_id="flux dev", title="X", kind="text-to-image", fields=[{"use": "prompt"}])
    with pytest.raises(ValidationError) as caught:
        entry.full_clean()
    assert "model_id" in caught.value.message_dict


@pytest.mark.django_db
def test_a_broken_entry_in_the_database_is_skipped_not_fatal():
    CatalogueEntry.objects.create(model_id="fal-ai/broken/one", title="Broken", kind="text-to-image",
                                  fields=[{"name": "x", "type": "colour", "label": "X"}])
    assert "fal-ai/broken/one" not in {spec.id for spec in all_models()}
    assert get_model("fal-ai/broken/one") is None


@pytest.mark.django_db
def test_admin_screen_lists_and_adds_entries(administrator_client):
    response = administrator_client.get("/admin/studio/catalogueentry/add/")
    assert response.status_code == 200
    assert b"fal-ai/flux-1/dev" in response.content  # the built-in ids are listed as a reference
    response = administrator_client.post("/admin/studio/catalogueentry/add/", {
        "model_id": "fal-ai/flux-1/schnell", "hidden": "on", "title": "", "description": "", "kind": "",
        "output": "", "fields": "",
        # The price inline (usage app), left empty.
        "price-TOTAL_FORMS": "0", "price-INITIAL_FORMS": "0", "price-MIN_NUM_FORMS": "0", "price-MAX_NUM_FORMS": "1",
    })
    assert response.status_code == 302, response.content.decode()[:2000]
    assert CatalogueEntry.objects.get(model_id="fal-ai/flux-1/schnell").fields == []
    response = administrator_client.get("/admin/studio/catalogueentry/")
    assert response.status_code == 200 and b"FLUX.1 [schnell]" in response.content
