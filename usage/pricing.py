"""Price rules and estimates: what one job with these settings is expected to cost.

A price rule is data, like the rest of a catalogue entry (`price = { per = "megapixel",
amount = 0.025, ... }` in builtin.toml, or an administrator's price in the admin):

- `per`: "image" (each output picture), "megapixel" (each output picture's pixels,
  rounded up to whole megapixels of 1024 × 1024), "second" (of video) or "request"
  (one flat amount per job);
- `amount`, `currency` (ISO code), `checked` (the date the price was looked up),
  `estimate` (true when it comes from a public price list rather than an invoice);
- `factors`: multipliers picked by input values, e.g. `{ generate_audio = { false = 0.5 } }`
  or `{ resolution = { "1080p" = 1.5 } }`;
- `outputs`: the inputs whose product is the number of outputs (default `["num_images"]`);
- `minimum`: the least billed quantity per output (e.g. 5 seconds for Kling).

Nothing here touches the database: `estimate()` is a pure function of a rule, the model's
fields and the job's arguments, so the form's figure and the recorded one always agree.
"""

from __future__ import annotations

import datetime
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field as dataclass_field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from django.db import models
from django.utils.translation import gettext_lazy as _, ngettext

# Money is kept to a hundredth of a cent: FLUX schnell costs $0.003 a megapixel.
MONEY_PLACES = Decimal("0.0001")
MEGAPIXEL = 1024 * 1024
DEFAULT_OUTPUTS = ("num_images",)
DEFAULT_SECONDS_INPUT = "duration"
# fal's named sizes (fal-protocol.md §4) and Seedream's own.
NAMED_SIZES: dict[str, tuple[int, int]] = {
    "square_hd": (1024, 1024),
    "square": (512, 512),
    "portrait_4_3": (768, 1024),
    "portrait_16_9": (576, 1024),
    "landscape_4_3": (1024, 768),
    "landscape_16_9": (1024, 576),
    "auto": (2048, 2048),
    "auto_2K": (2048, 2048),
    "auto_4K": (4096, 4096),
}
CURRENCY_CODE = re.compile(r"^[A-Z]{3}$")
RULE_KEYS = frozenset({"per", "amount", "currency", "checked", "estimate", "factors", "outputs", "minimum", "note"})


class Per(models.TextChoices):
    IMAGE = "image", _("per output picture")
    MEGAPIXEL = "megapixel", _("per megapixel of output")
    SECOND = "second", _("per second of video")
    REQUEST = "request", _("per request")


class PriceRuleError(ValueError):
    """A price rule that cannot be used; the message says what to change."""


@dataclass(frozen=True)
class PriceRule:
    per: str
    amount: Decimal
    currency: str = "USD"
    checked: datetime.date | None = None
    estimate: bool = True
    factors: Mapping[str, Mapping[str, Decimal]] = dataclass_field(default_factory=dict)
    outputs: tuple[str, ...] = DEFAULT_OUTPUTS
    minimum: Decimal | None = None
    note: str = ""

    @property
    def per_label(self) -> str:
        return str(Per(self.per).label)


@dataclass(frozen=True)
class Estimate:
    """What a job is expected to cost, and how that figure was reached (for a tooltip)."""

    amount: Decimal
    currency: str
    rule: PriceRule
    outputs: int
    quantity: Decimal  # billed units per output: megapixels, seconds, 1
    factor: Decimal

    @property
    def explanation(self) -> str:
        unit_price = f"{self.rule.amount.normalize():f} {self.currency}"
        if self.rule.per == Per.REQUEST:
            text = _("one request at %(price)s") % {"price": unit_price}
        elif self.rule.per == Per.IMAGE:
            text = ngettext("%(n)d picture at %(price)s", "%(n)d pictures at %(price)s", self.outputs) % {
                "n": self.outputs, "price": unit_price}
        elif self.rule.per == Per.MEGAPIXEL:
            text = ngettext("%(n)d picture × %(mp)s MP at %(price)s per MP",
                            "%(n)d pictures × %(mp)s MP at %(price)s per MP", self.outputs) % {
                "n": self.outputs, "mp": f"{self.quantity.normalize():f}", "price": unit_price}
        else:
            text = ngettext("%(n)d video × %(s)s s at %(price)s per second",
                            "%(n)d videos × %(s)s s at %(price)s per second", self.outputs) % {
                "n": self.outputs, "s": f"{self.quantity.normalize():f}", "price": unit_price}
        if self.factor != 1:
            text += " × " + f"{self.factor.normalize():f}"
        return text


