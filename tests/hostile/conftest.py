"""Hostile-input fixtures: the studio's simulator-backed jobs and the gallery's item factory.

Fixtures are borrowed from the rooms' own conftests so these tests build state exactly the
way the rest of the suite does.
"""

from __future__ import annotations

import pytest

from tests.gallery.conftest import make_item  # noqa: F401  (fixture)
from tests.studio.conftest import fal_service, upstream_sleeps  # noqa: F401  (fixtures)


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """The people fixtures hash a password each; a fast hasher keeps this suite quick."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
