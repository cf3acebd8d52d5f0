"""Gallery presentation helpers."""

from __future__ import annotations

from django import template

register = template.Library()

# Tiles keep fixed aspect boxes so the grid never jumps while thumbnails load. Inline styles
# are forbidden by our CSP, so the shape is one of a few classes.
_SHAPES = ((0.6, "tall"), (0.9, "portrait"), (1.12, "square"), (1.6, "landscape"))


@register.filter
def ratio_class(asset) -> str:
    if not asset.width or not asset.height:
        return "square" if not asset.is_video else "landscape"
    ratio = asset.width / asset.height
    for limit, name in _SHAPES:
        if ratio < limit:
            return name
    return "wide"
