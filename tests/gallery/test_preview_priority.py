"""Thumbnails are made at a lower CPU priority than saving outputs and serving pages."""

from __future__ import annotations

import os

from gallery.previews import PREVIEW_NICENESS, _spawn_pool


def test_thumbnail_processes_run_at_a_lower_priority_than_the_tracker():
    with _spawn_pool(1) as pool:
        niceness = pool.submit(os.nice, 0).result(timeout=60)  # os.nice(0) reads it
    assert niceness == min(19, os.nice(0) + PREVIEW_NICENESS)
    assert niceness > os.nice(0)
