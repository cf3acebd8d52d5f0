"""A ZIP archive streamed to the browser as it is written, never built in memory or on disk.

The stdlib `zipfile` writes into a sink that cannot seek, so it puts each entry's CRC and
sizes in a data descriptor after the data; we hand out whatever it has written so far.
Media is already compressed and is stored as is; text is deflated.
"""

from __future__ import annotations

import re
import struct
import unicodedata
import zipfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import closing, nullcontext
from dataclasses import dataclass
from datetime import datetime

from django.utils import timezone

# Extensions worth deflating; everything else (jpg, png, webp, mp4, …) is stored.
COMPRESSIBLE = {"json", "txt", "csv", "md", "html", "xml", "svg"}
_FLUSH_BYTES = 64 * 1024  # hand out at least this much at a time (deflate writes in crumbs)
# Sizes are checked against the 4 GiB limit with this margin: stored data may grow a little.
_ZIP64_THRESHOLD = int(zipfile.ZIP64_LIMIT / 1.05)


@dataclass(frozen=True)
class ZipEntry:
    name: str
    chunks: Callable[[], Iterable[bytes]]  # called lazily, when this entry's turn comes
    modified_at: datetime | None = None
    size: int | None = None  # when known and small, the entry avoids ZIP64 fields


class _Sink:
    """A write-only file that keeps what was written until it is taken."""

    def __init__(self) -> None:
        self._parts: list[bytes] = []
        self.buffered = 0

    def write(self, data: bytes) -> int:
        if data:
            self._parts.append(bytes(data))
            self.buffered += len(data)
        return len(data)

    def tell(self) -> int:
        raise OSError("unseekable")  # zipfile then streams: data descriptors, no seeking back

    def flush(self) -> None:
        pass

    def take(self) -> bytes:
        data = b"".join(self._parts)
        self._parts.clear()
        self.buffered = 0
        return data


def zip_stream(entries: Iterable[ZipEntry]) -> Iterator[bytes]:
    """The archive's bytes, entry after entry; only one entry's source is open at a time."""
    sink = _Sink()
    with zipfile.ZipFile(sink, "w", allowZip64=True) as archive:  # type: ignore[arg-type]
        for entry in entries:
            info = _zip_info(entry)
            zip64 = entry.size is None or entry.size > _ZIP64_THRESHOLD
            with archive.open(info, "w", force_zip64=zip64) as target:
                source = entry.chunks()
                with closing(source) if hasattr(source, "close") else nullcontext():  # type: ignore[arg-type]
                    for chunk in source:
                        target.write(chunk)
                        if sink.buffered >= _FLUSH_BYTES:
                            yield sink.take()
    if tail := sink.take():  # the central directory, written on close
        yield tail


def _zip_info(entry: ZipEntry) -> zipfile.ZipInfo:
    name = entry.name.replace("\\", "/").lstrip("/")
    if not name or any(part in ("", ".", "..") for part in name.split("/")):
        raise ValueError(f"Unsafe name for a ZIP entry: {entry.name!r}")
    moment = entry.modified_at or timezone.now()
    if timezone.is_aware(moment):
        utc_seconds = int(moment.timestamp())
        moment = timezone.localtime(moment)  # DOS times have no zone: the studio's own
    else:
        utc_seconds = None
    info = zipfile.ZipInfo(name, date_time=_dos_time(moment))
    info.compress_type = zipfile.ZIP_DEFLATED if _extension(name) in COMPRESSIBLE else zipfile.ZIP_STORED
    info.external_attr = 0o644 << 16  # rw-r--r-- when unzipped on Unix (zipfile's default is 0600)
    if entry.size is not None:
        info.file_size = entry.size
    if utc_seconds is not None and 0 <= utc_seconds < 2**31:
        # "UT" extended timestamp: unzip, 7-Zip and macOS read the exact UTC time from it.
        info.extra = struct.pack("<HHBI", 0x5455, 5, 1, utc_seconds)
    return info


