"""Thumbnails are made at a lower CPU priority than saving outputs and serving pages."""

from __future__ import annotations

import os

from gallery.preview_process import PREVIEW_NICENESS
from gallery.previews import _spawn_pool


def test_thumbnail_processes_run_at_a_lower_priority_than_the_tracker():
    with _spawn_pool(1) as pool:
        niceness = pool.submit(os.nice, 0).result(timeout=60)  # os.nice(0) reads it
    assert niceness == min(19, os.nice(0) + PREVIEW_NICENESS)
    assert niceness > os.nice(0)


def test_a_thumbnail_process_dies_with_its_killed_tracker(tmp_path):
    """SIGKILL on the tracker takes its thumbnail process along (no file lands after the sweep)."""
    import signal
    import subprocess
    import sys
    import time

    script = tmp_path / "tracker_like.py"
    script.write_text(
        "import os, sys, time\n"
        "sys.path.insert(0, os.getcwd())\n"
        "if __name__ == '__main__':\n"
        "    import django; django.setup()\n"
        "    from gallery.previews import _spawn_pool\n"
        "    pool = _spawn_pool(1)\n"
        "    print(pool.submit(os.getpid).result(), flush=True)\n"
        "    pool.submit(time.sleep, 60)\n"
        "    time.sleep(60)\n")
    tracker = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True,
                               env={**os.environ, "DJANGO_SETTINGS_MODULE": "atelier.settings"})
    try:
        child = int(tracker.stdout.readline())
        os.kill(tracker.pid, signal.SIGKILL)
        tracker.wait(timeout=10)
        deadline = time.monotonic() + 10
        while _alive(child) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not _alive(child), "the thumbnail process outlived its tracker"
    finally:
        tracker.kill()


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split(") ")[1][0] != "Z"  # a zombie has exited
    except FileNotFoundError:
        return False
