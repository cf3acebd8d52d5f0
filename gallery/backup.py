"""Backup and restore: the database and every media file in one .tar.gz (docs/backup.md).

An archive (format 1) holds, in this order:

    database.jsonl   every row worth keeping, as Django's JSON-lines serialisation
    media/<path>     every file under MEDIA_ROOT except tmp/
    manifest.json    versions, counts per model, size and SHA-256 of every other member

The manifest comes last because it records the bytes as they went into the archive; an
archive that stops early has none and is refused. `restore` unpacks into a staging folder
under MEDIA_ROOT/tmp, checks every checksum, and only then touches the database or media.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import platform
import shutil
import stat
import tarfile
import tempfile
import zlib
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, time as dt_time, timezone as dt_timezone
from pathlib import Path
from typing import IO, Any

import django
from django.apps import apps
from django.conf import settings
from django.core import serializers
from django.core.files.storage import FileSystemStorage, default_storage
from django.core.management import call_command
from django.core.management.color import no_style
from django.core.serializers.json import DjangoJSONEncoder
from django.core.serializers.jsonl import Serializer as JSONLSerializer
from django.db import DEFAULT_DB_ALIAS, connections, models, router, transaction
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.recorder import MigrationRecorder
from django.db.models import Prefetch

FORMAT = "atelier-backup"
FORMAT_VERSION = 1
MANIFEST_NAME = "manifest.json"
DATABASE_NAME = "database.jsonl"
MEDIA_PREFIX = "media/"
MEDIA_SKIPPED = "tmp"  # MEDIA_ROOT/tmp holds half-received downloads (gallery.ingest.temp_dir)

# Left out of every backup, and why (docs/backup.md repeats this).
EXCLUDED_APPS = {
    "contenttypes": "rebuilt by migrate; rows that point at them are written with natural keys",
    "sessions": "everyone signs in again after a restore",
    "admin": "the admin's change history names rows by internal ids; it is not studio data",
    "django_tasks_database": "the task queue's bookkeeping; jobs in flight resume from their Generation rows",
}
EXCLUDED_MODELS = {
    "auth.permission": "rebuilt by migrate; users and groups name permissions by natural key",
}
# Tables `migrate` fills with instance-specific ids: references to them use natural keys.
_REBUILT_MODELS = {"contenttypes.contenttype", "auth.permission"}

CHUNK = 1024 * 1024
MAX_MANIFEST_BYTES = 512 * 1024 * 1024
FREE_SPACE_MARGIN = 64 * 1024 * 1024
# Media (PNG/WebP/MP4) is compressed already. For the database text, level 1 ran 3.4x faster
# than tarfile's default 9 for a 20 % bigger result (76 MB of JSON: 12.7 MB vs 10.5 MB).
COMPRESS_LEVEL = 1


class BackupError(Exception):
    """An expected problem (damaged archive, wrong format, instance not empty). Plain language."""


@dataclass
class BackupResult:
    path: Path
    bytes: int
    counts: dict[str, int]
    media_files: int
    media_bytes: int
    missing_files: list[str]
    skipped: list[str]


@dataclass
class RestoreResult:
    manifest: dict
    counts: dict[str, int]
    media_files: int
    media_bytes: int
    replaced: bool
    missing_files: list[str] = field(default_factory=list)


# --- What goes into a backup ------------------------------------------------------------

def backup_models(using: str = DEFAULT_DB_ALIAS) -> list[type[models.Model]]:
    """Every concrete model whose rows are data, ordered so natural keys resolve on load."""
    app_list = [(config, None) for config in apps.get_app_configs() if config.label not in EXCLUDED_APPS]
    chosen = []
    for model in serializers.sort_dependencies(app_list, allow_cycles=True):
        meta = model._meta
        if meta.proxy or not meta.managed or meta.label_lower in EXCLUDED_MODELS:
            continue
        if router.allow_migrate_model(using, model):
            chosen.append(model)
    return chosen


def _uses_natural_keys(model: type[models.Model]) -> bool:
    """Rows pointing at content types or permissions name them (their ids differ per instance)."""
    return any(f.related_model._meta.label_lower in _REBUILT_MODELS
               for f in model._meta.get_fields()
               if f.is_relation and f.concrete and f.related_model is not None)


def _rows(model: type[models.Model], using: str, natural: bool) -> Iterator[models.Model]:
    queryset = model._base_manager.using(using).order_by(model._meta.pk.name).select_related(None)
    if not natural:
        # One query per 2000 rows for many-to-many ids, instead of one per row.
        lookups = [Prefetch(f.name, queryset=f.related_model._base_manager.using(using).only("pk").order_by())
                   for f in model._meta.many_to_many if f.remote_field.through._meta.auto_created]
        queryset = queryset.prefetch_related(*lookups)
    return queryset.iterator(chunk_size=2000)


def dump_database(out: IO[str], using: str = DEFAULT_DB_ALIAS) -> dict[str, int]:
    """Write every backed-up row to `out` as JSON lines; returns rows per model label."""
    counts: dict[str, int] = {}
    for model in backup_models(using):
        natural = _uses_natural_keys(model)
        count = 0

        def counted(rows: Iterable[models.Model]) -> Iterator[models.Model]:
            nonlocal count
            for row in rows:
                count += 1
                yield row

        _Serializer().serialize(counted(_rows(model, using, natural)), stream=out, cls=ExactJSONEncoder,
                                use_natural_foreign_keys=natural, use_natural_primary_keys=False)
        counts[model._meta.label_lower] = count
    return counts


class _Serializer(JSONLSerializer):
    """Django's JSON-lines output (loaddata reads it), written about twice as fast."""

    def end_object(self, obj: models.Model) -> None:
        # json.dumps runs the C encoder; json.dump writes thousands of tiny pieces per row.
        self.stream.write(json.dumps(self.get_dump_object(obj), **self.json_kwargs) + "\n")
        self._current = None

    def handle_m2m_field(self, obj: models.Model, field: models.ManyToManyField) -> None:
        prefetched = getattr(obj, "_prefetched_objects_cache", {})
        if field.remote_field.through._meta.auto_created and field.name in prefetched and not (
                self.use_natural_foreign_keys and hasattr(field.remote_field.model, "natural_key")):
            # Django builds a queryset per row even when the ids are prefetched (_rows).
            self._current[field.name] = [self._value_from_field(related, related._meta.pk)
                                         for related in prefetched[field.name]]
            return
        super().handle_m2m_field(obj, field)


