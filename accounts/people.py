"""What an administrator does to people: add them, change their role, (de)activate them.

Nobody is ever deleted here: a deactivated person's work stays where it is, they just
cannot log in (Django refuses inactive users, and their open sessions end at their next
request). Atelier always keeps at least one active administrator.

In Atelier an administrator is a Django superuser with staff access (so the fal settings
and the model catalogue in Django's admin are theirs too); making someone a member or a
viewer takes both flags away.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils.translation import gettext, gettext_lazy

from accounts.roles import Role, profile_for, role_of


class PeopleError(Exception):
    """A change that is not allowed; the message is meant for the person who tried it."""


LAST_ADMINISTRATOR = gettext_lazy(
    "Atelier needs at least one active administrator. Make someone else an administrator first."
)


def active_administrators() -> QuerySet:
    return get_user_model().objects.filter(is_active=True).filter(
        Q(is_superuser=True) | Q(profile__role=Role.ADMINISTRATOR)
    )


def add_person(*, username: str, name: str = "", email: str = "", role: str = Role.MEMBER) -> Any:
    """A new account with no usable password yet: they choose one through their link."""
    user_model = get_user_model()
    with transaction.atomic():
        user = user_model(username=username, first_name=name, email=user_model.objects.normalize_email(email))
        user.set_unusable_password()
        _apply_flags(user, role)
        user.save()
        profile = profile_for(user)
        if profile.role != role:
            profile.role = role
            profile.save(update_fields=["role", "updated_at"])
    return user


def change_role(actor: Any, person: Any, role: str) -> None:
    if role not in Role.values:
        raise PeopleError(gettext("Choose administrator, member or viewer."))
    if person.pk == actor.pk:
        raise PeopleError(gettext("You can’t change your own role. Ask another administrator."))
    with transaction.atomic():
        if role != Role.ADMINISTRATOR and role_of(person) == Role.ADMINISTRATOR:
            _keep_another_administrator(person)
        _apply_flags(person, role)
        person.save(update_fields=["is_staff", "is_superuser"])
        profile = profile_for(person)
        profile.role = role
        profile.save(update_fields=["role", "updated_at"])


def set_active(actor: Any, person: Any, active: bool) -> None:
    if person.pk == actor.pk and not active:
        raise PeopleError(gettext("You can’t deactivate your own account. Ask another administrator."))
    with transaction.atomic():
        if not active and role_of(person) == Role.ADMINISTRATOR:
            _keep_another_administrator(person)
        person.is_active = active
        person.save(update_fields=["is_active"])


def retire_old_links(person: Any) -> None:
    """Before a new link: someone without a password gets a fresh unusable one, which
    voids every earlier link. Someone with a password keeps it until they use the link."""
    if not person.has_usable_password():
        person.set_unusable_password()
        person.save(update_fields=["password"])


def _apply_flags(user: Any, role: str) -> None:
    is_administrator = role == Role.ADMINISTRATOR
    user.is_staff = is_administrator
    user.is_superuser = is_administrator


def _keep_another_administrator(person: Any) -> None:
    # Lock the other administrators' rows: two administrators demoting each other at the
    # same moment cannot both succeed (SQLite serialises writers anyway).
    others = active_administrators().exclude(pk=person.pk).select_for_update(of=("self",))
    if not list(others.values_list("pk", flat=True)[:1]):
        raise PeopleError(LAST_ADMINISTRATOR)

