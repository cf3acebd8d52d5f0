"""`manage.py backup` and `manage.py restore`: one archive in, the same studio out.

The world is built here, backed up with call_command, and restored by `manage.py restore`
in a child process into a fresh instance of its own (SQLite, media and var in a temp
folder). `world_facts()` describes a world in plain data; the child computes it too (via
`manage.py shell`), and the two descriptions must be equal.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import sqlite3
import subprocess
import sys
import tarfile
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth.models import Group, Permission
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from accounts.models import Profile
from gallery.assets import store_asset
from gallery.ingest import receive, verify
from gallery.models import Album, AlbumItem, Asset, Favourite, ShareLink, Visibility
from studio.models import CatalogueEntry, Generation
from tests.fixtures_users import PASSWORD
from tests.studio.conftest import png_bytes

BASE_DIR = Path(settings.BASE_DIR)
SEARCHES = ["harbour", "lighth", "neon market", "nothing-like-this"]

pytestmark = pytest.mark.django_db


# --- The world ---------------------------------------------------------------------------

@pytest.fixture
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def _output(owner, prompt: str, data: bytes, *, position: int = 0, generation=None, visibility="team",
            nsfw: bool = False, minutes_ago: int = 0) -> Asset:
    created = timezone.now() - timedelta(minutes=minutes_ago)
    if generation is None:
        generation = Generation.objects.create(
            user=owner, model_id="fal-ai/flux-1/dev", model_title="flux-1/dev", kind="text-to-image",
            arguments={"prompt": prompt, "seed": 7}, prompt=prompt, client_token=f"t-{prompt}",
            visibility=visibility, state=Generation.State.DONE, seed=7, created_at=created, finished_at=created)
    path, size, checksum = receive([data])
    return store_asset(verify(path, size, checksum), owner=owner, source=Asset.Source.OUTPUT,
                       generation=generation, position=position, nsfw=nsfw)


@pytest.fixture
def world(media_root, administrator, member, viewer) -> dict:
    """Three people, an upload, four outputs (one a video), favourites, an album, share links."""
    member.profile.default_visibility = Profile.Visibility.PRIVATE
    member.profile.save(update_fields=["default_visibility"])
    reviewers = Group.objects.create(name="reviewers")
    reviewers.permissions.add(Permission.objects.get(codename="view_asset"))
    viewer.groups.add(reviewers)
    member.user_permissions.add(Permission.objects.get(codename="change_album"))

    path, size, checksum = receive([png_bytes(40, 30, color=(10, 200, 10))])
    upload = store_asset(verify(path, size, checksum), owner=member, source=Asset.Source.UPLOAD,
                         original_name="sketch.png")
    harbour = _output(member, "a quiet harbour at dawn", png_bytes(64, 48, color=(20, 90, 140)), minutes_ago=30)
    harbour.generation.input_assets.set([upload])
    storm = _output(administrator, "lighthouse in a storm", png_bytes(48, 64, color=(200, 30, 30)),
                    minutes_ago=20, nsfw=True)
    storm_second = _output(administrator, "lighthouse in a storm", png_bytes(48, 64, color=(30, 30, 200)),
                           position=1, generation=storm.generation)
    market = _output(member, "neon market at night", (BASE_DIR / "fal/simulator/assets/square.mp4").read_bytes(),
                     visibility=Visibility.PRIVATE, minutes_ago=10)
    Generation.objects.create(user=member, model_id="fal-ai/flux-1/dev", model_title="flux-1/dev",
                              kind="text-to-image", prompt="a failed attempt", client_token="t-failed",
                              state=Generation.State.FAILED, error_type="invalid_input", error_message="No.")

    Favourite.objects.create(user=viewer, asset=harbour)
    Favourite.objects.create(user=administrator, asset=harbour)
    Favourite.objects.create(user=administrator, asset=market)
    album = Album.objects.create(owner=member, name="Harbour mood", description="Blue hours.", cover=storm,
                                 members_may_add=True)
    for position, asset in enumerate([market, harbour, storm_second, storm]):
        AlbumItem.objects.create(album=album, asset=asset, position=position)
    now = timezone.now()
    live = ShareLink.objects.create(token="live-" + "a" * 40, created_by=member, album=album,
                                    expires_at=now + timedelta(days=7), allow_download=True, view_count=4)
    revoked = ShareLink.objects.create(token="revoked-" + "b" * 40, created_by=administrator, asset=storm,
                                       show_prompts=True, revoked_at=now - timedelta(hours=1))
    CatalogueEntry.objects.create(model_id="fal-ai/flux-1/dev", hidden=True)

    (Path(media_root) / "tmp" / "in-half-received").write_bytes(b"not finished")  # never backed up
    return {"items": [upload, harbour, storm, storm_second, market], "album": album, "live": live,
            "revoked": revoked}


def world_facts() -> dict:
    """Everything the studio shows about its world, in plain data (runs in this process or a child)."""
    from django.contrib.auth import authenticate, get_user_model
    from django.core.files.storage import default_storage

    from gallery.search import filter_by_prompt

    def sha256(name: str) -> str | None:
        if not name:
            return None
        with default_storage.open(name, "rb") as handle:
            return hashlib.sha256(handle.read()).hexdigest()

    def when(value) -> str | None:
        return value.isoformat() if value else None

    users = {
        user.username: {
            "password_hash": user.password,
            "signs_in": authenticate(username=user.username, password=PASSWORD) is not None,
            "is_superuser": user.is_superuser, "is_staff": user.is_staff, "is_active": user.is_active,
            "email": user.email, "role": user.profile.role, "default_visibility": user.profile.default_visibility,
            "groups": sorted(group.name for group in user.groups.all()),
            "permissions": sorted(user.get_all_permissions()),
            "date_joined": when(user.date_joined),
        }
        for user in get_user_model().objects.select_related("profile")
    }
    assets = {
        str(asset.id): {
            "owner": asset.owner.username, "generation": str(asset.generation_id) if asset.generation_id else None,
            "position": asset.position, "kind": asset.kind, "source": asset.source,
            "file": asset.file.name, "file_sha256": sha256(asset.file.name), "checksum": asset.checksum,
            "bytes": asset.bytes, "thumbnail": asset.thumbnail.name, "thumbnail_sha256": sha256(asset.thumbnail.name),
            "width": asset.width, "height": asset.height, "nsfw": asset.nsfw, "visibility": asset.visibility,
            "original_name": asset.original_name, "created_at": when(asset.created_at),
        }
        for asset in Asset.objects.select_related("owner")
    }
    generations = {
        str(generation.id): {
            "user": generation.user.username, "prompt": generation.prompt, "state": generation.state,
            "arguments": generation.arguments, "seed": generation.seed, "visibility": generation.visibility,
            "error_message": generation.error_message,
            "inputs": sorted(str(asset.id) for asset in generation.input_assets.all()),
            "created_at": when(generation.created_at),
        }
        for generation in Generation.objects.select_related("user")
    }
    albums = {
        str(album.id): {
            "name": album.name, "owner": album.owner.username, "description": album.description,
            "cover": str(album.cover_id) if album.cover_id else None, "visibility": album.visibility,
            "members_may_add": album.members_may_add,
            "items": [str(item.asset_id) for item in album.items.all()],  # in album order
        }
        for album in Album.objects.select_related("owner")
    }
    links = {
        link.token: {
            "asset": str(link.asset_id) if link.asset_id else None,
            "album": str(link.album_id) if link.album_id else None,
            "created_by": link.created_by.username, "expires_at": when(link.expires_at),
            "revoked_at": when(link.revoked_at), "is_live": link.is_live, "allow_download": link.allow_download,
            "show_prompts": link.show_prompts, "view_count": link.view_count,
        }
        for link in ShareLink.objects.select_related("created_by")
    }
    return {
        "users": users,
        "assets": assets,
        "generations": generations,
        "albums": albums,
        "favourites": sorted([favourite.user.username, str(favourite.asset_id)]
                             for favourite in Favourite.objects.select_related("user")),
        "share_links": links,
        "catalogue": sorted([entry.model_id, entry.hidden] for entry in CatalogueEntry.objects.all()),
        "search": {words: sorted(str(asset.id) for asset in filter_by_prompt(Asset.objects.all(), words))
                   for words in SEARCHES},
    }


# --- Running a second instance -----------------------------------------------------------

def _instance(tmp_path: Path, name: str) -> dict[str, str]:
    """The environment of a fresh Atelier: its own var dir, SQLite database and media root."""
    root = tmp_path / name
    return {**os.environ, "ATELIER_VAR_DIR": str(root / "var"),
            "DATABASE_URL": f"sqlite:///{root / 'var' / 'atelier.sqlite3'}", "MEDIA_ROOT": str(root / "media")}


def _manage(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "manage.py", *args], cwd=BASE_DIR, env=env, capture_output=True,
                          text=True, timeout=180)


def _facts_of(env: dict[str, str]) -> dict:
    script = "import json; from tests.test_backup import world_facts; print('FACTS ' + json.dumps(world_facts()))"
    done = _manage(env, "shell", "-v", "0", "-c", script)
    assert done.returncode == 0, done.stderr
    line = next(line for line in done.stdout.splitlines() if line.startswith("FACTS "))
    return json.loads(line.removeprefix("FACTS "))


def _files_under(root: Path) -> list[Path]:
    return sorted(path for path in root.rglob("*") if path.is_file()) if root.exists() else []


@pytest.fixture
def archive(world, tmp_path) -> Path:
    out = io.StringIO()
    call_command("backup", output=tmp_path / "backups" / "atelier.tar.gz", stdout=out, stderr=io.StringIO())
    assert "Backup written to" in out.getvalue()
    return tmp_path / "backups" / "atelier.tar.gz"


def _rewrite(source: Path, target: Path, change) -> None:
    """Copy an archive member by member; `change(name, data)` returns the new bytes."""
    with tarfile.open(source, "r:gz") as old, tarfile.open(target, "w:gz") as new:
        for member in old.getmembers():
            data = change(member.name, old.extractfile(member).read())
            member.size = len(data)
            new.addfile(member, io.BytesIO(data))


# --- Backup --------------------------------------------------------------------------------

def test_backup_holds_database_manifest_and_every_media_file_but_tmp(world, archive, media_root):
    with tarfile.open(archive, "r:gz") as opened:
        names = opened.getnames()
        manifest = json.load(opened.extractfile("manifest.json"))
        dump = opened.extractfile("database.jsonl").read().decode()
    assert names[0] == "database.jsonl" and names[-1] == "manifest.json"
    on_disk = {path.relative_to(media_root).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
               for path in _files_under(media_root) if path.relative_to(media_root).parts[0] != "tmp"}
    assert {name.removeprefix("media/") for name in names[1:-1]} == set(on_disk)
    assert {name: entry["sha256"] for name, entry in manifest["media"].items()} == on_disk
    for item in world["items"]:
        assert item.file.name in on_disk and on_disk[item.file.name] == item.checksum
        assert item.thumbnail.name in on_disk  # the video has a poster too
    assert not any(name.startswith("media/tmp/") for name in names)

    assert manifest["format"] == "atelier-backup" and manifest["format_version"] == 1
    assert manifest["counts"]["auth.user"] == 3 and manifest["counts"]["gallery.asset"] == 5
    assert manifest["counts"]["gallery.albumitem"] == 4 and manifest["counts"]["gallery.sharelink"] == 2
    assert manifest["database"]["sha256"] == hashlib.sha256(dump.encode()).hexdigest()
    assert manifest["missing_files"] == []
    models_in_dump = {json.loads(line)["model"] for line in dump.splitlines()}
    assert not models_in_dump & {"contenttypes.contenttype", "auth.permission", "sessions.session",
                                 "admin.logentry", "django_tasks_database.dbtaskresult"}
    assert '["view_asset","gallery","asset"]' in dump  # permissions by natural key, not by id

    assert archive.stat().st_mode & 0o777 == 0o600  # it holds password hashes
    assert [path.name for path in archive.parent.iterdir()] == ["atelier.tar.gz"]


def test_backup_default_name_and_never_overwrites(world, settings, tmp_path):
    settings.VAR_DIR = tmp_path / "var"
    call_command("backup", stdout=io.StringIO())
    (written,) = (tmp_path / "var" / "backups").iterdir()
    assert written.name.startswith("atelier-") and written.name.endswith("Z.tar.gz")
    with pytest.raises(CommandError, match="already exists"):
        call_command("backup", output=written, stdout=io.StringIO())


def test_backup_refuses_to_write_into_media_root(world, media_root):
    with pytest.raises(CommandError, match="inside MEDIA_ROOT"):
        call_command("backup", output=Path(media_root) / "assets" / "b.tar.gz", stdout=io.StringIO())


def test_a_failed_backup_leaves_no_archive_behind(world, tmp_path, monkeypatch):
    def broken(*args, **kwargs):
        raise OSError("disk on fire")

    monkeypatch.setattr("gallery.backup._add_media", broken)
    with pytest.raises(OSError):
        call_command("backup", output=tmp_path / "out" / "a.tar.gz", stdout=io.StringIO())
    assert list((tmp_path / "out").iterdir()) == []


# --- Restore -------------------------------------------------------------------------------

def test_restore_into_an_empty_instance_keeps_every_item_album_and_share(world, archive, tmp_path):
    before = world_facts()
    fresh = _instance(tmp_path, "fresh")

    done = _manage(fresh, "restore", str(archive))

    assert done.returncode == 0, done.stderr
    assert "3  users" in done.stdout and "5  assets" in done.stdout and "2  share links" in done.stdout
    after = _facts_of(fresh)
    assert after == before
    # The same, spelled out for the things people would miss first.
    harbour, storm = str(world["items"][1].id), str(world["items"][2].id)
    assert all(asset["file_sha256"] == asset["checksum"] and asset["thumbnail_sha256"]
               for asset in after["assets"].values())
    assert after["albums"][str(world["album"].id)]["items"] == [str(world["items"][4].id), harbour,
                                                                str(world["items"][3].id), storm]
    assert after["albums"][str(world["album"].id)]["cover"] == storm
    assert after["share_links"][world["live"].token]["is_live"] is True
    assert after["share_links"][world["revoked"].token]["is_live"] is False
    assert all(user["signs_in"] for user in after["users"].values())
    assert after["users"]["vera"]["role"] == "viewer" and after["users"]["ada"]["role"] == "administrator"
    assert after["search"]["harbour"] == [harbour]  # the FTS index was rebuilt
    assert not _files_under(Path(fresh["MEDIA_ROOT"]) / "tmp")  # the staging folder is gone


def test_restore_refuses_an_instance_with_data_unless_forced(world, archive, tmp_path):
    target = _instance(tmp_path, "target")
    assert _manage(target, "restore", str(archive)).returncode == 0

    refused = _manage(target, "restore", str(archive))
    assert refused.returncode != 0
    assert "already holds data" in refused.stderr and "--force" in refused.stderr
    assert "Traceback" not in refused.stderr

    forced = _manage(target, "restore", "--force", str(archive))
    assert forced.returncode == 0, forced.stderr
    assert _facts_of(target) == world_facts()  # replaced, not doubled


def test_restore_refuses_a_non_empty_database_in_process(world, archive):
    with pytest.raises(CommandError, match="already holds data"):
        call_command("restore", str(archive), stdout=io.StringIO())


def test_a_tampered_archive_is_refused_before_anything_is_written(world, archive, tmp_path):
    def flip_a_media_byte(name: str, data: bytes) -> bytes:
        if name == f"media/{world['items'][1].file.name}":
            return data[:-1] + bytes([data[-1] ^ 1])
        return data

    tampered = tmp_path / "tampered.tar.gz"
    _rewrite(archive, tampered, flip_a_media_byte)
    fresh = _instance(tmp_path, "fresh")

    done = _manage(fresh, "restore", str(tampered))

    assert done.returncode != 0
    assert "does not match the checksum" in done.stderr and "Traceback" not in done.stderr
    database = Path(fresh["ATELIER_VAR_DIR"]) / "atelier.sqlite3"
    if database.exists():
        tables = sqlite3.connect(database).execute("SELECT name FROM sqlite_master WHERE type='table'").fetchall()
        assert tables == []
    assert _files_under(Path(fresh["MEDIA_ROOT"])) == []


@pytest.mark.parametrize("damage, message", [
    ("truncate", "damaged or incomplete"),
    ("no manifest", "has no manifest"),
    ("format 2", "format version 2"),
    ("extra file", "does not list"),
    ("not gzip", "not a .tar.gz"),
])
def test_a_damaged_archive_is_refused_even_with_force(world, archive, tmp_path, damage, message):
    bad = tmp_path / "bad.tar.gz"
    if damage == "truncate":
        bad.write_bytes(archive.read_bytes()[: archive.stat().st_size // 2])
    elif damage == "not gzip":
        bad.write_bytes(b"hello, this is not an archive")
    elif damage == "no manifest":
        with tarfile.open(archive, "r:gz") as old, tarfile.open(bad, "w:gz") as new:
            for member in old.getmembers():
                if member.name != "manifest.json":
                    new.addfile(member, old.extractfile(member))
    elif damage == "format 2":
        def bump(name: str, data: bytes) -> bytes:
            return data.replace(b'"format_version": 1', b'"format_version": 2') if name == "manifest.json" else data
        _rewrite(archive, bad, bump)
    elif damage == "extra file":
        with tarfile.open(archive, "r:gz") as old, tarfile.open(bad, "w:gz") as new:
            for member in old.getmembers():
                if member.name == "manifest.json":
                    extra = tarfile.TarInfo("media/assets/extra.png")
                    extra.size = 3
                    new.addfile(extra, io.BytesIO(b"abc"))
                new.addfile(member, old.extractfile(member))
    before = world_facts()

    with pytest.raises(CommandError, match=message):
        call_command("restore", str(bad), force=True, stdout=io.StringIO())

    assert world_facts() == before  # --force wipes nothing until the archive is proven whole


@pytest.mark.parametrize("entry", ["../escape.txt", "media/../../escape.txt", "/tmp/escape.txt", "symlink",
                                   "media/tmp/in-x", "hardlink"])
def test_unsafe_archive_entries_are_refused(world, archive, tmp_path, entry):
    bad = tmp_path / "unsafe.tar.gz"
    with tarfile.open(archive, "r:gz") as old, tarfile.open(bad, "w:gz") as new:
        for member in old.getmembers():
            if member.name == "manifest.json":
                if entry in ("symlink", "hardlink"):
                    link = tarfile.TarInfo("media/assets/link")
                    link.type = tarfile.SYMTYPE if entry == "symlink" else tarfile.LNKTYPE
                    link.linkname = "/etc/passwd"
                    new.addfile(link)
                else:
                    evil = tarfile.TarInfo(entry)
                    evil.size = 4
                    new.addfile(evil, io.BytesIO(b"evil"))
            new.addfile(member, old.extractfile(member))

    with pytest.raises(CommandError, match="refused"):
        call_command("restore", str(bad), force=True, stdout=io.StringIO())

    assert not (tmp_path / "escape.txt").exists() and not Path("/tmp/escape.txt").exists()
    assert _files_under(Path(settings.MEDIA_ROOT) / "tmp") == [Path(settings.MEDIA_ROOT) / "tmp" / "in-half-received"]