class ExactJSONEncoder(DjangoJSONEncoder):
    """Django's encoder, but times keep their microseconds (it cuts them to milliseconds).

    Order in the gallery is (created_at, id): a restore must not turn distinct times into ties.
    """

    def default(self, o: Any) -> Any:
        if (isinstance(o, datetime) or (isinstance(o, dt_time) and o.tzinfo is None)) and o.microsecond:
            text = o.isoformat()
            return text.removesuffix("+00:00") + "Z" if text.endswith("+00:00") else text
        return super().default(o)


def referenced_files(using: str = DEFAULT_DB_ALIAS) -> set[str]:
    """Names stored in every file field of every backed-up model (asset files, thumbnails…)."""
    names: set[str] = set()
    for model in backup_models(using):
        for file_field in [f for f in model._meta.concrete_fields if isinstance(f, models.FileField)]:
            values = model._base_manager.using(using).exclude(**{file_field.name: ""}).values_list(
                file_field.name, flat=True)
            names.update(name for name in values.iterator(chunk_size=5000) if name)
    return names


@contextmanager
def read_snapshot(using: str = DEFAULT_DB_ALIAS) -> Iterator[None]:
    """Every read inside sees the database at one moment, without holding up writers.

    SQLite (WAL): a deferred read transaction; Django's own atomic() would BEGIN IMMEDIATE
    here (settings.py) and block the worker for the whole dump. PostgreSQL: REPEATABLE READ,
    a snapshot for the whole transaction. Already inside a transaction (tests): read in it.
    """
    connection = connections[using]
    if connection.in_atomic_block:
        yield
        return
    if connection.vendor == "sqlite":
        connection.ensure_connection()
        with connection.cursor() as cursor:
            cursor.execute("BEGIN DEFERRED")
        try:
            yield
        finally:
            with connection.cursor() as cursor:
                cursor.execute("ROLLBACK")  # nothing was written
        return
    with transaction.atomic(using=using):
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        yield


