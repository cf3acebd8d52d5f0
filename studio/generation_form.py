"""The per-model form: built from a catalogue `ModelSpec`, it turns what a person typed into fal input JSON.

Form inputs, per catalogue field (named after the field's fal name `<name>`):

- most types: one input called `<name>`;
- `size`: `<name>` (a named size or "custom") plus `<name>_width` and `<name>_height`;
- `image` / `images`: `<name>` (file upload; several files for `images`) plus the hidden
  `<name>_gallery` (ids of gallery items the person chose; several values allowed).

`arguments()` gives the fal input without the pictures; the job code stores uploads as
assets and adds the `image_url` / `image_urls` inputs (see `image_arguments()`).
"""

from __future__ import annotations

import re
import secrets
import uuid
import warnings
from dataclasses import dataclass
from typing import Any

from django import forms
from django.conf import settings
from django.core.exceptions import NON_FIELD_ERRORS
from django.core.files.uploadedfile import UploadedFile
from django.forms.boundfield import BoundField
from django.utils import formats
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from PIL import Image, UnidentifiedImageError

from gallery.models import Asset
from studio.catalogue.spec import (
    GALLERY_SUFFIX,
    LORA_SCALE_RANGE,
    SIZE_HEIGHT_SUFFIX,
    SIZE_WIDTH_SUFFIX,
    CustomSize,
    Field,
    ModelSpec,
)

ASSET_PREFIX = "asset:"
CUSTOM_SIZE = "custom"
ACCEPTED_IMAGE_FORMATS = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}
MAX_INPUT_PIXELS = 40_000_000
MIN_INPUT_SIDE = 64
MISSING_ASSET = gettext_lazy("That gallery item no longer exists.")
# Longest text accepted when the catalogue sets no limit: no model wants a megabyte of prompt.
DEFAULT_TEXT_LIMITS = {"prompt": 10_000, "text": 2_000}
OUT_OF_DATE = gettext_lazy("This form is out of date. Please reload the page and try again.")
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{8,64}$")


@dataclass(frozen=True)
class InputImage:
    """One input picture: a fresh upload (rewound, not stored yet) or a gallery item."""

    upload: UploadedFile | None = None
    asset: Asset | None = None


def visible_image_assets(user) -> Any:
    """Gallery pictures this person may use as input: the ones they may see."""
    from gallery.permissions import visible_assets

    return visible_assets(user).filter(kind=Asset.Kind.IMAGE)


