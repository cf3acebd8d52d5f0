"""The Generate button's figure: the estimate endpoint follows what the form says."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.urls import reverse

from studio.models import CatalogueEntry
from usage.models import ModelPrice, PersonBudget

pytestmark = pytest.mark.django_db


def estimate_of(client, model_id: str, **fields) -> tuple[Decimal | None, str]:
    response = client.post(reverse("studio:estimate", args=[model_id]), fields, headers={"HX-Request": "true"})
    assert response.status_code == 200
    page = response.content.decode()
    found = re.search(r'data-estimate="([0-9.]+)"', page)
    return (Decimal(found.group(1)) if found else None), page


def test_the_figure_follows_the_number_of_pictures_and_the_size(member_client):
    model = "fal-ai/flux-1/dev"
    one, page = estimate_of(member_client, model, prompt="", num_images="1", image_size="landscape_4_3")
    assert one == Decimal("0.025") and "about $0.025" in page
    three, _ = estimate_of(member_client, model, num_images="3", image_size="landscape_4_3")
    assert three == Decimal("0.075")
    custom, page = estimate_of(member_client, model, num_images="2", image_size="custom",
                               image_size_width="2048", image_size_height="2048")
    assert custom == Decimal("0.2")  # 4 MP × 2 × $0.025
    assert "2 pictures × 4 MP" in page


def test_half_typed_values_fall_back_to_the_defaults(member_client):
    # A custom size without its height yet, and a count being typed: the button still shows a figure.
    figure, _ = estimate_of(member_client, "fal-ai/flux-1/dev", num_images="", image_size="custom",
                            image_size_width="2048")
    assert figure == Decimal("0.025")
    figure, _ = estimate_of(member_client, "fal-ai/flux-1/dev", num_images="99")  # above the maximum of 4
    assert figure == Decimal("0.025")


def test_video_length_and_sound_change_the_figure(member_client):
    with_sound, _ = estimate_of(member_client, "fal-ai/veo3", duration="8s", generate_audio="on")
    silent, _ = estimate_of(member_client, "fal-ai/veo3", duration="4s")  # an unticked box is not sent
    assert with_sound == Decimal("3.2") and silent == Decimal("0.8")
    kling, _ = estimate_of(member_client, "fal-ai/kling-video/v2.5-turbo/pro/text-to-video", duration="10")
    assert kling == Decimal("0.7")


def test_the_page_shows_the_estimate_and_the_budget_left(member_client, member, job):
    PersonBudget.objects.create(user=member, monthly_limit=Decimal("20"))
    job(member, cost="4.60")
    page = member_client.get(reverse("studio:generate", args=["fal-ai/nano-banana"])).content.decode()
    assert 'hx-post="/estimate/fal-ai/nano-banana/"' in page
    assert "change from:closest form, input delay:300ms from:closest form" in page
    assert "about $0.039" in page
    assert "$15.40 left of your $20.00 budget this month (23% used)" in page


def test_an_administrators_price_replaces_the_built_in_one(member_client):
    entry = CatalogueEntry.objects.create(model_id="fal-ai/nano-banana")
    ModelPrice.objects.create(entry=entry, per="request", amount=Decimal("0.5"))
    figure, _ = estimate_of(member_client, "fal-ai/nano-banana", num_images="4")
    assert figure == Decimal("0.5")


def test_an_administrator_sets_a_price_in_the_admin(administrator_client, member_client):
    form = {"model_id": "fal-ai/nano-banana", "title": "", "description": "", "kind": "", "output": "",
            "fields": "", "price-TOTAL_FORMS": "1", "price-INITIAL_FORMS": "0", "price-MIN_NUM_FORMS": "0",
            "price-MAX_NUM_FORMS": "1", "price-0-per": "image", "price-0-amount": "0.05", "price-0-currency": "EUR",
            "price-0-checked_on": "2025-11-01", "price-0-estimate": "on", "price-0-factors": "{}",
            "price-0-outputs": "[]", "price-0-minimum": "", "price-0-note": "our contract"}
    response = administrator_client.post("/admin/studio/catalogueentry/add/", form)
    assert response.status_code == 200 and "Budgets are kept in USD" in response.content.decode()
    response = administrator_client.post("/admin/studio/catalogueentry/add/", {**form, "price-0-currency": "USD"})
    assert response.status_code == 302, response.content.decode()[:3000]
    figure, page = estimate_of(member_client, "fal-ai/nano-banana", num_images="2")
    assert figure == Decimal("0.1") and "Price list checked 1 Nov 2025" in page


def test_a_model_without_a_price_says_so(member_client):
    CatalogueEntry.objects.create(model_id="fal-ai/recraft/v3", title="Recraft", kind="text-to-image",
                                  fields=[{"use": "prompt"}, {"use": "num_images"}])
    figure, page = estimate_of(member_client, "fal-ai/recraft/v3", num_images="2")
    assert figure is None and "No price is set for this model" in page


def test_viewers_and_unknown_models_get_404(viewer_client, member_client):
    assert viewer_client.post(reverse("studio:estimate", args=["fal-ai/flux-1/dev"])).status_code == 404
    assert member_client.post(reverse("studio:estimate", args=["fal-ai/nope"])).status_code == 404
    assert member_client.get(reverse("studio:estimate", args=["fal-ai/flux-1/dev"])).status_code == 405