# --- Writing an archive -----------------------------------------------------------------

def default_backup_path(now: datetime | None = None) -> Path:
    now = now or datetime.now(dt_timezone.utc)
    return Path(settings.VAR_DIR) / "backups" / f"atelier-{now:%Y%m%dT%H%M%SZ}.tar.gz"


def create_backup(output: Path | None = None, *, using: str = DEFAULT_DB_ALIAS,
                  warn: Callable[[str], None] = lambda message: None) -> BackupResult:
    """Write the archive to a hidden temporary file beside `output`, then rename it into place."""
    media_root = _local_media_root()
    tables = set(connections[using].introspection.table_names())
    unmigrated = [model._meta.label for model in backup_models(using) if model._meta.db_table not in tables]
    if unmigrated:
        raise BackupError(f"This database is not set up ({unmigrated[0]} has no table): run "
                          "`manage.py migrate` first, or check DATABASE_URL.")
    started = datetime.now(dt_timezone.utc)
    output = Path(output).expanduser() if output else default_backup_path(started)
    if output.is_dir():
        output = output / default_backup_path(started).name
    output = output.absolute()
    if output.resolve().is_relative_to(media_root.resolve()):
        raise BackupError(f"{output} is inside MEDIA_ROOT ({media_root}): the backup would contain itself. "
                          "Write it somewhere else.")
    if output.exists():
        raise BackupError(f"{output} already exists. Choose another name; a backup never overwrites one.")
    try:
        output.parent.mkdir(parents=True, exist_ok=True, mode=0o700)  # backups hold password hashes
        handle, partial_name = tempfile.mkstemp(dir=output.parent, prefix=f".{output.name}.", suffix=".partial")
    except OSError as error:
        raise BackupError(f"Cannot write to {output.parent}: {error.strerror}.") from None
    partial = Path(partial_name)  # mkstemp: mode 0600
    try:
        with os.fdopen(handle, "wb") as raw:
            with tarfile.open(fileobj=raw, mode="w:gz", compresslevel=COMPRESS_LEVEL,
                              format=tarfile.PAX_FORMAT) as archive:
                database, counts, referenced, migrations = _add_database(archive, output.parent, using)
                media, skipped = _add_media(archive, media_root)
                missing = sorted(referenced - set(media))
                manifest = {
                    "format": FORMAT,
                    "format_version": FORMAT_VERSION,
                    "created_at": started.strftime("%Y-%m-%dT%H:%M:%SZ"),
                    "atelier_version": atelier_version(),
                    "django_version": django.get_version(),
                    "python_version": platform.python_version(),
                    "database_vendor": connections[using].vendor,
                    "migrations": migrations,
                    "excluded": sorted([*EXCLUDED_APPS, *EXCLUDED_MODELS]),
                    "counts": counts,
                    "database": database,
                    "media": media,
                    "missing_files": missing,
                }
                _add_bytes(archive, MANIFEST_NAME, json.dumps(manifest, indent=1, sort_keys=True).encode())
            raw.flush()
            os.fsync(raw.fileno())
        if output.exists():
            raise BackupError(f"{output} appeared while the backup was written; it is left as it was.")
        os.replace(partial, output)
        _fsync_dir(output.parent)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    for name in missing:
        warn(f"Missing file: {name} is named in the database but was not in {media_root}.")
    for name in skipped:
        warn(f"Skipped {name}: not a regular file.")
    return BackupResult(path=output, bytes=output.stat().st_size, counts=counts, media_files=len(media),
                        media_bytes=sum(entry["bytes"] for entry in media.values()),
                        missing_files=missing, skipped=skipped)


