"""fal's endpoint-id rule.

Submit goes to the full id (`fal-ai/flux-1/dev`); status, result and cancel use only the
app part (`fal-ai/flux-1`), or `ns/owner/app` for the `workflows` and `comfy` namespaces.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

APP_NAMESPACES = ("workflows", "comfy")
# Letters, digits and . _ ~ -, but not "." or ".." (they would walk up the URL path).
_SEGMENT = re.compile(r"^(?!\.{1,2}$)[A-Za-z0-9._~-]+$")
_LEGACY_ID = re.compile(r"^(\d+)-([A-Za-z0-9._~-]+)$")


class InvalidModelId(ValueError):
    """The model id cannot be a fal endpoint id."""


@dataclass(frozen=True)
class AppId:
    owner: str
    alias: str
    path: str = ""
    namespace: str = ""

    @property
    def request_prefix(self) -> str:
        """The path prefix of the status, result and cancel URLs."""
        parts = [self.namespace, self.owner, self.alias]
        return "/".join(part for part in parts if part)

    @property
    def endpoint(self) -> str:
        """The full id, as used by submit."""
        return "/".join(part for part in (self.request_prefix, self.path) if part)


def parse_model_id(model_id: str) -> AppId:
    text = (model_id or "").strip().strip("/")
    legacy = _LEGACY_ID.match(text)
    if legacy:  # "123-my-app" is the old spelling of "123/my-app"
        text = f"{legacy.group(1)}/{legacy.group(2)}"
    parts = text.split("/")
    if not text or not all(_SEGMENT.match(part) for part in parts):
        raise InvalidModelId(f"{model_id!r} is not a fal model id such as 'fal-ai/flux-1/dev'.")
    namespace = ""
    if parts[0] in APP_NAMESPACES:
        namespace, parts = parts[0], parts[1:]
    if len(parts) < 2:
        raise InvalidModelId(f"{model_id!r} needs an owner and an app, such as 'fal-ai/flux-1'.")
    return AppId(owner=parts[0], alias=parts[1], path="/".join(parts[2:]), namespace=namespace)


def request_prefix(model_id: str) -> str:
    return parse_model_id(model_id).request_prefix
