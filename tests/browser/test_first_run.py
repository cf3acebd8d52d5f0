"""A fresh install, seen through a browser: set up, land in the Studio, log out, log in."""

from __future__ import annotations

import pytest
from django.test import override_settings

pytestmark = pytest.mark.browser

PASSWORD = "quiet-harbour-lamp-7"
PHONE = {"width": 390, "height": 844}


@override_settings(FAL_USES_SIMULATOR=True)
def test_first_visit_sets_up_the_administrator(live_server, page, screenshot):
    from playwright.sync_api import expect

    page.goto(live_server.url + "/")
    expect(page).to_have_url(live_server.url + "/setup/")
    expect(page.get_by_role("heading", name="Welcome to Atelier")).to_be_visible()
    screenshot(page, "1-setup")

    # A typo in the second password is caught next to the field.
    page.get_by_label("Username").fill("ada")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Password again").fill(PASSWORD + "x")
    page.get_by_role("button", name="Create the administrator account").click()
    expect(page.locator("#id_password2_error")).to_contain_text("didn’t match")
    screenshot(page, "2-setup-error")

    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Password again").fill(PASSWORD)
    page.get_by_role("button", name="Create the administrator account").click()

    expect(page).to_have_url(live_server.url + "/")
    expect(page.get_by_role("heading", name="Studio", exact=True)).to_be_visible()
    expect(page.get_by_text("Simulator — outputs are placeholders")).to_be_visible()
    expect(page.get_by_role("link", name="Admin")).to_be_visible()
    expect(page.get_by_role("link", name="Studio")).to_have_attribute("aria-current", "page")
    screenshot(page, "3-studio")

    page.get_by_role("link", name="Gallery").click()
    expect(page.get_by_text("Nothing saved yet.")).to_be_visible()
    screenshot(page, "4-gallery")

    page.get_by_role("button", name="Log out").click()
    expect(page).to_have_url(live_server.url + "/login/")
    screenshot(page, "5-login")

    page.get_by_label("Username").fill("ada")
    page.get_by_label("Password").fill("wrong-password")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("alert")).to_contain_text("Please enter a correct username and password")

    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(live_server.url + "/")
    expect(page.get_by_text("ada", exact=True)).to_be_visible()

    page.goto(live_server.url + "/setup/")
    expect(page.get_by_role("heading", name="We can’t find that page")).to_be_visible()
    screenshot(page, "6-not-found")


@override_settings(FAL_USES_SIMULATOR=True)
def test_pages_fit_a_phone_screen(live_server, page, screenshot, administrator, password):
    page.set_viewport_size(PHONE)
    page.goto(live_server.url + "/login/")
    screenshot(page, "login")
    page.get_by_label("Username").fill(administrator.username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(live_server.url + "/")

    for path, step in [("/", "studio"), ("/gallery/", "gallery"), ("/no-such-page/", "not-found")]:
        page.goto(live_server.url + path)
        screenshot(page, step)
        # Nothing may stick out sideways: no horizontal scrolling on a phone.
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], path
