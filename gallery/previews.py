"""Thumbnails and video posters made after an output is saved, off the critical path.

An output counts as saved once its original is verified, in place and recorded. Its WebP
thumbnail costs more CPU than all of that (15-22 ms per 512x512 image, measured in bench/),
so the tracker saves outputs with `store_asset(..., thumbnail_later=True)`, which marks the
asset `thumbnail_due_at`, and a PreviewMaker renders what is owed in a worker process (the
encoder holds the GIL; a process uses another core) and records it. Until then the gallery
shows an image's original. What is owed lives in the database, so a restart makes the
missing ones; claims are leases, so two trackers do not make the same one twice.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, BrokenExecutor, Future, ProcessPoolExecutor, wait
from datetime import timedelta
from pathlib import Path

from django.core.files.storage import FileSystemStorage, default_storage
from django.db import close_old_connections, transaction
from django.utils import timezone

from gallery import preview_process, scratch
from gallery.assets import remove_stored
from gallery.ingest import make_preview, place, render_preview, temp_dir
from gallery.models import Asset, thumbnail_path

logger = logging.getLogger(__name__)

# While outputs are being saved, thumbnails wait (saving comes first), but never longer than this.
MAX_HOLD_SECONDS = 3.0
HELD_RECHECK_SECONDS = 0.1  # how soon a held-back maker looks again
# A maker that claimed a thumbnail holds it this long; if it dies, another makes it.
CLAIM_LEASE = timedelta(minutes=2)
_CLAIM_FIELDS = ("id", "kind", "file", "created_at", "thumbnail_due_at")


def claim_due(limit: int = 8) -> list[Asset]:
    """Assets whose thumbnail is owed, each claimed (leased) for this maker."""
    now = timezone.now()
    if not Asset.objects.filter(thumbnail_due_at__lte=now).exists():  # SQLite's write lock only for work
        return []
    with transaction.atomic():
        due = list(Asset.objects.select_for_update(skip_locked=True).filter(thumbnail_due_at__lte=now)
                   .order_by("thumbnail_due_at").only(*_CLAIM_FIELDS)[:limit])
        if due:
            Asset.objects.filter(id__in=[asset.id for asset in due]).update(thumbnail_due_at=now + CLAIM_LEASE)
    return due


@contextlib.contextmanager
def local_file(asset: Asset) -> Iterator[Path]:
    """The asset's file as a path on this machine (a temporary copy for remote storage)."""
    if isinstance(default_storage, FileSystemStorage):
        yield Path(default_storage.path(asset.file.name))
        return
    handle = tempfile.NamedTemporaryFile(dir=temp_dir(), prefix="src-", delete=False)
    try:
        with handle, default_storage.open(asset.file.name, "rb") as stored:
            shutil.copyfileobj(stored, handle)
        yield Path(handle.name)
    finally:
        Path(handle.name).unlink(missing_ok=True)


def record(asset: Asset, made: Path | None) -> None:
    """Put a made thumbnail in place and on the row; None means none can be made (a video
    with no decodable frame): the debt is cleared and the gallery keeps its placeholder."""
    if made is None:
        Asset.objects.filter(id=asset.id).update(thumbnail_due_at=None)
        return
    name = thumbnail_path(asset, "thumb.webp")
    # Should this process die before the row names the file, the note lets a sweeper remove it.
    note = scratch.note_placing([name])
    try:
        name = place(made, name)
    finally:
        made.unlink(missing_ok=True)
    updated = Asset.objects.filter(id=asset.id, thumbnail_due_at__isnull=False).update(
        thumbnail=name, thumbnail_due_at=None)
    if not updated and not Asset.objects.filter(id=asset.id).exists():
        remove_stored([name])  # deleted while we worked: leave nothing behind
    note.unlink(missing_ok=True)


def give_up(asset: Asset, error: BaseException) -> None:
    logger.warning("No thumbnail for asset %s: %s", asset.id, error)
    Asset.objects.filter(id=asset.id).update(thumbnail_due_at=None)


def make_due(limit: int = 50) -> int:
    """Make owed thumbnails here and now, one after another; returns how many were handled."""
    handled = 0
    for asset in claim_due(limit):
        try:
            with local_file(asset) as source:
                made = make_preview(source, asset.kind, temp_dir())
        except Exception as error:  # a damaged file never stops the others
            give_up(asset, error)
        else:
            record(asset, made)
        handled += 1
    return handled


