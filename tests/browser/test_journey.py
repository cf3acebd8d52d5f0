"""The whole life of a team, in a real browser against the simulator.

The administrator sets Atelier up and adds a member; the member chooses a password,
generates, watches the card finish without reloading, browses the result with the
keyboard, reuses it, edits it, files it in an album and shares the album; someone with
only the link sees the album and nothing else. Videos play.
"""

from __future__ import annotations

import re

import pytest

from tests.browser.conftest import log_in

pytestmark = pytest.mark.browser

ADMIN_PASSWORD = "quiet-harbour-lamp-7"
MEMBER_PASSWORD = "amber-window-river-42"
# Long enough for a job with two pictures, a collect and a thumbnail on a busy machine.
JOB_TIMEOUT_MS = 30_000


def _set_up_administrator(page, base: str) -> None:
    page.goto(base + "/")
    page.get_by_label("Username").fill("ada")
    page.get_by_label("Password", exact=True).fill(ADMIN_PASSWORD)
    page.get_by_label("Password again").fill(ADMIN_PASSWORD)
    page.get_by_role("button", name="Create the administrator account").click()
    page.wait_for_url(base + "/")


def _add_member(page, base: str) -> str:
    """The administrator adds Mina on the Team page and copies her one-time link."""
    from playwright.sync_api import expect

    page.get_by_role("link", name="Team").click()
    page.get_by_label("Username").fill("mina")
    page.get_by_label("Name (optional)").fill("Mina Tran")
    page.get_by_label("Role", exact=True).select_option("member")
    page.get_by_role("button", name="Add and get a link").click()
    link = page.get_by_label("One-time link for Mina Tran")
    expect(link).to_be_visible()
    expect(page.get_by_role("row").filter(has_text="Mina Tran")).to_contain_text("Waiting for a password")
    return link.input_value()


def _wait_until_done(card) -> None:
    from playwright.sync_api import expect

    expect(card.locator(".state-pill")).to_have_text("Done", timeout=JOB_TIMEOUT_MS)


def _generate(page, prompt_label: str, prompt: str):
    """Presses Generate and returns the new job's card (the first in the list)."""
    from playwright.sync_api import expect

    cards_before = page.locator("#job-list .job-card").count()
    page.get_by_label(prompt_label, exact=True).fill(prompt)
    # The button also shows the estimated cost ("Generate · about $0.025").
    page.get_by_role("button", name=re.compile(r"^Generate\b")).click()
    expect(page.locator("#job-list .job-card")).to_have_count(cards_before + 1)
    expect(page.locator("[data-jobs-empty]")).to_be_hidden()  # "No jobs yet" goes with the first card
    card = page.locator("#job-list .job-card").first
    expect(card).to_contain_text(prompt)
    return card


