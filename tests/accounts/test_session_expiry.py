"""Sessions end after SESSION_DAYS: the person lands on the login page and is told why,
and a job card polling through htmx sends the whole page there instead of swapping the
login form into the card."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.sessions.backends import db as session_db
from django.contrib.sessions.models import Session
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from tests.studio.conftest import make_generation

pytestmark = pytest.mark.django_db
ENDED = "You were logged out because your session ended (sessions last 2 days). Please log in again."


@pytest.fixture
def two_day_sessions(settings):
    settings.SESSION_COOKIE_AGE = 2 * 86400  # what SESSION_DAYS=2 sets
    return settings


@pytest.fixture
def logged_in(member, password, two_day_sessions) -> Client:
    client = Client()
    response = client.post(reverse("login"), {"username": member.username, "password": password})
    assert response.status_code == 302
    return client


@pytest.fixture
def later(monkeypatch):
    """later(days): the session store's clock moved forward."""
    def move(days: float) -> None:
        moved = timezone.now() + timedelta(days=days)
        monkeypatch.setattr(session_db.timezone, "now", lambda: moved)
    return move


def test_a_session_lasts_session_days(logged_in):
    session = Session.objects.get()
    remaining = session.expire_date - timezone.now()
    assert timedelta(days=2) - timedelta(minutes=1) < remaining <= timedelta(days=2)
    assert logged_in.cookies["sessionid"]["max-age"] == 2 * 86400


def test_before_expiry_the_person_stays_logged_in(logged_in, later):
    later(1.9)
    assert logged_in.get(reverse("studio:job_list")).status_code == 200


def test_after_expiry_the_login_page_says_why(logged_in, later):
    later(2.01)
    response = logged_in.get(reverse("studio:job_list"))
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('login')}?next={reverse('studio:job_list')}"
    page = logged_in.get(response["Location"]).content.decode()
    assert ENDED in page and 'name="password"' in page


def test_a_visitor_who_never_logged_in_gets_no_such_message(member, two_day_sessions):
    page = Client().get(reverse("studio:job_list"), follow=True).content.decode()
    assert 'name="password"' in page and "session ended" not in page


def test_logging_out_is_not_reported_as_an_ended_session(logged_in):
    logged_in.post(reverse("logout"))
    page = logged_in.get(reverse("studio:job_list"), follow=True).content.decode()
    assert 'name="password"' in page and "session ended" not in page


def test_a_polling_job_card_sends_the_page_to_login(logged_in, member, later):
    job = make_generation(member, "fal-ai/flux-1/dev", {"prompt": "a lighthouse"})
    card = reverse("studio:job_card", args=[job.id])
    page = "http://testserver/generate/fal-ai/flux-1/dev/?prompt=x"
    htmx = {"HX-Request": "true", "HX-Current-URL": page}
    assert logged_in.get(card, headers=htmx).status_code == 200  # still polling
    later(2.01)
    response = logged_in.get(card, headers=htmx)
    assert response.status_code == 200
    # The browser goes to the login page and comes back to the page, not to the fragment.
    assert response["HX-Redirect"] == "/login/?next=%2Fgenerate%2Ffal-ai%2Fflux-1%2Fdev%2F%3Fprompt%3Dx"
    assert response.content == b""  # nothing to swap into the card
    assert ENDED in logged_in.get(response["HX-Redirect"]).content.decode()


def test_an_htmx_poll_from_another_site_does_not_choose_where_login_returns(logged_in, member, later):
    job = make_generation(member, "fal-ai/flux-1/dev", {"prompt": "a lighthouse"})
    later(2.01)
    response = logged_in.get(reverse("studio:job_card", args=[job.id]),
                             headers={"HX-Request": "true", "HX-Current-URL": "https://evil.example/x"})
    assert response["HX-Redirect"] == "/login/"
