"""Forms of the usage pages: filters, budgets, allowances, denials."""

from __future__ import annotations

import datetime
import re
from decimal import Decimal

from django import forms
from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _

from usage.models import TeamBudget

MAX_MONEY = Decimal("1000000000")
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


def money_field(label, *, required: bool = False, help_text: str = "") -> forms.DecimalField:
    field = forms.DecimalField(label=label, required=required, min_value=0, max_value=MAX_MONEY, max_digits=14,
                               decimal_places=2, help_text=help_text)
    field.widget.attrs.update({"step": "0.01", "inputmode": "decimal"})
    field.error_messages.update({
        "invalid": _("Enter an amount such as 25 or 12.50."),
        "max_decimal_places": _("Use at most two decimals, e.g. 12.50."),
        "min_value": _("The amount cannot be below zero."),
        "max_value": _("That amount is too large."),
        "max_digits": _("That amount is too large."),
    })
    return field


def parse_month(text: str | None) -> datetime.date | None:
    """"2026-11" → 1 November 2026; None for anything else."""
    match = _MONTH.match(text or "")
    if not match:
        return None
    year, month = int(match.group(1)), int(match.group(2))
    if not (2000 <= year <= 9999 and 1 <= month <= 12):
        return None
    return datetime.date(year, month, 1)


class TeamBudgetForm(forms.ModelForm):
    monthly_limit = money_field(_("Team budget per month"),
                                help_text=_("The most the whole team may spend in a month. Empty: no limit."))
    default_person_limit = money_field(_("Budget per person per month"),
                                       help_text=_("For everyone without a budget of their own. Empty: no limit."))
    approval_threshold = money_field(_("Approval needed above"),
                                     help_text=_("A job estimated above this waits for an administrator’s approval. "
                                                 "Empty: no approval needed."))

    class Meta:
        model = TeamBudget
        fields = ["monthly_limit", "default_person_limit", "approval_threshold"]

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        for name in self.Meta.fields:  # stored to 4 places; typed and shown to 2
            if self.initial.get(name) is not None:
                self.initial[name] = Decimal(self.initial[name]).quantize(Decimal("0.01"))


class PersonBudgetForm(forms.Form):
    monthly_limit = money_field(_("Budget per month"), help_text=_("Empty: the team’s default per person."))


class AllowanceForm(forms.Form):
    amount = money_field(_("One-off allowance"), required=True,
                         help_text=_("Added to this person’s budget for this month only."))
    reason = forms.CharField(label=_("Reason"), max_length=300, required=False)

    def clean_amount(self) -> Decimal:
        amount = self.cleaned_data["amount"]
        if amount <= 0:
            raise forms.ValidationError(_("An allowance must be more than zero."))
        return amount


class DenyForm(forms.Form):
    reason = forms.CharField(label=_("Why not?"), max_length=1000, required=False,
                             widget=forms.TextInput(attrs={"placeholder": _("e.g. too many outputs; try 2")}))


def person_choices() -> list[tuple[str, str]]:
    people = get_user_model().objects.order_by("username").values_list("username", "first_name", "last_name")
    return [("", _("Everyone"))] + [
        (username, f"{first} {last}".strip() or username) for username, first, last in people]
