"""Prices and budgets in a browser: the Generate button's figure follows the form; usage pages render."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.test import override_settings
from django.utils import timezone

from studio.models import Generation
from tests.usage.conftest import make_job
from usage.models import PersonBudget, TeamBudget

pytestmark = pytest.mark.browser
PHONE = {"width": 390, "height": 844}


def log_in(page, live_server, user, password) -> None:
    page.goto(live_server.url + "/login/")
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(live_server.url + "/")


@override_settings(FAL_USES_SIMULATOR=True)
def test_the_generate_button_follows_the_form(live_server, page, screenshot, member, password):
    from playwright.sync_api import expect

    PersonBudget.objects.create(user=member, monthly_limit=Decimal("1.00"))
    make_job(member, cost="0.85")
    log_in(page, live_server, member, password)
    page.goto(live_server.url + "/generate/fal-ai/flux-1/dev/")
    button = page.locator("#generate-form button[type=submit]")
    expect(button).to_contain_text("about $0.025")
    expect(page.locator("#cost-note")).to_contain_text("$0.15 left of your $1.00 budget this month")
    expect(page.locator("#cost-note")).to_contain_text("You have used over 80% of your budget.")
    screenshot(page, "1-estimate")

    page.get_by_label("Number of pictures").fill("3")
    expect(button).to_contain_text("about $0.075")
    page.get_by_label("Size", exact=True).select_option("custom")
    page.get_by_label("Width (pixels)").fill("2048")
    page.get_by_label("Height (pixels)").fill("2048")
    expect(button).to_contain_text("about $0.30")  # 3 × 4 MP × $0.025: more than is left
    expect(button).to_be_disabled()
    expect(page.locator("#cost-note")).to_contain_text("only $0.15 is left of your $1.00 budget")
    screenshot(page, "2-refused")

    page.get_by_label("Number of pictures").fill("1")
    expect(button).to_contain_text("about $0.10")
    expect(button).to_be_enabled()


@override_settings(FAL_USES_SIMULATOR=True)
def test_usage_budgets_and_approvals_pages(live_server, page, screenshot, administrator, member, password):
    from playwright.sync_api import expect

    TeamBudget.objects.create(pk=1, monthly_limit=Decimal("100"), approval_threshold=Decimal("2"))
    PersonBudget.objects.create(user=member, monthly_limit=Decimal("10"))
    now = timezone.now()
    for days_ago, cost, model, title in [(0, "3.20", "fal-ai/veo3", "Veo 3"), (1, "0.10", "fal-ai/flux-1/dev", "FLUX.1 [dev]"),
                                         (2, "0.70", "fal-ai/kling-video/v2.5-turbo/pro/text-to-video", "Kling 2.5 Turbo Pro"),
                                         (2, "0.039", "fal-ai/nano-banana", "Nano Banana")]:
        created = max(now - timezone.timedelta(days=days_ago), timezone.localtime(now).replace(day=1, hour=0))
        make_job(member, cost=cost, model_id=model, title=title, created_at=created, outputs=1)
        make_job(administrator, cost=cost, model_id=model, title=title, created_at=created, outputs=2)
    make_job(member, cost="0.50", state=Generation.State.FAILED)
    make_job(member, cost="3.20", model_id="fal-ai/veo3", title="Veo 3", state=Generation.State.AWAITING_APPROVAL)
    from usage.models import ApprovalRequest

    ApprovalRequest.objects.create(generation=Generation.objects.get(state=Generation.State.AWAITING_APPROVAL))

    log_in(page, live_server, administrator, password)
    page.get_by_role("link", name="Usage").click()
    expect(page.get_by_role("heading", name="Usage", exact=True)).to_be_visible()
    expect(page.locator("#total-spend")).to_have_text("$8.08")
    expect(page.get_by_role("img", name="Spend per day")).to_be_visible()
    screenshot(page, "1-usage-team")

    page.get_by_role("combobox", name="Person").select_option("mina")
    page.get_by_role("button", name="Show").click()
    expect(page.locator("#total-spend")).to_have_text("$4.04")
    screenshot(page, "2-usage-person")

    page.get_by_role("link", name="Budgets").click()
    expect(page.get_by_role("heading", name="Budgets")).to_be_visible()
    screenshot(page, "3-budgets")

    page.goto(live_server.url + "/usage/approvals/")
    expect(page.get_by_text("$3.20")).to_be_visible()
    screenshot(page, "4-approvals")
    page.get_by_label("Why not? (shown to them)").fill("Use 4 seconds for drafts")
    page.get_by_role("button", name="Deny").click()
    expect(page.get_by_text("Nothing is waiting for approval.")).to_be_visible()

    page.set_viewport_size(PHONE)
    for path, step in [("/usage/", "5-usage-phone"), ("/usage/budgets/", "6-budgets-phone")]:
        page.goto(live_server.url + path)
        screenshot(page, step)
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], path
