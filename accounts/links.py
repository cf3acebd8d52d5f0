"""One-time links to set a password, with Django's password-reset token semantics.

The token signs the user's id, password hash, last login and the time it was made, so it
stops working as soon as a password is set (the hash changes), and after
settings.PASSWORD_RESET_TIMEOUT (Django's default: 3 days). Nothing is stored.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth.tokens import PasswordResetTokenGenerator
from django.http import HttpRequest
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.translation import ngettext


class SetPasswordLinkTokens(PasswordResetTokenGenerator):
    # Our own salt: a token from Django's password-reset views (if ever enabled) does not fit here.
    key_salt = "accounts.links.SetPasswordLinkTokens"


tokens = SetPasswordLinkTokens()


def set_password_path(user: Any) -> str:
    uidb64 = urlsafe_base64_encode(force_bytes(user.pk))
    return reverse("accounts:set_password", kwargs={"uidb64": uidb64, "token": tokens.make_token(user)})


def set_password_url(request: HttpRequest, user: Any) -> str:
    """The full link to hand to the person (the host is the one the administrator uses)."""
    return request.build_absolute_uri(set_password_path(user))


def link_lifetime_words() -> str:
    """How long a new link works, e.g. "3 days" or "12 hours"."""
    seconds = int(settings.PASSWORD_RESET_TIMEOUT)
    units = (
        ("day", 86_400, lambda n: ngettext("%(count)d day", "%(count)d days", n)),
        ("hour", 3_600, lambda n: ngettext("%(count)d hour", "%(count)d hours", n)),
        ("minute", 60, lambda n: ngettext("%(count)d minute", "%(count)d minutes", n)),
    )
    for unit, size, words in units:
        if seconds >= size and seconds % size == 0 or (unit == "minute" and seconds >= size):
            count = seconds // size
            return words(count) % {"count": count}
    return ngettext("%(count)d second", "%(count)d seconds", seconds) % {"count": seconds}