# --- Reading a rule --------------------------------------------------------------------------
def price_rule_from_dict(data: Any) -> PriceRule:
    """Check a `price` table (TOML or JSON shape) and build its rule, or raise PriceRuleError."""
    if not isinstance(data, Mapping):
        raise PriceRuleError("“price” must be a table such as { per = \"image\", amount = 0.04, currency = \"USD\" }.")
    unknown = sorted(set(data) - RULE_KEYS)
    if unknown:
        raise PriceRuleError(f"unknown price setting “{unknown[0]}”; a price has {', '.join(sorted(RULE_KEYS))}.")
    per = data.get("per")
    if per not in Per.values:
        raise PriceRuleError(f"the price’s “per” must be one of {', '.join(Per.values)} (got {per!r}).")
    amount = _decimal(data.get("amount"), "amount")
    if amount is None:
        raise PriceRuleError("the price needs an “amount”, e.g. 0.04.")
    currency = data.get("currency", "USD")
    if not isinstance(currency, str) or not CURRENCY_CODE.match(currency):
        raise PriceRuleError(f"the currency must be a three-letter code such as USD (got {currency!r}).")
    checked = data.get("checked")
    if isinstance(checked, str):
        try:
            checked = datetime.date.fromisoformat(checked)
        except ValueError:
            raise PriceRuleError(f"“checked” must be a date such as 2025-10-01 (got {checked!r}).") from None
    if checked is not None and not isinstance(checked, datetime.date):
        raise PriceRuleError("“checked” must be a date such as 2025-10-01.")
    estimate = data.get("estimate", True)
    if not isinstance(estimate, bool):
        raise PriceRuleError("“estimate” must be true or false.")
    outputs = data.get("outputs", list(DEFAULT_OUTPUTS))
    if not isinstance(outputs, (list, tuple)) or not all(isinstance(name, str) and name for name in outputs):
        raise PriceRuleError("“outputs” must be a list of input names, e.g. [\"num_images\"].")
    note = data.get("note", "")
    if not isinstance(note, str):
        raise PriceRuleError("the price’s “note” must be text.")
    return PriceRule(per=per, amount=amount, currency=currency, checked=checked, estimate=estimate,
                     factors=_factors(data.get("factors")), outputs=tuple(outputs),
                     minimum=_decimal(data.get("minimum"), "minimum"), note=note.strip())


def _factors(raw: Any) -> dict[str, dict[str, Decimal]]:
    if raw is None:
        return {}
    if not isinstance(raw, Mapping) or not all(isinstance(values, Mapping) for values in raw.values()):
        raise PriceRuleError("“factors” must map an input name to {value = multiplier}, "
                             "e.g. { generate_audio = { false = 0.5 } }.")
    factors: dict[str, dict[str, Decimal]] = {}
    for name, values in raw.items():
        factors[str(name)] = {}
        for value, multiplier in values.items():
            number = _decimal(multiplier, f"factor for {name} = {value}")
            factors[str(name)][str(value)] = number
    return factors


def _decimal(value: Any, what: str) -> Decimal | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float, str, Decimal)):
        raise PriceRuleError(f"the {what} must be a number (got {value!r}).")
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        raise PriceRuleError(f"the {what} must be a number (got {value!r}).") from None
    if not number.is_finite() or number < 0:
        raise PriceRuleError(f"the {what} must be zero or more (got {value!r}).")
    return number


# --- Estimating -----------------------------------------------------------------------------
def estimate(rule: PriceRule, arguments: Mapping[str, Any], defaults: Mapping[str, Any] | None = None) -> Estimate:
    """The expected cost of a job: `arguments` as sent to fal, `defaults` for inputs left out.

    `defaults` are the catalogue's field defaults (a left-out input means the model's own
    default, which the catalogue copies); a size default may be a {width, height} dict.
    """
    values = {**(defaults or {}), **arguments}
    outputs = 1
    if rule.per != Per.REQUEST:
        for name in rule.outputs:
            outputs *= max(1, _whole(values.get(name), 1))
    if rule.per == Per.MEGAPIXEL:
        quantity = Decimal(_megapixels(values))
    elif rule.per == Per.SECOND:
        quantity = _seconds(values.get(DEFAULT_SECONDS_INPUT))
    else:
        quantity = Decimal(1)
    if rule.minimum is not None and rule.per != Per.REQUEST:
        quantity = max(quantity, rule.minimum)
    factor = Decimal(1)
    for name, table in rule.factors.items():
        if name in values:
            factor *= table.get(_factor_key(values[name]), Decimal(1))
    amount = (rule.amount * outputs * quantity * factor).quantize(MONEY_PLACES, rounding=ROUND_HALF_UP)
    return Estimate(amount=amount, currency=rule.currency, rule=rule, outputs=outputs, quantity=quantity,
                    factor=factor)


def _whole(value: Any, fallback: int) -> int:
    if isinstance(value, bool):
        return fallback
    if isinstance(value, (int, float)) and math.isfinite(value):
        return int(value)
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return fallback


def _megapixels(values: Mapping[str, Any]) -> int:
    """Whole megapixels of one output, rounded up; 1 when the size is not known before the run."""
    size = values.get("image_size")
    width = height = None
    if isinstance(size, Mapping):
        width, height = _whole(size.get("width"), 0), _whole(size.get("height"), 0)
    elif isinstance(size, str) and size in NAMED_SIZES:
        width, height = NAMED_SIZES[size]
    if not width or not height:
        return 1
    return max(1, math.ceil(width * height / MEGAPIXEL))


def _seconds(value: Any) -> Decimal:
    """fal writes durations as "8s", "5" or 8; unknown means one second (the rule's minimum applies)."""
    if isinstance(value, str):
        match = re.match(r"^\s*(\d+(?:\.\d+)?)\s*s?\s*$", value)
        if match:
            return Decimal(match.group(1))
    elif isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value) and value > 0:
        return Decimal(str(value))
    return Decimal(1)


def _factor_key(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
