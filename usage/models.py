"""What generations cost, who may spend how much, and the jobs waiting for an administrator.

- `ModelPrice`: an administrator's price for a catalogue entry (replaces builtin.toml's).
- `Charge`: one per generation: the estimate made at the click, the figure the service
  reported (if any), and the number of outputs. Failed, cancelled and not-yet-approved
  jobs keep their charge row but are not counted as spend (the generation's state says so).
- `PersonBudget`, `TeamBudget`, `Allowance`: monthly limits set by administrators.
  A person's budget row is also the lock that serialises their submits (usage.budgets).
- `ApprovalRequest`: a job above the per-job limit, waiting for an administrator.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from usage.pricing import Per, PriceRule, PriceRuleError, price_rule_from_dict

MONEY = {"max_digits": 14, "decimal_places": 4}


class ModelPrice(models.Model):
    entry = models.OneToOneField("studio.CatalogueEntry", on_delete=models.CASCADE, related_name="price",
                                 verbose_name=_("catalogue entry"))
    per = models.CharField(_("charged"), max_length=20, choices=Per.choices)
    amount = models.DecimalField(_("amount"), **MONEY, help_text=_("The price of one unit, e.g. 0.04."))
    currency = models.CharField(_("currency"), max_length=3, default="USD",
                                help_text=_("Three-letter code; it must be the currency of the budgets."))
    checked_on = models.DateField(_("price checked on"), default=datetime.date.today)
    estimate = models.BooleanField(_("estimate"), default=True,
                                   help_text=_("Ticked when the price comes from a public price list, not an invoice."))
    factors = models.JSONField(
        _("factors"), default=dict, blank=True,
        help_text=_('Multipliers picked by input values, e.g. {"generate_audio": {"false": 0.5}} or '
                    '{"resolution": {"1080p": 1.5}}.'))
    outputs = models.JSONField(
        _("outputs from"), default=list, blank=True,
        help_text=_('Inputs whose product is the number of outputs; empty means ["num_images"].'))
    minimum = models.DecimalField(_("minimum quantity"), **MONEY, null=True, blank=True,
                                  help_text=_("The least billed quantity per output, e.g. 5 (seconds)."))
    note = models.CharField(_("note"), max_length=300, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("price")
        verbose_name_plural = _("prices")

    def __str__(self) -> str:
        return f"{self.amount} {self.currency} {self.get_per_display()}"

    def rule_data(self) -> dict:
        data = {"per": self.per, "amount": self.amount, "currency": self.currency, "checked": self.checked_on,
                "estimate": self.estimate, "factors": self.factors or None, "minimum": self.minimum,
                "note": self.note}
        if self.outputs:
            data["outputs"] = self.outputs
        return data

    def rule(self) -> PriceRule:
        return price_rule_from_dict(self.rule_data())

    def clean(self) -> None:
        self.currency = (self.currency or "").strip().upper()
        if self.currency and self.currency != settings.ATELIER_CURRENCY:
            raise ValidationError({"currency": _("Budgets are kept in %(currency)s; enter the price in %(currency)s.")
                                   % {"currency": settings.ATELIER_CURRENCY}})
        if self.amount is None or not self.per:
            return
        try:
            self.rule()
        except PriceRuleError as error:
            key = "factors" if "factor" in str(error) else "outputs" if "outputs" in str(error) else "amount"
            raise ValidationError({key: str(error)}) from None


class Charge(models.Model):
    generation = models.OneToOneField("studio.Generation", on_delete=models.CASCADE, primary_key=True,
                                      related_name="charge")
    # Copies of the generation's owner, model and time, so reports group without a join.
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="charges")
    model_id = models.CharField(max_length=200)
    model_title = models.CharField(max_length=200)
    created_at = models.DateTimeField(default=timezone.now)
    estimated_cost = models.DecimalField(**MONEY, default=Decimal(0))
    reported_cost = models.DecimalField(**MONEY, null=True, blank=True,
                                        help_text=_("The figure the service reported, when it did."))
    currency = models.CharField(max_length=3, default="USD")
    priced = models.BooleanField(default=True, help_text=_("False when the model had no price."))
    explanation = models.CharField(max_length=300, blank=True)
    outputs = models.PositiveIntegerField(default=0)

    class Meta:
        indexes = [
            models.Index(fields=["user", "created_at"]),
            models.Index(fields=["created_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.model_id}: {self.cost} {self.currency}"

    @property
    def cost(self) -> Decimal:
        return self.reported_cost if self.reported_cost is not None else self.estimated_cost


class TeamBudget(models.Model):
    """One row (pk=1): the team's monthly limit, the default per person, the per-job limit."""

    monthly_limit = models.DecimalField(_("team budget per month"), **MONEY, null=True, blank=True)
    default_person_limit = models.DecimalField(_("default budget per person per month"), **MONEY, null=True,
                                               blank=True)
    approval_threshold = models.DecimalField(_("jobs above this need approval"), **MONEY, null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    @classmethod
    def current(cls) -> TeamBudget:
        return cls.objects.get_or_create(pk=1)[0]


class PersonBudget(models.Model):
    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="budget")
    monthly_limit = models.DecimalField(_("budget per month"), **MONEY, null=True, blank=True,
                                        help_text=_("Empty: the team’s default per person."))
    updated_at = models.DateTimeField(auto_now=True)


class Allowance(models.Model):
    """A one-off addition to one person's budget for one month."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="allowances")
    month = models.DateField(help_text=_("The first day of the month it applies to."))
    amount = models.DecimalField(**MONEY)
    reason = models.CharField(max_length=300, blank=True)
    granted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["user", "month"])]


class ApprovalRequest(models.Model):
    class Decision(models.TextChoices):
        PENDING = "pending", _("Waiting")
        APPROVED = "approved", _("Approved")
        DENIED = "denied", _("Denied")
        WITHDRAWN = "withdrawn", _("Withdrawn")

    generation = models.OneToOneField("studio.Generation", on_delete=models.CASCADE, primary_key=True,
                                      related_name="approval")
    decision = models.CharField(max_length=10, choices=Decision.choices, default=Decision.PENDING)
    requested_at = models.DateTimeField(default=timezone.now)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="+")
    reason = models.TextField(blank=True)

    class Meta:
        indexes = [models.Index(fields=["decision", "requested_at"])]