def _add_database(archive: tarfile.TarFile, workdir: Path,
                  using: str) -> tuple[dict, dict[str, int], set[str], list[str]]:
    """Dump to a temporary file (a tar member needs its size up front), then add it."""
    with tempfile.TemporaryFile(dir=workdir, prefix=".atelier-dump-") as dump:
        text = io.TextIOWrapper(dump, encoding="utf-8", newline="\n")
        with read_snapshot(using):
            counts = dump_database(text, using)
            referenced = referenced_files(using)
            migrations = _applied_migrations(using)
        text.flush()
        text.detach()
        size = dump.tell()
        dump.seek(0)
        digest = _add_stream(archive, DATABASE_NAME, dump, size, mtime=datetime.now().timestamp())
    return {"name": DATABASE_NAME, "bytes": size, "sha256": digest}, counts, referenced, migrations


def _add_media(archive: tarfile.TarFile, media_root: Path) -> tuple[dict[str, dict], list[str]]:
    """Every regular file under MEDIA_ROOT except tmp/, in a stable order; symlinks are skipped."""
    entries: dict[str, dict] = {}
    skipped: list[str] = []
    if not media_root.is_dir():
        return entries, skipped
    for directory, subdirectories, files in os.walk(media_root):
        relative_dir = Path(directory).relative_to(media_root)
        if relative_dir == Path("."):
            subdirectories[:] = [name for name in subdirectories if name != MEDIA_SKIPPED]
        subdirectories.sort()
        for name in sorted(files):
            path = Path(directory) / name
            relative = (relative_dir / name).as_posix()
            try:
                handle = open(path, "rb", opener=_open_no_follow)
            except FileNotFoundError:
                continue  # deleted while we walked: its row went with it, or will
            except OSError:
                skipped.append(relative)  # a symlink (ELOOP) or unreadable
                continue
            with handle:
                stat = os.fstat(handle.fileno())
                if not _is_regular(stat.st_mode):
                    skipped.append(relative)
                    continue
                digest = _add_stream(archive, MEDIA_PREFIX + relative, handle, stat.st_size, mtime=stat.st_mtime)
            entries[relative] = {"bytes": stat.st_size, "sha256": digest}
    return entries, skipped


def _add_stream(archive: tarfile.TarFile, name: str, handle: IO[bytes], size: int, *, mtime: float) -> str:
    info = tarfile.TarInfo(name)
    info.size, info.mtime, info.mode = size, int(mtime), 0o644
    reader = _HashingReader(handle)
    archive.addfile(info, reader)
    return reader.digest.hexdigest()


def _add_bytes(archive: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mtime, info.mode = len(data), int(datetime.now().timestamp()), 0o644
    archive.addfile(info, io.BytesIO(data))


class _HashingReader:
    def __init__(self, handle: IO[bytes]) -> None:
        self.handle = handle
        self.digest = hashlib.sha256()

    def read(self, size: int = -1) -> bytes:
        data = self.handle.read(size)
        self.digest.update(data)
        return data


def _open_no_follow(path: str, flags: int) -> int:
    return os.open(path, flags | getattr(os, "O_NOFOLLOW", 0))


def _is_regular(mode: int) -> bool:
    return stat.S_ISREG(mode)


def _fsync_dir(path: Path) -> None:
    try:
        descriptor = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)


def _applied_migrations(using: str) -> list[str]:
    recorder = MigrationRecorder(connections[using])
    return sorted(f"{app}.{name}" for app, name in recorder.applied_migrations())


def atelier_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("atelier")
    except PackageNotFoundError:
        pass
    try:
        import tomllib

        with open(Path(settings.BASE_DIR) / "pyproject.toml", "rb") as handle:
            return str(tomllib.load(handle)["project"]["version"])
    except (OSError, KeyError, ValueError):
        return "unknown"


def _local_media_root() -> Path:
    if not isinstance(default_storage, FileSystemStorage):
        raise BackupError(
            f"Media is kept in {type(default_storage).__name__}, not on this machine's disk. "
            "backup and restore handle local media only: back up the bucket with its own tools.")
    return Path(settings.MEDIA_ROOT)


# --- Reading an archive -----------------------------------------------------------------

def describe_rows(using: str = DEFAULT_DB_ALIAS) -> dict[str, int]:
    """Rows per backed-up model that has any; tables not created yet count as empty."""
    connection = connections[using]
    tables = set(connection.introspection.table_names())
    present: dict[str, int] = {}
    for model in backup_models(using):
        if model._meta.db_table in tables:
            count = model._base_manager.using(using).count()
            if count:
                present[model._meta.label_lower] = count
    return present


