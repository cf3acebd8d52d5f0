"""Storage faults: the disk fills up or the media folder cannot be written while outputs land.

The job says so in plain words on its card, keeps its result JSON, retries with backoff and
finishes by itself once the disk is fine again; nothing half written stays visible, and the
administrator finds the cause in the log. Part of the fault suite (`pytest -m faults`).
"""

from __future__ import annotations

import errno
import logging
import subprocess
import tempfile as real_tempfile
import time
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.urls import reverse

from gallery import ingest, scratch
from gallery.models import Asset
from studio import jobs
from studio.models import Generation
from tests.studio.conftest import drive, make_generation

pytestmark = [pytest.mark.django_db, pytest.mark.faults]
State = Generation.State


@pytest.fixture
def no_backoff(monkeypatch):
    monkeypatch.setattr(jobs, "_backoff", lambda failures, error=None: timedelta(0))


class Disk:
    """Temporary files of gallery.ingest on a disk that fills up after `room` files."""

    def __init__(self) -> None:
        self.room: int | None = None  # None: plenty of space
        self.opened = 0

    def NamedTemporaryFile(self, **kwargs):  # noqa: N802 (stands in for tempfile's)
        self.opened += 1
        handle = real_tempfile.NamedTemporaryFile(**kwargs)
        full = self.room is not None and self.opened > self.room
        return _FillingFile(handle, full)


class _FillingFile:
    def __init__(self, handle, full: bool) -> None:
        self._handle, self._full, self._written = handle, full, 0

    def write(self, data) -> int:
        if self._full and self._written + len(data) > 1000:  # a little lands, then the disk is full
            raise OSError(errno.ENOSPC, "No space left on device")
        self._written += len(data)
        return self._handle.write(data)

    def __getattr__(self, name):
        return getattr(self._handle, name)

    def __enter__(self):
        self._handle.__enter__()
        return self

    def __exit__(self, *exc):
        return self._handle.__exit__(*exc)


@pytest.fixture
def disk(monkeypatch) -> Disk:
    disk = Disk()
    monkeypatch.setattr(ingest, "tempfile", SimpleNamespace(NamedTemporaryFile=disk.NamedTemporaryFile))
    return disk


