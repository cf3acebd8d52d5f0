"""Writing audit events. Views call `record(request, action, target, **details)`.

Django admin changes are copied from the admin's own LogEntry rows (`mirror_admin_log`),
after every admin POST (audit.middleware) and before the audit page is shown, so bulk
deletions (which Django logs with bulk_create, without signals) are caught too.
"""

from __future__ import annotations

from typing import Any

from django.contrib.admin.models import ADDITION, CHANGE, DELETION, LogEntry
from django.db.models import Max
from django.http import HttpRequest

from audit.models import AuditEvent

Action = AuditEvent.Action

_ADMIN_ACTIONS = {ADDITION: Action.ADMIN_ADDED, CHANGE: Action.ADMIN_CHANGED, DELETION: Action.ADMIN_DELETED}


def client_ip(request: HttpRequest | None) -> str | None:
    """REMOTE_ADDR, as the login throttle uses it (X-Forwarded-For is not trusted)."""
    if request is None:
        return None
    return request.META.get("REMOTE_ADDR") or None


def person_label(person: Any) -> str:
    full_name = person.get_full_name()
    username = person.get_username()
    return f"{full_name} ({username})" if full_name else username


def record(request: HttpRequest, action: str, target: str, **details: Any) -> AuditEvent:
    """One event by the person making this request. `details` must hold no secrets."""
    user = request.user if request.user.is_authenticated else None
    return AuditEvent.objects.create(
        actor=user, actor_name=user.get_username() if user else "", action=action,
        target=target[:300], details=details, ip_address=client_ip(request),
    )


def share_link_details(link: Any) -> dict[str, Any]:
    """How to recognise a link in the log without being able to open it: id and 6 characters."""
    return {
        "link_id": link.pk,
        "token_prefix": link.token[:6],
        "expires_at": link.expires_at.isoformat() if link.expires_at else None,
        "allow_download": link.allow_download,
        "show_prompts": link.show_prompts,
    }


def share_link_target(link: Any) -> str:
    if link.asset_id:
        return f"Item {link.asset_id}"
    return f"Album “{link.album.name}” ({link.album_id})"


def mirror_admin_log(request: HttpRequest | None = None) -> int:
    """Copy admin LogEntry rows not yet in the audit log; returns how many were copied.

    The request's address goes on the entries this request's user made; entries found
    later (e.g. by the audit page) carry no address rather than a wrong one.
    """
    last = AuditEvent.objects.aggregate(last=Max("admin_log_id"))["last"] or 0
    entries = list(LogEntry.objects.filter(id__gt=last).select_related("user", "content_type").order_by("id")[:1000])
    if not entries:
        return 0
    ip = client_ip(request)
    user_id = request.user.pk if request is not None and request.user.is_authenticated else None
    events = [
        AuditEvent(
            created_at=entry.action_time, actor=entry.user, actor_name=entry.user.get_username(),
            action=_ADMIN_ACTIONS.get(entry.action_flag, Action.ADMIN_CHANGED),
            target=f"{entry.content_type.name if entry.content_type else 'object'}: {entry.object_repr}"[:300],
            details={"model": _model_label(entry), "object_id": entry.object_id, "change": entry.get_change_message()},
            ip_address=ip if entry.user_id == user_id else None,
            admin_log_id=entry.pk,
        )
        for entry in entries
    ]
    # Two admin requests finishing together may both copy the same entries: the unique
    # admin_log_id keeps each once.
    AuditEvent.objects.bulk_create(events, ignore_conflicts=True)
    return len(events)


def _model_label(entry: LogEntry) -> str:
    content_type = entry.content_type
    return f"{content_type.app_label}.{content_type.model}" if content_type else ""
