"""Many downloads at once: a ZIP streamed as it is written, with names every OS accepts."""

from __future__ import annotations

import io
import shutil
import subprocess
import tracemalloc
import zipfile
import zlib
from datetime import UTC, datetime

import pytest

from gallery.zipstream import ZipEntry, safe_filename, unique_names, zip_stream


def archive(entries: list[ZipEntry]) -> zipfile.ZipFile:
    return zipfile.ZipFile(io.BytesIO(b"".join(zip_stream(entries))))


def test_stream_is_a_valid_zip_with_names_and_contents(settings):
    settings.TIME_ZONE = "UTC"
    picture = bytes(range(256)) * 1000
    text = b'{"prompt": "a harbour"}\n' * 500
    moment = datetime(2025, 3, 4, 5, 6, 8, tzinfo=UTC)
    result = archive([
        ZipEntry("harbour.png", lambda: [picture[:100_000], picture[100_000:]], modified_at=moment),
        ZipEntry("猫 🐱.webp", lambda: iter([b"RIFF", b"....WEBP"])),
        ZipEntry("metadata.json", lambda: [text]),
        ZipEntry("empty.txt", lambda: []),
    ])
    assert result.testzip() is None
    assert result.namelist() == ["harbour.png", "猫 🐱.webp", "metadata.json", "empty.txt"]
    assert result.read("harbour.png") == picture
    assert result.read("猫 🐱.webp") == b"RIFF....WEBP"
    assert result.read("metadata.json") == text
    assert result.read("empty.txt") == b""
    info = {item.filename: item for item in result.infolist()}
    assert info["harbour.png"].compress_type == zipfile.ZIP_STORED  # already compressed media
    assert info["metadata.json"].compress_type == zipfile.ZIP_DEFLATED
    assert info["metadata.json"].compress_size < len(text) // 10
    assert info["harbour.png"].date_time == (2025, 3, 4, 5, 6, 8)


@pytest.mark.skipif(shutil.which("unzip") is None, reason="Info-ZIP unzip is not installed")
def test_unzip_accepts_the_stream(tmp_path):
    path = tmp_path / "all.zip"
    path.write_bytes(b"".join(zip_stream([
        ZipEntry("a.png", lambda: [b"x" * 70_000]),
        ZipEntry("b.mp4", lambda: [b"y" * 10], size=10),  # size known: no ZIP64 fields
        ZipEntry("notes.txt", lambda: [b"hello\n" * 1000]),
    ])))
    result = subprocess.run(["unzip", "-t", str(path)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "No errors detected" in result.stdout


def test_entries_are_opened_one_at_a_time_and_closed():
    events = []

    def source(name):
        def chunks():
            events.append(f"open {name}")
            try:
                yield name.encode() * 1000
            finally:
                events.append(f"close {name}")
        return chunks

    stream = zip_stream([ZipEntry("a.png", source("a")), ZipEntry("b.png", source("b"))])
    assert events == []  # nothing is read before the response starts
    b"".join(stream)
    assert events == ["open a", "close a", "open b", "close b"]


def test_stopping_early_closes_the_open_source():
    closed = []

    def endless():
        try:
            while True:
                yield b"z" * 65536
        finally:
            closed.append(True)

    stream = zip_stream([ZipEntry("forever.mp4", endless)])
    next(stream)
    next(stream)
    stream.close()  # the browser went away
    assert closed == [True]


def test_memory_stays_flat_while_zipping_60_mb():
    block = 64 * 1024

    def twenty_megabytes(seed: int):
        return lambda: (bytes([seed, n % 256]) * (block // 2) for n in range(20 * 1024 * 1024 // block))

    entries = [ZipEntry(f"video {n}.mp4", twenty_megabytes(n)) for n in range(3)]
    tracemalloc.start()
    try:
        total, crc = 0, 0
        for piece in zip_stream(entries):
            total += len(piece)
            crc = zlib.crc32(piece, crc)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert total > 60 * 1024 * 1024
    assert peak < 8 * 1024 * 1024, f"peak {peak / 1e6:.1f} MB"


def test_unsafe_entry_names_are_refused():
    with pytest.raises(ValueError):
        b"".join(zip_stream([ZipEntry("../outside.png", lambda: [b"x"])]))


@pytest.mark.parametrize(("text", "extension", "expected"), [
    ("a quiet harbour at dawn", "png", "a quiet harbour at dawn.png"),
    ('what is <this>: a "cat"/dog\\bird | why? *', "jpg", "what is this a cat dog bird why.jpg"),
    ("line one\nline\ttwo\x00\x07", "webp", "line one line two.webp"),
    ("  ...dots and spaces...  ", "png", "dots and spaces.png"),
    ("CON", "png", "CON_.png"),
    ("nul", "txt", "nul_.txt"),
    ("com1.backup", "zip", "com1.backup_.zip"),
    ("console", "png", "console.png"),
    ("", "png", "atelier.png"),
    ("???", "mp4", "atelier.mp4"),
    ("Cafe\u0301", "png", "Café.png"),  # NFC: one code point for é
    ("report\u202egnp.exe", "png", "reportgnp.exe.png"),  # no right-to-left override trick
    ("x", ".JPG", "x.jpg"),
])
def test_safe_filename(text, extension, expected):
    assert safe_filename(text, extension) == expected


def test_safe_filename_caps_utf8_bytes_without_breaking_characters():
    name = safe_filename("猫" * 100, "png", max_length=80)
    assert len(name.encode("utf-8")) <= 80
    assert name == "猫" * 25 + ".png"  # 25 × 3 bytes + ".png"
    emoji = safe_filename("🐱" * 30, "webp", max_length=40)
    assert emoji == "🐱" * 8 + ".webp"


def test_safe_filename_prefers_cutting_between_words():
    name = safe_filename("a quiet harbour at dawn with fishing boats and gulls over the water", "png",
                         max_length=40)
    assert name == "a quiet harbour at dawn with fishing.png"


def test_safe_filename_does_not_leave_half_a_flag_or_a_dangling_joiner():
    flags = safe_filename("🇫🇷🇩🇪🇮🇹", "png", max_length=4 * 3 + 4 + 2)  # room for 3 indicators of 4 bytes
    assert flags == "🇫🇷.png"
    family = safe_filename("👩\u200d👩\u200d👧", "png", max_length=4 + 3 + 4)  # woman + joiner
    assert family == "👩.png"


def test_unique_names_number_repeats_case_insensitively():
    assert unique_names(["cat.png", "Cat.PNG", "dog.png", "cat.png"]) == [
        "cat.png", "Cat (2).PNG", "dog.png", "cat (3).png"]


def test_unique_names_never_collide_with_a_later_name():
    assert unique_names(["a.png", "a.png", "a (2).png"]) == ["a.png", "a (3).png", "a (2).png"]
    assert unique_names(["notes", "notes", ".hidden", ".hidden"]) == ["notes", "notes (2)", ".hidden", ".hidden (2)"]
