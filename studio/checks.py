"""System checks: problems an administrator can fix in the configuration."""

from __future__ import annotations

import os
from pathlib import Path

from django.conf import settings
from django.core.checks import Error, Warning, register


@register()
def check_media_root_writable(app_configs=None, **kwargs) -> list:
    media_root = Path(settings.MEDIA_ROOT)
    try:
        media_root.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        return [Error(f"MEDIA_ROOT {media_root} cannot be created: {exc.strerror}.", id="atelier.E001",
                      hint="Point MEDIA_ROOT at a folder the server may write to.")]
    if not os.access(media_root, os.W_OK | os.X_OK):
        return [Error(f"MEDIA_ROOT {media_root} is not writable.", id="atelier.E002",
                      hint="Give the server's user write access, or point MEDIA_ROOT elsewhere.")]
    return []


@register()
def check_fal_configuration(app_configs=None, **kwargs) -> list:
    if settings.FAL_USES_SIMULATOR:
        return []
    messages = []
    official = settings.FAL_BASE_URL.rstrip("/") == "https://queue.fal.run"
    if official and settings.FAL_AUTH_SCHEME == "bearer":
        messages.append(Warning(
            "FAL_AUTH_SCHEME is bearer, but FAL_BASE_URL is fal's own queue, which expects Key.",
            id="atelier.W001", hint="Unset FAL_AUTH_SCHEME, or set FAL_BASE_URL to your proxy."))
    if not official and settings.FAL_AUTH_SCHEME == "key":
        messages.append(Warning(
            "FAL_BASE_URL points at a proxy, and most proxies expect 'Authorization: Bearer'.",
            id="atelier.W002", hint="Set FAL_AUTH_SCHEME=bearer if the proxy answers 401."))
    if settings.FAL_BASE_URL.startswith("http://") and not settings.FAL_BASE_URL.startswith(
            ("http://127.0.0.1", "http://localhost")):
        messages.append(Warning(
            "FAL_BASE_URL uses plain http: the fal key would cross the network unencrypted.",
            id="atelier.W003", hint="Use an https:// URL."))
    return messages
