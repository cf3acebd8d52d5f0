"""A job in flight looks alive: its time ticks, its bar keeps sliding, its queue place shows."""

from __future__ import annotations

import re

import pytest

from tests.browser.conftest import log_in
from tests.browser.world import PASSWORD, build_world

pytestmark = pytest.mark.browser


def test_a_running_job_ticks_without_reloading(live_server, page, media_root):
    from playwright.sync_api import expect

    world = build_world()  # one job generating, one waiting with two jobs ahead
    log_in(page, live_server.url, world.member.username, PASSWORD)
    page.goto(live_server.url + "/generate/fal-ai/flux-1/schnell/")

    expect(page.locator(".job-card--queued")).to_contain_text("2 jobs ahead in the queue.")
    running = page.locator(f"#job-{world.running_job.id}")
    bar = running.get_by_role("progressbar")
    expect(bar).to_be_visible()
    page.evaluate("document.querySelector('#progress-%s').dataset.first = 'yes'" % world.running_job.id)
    seconds = running.locator(".job-card__time").inner_text()

    # The card refreshes itself: the elapsed time moves on...
    expect(running.locator(".job-card__time")).not_to_have_text(seconds, timeout=5_000)
    # ...while the progress bar is the same element, so its animation never restarts.
    assert bar.evaluate("el => el.dataset.first") == "yes"
    assert bar.evaluate("el => getComputedStyle(el, '::before').animationName") == "progress-slide"


def test_an_unchanged_card_is_not_sent_again_yet_its_time_keeps_ticking(live_server, page, member, monkeypatch):
    """The browser revalidates the card it holds (304, no body) and ticks the time itself."""
    from datetime import timedelta

    from django.utils import timezone
    from playwright.sync_api import expect

    from studio import cards
    from studio.models import Generation
    from tests.fixtures_users import PASSWORD as MEMBER_PASSWORD
    from tests.studio.conftest import make_generation

    job = make_generation(member, "fal-ai/flux-1/schnell", {"prompt": "a paper boat"},
                          state=Generation.State.RUNNING, request_id="r1",
                          created_at=timezone.now() - timedelta(seconds=1), logs=[{"message": "Step 1/4"}])
    # What the server answered (the browser reports a revalidated card as its cached 200).
    answers: list[int] = []
    card_response = cards.card_response

    def noting_the_answer(*args):
        response = card_response(*args)
        answers.append(response.status_code)
        return response

    monkeypatch.setattr(cards, "card_response", noting_the_answer)
    log_in(page, live_server.url, member.username, MEMBER_PASSWORD)
    page.goto(live_server.url + "/generate/fal-ai/flux-1/schnell/")
    clock = page.locator(f"#job-{job.id} .job-card__time")
    expect(clock).to_have_text(re.compile(r"^\d\.\d s$"))  # under 10 s: tenths

    # Several polls later the card has not changed: the server sent it once, then said "unchanged".
    for _ in range(50):
        if len(answers) >= 4:
            break
        page.wait_for_timeout(200)
    assert answers.count(200) == 1 and answers.count(304) >= 3, answers
    # Between two polls the time still moves: the browser ticks it from the card's start time.
    readings = set()
    for _ in range(6):
        readings.add(clock.inner_text())
        page.wait_for_timeout(150)
    assert len(readings) >= 2, readings
    seconds = float(clock.inner_text().removesuffix(" s"))
    expected = (timezone.now() - job.created_at).total_seconds()
    assert abs(seconds - expected) < 1.5, (seconds, expected)

    # A change is shown at the next poll; a final card stops the polling (286).
    Generation.objects.filter(id=job.id).update(logs=[{"message": "Step 1/4"}, {"message": "Step 3/4"}])
    expect(page.locator(f"#job-{job.id}")).to_contain_text("Progress log (2 lines)", timeout=5_000)
    Generation.objects.filter(id=job.id).update(state=Generation.State.DONE, finished_at=timezone.now())
    expect(page.locator(f"#job-{job.id}")).to_contain_text("Done", timeout=5_000)
    frozen = clock.inner_text()
    page.wait_for_timeout(1500)
    assert clock.inner_text() == frozen and 286 in answers


def test_the_ticking_time_is_written_in_the_readers_language(live_server, new_page, member):
    from datetime import timedelta

    from django.utils import timezone
    from playwright.sync_api import expect

    from studio.models import Generation
    from tests.fixtures_users import PASSWORD as MEMBER_PASSWORD
    from tests.studio.conftest import make_generation

    page = new_page(locale="vi-VN")
    log_in(page, live_server.url, member.username, MEMBER_PASSWORD)
    # Made after logging in, so a slow log-in (a busy CI machine) does not eat the minute's margin.
    job = make_generation(member, "fal-ai/flux-1/schnell", {"prompt": "lanterns"}, state=Generation.State.QUEUED,
                          request_id="r1", queue_position=1, created_at=timezone.now() - timedelta(seconds=62))
    page.goto(live_server.url + "/generate/fal-ai/flux-1/schnell/")
    clock = page.locator(f"#job-{job.id} .job-card__time")
    expect(clock).to_have_text(re.compile(r"^1 phút 0[2-8] giây$"))
    # The server answers "unchanged" (the job waits in the queue); the browser's clock goes on.
    expect(clock).to_have_text(re.compile(r"^1 phút (09|1\d) giây$"), timeout=10_000)
