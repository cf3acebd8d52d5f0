"""axe-core on every page of the tour, in English and Vietnamese, light and dark mode:
no serious or critical findings.

One test per language and colour scheme walks all of tour.TOUR (building the data once is
what keeps this fast); the failure message lists every page with its findings, so one run
shows all there is to fix. Every finding, minor ones included, goes to test-artifacts/.
"""

from __future__ import annotations

import pytest

from tests.browser.conftest import ARTIFACTS, log_in
from tests.browser.tour import BLOCKING_IMPACTS, FIRST_RUN, TOUR, describe, open_pages, run_axe, visit
from tests.browser.world import PASSWORD, build_world

pytestmark = pytest.mark.browser


@pytest.mark.parametrize(("language", "color_scheme"), [("en", "light"), ("en", "dark"), ("vi", "light"), ("vi", "dark")])
def test_every_page_passes_axe(live_server, new_page, media_root, settings, language, color_scheme):
    settings.FAL_USES_SIMULATOR = True
    base = live_server.url
    findings: dict[str, list[dict]] = {}

    # The browser's language picks the page's language (Accept-Language), as for real people.
    options = {"color_scheme": color_scheme, "locale": language}
    first = new_page(**options)
    first.goto(base + FIRST_RUN.path(None))
    findings[FIRST_RUN.name] = run_axe(first)

    world = build_world()
    pages = open_pages(new_page, base, world, log_in, PASSWORD, **options)
    wrong_language = []
    for stop in TOUR:
        page = visit(pages, stop, world, base)
        findings[stop.name] = run_axe(page)
        if page.evaluate("document.documentElement.lang") != language:
            wrong_language.append(stop.name)
    assert not wrong_language, f"these pages were not in {language!r}: {wrong_language}"

    _keep_report(findings, f"{language}-{color_scheme}")
    blocking = {name: [v for v in found if v["impact"] in BLOCKING_IMPACTS] for name, found in findings.items()}
    report = "\n".join(f"{name}:\n{describe(found)}" for name, found in blocking.items() if found)
    assert not report, f"axe found serious or critical problems ({language}, {color_scheme} mode):\n{report}"


def _keep_report(findings: dict[str, list[dict]], variant: str) -> None:
    """Every finding, moderate and minor included, in test-artifacts/ for whoever polishes next."""
    ARTIFACTS.mkdir(exist_ok=True)
    text = "\n".join(f"{name}:\n{describe(found) or '  nothing found'}" for name, found in findings.items())
    (ARTIFACTS / f"axe-{variant}.txt").write_text(text + "\n", encoding="utf-8")
