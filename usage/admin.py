"""Admin screens: prices inline on catalogue entries (studio.admin), and read-only cost records."""

from __future__ import annotations

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from usage.models import Allowance, ApprovalRequest, Charge, ModelPrice


class ModelPriceInline(admin.StackedInline):
    model = ModelPrice
    extra = 0
    max_num = 1
    can_delete = True
    verbose_name = _("price")
    verbose_name_plural = _("price (replaces the built-in price; delete it to go back to the built-in one)")
    fields = ("per", "amount", "currency", "checked_on", "estimate", "factors", "outputs", "minimum", "note")


@admin.register(Charge)
class ChargeAdmin(admin.ModelAdmin):
    list_display = ("created_at", "user", "model_title", "estimated_cost", "reported_cost", "currency", "outputs",
                    "state")
    list_filter = ("model_id",)
    search_fields = ("user__username", "model_id")
    date_hierarchy = "created_at"
    list_select_related = ("user", "generation")

    @admin.display(description=_("job state"))
    def state(self, charge: Charge) -> str:
        return charge.generation.get_state_display()

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Allowance)
class AllowanceAdmin(admin.ModelAdmin):
    list_display = ("user", "month", "amount", "reason", "granted_by", "created_at")
    list_filter = ("month",)


@admin.register(ApprovalRequest)
class ApprovalRequestAdmin(admin.ModelAdmin):
    list_display = ("generation", "decision", "requested_at", "decided_by", "decided_at")
    list_filter = ("decision",)
    readonly_fields = ("generation", "requested_at")

    def has_add_permission(self, request) -> bool:
        return False  # requests come from Generate; decisions are taken on the Approvals page