def _dos_time(moment: datetime) -> tuple[int, int, int, int, int, int]:
    if moment.year < 1980:
        return (1980, 1, 1, 0, 0, 0)
    if moment.year > 2107:
        return (2107, 12, 31, 23, 59, 58)
    return (moment.year, moment.month, moment.day, moment.hour, moment.minute, moment.second)


def _extension(name: str) -> str:
    return name.rsplit(".", 1)[-1].lower() if "." in name else ""


# --- names -------------------------------------------------------------------------------------

_FORBIDDEN = re.compile(r'[<>:"/\\|?*]')
_SPACES = re.compile(r"\s+")
# Windows refuses these as names, whatever the extension ("con.png", "COM1.tar.gz").
_RESERVED = {"CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$",
             *(f"{device}{n}" for device in ("COM", "LPT") for n in [*"123456789", "¹", "²", "³"])}
# Invisible controls kept inside names: joiners hold emoji sequences together.
_JOINERS = {"\u200c", "\u200d"}
_REGIONAL_INDICATORS = "".join(chr(code) for code in range(0x1F1E6, 0x1F200))


def safe_filename(text: str, extension: str, *, max_length: int = 80) -> str:
    """A file name made from free text (a prompt) that every OS accepts.

    `max_length` counts UTF-8 bytes of the whole name, extension included, and is never cut
    inside a character; prefers to cut at a space.
    """
    extension = re.sub(r"[^a-z0-9]", "", extension.lower())[:10]
    suffix = f".{extension}" if extension else ""
    stem = _clean(text)
    stem = _truncate(stem, max(1, max_length - len(suffix.encode())))
    if not stem:
        stem = "atelier"
    if stem.split(".")[0].rstrip(" ").upper() in _RESERVED:
        stem = f"{stem}_"
    return stem + suffix


def _clean(text: str) -> str:
    text = unicodedata.normalize("NFC", text)
    kept = []
    for char in text:
        category = unicodedata.category(char)
        if category == "Cc":
            kept.append(" ")  # newlines and tabs separate words
        elif category in ("Cf", "Cs") and char not in _JOINERS:
            continue  # bidi overrides could disguise the extension ("gnp.exe")
        else:
            kept.append(char)
    text = _FORBIDDEN.sub(" ", "".join(kept))
    return _trim(_SPACES.sub(" ", text))


def _trim(stem: str) -> str:
    # Windows drops trailing dots and spaces; a leading dot hides the file on Unix.
    return stem.strip(" .").rstrip("\u200c\u200d")


def _truncate(stem: str, budget: int) -> str:
    encoded = stem.encode("utf-8")
    if len(encoded) <= budget:
        return stem
    cut = encoded[:budget].decode("utf-8", "ignore")  # drops a half character at the end
    space = cut.rfind(" ")
    ends_a_word = stem[len(cut)] == " "  # cut is a prefix of stem, one character shorter at least
    if not ends_a_word and space >= len(cut) // 2:
        cut = cut[:space]  # a whole word rather than half of one
    cut = _drop_broken_tail(cut)
    return _trim(cut)


def _drop_broken_tail(text: str) -> str:
    """Don't leave a dangling joiner or half a flag (regional indicators come in pairs)."""
    text = text.rstrip("\u200c\u200d\ufe0f")
    indicators = len(text) - len(text.rstrip(_REGIONAL_INDICATORS))
    return text[:-1] if indicators % 2 else text


def unique_names(names: Iterable[str]) -> list[str]:
    """The names, with " (2)", " (3)"… added to repeats; case-insensitive like Windows and macOS."""
    names = list(names)
    taken = {_key(name) for name in names}
    seen: set[str] = set()
    result = []
    for name in names:
        if _key(name) not in seen:
            seen.add(_key(name))
            result.append(name)
            continue
        stem, dot, extension = name.rpartition(".") if "." in name.lstrip(".") else (name, "", "")
        number = 2
        while _key(candidate := f"{stem} ({number}){dot}{extension}") in taken:
            number += 1
        taken.add(_key(candidate))
        seen.add(_key(candidate))
        result.append(candidate)
    return result


def _key(name: str) -> str:
    return unicodedata.normalize("NFC", name).casefold()
