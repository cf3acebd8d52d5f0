"""My settings: default visibility for new work, the person's role, and password change."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from accounts.roles import default_visibility

pytestmark = pytest.mark.django_db


def test_my_settings_shows_the_role(member_client, viewer_client):
    assert "Member." in member_client.get("/team/me/").content.decode()
    page = viewer_client.get("/team/me/").content.decode()
    assert "Viewer." in page and "cannot generate" in page


def test_the_default_visibility_is_saved(member_client, member):
    page = member_client.get("/team/me/").content.decode()
    assert 'value="team" id="id_default_visibility_0" required checked' in page
    response = member_client.post("/team/me/", {"default_visibility": "private"}, follow=True)
    assert "only you and the administrators see it" in response.content.decode()
    assert default_visibility(get_user_model().objects.get(pk=member.pk)) == "private"
    member_client.post("/team/me/", {"default_visibility": "team"})
    assert default_visibility(get_user_model().objects.get(pk=member.pk)) == "team"


def test_a_bad_visibility_is_refused(member_client, member):
    response = member_client.post("/team/me/", {"default_visibility": "everyone"})
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert default_visibility(get_user_model().objects.get(pk=member.pk)) == "team"


def test_my_settings_needs_a_login(client, member):
    assert client.get("/team/me/")["Location"] == "/login/?next=/team/me/"
    assert client.get("/team/password/")["Location"] == "/login/?next=/team/password/"


def test_changing_the_password(member_client, member, password):
    other_browser = Client()
    other_browser.force_login(member)
    new = "violet-harbour-kettle-58"
    response = member_client.post("/team/password/", {
        "old_password": password, "new_password1": new, "new_password2": new,
    }, follow=True)
    assert response.redirect_chain[-1][0] == "/team/me/"
    assert "Your password is changed." in response.content.decode()
    member.refresh_from_db()
    assert member.check_password(new)
    assert member_client.get("/team/me/").status_code == 200  # this browser stays logged in
    assert other_browser.get("/team/me/").status_code == 302  # the others are logged out


def test_changing_the_password_needs_the_current_one(member_client, member, password):
    response = member_client.post("/team/password/", {
        "old_password": "wrong", "new_password1": "violet-harbour-kettle-58", "new_password2": "violet-harbour-kettle-58",
    })
    assert response.status_code == 200
    assert "Your old password was entered incorrectly" in response.content.decode()
    member.refresh_from_db()
    assert member.check_password(password)
