"""axe-core on every page of the tour, in light and dark mode: no serious or critical findings.

One test per colour scheme walks all of tour.TOUR (building the data once is what keeps
this fast); the failure message lists every page with its findings, so one run shows all
there is to fix.
"""

from __future__ import annotations

import pytest

from tests.browser.conftest import ARTIFACTS, log_in
from tests.browser.tour import BLOCKING_IMPACTS, FIRST_RUN, TOUR, describe, open_pages, run_axe, visit
from tests.browser.world import PASSWORD, build_world

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("color_scheme", ["light", "dark"])
def test_every_page_passes_axe(live_server, new_page, media_root, settings, color_scheme):
    settings.FAL_USES_SIMULATOR = True
    base = live_server.url
    findings: dict[str, list[dict]] = {}

    first = new_page(color_scheme=color_scheme)
    first.goto(base + FIRST_RUN.path(None))
    findings[FIRST_RUN.name] = run_axe(first)

    world = build_world()
    pages = open_pages(new_page, base, world, log_in, PASSWORD, color_scheme=color_scheme)
    for stop in TOUR:
        findings[stop.name] = run_axe(visit(pages, stop, world, base))

    _keep_report(findings, color_scheme)
    blocking = {name: [v for v in found if v["impact"] in BLOCKING_IMPACTS] for name, found in findings.items()}
    report = "\n".join(f"{name}:\n{describe(found)}" for name, found in blocking.items() if found)
    assert not report, f"axe found serious or critical problems ({color_scheme} mode):\n{report}"


def _keep_report(findings: dict[str, list[dict]], color_scheme: str) -> None:
    """Every finding, moderate and minor included, in test-artifacts/ for whoever polishes next."""
    ARTIFACTS.mkdir(exist_ok=True)
    text = "\n".join(f"{name}:\n{describe(found) or '  nothing found'}" for name, found in findings.items())
    (ARTIFACTS / f"axe-{color_scheme}.txt").write_text(text + "\n", encoding="utf-8")
