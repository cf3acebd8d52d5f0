"""The audit log page, for administrators only (everyone else gets the plain 404 page)."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from accounts.roles import administrator_required
from audit.models import AuditEvent
from audit.record import mirror_admin_log

PAGE_SIZE = 50


@administrator_required
@require_GET
def audit_log(request: HttpRequest) -> HttpResponse:
    mirror_admin_log(request)  # admin changes not yet copied (e.g. made before an error)
    events = AuditEvent.objects.all()
    person = request.GET.get("person", "")
    action = request.GET.get("action", "")
    if person:
        events = events.filter(actor_name=person)
    if action in AuditEvent.Action.values:
        events = events.filter(action=action)
    else:
        action = ""
    page = Paginator(events, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "audit/audit_log.html", {
        "page": page,
        "people": sorted(get_user_model().objects.values_list("username", flat=True)),
        "actions": AuditEvent.Action.choices,
        "person": person,
        "action": action,
    })
