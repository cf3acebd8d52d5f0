"""Browser tests: Playwright's sync API driving Debian's Chromium against `live_server`.

Missing Chromium or Playwright skips with a reason saying how to enable them; under
CI=true the top-level conftest turns those skips into failures.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from tests.conftest import SENTINEL_KEY

# Playwright's sync API runs an event loop in this thread; Django would then refuse the
# live server's ORM calls as "async unsafe" although they run synchronously.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="session")
def browser():
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing: run `apt-get install -y chromium` to enable browser tests.")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("playwright is not importable: `make test` installs it (pip install -e '.[test]').")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    # Lets the `page` fixture see whether the test failed, to keep a screenshot of it.
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


@pytest.fixture
def new_page(browser, request) -> Iterator[Callable]:
    """`new_page(**context_options)`: a page in a fresh browser context (its own cookies).

    Every page fails the test if it broke our CSP; on failure each keeps a screenshot.
    """
    opened: list = []
    csp_violations: list[str] = []

    def open_page(**options):
        context = browser.new_context(**{"viewport": DESKTOP, **options})
        fresh = context.new_page()
        fresh.on(
            "console",
            lambda message: csp_violations.append(message.text) if "Content Security Policy" in message.text else None,
        )
        opened.append(fresh)
        return fresh

    yield open_page
    failed = getattr(request.node, "report_call", None)
    for number, each in enumerate(opened):
        if failed is not None and failed.failed:
            ARTIFACTS.mkdir(exist_ok=True)
            each.screenshot(path=ARTIFACTS / f"{_slug(request.node.name)}-failure-{number}.png", full_page=True)
        each.context.close()
    assert not csp_violations, f"The page broke the Content Security Policy: {csp_violations}"


@pytest.fixture
def page(new_page):
    """A fresh desktop-sized page; fails the test if the page broke our CSP."""
    return new_page()


@pytest.fixture
def studio_service(make_simulator, settings, media_root, monkeypatch) -> Iterator:
    """The whole back end behind the live server: simulator, submit tasks and a tracker.

    A real tracker thread sends jobs without input images and follows every job, so the
    browser sees cards move exactly as in production; jobs with input images are sent in the
    web request (immediate task backend).
    """
    from studio import jobs, tracker

    simulator = make_simulator(queue_seconds=0.6, run_seconds=0.8)
    settings.FAL_BASE_URL = simulator.base_url
    settings.FAL_KEY = SENTINEL_KEY
    settings.FAL_AUTH_SCHEME = "key"
    settings.FAL_USES_SIMULATOR = True
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    monkeypatch.setattr(jobs, "POLL_INTERVAL", timedelta(milliseconds=200))
    monkeypatch.setattr(tracker, "POLL_INTERVAL", 0.2)
    stop = threading.Event()
    # Previews made in the tracker's own threads: no extra process per test.
    thread = threading.Thread(target=tracker.run_forever, kwargs={"stop": stop, "preview_processes": 0},
                              name="test-tracker", daemon=True)
    thread.start()
    yield simulator
    stop.set()
    thread.join(timeout=10)


def log_in(page, base_url: str, username: str, password: str) -> None:
    """Logs in through the form (found by field names, so it works in every language)."""
    page.goto(base_url + "/login/")
    page.locator("[name=username]").fill(username)
    page.locator("[name=password]").fill(password)
    page.locator("main button[type=submit]").click()
    page.wait_for_url(base_url + "/")


@pytest.fixture
def screenshot(request) -> Callable:
    """`screenshot(page, "step")` saves test-artifacts/<test>-<step>.png (gitignored)."""

    def take(target, step: str) -> Path:
        ARTIFACTS.mkdir(exist_ok=True)
        path = ARTIFACTS / f"{_slug(request.node.name)}-{step}.png"
        target.screenshot(path=path, full_page=True)
        return path

    return take


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-")
