"""Each person's language: chosen with the picker, kept on their profile, applied at login.

Django's LocaleMiddleware starts from the picker's cookie or the browser's Accept-Language.
A logged-in person's own choice wins: it is copied into the session when they log in (so a
request costs no extra query) and updated whenever they use the picker.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse
from django.utils import translation

SESSION_KEY = "accounts:language"


def available(code: str | None) -> bool:
    return bool(code) and code in dict(settings.LANGUAGES)


def personal_language_middleware(get_response: Callable[[HttpRequest], HttpResponse]) -> Callable[[HttpRequest], HttpResponse]:
    def middleware(request: HttpRequest) -> HttpResponse:
        code = request.session.get(SESSION_KEY) if request.user.is_authenticated else None
        if available(code):
            translation.activate(code)
            request.LANGUAGE_CODE = code
        return get_response(request)

    return middleware


@receiver(user_logged_in, dispatch_uid="accounts.language_at_login")
def apply_language_at_login(sender, request: HttpRequest | None, user, **kwargs) -> None:
    if request is None or not hasattr(request, "session"):
        return
    from accounts.roles import profile_for

    code = profile_for(user).language
    if available(code):
        request.session[SESSION_KEY] = code
    else:
        request.session.pop(SESSION_KEY, None)


def remember(request: HttpRequest, code: str) -> None:
    """The picker was used: this session and, for a logged-in person, their profile."""
    if not request.user.is_authenticated:
        return
    from accounts.roles import profile_for

    profile = profile_for(request.user)
    if profile.language != code:
        profile.language = code
        profile.save(update_fields=["language", "updated_at"])
    if code:
        request.session[SESSION_KEY] = code
    else:
        request.session.pop(SESSION_KEY, None)


def language_choices(request: HttpRequest) -> dict:
    """Context processor: settings.LANGUAGES as written there, each name in its own language
    (Django's {% get_available_languages %} would translate "English" into the page's language)."""
    return {"language_choices": settings.LANGUAGES}
