"""Keyboard people see where they are: the skip link comes first, every stop shows a focus ring."""

from __future__ import annotations

import pytest

from tests.browser.conftest import log_in
from tests.browser.world import PASSWORD, build_world

pytestmark = pytest.mark.browser

# What the focused element looks like: a ring is an outline or a box-shadow that is drawn.
FOCUS_LOOK = """() => {
  const el = document.activeElement, style = getComputedStyle(el);
  const outline = style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) >= 2;
  return {tag: el.tagName.toLowerCase(), text: (el.innerText || el.name || el.type || '').trim().slice(0, 40),
          ring: outline || style.boxShadow !== 'none'};
}"""


@pytest.mark.parametrize("path", ["/", "/gallery/", "/generate/fal-ai/flux-pro/kontext/"])
def test_tabbing_shows_a_focus_ring_on_every_stop(live_server, page, media_root, path):
    world = build_world()
    log_in(page, live_server.url, world.member.username, PASSWORD)
    page.goto(live_server.url + path)

    page.keyboard.press("Tab")
    first = page.evaluate(FOCUS_LOOK)
    assert first["tag"] == "a" and page.locator(".skip-link").evaluate("el => el.getBoundingClientRect().top >= 0")

    without_ring = []
    for _ in range(25):
        page.keyboard.press("Tab")
        look = page.evaluate(FOCUS_LOOK)
        if look["tag"] == "body":
            break
        if not look["ring"]:
            without_ring.append(look)
    assert not without_ring, f"focused without a visible ring on {path}: {without_ring}"
