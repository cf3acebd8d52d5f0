"""What a model is, for the studio: its id, title, kind, and the input fields of its form.

A model is described by data, never by code: a dict in the shape of one `[[models]]`
entry of `builtin.toml` (or of an administrator's catalogue entry). `spec_from_dict`
checks that dict strictly and turns it into a frozen `ModelSpec`; every problem becomes
a `CatalogueError` naming the entry and the field, in words an administrator can act on.

A field may start from a shared template (`{ use = "seed" }`) kept in the catalogue's
`[templates]` table, and a choice may be a bare value whose label comes from the
catalogue's `[choice_labels]` table; `FieldLibrary` holds both.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field as dataclass_field
from typing import Any

from django.db import models
from django.utils.translation import gettext_lazy as _

from fal.app_id import InvalidModelId, parse_model_id
from usage.pricing import PriceRule, PriceRuleError, price_rule_from_dict


class Kind(models.TextChoices):
    """What a model does, in the order the picker shows them."""

    TEXT_TO_IMAGE = "text-to-image", _("Text to image")
    IMAGE_EDIT = "image-edit", _("Image editing")
    IMAGE_TO_IMAGE = "image-to-image", _("Image to image")
    TEXT_TO_VIDEO = "text-to-video", _("Text to video")
    IMAGE_TO_VIDEO = "image-to-video", _("Image to video")


class Output(models.TextChoices):
    IMAGE = "image", _("Image")
    VIDEO = "video", _("Video")


# The output each kind makes, and the kinds that need an input image.
KIND_OUTPUT: dict[str, str] = {
    Kind.TEXT_TO_IMAGE: Output.IMAGE,
    Kind.IMAGE_EDIT: Output.IMAGE,
    Kind.IMAGE_TO_IMAGE: Output.IMAGE,
    Kind.TEXT_TO_VIDEO: Output.VIDEO,
    Kind.IMAGE_TO_VIDEO: Output.VIDEO,
}
KINDS_WITH_INPUT_IMAGE = frozenset({Kind.IMAGE_EDIT, Kind.IMAGE_TO_IMAGE, Kind.IMAGE_TO_VIDEO})

FIELD_TYPES: dict[str, str] = {
    "prompt": "a roomy text box for the prompt",
    "text": "one line of text (a negative prompt, say)",
    "integer": "a whole number",
    "number": "a number that may have decimals",
    "boolean": "a tick box (true or false)",
    "choice": "a list to pick one value from",
    "size": "fal's image_size: named sizes plus a custom width and height",
    "seed": "the random seed (blank means random)",
    "image": "one input picture, sent as image_url",
    "images": "several input pictures, sent as image_urls",
    "loras": "LoRA files, one 'URL [scale]' per line",
}
IMAGE_TYPES = frozenset({"image", "images"})
FIELD_KEYS = frozenset({
    "name", "type", "label", "help", "default", "choices", "min", "max", "step",
    "required", "advanced", "max_items", "blank_label",
})
ENTRY_KEYS = frozenset({"id", "title", "description", "kind", "output", "fields", "price"})

# Seeds, custom sizes and input-picture counts when an entry does not say otherwise.
SEED_RANGE = (0, 2**32 - 1)
CUSTOM_SIZE_RANGE = (64, 4096)
DEFAULT_MAX_IMAGES = 10
LORA_SCALE_RANGE = (0.0, 4.0)

# Names the form derives from a field name; a field may not take one of them.
SIZE_WIDTH_SUFFIX = "_width"
SIZE_HEIGHT_SUFFIX = "_height"
GALLERY_SUFFIX = "_gallery"
RESERVED_NAMES = frozenset({"client_token", "sync_mode"})

_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class CatalogueError(ValueError):
    """A catalogue entry that cannot be used. `str()` names the entry; `detail` does not.

    `key` says which part of the entry is wrong ("id", "title", "kind", "output",
    "fields"…), so a form can show the message next to the right input.
    """

    def __init__(self, problem: str, *, entry: str = "", field: str = "", key: str = "fields") -> None:
        self.problem = problem
        self.entry = entry
        self.field = field
        self.key = key
        super().__init__(self.message)

    @property
    def detail(self) -> str:
        """The problem without the entry's name, e.g. for a form showing that entry."""
        return f"Field “{self.field}”: {self.problem}" if self.field else self.problem

    @property
    def message(self) -> str:
        return f"{self.entry}: {self.detail}" if self.entry else self.detail


@dataclass(frozen=True)
class Choice:
    value: str | int | float
    label: str


