"""A system check: the built-in catalogue must load, or the studio would fail on first use."""

from __future__ import annotations

from django.core.checks import Error, register

from studio.catalogue.builtin import builtin_catalogue
from studio.catalogue.spec import CatalogueError


@register()
def check_builtin_catalogue(app_configs=None, **kwargs) -> list:
    try:
        builtin_catalogue()
    except CatalogueError as error:
        return [Error(f"The built-in model catalogue cannot be used: {error}", id="atelier.E020",
                      hint="Fix studio/catalogue/builtin.toml (docs/catalogue.md describes every setting).")]
    return []
