"""People for tests: an administrator, a member, and an outsider (a member of nobody's stuff).

Each `*_client` fixture is its own logged-in `django.test.Client`, so one test can act
as several people at once (e.g. a member creates, an outsider tries to look).
"""

from __future__ import annotations

import pytest
from django.test import Client

PASSWORD = "a-long-test-passphrase-42"


@pytest.fixture
def password() -> str:
    """The password every fixture user has, for tests that log in through a form."""
    return PASSWORD


@pytest.fixture
def administrator(django_user_model):
    return django_user_model.objects.create_superuser("ada", "ada@example.com", PASSWORD)


@pytest.fixture
def member(django_user_model):
    return django_user_model.objects.create_user("mina", "mina@example.com", PASSWORD)


@pytest.fixture
def outsider(django_user_model):
    return django_user_model.objects.create_user("otto", "otto@example.com", PASSWORD)


def _client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def administrator_client(administrator) -> Client:
    return _client_for(administrator)


@pytest.fixture
def member_client(member) -> Client:
    return _client_for(member)


@pytest.fixture
def outsider_client(outsider) -> Client:
    return _client_for(outsider)


@pytest.fixture
def viewer(django_user_model):
    """Sees what the team shares, cannot generate (accounts.roles)."""
    from accounts.models import Profile

    user = django_user_model.objects.create_user("vera", "vera@example.com", PASSWORD)
    user.profile.role = Profile.Role.VIEWER
    user.profile.save(update_fields=["role"])
    return user


@pytest.fixture
def viewer_client(viewer) -> Client:
    return _client_for(viewer)
