"""Screenshots of the main pages: desktop and phone width, light and dark.

Every run takes them (and checks that nothing sticks out sideways on a phone) into
test-artifacts/screenshots/. `make screenshots` writes them to docs/screenshots/ for the
README instead; ordinary test runs leave the committed pictures alone, since times and
dates on the pages differ from run to run.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.browser.conftest import ARTIFACTS, DESKTOP, PHONE, log_in
from tests.browser.tour import FIRST_RUN, TOUR, open_pages, visit
from tests.browser.world import PASSWORD, build_world

pytestmark = pytest.mark.browser

# The innermost elements that reach past the right edge, to say what to fix.
WIDEST = """() => [...document.querySelectorAll('body *')]
  .filter(el => el.getBoundingClientRect().right > innerWidth + 1)
  .filter(el => ![...el.children].some(child => child.getBoundingClientRect().right > innerWidth + 1))
  .slice(0, 6).map(el => el.tagName.toLowerCase() + (el.className ? '.' + String(el.className).split(' ').join('.') : '')
  + ' ' + Math.round(el.getBoundingClientRect().right) + 'px')"""
IN_VIEW_DECODED = """() => Promise.all([...document.images]
  .filter(img => img.getBoundingClientRect().top < innerHeight)
  .map(img => img.decode().catch(() => null)))"""
SHOTS = [FIRST_RUN] + [stop for stop in TOUR if stop.shoot]


def _folder() -> Path:
    folder = Path(os.environ.get("ATELIER_SCREENSHOTS") or ARTIFACTS / "screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _shoot(page, folder: Path, name: str, color_scheme: str) -> None:
    for width_name, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
        page.set_viewport_size(viewport)
        # Nothing may stick out sideways: no horizontal scrolling, on a phone or anywhere.
        scroll_width = page.evaluate("document.documentElement.scrollWidth")
        assert scroll_width <= viewport["width"], (
            f"{name} is {scroll_width}px wide at {viewport['width']}px; too wide: {page.evaluate(WIDEST)}")
        page.evaluate("window.scrollTo(0, 0)")
        # Pictures in view are loaded and decoded (lazy ones further down never start).
        page.evaluate(IN_VIEW_DECODED)
        page.screenshot(path=folder / f"{name}-{width_name}-{color_scheme}.png", animations="disabled")


@pytest.mark.parametrize("color_scheme", ["light", "dark"])
def test_screenshots_of_the_main_pages(live_server, new_page, media_root, settings, color_scheme):
    settings.FAL_USES_SIMULATOR = True
    base = live_server.url
    folder = _folder()

    first = new_page(color_scheme=color_scheme)
    first.goto(base + FIRST_RUN.path(None))
    _shoot(first, folder, FIRST_RUN.name, color_scheme)

    world = build_world()
    pages = open_pages(new_page, base, world, log_in, PASSWORD, color_scheme=color_scheme)
    for stop in SHOTS[1:]:
        page = visit(pages, stop, world, base)
        page.evaluate("document.fonts.ready")
        _shoot(page, folder, stop.name, color_scheme)
