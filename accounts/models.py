"""Who someone is in Atelier: their role, and who sees their new work by default."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Profile(models.Model):
    """One per user, created with the user (accounts.signals) or on first use (accounts.roles)."""

    class Role(models.TextChoices):
        ADMINISTRATOR = "administrator", _("Administrator")
        MEMBER = "member", _("Member")
        VIEWER = "viewer", _("Viewer")

    class Visibility(models.TextChoices):
        # The same values as gallery.models.Visibility: new work copies this one.
        TEAM = "team", _("The team")
        PRIVATE = "private", _("Only me")

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="profile")
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.MEMBER)
    default_visibility = models.CharField(max_length=10, choices=Visibility.choices, default=Visibility.TEAM)
    # Empty: follow the browser. Otherwise one of settings.LANGUAGES, applied at every login.
    language = models.CharField(max_length=10, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [models.Index(fields=["role"])]

    def __str__(self) -> str:
        return f"{self.user} ({self.get_role_display()})"
