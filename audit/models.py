"""The audit log: who did what to people, links and visibility, and when. Append-only.

Rows are written by `audit.record` and never changed or removed by Atelier: `save()` on an
existing row, `delete()`, and queryset `update()`/`delete()` all refuse. (Someone with the
database itself can still edit it; the log is a record for administrators, not a vault.)
Secrets never go in: a share link is named by its id and a short prefix of its token.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class AppendOnlyError(Exception):
    """Raised when code tries to change or remove an audit event."""


class AuditEventQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise AppendOnlyError("Audit events cannot be changed.")

    def delete(self):
        raise AppendOnlyError("Audit events cannot be removed.")


class AuditEvent(models.Model):
    class Action(models.TextChoices):
        PERSON_ADDED = "person.added", _("Person added")
        ROLE_CHANGED = "person.role_changed", _("Role changed")
        PERSON_DEACTIVATED = "person.deactivated", _("Person deactivated")
        PERSON_REACTIVATED = "person.reactivated", _("Person reactivated")
        LINK_ISSUED = "person.link_issued", _("Set-password link issued")
        ADMIN_ADDED = "admin.added", _("Added in the admin")
        ADMIN_CHANGED = "admin.changed", _("Changed in the admin")
        ADMIN_DELETED = "admin.deleted", _("Deleted in the admin")
        SHARE_CREATED = "share.created", _("Share link created")
        SHARE_WITHDRAWN = "share.withdrawn", _("Share link withdrawn")
        ITEM_VISIBILITY = "item.visibility", _("Item visibility changed")
        ALBUM_VISIBILITY = "album.visibility", _("Album visibility changed")

    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    # Kept when the account is deleted in the admin: the name is copied at the time.
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="+")
    actor_name = models.CharField(max_length=150, blank=True)
    action = models.CharField(max_length=40, choices=Action.choices, db_index=True)
    target = models.CharField(max_length=300, blank=True)
    details = models.JSONField(default=dict, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    # Which Django admin LogEntry this mirrors (audit.record.mirror_admin_log), at most once.
    admin_log_id = models.PositiveIntegerField(null=True, blank=True, unique=True)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.actor_name} {self.action} {self.target}"

    def save(self, *args, **kwargs) -> None:
        if not self._state.adding:
            raise AppendOnlyError("Audit events cannot be changed.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("Audit events cannot be removed.")
