"""Sessions and the person behind them, read with prepared statements, behave as Django's."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.test import Client
from django.urls import reverse

from accounts.sessions import SessionStore

pytestmark = pytest.mark.django_db


def client_with_session(backend: str, user) -> Client:
    session = SessionStore()
    session.update({SESSION_KEY: str(user.pk), BACKEND_SESSION_KEY: backend,
                    HASH_SESSION_KEY: user.get_session_auth_hash()})
    session.create()
    client = Client()
    client.cookies[settings.SESSION_COOKIE_NAME] = session.session_key
    return client


def test_a_session_begun_before_this_release_stays_logged_in(member):
    client = client_with_session("django.contrib.auth.backends.ModelBackend", member)
    assert client.get(reverse("studio:job_list")).status_code == 200


def test_a_logged_in_person_is_the_one_of_the_session(member_client, member):
    response = member_client.get(reverse("studio:job_list"))
    assert response.status_code == 200 and response.wsgi_request.user == member


def test_a_deactivated_person_is_logged_out(member):
    client = client_with_session(settings.AUTHENTICATION_BACKENDS[0], member)
    member.is_active = False
    member.save(update_fields=["is_active"])
    assert client.get(reverse("studio:job_list")).status_code == 302
