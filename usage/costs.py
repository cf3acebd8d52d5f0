"""Prices in force, estimates for a job, and what is recorded about each job's cost."""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings

from usage.models import Charge, ModelPrice
from usage.pricing import MONEY_PLACES, Estimate, PriceRule, PriceRuleError, estimate

logger = logging.getLogger(__name__)


def price_for(spec) -> PriceRule | None:
    """The administrator's price for this model if there is one, else the catalogue's."""
    override = ModelPrice.objects.filter(entry__model_id=spec.id).first()
    if override is not None:
        try:
            return override.rule()
        except PriceRuleError as error:  # saved before a check existed, say: fall back, loudly
            logger.warning("The price of %s cannot be used (%s); using the catalogue's", spec.id, error)
    return spec.price


def estimate_for(spec, arguments: Mapping[str, Any]) -> Estimate | None:
    """What this job is expected to cost, or None when the model has no price."""
    rule = price_for(spec)
    if rule is None:
        return None
    return estimate(rule, arguments, spec.default_arguments)


def record_charge(generation, cost: Estimate | None) -> Charge:
    """The charge row of a new job (in the job's own transaction)."""
    return Charge.objects.create(
        generation=generation, user=generation.user, model_id=generation.model_id,
        model_title=generation.model_title, created_at=generation.created_at,
        estimated_cost=cost.amount if cost else Decimal(0),
        currency=cost.currency if cost else settings.ATELIER_CURRENCY,
        priced=cost is not None, explanation=str(cost.explanation)[:300] if cost else "")


def record_outcome(generation, outputs: int) -> None:
    """A finished job: how many outputs it saved, and the cost the service reported (if it did)."""
    changes: dict[str, Any] = {"outputs": outputs}
    reported = reported_cost(generation.result)
    if reported is not None:
        changes["reported_cost"] = reported
    Charge.objects.filter(generation_id=generation.id).update(**changes)


# Where fal-compatible services put a job's price when they report it: fal itself does not
# (its invoices are per account), aggregators often add a usage or billing block.
_COST_PATHS = (("cost",), ("usage", "cost"), ("usage", "total_cost"), ("usage", "price"),
               ("billing", "cost"), ("billing", "amount"), ("metrics", "cost"))


def reported_cost(result: Any) -> Decimal | None:
    """The cost the upstream answer reports, or None when it reports none (or nonsense)."""
    if not isinstance(result, Mapping):
        return None
    for path in _COST_PATHS:
        value: Any = result
        for key in path:
            value = value.get(key) if isinstance(value, Mapping) else None
        if isinstance(value, bool) or value is None:
            continue
        try:
            number = Decimal(str(value)) if isinstance(value, (int, float, str)) else None
        except InvalidOperation:
            number = None
        if number is None or not number.is_finite() or number < 0 or (isinstance(value, float)
                                                                        and not math.isfinite(value)):
            continue
        return number.quantize(MONEY_PLACES)
    return None
