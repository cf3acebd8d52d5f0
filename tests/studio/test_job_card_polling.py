"""A polled job card: the browser revalidates what it holds; only a changed card is sent again.

Every open job's card asks once a second (studio/cards.py). What a person must still see:
every change of state, queue place, log line and output, in their language, the final card
that stops the polling, and the login page once their session has ended.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from gallery.assets import store_asset
from gallery.ingest import receive, verify
from gallery.models import Asset
from studio.models import Generation
from tests.studio.conftest import make_generation, png_bytes

pytestmark = pytest.mark.django_db
State = Generation.State
HTMX = {"HX-Request": "true"}


def poll(client, generation, etag=None, **headers):
    if etag:
        headers["If-None-Match"] = etag
    return client.get(reverse("studio:job_card", args=[generation.id]), headers={**HTMX, **headers})


def running_job(member, **fields) -> Generation:
    return make_generation(member, "fal-ai/flux-1/dev", {"prompt": "a lighthouse"}, state=State.RUNNING,
                           request_id="r1", logs=[{"message": "Step 3/28"}], **fields)


def test_an_unchanged_card_is_answered_304_without_a_body(member_client, member):
    generation = running_job(member)
    first = poll(member_client, generation)
    assert first.status_code == 200 and "Step 3/28" in first.content.decode()
    # The browser keeps the card and asks again every time (no stale card is ever shown).
    assert first["Cache-Control"] == "private, no-cache"
    again = poll(member_client, generation, first["ETag"])
    assert again.status_code == 304
    assert again.content == b""
    assert again["ETag"] == first["ETag"]


def test_a_new_log_line_or_state_sends_the_card_again(member_client, member):
    generation = running_job(member)
    first = poll(member_client, generation)
    Generation.objects.filter(id=generation.id).update(logs=[{"message": "Step 3/28"}, {"message": "Step 9/28"}])
    second = poll(member_client, generation, first["ETag"])
    assert second.status_code == 200 and "Step 9/28" in second.content.decode()
    Generation.objects.filter(id=generation.id).update(state=State.COLLECTING)
    third = poll(member_client, generation, second["ETag"])
    assert third.status_code == 200 and "Saving the results" in third.content.decode()
    assert len({first["ETag"], second["ETag"], third["ETag"]}) == 3


def test_a_queue_place_that_moves_is_shown(member_client, member):
    generation = make_generation(member, "fal-ai/flux-1/dev", {"prompt": "x"}, state=State.QUEUED,
                                 request_id="r1", queue_position=3)
    first = poll(member_client, generation)
    assert "3 jobs ahead in the queue" in first.content.decode()
    Generation.objects.filter(id=generation.id).update(queue_position=0)
    second = poll(member_client, generation, first["ETag"])
    assert second.status_code == 200 and "Next in the queue." in second.content.decode()


def test_a_tracker_renewing_its_lease_is_not_a_change(member_client, member):
    generation = running_job(member)
    first = poll(member_client, generation)
    Generation.objects.filter(id=generation.id).update(next_check_at=timezone.now() + timedelta(seconds=60),
                                                       check_failures=1)
    assert poll(member_client, generation, first["ETag"]).status_code == 304


def test_a_thumbnail_made_after_saving_shows_on_the_next_poll(member_client, member, media_root):
    generation = make_generation(member, "fal-ai/veo3", {"prompt": "x"}, state=State.COLLECTING, request_id="r1")
    first = poll(member_client, generation)
    assert "output-tile" not in first.content.decode()
    path, size, checksum = receive([png_bytes()])
    asset = store_asset(verify(path, size, checksum), owner=member, source=Asset.Source.OUTPUT, generation=generation)
    second = poll(member_client, generation, first["ETag"])
    assert second.status_code == 200
    assert reverse("gallery:asset_thumbnail", args=[asset.id]) in second.content.decode()


def test_a_video_poster_made_later_replaces_the_placeholder(member_client, member, media_root):
    generation = make_generation(member, "fal-ai/veo3", {"prompt": "x"}, state=State.COLLECTING, request_id="r1")
    asset = Asset.objects.create(owner=member, generation=generation, kind=Asset.Kind.VIDEO, file="assets/v.mp4",
                                 content_type="video/mp4", bytes=1000, checksum="0" * 64,
                                 thumbnail_due_at=timezone.now())
    first = poll(member_client, generation)
    assert "▶ Video" in first.content.decode()
    Asset.objects.filter(id=asset.id).update(thumbnail_due_at=timezone.now() + timedelta(seconds=60))
    assert poll(member_client, generation, first["ETag"]).status_code == 304  # its lease only
    Asset.objects.filter(id=asset.id).update(thumbnail="thumbs/v.webp", thumbnail_due_at=None)
    second = poll(member_client, generation, first["ETag"])
    assert second.status_code == 200
    assert reverse("gallery:asset_thumbnail", args=[asset.id]) in second.content.decode()


def test_the_final_card_stops_polling_even_after_an_unchanged_one(member_client, member):
    generation = running_job(member)
    first = poll(member_client, generation)
    Generation.objects.filter(id=generation.id).update(state=State.DONE, finished_at=timezone.now())
    final = poll(member_client, generation, first["ETag"])
    assert final.status_code == 286
    page = final.content.decode()
    assert "Done" in page and "hx-trigger" not in page and "data-elapsed-since" not in page
    assert "ETag" not in final and final["Cache-Control"] == "private, no-store"
    # Asked again (another tab still showing the running card): the whole final card again.
    assert poll(member_client, generation, first["ETag"]).content == final.content


def test_a_card_in_another_language_is_not_taken_for_unchanged(member_client, member):
    generation = running_job(member)
    english = poll(member_client, generation, **{"Accept-Language": "en"})
    vietnamese = poll(member_client, generation, english["ETag"], **{"Accept-Language": "vi"})
    assert vietnamese.status_code == 200
    assert "Generating" in english.content.decode() and "Đang tạo" in vietnamese.content.decode()
    assert "Accept-Language" in vietnamese["Vary"] and "Cookie" in vietnamese["Vary"]


def test_a_running_card_carries_what_the_browser_needs_to_tick_its_time(member_client, member):
    generation = running_job(member, created_at=timezone.now() - timedelta(seconds=75))
    response = poll(member_client, generation, **{"Accept-Language": "vi"})
    page = response.content.decode()
    assert f'data-elapsed-since="{int(generation.created_at.timestamp() * 1000)}"' in page
    assert 'data-minutes="%(minutes)s phút %(seconds)s giây"' in page and 'data-decimal=","' in page
    assert "1 phút 15 giây" in page  # right without JavaScript too
    server_time = int(response["X-Server-Time"])
    assert abs(server_time / 1000 - timezone.now().timestamp()) < 5


def test_a_revalidation_after_the_session_ended_goes_to_the_login_page(member_client, member, settings,
                                                                       monkeypatch):
    from django.contrib.sessions.backends import db as session_db

    generation = running_job(member)
    first = poll(member_client, generation)
    later = timezone.now() + timedelta(seconds=settings.SESSION_COOKIE_AGE + 60)
    monkeypatch.setattr(session_db.timezone, "now", lambda: later)
    response = poll(member_client, generation, first["ETag"],
                    **{"HX-Current-URL": "http://testserver/generate/fal-ai/flux-1/dev/"})
    assert response.status_code == 200 and response.content == b""
    assert response["HX-Redirect"].startswith("/login/?next=")
    assert "session ended" in member_client.get(response["HX-Redirect"]).content.decode()


def test_someone_elses_card_is_not_found_whatever_the_browser_holds(member_client, outsider_client, member):
    generation = running_job(member)
    tag = poll(member_client, generation)["ETag"]
    assert poll(outsider_client, generation, tag).status_code == 404


def test_a_card_waiting_for_approval_is_rendered_every_time(member_client, member):
    from decimal import Decimal

    from usage.models import Charge

    generation = make_generation(member, "fal-ai/flux-1/dev", {"prompt": "x"}, state=State.AWAITING_APPROVAL)
    Charge.objects.create(generation=generation, user=member, estimated_cost=Decimal("4.00"), currency="USD")
    response = poll(member_client, generation)
    assert response.status_code == 200 and "ETag" not in response
    assert "4.00" in response.content.decode() and 'hx-trigger="every 10s"' in response.content.decode()
