"""First run: until an account exists, every page leads to the administrator set-up."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.contrib.auth import get_user_model
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse


def first_run_middleware(get_response: Callable[[HttpRequest], HttpResponse]) -> Callable[[HttpRequest], HttpResponse]:
    setup_path = reverse("studio:setup")
    language_path = reverse("accounts:set_language")  # the set-up page has the language picker too
    static_prefix = settings.STATIC_URL or "/static/"

    def middleware(request: HttpRequest) -> HttpResponse:
        # A logged-in user proves accounts exist. `request.user` is resolved (and cached
        # on the request) by the login check anyway, so this costs nothing extra.
        if request.user.is_authenticated:
            return get_response(request)
        if request.path in (setup_path, language_path) or request.path.startswith(static_prefix):
            return get_response(request)
        # Anonymous visitors: one tiny query (LIMIT 1 on the user table).
        if not get_user_model().objects.exists():
            return redirect(setup_path)
        return get_response(request)

    return middleware