def restore_backup(archive_path: Path, *, force: bool = False, using: str = DEFAULT_DB_ALIAS,
                   say: Callable[[str], None] = lambda message: None) -> RestoreResult:
    """Check the whole archive, then load it into this instance (empty, or replaced with --force)."""
    media_root = _local_media_root()
    archive_path = Path(archive_path).expanduser()
    if not archive_path.is_file():
        raise BackupError(f"There is no backup file at {archive_path}.")
    if not force:
        _refuse_unless_empty(using)

    from gallery.ingest import temp_dir

    staging = Path(tempfile.mkdtemp(dir=temp_dir(), prefix="restore-"))
    try:
        say(f"Checking {archive_path.name}…")
        manifest = _unpack(archive_path, staging)
        _check_migrations(manifest)
        say("Archive complete, every checksum matches. Preparing the database…")
        call_command("migrate", interactive=False, verbosity=0, database=using)
        if not force:
            _refuse_unless_empty(using)  # nobody signed up in the meantime
        say("Loading the data and the media files…")
        media_files = _load(manifest, staging, media_root, force=force, using=using)
    finally:
        shutil.rmtree(staging, ignore_errors=True)

    from gallery.search import ensure_sqlite_fts

    ensure_sqlite_fts(using)  # prompt search (SQLite FTS5) matches the restored generations
    counts = {model._meta.label_lower: model._base_manager.using(using).count() for model in backup_models(using)}
    missing = [name for name in manifest.get("missing_files", []) if not (media_root / name).exists()]
    return RestoreResult(manifest=manifest, counts=counts, media_files=media_files,
                         media_bytes=sum(entry["bytes"] for entry in manifest["media"].values()),
                         replaced=force, missing_files=missing)


def _refuse_unless_empty(using: str) -> None:
    present = describe_rows(using)
    if present:
        held = ", ".join(f"{present[label]} {_noun(label, present[label])}" for label in _ordered(present)[:4])
        raise BackupError(
            f"This Atelier already holds data ({held}). Restore into an empty instance, "
            "or add --force to replace everything it holds with the backup.")


def _noun(label: str, count: int = 2) -> str:
    try:
        meta = apps.get_model(label)._meta
    except LookupError:
        return label
    return str(meta.verbose_name if count == 1 else meta.verbose_name_plural)


def _ordered(labels: Iterable[str]) -> list[str]:
    """The models a person cares about first, then the rest by name."""
    labels = list(labels)
    return [label for label in _FIRST if label in labels] + sorted(label for label in labels if label not in _FIRST)


_FIRST = ["auth.user", "gallery.asset", "studio.generation", "gallery.album", "gallery.albumitem",
          "gallery.favourite", "gallery.sharelink"]


