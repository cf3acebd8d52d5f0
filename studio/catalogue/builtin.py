"""The built-in catalogue: `builtin.toml`, read once per process."""

from __future__ import annotations

import functools
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from studio.catalogue.spec import CatalogueError, FieldLibrary, ModelSpec, spec_from_dict

BUILTIN_PATH = Path(__file__).with_name("builtin.toml")
TOP_LEVEL_KEYS = frozenset({"templates", "choice_labels", "models"})


@dataclass(frozen=True)
class Catalogue:
    library: FieldLibrary
    models: tuple[ModelSpec, ...]

    @property
    def ids(self) -> frozenset[str]:
        return frozenset(spec.id for spec in self.models)


@functools.cache
def builtin_catalogue() -> Catalogue:
    return parse_catalogue(BUILTIN_PATH.read_text(encoding="utf-8"), source=BUILTIN_PATH.name)


def parse_catalogue(text: str, *, source: str = "catalogue", builtin: bool = True) -> Catalogue:
    """Read a catalogue file's text. Any problem raises `CatalogueError` naming the entry."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise CatalogueError(f"is not valid TOML ({error}).", entry=source, key="") from None
    unknown = sorted(set(data) - TOP_LEVEL_KEYS)
    if unknown:
        raise CatalogueError(f"unknown table {unknown[0]!r}; expected [templates], [choice_labels] and [[models]].",
                             entry=source, key="")
    library = FieldLibrary(
        templates=_templates(data.get("templates", {}), source),
        choice_labels=_labels(data.get("choice_labels", {}), source),
    )
    models: list[ModelSpec] = []
    seen: set[str] = set()
    for index, entry in enumerate(data.get("models", []), start=1):
        model_id = entry.get("id") if isinstance(entry, Mapping) else None
        name = f"{source}, model “{model_id}”" if model_id else f"{source}, model number {index}"
        spec = spec_from_dict(entry, builtin, library=library, entry=name)
        if spec.id in seen:
            raise CatalogueError("this id appears twice.", entry=name, key="id")
        seen.add(spec.id)
        models.append(spec)
    return Catalogue(library=library, models=tuple(models))


def _templates(raw: Any, source: str) -> dict[str, dict[str, Any]]:
    if not isinstance(raw, Mapping) or not all(isinstance(value, Mapping) for value in raw.values()):
        raise CatalogueError("[templates] must hold one table per shared field.", entry=source, key="")
    for name, template in raw.items():
        if "use" in template:
            raise CatalogueError(f"shared field “{name}” cannot itself “use” another one.", entry=source, key="")
    return {name: dict(template) for name, template in raw.items()}


def _labels(raw: Any, source: str) -> dict[str, str]:
    if not isinstance(raw, Mapping) or not all(isinstance(value, str) for value in raw.values()):
        raise CatalogueError("[choice_labels] must map values to labels (text).", entry=source, key="")
    return dict(raw)
