"""The language follows the browser, can be switched with the picker, and is remembered per person."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from accounts.language import SESSION_KEY

pytestmark = pytest.mark.django_db

VI = {"HTTP_ACCEPT_LANGUAGE": "vi,en;q=0.5"}
EN = {"HTTP_ACCEPT_LANGUAGE": "en-GB,en;q=0.9"}


def test_the_login_page_follows_the_browser_language(member):
    english = Client().get(reverse("login"), **EN)
    vietnamese = Client().get(reverse("login"), **VI)
    assert '<html lang="en">' in english.content.decode()
    assert "Use the account your administrator gave you." in english.content.decode()
    page = vietnamese.content.decode()
    assert '<html lang="vi">' in page
    assert vietnamese["Content-Language"] == "vi"
    assert "Dùng tài khoản mà quản trị viên đã cấp cho bạn." in page
    assert "<h1>Đăng nhập</h1>" in page


def test_an_unknown_browser_language_falls_back_to_english(member):
    page = Client().get(reverse("login"), HTTP_ACCEPT_LANGUAGE="de-DE,de;q=0.9").content.decode()
    assert '<html lang="en">' in page


def test_every_page_offers_the_other_language_in_its_own_words(member_client):
    page = member_client.get(reverse("studio:home"), **EN).content.decode()
    assert '<button type="submit" class="button button--quiet button--small" name="language" value="vi" lang="vi">Tiếng Việt</button>' in page
    assert 'value="en" lang="en"' not in page
    page = member_client.get(reverse("studio:home"), **VI).content.decode()
    assert 'value="en" lang="en">English</button>' in page


def test_the_picker_switches_an_anonymous_visitor_and_keeps_the_page(member):
    client = Client()
    response = client.post(reverse("accounts:set_language"), {"language": "vi", "next": "/login/?next=/gallery/"}, **EN)
    assert response.status_code == 302
    assert response["Location"] == "/login/?next=/gallery/"
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "vi"
    page = client.get("/login/", **EN).content.decode()
    assert '<html lang="vi">' in page  # the cookie beats the browser


def test_the_picker_never_redirects_off_site(member):
    response = Client().post(reverse("accounts:set_language"), {"language": "vi", "next": "https://evil.example/"})
    assert response.status_code == 302
    assert not response["Location"].startswith("https://evil.example")


def test_an_unknown_language_changes_nothing(member_client, member):
    response = member_client.post(reverse("accounts:set_language"), {"language": "xx", "next": "/"})
    assert response.status_code == 302
    assert settings.LANGUAGE_COOKIE_NAME not in response.cookies
    member.profile.refresh_from_db()
    assert member.profile.language == ""


def test_the_choice_is_remembered_on_the_profile_and_applied_at_the_next_login(member, password):
    first = Client()
    first.post(reverse("login"), {"username": member.username, "password": password}, **EN)
    first.post(reverse("accounts:set_language"), {"language": "vi", "next": "/"}, **EN)
    member.profile.refresh_from_db()
    assert member.profile.language == "vi"

    # Another computer: an English browser with no cookie. After logging in, Atelier speaks Vietnamese.
    second = Client()
    assert '<html lang="en">' in second.get(reverse("login"), **EN).content.decode()
    response = second.post(reverse("login"), {"username": member.username, "password": password}, follow=True, **EN)
    page = response.content.decode()
    assert '<html lang="vi">' in page
    assert "Chọn một mô hình để bắt đầu." in page
    assert second.session[SESSION_KEY] == "vi"


def test_a_person_without_a_choice_follows_each_browser(member, password):
    client = Client()
    client.post(reverse("login"), {"username": member.username, "password": password}, **EN)
    assert '<html lang="vi">' in client.get(reverse("studio:home"), **VI).content.decode()
    assert '<html lang="en">' in client.get(reverse("studio:home"), **EN).content.decode()


def test_my_settings_can_go_back_to_following_the_browser(member_client, member):
    member_client.post(reverse("accounts:set_language"), {"language": "vi", "next": "/"})
    page = member_client.get(reverse("accounts:my_settings"), **EN).content.decode()
    assert '<option value="vi" lang="vi" selected>Tiếng Việt</option>' in page
    assert "Ngôn ngữ của Atelier" in page

    response = member_client.post(reverse("accounts:set_language"),
                                  {"language": "", "next": reverse("accounts:my_settings")}, **EN)
    assert response["Location"] == reverse("accounts:my_settings")
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == ""  # deleted
    member.profile.refresh_from_db()
    assert member.profile.language == ""
    page = member_client.get(reverse("accounts:my_settings"), **EN).content.decode()
    assert '<html lang="en">' in page
    assert '<option value="" selected>The same as my browser</option>' in page


def test_logging_out_keeps_the_picker_choice_for_the_login_page(member_client):
    member_client.post(reverse("accounts:set_language"), {"language": "vi", "next": "/"}, **EN)
    member_client.post(reverse("logout"))
    assert '<html lang="vi">' in member_client.get(reverse("login"), **EN).content.decode()


def test_the_first_run_page_can_be_switched_too(db):
    client = Client()
    response = client.post(reverse("accounts:set_language"), {"language": "vi", "next": reverse("studio:setup")})
    assert response["Location"] == reverse("studio:setup")
    page = client.get(reverse("studio:setup")).content.decode()
    assert "Chào mừng đến với Atelier" in page
