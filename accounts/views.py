"""People pages: log in, the Team page, one-time links, password change, my settings."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.i18n import set_language as django_set_language

from accounts import language, links, people
from accounts.forms import AddPersonForm, ChangePasswordForm, ChooseFirstPasswordForm, LoginForm, MySettingsForm, RoleForm
from accounts.models import Profile
from accounts.roles import Role, can_generate, administrator_required, describe_role, profile_for, role_of
from audit.models import AuditEvent
from audit.record import person_label, record

NEW_LINK_SESSION_KEY = "accounts:new_link"

# Django's own views for the password flows (tested and careful: CSRF, no caching,
# sensitive POST data hidden from error reports, safe "next" redirects), with our
# forms and templates.
log_in = auth_views.LoginView.as_view(
    template_name="registration/login.html",
    authentication_form=LoginForm,
    redirect_authenticated_user=True,
)


class _SetPasswordView(auth_views.PasswordResetConfirmView):
    """The one-time link. Django moves the token into the session and off the URL."""

    form_class = ChooseFirstPasswordForm
    template_name = "accounts/set_password.html"
    token_generator = links.tokens
    post_reset_login = True
    success_url = reverse_lazy("studio:home")

    def get_user(self, uidb64: str) -> Any:
        user = super().get_user(uidb64)
        return user if user is not None and user.is_active else None

    def form_valid(self, form: ChooseFirstPasswordForm) -> HttpResponse:
        response = super().form_valid(form)
        messages.success(self.request, _("Welcome, %(name)s. Your password is set.") % {"name": form.user.get_username()})
        return response


set_password = _SetPasswordView.as_view()


class _ChangePasswordView(auth_views.PasswordChangeView):
    form_class = ChangePasswordForm
    template_name = "accounts/change_password.html"
    success_url = reverse_lazy("accounts:my_settings")

    def form_valid(self, form: ChangePasswordForm) -> HttpResponse:
        response = super().form_valid(form)  # keeps this session logged in, ends the others
        messages.success(self.request, _("Your password is changed."))
        return response


change_password = _ChangePasswordView.as_view()


# --- Team -------------------------------------------------------------------------------
@administrator_required
@require_GET
def team(request: HttpRequest) -> HttpResponse:
    return _render_team(request, AddPersonForm())


@administrator_required
@require_POST
def add_person(request: HttpRequest) -> HttpResponse:
    form = AddPersonForm(request.POST)
    if not form.is_valid():
        return _render_team(request, form)
    person = people.add_person(
        username=form.cleaned_data["username"],
        name=form.cleaned_data["name"],
        email=form.cleaned_data["email"],
        role=form.cleaned_data["role"],
    )
    _remember_link(request, person)
    record(request, AuditEvent.Action.PERSON_ADDED, person_label(person), role=role_of(person), link_issued=True)
    messages.success(request, _("%(name)s is added as %(role)s.") % {
        "name": _display_name(person), "role": _role_words(role_of(person))})
    return redirect("accounts:team")


@administrator_required
@require_POST
def change_role(request: HttpRequest, username: str) -> HttpResponse:
    person = _get_person_or_404(username)
    form = RoleForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose administrator, member or viewer."))
        return redirect("accounts:team")
    old_role = role_of(person)
    try:
        people.change_role(request.user, person, form.cleaned_data["role"])
    except people.PeopleError as problem:
        messages.error(request, str(problem))
    else:
        if role_of(person) != old_role:
            record(request, AuditEvent.Action.ROLE_CHANGED, person_label(person),
                   **{"from": old_role, "to": role_of(person)})
        messages.success(request, _("%(name)s is now %(role)s.") % {
            "name": _display_name(person), "role": _role_words(role_of(person))})
    return redirect("accounts:team")


@administrator_required
@require_POST
def deactivate_person(request: HttpRequest, username: str) -> HttpResponse:
    person = _get_person_or_404(username)
    try:
        people.set_active(request.user, person, False)
    except people.PeopleError as problem:
        messages.error(request, str(problem))
    else:
        record(request, AuditEvent.Action.PERSON_DEACTIVATED, person_label(person))
        messages.success(
            request,
            _("%(name)s is deactivated and can no longer log in. Their work stays in Atelier.")
            % {"name": _display_name(person)},
        )
    return redirect("accounts:team")


@administrator_required
@require_POST
def reactivate_person(request: HttpRequest, username: str) -> HttpResponse:
    person = _get_person_or_404(username)
    people.set_active(request.user, person, True)
    record(request, AuditEvent.Action.PERSON_REACTIVATED, person_label(person))
    messages.success(request, _("%(name)s can log in again.") % {"name": _display_name(person)})
    return redirect("accounts:team")


@administrator_required
@require_POST
def new_link(request: HttpRequest, username: str) -> HttpResponse:
    person = _get_person_or_404(username)
    if not person.is_active:
        messages.error(request, _("Reactivate %(name)s first: links do not work for deactivated people.")
                       % {"name": _display_name(person)})
        return redirect("accounts:team")
    people.retire_old_links(person)
    _remember_link(request, person, replaces_earlier=True)
    record(request, AuditEvent.Action.LINK_ISSUED, person_label(person))
    return redirect("accounts:team")


def _render_team(request: HttpRequest, form: AddPersonForm) -> HttpResponse:
    everyone = list(
        get_user_model().objects.select_related("profile").order_by("-is_active", "username")
    )
    rows = [
        {
            "user": person,
            "role": role_of(person),
            "is_self": person.pk == request.user.pk,
            "has_password": person.has_usable_password(),
        }
        for person in everyone
    ]
    return render(request, "accounts/team.html", {
        "rows": rows,
        "form": form,
        "role_choices": Role.choices,
        "roles": [(label, describe_role(value)) for value, label in Role.choices],
        "new_link": request.session.pop(NEW_LINK_SESSION_KEY, None),
        "link_lifetime": links.link_lifetime_words(),
    })


def _remember_link(request: HttpRequest, person: Any, *, replaces_earlier: bool = False) -> None:
    """The link is shown once, on the next Team page (kept server-side in the session)."""
    request.session[NEW_LINK_SESSION_KEY] = {
        "name": _display_name(person),
        "url": links.set_password_url(request, person),
        "has_password": person.has_usable_password(),
        "replaces_earlier": replaces_earlier,
    }


def _get_person_or_404(username: str) -> Any:
    person = get_user_model().objects.filter(username=username).first()
    if person is None:
        raise Http404("No such person.")
    return person


def _display_name(person: Any) -> str:
    return person.get_full_name() or person.get_username()


def _role_words(role: str) -> str:
    words = {Role.ADMINISTRATOR: _("an administrator"), Role.MEMBER: _("a member"), Role.VIEWER: _("a viewer")}
    return words.get(role, role)


# --- Me ---------------------------------------------------------------------------------
VISIBILITY_SAVED = {
    Profile.Visibility.TEAM: gettext_lazy("Saved. What you make from now on is visible to the team."),
    Profile.Visibility.PRIVATE: gettext_lazy(
        "Saved. What you make from now on is private: only you and the administrators see it."),
}


@login_required
@require_http_methods(["GET", "POST"])
def my_settings(request: HttpRequest) -> HttpResponse:
    profile = profile_for(request.user)
    form = MySettingsForm(request.POST or None, instance=profile)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, VISIBILITY_SAVED[profile.default_visibility])
        return redirect("accounts:my_settings")
    role = role_of(request.user)
    return render(request, "accounts/my_settings.html", {
        "form": form,
        "role": role,
        "role_label": Role(role).label,
        "role_description": describe_role(role),
        "can_generate": can_generate(request.user),
        "change_password_url": reverse("accounts:change_password"),
        "chosen_language": profile.language,
    })


# --- Language ---------------------------------------------------------------------------
@require_POST
def set_language(request: HttpRequest) -> HttpResponse:
    """The language picker. Django's view sets the cookie and redirects back (safely);
    a logged-in person's choice is also kept on their profile. "" means: follow the browser."""
    code = request.POST.get("language", "")
    if code and not language.available(code):
        return redirect(_safe_next(request))
    response = django_set_language(request)
    language.remember(request, code)
    if not code:
        response.delete_cookie(settings.LANGUAGE_COOKIE_NAME, path=settings.LANGUAGE_COOKIE_PATH,
                               domain=settings.LANGUAGE_COOKIE_DOMAIN)
    return response


def _safe_next(request: HttpRequest) -> str:
    target = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()},
                                       require_https=request.is_secure()):
        return target
    return reverse("studio:home")
