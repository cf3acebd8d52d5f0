"""Studio pages, the first-run set-up, and the error pages."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model, login
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotFound, HttpResponseServerError
from django.shortcuts import redirect, render
from django.template import loader
from django.views.decorators.http import require_GET, require_http_methods

from studio.forms import AdministratorSetupForm


@login_required
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "studio/home.html", {"service": _service_description()})


def _service_description() -> dict[str, str | bool]:
    """Where jobs go, in words a user can read: host and auth scheme, never the key."""
    if settings.FAL_USES_SIMULATOR:
        return {"simulator": True}
    parts = urlsplit(settings.FAL_BASE_URL)
    host = parts.hostname or settings.FAL_BASE_URL
    if parts.port:
        host = f"{host}:{parts.port}"
    return {
        "simulator": False,
        "host": host,
        "auth_scheme": "Bearer" if settings.FAL_AUTH_SCHEME == "bearer" else "Key",
    }


@require_http_methods(["GET", "POST"])
def setup(request: HttpRequest) -> HttpResponse:
    """First run only: create the administrator account, then never again."""
    if _accounts_exist():
        raise Http404("Atelier is already set up.")
    form = AdministratorSetupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = form.create_administrator()
        if user is None:
            messages.info(
                request,
                "Someone else created the administrator account a moment ago. "
                "Log in with an account they give you.",
            )
            return redirect("login")
        login(request, user)
        messages.success(request, f"Welcome, {user.get_username()}. Atelier is ready.")
        return redirect("studio:home")
    return render(request, "studio/setup.html", {"form": form})


def _accounts_exist() -> bool:
    return get_user_model().objects.exists()


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return HttpResponseNotFound(loader.render_to_string("404.html", {"is_error_page": True}, request=request))


def server_error(request: HttpRequest) -> HttpResponse:
    """Rendered without the request: whatever broke the page may break context processors too."""
    try:
        body = loader.render_to_string("500.html")
    except Exception:  # the last line of defence must not fail
        body = "<!doctype html><title>Something went wrong</title><h1>Something went wrong</h1>"
    return HttpResponseServerError(body)
