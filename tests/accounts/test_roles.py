"""Roles: every user has a profile, superusers are administrators, who may generate."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser
from django.http import Http404, HttpResponse
from django.test import RequestFactory

from accounts.models import Profile
from accounts.roles import (
    administrator_required,
    can_generate,
    default_visibility,
    is_administrator,
    profile_for,
    role_of,
)

pytestmark = pytest.mark.django_db


def test_every_new_user_gets_a_member_profile(member):
    assert Profile.objects.get(user=member).role == "member"
    assert role_of(member) == "member"


def test_a_superuser_is_an_administrator(administrator):
    assert Profile.objects.get(user=administrator).role == "administrator"
    assert is_administrator(administrator)


def test_a_superuser_is_an_administrator_whatever_the_profile_says(administrator):
    Profile.objects.filter(user=administrator).update(role="viewer")
    administrator = get_user_model().objects.get(pk=administrator.pk)
    assert role_of(administrator) == "administrator"
    assert can_generate(administrator)


def test_the_first_run_administrator_is_an_administrator(client):
    client.post("/setup/", {"username": "ada", "email": "", "password1": "quiet-harbour-lamp-7",
                            "password2": "quiet-harbour-lamp-7"})
    user = get_user_model().objects.get(username="ada")
    assert role_of(user) == "administrator"
    assert Profile.objects.get(user=user).role == "administrator"
    assert client.get("/team/").status_code == 200


@pytest.mark.parametrize(("role", "may_generate"), [("administrator", True), ("member", True), ("viewer", False)])
def test_who_may_generate(member, role, may_generate):
    member.profile.role = role
    member.profile.save()
    assert can_generate(member) is may_generate


def test_nobody_deactivated_or_anonymous_may_generate_or_administer(administrator, member):
    for user in (administrator, member):
        user.is_active = False
        user.save()
        assert not can_generate(user)
    assert not is_administrator(administrator)
    assert role_of(administrator) == "administrator"  # still shown on the Team page
    assert not can_generate(AnonymousUser())
    assert not is_administrator(AnonymousUser())
    assert role_of(AnonymousUser()) == ""


def test_the_viewer_fixture_is_a_viewer(viewer):
    assert role_of(viewer) == "viewer"
    assert not can_generate(viewer)
    assert not is_administrator(viewer)


def test_new_work_is_visible_to_the_team_unless_the_person_chose_private(member):
    assert default_visibility(member) == "team"
    member.profile.default_visibility = Profile.Visibility.PRIVATE
    member.profile.save()
    assert default_visibility(get_user_model().objects.get(pk=member.pk)) == "private"


def test_a_user_without_a_profile_gets_one_on_first_use(django_user_model):
    # bulk_create sends no signals, like users made before the app existed.
    django_user_model.objects.bulk_create([
        django_user_model(username="old-boss", is_superuser=True),
        django_user_model(username="old-hand"),
    ])
    boss = django_user_model.objects.get(username="old-boss")
    hand = django_user_model.objects.get(username="old-hand")
    assert not Profile.objects.filter(user__in=[boss, hand]).exists()
    assert role_of(hand) == "member"
    assert profile_for(boss).role == "administrator"
    assert Profile.objects.filter(user__in=[boss, hand]).count() == 2


def test_the_migration_gives_existing_users_profiles(django_user_model):
    from importlib import import_module

    from django.apps import apps
    from django.db import connection

    migration = import_module("accounts.migrations.0001_initial")
    django_user_model.objects.bulk_create([
        django_user_model(username="old-boss", is_superuser=True),
        django_user_model(username="old-hand"),
    ])
    migration.create_profiles_for_existing_users(apps, SimpleNamespace(connection=connection))
    roles = dict(Profile.objects.values_list("user__username", "role"))
    assert roles == {"old-boss": "administrator", "old-hand": "member"}


def test_administrator_required_answers_404_to_others_and_sends_visitors_to_log_in(administrator, member, viewer):
    @administrator_required
    def view(request):
        return HttpResponse("ok")

    factory = RequestFactory()

    def call(user):
        request = factory.get("/team/")
        request.user = user
        return view(request)

    assert call(administrator).status_code == 200

    for user in (member, viewer):
        with pytest.raises(Http404):
            call(user)
    response = call(AnonymousUser())
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")