# --- Upload checks -----------------------------------------------------------------------
def check_image_upload(upload: UploadedFile) -> None:
    """Raise ValidationError in plain words unless the file is a sound JPEG, PNG or WebP picture."""
    name = upload.name or _("The file")
    limit = settings.ATELIER_MAX_UPLOAD_BYTES
    if upload.size is not None and upload.size > limit:
        raise forms.ValidationError(
            _("“%(name)s” is larger than %(limit)s MB. Please choose a smaller file.")
            % {"name": name, "limit": limit // 1_000_000}, code="too_large")
    try:
        upload.seek(0)
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(upload, formats=list(ACCEPTED_IMAGE_FORMATS)) as image:
                width, height = image.size
                if width * height > MAX_INPUT_PIXELS:
                    raise forms.ValidationError(
                        _("“%(name)s” is too large: %(width)s × %(height)s pixels. Pictures can have at most "
                          "%(limit)s megapixels.") % {"name": name, "width": width, "height": height,
                                                      "limit": MAX_INPUT_PIXELS // 1_000_000},
                        code="too_many_pixels")
                if min(width, height) < MIN_INPUT_SIDE:
                    raise forms.ValidationError(
                        _("“%(name)s” is too small: %(width)s × %(height)s pixels. Pictures need at least "
                          "%(limit)s pixels on each side.") % {"name": name, "width": width, "height": height,
                                                               "limit": MIN_INPUT_SIDE},
                        code="too_small")
                image.verify()
            upload.seek(0)
            with Image.open(upload, formats=list(ACCEPTED_IMAGE_FORMATS)) as image:
                image.load()  # verify() skips JPEG pixel data; a truncated file fails here
    except forms.ValidationError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise forms.ValidationError(_("“%(name)s” is too large to open safely.") % {"name": name}, code="too_many_pixels") from None
    except UnidentifiedImageError:
        raise forms.ValidationError(_("“%(name)s” is not a JPEG, PNG or WebP picture.") % {"name": name}, code="not_an_image") from None
    except Exception:  # Pillow raises many kinds of error for a broken file
        raise forms.ValidationError(_("“%(name)s” seems damaged and could not be read as a picture.") % {"name": name},
                                    code="damaged") from None
    finally:
        upload.seek(0)


# --- Custom form fields --------------------------------------------------------------------
class MultipleFileInput(forms.FileInput):
    allow_multiple_selected = True


class ImageUploadField(forms.FileField):
    """Uploaded pictures, checked one by one. Cleans to a list (empty when nothing was sent)."""

    def __init__(self, *, multiple: bool, **kwargs: Any) -> None:
        widget = MultipleFileInput if multiple else forms.FileInput
        kwargs.setdefault("widget", widget(attrs={"accept": ",".join(ACCEPTED_IMAGE_FORMATS.values())}))
        super().__init__(required=False, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> list[UploadedFile]:
        items = data if isinstance(data, (list, tuple)) else [data]
        uploads: list[UploadedFile] = []
        errors: list[forms.ValidationError] = []
        for item in items:
            if not item:
                continue
            upload = super().clean(item, initial)
            try:
                check_image_upload(upload)
            except forms.ValidationError as error:
                errors.append(error)
            uploads.append(upload)
        if errors:
            raise forms.ValidationError(errors)
        return uploads

    def has_changed(self, initial: Any, data: Any) -> bool:
        return bool(data)


class GalleryChoiceField(forms.Field):
    """Ids of gallery pictures (several values, or one separated by commas). Cleans to Assets."""

    widget = forms.MultipleHiddenInput

    def __init__(self, *, queryset: Any, **kwargs: Any) -> None:
        self.queryset = queryset
        super().__init__(required=False, **kwargs)

    def to_python(self, value: Any) -> list[str]:
        return split_ids(value)

    def clean(self, value: Any) -> list[Asset]:
        ids = self.to_python(value)
        if not ids:
            return []
        try:
            wanted = [uuid.UUID(asset_id) for asset_id in ids]
        except ValueError:
            raise forms.ValidationError(MISSING_ASSET, code="missing") from None
        found = {asset.id: asset for asset in self.queryset.filter(id__in=wanted)}
        if any(asset_id not in found for asset_id in wanted):
            raise forms.ValidationError(MISSING_ASSET, code="missing")
        return [found[asset_id] for asset_id in wanted]


def split_ids(value: Any) -> list[str]:
    """Asset ids from form data: a list, or text separated by commas or spaces; no duplicates."""
    if value is None:
        return []
    items = value if isinstance(value, (list, tuple)) else [value]
    ids: list[str] = []
    for item in items:
        for part in re.split(r"[\s,]+", str(item)):
            part = part.strip()
            if part.startswith(ASSET_PREFIX):
                part = part[len(ASSET_PREFIX):]
            if part and part not in ids:
                ids.append(part)
    return ids


class LorasField(forms.CharField):
    """Lines of "URL [scale]" → [{"path", "scale"}]."""

    def __init__(self, *, max_items: int | None, **kwargs: Any) -> None:
        self.max_items = max_items
        kwargs.setdefault("widget", forms.Textarea(attrs={"rows": 3, "spellcheck": "false"}))
        super().__init__(**kwargs)

    def clean(self, value: Any) -> list[dict[str, Any]]:
        text = super().clean(value)
        loras: list[dict[str, Any]] = []
        for number, line in enumerate((text or "").splitlines(), start=1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            parts = line.split()
            if len(parts) > 2:
                raise forms.ValidationError(
                    _("Line %(number)s: write the LoRA address, then optionally one space and a strength such as 0.8.")
                    % {"number": number})
            path = parts[0]
            if (":" in path and not path.lower().startswith(("http://", "https://"))):
                raise forms.ValidationError(
                    _("Line %(number)s: the address must start with https:// or http://.") % {"number": number})
            scale = 1.0
            if len(parts) == 2:
                try:
                    scale = float(parts[1])
                except ValueError:
                    raise forms.ValidationError(
                        _("Line %(number)s: “%(value)s” is not a number. The strength is a number such as 0.8.")
                        % {"number": number, "value": parts[1]}) from None
                low, high = LORA_SCALE_RANGE
                if not low <= scale <= high:
                    raise forms.ValidationError(
                        _("Line %(number)s: the strength must be between %(low)s and %(high)s.")
                        % {"number": number, "low": _short_number(low), "high": _short_number(high)})
            loras.append({"path": path, "scale": scale})
        if self.max_items is not None and len(loras) > self.max_items:
            raise forms.ValidationError(_("Use at most %(limit)s LoRA add-ons (you gave %(count)s).")
                                        % {"limit": self.max_items, "count": len(loras)})
        if self.required and not loras:
            raise forms.ValidationError(_("Add at least one LoRA address."))
        return loras


# --- The form ----------------------------------------------------------------------------------
class GenerationForm(forms.Form):
    client_token = forms.CharField(widget=forms.HiddenInput, max_length=64)

    def __init__(self, spec: ModelSpec, user: Any, data: Any = None, files: Any = None,
                 initial: dict[str, Any] | None = None) -> None:
        self.spec = spec
        self.user = user
        combined = self.default_initial(spec)
        combined.update(initial or {})
        combined.setdefault("client_token", secrets.token_urlsafe(16))
        super().__init__(data=data, files=files, initial=combined)
        self.fields["client_token"].error_messages["required"] = OUT_OF_DATE
        self._form_names: dict[str, list[str]] = {}
        for spec_field in spec.fields:
            self._form_names[spec_field.name] = self._add_fields(spec_field)

    @staticmethod
    def default_initial(spec: ModelSpec) -> dict[str, Any]:
        initial: dict[str, Any] = {}
        for spec_field in spec.fields:
            default = spec_field.default
            if default is None:
                continue
            if spec_field.type == "size":
                initial.update(_size_initial(spec_field, default))
            else:
                initial[spec_field.name] = default
        return initial

    # -- building ------------------------------------------------------------------------
    def _add_fields(self, spec_field: Field) -> list[str]:
        name = spec_field.name
        # Catalogue words are English; studio/catalogue/strings.py lists them for translation.
        label = _(spec_field.label)
        common = {"label": label, "help_text": _(spec_field.help) if spec_field.help else "",
                  "required": spec_field.required}
        required_message = _("Please fill in “%(label)s”.") % {"label": label}
        kind = spec_field.type
        if kind in ("prompt", "text"):
            widget = (forms.Textarea(attrs={"rows": 5}) if kind == "prompt" else forms.TextInput())
            field: forms.Field = forms.CharField(widget=widget, max_length=spec_field.max if spec_field.max is not None
                                                 else DEFAULT_TEXT_LIMITS[kind], strip=kind == "prompt",
                                                 **common)
            if kind == "prompt":
                required_message = _("Please write a prompt: describe what you want to see.")
            field.error_messages["max_length"] = (
                _("Please shorten this to %(limit_value)d characters (it has %(show_value)d)."))
        elif kind in ("integer", "seed"):
            field = forms.IntegerField(min_value=spec_field.min, max_value=spec_field.max, **common)
            field.error_messages["invalid"] = _("Please enter a whole number.")
            if kind == "seed":
                field.widget.attrs.update({"data-roll-seed": True, "placeholder": _("Random")})
            elif spec_field.step:
                field.widget.attrs["step"] = spec_field.step
        elif kind == "number":
            field = forms.FloatField(min_value=spec_field.min, max_value=spec_field.max, **common)
            field.widget.attrs["step"] = spec_field.step or "any"
            field.error_messages["invalid"] = _("Please enter a number, such as %(example)s.") % {
                "example": formats.number_format(3.5)}
        elif kind == "boolean":
            field = forms.BooleanField(label=common["label"], help_text=common["help_text"], required=False)
        elif kind == "choice":
            field = self._choice_field(spec_field, common)
        elif kind == "size":
            return self._add_size_fields(spec_field, common)
        elif kind in ("image", "images"):
            return self._add_image_fields(spec_field)
        elif kind == "loras":
            field = LorasField(max_items=spec_field.max_items, **common)
        else:  # the catalogue validator knows every type; this is a programming error
            raise ValueError(f"No form field for catalogue type {kind!r}")
        _plain_limits(field, required_message)
        self.fields[name] = field
        return [name]

    def _choice_field(self, spec_field: Field, common: dict[str, Any]) -> forms.Field:
        by_text = {str(choice.value): choice.value for choice in spec_field.choices}
        choices: list[tuple[str, str]] = [(str(choice.value), _(choice.label)) for choice in spec_field.choices]
        if not spec_field.required and spec_field.default is None:
            choices.insert(0, ("", _(spec_field.blank_label or "Automatic")))
        return forms.TypedChoiceField(choices=choices, coerce=lambda text: by_text[text], empty_value=None,
                                      **common)

    def _add_size_fields(self, spec_field: Field, common: dict[str, Any]) -> list[str]:
        name = spec_field.name
        choices: list[tuple[str, str]] = [(str(choice.value), _(choice.label)) for choice in spec_field.choices]
        choices.append((CUSTOM_SIZE, _("Custom size")))
        if not spec_field.required and spec_field.default is None:
            choices.insert(0, ("", _(spec_field.blank_label or "Automatic")))
        select = forms.ChoiceField(choices=choices, **common)
        select.widget.attrs["data-size-select"] = True
        _plain_limits(select, _("Please choose an option for “%(label)s”.") % {"label": common["label"]})
        self.fields[name] = select
        for suffix, side_label in ((SIZE_WIDTH_SUFFIX, _("Width (pixels)")), (SIZE_HEIGHT_SUFFIX, _("Height (pixels)"))):
            side_field = forms.IntegerField(
                label=side_label, required=False, min_value=spec_field.min, max_value=spec_field.max,
                help_text=_("Only for a custom size: %(min)s to %(max)s pixels.") % {
                    "min": spec_field.min, "max": spec_field.max})
            side_field.widget.attrs["data-custom-size-of"] = name
            _plain_limits(side_field, "")
            self.fields[name + suffix] = side_field
        return [name, name + SIZE_WIDTH_SUFFIX, name + SIZE_HEIGHT_SUFFIX]

    def _add_image_fields(self, spec_field: Field) -> list[str]:
        name = spec_field.name
        label = _(spec_field.label)
        upload = ImageUploadField(multiple=spec_field.type == "images", label=label,
                                  help_text=_(spec_field.help) if spec_field.help else "")
        upload.widget.attrs["data-gallery-input"] = name + GALLERY_SUFFIX
        self.fields[name] = upload
        gallery = GalleryChoiceField(queryset=visible_image_assets(self.user),
                                     label=_("%(label)s from the gallery") % {"label": label})
        gallery.widget.attrs["data-gallery-for"] = name
        self.fields[name + GALLERY_SUFFIX] = gallery
        return [name, name + GALLERY_SUFFIX]

    # -- checking ------------------------------------------------------------------------
    def clean_client_token(self) -> str:
        token = self.cleaned_data["client_token"]
        if not _TOKEN.match(token):
            raise forms.ValidationError(OUT_OF_DATE)
        return token

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        for spec_field in self.spec.fields:
            if spec_field.type == "size":
                self._clean_size(spec_field, cleaned)
            elif spec_field.is_image:
                self._clean_images(spec_field, cleaned)
        return cleaned

    def _clean_size(self, spec_field: Field, cleaned: dict[str, Any]) -> None:
        name = spec_field.name
        if cleaned.get(name) != CUSTOM_SIZE:
            return
        missing = ((SIZE_WIDTH_SUFFIX, _("Enter the width in pixels, or choose one of the named sizes.")),
                   (SIZE_HEIGHT_SUFFIX, _("Enter the height in pixels, or choose one of the named sizes.")))
        for suffix, message in missing:
            if name + suffix in cleaned and cleaned[name + suffix] is None:
                self.add_error(name + suffix, message)

    def _clean_images(self, spec_field: Field, cleaned: dict[str, Any]) -> None:
        name = spec_field.name
        if name not in cleaned or name + GALLERY_SUFFIX not in cleaned:
            return  # an upload or gallery error is already shown
        count = len(cleaned[name]) + len(cleaned[name + GALLERY_SUFFIX])
        limit = spec_field.max_items or 1
        if spec_field.required and count == 0:
            self.add_error(name, _("Add a picture: upload one or choose one from the gallery.") if limit == 1 else
                           _("Add at least one picture: upload them or choose them from the gallery."))
        elif count > limit:
            if limit == 1:
                self.add_error(name, _("Use just one picture here: either upload one or choose one from the gallery."))
            else:
                self.add_error(name, _("You can use at most %(limit)s pictures here; you gave %(count)s.")
                               % {"limit": limit, "count": count})

    def _post_clean(self) -> None:
        """Errors on hidden inputs are shown where a person can see them."""
        super()._post_clean()
        for spec_field in self.spec.image_fields:
            hidden = spec_field.name + GALLERY_SUFFIX
            if hidden in self._errors:
                self._errors.setdefault(spec_field.name, self.error_class()).extend(self._errors.pop(hidden))
        if self._errors.pop("client_token", None) is not None:
            self._errors.setdefault(NON_FIELD_ERRORS, self.error_class(error_class="nonfield")).append(
                _("This form is out of date. Press Generate again to send it."))
            self.data = self.data.copy()
            self.data["client_token"] = secrets.token_urlsafe(16)

    # -- reading -------------------------------------------------------------------------
    def form_names(self, spec_field_name: str) -> list[str]:
        """The form inputs a catalogue field became (e.g. image_size, image_size_width, …)."""
        return list(self._form_names[spec_field_name])

    def basic_fields(self) -> list[BoundField]:
        return self._visible(advanced=False)

    def advanced_fields(self) -> list[BoundField]:
        return self._visible(advanced=True)

    def _visible(self, *, advanced: bool) -> list[BoundField]:
        bound: list[BoundField] = []
        for spec_field in self.spec.fields:
            if spec_field.advanced == advanced:
                bound += [self[name] for name in self._form_names[spec_field.name] if not self[name].is_hidden]
        return bound

    def _require_valid(self) -> None:
        if not self.is_bound or not self.is_valid():
            raise ValueError("Only a valid, submitted form has arguments.")

    def arguments(self) -> dict[str, Any]:
        """The fal input for this model, pictures left out (see `image_arguments`)."""
        self._require_valid()
        data = self.cleaned_data
        arguments: dict[str, Any] = {}
        for spec_field in self.spec.fields:
            name = spec_field.name
            if spec_field.is_image:
                continue
            value = data.get(name)
            if spec_field.type == "size":
                if value == CUSTOM_SIZE:
                    value = {"width": data[name + SIZE_WIDTH_SUFFIX], "height": data[name + SIZE_HEIGHT_SUFFIX]}
                elif not value:
                    value = None
            elif spec_field.type == "boolean":
                value = bool(value)
            elif spec_field.type in ("prompt", "text") and value == "":
                value = None
            elif spec_field.type == "loras" and not value:
                value = None
            if value is not None:
                arguments[name] = value
        return arguments

    def estimate_arguments(self) -> dict[str, Any]:
        """The fal input as far as the form allows, for the price on the Generate button.

        Works on a half-filled or unbound form: each input is checked on its own, and one
        that does not pass (or is empty) is left out, so the model's default applies.
        """
        arguments: dict[str, Any] = {}
        for spec_field in self.spec.fields:
            name = spec_field.name
            if spec_field.is_image or spec_field.type in ("prompt", "text", "loras"):
                continue
            value = self._lenient_value(name)
            if spec_field.type == "size":
                if value == CUSTOM_SIZE:
                    width = self._lenient_value(name + SIZE_WIDTH_SUFFIX)
                    height = self._lenient_value(name + SIZE_HEIGHT_SUFFIX)
                    value = {"width": width, "height": height} if width and height else None
                elif not value:
                    value = None
            elif spec_field.type == "boolean":
                value = bool(value)
            if value is not None and value != "":
                arguments[name] = value
        return arguments

    def _lenient_value(self, name: str) -> Any:
        try:
            return self.fields[name].clean(self[name].value())
        except forms.ValidationError:
            return None

    def prompt(self) -> str:
        """The prompt as typed ("" for a model without one), for lists and search."""
        self._require_valid()
        prompt_field = self.spec.prompt_field
        return self.cleaned_data.get(prompt_field.name, "") if prompt_field else ""

    def image_field_names(self) -> dict[str, str]:
        """Each picture field (the keys of `input_images()`) → the fal input it is sent as."""
        return {spec_field.name: spec_field.name for spec_field in self.spec.image_fields}

    def input_images(self) -> dict[str, list[InputImage]]:
        """Chosen gallery items first, then uploads, per picture field (empty lists included)."""
        self._require_valid()
        images: dict[str, list[InputImage]] = {}
        for spec_field in self.spec.image_fields:
            chosen = [InputImage(asset=asset) for asset in self.cleaned_data[spec_field.name + GALLERY_SUFFIX]]
            uploads = []
            for upload in self.cleaned_data[spec_field.name]:
                upload.seek(0)
                uploads.append(InputImage(upload=upload))
            images[spec_field.name] = chosen + uploads
        return images

    def image_arguments(self, references: dict[str, list[str]]) -> dict[str, Any]:
        """fal inputs for stored pictures: one reference for an `image` field, a list for `images`.

        `references` maps picture fields to references such as "asset:<uuid>"; empty ones are left out.
        """
        arguments: dict[str, Any] = {}
        for spec_field in self.spec.image_fields:
            refs = list(references.get(spec_field.name) or [])
            if refs:
                arguments[spec_field.name] = refs if spec_field.type == "images" else refs[0]
        return arguments

    def chosen_assets(self) -> dict[str, list[Asset]]:
        """Gallery pictures currently chosen per picture field (for thumbnails), unknown ones skipped."""
        chosen: dict[str, list[Asset]] = {}
        for spec_field in self.spec.image_fields:
            ids = []
            for asset_id in split_ids(self[spec_field.name + GALLERY_SUFFIX].value()):
                try:
                    ids.append(uuid.UUID(asset_id))
                except ValueError:
                    continue
            found = {asset.id: asset for asset in visible_image_assets(self.user).filter(id__in=ids)} if ids else {}
            chosen[spec_field.name] = [found[asset_id] for asset_id in ids if asset_id in found]
        return chosen

    # -- upstream errors -----------------------------------------------------------------------
    def apply_upstream_errors(self, messages_by_field: dict[str, list[str]]) -> None:
        """Show fal's 422 messages next to the inputs they are about (unknown ones above the form)."""
        if self._errors is None:
            self.full_clean()
        if not hasattr(self, "cleaned_data"):
            self.cleaned_data = {}
        for key, messages in messages_by_field.items():
            if isinstance(messages, str):
                messages = [messages]
            target = self._form_field_for(key)
            for message in messages:
                if target is None and key:
                    self.add_error(None, f"{message} ({key})")
                else:
                    self.add_error(target, message)

    def _form_field_for(self, key: str) -> str | None:
        name = str(key or "").split(".")[0]
        if name in self._form_names:
            return name
        return None


# --- Reuse --------------------------------------------------------------------------------------
def initial_from_arguments(spec: ModelSpec, arguments: dict[str, Any], *, new_seed: bool = False) -> dict[str, Any]:
    """Form initial data from stored arguments: "Reuse settings" (same seed) or "Generate again" (new seed).

    Pictures given as "asset:<uuid>" become chosen gallery items; other values that no
    longer fit the model are left out, so the model's defaults apply.
    """
    initial: dict[str, Any] = {}
    for spec_field in spec.fields:
        name = spec_field.name
        if name not in arguments:
            continue
        value = arguments[name]
        kind = spec_field.type
        if kind in ("prompt", "text") and isinstance(value, str):
            initial[name] = value
        elif kind in ("integer", "seed") and isinstance(value, int) and not isinstance(value, bool):
            if kind == "seed" and new_seed:
                continue
            initial[name] = value
        elif kind == "number" and isinstance(value, (int, float)) and not isinstance(value, bool):
            initial[name] = value
        elif kind == "boolean" and isinstance(value, bool):
            initial[name] = value
        elif kind == "choice" and spec_field.has_choice(value):
            initial[name] = value
        elif kind == "size":
            if isinstance(value, dict) and isinstance(value.get("width"), int) and isinstance(value.get("height"), int):
                initial.update(_size_initial(spec_field, CustomSize(value["width"], value["height"])))
            elif isinstance(value, str) and spec_field.has_choice(value):
                initial.update(_size_initial(spec_field, value))
        elif kind == "loras" and isinstance(value, list):
            initial[name] = "\n".join(_lora_line(item) for item in value if isinstance(item, dict) and item.get("path"))
        elif spec_field.is_image:
            refs = value if isinstance(value, list) else [value]
            ids = [ref[len(ASSET_PREFIX):] for ref in refs if isinstance(ref, str) and ref.startswith(ASSET_PREFIX)]
            if ids:
                initial[name + GALLERY_SUFFIX] = ids
    return initial


def _size_initial(spec_field: Field, value: Any) -> dict[str, Any]:
    if isinstance(value, CustomSize):
        return {spec_field.name: CUSTOM_SIZE, spec_field.name + SIZE_WIDTH_SUFFIX: value.width,
                spec_field.name + SIZE_HEIGHT_SUFFIX: value.height}
    return {spec_field.name: value}


def _lora_line(item: dict[str, Any]) -> str:
    scale = item.get("scale", 1)
    if not isinstance(scale, (int, float)) or isinstance(scale, bool) or scale == 1:
        return str(item["path"])
    return f"{item['path']} {scale:g}"


def _short_number(value: float) -> str:
    """4.0 → "4", 0.5 → "0.5" (or "0,5" in Vietnamese): like `:g`, in the reader's number format."""
    return str(int(value)) if float(value).is_integer() else formats.number_format(value)


def _plain_limits(field: forms.Field, required_message: str) -> None:
    """Django's messages, in the words the rest of Atelier uses."""
    if required_message:
        field.error_messages["required"] = required_message
    field.error_messages.update({
        "min_value": _("The lowest allowed value is %(limit_value)s."),
        "max_value": _("The highest allowed value is %(limit_value)s."),
        "invalid_choice": _("Please choose one of the options."),
    })
