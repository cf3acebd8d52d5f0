"""Every page of Atelier, as a list: the accessibility and screenshot tests walk it.

A `Stop` names a page, who looks at it (a role, or nobody logged in), how to reach it in
the `World` (tests/browser/world.py), and what to wait for before judging it. Add a page
here and it is checked by axe in light and dark mode (and, with the i18n work, in every
language) without touching the tests.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from tests.browser.world import World

AXE_SOURCE = Path(__file__).with_name("vendor") / "axe-core" / "axe.min.js"
# Impacts that fail the test; "moderate" and "minor" findings are reported, not fatal.
BLOCKING_IMPACTS = ("serious", "critical")


@dataclass(frozen=True)
class Stop:
    name: str  # also the screenshot's file name
    path: Callable[[World], str]
    who: str | None  # "member", "administrator" or None (nobody logged in)
    # Run in the page after it loads, e.g. open a menu or submit a form; then axe runs.
    act: Callable | None = None
    shoot: bool = False  # part of docs/screenshots
    waits_for: str = "main"  # a selector that must be visible first
    tags: tuple[str, ...] = field(default_factory=tuple)


def _open_details(selector: str) -> Callable:
    def act(page) -> None:
        for summary in page.locator(f"{selector} > summary").all():
            summary.click()
    return act


# Actions find controls by name or id, not by their words: the tour runs in every language.
def _add_person(page) -> None:
    """The Team page right after adding someone: the one-time link panel shows."""
    form = page.locator("form[action$='/team/add/']")
    form.locator("[name=username]").fill("linh")
    form.locator("[name=name]").fill("Linh Pham")
    form.locator("button[type=submit]").click()
    page.locator("#one-time-link").wait_for()


def _wrong_password(page) -> None:
    page.locator("[name=username]").fill("mina")
    page.locator("[name=password]").fill("not-her-password")
    page.locator("main button[type=submit]").click()
    page.get_by_role("alert").wait_for()


def _empty_generate(page) -> None:
    """Generate without a prompt: the form shows its errors next to the fields."""
    page.locator("#generate-form button[type=submit]").click()
    page.locator(".field--invalid").first.wait_for()


# The first-run page exists only while there is nobody: checked before the World is built.
FIRST_RUN = Stop("first-run", lambda world: "/setup/", None, shoot=True)

TOUR: list[Stop] = [
    Stop("login", lambda w: "/login/", None),
    Stop("login-error", lambda w: "/login/", None, act=_wrong_password),
    Stop("set-password", lambda w: w.welcome_path, None),
    Stop("set-password-used", lambda w: "/team/welcome/Mg/used-token/", None),
    Stop("studio", lambda w: "/", "member", shoot=True),
    Stop("generate", lambda w: "/generate/fal-ai/flux-1/schnell/", "member", shoot=True,
         act=_open_details(".advanced"), waits_for=".job-card--running"),
    Stop("generate-errors", lambda w: "/generate/fal-ai/flux-1/schnell/", "member", act=_empty_generate),
    Stop("generate-edit", lambda w: f"/generate/fal-ai/flux-pro/kontext/?input={w.pictures[0].id}", "member"),
    Stop("generate-video", lambda w: "/generate/fal-ai/veo3/", "member"),
    Stop("my-jobs", lambda w: "/jobs/", "member"),
    Stop("gallery", lambda w: "/gallery/", "member", shoot=True, waits_for=".gallery-grid"),
    Stop("gallery-empty-filter", lambda w: "/gallery/?q=submarine", "member"),
    Stop("detail", lambda w: f"/gallery/items/{w.edit.id}/", "member", shoot=True,
         act=_open_details(".detail__use, .detail__share, .detail__params")),
    Stop("detail-video", lambda w: f"/gallery/items/{w.video.id}/", "member"),
    Stop("albums", lambda w: "/gallery/albums/", "member"),
    Stop("album", lambda w: f"/gallery/albums/{w.album.id}/", "member", shoot=True),
    Stop("shared-album", lambda w: f"/gallery/s/{w.album_link.token}/", None, shoot=True),
    Stop("shared-item", lambda w: f"/gallery/s/{w.album_link.token}/items/{w.pictures[0].id}/", None),
    Stop("shared-link-gone", lambda w: "/gallery/s/no-such-link/", None),
    Stop("team", lambda w: "/team/", "administrator", shoot=True),
    Stop("team-new-link", lambda w: "/team/", "administrator", act=_add_person),
    Stop("my-settings", lambda w: "/team/me/", "member"),
    Stop("change-password", lambda w: "/team/password/", "member"),
    Stop("not-found", lambda w: "/no-such-page/", "member"),
    Stop("not-found-logged-out", lambda w: "/no-such-page/", None),
]


def open_pages(new_page, base: str, world: World, log_in: Callable, password: str, **context_options) -> dict:
    """One logged-in page per role, and one for nobody, each with its own cookies."""
    pages = {None: new_page(**context_options)}
    for who, user in (("member", world.member), ("administrator", world.administrator)):
        pages[who] = new_page(**context_options)
        log_in(pages[who], base, user.username, password)
    return pages


def visit(pages: dict, stop: Stop, world: World, base: str):
    """Opens the stop's page as its person, waits until it is ready, does its action."""
    page = pages[stop.who]
    page.goto(base + stop.path(world))
    page.locator(stop.waits_for).first.wait_for()
    if stop.act is not None:
        stop.act(page)
    return page


def run_axe(page) -> list[dict]:
    """axe-core's violations on the current page (every rule axe enables by default)."""
    # evaluate() runs outside the page's CSP (a <script> tag would be refused, as it should).
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.evaluate(AXE_SOURCE.read_text(encoding="utf-8"))
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    return result["violations"]


def describe(violations: list[dict]) -> str:
    """Readable lines: rule, impact, help, and the first few offending elements."""
    lines = []
    for violation in violations:
        targets = [json.dumps(node["target"]) + " " + node.get("failureSummary", "").replace("\n", " ")[:240]
                   for node in violation["nodes"][:4]]
        lines.append(f"  {violation['impact']}: {violation['id']} — {violation['help']}")
        lines.extend(f"      {target}" for target in targets)
    return "\n".join(lines)