class PreviewMaker:
    """Makes owed thumbnails on `processes` worker processes until `stop` is set.

    `nudge()` (after a collect saved something) makes it look at once instead of at its next tick.
    """

    def __init__(self, processes: int = 1, *, tick: float = 1.0,
                 pool_factory: Callable[[int], ProcessPoolExecutor] | None = None,
                 busy: Callable[[], bool] = lambda: False) -> None:
        self.processes = max(1, processes)
        self.busy = busy
        self.tick = tick
        self._pool_factory = pool_factory or _spawn_pool
        self._wake = threading.Event()
        self._crashes: dict = {}  # asset id -> worker deaths while making it
        self._held_since: float | None = None

    def nudge(self) -> None:
        self._wake.set()

    def run(self, stop: threading.Event) -> None:
        while not stop.is_set():
            with self._pool_factory(self.processes) as pool:
                self._serve(pool, stop)  # returns early when a worker process died

    def _serve(self, pool: ProcessPoolExecutor, stop: threading.Event) -> None:
        # render_preview lives in gallery.ingest: a worker process imports no models.
        in_flight: dict[Future, tuple[Asset, contextlib.ExitStack]] = {}
        broken = False
        while not stop.is_set() and not broken:
            room = self.processes * 2 - len(in_flight)  # a small backlog keeps the processes fed
            if room > 0:
                self._wake.clear()  # a collect finishing (or a tick) wakes a held-back maker too
            held = room > 0 and not self._may_claim()
            if room > 0 and not held:
                for asset in self._claim(room):
                    stack = contextlib.ExitStack()
                    try:
                        source = stack.enter_context(local_file(asset))
                        future = pool.submit(render_preview, str(source), asset.kind, str(temp_dir()))
                    except Exception as error:
                        stack.close()
                        broken = isinstance(error, BrokenExecutor)
                        self._failed(asset, error)
                        continue
                    in_flight[future] = (asset, stack)
            if in_flight:
                done, _ = wait(in_flight, timeout=self.tick, return_when=FIRST_COMPLETED)
                for future in done:
                    broken |= self._finish(future, *in_flight.pop(future))
            else:
                self._wake.wait(min(self.tick, HELD_RECHECK_SECONDS) if held else self.tick)
        for future, (asset, stack) in in_flight.items():  # let the last ones land
            self._finish(future, asset, stack)

    def _may_claim(self) -> bool:
        """Not while outputs are being saved (`busy`), unless held back MAX_HOLD already."""
        now = time.monotonic()
        if not self.busy():
            self._held_since = None
            return True
        if self._held_since is None:
            self._held_since = now
        return now - self._held_since >= MAX_HOLD_SECONDS

    def _claim(self, room: int) -> list[Asset]:
        try:
            return claim_due(room)
        except Exception:
            logger.exception("Claiming owed thumbnails failed; trying again")
            return []
        finally:
            close_old_connections()

    def _finish(self, future: Future, asset: Asset, stack: contextlib.ExitStack) -> bool:
        """Record one result; True when the worker process died (the pool must be replaced)."""
        try:
            made = future.result()
        except Exception as error:
            self._failed(asset, error)
            return isinstance(error, BrokenExecutor)
        else:
            try:
                record(asset, Path(made) if made else None)
            except Exception:
                logger.exception("Recording the thumbnail of %s failed; its lease brings it back", asset.id)
            return False
        finally:
            stack.close()
            close_old_connections()

    def _failed(self, asset: Asset, error: BaseException) -> None:
        try:
            if isinstance(error, BrokenExecutor) and self._crashes.get(asset.id, 0) < 1:
                # The worker died (killed, out of memory…): try once more in a fresh one.
                self._crashes[asset.id] = self._crashes.get(asset.id, 0) + 1
                Asset.objects.filter(id=asset.id).update(thumbnail_due_at=timezone.now())
            else:
                give_up(asset, error)
        except Exception:
            logger.exception("Could not note the failed thumbnail of %s; its lease brings it back", asset.id)


def _spawn_pool(processes: int) -> ProcessPoolExecutor:
    # spawn, not fork: forking a process that runs threads can copy a held lock into the child.
    return ProcessPoolExecutor(max_workers=processes, mp_context=multiprocessing.get_context("spawn"),
                               initializer=preview_process.started, initargs=(os.getpid(),))

