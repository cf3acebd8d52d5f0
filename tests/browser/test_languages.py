"""Languages in a real browser: Vietnamese from the browser's settings, the header picker,
the choice remembered on another computer, and words set by our scripts translated too."""

from __future__ import annotations

import pytest

from tests.fixtures_users import PASSWORD
from tests.gallery.conftest import make_item  # noqa: F401  (a gallery item to select)

pytestmark = pytest.mark.browser


def test_a_vietnamese_browser_gets_vietnamese_and_can_switch_to_english(live_server, new_page, member, screenshot):
    from playwright.sync_api import expect

    page = new_page(locale="vi-VN")
    page.goto(live_server.url + "/login/")
    expect(page.locator("html")).to_have_attribute("lang", "vi")
    expect(page.get_by_role("heading", name="Đăng nhập")).to_be_visible()
    page.get_by_label("Tên đăng nhập").fill(member.username)
    page.get_by_label("Mật khẩu").fill(PASSWORD)
    page.get_by_role("button", name="Đăng nhập").click()
    page.wait_for_url(live_server.url + "/")
    expect(page.get_by_role("heading", name="Studio", exact=True)).to_be_visible()
    expect(page.get_by_text("Chọn một mô hình để bắt đầu.")).to_be_visible()
    expect(page.get_by_role("heading", name="Văn bản thành ảnh")).to_be_visible()
    screenshot(page, "studio-vi")

    # The picker names the other language in that language, and keeps the page.
    page.get_by_role("link", name="Thư viện").click()
    page.get_by_role("button", name="English").click()
    expect(page).to_have_url(live_server.url + "/gallery/")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("heading", name="Gallery")).to_be_visible()
    expect(page.get_by_role("button", name="Tiếng Việt")).to_have_attribute("lang", "vi")

    # Another computer with a Vietnamese browser: after logging in, the choice follows the person.
    other = new_page(locale="vi-VN")
    other.goto(live_server.url + "/login/")
    other.get_by_label("Tên đăng nhập").fill(member.username)
    other.get_by_label("Mật khẩu").fill(PASSWORD)
    other.get_by_role("button", name="Đăng nhập").click()
    other.wait_for_url(live_server.url + "/")
    expect(other.locator("html")).to_have_attribute("lang", "en")
    expect(other.get_by_text("Pick a model to start.")).to_be_visible()


def test_words_written_by_scripts_are_translated(live_server, new_page, member, make_item):
    from playwright.sync_api import expect

    make_item(member)
    page = new_page(locale="vi-VN")
    page.goto(live_server.url + "/login/")
    page.get_by_label("Tên đăng nhập").fill(member.username)
    page.get_by_label("Mật khẩu").fill(PASSWORD)
    page.get_by_role("button", name="Đăng nhập").click()
    page.wait_for_url(live_server.url + "/")
    page.goto(live_server.url + "/gallery/")
    counter = page.locator("[data-selected-count]")
    expect(counter).to_have_text("Chưa chọn mục nào")
    page.get_by_label("Chọn mục 1").check()
    expect(counter).to_have_text("Đã chọn 1 mục")
    expect(page.get_by_text("phút trước")).to_be_visible()
