"""The model catalogue: the built-in models of `builtin.toml`, plus the administrators' entries.

An administrator's `CatalogueEntry` with the id of a built-in model can hide it; an entry
with a new id adds a model described by its own field list. The TOML file is read once
per process; the database entries are read on every call, in one query, so a change in
the admin shows at once on every worker.
"""

from __future__ import annotations

import logging
from dataclasses import replace

from studio.catalogue import checks  # noqa: F401  (registers the catalogue's system check)
from studio.catalogue.builtin import Catalogue, builtin_catalogue, parse_catalogue
from studio.catalogue.spec import (
    FIELD_TYPES,
    CatalogueError,
    Choice,
    CustomSize,
    Field,
    FieldLibrary,
    Kind,
    ModelSpec,
    Output,
    spec_from_dict,
)

__all__ = [
    "FIELD_TYPES", "Catalogue", "CatalogueError", "Choice", "CustomSize", "Field", "FieldLibrary", "Kind",
    "ModelSpec", "Output", "all_models", "builtin_catalogue", "builtin_ids", "get_model", "models_by_kind",
    "parse_catalogue", "spec_from_dict",
]

logger = logging.getLogger(__name__)


def builtin_ids() -> frozenset[str]:
    return builtin_catalogue().ids


def all_models(include_hidden: bool = False) -> list[ModelSpec]:
    """Built-in models in catalogue order, then the added ones by title.

    With `include_hidden`, hidden models are listed too, with `spec.hidden` set.
    """
    from studio.models import CatalogueEntry

    builtins = builtin_catalogue().models
    entries = list(CatalogueEntry.objects.order_by("title", "model_id"))
    hidden_ids = {entry.model_id for entry in entries if entry.hidden}
    models: list[ModelSpec] = []
    for spec in builtins:
        if spec.id in hidden_ids:
            if include_hidden:
                models.append(replace(spec, hidden=True))
        else:
            models.append(spec)
    known = {spec.id for spec in builtins}
    for entry in entries:
        if entry.model_id in known or (entry.hidden and not include_hidden):
            continue
        spec = _entry_spec(entry)
        if spec is not None:
            models.append(spec)
    return models


def get_model(model_id: str) -> ModelSpec | None:
    """The visible model with this id, or None (unknown or hidden)."""
    from studio.models import CatalogueEntry

    entry = CatalogueEntry.objects.filter(model_id=model_id).first()
    if entry is not None and entry.hidden:
        return None
    builtin = next((spec for spec in builtin_catalogue().models if spec.id == model_id), None)
    if builtin is not None:
        return builtin
    return _entry_spec(entry) if entry is not None else None


def models_by_kind() -> list[tuple[str, list[ModelSpec]]]:
    """Visible models grouped under their kind's label, kinds in a fixed order; empty kinds left out."""
    models = all_models()
    groups: list[tuple[str, list[ModelSpec]]] = []
    for kind in Kind:
        members = [spec for spec in models if spec.kind == kind]
        if members:
            groups.append((kind.label, members))
    return groups


def _entry_spec(entry) -> ModelSpec | None:
    """An administrator's model, or None when its description has become invalid (logged)."""
    try:
        spec = spec_from_dict(entry.spec_data(), builtin=False)
    except CatalogueError as error:
        logger.warning("Catalogue entry %s is skipped: %s", entry.model_id, error)
        return None
    return replace(spec, hidden=entry.hidden)
