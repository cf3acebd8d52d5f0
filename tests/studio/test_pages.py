"""Layout, access rules and error pages."""

from __future__ import annotations

import pytest
from django.test import RequestFactory, override_settings

from studio.views import server_error

pytestmark = pytest.mark.django_db

PAGES = ["/", "/gallery/"]


@pytest.mark.parametrize("path", PAGES)
def test_pages_need_login(client, member, path):
    response = client.get(path)
    assert response.status_code == 302
    assert response["Location"] == f"/login/?next={path}"


def test_login_page_is_open(client, member):
    response = client.get("/login/")
    assert response.status_code == 200
    assert "Log in" in response.content.decode()


def test_logging_in_through_the_form_lands_in_the_studio(client, member, password):
    response = client.post("/login/", {"username": "mina", "password": password})
    assert response.status_code == 302
    assert response["Location"] == "/"


def test_a_wrong_password_is_explained(client, member):
    response = client.post("/login/", {"username": "mina", "password": "nope"})
    assert "Please enter a correct username and password" in response.content.decode()


def test_logout_is_a_post(member_client):
    assert member_client.get("/logout/").status_code == 405
    response = member_client.post("/logout/")
    assert response["Location"] == "/login/"
    assert member_client.get("/")["Location"] == "/login/?next=/"


def test_layout_shows_name_navigation_and_logout(member_client):
    content = member_client.get("/gallery/").content.decode()
    assert "Atelier" in content
    assert "mina" in content
    assert '<a href="/gallery/" aria-current="page">Gallery</a>' in content
    assert '<a href="/">Studio</a>' in content
    assert 'action="/logout/"' in content
    assert 'href="/admin/"' not in content
    assert "hx-headers='{\"X-CSRFToken\": \"" in content


def test_admin_link_only_for_staff(administrator_client):
    content = administrator_client.get("/").content.decode()
    assert 'href="/admin/"' in content
    assert '<a href="/" aria-current="page">Studio</a>' in content


def test_no_inline_scripts_or_styles(member_client):
    content = member_client.get("/").content.decode()
    assert "<script>" not in content and "style=" not in content and "hx-on" not in content
    assert "<script src=" in content  # htmx, served from our static files


@override_settings(FAL_USES_SIMULATOR=True)
@pytest.mark.parametrize("path", [*PAGES, "/login/"])
def test_simulator_banner_on_every_page(client, member_client, path):
    page_client = client if path == "/login/" else member_client
    content = page_client.get(path).content.decode()
    assert "Simulator — outputs are placeholders" in content
    assert "FAL_KEY" in content


@override_settings(FAL_USES_SIMULATOR=False, FAL_KEY="sk-secret-123", FAL_BASE_URL="https://queue.fal.run")
@pytest.mark.parametrize("path", PAGES)
def test_no_simulator_banner_with_real_fal(member_client, path):
    assert "Simulator — outputs are placeholders" not in member_client.get(path).content.decode()


@override_settings(FAL_USES_SIMULATOR=True)
def test_studio_home_names_the_simulator(member_client):
    content = member_client.get("/").content.decode()
    assert "<h1>Studio</h1>" in content
    assert "the built-in simulator" in content


@override_settings(
    FAL_USES_SIMULATOR=False,
    FAL_KEY="sk-secret-123",
    FAL_BASE_URL="https://user:sk-secret-123@proxy.example.com:8443/fal",
    FAL_AUTH_SCHEME="bearer",
)
def test_studio_home_names_host_and_scheme_never_the_key(member_client):
    content = member_client.get("/").content.decode()
    assert "proxy.example.com:8443" in content
    assert "Bearer" in content
    assert "sk-secret" not in content


@override_settings(FAL_USES_SIMULATOR=False, FAL_KEY="sk-secret-123", FAL_BASE_URL="https://queue.fal.run")
@pytest.mark.parametrize("path", ["/", "/gallery/", "/login/", "/no-such-page/", "/admin/"])
def test_the_fal_key_never_appears(client, administrator_client, path):
    anonymous = client.get(path).content.decode()
    logged_in = administrator_client.get(path).content.decode()
    assert "sk-secret-123" not in anonymous
    assert "sk-secret-123" not in logged_in


def test_gallery_empty_state(member_client):
    content = member_client.get("/gallery/").content.decode()
    assert "Nothing saved yet. Everything you generate in the Studio is kept here." in content
    assert 'href="/"' in content


def test_pages_answer_only_get(member_client):
    assert member_client.post("/").status_code == 405
    assert member_client.post("/gallery/").status_code == 405


def test_404_is_ours(member_client, client):
    for who in (member_client, client):
        response = who.get("/no-such-page/")
        assert response.status_code == 404
        assert "We can’t find that page" in response.content.decode()


def test_500_is_plain_and_needs_no_request_context():
    response = server_error(RequestFactory().get("/"))
    assert response.status_code == 500
    content = response.content.decode()
    assert "Something went wrong on our side" in content
    assert "Traceback" not in content


def test_404_marks_no_section_as_current(administrator_client):
    # /setup/ resolves into the studio namespace, but after set-up it is only a 404 page.
    content = administrator_client.get("/setup/").content.decode()
    assert "We can’t find that page" in content
    assert "aria-current" not in content
