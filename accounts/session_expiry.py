"""When a session has ended: say so on the login page, and make htmx go there too.

Sessions last SESSION_DAYS (SESSION_COOKIE_AGE). After that the browser still sends the
old cookie for a while, but the database no longer knows it, so Django treats the person
as anonymous and `login_required` redirects to the login page. Two things are added here:

- a plain message on that login page ("you were logged out after N days"), when the
  request carried a session cookie the server no longer has;
- for htmx requests (a job card polling every second), the redirect is turned into
  `HX-Redirect`: htmx follows a 302 inside its XHR and would otherwise swap the whole
  login page into the card. `HX-Redirect` makes the browser open the login page instead,
  coming back to the page the person was on after logging in.
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlencode, urlsplit

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.http import HttpRequest, HttpResponse
from django.shortcuts import resolve_url
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import ngettext
from django_htmx.http import HttpResponseClientRedirect


def session_ended(request: HttpRequest) -> bool:
    """The browser sent a session cookie that the server no longer has (expired or ended).

    Asked before the view runs: logging out also leaves an anonymous request with no
    session, and that is not worth a message.
    """
    if not request.COOKIES.get(settings.SESSION_COOKIE_NAME):
        return False
    user = getattr(request, "user", None)
    if user is None or user.is_authenticated:
        return False
    return request.session.session_key is None  # loaded and not found


def session_expiry_middleware(get_response: Callable[[HttpRequest], HttpResponse]) -> Callable[[HttpRequest], HttpResponse]:
    def middleware(request: HttpRequest) -> HttpResponse:
        ended = session_ended(request)
        response = get_response(request)
        if not _is_login_redirect(response):
            return response
        if ended:
            days = settings.SESSION_COOKIE_AGE // 86400
            messages.info(request, ngettext(
                "You were logged out because your session ended (sessions last %(days)d day). Please log in again.",
                "You were logged out because your session ended (sessions last %(days)d days). Please log in again.",
                days) % {"days": days})
        if getattr(request, "htmx", False):
            return HttpResponseClientRedirect(_login_url_for_page(request))
        return response

    return middleware


def _is_login_redirect(response: HttpResponse) -> bool:
    if response.status_code != 302:
        return False
    return urlsplit(response.get("Location", "")).path == resolve_url(settings.LOGIN_URL)


def _login_url_for_page(request: HttpRequest) -> str:
    """The login page, returning to the page htmx was polling from (not to the fragment)."""
    login_url = resolve_url(settings.LOGIN_URL)
    current = request.headers.get("HX-Current-URL", "")
    if current and url_has_allowed_host_and_scheme(current, allowed_hosts={request.get_host()},
                                                    require_https=request.is_secure()):
        parts = urlsplit(current)
        next_path = parts.path + (f"?{parts.query}" if parts.query else "")
        return f"{login_url}?{urlencode({REDIRECT_FIELD_NAME: next_path})}"
    return login_url


