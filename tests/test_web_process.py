"""A web server process freezes what it loaded at start-up out of the garbage collector's walks."""

from __future__ import annotations

import gc
import sys

import pytest

from atelier import web_process


@pytest.fixture
def collector_restored():
    threshold = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*threshold)


def test_prepare_freezes_the_loaded_objects_and_collects_the_young_less_often(collector_restored):
    web_process.prepare()
    assert gc.get_freeze_count() > 10_000  # Django, the URLconf and every view module
    assert gc.get_threshold()[0] == web_process.YOUNG_THRESHOLD
    assert "studio.views" in sys.modules