@dataclass(frozen=True)
class CustomSize:
    """A `{width, height}` image_size."""

    width: int
    height: int

    def as_dict(self) -> dict[str, int]:
        return {"width": self.width, "height": self.height}


@dataclass(frozen=True)
class Field:
    """One input of a model. `name` is the fal input name."""

    name: str
    type: str
    label: str
    help: str = ""
    default: Any = None  # str/int/float/bool, or CustomSize for a size field
    choices: tuple[Choice, ...] = ()
    min: int | float | None = None  # number range; custom side for size; ignored elsewhere
    max: int | float | None = None  # … and the longest text for prompt/text
    step: int | float | None = None
    required: bool = False
    advanced: bool = False
    max_items: int | None = None  # images and loras
    blank_label: str = ""  # the empty option of an optional choice/size without a default

    @property
    def is_image(self) -> bool:
        return self.type in IMAGE_TYPES

    def choice_label(self, value: Any) -> str:
        for choice in self.choices:
            if _same_value(choice.value, value):
                return choice.label
        return str(value)

    def has_choice(self, value: Any) -> bool:
        return any(_same_value(choice.value, value) for choice in self.choices)


@dataclass(frozen=True)
class ModelSpec:
    id: str
    title: str
    description: str
    kind: str
    output: str
    fields: tuple[Field, ...]
    builtin: bool
    hidden: bool = False
    price: PriceRule | None = None  # what one job costs (usage.pricing); None: no price known

    @property
    def default_arguments(self) -> dict[str, Any]:
        """The inputs the model uses when they are left out (the catalogue copies fal's defaults)."""
        return {f.name: f.default.as_dict() if isinstance(f.default, CustomSize) else f.default
                for f in self.fields if f.default is not None}

    def field(self, name: str) -> Field | None:
        return next((f for f in self.fields if f.name == name), None)

    @property
    def has_prompt(self) -> bool:
        return any(f.type == "prompt" for f in self.fields)

    @property
    def prompt_field(self) -> Field | None:
        return next((f for f in self.fields if f.type == "prompt"), None)

    @property
    def image_fields(self) -> tuple[Field, ...]:
        return tuple(f for f in self.fields if f.is_image)

    @property
    def kind_label(self) -> str:
        return Kind(self.kind).label

    @property
    def makes_video(self) -> bool:
        return self.output == Output.VIDEO


@dataclass(frozen=True)
class FieldLibrary:
    """Shared field templates (`use = "name"`) and labels for bare choice values."""

    templates: Mapping[str, Mapping[str, Any]] = dataclass_field(default_factory=dict)
    choice_labels: Mapping[str, str] = dataclass_field(default_factory=dict)


def spec_from_dict(data: Mapping[str, Any], builtin: bool, *, library: FieldLibrary | None = None,
                   entry: str = "") -> ModelSpec:
    """Check one catalogue entry and build its `ModelSpec`, or raise `CatalogueError`.

    `library` defaults to the templates and labels of the built-in catalogue, so an
    administrator's entry can use `{"use": "seed"}` like a built-in one.
    """
    if library is None:
        from studio.catalogue.builtin import builtin_catalogue

        library = builtin_catalogue().library
    if not isinstance(data, Mapping):
        raise CatalogueError("an entry must be a table of settings (id, title, kind, fields…).", entry=entry or "entry")
    raw_id = data.get("id")
    name = entry or (f"Model “{raw_id}”" if isinstance(raw_id, str) and raw_id else "A model without an id")

    def fail(problem: str, key: str) -> CatalogueError:
        return CatalogueError(problem, entry=name, key=key)

    unknown = sorted(set(data) - ENTRY_KEYS)
    if unknown:
        raise fail(f"unknown setting {_quoted(unknown)}; an entry has {_quoted(sorted(ENTRY_KEYS))}.", unknown[0])

    model_id = _model_id(raw_id, fail)
    title = _text(data.get("title"), "title", fail, required=True, limit=200)
    description = _text(data.get("description"), "description", fail, required=builtin, limit=500)
    kind = data.get("kind")
    if kind not in Kind.values:
        raise fail(f"the kind must be one of {_quoted(Kind.values)} (got {kind!r}).", "kind")
    output = data.get("output") or KIND_OUTPUT[kind]
    if output not in Output.values:
        raise fail(f"the output must be “image” or “video” (got {output!r}).", "output")
    if output != KIND_OUTPUT[kind]:
        raise fail(f"a “{kind}” model makes {KIND_OUTPUT[kind]}s, so its output must be “{KIND_OUTPUT[kind]}”.",
                   "output")

    raw_fields = data.get("fields")
    if not isinstance(raw_fields, (list, tuple)) or not raw_fields:
        raise fail("“fields” must be a list with at least one field.", "fields")
    fields: list[Field] = []
    for index, raw in enumerate(raw_fields, start=1):
        try:
            fields.append(_field_from_dict(raw, index, library))
        except CatalogueError as error:
            error.entry = name
            error.key = "fields"
            error.args = (error.message,)
            raise
    _check_field_set(fields, kind, fail)
    price = None
    if data.get("price") is not None:
        try:
            price = price_rule_from_dict(data["price"])
        except PriceRuleError as error:
            raise fail(str(error), "price") from None
    return ModelSpec(id=model_id, title=title, description=description, kind=kind, output=output,
                     fields=tuple(fields), builtin=builtin, price=price)


