"""The audit tests use the gallery's item factory (real stored files)."""

from tests.gallery.conftest import make_item  # noqa: F401