def step_until(generation: Generation, done, timeout: float = 15.0) -> Generation:
    """What the tracker does, until `done(generation)` holds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        generation.refresh_from_db()
        if done(generation):
            return generation
        if generation.state == State.SUBMITTING:
            jobs.submit(str(generation.id))
        for generation_id in jobs.claim_due():
            jobs.check(generation_id)
        time.sleep(0.02)
    raise AssertionError(f"still {generation.state} ({generation.waiting_reason!r}) after {timeout}s")


def stored_files(media_root: Path) -> set[Path]:
    """Every file in MEDIA_ROOT, temporary ones included."""
    return {path for path in Path(media_root).rglob("*") if path.is_file()}


def files_of_assets() -> set[str]:
    return {name for asset in Asset.objects.all() for name in (asset.file.name, asset.thumbnail.name) if name}


def assert_nothing_half_written(media_root: Path) -> None:
    on_disk = {str(path.relative_to(media_root)) for path in stored_files(media_root)}
    assert on_disk == files_of_assets()  # no temporary or orphan file, no row without its file


def test_a_full_disk_pauses_the_job_in_plain_words_and_it_finishes_when_space_returns(
        fal_service, member, member_client, media_root, disk, no_backoff, caplog):
    disk.room = 2  # two temporary files fit (outputs, thumbnails if made at once), then the disk is full
    generation = make_generation(member, "fal-ai/flux-1/dev", {"prompt": "three [sim: queue=0, run=0]", "num_images": 3})
    generation = step_until(generation, lambda g: g.waiting_reason == jobs.STORAGE_FULL)

    assert generation.state == State.COLLECTING and len(generation.result["images"]) == 3  # the result is kept
    card = member_client.get(reverse("studio:job_card", args=[generation.id])).content.decode()
    assert "storage is full" in card and "finish when space is freed" in card
    saved = sorted(generation.assets.values_list("position", flat=True))
    assert saved and saved == list(range(len(saved))) and len(saved) < 3  # what fit is kept, whole
    assert_nothing_half_written(media_root)
    problems = [record for record in caplog.records if record.name == "studio.jobs" and record.levelno >= logging.ERROR]
    assert problems and "No space left on device" in problems[-1].getMessage()

    step_until(generation, lambda g: g.check_failures >= 3)  # it keeps trying, and says so all along
    generation.refresh_from_db()
    assert generation.state == State.COLLECTING and generation.waiting_reason == jobs.STORAGE_FULL

    disk.room = None  # space is freed
    generation = drive(generation)
    assert generation.state == State.DONE and generation.waiting_reason == ""
    assert sorted(generation.assets.values_list("position", flat=True)) == [0, 1, 2]
    assert_nothing_half_written(media_root)
    assert "storage is full" not in member_client.get(reverse("studio:job_card", args=[generation.id])).content.decode()


def test_a_media_folder_that_cannot_be_written_says_so_and_recovers(
        fal_service, member, member_client, media_root, monkeypatch, no_backoff, caplog):
    real_own_dir = scratch.own_dir
    locked = {"on": True}

    def own_dir():
        if locked["on"]:
            raise PermissionError(errno.EACCES, "Permission denied", str(media_root))
        return real_own_dir()

    monkeypatch.setattr(scratch, "own_dir", own_dir)
    generation = make_generation(member, "fal-ai/flux-1/dev", {"prompt": "locked [sim: queue=0, run=0]"})
    generation = step_until(generation, lambda g: g.waiting_reason == jobs.STORAGE_UNWRITABLE)
    card = member_client.get(reverse("studio:job_card", args=[generation.id])).content.decode()
    assert "cannot write to its storage folder" in card
    assert generation.result is not None and not generation.assets.exists()
    assert any("Permission denied" in record.getMessage() for record in caplog.records if record.levelno >= logging.ERROR)

    locked["on"] = False  # the administrator fixes the permissions
    generation = drive(generation)
    assert generation.state == State.DONE and generation.assets.count() == 1
    assert_nothing_half_written(media_root)


# --- A real, tiny filesystem --------------------------------------------------------------
@pytest.fixture
def tiny_disk(settings, tmp_path):
    """MEDIA_ROOT on a 1 MB tmpfs (needs root with mount rights: CI runs as root)."""
    mount_point = tmp_path / "tiny-media"
    mount_point.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount_point)],
                             capture_output=True, text=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({mounted.stderr.strip()}); run as root with mount rights")
    settings.MEDIA_ROOT = mount_point

    def remount(options: str) -> None:
        subprocess.run(["mount", "-o", f"remount,{options}", str(mount_point)], check=True)

    yield SimpleNamespace(path=mount_point, remount=remount)
    subprocess.run(["umount", "-l", str(mount_point)], check=False)


def test_a_really_full_disk_keeps_the_video_waiting_until_it_grows(fal_service, member, tiny_disk, no_backoff):
    generation = make_generation(member, "fal-ai/veo3", {"prompt": "a wave [sim: queue=0, run=0, big_mb=2]"})
    generation = step_until(generation, lambda g: g.waiting_reason == jobs.STORAGE_FULL)
    assert generation.state == State.COLLECTING and generation.result["video"]["url"]
    assert_nothing_half_written(tiny_disk.path)  # the 1 MB that fitted was removed again

    tiny_disk.remount("size=16m")
    generation = drive(generation)
    assert generation.state == State.DONE and generation.assets.get().bytes == 2 * 1024 * 1024
    assert_nothing_half_written(tiny_disk.path)


def test_a_read_only_disk_keeps_the_job_waiting_until_it_is_writable(fal_service, member, tiny_disk, no_backoff):
    tiny_disk.remount("ro")
    generation = make_generation(member, "fal-ai/flux-1/dev", {"prompt": "ro [sim: queue=0, run=0]"})
    generation = step_until(generation, lambda g: g.waiting_reason == jobs.STORAGE_UNWRITABLE)
    tiny_disk.remount("rw")
    generation = drive(generation)
    assert generation.state == State.DONE and generation.assets.count() == 1
    assert_nothing_half_written(tiny_disk.path)
