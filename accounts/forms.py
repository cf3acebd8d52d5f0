"""Forms of the people room: log in, add a person, roles, passwords, personal settings."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import AuthenticationForm, PasswordChangeForm, SetPasswordForm
from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator
from django.utils.translation import gettext_lazy as _

from accounts import throttle
from accounts.models import Profile
from accounts.roles import Role

PASSWORD_HELP = _("At least 8 characters. Avoid common passwords, only digits, or anything close to your username.")
PASSWORD_AGAIN_HELP = _("Type the same password once more, to catch typing mistakes.")


class ThrottledLoginMixin:
    """The rate limit (accounts.throttle) in front of the password check of a login form."""

    def clean(self) -> dict[str, Any]:
        username = self.cleaned_data.get("username")
        password = self.cleaned_data.get("password")
        if username is not None and password:
            wait = throttle.register_attempt(self.request, username)
            if wait:
                raise ValidationError(throttle.refusal_message(wait), code="too_many_attempts")
        cleaned = super().clean()
        if self.user_cache is not None:
            throttle.login_succeeded(self.request, username)
        return cleaned


class LoginForm(ThrottledLoginMixin, AuthenticationForm):
    pass


class AdminLoginForm(ThrottledLoginMixin, AdminAuthenticationForm):
    """Django admin's own login page counts against the same limits."""


class AddPersonForm(forms.Form):
    username = forms.CharField(
        label=_("Username"),
        max_length=150,
        help_text=_("What they will log in with. Letters, digits and @ . + - _ only."),
    )
    name = forms.CharField(label=_("Name (optional)"), max_length=150, required=False)
    email = forms.EmailField(label=_("Email (optional)"), required=False)
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices, initial=Role.MEMBER)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        username_field = get_user_model()._meta.get_field("username")
        # The model's own max-length validator would repeat the form field's length message.
        self.fields["username"].validators.extend(
            v for v in username_field.validators if not isinstance(v, MaxLengthValidator))
        self.fields["username"].widget.attrs.update({"autocomplete": "off", "autocapitalize": "none"})
        self.fields["name"].widget.attrs["autocomplete"] = "off"
        self.fields["email"].widget.attrs["autocomplete"] = "off"

    def clean_username(self) -> str:
        username = get_user_model().normalize_username(self.cleaned_data["username"].strip())
        if get_user_model().objects.filter(username__iexact=username).exists():
            raise ValidationError(_("Someone already has this username. Choose another."), code="unique")
        return username


class RoleForm(forms.Form):
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices)


class MySettingsForm(forms.ModelForm):
    class Meta:
        model = Profile
        fields = ["default_visibility"]
        labels = {"default_visibility": _("Who sees your new work")}
        help_texts = {
            "default_visibility": _("Applies to what you make from now on. You can still change it for any single item."),
        }
        widgets = {"default_visibility": forms.RadioSelect}


class ChooseFirstPasswordForm(SetPasswordForm):
    """The page behind a one-time link: choose a password, typed twice."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _plain_password_fields(self, "new_password1", "new_password2", label=_("Password"),
                               again=_("Password again"))


class ChangePasswordForm(PasswordChangeForm):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["old_password"].label = _("Current password")
        _plain_password_fields(self, "new_password1", "new_password2", label=_("New password"),
                               again=_("New password again"))


def _plain_password_fields(form: forms.Form, first: str, second: str, *, label: str, again: str) -> None:
    form.fields[first].label = label
    form.fields[first].help_text = PASSWORD_HELP
    form.fields[second].label = again
    form.fields[second].help_text = PASSWORD_AGAIN_HELP
