"""axe-core on every page of the tour, in light and dark mode and in Vietnamese: no serious or critical findings.

One test per colour scheme walks all of tour.TOUR (building the data once is what keeps
this fast); the failure message lists every page with its findings, so one run shows all
there is to fix.
"""

from __future__ import annotations

import pytest

from tests.browser.conftest import ARTIFACTS, log_in_any_language
from tests.browser.tour import BLOCKING_IMPACTS, FIRST_RUN, TOUR, describe, open_pages, run_axe, visit
from tests.browser.world import PASSWORD, build_world

pytestmark = pytest.mark.browser


# The browser's language picks the page's (Accept-Language); nobody has chosen one on their
# profile, so the logged-in pages follow it too. Colours do not change with the language, so
# Vietnamese runs in light mode only: longer words, other line breaks, the lang attribute.
LOCALES = {"en": "en-GB", "vi": "vi-VN"}


@pytest.mark.parametrize(("color_scheme", "language"), [("light", "en"), ("dark", "en"), ("light", "vi")])
def test_every_page_passes_axe(live_server, new_page, media_root, settings, color_scheme, language):
    settings.FAL_USES_SIMULATOR = True
    base = live_server.url
    findings: dict[str, list[dict]] = {}
    wrong_language: list[str] = []
    options = {"color_scheme": color_scheme, "locale": LOCALES[language]}

    def check(name: str, page) -> None:
        findings[name] = run_axe(page)
        if page.locator("html").get_attribute("lang") != language:
            wrong_language.append(name)

    first = new_page(**options)
    first.goto(base + FIRST_RUN.path(None))
    check(FIRST_RUN.name, first)

    world = build_world()
    pages = open_pages(new_page, base, world, log_in_any_language, PASSWORD, **options)
    for stop in TOUR:
        check(stop.name, visit(pages, stop, world, base))

    run = f"{color_scheme}-{language}" if language != "en" else color_scheme
    _keep_report(findings, run)
    blocking = {name: [v for v in found if v["impact"] in BLOCKING_IMPACTS] for name, found in findings.items()}
    report = "\n".join(f"{name}:\n{describe(found)}" for name, found in blocking.items() if found)
    assert not report, f"axe found serious or critical problems ({color_scheme} mode, {language}):\n{report}"
    assert not wrong_language, f"<html lang> is not {language!r} on: {', '.join(wrong_language)}"


def _keep_report(findings: dict[str, list[dict]], run: str) -> None:
    """Every finding, moderate and minor included, in test-artifacts/ for whoever polishes next."""
    ARTIFACTS.mkdir(exist_ok=True)
    text = "\n".join(f"{name}:\n{describe(found) or '  nothing found'}" for name, found in findings.items())
    (ARTIFACTS / f"axe-{run}.txt").write_text(text + "\n", encoding="utf-8")
