"""A job in flight looks alive: its time ticks, its bar keeps sliding, its queue place shows."""

from __future__ import annotations

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
