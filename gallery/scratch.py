"""Each process's own scratch folder under MEDIA_ROOT/tmp, and clean-up after dead processes.

Temporary files (downloads, thumbnails, restores) are written in a folder the process holds
an exclusive lock on (flock on the folder itself) for its whole life. The kernel drops the
lock when the process dies, even by SIGKILL, so a sweeper knows for sure which folders were
abandoned, with no guess based on age. Before a process moves files into their final place
it writes their names in a note in its folder, and removes the note once the Asset row is
committed; an abandoned folder's notes name the final files that may have no row.
"""

from __future__ import annotations

import atexit
import fcntl
import logging
import os
import re
import secrets
import shutil
import socket
import threading
import time
from pathlib import Path

from django.conf import settings

logger = logging.getLogger(__name__)

NOTE_PREFIX = "placing-"
# Loose files straight in tmp/ (from versions before scratch folders) have no owner to ask.
LOOSE_FILE_AGE_SECONDS = 3600.0

_lock = threading.Lock()
_held: dict[str, tuple[int, Path, int]] = {}  # tmp root -> (pid, own folder, locked descriptor)


def root() -> Path:
    return Path(settings.MEDIA_ROOT) / "tmp"


def own_dir() -> Path:
    """This process's scratch folder (made and locked on first use)."""
    base = root()
    pid = os.getpid()
    with _lock:
        held = _held.get(str(base))
        if held is not None and held[0] == pid and held[1].is_dir():
            return held[1]
        if held is not None and held[0] != pid:
            os.close(held[2])  # inherited across fork: the parent's, not ours
        base.mkdir(parents=True, exist_ok=True)
        name = f"{_host()}-{pid}-{secrets.token_hex(4)}"
        # Made under a hidden name and renamed once locked: a sweeper never sees it unlocked.
        hidden = base / f".{name}"
        hidden.mkdir()
        descriptor = os.open(hidden, os.O_RDONLY | os.O_DIRECTORY)
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as error:  # a filesystem without locks: the sweeper then never removes it
            logger.warning("No lock on the scratch folder %s (%s); it is kept after this process ends",
                           name, error.strerror)
        path = base / name
        os.rename(hidden, path)
        _held[str(base)] = (pid, path, descriptor)
        return path


def note_placing(names: list[str]) -> Path:
    """Write down final names about to be filled, in case this process dies before its row is saved."""
    note = own_dir() / f"{NOTE_PREFIX}{secrets.token_hex(8)}.txt"
    note.write_text("\n".join(names) + "\n", encoding="utf-8")
    return note


def sweep() -> int:
    """Remove abandoned scratch folders, and final files their notes name that have no row."""
    base = root()
    if not base.is_dir():
        return 0
    with _lock:
        mine = {held[1] for held in _held.values() if held[0] == os.getpid()}
    removed = 0
    for entry in base.iterdir():
        if entry in mine:
            continue
        try:
            if entry.is_dir() and not entry.is_symlink():
                if entry.name.startswith(".") and _age(entry) < LOOSE_FILE_AGE_SECONDS:
                    continue  # being set up right now
                removed += _remove_if_abandoned(entry)
            elif _age(entry) > LOOSE_FILE_AGE_SECONDS:
                entry.unlink(missing_ok=True)
                removed += 1
        except OSError as error:
            logger.warning("Could not clean up %s: %s", entry, error)
    return removed


def _remove_if_abandoned(folder: Path) -> int:
    descriptor = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            return 0  # its process is alive (or locks do not work here: then never guess)
        for note in folder.glob(f"{NOTE_PREFIX}*.txt"):
            _undo_unrecorded(note.read_text(encoding="utf-8").split())
        count = sum(1 for path in folder.rglob("*") if path.is_file())
        shutil.rmtree(folder, ignore_errors=True)
        if count:
            logger.info("Removed %d file(s) left in %s by a process that stopped", count, folder.name)
        return count
    finally:
        os.close(descriptor)


def _undo_unrecorded(names: list[str]) -> None:
    from django.core.files.storage import default_storage
    from django.db.models import Q

    from gallery.models import Asset

    for name in names:
        if not Asset.objects.filter(Q(file=name) | Q(thumbnail=name)).exists():
            default_storage.delete(name)
            logger.info("Removed %s: its process stopped before recording it", name)


def _age(path: Path) -> float:
    return time.time() - path.lstat().st_mtime


def _host() -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "_", socket.gethostname())[:40] or "host"


@atexit.register
def _remove_own_on_exit() -> None:
    with _lock:
        for pid, path, descriptor in _held.values():
            if pid == os.getpid():
                if not any(path.glob(f"{NOTE_PREFIX}*")):  # else the sweeper settles the notes
                    shutil.rmtree(path, ignore_errors=True)
                os.close(descriptor)
        _held.clear()
