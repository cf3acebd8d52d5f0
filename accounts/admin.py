"""Django's user admin, with the person's role and default visibility on the same page."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.utils.translation import gettext_lazy as _

from accounts.forms import AdminLoginForm
from accounts.models import Profile

# The admin's login page is a second way in: it gets the same rate limit as /login/.
admin.site.login_form = AdminLoginForm


class ProfileInline(admin.StackedInline):
    model = Profile
    can_delete = False
    fields = ["role", "default_visibility"]
    verbose_name_plural = _("Role in Atelier")


User = get_user_model()
if admin.site.is_registered(User):
    admin.site.unregister(User)


@admin.register(User)
class PersonAdmin(UserAdmin):
    def get_inlines(self, request, obj):
        # Not on the "add user" page: saving the user creates the profile (accounts.signals).
        return [ProfileInline] if obj is not None else []
