"""The Team page: adding people, one-time links, roles, deactivation."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from unittest import mock

import pytest
from django.contrib.auth import SESSION_KEY, get_user_model
from django.test import Client

from accounts.links import SetPasswordLinkTokens
from accounts.roles import can_generate, role_of
from studio.models import Generation

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "amber-lantern-river-93"


def add_person(client: Client, **fields) -> str:
    """Adds someone through the form; returns the one-time link the page shows."""
    data = {"username": "nora", "name": "Nora Quill", "email": "nora@example.com", "role": "member", **fields}
    response = client.post("/team/add/", data, follow=True)
    assert response.status_code == 200
    return link_on(response.content.decode())


def link_on(page: str) -> str:
    match = re.search(r'id="one-time-link"[^>]*value="([^"]+)"', page)
    assert match, "no one-time link on the page"
    return match.group(1).replace("http://testserver", "")


def set_password_through(link: str, password: str = NEW_PASSWORD) -> tuple[Client, object]:
    visitor = Client()
    opened = visitor.get(link)
    assert opened.status_code == 302  # the token moves into the session, off the URL
    form_url = opened["Location"]
    assert form_url.endswith("/set-password/")
    assert "Choose your password" in visitor.get(form_url).content.decode()
    done = visitor.post(form_url, {"new_password1": password, "new_password2": password})
    return visitor, done


# --- Who may come in ------------------------------------------------------------------------
def test_administrators_see_the_team_page(administrator_client, member):
    page = administrator_client.get("/team/").content.decode()
    assert "Add a person" in page
    assert "mina" in page and "mina@example.com" in page


@pytest.mark.parametrize("who", ["member_client", "viewer_client", "outsider_client"])
def test_everyone_else_gets_not_found(request, who, administrator):
    client = request.getfixturevalue(who)
    assert client.get("/team/").status_code == 404
    assert client.post("/team/add/", {"username": "x", "role": "member"}).status_code == 404
    assert client.post(f"/team/people/{administrator.username}/deactivate/").status_code == 404
    assert administrator.__class__.objects.get(pk=administrator.pk).is_active


def test_visitors_are_sent_to_log_in(client, administrator):
    response = client.get("/team/")
    assert response.status_code == 302
    assert response["Location"] == "/login/?next=/team/"


# --- Adding someone and their one-time link ----------------------------------------------------
def test_adding_a_person_gives_a_link_that_sets_their_password_once(administrator_client):
    link = add_person(administrator_client, role="viewer")
    nora = get_user_model().objects.get(username="nora")
    assert nora.get_full_name() == "Nora Quill"
    assert role_of(nora) == "viewer"
    assert not nora.has_usable_password()

    visitor, done = set_password_through(link)
    assert done.status_code == 302
    assert done["Location"] == "/"
    assert visitor.session[SESSION_KEY] == str(nora.pk)  # logged in straight away
    nora.refresh_from_db()
    assert nora.check_password(NEW_PASSWORD)

    # The same link again: it no longer works, and says whom to ask.
    again = Client().get(link)
    assert again.status_code == 200
    page = again.content.decode()
    assert "This link no longer works" in page
    assert "Ask an administrator" in page
    assert 'name="new_password1"' not in page


def test_the_team_page_shows_the_link_once_and_says_it_works_once(administrator_client):
    response = administrator_client.post("/team/add/", {"username": "nora", "role": "member"}, follow=True)
    page = response.content.decode()
    assert "works once" in page
    assert "3 days" in page
    assert "/team/welcome/" in page
    assert "/team/welcome/" not in administrator_client.get("/team/").content.decode()


def test_adding_someone_twice_is_refused_in_plain_words(administrator_client, member):
    response = administrator_client.post("/team/add/", {"username": "MINA", "role": "member"})
    assert response.status_code == 200
    assert "Someone already has this username" in response.content.decode()
    assert get_user_model().objects.filter(username__iexact="mina").count() == 1


def test_a_link_expires(administrator_client, settings):
    link = add_person(administrator_client)
    later = datetime.now() + timedelta(seconds=settings.PASSWORD_RESET_TIMEOUT + 60)
    with mock.patch.object(SetPasswordLinkTokens, "_now", return_value=later):
        response = Client().get(link)
    assert response.status_code == 200
    assert "This link no longer works" in response.content.decode()


def test_a_forged_or_mangled_link_does_not_work(administrator_client):
    link = add_person(administrator_client)
    for bad in (link[:-3] + "abc/", link.replace("/welcome/", "/welcome/Zm9v"), "/team/welcome/xx/yy/"):
        assert "This link no longer works" in Client().get(bad).content.decode()


def test_a_new_link_replaces_the_old_one_for_someone_without_a_password(administrator_client):
    old = add_person(administrator_client)
    response = administrator_client.post("/team/people/nora/link/", follow=True)
    new = link_on(response.content.decode())
    assert new != old
    assert "This link no longer works" in Client().get(old).content.decode()
    _, done = set_password_through(new)
    assert done.status_code == 302


def test_a_new_link_for_someone_with_a_password_keeps_it_until_used(administrator_client, member, password):
    response = administrator_client.post(f"/team/people/{member.username}/link/", follow=True)
    assert "current password keeps working" in response.content.decode()
    member.refresh_from_db()
    assert member.check_password(password)
    _, done = set_password_through(link_on(response.content.decode()))
    assert done.status_code == 302
    member.refresh_from_db()
    assert member.check_password(NEW_PASSWORD)


def test_set_password_uses_djangos_validators(administrator_client):
    link = add_person(administrator_client)
    visitor = Client()
    form_url = visitor.get(link)["Location"]
    response = visitor.post(form_url, {"new_password1": "12345678", "new_password2": "12345678"})
    assert response.status_code == 200
    assert "This password is too common." in response.content.decode()
    assert not get_user_model().objects.get(username="nora").has_usable_password()


# --- Roles --------------------------------------------------------------------------------
def test_an_administrator_changes_someones_role(administrator_client, member):
    response = administrator_client.post(f"/team/people/{member.username}/role/", {"role": "viewer"}, follow=True)
    assert "is now a viewer" in response.content.decode()
    member = get_user_model().objects.get(pk=member.pk)
    assert role_of(member) == "viewer"
    assert not can_generate(member)


def test_making_someone_an_administrator_gives_them_the_admin_too(administrator_client, member):
    administrator_client.post(f"/team/people/{member.username}/role/", {"role": "administrator"})
    member = get_user_model().objects.get(pk=member.pk)
    assert role_of(member) == "administrator"
    assert member.is_staff and member.is_superuser

    administrator_client.post(f"/team/people/{member.username}/role/", {"role": "member"})
    member = get_user_model().objects.get(pk=member.pk)
    assert role_of(member) == "member"
    assert not member.is_staff and not member.is_superuser


def test_an_administrator_cannot_change_their_own_role(administrator_client, administrator):
    response = administrator_client.post(f"/team/people/{administrator.username}/role/", {"role": "member"},
                                         follow=True)
    assert "can’t change your own role" in response.content.decode()
    assert role_of(get_user_model().objects.get(pk=administrator.pk)) == "administrator"


def test_an_unknown_role_is_refused(administrator_client, member):
    administrator_client.post(f"/team/people/{member.username}/role/", {"role": "owner"})
    assert role_of(get_user_model().objects.get(pk=member.pk)) == "member"


def test_the_last_active_administrator_cannot_be_removed(administrator, member):
    from accounts import people

    # Two administrators demoting each other: the second change is refused.
    people.change_role(administrator, member, "administrator")
    people.change_role(member, administrator, "member")
    member = get_user_model().objects.get(pk=member.pk)
    administrator = get_user_model().objects.get(pk=administrator.pk)
    with pytest.raises(people.PeopleError, match="at least one active administrator"):
        people.change_role(administrator, member, "viewer")
    with pytest.raises(people.PeopleError, match="at least one active administrator"):
        people.set_active(administrator, member, False)
    assert role_of(get_user_model().objects.get(pk=member.pk)) == "administrator"


def test_unknown_people_are_not_found(administrator_client):
    assert administrator_client.post("/team/people/nobody/role/", {"role": "viewer"}).status_code == 404
    assert administrator_client.post("/team/people/nobody/link/").status_code == 404


# --- Deactivation -------------------------------------------------------------------------
def test_deactivating_keeps_their_work_and_stops_their_login(administrator_client, member, member_client, password):
    work = Generation.objects.create(user=member, model_id="fal-ai/flux/dev", model_title="FLUX.1 [dev]",
                                     kind="text-to-image", arguments={"prompt": "a lighthouse"},
                                     prompt="a lighthouse", client_token="t-1")
    response = administrator_client.post(f"/team/people/{member.username}/deactivate/", follow=True)
    page = response.content.decode()
    assert "can no longer log in" in page and "Their work stays" in page
    assert "Deactivated" in page

    assert Generation.objects.filter(pk=work.pk, user=member).exists()
    assert get_user_model().objects.filter(pk=member.pk).exists()
    # Their open session ends, and the login form refuses them like a wrong password.
    assert member_client.get("/").status_code == 302
    refused = Client().post("/login/", {"username": member.username, "password": password})
    assert refused.status_code == 200
    assert "Please enter a correct username and password" in refused.content.decode()
    # Links do not work for them either.
    assert administrator_client.post(f"/team/people/{member.username}/link/").status_code == 302
    assert "Reactivate" in administrator_client.get("/team/").content.decode()


def test_reactivating_lets_them_log_in_again(administrator_client, member, password):
    administrator_client.post(f"/team/people/{member.username}/deactivate/")
    administrator_client.post(f"/team/people/{member.username}/reactivate/")
    assert Client().login(username=member.username, password=password)


def test_an_administrator_cannot_deactivate_themself(administrator_client, administrator):
    response = administrator_client.post(f"/team/people/{administrator.username}/deactivate/", follow=True)
    assert "can’t deactivate your own account" in response.content.decode()
    assert get_user_model().objects.get(pk=administrator.pk).is_active


def test_a_link_for_someone_deactivated_stops_working(administrator_client):
    link = add_person(administrator_client)
    administrator_client.post("/team/people/nora/deactivate/")
    assert "This link no longer works" in Client().get(link).content.decode()


def test_team_actions_need_post(administrator_client, member):
    assert administrator_client.get(f"/team/people/{member.username}/deactivate/").status_code == 405
    assert administrator_client.get("/team/add/").status_code == 405
