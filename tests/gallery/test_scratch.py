"""Temporary files of dead processes are removed, those of live ones never; a dead process's
half-placed outputs (files in place, no row yet) go too, recorded ones stay."""

from __future__ import annotations

import fcntl
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from gallery import scratch
from gallery.assets import store_asset
from gallery.ingest import receive, temp_dir, verify
from gallery.models import Asset
from tests.studio.conftest import png_bytes

pytestmark = pytest.mark.django_db


def test_each_process_writes_in_a_locked_folder_of_its_own(media_root):
    folder = temp_dir()
    assert folder.parent == Path(media_root) / "tmp" and f"-{os.getpid()}-" in folder.name
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        with pytest.raises(BlockingIOError):  # held for this process's whole life
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    finally:
        os.close(descriptor)
    assert scratch.sweep() == 0 and folder.is_dir()


def test_a_killed_process_leaves_nothing_once_swept(media_root, member):
    kept = store_asset(verify(*receive([png_bytes()])), owner=member, source=Asset.Source.UPLOAD)
    tmp = Path(media_root) / "tmp"
    # A process that held a folder, wrote a partial download and a note, placed one file, died.
    code = f"""
import fcntl, os, sys, signal
folder = {str(tmp)!r} + "/host-" + str(os.getpid()) + "-dead"
os.makedirs(folder)
descriptor = os.open(folder, os.O_RDONLY)
fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
open(folder + "/in-partial", "wb").write(b"half a file")
open(folder + "/placing-1.txt", "w").write("assets/2026/11/orphan.jpg\\nthumbs/2026/11/orphan.webp\\n{kept.file.name}\\n")
os.makedirs({str(media_root)!r} + "/assets/2026/11", exist_ok=True)
open({str(media_root)!r} + "/assets/2026/11/orphan.jpg", "wb").write(b"placed, never recorded")
print(folder, flush=True)
os.kill(os.getpid(), signal.SIGKILL)
"""
    dead = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout.strip()
    assert Path(dead).is_dir()
    live_folder = tmp / "host-1-alive"
    live_folder.mkdir()
    (live_folder / "in-busy").write_bytes(b"being written")
    holder = subprocess.Popen([sys.executable, "-c", f"import fcntl, os, time; d = os.open({str(live_folder)!r}, os.O_RDONLY); "
                               "fcntl.flock(d, fcntl.LOCK_EX); print('held', flush=True); time.sleep(60)"],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        scratch.sweep()
        assert not Path(dead).exists()
        assert not (Path(media_root) / "assets/2026/11/orphan.jpg").exists()
        assert (Path(media_root) / kept.file.name).exists()  # it has its row: never touched
        assert (live_folder / "in-busy").exists()  # its process is alive
    finally:
        holder.kill()
        holder.wait()
    scratch.sweep()
    assert not live_folder.exists()


def test_old_loose_files_from_before_scratch_folders_are_removed(media_root):
    tmp = Path(media_root) / "tmp"
    tmp.mkdir(parents=True)
    old, fresh = tmp / "in-old", tmp / "in-fresh"
    old.write_bytes(b"x")
    fresh.write_bytes(b"y")
    an_hour_ago = time.time() - scratch.LOOSE_FILE_AGE_SECONDS - 60
    os.utime(old, (an_hour_ago, an_hour_ago))
    scratch.sweep()
    assert not old.exists() and fresh.exists()