def test_a_team_makes_edits_files_and_shares_work(live_server, new_page, studio_service):
    from playwright.sync_api import expect

    base = live_server.url
    admin = new_page()
    _set_up_administrator(admin, base)
    link = _add_member(admin, base)
    assert link.startswith(base + "/team/welcome/")

    # --- The member opens her link, chooses a password, and logs in with it. -------------
    member = new_page()
    member.goto(link)
    expect(member.get_by_role("heading", name="Choose your password")).to_be_visible()
    member.get_by_label("Password", exact=True).fill(MEMBER_PASSWORD)
    member.get_by_label("Password again").fill(MEMBER_PASSWORD)
    member.get_by_role("button", name="Set my password and log in").click()
    member.wait_for_url(base + "/")
    member.get_by_role("button", name="Log out").click()
    member.wait_for_url(base + "/login/")
    log_in(member, base, "mina", MEMBER_PASSWORD)
    expect(member.get_by_role("link", name="Mina Tran")).to_be_visible()
    # The link worked once; it does not work again.
    spare = new_page()
    spare.goto(link)
    expect(spare.get_by_role("heading", name="This link no longer works")).to_be_visible()

    # --- She picks a model and generates; the card moves on its own until done. ----------
    member.get_by_role("searchbox", name="Filter models").fill("schnell")
    member.get_by_role("link", name=re.compile(r"FLUX\.1 \[schnell\]")).click()
    expect(member.get_by_role("heading", level=1)).to_have_text("FLUX.1 [schnell]")
    member.get_by_label("Number of pictures").fill("2")
    member.evaluate("window.stillTheSamePage = true")
    card = _generate(member, "Prompt", "A lighthouse at dusk, watercolour")
    _wait_until_done(card)
    assert member.evaluate("window.stillTheSamePage"), "the page reloaded while the job ran"
    expect(card.locator(".job-card__outputs img")).to_have_count(2)
    expect(card.get_by_role("button", name="Cancel")).to_have_count(0)

    # --- She opens the result and steps through the gallery with the keyboard. -----------
    card.locator(".job-card__outputs a").first.click()
    expect(member).to_have_url(re.compile(r"/gallery/items/"))
    first_item = member.url
    expect(member.get_by_role("heading", level=1)).to_have_text("FLUX.1 [schnell]")
    expect(member.locator("#prompt-text")).to_have_text("A lighthouse at dusk, watercolour")
    member.keyboard.press("ArrowRight")
    expect(member).not_to_have_url(first_item)
    second_item = member.url
    assert "/gallery/items/" in second_item
    member.keyboard.press("ArrowLeft")
    expect(member).to_have_url(first_item)
    member.keyboard.press("Escape")
    expect(member).to_have_url(re.compile(r"/gallery/(\?.*)?$"))
    expect(member.locator(".gallery-grid .tile")).to_have_count(2)
    # The selection bar offers its actions once something is selected.
    expect(member.get_by_role("button", name="Download ZIP")).to_be_hidden()
    member.get_by_label("Select item 1").check()
    expect(member.get_by_text("1 item selected")).to_be_visible()
    expect(member.get_by_role("button", name="Download ZIP")).to_be_visible()
    member.goto(first_item)

    # --- Reuse settings: the form comes back filled in, seed included. ------------------
    seed = member.locator("#seed-text").inner_text()
    member.get_by_role("link", name="Reuse settings").click()
    expect(member.get_by_label("Prompt", exact=True)).to_have_value("A lighthouse at dusk, watercolour")
    expect(member.get_by_label("Number of pictures")).to_have_value("2")
    expect(member.get_by_label("Seed")).to_have_value(seed)
    member.go_back()

    # --- The result becomes the input of an edit model. ---------------------------------
    member.locator(".detail__use summary").click()
    member.get_by_role("link", name="FLUX.1 Kontext [pro]", exact=True).click()
    expect(member.get_by_role("heading", level=1)).to_have_text("FLUX.1 Kontext [pro]")
    expect(member.locator(".gallery-pick input:checked")).to_have_count(1)
    edit_card = _generate(member, "What to change", "Make it night-time")
    _wait_until_done(edit_card)
    edit_card.locator(".job-card__outputs a").first.click()
    made_from = member.get_by_role("region", name="Made from", exact=True)
    expect(made_from.get_by_role("img")).to_have_count(1)
    made_from.get_by_role("link").click()
    expect(member).to_have_url(first_item)

    # --- Filed in a new album, which she shares with a link. ----------------------------
    member.get_by_label("New album name").fill("Lighthouse campaign")
    member.get_by_role("button", name="Add", exact=True).click()
    expect(member.get_by_role("status")).to_contain_text("Lighthouse campaign")
    member.get_by_role("link", name="Albums").click()
    member.get_by_role("link", name=re.compile("Lighthouse campaign")).click()
    expect(member.get_by_role("heading", level=1)).to_have_text("Lighthouse campaign")
    member.get_by_role("button", name="Create a share link").click()
    share_url = member.get_by_label("Share link").first.input_value()
    assert "/gallery/s/" in share_url

    # --- Someone with only the link sees the album, and nothing else. -------------------
    guest = new_page()
    guest.goto(share_url)
    expect(guest.get_by_role("heading", level=1)).to_have_text("Lighthouse campaign")
    expect(guest.locator(".shared-grid li")).to_have_count(1)
    expect(guest.get_by_role("navigation", name="Main")).to_have_count(0)
    expect(guest.get_by_role("button", name="Log out")).to_have_count(0)
    expect(guest.get_by_text("Simulator")).to_have_count(0)
    guest.locator(".shared-grid a").first.click()
    expect(guest.locator(".shared-media img")).to_be_visible()
    # The picture loads (visible happens first: on a busy machine the bytes may still be coming).
    guest.wait_for_function("() => { const img = document.querySelector('.shared-media img');"
                            " return img && img.complete && img.naturalWidth > 0; }", timeout=15_000)
    guest.goto(base + "/gallery/")
    expect(guest).to_have_url(re.compile(r"/login/"))
    guest.goto(second_item)
    expect(guest).to_have_url(re.compile(r"/login/"))


def test_a_generated_video_plays(live_server, page, studio_service, member, password):
    from playwright.sync_api import expect

    base = live_server.url
    log_in(page, base, member.username, password)
    page.get_by_role("searchbox", name="Filter models").fill("veo 3")
    page.get_by_role("link", name=re.compile(r"^Veo 3 Text to video")).click()
    card = _generate(page, "Prompt", "Waves rolling onto a pebble beach")
    _wait_until_done(card)
    card.locator(".job-card__outputs a").first.click()

    video = page.locator(".detail__media video")
    expect(video).to_be_visible()
    # Muted, so the browser's autoplay rules allow playing without a click.
    video.evaluate("v => { v.muted = true; return v.play(); }")
    page.wait_for_function(
        "() => { const v = document.querySelector('.detail__media video');"
        " return v.readyState >= 2 && v.currentTime > 0.2; }",
        timeout=15_000,
    )
    assert video.evaluate("v => v.videoWidth > 0 && !v.error")
