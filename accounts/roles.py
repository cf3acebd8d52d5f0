"""What someone may do, for every room to ask.

- administrator: manages people, the fal key and the models, sees everything.
- member: generates and shares.
- viewer: sees what is shared with the team, cannot generate.

A superuser is always an administrator, whatever their profile says. Anonymous and
deactivated people may do nothing (their role is still reported, for display).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext_lazy

from accounts.models import Profile

Role = Profile.Role
Visibility = Profile.Visibility


def profile_for(user: Any) -> Profile:
    """The user's profile, created on first use for users that predate the app."""
    try:
        return user.profile
    except Profile.DoesNotExist:
        role = Role.ADMINISTRATOR if user.is_superuser else Role.MEMBER
        profile, _ = Profile.objects.get_or_create(user=user, defaults={"role": role})
        user.profile = profile
        return profile


def role_of(user: Any) -> str:
    """"administrator", "member" or "viewer"; "" for someone not logged in."""
    if user is None or not user.is_authenticated:
        return ""
    if user.is_superuser:
        return Role.ADMINISTRATOR
    return profile_for(user).role


def is_administrator(user: Any) -> bool:
    return _active(user) and role_of(user) == Role.ADMINISTRATOR


def can_generate(user: Any) -> bool:
    return _active(user) and role_of(user) in (Role.ADMINISTRATOR, Role.MEMBER)


def default_visibility(user: Any) -> str:
    """Who sees this person's new work unless they choose otherwise: "team" or "private"."""
    if user is None or not user.is_authenticated:
        return Visibility.TEAM
    return profile_for(user).default_visibility


def administrator_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Anonymous visitors go to the login page; everyone else who is not an administrator gets 404."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not is_administrator(request.user):
            raise Http404("No such page.")
        return view(request, *args, **kwargs)

    return login_required(wrapped)


def _active(user: Any) -> bool:
    return user is not None and user.is_authenticated and user.is_active


ROLE_DESCRIPTIONS: dict[str, str] = {
    Role.ADMINISTRATOR: gettext_lazy("Manages people, the fal key and the models; sees everything."),
    Role.MEMBER: gettext_lazy("Generates images and videos, and shares them with the team."),
    Role.VIEWER: gettext_lazy("Sees what is shared with the team; cannot generate."),
}


def describe_role(role: str) -> str:
    return ROLE_DESCRIPTIONS.get(role, "")
