"""Price rules and estimates: each kind of rule, factors, minimums, and the catalogue's defaults."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest

from studio import catalogue
from studio.catalogue import CatalogueError, spec_from_dict
from usage.pricing import PriceRuleError, estimate, price_rule_from_dict
from usage.templatetags.usage_tags import money


def rule(**data):
    return price_rule_from_dict({"currency": "USD", **data})


def test_per_image_counts_every_picture():
    cost = estimate(rule(per="image", amount=0.04), {"num_images": 3})
    assert cost.amount == Decimal("0.12") and cost.outputs == 3


def test_per_image_multiplies_every_output_input():
    seedream = rule(per="image", amount=0.03, outputs=["num_images", "max_images"])
    assert estimate(seedream, {"num_images": 2, "max_images": 3}).amount == Decimal("0.18")


def test_per_megapixel_rounds_each_picture_up_to_whole_megapixels():
    flux = rule(per="megapixel", amount=0.025)
    assert estimate(flux, {"image_size": "landscape_4_3", "num_images": 1}).amount == Decimal("0.025")  # 0.75 MP → 1
    assert estimate(flux, {"image_size": "square_hd", "num_images": 2}).amount == Decimal("0.05")  # 1 MP each
    big = estimate(flux, {"image_size": {"width": 2048, "height": 1536}, "num_images": 1})
    assert big.quantity == 3 and big.amount == Decimal("0.075")
    assert estimate(flux, {}).amount == Decimal("0.025")  # size not known before the run: 1 MP


def test_per_second_follows_the_duration_and_the_factors():
    veo = rule(per="second", amount=0.40, factors={"generate_audio": {"false": 0.5}, "resolution": {"1080p": 1.5}})
    assert estimate(veo, {"duration": "8s", "generate_audio": True}).amount == Decimal("3.2")
    assert estimate(veo, {"duration": "4s", "generate_audio": False}).amount == Decimal("0.8")
    assert estimate(veo, {"duration": "4s", "generate_audio": False, "resolution": "1080p"}).amount == Decimal("1.2")


def test_per_second_with_a_minimum_bills_at_least_the_minimum():
    kling = rule(per="second", amount=0.07, minimum=5)
    assert estimate(kling, {"duration": "5"}).amount == Decimal("0.35")
    assert estimate(kling, {"duration": "10"}).amount == Decimal("0.70")
    assert estimate(kling, {"duration": "2"}).amount == Decimal("0.35")


def test_per_request_ignores_the_number_of_outputs():
    assert estimate(rule(per="request", amount=0.5), {"num_images": 4}).amount == Decimal("0.5")


def test_left_out_inputs_take_the_model_defaults():
    veo = next(spec for spec in catalogue.builtin_catalogue().models if spec.id == "fal-ai/veo3")
    assert veo.default_arguments["duration"] == "8s" and veo.default_arguments["generate_audio"] is True
    assert estimate(veo.price, {}, veo.default_arguments).amount == Decimal("3.2")


@pytest.mark.parametrize("data, words", [
    ({"per": "pixel", "amount": 1}, "“per” must be one of"),
    ({"per": "image"}, "needs an “amount”"),
    ({"per": "image", "amount": -1}, "zero or more"),
    ({"per": "image", "amount": "lots"}, "must be a number"),
    ({"per": "image", "amount": 1, "currency": "dollars"}, "three-letter code"),
    ({"per": "image", "amount": 1, "checked": "yesterday"}, "must be a date"),
    ({"per": "image", "amount": 1, "factors": {"resolution": 2}}, "“factors” must map"),
    ({"per": "image", "amount": 1, "colour": "red"}, "unknown price setting “colour”"),
])
def test_bad_price_rules_are_explained(data, words):
    with pytest.raises(PriceRuleError, match=words):
        price_rule_from_dict(data)


def test_a_bad_price_in_a_catalogue_entry_names_the_model():
    with pytest.raises(CatalogueError) as caught:
        spec_from_dict({"id": "fal-ai/x/y", "title": "X", "kind": "text-to-image", "fields": [{"use": "prompt"}],
                        "price": {"per": "image"}}, builtin=False)
    assert caught.value.key == "price" and "amount" in str(caught.value) and "fal-ai/x/y" in str(caught.value)


def test_every_built_in_model_has_a_dated_estimated_price():
    for spec in catalogue.builtin_catalogue().models:
        assert spec.price is not None, spec.id
        assert spec.price.estimate and spec.price.checked == datetime.date(2025, 10, 1), spec.id
        assert spec.price.currency == "USD" and spec.price.amount > 0, spec.id


@pytest.mark.parametrize("amount, text", [
    ("0", "$0.00"), ("0.05", "$0.05"), ("0.039", "$0.039"), ("0.0245", "$0.0245"), ("0.5", "$0.50"),
    ("12.345", "$12.35"), ("1234.5", "$1,234.50"),
])
def test_money_is_written_plainly(amount, text):
    assert money(Decimal(amount)) == text
    assert money(Decimal(amount), "SEK").endswith(" SEK")
