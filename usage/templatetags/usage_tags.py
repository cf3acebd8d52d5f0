"""Money on pages: "$0.05", "$0.003", "€12.40"; one formatter for pages, messages and tests."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from django import template
from django.conf import settings

register = template.Library()

SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥"}


@register.filter
def money(amount: Decimal | float | int | None, currency: str | None = None) -> str:
    """Two decimals from a dollar up; below, as many as the figure has (two to four): $0.039."""
    if amount is None:
        return ""
    value = Decimal(str(amount))
    if abs(value) >= 1:
        text = f"{value.quantize(Decimal('0.01'), rounding=ROUND_HALF_UP):,.2f}"
    else:
        text = f"{value.quantize(Decimal('0.0001'), rounding=ROUND_HALF_UP):.4f}"
        while len(text.split(".")[1]) > 2 and text.endswith("0"):
            text = text[:-1]
    code = currency or settings.ATELIER_CURRENCY
    symbol = SYMBOLS.get(code)
    if symbol is None:
        return f"{text} {code}"
    return f"-{symbol}{text[1:]}" if text.startswith("-") else f"{symbol}{text}"


@register.filter
def percent_width(fraction: float | None) -> int:
    """A progress bar's filled share, 0–100."""
    if fraction is None:
        return 0
    return max(0, min(100, round(fraction * 100)))
