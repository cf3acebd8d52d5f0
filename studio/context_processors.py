"""What the base layout needs about the fal connection — never the key itself."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest


def fal_service(request: HttpRequest) -> dict[str, bool]:
    return {"fal_uses_simulator": bool(settings.FAL_USES_SIMULATOR)}
