"""Validating a submit body against a ModelSpec, with fal's (pydantic-style) 422 entries.

Stricter than fal in one way: numbers given as strings are rejected instead of coerced,
so client bugs show up here rather than upstream.
"""

from __future__ import annotations

from typing import Any

from .models import Field, ModelSpec

ErrorEntry = dict[str, Any]
Loc = tuple[str | int, ...]

_URL_PREFIXES = ("http://", "https://", "data:")
_MIN_SIDE, _MAX_SIDE = 64, 4096


def validate_input(spec: ModelSpec, body: dict[str, Any]) -> list[ErrorEntry]:
    """Return fal-style error entries; an empty list means the body is acceptable.

    ``null`` for an optional field counts as absent, as in fal's Optional fields.
    Fields the model does not know are ignored, as fal ignores them.
    """
    errors: list[ErrorEntry] = []
    for name in spec.required:
        if name not in body:
            errors.append(_error(("body", name), "Field required", "missing"))
    for name, field_spec in spec.fields.items():
        if name not in body:
            continue
        value = body[name]
        if value is None and name not in spec.required:
            continue
        errors.extend(_check(spec, field_spec, value, ("body", name)))
    return errors


def _error(loc: Loc, msg: str, kind: str) -> ErrorEntry:
    return {"loc": list(loc), "msg": msg, "type": kind}


def _check(spec: ModelSpec, field_spec: Field, value: Any, loc: Loc) -> list[ErrorEntry]:
    kind = field_spec.kind
    if kind == "str":
        return [] if isinstance(value, str) else [_error(loc, "Input should be a valid string", "string_type")]
    if kind == "bool":
        return [] if isinstance(value, bool) else [_error(loc, "Input should be a valid boolean", "bool_type")]
    if kind == "int":
        if isinstance(value, bool) or not isinstance(value, int):
            return [_error(loc, "Input should be a valid integer", "int_type")]
        return _range(field_spec, value, loc)
    if kind == "float":
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return [_error(loc, "Input should be a valid number", "float_type")]
        return _range(field_spec, value, loc)
    if kind == "enum":
        if isinstance(value, str) and value in field_spec.choices:
            return []
        return [_error(loc, f"Input should be {_quoted(field_spec.choices)}", "literal_error")]
    if kind == "image_url":
        return _check_url(value, loc)
    if kind == "image_urls":
        return _check_urls(value, loc)
    if kind == "image_size":
        return _check_image_size(spec, value, loc)
    if kind == "loras":
        return _check_loras(value, loc)
    raise AssertionError(f"unhandled field kind {kind}")


def _range(field_spec: Field, value: float, loc: Loc) -> list[ErrorEntry]:
    if field_spec.minimum is not None and value < field_spec.minimum:
        return [_error(loc, f"Input should be greater than or equal to {_num(field_spec.minimum)}",
                       "greater_than_equal")]
    if field_spec.maximum is not None and value > field_spec.maximum:
        return [_error(loc, f"Input should be less than or equal to {_num(field_spec.maximum)}",
                       "less_than_equal")]
    return []


def _check_url(value: Any, loc: Loc) -> list[ErrorEntry]:
    if not isinstance(value, str):
        return [_error(loc, "Input should be a valid string", "string_type")]
    if not value.startswith(_URL_PREFIXES):
        return [_error(loc, "Input should be a URL starting with http://, https:// or data:", "value_error")]
    return []


def _check_urls(value: Any, loc: Loc) -> list[ErrorEntry]:
    if not isinstance(value, list):
        return [_error(loc, "Input should be a valid list", "list_type")]
    if not value:
        return [_error(loc, "List should have at least 1 item after validation, not 0", "too_short")]
    errors: list[ErrorEntry] = []
    for index, item in enumerate(value):
        errors.extend(_check_url(item, (*loc, index)))
    return errors


def _check_image_size(spec: ModelSpec, value: Any, loc: Loc) -> list[ErrorEntry]:
    if isinstance(value, str):
        if value in spec.image_sizes:
            return []
        return [_error(loc, f"Input should be {_quoted(tuple(spec.image_sizes))} or a {{width, height}} object",
                       "literal_error")]
    if not isinstance(value, dict):
        return [_error(loc, "Input should be an image size name or a {width, height} object", "value_error")]
    errors: list[ErrorEntry] = []
    for side in ("width", "height"):
        # fal's ImageSize defaults a missing side to 512.
        number = value.get(side, 512)
        side_loc = (*loc, side)
        if isinstance(number, bool) or not isinstance(number, int):
            errors.append(_error(side_loc, "Input should be a valid integer", "int_type"))
        else:
            errors.extend(_range(Field("int", minimum=_MIN_SIDE, maximum=_MAX_SIDE), number, side_loc))
    if errors:
        return errors
    pixels = value.get("width", 512) * value.get("height", 512)
    if spec.min_pixels is not None and spec.max_pixels is not None:
        if not spec.min_pixels <= pixels <= spec.max_pixels:
            return [_error(loc, f"Total pixels (width x height) should be between {spec.min_pixels} "
                                f"and {spec.max_pixels}, not {pixels}", "value_error")]
    return []


def _check_loras(value: Any, loc: Loc) -> list[ErrorEntry]:
    if not isinstance(value, list):
        return [_error(loc, "Input should be a valid list", "list_type")]
    errors: list[ErrorEntry] = []
    for index, item in enumerate(value):
        item_loc = (*loc, index)
        if not isinstance(item, dict):
            errors.append(_error(item_loc, "Input should be an object with a path", "model_type"))
            continue
        if "path" not in item:
            errors.append(_error((*item_loc, "path"), "Field required", "missing"))
        elif not isinstance(item["path"], str):
            errors.append(_error((*item_loc, "path"), "Input should be a valid string", "string_type"))
        scale = item.get("scale")
        if scale is not None and (isinstance(scale, bool) or not isinstance(scale, (int, float))):
            errors.append(_error((*item_loc, "scale"), "Input should be a valid number", "float_type"))
    return errors


def _quoted(choices: tuple[str, ...]) -> str:
    quoted = [f"'{choice}'" for choice in choices]
    return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " or " + quoted[-1]


def _num(number: float) -> str:
    return str(int(number)) if float(number).is_integer() else str(number)