def _unpack(archive_path: Path, staging: Path) -> dict:
    """Extract every member into `staging`, hashing on the way; then hold it against the manifest."""
    found: dict[str, tuple[int, str]] = {}
    manifest_data: bytes | None = None
    try:
        archive = tarfile.open(archive_path, mode="r|gz")
    except (tarfile.TarError, OSError, EOFError, zlib.error):
        raise BackupError(f"{archive_path.name} is not a .tar.gz archive, or it is damaged.") from None
    with archive:
        for member in _members(archive, archive_path):
            name = _checked_name(member, staging)
            if name in found or (name == MANIFEST_NAME and manifest_data is not None):
                raise BackupError(f"The archive holds {name} twice: it was not written by backup.")
            if manifest_data is not None:
                raise BackupError(f"The archive goes on after its manifest ({name}): it was not written by backup.")
            source = archive.extractfile(member)
            if name == MANIFEST_NAME:
                if member.size > MAX_MANIFEST_BYTES:
                    raise BackupError("The archive's manifest is implausibly large: it was not written by backup.")
                manifest_data = _read_all(source, archive_path)
                continue
            if shutil.disk_usage(staging).free < member.size + FREE_SPACE_MARGIN:
                raise BackupError(f"Not enough free space in {staging.parent} to unpack {name} "
                                  f"({member.size // 1_000_000} MB).")
            target = staging / name
            target.parent.mkdir(parents=True, exist_ok=True)
            digest = hashlib.sha256()
            with open(target, "xb") as out:
                while chunk := _read(source, archive_path, CHUNK):
                    digest.update(chunk)
                    out.write(chunk)
            found[name] = (member.size, digest.hexdigest())
    if manifest_data is None:
        raise BackupError(f"{archive_path.name} has no manifest: it is incomplete (a backup that did not "
                          "finish?) or not an Atelier backup.")
    manifest = _parse_manifest(manifest_data)
    expected = {DATABASE_NAME: manifest["database"]}
    expected.update({MEDIA_PREFIX + name: entry for name, entry in manifest["media"].items()})
    missing = sorted(set(expected) - set(found))
    if missing:
        raise BackupError(f"The archive lacks {len(missing)} file(s) its manifest lists, e.g. {missing[0]}.")
    extra = sorted(set(found) - set(expected))
    if extra:
        raise BackupError(f"The archive holds {len(extra)} file(s) its manifest does not list, e.g. {extra[0]}.")
    damaged = sorted(name for name, entry in expected.items()
                     if found[name] != (entry.get("bytes"), entry.get("sha256")))
    if damaged:
        more = f" and {len(damaged) - 1} more" if len(damaged) > 1 else ""
        raise BackupError(f"{damaged[0]}{more} does not match the checksum in the manifest: the archive was "
                          "damaged or changed after it was written. Nothing was restored.")
    return manifest


def _members(archive: tarfile.TarFile, archive_path: Path) -> Iterator[tarfile.TarInfo]:
    iterator = iter(archive)
    while True:
        try:
            member = next(iterator)
        except StopIteration:
            return
        except (tarfile.TarError, OSError, EOFError, zlib.error):
            raise _damaged(archive_path) from None
        yield member


def _read(source: IO[bytes], archive_path: Path, size: int) -> bytes:
    try:
        return source.read(size)
    except (tarfile.TarError, OSError, EOFError, zlib.error):
        raise _damaged(archive_path) from None


def _read_all(source: IO[bytes], archive_path: Path) -> bytes:
    parts = []
    while chunk := _read(source, archive_path, CHUNK):
        parts.append(chunk)
    return b"".join(parts)


def _damaged(archive_path: Path) -> BackupError:
    return BackupError(f"{archive_path.name} is damaged or incomplete (it ends early or its compressed data "
                       "is corrupt). Nothing was restored.")


def _checked_name(member: tarfile.TarInfo, staging: Path) -> str:
    """The member's name if it is a plain file at a safe place we expect; refuses anything else."""
    name = member.name
    if not member.isreg():
        raise BackupError(f"The archive holds {name!r}, which is not a plain file (a link or a device?): "
                          "refused.")
    parts = name.split("/")
    if (not name or name.startswith("/") or "\\" in name or "\x00" in name
            or any(part in ("", ".", "..") for part in parts)):
        raise BackupError(f"The archive holds an unsafe path, {name!r}: refused.")
    if name not in (MANIFEST_NAME, DATABASE_NAME):
        if not name.startswith(MEDIA_PREFIX) or len(parts) < 2 or parts[1] == MEDIA_SKIPPED:
            raise BackupError(f"The archive holds {name!r}, which a backup never contains: refused.")
    data_filter = getattr(tarfile, "data_filter", None)  # Python 3.11.4+: the same checks, the stdlib's way
    if data_filter is not None:
        try:
            data_filter(member, str(staging))
        except tarfile.FilterError as error:
            raise BackupError(f"The archive holds an unsafe entry, {name!r} ({error}): refused.") from None
    return name


def _parse_manifest(data: bytes) -> dict:
    try:
        manifest = json.loads(data)
    except ValueError:
        raise BackupError("The archive's manifest is not readable: it is damaged.") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BackupError("This is not an Atelier backup (its manifest says otherwise).")
    version = manifest.get("format_version")
    if version != FORMAT_VERSION:
        raise BackupError(f"This backup has format version {version!r}; this Atelier reads version "
                          f"{FORMAT_VERSION}. Restore it with the Atelier version that made it "
                          f"({manifest.get('atelier_version', 'unknown')}).")
    try:
        assert isinstance(manifest["counts"], dict) and isinstance(manifest["media"], dict)
        assert {"bytes", "sha256"} <= set(manifest["database"])
        for name, entry in manifest["media"].items():
            assert isinstance(name, str) and {"bytes", "sha256"} <= set(entry)
    except (KeyError, TypeError, AssertionError):
        raise BackupError("The archive's manifest is incomplete: it is damaged.") from None
    return manifest