# --- Entry-level checks ------------------------------------------------------------------
def _model_id(value: Any, fail) -> str:
    if not isinstance(value, str) or not value.strip():
        raise fail("every model needs an “id”, its fal model id such as “fal-ai/flux-1/dev”.", "id")
    try:
        canonical = parse_model_id(value).endpoint
    except InvalidModelId as error:
        raise fail(str(error), "id") from None
    if canonical != value:
        raise fail(f"write the model id as “{canonical}”.", "id")
    return value


def _text(value: Any, key: str, fail, *, required: bool, limit: int) -> str:
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise fail(f"the {key} must be text.", key)
    value = value.strip()
    if required and not value:
        raise fail(f"the {key} is missing.", key)
    if len(value) > limit:
        raise fail(f"the {key} is longer than {limit} characters.", key)
    return value


def _check_field_set(fields: list[Field], kind: str, fail) -> None:
    taken: dict[str, str] = {}
    for spec_field in fields:
        derived = [spec_field.name]
        if spec_field.type == "size":
            derived += [spec_field.name + SIZE_WIDTH_SUFFIX, spec_field.name + SIZE_HEIGHT_SUFFIX]
        if spec_field.is_image:
            derived.append(spec_field.name + GALLERY_SUFFIX)
        for form_name in derived:
            if form_name in taken:
                clash = taken[form_name]
                problem = (f"there are two fields called “{clash}”." if clash == spec_field.name
                           else f"its form input “{form_name}” clashes with field “{clash}”; rename one.")
                raise CatalogueError(problem, field=spec_field.name)
            taken[form_name] = spec_field.name
    for single in ("prompt", "seed"):
        if sum(f.type == single for f in fields) > 1:
            raise fail(f"a model can have only one field of type “{single}”.", "fields")
    if kind in KINDS_WITH_INPUT_IMAGE and not any(f.is_image for f in fields):
        raise fail(f"a “{kind}” model needs an input picture: add a field of type “image” or “images”.", "fields")


# --- Fields --------------------------------------------------------------------------------
def _field_from_dict(raw: Any, index: int, library: FieldLibrary) -> Field:
    if not isinstance(raw, Mapping):
        raise CatalogueError(f"field number {index} must be a table of settings (name, type, label…).")
    data = dict(raw)
    template_name = data.pop("use", None)
    if template_name is not None:
        template = library.templates.get(template_name) if isinstance(template_name, str) else None
        if template is None:
            known = ", ".join(sorted(library.templates)) or "none"
            raise CatalogueError(f"field number {index} uses “{template_name}”, which is not a shared field "
                                 f"(shared fields: {known}).")
        data = {"name": template_name, **template, **data}
    name = data.get("name")
    if not isinstance(name, str) or not _NAME.match(name):
        raise CatalogueError(f"field number {index} needs a “name”: the fal input name, such as “num_images” "
                             "(letters, digits and _).")

    def fail(problem: str) -> CatalogueError:
        return CatalogueError(problem, field=name)

    if name in RESERVED_NAMES:
        raise fail("Atelier sets this input itself; remove the field.")
    unknown = sorted(set(data) - FIELD_KEYS)
    if unknown:
        raise fail(f"unknown setting {_quoted(unknown)}; a field can have {_quoted(sorted(FIELD_KEYS))}.")
    field_type = data.get("type")
    if field_type not in FIELD_TYPES:
        raise fail(f"unknown type {field_type!r}; the types are {_quoted(list(FIELD_TYPES))}.")
    label = data.get("label")
    if not isinstance(label, str) or not label.strip():
        raise fail("the “label” is missing: the words people see next to the input.")
    help_text = data.get("help", "")
    if not isinstance(help_text, str):
        raise fail("the “help” must be text.")
    required = _flag(data, "required", fail)
    advanced = _flag(data, "advanced", fail)
    blank_label = data.get("blank_label", "")
    if not isinstance(blank_label, str):
        raise fail("the “blank_label” must be text.")

    allowed = _ALLOWED_EXTRAS[field_type]
    present = {key for key in ("default", "choices", "min", "max", "step", "max_items", "blank_label")
               if data.get(key) is not None}
    for key in sorted(present - allowed):
        raise fail(f"a field of type “{field_type}” cannot have “{key}”.")
    if required and field_type == "boolean":
        raise fail("a tick box cannot be required.")

    values = dict(name=name, type=field_type, label=label.strip(), help=help_text.strip(), required=required,
                  advanced=advanced, blank_label=blank_label.strip())
    builder = _BUILDERS[field_type]
    values.update(builder(data, fail, library))
    return Field(**values)


