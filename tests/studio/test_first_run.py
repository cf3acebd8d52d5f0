"""First run: no accounts → everything leads to /setup/, which creates one administrator."""

from __future__ import annotations

from unittest import mock

import pytest
from django.contrib.auth import SESSION_KEY, get_user_model
from django.test import RequestFactory
from django.urls import reverse

from studio.forms import AdministratorSetupForm
from studio.middleware import first_run_middleware

pytestmark = pytest.mark.django_db

GOOD = {"username": "ada", "email": "", "password1": "quiet-harbour-lamp-7", "password2": "quiet-harbour-lamp-7"}


@pytest.mark.parametrize("path", ["/", "/gallery/", "/login/", "/admin/", "/no-such-page/"])
def test_every_page_leads_to_setup_while_no_account_exists(client, path):
    response = client.get(path)
    assert response.status_code == 302
    assert response["Location"] == "/setup/"


def test_setup_page_welcomes_and_asks_for_the_administrator(client):
    response = client.get("/setup/")
    assert response.status_code == 200
    content = response.content.decode()
    assert "Welcome to Atelier" in content
    assert "Create the administrator account" in content
    for name in ("username", "email", "password1", "password2"):
        assert f'name="{name}"' in content


def test_static_files_are_served_before_setup(client):
    response = client.get("/static/css/atelier.css")
    assert response.status_code == 200


def test_setup_rejects_mismatched_passwords(client):
    response = client.post("/setup/", {**GOOD, "password2": "something-else-entirely"})
    assert response.status_code == 200
    assert "The two password fields didn’t match." in response.content.decode()
    assert 'aria-describedby="id_password2_helptext id_password2_error"' in response.content.decode()
    assert get_user_model().objects.count() == 0


def test_setup_rejects_a_weak_password_with_the_validators_messages(client):
    response = client.post("/setup/", {**GOOD, "password1": "12345678", "password2": "12345678"})
    content = response.content.decode()
    assert response.status_code == 200
    assert "This password is too common." in content
    assert "This password is entirely numeric." in content
    assert get_user_model().objects.count() == 0


def test_setup_requires_a_username(client):
    response = client.post("/setup/", {**GOOD, "username": ""})
    assert "This field is required." in response.content.decode()
    assert get_user_model().objects.count() == 0


def test_setup_creates_one_superuser_and_logs_them_in(client):
    response = client.post("/setup/", {**GOOD, "email": "ada@example.com"})
    assert response.status_code == 302
    assert response["Location"] == reverse("studio:home")

    user = get_user_model().objects.get()
    assert (user.username, user.email, user.is_staff, user.is_superuser) == ("ada", "ada@example.com", True, True)
    assert user.check_password(GOOD["password1"])
    assert client.session[SESSION_KEY] == str(user.pk)

    home = client.get(response["Location"])
    assert home.status_code == 200
    assert "Welcome, ada." in home.content.decode()


def test_after_setup_the_setup_page_is_gone_and_login_is_required(client):
    client.post("/setup/", GOOD)
    client.logout()

    assert client.get("/setup/").status_code == 404
    assert client.post("/setup/", {**GOOD, "username": "eve"}).status_code == 404
    assert get_user_model().objects.count() == 1

    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"] == "/login/?next=/"


def test_a_second_setup_at_the_same_moment_creates_no_second_administrator(client, django_user_model):
    # Both visitors passed the "no account yet" check; the first one's account lands first.
    form = AdministratorSetupForm(data={**GOOD, "username": "eve"})
    assert form.is_valid()
    django_user_model.objects.create_superuser("ada", "", GOOD["password1"])

    assert form.create_administrator() is None
    assert django_user_model.objects.count() == 1


def test_the_losing_visitor_is_told_to_log_in(client, django_user_model):
    django_user_model.objects.create_superuser("ada", "", GOOD["password1"])
    with mock.patch("studio.views._accounts_exist", return_value=False):
        response = client.post("/setup/", {**GOOD, "username": "eve"}, follow=True)
    assert response.redirect_chain[-1][0].startswith("/login/")
    assert "Someone else created the administrator account a moment ago." in response.content.decode()
    assert django_user_model.objects.count() == 1


def test_middleware_costs_one_query_for_anonymous_visitors(client, member, django_assert_num_queries):
    with django_assert_num_queries(1):
        assert client.get("/login/").status_code == 200


def test_middleware_costs_nothing_for_logged_in_users(member, django_assert_num_queries):
    request = RequestFactory().get("/")
    request.user = member
    middleware = first_run_middleware(lambda request: "passed through")
    with django_assert_num_queries(0):
        assert middleware(request) == "passed through"