def _check_migrations(manifest: dict) -> None:
    """A backup from a newer schema cannot load into this code: say so before anything changes."""
    loader = MigrationLoader(None, ignore_no_migrations=True)
    known = {f"{app}.{name}" for app, name in (*loader.disk_migrations, *loader.graph.nodes)}
    unknown = sorted(set(manifest.get("migrations", [])) - known)
    for label, count in manifest["counts"].items():
        try:
            apps.get_model(label)
        except (LookupError, ValueError):
            if count:
                unknown.append(f"{count} rows of {label}")
    if unknown:
        raise BackupError(
            f"This backup was made by a newer Atelier ({manifest.get('atelier_version', 'unknown')}): its "
            f"database has changes this version does not know ({', '.join(unknown[:3])}). Upgrade "
            "Atelier first, then restore.")


def _load(manifest: dict, staging: Path, media_root: Path, *, force: bool, using: str) -> int:
    """Database rows and media files, all or nothing: a failure rolls both back."""
    placed: list[Path] = []
    try:
        with transaction.atomic(using=using):
            if force:
                _wipe(using)
            _clear_sessions(using)  # nobody stays signed in across a restore
            if any(manifest["counts"].values()):
                try:
                    call_command("loaddata", str(staging / DATABASE_NAME), verbosity=0, database=using)
                except Exception as error:  # noqa: BLE001 - any load failure is reported, then rolled back
                    detail = str(error).strip().splitlines()[-1] if str(error).strip() else type(error).__name__
                    raise BackupError(f"The database in the backup could not be loaded: {detail}. "
                                      "Nothing was restored.") from None
            for label, expected in manifest["counts"].items():
                actual = apps.get_model(label)._base_manager.using(using).count() if expected else 0
                if actual != expected:
                    raise BackupError(f"After loading, there are {actual} {_noun(label)} instead of "
                                      f"{expected}. Nothing was restored.")
            for name in manifest["media"]:
                target = media_root / name
                if not target.exists():
                    placed.append(target)
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.move(staging / MEDIA_PREFIX / name, target)
    except BaseException:
        for path in placed:
            path.unlink(missing_ok=True)
        raise
    return len(manifest["media"])


def _wipe(using: str) -> None:
    """--force: empty every table a backup fills (and rows pointing at them) before loading."""
    connection = connections[using]
    tables = set()
    for model in backup_models(using):
        tables.add(model._meta.db_table)
        tables.update(f.remote_field.through._meta.db_table for f in model._meta.many_to_many
                      if f.remote_field.through._meta.auto_created)
    statements = connection.ops.sql_flush(no_style(), sorted(tables), reset_sequences=True, allow_cascade=True)
    connection.ops.execute_sql_flush(statements)


def _clear_sessions(using: str) -> None:
    if not apps.is_installed("django.contrib.sessions"):
        return
    from django.contrib.sessions.models import Session

    if Session._meta.db_table in connections[using].introspection.table_names():
        Session.objects.using(using).all().delete()


def summary_lines(counts: dict[str, int]) -> list[str]:
    """"        3  users", "       12  assets", … one line per model, the important ones first."""
    return [f"  {counts[label]:>7}  {_noun(label, counts[label])}" for label in _ordered(counts)]


def human_bytes(size: int) -> str:
    if size < 1000:
        return f"{size} bytes"
    value = float(size)
    for unit in ("KB", "MB", "GB", "TB"):
        value /= 1000
        if value < 1000 or unit == "TB":
            break
    return f"{value:.1f} {unit}"


def describe(manifest: dict[str, Any]) -> str:
    return (f"made {manifest.get('created_at', '?')} by Atelier {manifest.get('atelier_version', '?')} "
            f"on {manifest.get('database_vendor', '?')}")