_ALLOWED_EXTRAS: dict[str, set[str]] = {
    "prompt": {"default", "max"},
    "text": {"default", "max"},
    "integer": {"default", "min", "max", "step"},
    "number": {"default", "min", "max", "step"},
    "boolean": {"default"},
    "choice": {"default", "choices", "blank_label"},
    "size": {"default", "choices", "min", "max", "blank_label"},
    "seed": {"default", "min", "max"},
    "image": set(),
    "images": {"max_items"},
    "loras": {"max_items"},
}


def _text_field(data: dict, fail, library: FieldLibrary) -> dict:
    maximum = _number(data.get("max"), "max", fail, whole=True)
    if maximum is not None and maximum < 1:
        raise fail("the “max” (longest text) must be at least 1.")
    default = data.get("default")
    if default is not None and not isinstance(default, str):
        raise fail(f"the default must be text (got {default!r}).")
    if default is not None and maximum is not None and len(default) > maximum:
        raise fail(f"the default is longer than the maximum of {maximum} characters.")
    return {"default": default, "max": maximum}


def _number_field(data: dict, fail, library: FieldLibrary, *, whole: bool) -> dict:
    minimum = _number(data.get("min"), "min", fail, whole=whole)
    maximum = _number(data.get("max"), "max", fail, whole=whole)
    step = _number(data.get("step"), "step", fail, whole=whole)
    default = _number(data.get("default"), "default", fail, whole=whole)
    if minimum is not None and maximum is not None and minimum > maximum:
        raise fail(f"the minimum {minimum} is above the maximum {maximum}.")
    if step is not None and step <= 0:
        raise fail("the “step” must be above zero.")
    _check_in_range(default, minimum, maximum, fail)
    if default is not None and not whole:
        default = float(default)
    return {"default": default, "min": minimum, "max": maximum, "step": step}


def _boolean_field(data: dict, fail, library: FieldLibrary) -> dict:
    default = data.get("default", False)
    if not isinstance(default, bool):
        raise fail(f"the default of a tick box must be true or false (got {default!r}).")
    return {"default": default}


def _choice_field(data: dict, fail, library: FieldLibrary) -> dict:
    choices = _choices(data.get("choices"), fail, library, required=True)
    default = data.get("default")
    if default is not None and not any(_same_value(choice.value, default) for choice in choices):
        raise fail(f"the default {default!r} is not among the choices ({_values(choices)}).")
    return {"choices": choices, "default": default}


def _size_field(data: dict, fail, library: FieldLibrary) -> dict:
    choices = _choices(data.get("choices"), fail, library, required=False)
    if any(not isinstance(choice.value, str) for choice in choices):
        raise fail("the named sizes must be text, such as “landscape_4_3”.")
    if any(choice.value == "custom" for choice in choices):
        raise fail("“custom” is added by Atelier; leave it out of the choices.")
    minimum = _number(data.get("min"), "min", fail, whole=True)
    maximum = _number(data.get("max"), "max", fail, whole=True)
    minimum = CUSTOM_SIZE_RANGE[0] if minimum is None else minimum
    maximum = CUSTOM_SIZE_RANGE[1] if maximum is None else maximum
    if minimum < 1 or minimum > maximum:
        raise fail(f"the custom side limits must satisfy 1 ≤ min ≤ max (got {minimum} and {maximum}).")
    default = data.get("default")
    if isinstance(default, Mapping):
        if set(default) != {"width", "height"}:
            raise fail("a custom default size needs exactly “width” and “height”.")
        width = _number(default["width"], "default width", fail, whole=True)
        height = _number(default["height"], "default height", fail, whole=True)
        _check_in_range(width, minimum, maximum, fail, what="default width")
        _check_in_range(height, minimum, maximum, fail, what="default height")
        default = CustomSize(width, height)
    elif default is not None:
        if not any(choice.value == default for choice in choices):
            raise fail(f"the default {default!r} is not among the sizes ({_values(choices)}).")
    return {"choices": choices, "default": default, "min": minimum, "max": maximum}


