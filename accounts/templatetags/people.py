"""{% load people %}: ask accounts.roles from templates, e.g. {% if user|is_administrator %}."""

from __future__ import annotations

from typing import Any

from django import template

from accounts import roles

register = template.Library()


@register.filter
def is_administrator(user: Any) -> bool:
    return roles.is_administrator(user)


@register.filter
def can_generate(user: Any) -> bool:
    return roles.can_generate(user)


@register.filter
def role_label(user: Any) -> str:
    role = roles.role_of(user)
    return roles.Role(role).label if role else ""
