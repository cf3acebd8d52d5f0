"""After each POST to the Django admin, its log entries join the audit log."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.urls import reverse

from audit.record import mirror_admin_log


def admin_audit_middleware(get_response: Callable[[HttpRequest], HttpResponse]) -> Callable[[HttpRequest], HttpResponse]:
    admin_prefix = reverse("admin:index")

    def middleware(request: HttpRequest) -> HttpResponse:
        response = get_response(request)
        if (request.method == "POST" and request.path.startswith(admin_prefix)
                and getattr(request, "user", None) is not None and request.user.is_staff):
            mirror_admin_log(request)
        return response

    return middleware