def _seed_field(data: dict, fail, library: FieldLibrary) -> dict:
    values = _number_field(data, fail, library, whole=True)
    values["min"] = SEED_RANGE[0] if values["min"] is None else values["min"]
    values["max"] = SEED_RANGE[1] if values["max"] is None else values["max"]
    _check_in_range(values["default"], values["min"], values["max"], fail)
    values["step"] = None
    return values


def _image_field(data: dict, fail, library: FieldLibrary) -> dict:
    if not data["name"].endswith("_url"):
        raise fail("a field of type “image” is sent as one picture address: its name must end in “_url”, "
                   "such as “image_url”.")
    return {"max_items": 1}


def _images_field(data: dict, fail, library: FieldLibrary) -> dict:
    if not data["name"].endswith("_urls"):
        raise fail("a field of type “images” is sent as a list of picture addresses: its name must end in "
                   "“_urls”, such as “image_urls”.")
    return {"max_items": _max_items(data, fail, DEFAULT_MAX_IMAGES)}


def _loras_field(data: dict, fail, library: FieldLibrary) -> dict:
    return {"max_items": _max_items(data, fail, None)}


_BUILDERS = {
    "prompt": _text_field,
    "text": _text_field,
    "integer": lambda data, fail, library: _number_field(data, fail, library, whole=True),
    "number": lambda data, fail, library: _number_field(data, fail, library, whole=False),
    "boolean": _boolean_field,
    "choice": _choice_field,
    "size": _size_field,
    "seed": _seed_field,
    "image": _image_field,
    "images": _images_field,
    "loras": _loras_field,
}


# --- Small checks --------------------------------------------------------------------------
def _flag(data: dict, key: str, fail) -> bool:
    value = data.get(key, False)
    if not isinstance(value, bool):
        raise fail(f"“{key}” must be true or false (got {value!r}).")
    return value


def _number(value: Any, what: str, fail, *, whole: bool) -> int | float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise fail(f"the {what} must be a number (got {value!r}).")
    if whole:
        if isinstance(value, float):
            if not value.is_integer():
                raise fail(f"the {what} must be a whole number (got {value!r}).")
            value = int(value)
    return value


def _check_in_range(value: Any, minimum: Any, maximum: Any, fail, *, what: str = "default") -> None:
    if value is None:
        return
    if minimum is not None and value < minimum:
        raise fail(f"the {what} {value} is below the minimum {minimum}.")
    if maximum is not None and value > maximum:
        raise fail(f"the {what} {value} is above the maximum {maximum}.")


def _max_items(data: dict, fail, default: int | None) -> int | None:
    value = _number(data.get("max_items"), "max_items", fail, whole=True)
    if value is None:
        return default
    if value < 1:
        raise fail("“max_items” must be at least 1.")
    return value


def _choices(raw: Any, fail, library: FieldLibrary, *, required: bool) -> tuple[Choice, ...]:
    if raw is None:
        raw = []
    if not isinstance(raw, (list, tuple)):
        raise fail("“choices” must be a list.")
    if required and not raw:
        raise fail("a choice field needs at least one entry in “choices”.")
    choices: list[Choice] = []
    for item in raw:
        if isinstance(item, Mapping):
            if set(item) - {"value", "label"} or "value" not in item:
                raise fail(f"each choice needs a “value” and a “label” (got {dict(item)!r}).")
            value, label = item["value"], item.get("label")
        else:
            value, label = item, library.choice_labels.get(item) if isinstance(item, str) else None
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            raise fail(f"the choice value {value!r} must be text or a number.")
        if not isinstance(label, str) or not label.strip():
            raise fail(f"the choice {value!r} needs a label people can read; write it as "
                       f"{{\"value\": {json.dumps(value)}, \"label\": \"…\"}}.")
        if any(_same_value(existing.value, value) for existing in choices):
            raise fail(f"the choice {value!r} appears twice.")
        choices.append(Choice(value=value, label=label.strip()))
    if len({isinstance(choice.value, str) for choice in choices}) > 1:
        raise fail("the choice values must all be text or all be numbers, not a mix (fal is strict about this: "
                   "“5” and 5 are different values).")
    return tuple(choices)


def _same_value(a: Any, b: Any) -> bool:
    """Equal and of the same type: the string "5" is not the number 5 for fal."""
    return type(a) is type(b) and a == b


def _values(choices: tuple[Choice, ...]) -> str:
    return ", ".join(repr(choice.value) for choice in choices) or "none"


def _quoted(names: list[str]) -> str:
    return ", ".join(f"“{name}”" for name in names)
