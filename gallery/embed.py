"""Carry a generation's story (prompt, seed, model) inside a downloaded original.

The pixels are never decoded: we read the container's structure (PNG chunks, JPEG segments,
WebP RIFF chunks), decide which byte ranges of the original to copy and which metadata blocks
to splice in, then stream that plan. Memory stays flat whatever the file's size, and the
total length is known before the first byte is sent (for Content-Length).

Where the story goes:
- PNG: `tEXt` chunks (`iTXt` when the text is not Latin-1) named prompt, negative_prompt,
  seed, model, Software, parameters (the one-block summary other tools read), plus an XMP
  packet (`iTXt` "XML:com.adobe.xmp"), all right after IHDR.
- JPEG: an XMP APP1 segment; when the file has no EXIF, also a small EXIF APP1 with
  ImageDescription (prompt), Software and UserComment (the parameters summary).
- WebP: an `XMP ` chunk, with a `VP8X` header made (or its XMP flag set) as needed.
Our keys replace earlier values of the same keys; everything else in the file is kept.
"""

from __future__ import annotations

import json
import logging
import re
import struct
import xml.etree.ElementTree as ET
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Union

logger = logging.getLogger(__name__)

SOFTWARE = "Atelier"
# The IPTC term that marks a picture as made by a generative model (read by Google, Meta, Adobe…).
AI_SOURCE_TYPE = "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"

# A plan is what to send, in order: literal bytes, or (offset, length) copied from the original.
Segment = Union[bytes, tuple[int, int]]


@dataclass(frozen=True)
class Story:
    prompt: str
    seed: int | None
    model: str
    negative_prompt: str = ""

    @property
    def is_empty(self) -> bool:
        return not (self.prompt.strip() or self.model.strip())


class _Malformed(ValueError):
    """The file's structure is not what its content type promises; we send it unchanged."""


def embedded_stream(source: Path | BinaryIO, content_type: str, story: Story,
                    chunk_size: int = 65536) -> tuple[Iterator[bytes], int]:
    """The bytes to send (read lazily, in chunks) and their exact total length.

    `source` is a path or a file already open for binary reading (a storage file: local disk
    or a bucket); it is read through once for the plan and once to send, then closed.
    Files of other types (video…), files without a story, and files whose structure we do not
    understand are sent unchanged.
    """
    handle: BinaryIO = open(source, "rb") if isinstance(source, (str, Path)) else source
    try:
        size = handle.seek(0, 2)
        segments = _plan(handle, content_type, story, size)
    except BaseException:
        handle.close()
        raise
    total = sum(len(s) if isinstance(s, bytes) else s[1] for s in segments)
    return _Stream(handle, segments, chunk_size), total


def parameters_text(story: Story) -> str:
    """The summary block Stable Diffusion tools write (`parameters`): prompt, negatives, settings."""
    lines = [story.prompt.strip()]
    if story.negative_prompt.strip():
        lines.append(f"Negative prompt: {story.negative_prompt.strip()}")
    settings = []
    if story.seed is not None:
        settings.append(f"Seed: {story.seed}")
    if story.model:
        settings.append(f"Model: {_quote(story.model)}")
    settings.append(f"Software: {SOFTWARE}")
    lines.append(", ".join(settings))
    return "\n".join(lines)


def story_fields(story: Story) -> list[tuple[str, str]]:
    """(key, text) pairs, in the order they are written; empty values are left out."""
    fields = [("prompt", story.prompt), ("negative_prompt", story.negative_prompt),
              ("seed", "" if story.seed is None else str(story.seed)), ("model", story.model),
              ("Software", SOFTWARE), ("parameters", parameters_text(story))]
    return [(key, value) for key, value in fields if value.strip()]


# --- streaming ---------------------------------------------------------------------------------

def _plan(handle: BinaryIO, content_type: str, story: Story, size: int) -> list[Segment]:
    unchanged: list[Segment] = [(0, size)]
    planner = _PLANNERS.get(content_type.split(";")[0].strip().lower())
    if planner is None or story.is_empty:
        return unchanged
    try:
        return _coalesce(planner(handle, size, story))
    except (_Malformed, struct.error, zlib.error) as error:
        logger.warning("Sending %s without its story: %s", _name(handle), error)
        return unchanged


class _Stream:
    """The planned bytes, chunk by chunk; closing it (the response does) closes the file."""

    def __init__(self, handle: BinaryIO, segments: list[Segment], chunk_size: int) -> None:
        self._handle, self._segments, self._chunk_size = handle, segments, chunk_size

    def __iter__(self) -> Iterator[bytes]:
        try:
            yield from self._chunks()
        finally:
            self.close()

    def close(self) -> None:
        self._handle.close()

    def _chunks(self) -> Iterator[bytes]:
        for segment in self._segments:
            if isinstance(segment, bytes):
                yield segment
                continue
            offset, remaining = segment
            self._handle.seek(offset)
            while remaining:
                data = self._handle.read(min(self._chunk_size, remaining))
                if not data:
                    raise OSError(f"{_name(self._handle)} shrank while it was being sent")
                remaining -= len(data)
                yield data


def _name(handle: BinaryIO) -> str:
    return Path(str(getattr(handle, "name", "") or "the file")).name


def _coalesce(segments: list[Segment]) -> list[Segment]:
    """Join adjacent ranges so that copying reads in full chunks."""
    merged: list[Segment] = []
    for segment in segments:
        last = merged[-1] if merged else None
        if isinstance(segment, tuple) and isinstance(last, tuple) and last[0] + last[1] == segment[0]:
            merged[-1] = (last[0], last[1] + segment[1])
        elif isinstance(segment, bytes) and isinstance(last, bytes):
            merged[-1] = last + segment
        elif len(segment) if isinstance(segment, bytes) else segment[1]:
            merged.append(segment)  # empty pieces are dropped
    return merged


def _read_at(handle: BinaryIO, offset: int, length: int) -> bytes:
    handle.seek(offset)
    data = handle.read(length)
    if len(data) != length:
        raise _Malformed("the file ends early")
    return data


# --- PNG -------------------------------------------------------------------------------------

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
PNG_XMP_KEY = "XML:com.adobe.xmp"
_PNG_TEXT = {b"tEXt", b"zTXt", b"iTXt"}
_PNG_KEYS = {"prompt", "negative_prompt", "seed", "model", "Software", "parameters", PNG_XMP_KEY}


@dataclass(frozen=True)
class _Chunk:
    offset: int  # where its header starts
    length: int  # header + data + CRC (or padding), i.e. what to copy
    kind: bytes


def _plan_png(handle: BinaryIO, size: int, story: Story) -> list[Segment]:
    if _read_at(handle, 0, 8) != PNG_SIGNATURE:
        raise _Malformed("no PNG signature")
    chunks = _png_chunks(handle, size)
    if not chunks or chunks[0].kind != b"IHDR":
        raise _Malformed("PNG without IHDR")
    kept: list[Segment] = []
    existing_xmp: bytes | None = None
    for chunk in chunks[1:]:
        keyword = _png_keyword(handle, chunk) if chunk.kind in _PNG_TEXT else None
        if keyword == PNG_XMP_KEY and existing_xmp is None:
            existing_xmp = _png_itxt_text(handle, chunk)
        if keyword in _PNG_KEYS:
            continue  # ours replace it (even a key our story leaves out: it would contradict us)
        kept.append((chunk.offset, chunk.length))
    tail = chunks[-1].offset + chunks[-1].length
    added = [_png_text_chunk(key, value) for key, value in story_fields(story)]
    added.append(_png_text_chunk(PNG_XMP_KEY, xmp_packet(story, existing_xmp).decode(), force_itxt=True))
    # Right after IHDR: readers that stop at the first IDAT still see the story.
    return [(0, 8 + chunks[0].length), *added, *kept, (tail, size - tail)]


def _png_chunks(handle: BinaryIO, size: int) -> list[_Chunk]:
    chunks: list[_Chunk] = []
    offset = 8
    while offset + 12 <= size:
        length, kind = struct.unpack(">I4s", _read_at(handle, offset, 8))
        if offset + 12 + length > size:
            raise _Malformed(f"PNG chunk {kind!r} runs past the end")
        chunks.append(_Chunk(offset, 12 + length, kind))
        offset += 12 + length
        if kind == b"IEND":
            return chunks
    raise _Malformed("PNG without IEND")


def _png_keyword(handle: BinaryIO, chunk: _Chunk) -> str:
    head = _read_at(handle, chunk.offset + 8, min(80, chunk.length - 12))
    return head.split(b"\0", 1)[0].decode("latin-1")


def _png_itxt_text(handle: BinaryIO, chunk: _Chunk) -> bytes | None:
    """The text of an iTXt chunk (inflated if compressed), or None if it cannot be read."""
    if chunk.kind != b"iTXt" or chunk.length > _XMP_READ_LIMIT:
        return None
    data = _read_at(handle, chunk.offset + 8, chunk.length - 12)
    try:
        _, rest = data.split(b"\0", 1)
        compressed, rest = rest[0], rest[2:]
        _, _, text = rest.split(b"\0", 2)
    except (ValueError, IndexError):
        return None
    if compressed:
        inflater = zlib.decompressobj()
        text = inflater.decompress(text, _XMP_READ_LIMIT)  # a bound: no zip bombs
    return text


def _png_text_chunk(key: str, value: str, *, force_itxt: bool = False) -> bytes:
    value = value.replace("\0", "")
    try:
        if force_itxt:
            raise UnicodeEncodeError("latin-1", value, 0, 0, "iTXt wanted")
        kind, data = b"tEXt", key.encode("latin-1") + b"\0" + value.encode("latin-1")
    except UnicodeEncodeError:
        # iTXt: keyword, no compression, no language tag, no translated keyword, UTF-8 text.
        kind, data = b"iTXt", key.encode("latin-1") + b"\0\0\0\0\0" + value.encode("utf-8")
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


# --- JPEG ------------------------------------------------------------------------------------

JPEG_XMP_HEADER = b"http://ns.adobe.com/xap/1.0/\0"
_EXIF_HEADER = b"Exif\0\0"
_SEGMENT_LIMIT = 65533  # a segment's payload: its 16-bit length field counts itself
_STANDALONE = {0x01, *range(0xD0, 0xD8)}  # markers without a length field


@dataclass(frozen=True)
class _Segment:
    offset: int
    length: int  # marker + length field + payload
    marker: int
    payload_at: int
    head: bytes  # the first bytes of the payload, enough to recognise EXIF and XMP

    @property
    def is_exif(self) -> bool:
        return self.marker == 0xE1 and self.head.startswith(_EXIF_HEADER)

    @property
    def is_xmp(self) -> bool:
        return self.marker == 0xE1 and self.head.startswith(JPEG_XMP_HEADER)


def _plan_jpeg(handle: BinaryIO, size: int, story: Story) -> list[Segment]:
    if _read_at(handle, 0, 2) != b"\xff\xd8":
        raise _Malformed("no JPEG start marker")
    segments, scan_offset = _jpeg_segments(handle, size)
    # JFIF's APP0 and EXIF's APP1 must stay first; our segments follow them.
    lead = 0
    while lead < len(segments) and (segments[lead].marker == 0xE0 or segments[lead].is_exif):
        lead += 1
    xmp_segment = next((s for s in segments if s.is_xmp), None)
    existing = None
    if xmp_segment is not None and xmp_segment.length <= _XMP_READ_LIMIT:
        end = xmp_segment.offset + xmp_segment.length
        existing = _read_at(handle, xmp_segment.payload_at, end - xmp_segment.payload_at)[len(JPEG_XMP_HEADER):]
    added = []
    if not any(s.is_exif for s in segments) and (exif := exif_block(story)) is not None:
        added.append(_jpeg_segment(0xE1, exif))
    xmp = _fitting_xmp(story, existing, _SEGMENT_LIMIT - len(JPEG_XMP_HEADER))
    added.append(_jpeg_segment(0xE1, JPEG_XMP_HEADER + xmp))
    kept = [(s.offset, s.length) for s in segments if not s.is_xmp]
    return [(0, 2), *kept[:lead], *added, *kept[lead:], (scan_offset, size - scan_offset)]


def _jpeg_segments(handle: BinaryIO, size: int) -> tuple[list[_Segment], int]:
    """The marker segments before the first scan, and where that scan (SOS) starts."""
    segments: list[_Segment] = []
    offset = 2
    while offset < size:
        start = offset
        if _read_at(handle, offset, 1) != b"\xff":
            raise _Malformed("JPEG marker expected")
        marker = 0xFF
        while marker == 0xFF:  # fill bytes may pad a marker
            offset += 1
            marker = _read_at(handle, offset, 1)[0]
        offset += 1
        if marker == 0xDA:
            return segments, start
        if marker == 0xD9:
            break
        if marker in _STANDALONE:
            segments.append(_Segment(start, offset - start, marker, offset, b""))
            continue
        (length,) = struct.unpack(">H", _read_at(handle, offset, 2))
        if length < 2 or offset + length > size:
            raise _Malformed("JPEG segment runs past the end")
        head = _read_at(handle, offset + 2, min(length - 2, len(JPEG_XMP_HEADER)))
        segments.append(_Segment(start, offset + length - start, marker, offset + 2, head))
        offset += length
    raise _Malformed("JPEG without image data")


def _jpeg_segment(marker: int, payload: bytes) -> bytes:
    return struct.pack(">BBH", 0xFF, marker, len(payload) + 2) + payload


def exif_block(story: Story) -> bytes | None:
    """A minimal big-endian EXIF APP1 payload, or None when the story does not fit one segment.

    IFD0: ImageDescription (the prompt; EXIF says ASCII, we write UTF-8 as most tools do) and
    Software; Exif IFD: UserComment with the parameters summary (UNICODE, read by SD tools).
    """
    description = story.prompt.replace("\0", "").encode("utf-8") + b"\0"
    software = SOFTWARE.encode("ascii") + b"\0"
    comment = b"UNICODE\0" + parameters_text(story).encode("utf-16-be")
    ifd0_at = 8
    exif_ifd_at = ifd0_at + 2 + 3 * 12 + 4
    data_at = exif_ifd_at + 2 + 12 + 4
    description_at, software_at = data_at, data_at + len(description)
    comment_at = software_at + len(software)
    tiff = b"".join([
        b"MM\0\x2a", struct.pack(">I", ifd0_at),
        struct.pack(">H", 3),
        struct.pack(">HHII", 0x010E, 2, len(description), description_at),
        struct.pack(">HHII", 0x0131, 2, len(software), software_at),
        struct.pack(">HHII", 0x8769, 4, 1, exif_ifd_at),
        struct.pack(">I", 0),
        struct.pack(">H", 1),
        struct.pack(">HHII", 0x9286, 7, len(comment), comment_at),
        struct.pack(">I", 0),
        description, software, comment,
    ])
    payload = _EXIF_HEADER + tiff
    return payload if len(payload) <= _SEGMENT_LIMIT else None


# --- WebP ------------------------------------------------------------------------------------

_VP8X_XMP = 0x04
_VP8X_ALPHA = 0x10


def _plan_webp(handle: BinaryIO, size: int, story: Story) -> list[Segment]:
    riff, riff_size, form = struct.unpack("<4sI4s", _read_at(handle, 0, 12))
    if riff != b"RIFF" or form != b"WEBP":
        raise _Malformed("not a RIFF WebP")
    chunks = _riff_chunks(handle, min(8 + riff_size, size))
    if not chunks:
        raise _Malformed("WebP without chunks")
    first = chunks[0]
    if first.kind == b"VP8X":
        flags_etc = bytearray(_read_at(handle, first.offset + 8, 10))
        flags_etc[0] |= _VP8X_XMP
        header = _riff_chunk(b"VP8X", bytes(flags_etc))
        rest = chunks[1:]
    elif first.kind in (b"VP8 ", b"VP8L"):
        width, height, alpha = _bitstream_size(first.kind, _read_at(handle, first.offset + 8, 10))
        flags = _VP8X_XMP | (_VP8X_ALPHA if alpha else 0)
        header = _riff_chunk(b"VP8X", bytes([flags, 0, 0, 0]) + (width - 1).to_bytes(3, "little")
                             + (height - 1).to_bytes(3, "little"))
        rest = chunks
    else:
        raise _Malformed(f"unexpected first WebP chunk {first.kind!r}")
    xmp_chunk = next((c for c in rest if c.kind == b"XMP "), None)
    existing = None
    if xmp_chunk is not None and xmp_chunk.length <= _XMP_READ_LIMIT:
        existing = _read_at(handle, xmp_chunk.offset + 8, _riff_payload_size(handle, xmp_chunk))
    kept: list[Segment] = [(c.offset, c.length) for c in rest if c.kind != b"XMP "]
    body = [header, *kept, _riff_chunk(b"XMP ", xmp_packet(story, existing))]  # XMP goes last
    body_size = sum(len(s) if isinstance(s, bytes) else s[1] for s in body)
    return [b"RIFF" + struct.pack("<I", 4 + body_size) + b"WEBP", *body]


def _riff_chunks(handle: BinaryIO, end: int) -> list[_Chunk]:
    chunks: list[_Chunk] = []
    offset = 12
    while offset + 8 <= end:
        kind, length = struct.unpack("<4sI", _read_at(handle, offset, 8))
        total = 8 + length + (length & 1)  # chunks are padded to an even size
        if offset + total > end:
            raise _Malformed(f"WebP chunk {kind!r} runs past the end")
        chunks.append(_Chunk(offset, total, kind))
        offset += total
    return chunks


def _riff_payload_size(handle: BinaryIO, chunk: _Chunk) -> int:
    return struct.unpack("<I", _read_at(handle, chunk.offset + 4, 4))[0]


def _riff_chunk(kind: bytes, payload: bytes) -> bytes:
    return kind + struct.pack("<I", len(payload)) + payload + (b"\0" if len(payload) & 1 else b"")


def _bitstream_size(kind: bytes, head: bytes) -> tuple[int, int, bool]:
    """(width, height, has alpha) from the first bytes of a VP8 or VP8L bitstream."""
    if kind == b"VP8 ":
        if head[3:6] != b"\x9d\x01\x2a":
            raise _Malformed("VP8 key frame expected")
        width, height = struct.unpack("<HH", head[6:10])
        return width & 0x3FFF, height & 0x3FFF, False
    if head[0] != 0x2F:
        raise _Malformed("VP8L signature expected")
    (bits,) = struct.unpack("<I", head[1:5])
    return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1, bool((bits >> 28) & 1)


# --- XMP -------------------------------------------------------------------------------------

_XMP_READ_LIMIT = 1_000_000  # larger existing packets are replaced, not parsed
NS = {
    "x": "adobe:ns:meta/",
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "dc": "http://purl.org/dc/elements/1.1/",
    "xmp": "http://ns.adobe.com/xap/1.0/",
    "Iptc4xmpExt": "http://iptc.org/std/Iptc4xmpExt/2008-02-29/",
    # Our own properties. `.invalid` is reserved: this URI names, it never resolves.
    "atelier": "https://atelier.invalid/ns/1.0/",
}
for _prefix, _uri in NS.items():
    ET.register_namespace(_prefix, _uri)
_XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _q(prefix: str, name: str) -> str:
    return f"{{{NS[prefix]}}}{name}"


_OUR_PROPERTIES = {_q("dc", "description"), _q("xmp", "CreatorTool"), _q("Iptc4xmpExt", "DigitalSourceType"),
                   _q("atelier", "prompt"), _q("atelier", "negativePrompt"), _q("atelier", "seed"),
                   _q("atelier", "model")}


def xmp_packet(story: Story, existing: bytes | None = None) -> bytes:
    """An XMP packet with the story; merged into `existing` when that is a packet we can read."""
    root = _parse_xmp(existing) if existing else None
    if root is None:
        root = ET.Element(_q("x", "xmpmeta"))
        ET.SubElement(root, _q("rdf", "RDF"))
    rdf = root if root.tag == _q("rdf", "RDF") else root.find(_q("rdf", "RDF"))
    for description in rdf.iter(_q("rdf", "Description")):
        _forget_ours(description)
    rdf.append(_description(story))
    body = ET.tostring(root, encoding="unicode")
    return ('<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>\n'
            f'{body}\n<?xpacket end="w"?>').encode("utf-8")


def _fitting_xmp(story: Story, existing: bytes | None, limit: int) -> bytes:
    """A packet within `limit` bytes (a JPEG segment): drop the old packet, then shorten the texts."""
    packet = xmp_packet(story, existing)
    if len(packet) <= limit:
        return packet
    logger.warning("The story does not fit beside the file's XMP; the old XMP is replaced")
    prompt, negative = story.prompt, story.negative_prompt
    while True:
        packet = xmp_packet(Story(prompt, story.seed, story.model, negative))
        if len(packet) <= limit:
            return packet
        if len(prompt) >= len(negative):
            prompt = prompt[: len(prompt) // 2]
        else:
            negative = negative[: len(negative) // 2]


def _description(story: Story) -> ET.Element:
    description = ET.Element(_q("rdf", "Description"), {_q("rdf", "about"): ""})

    def add(prefix: str, name: str, text: str) -> None:
        if text:
            ET.SubElement(description, _q(prefix, name)).text = _xml_text(text)

    if story.prompt:
        alt = ET.SubElement(ET.SubElement(description, _q("dc", "description")), _q("rdf", "Alt"))
        ET.SubElement(alt, _q("rdf", "li"), {_XML_LANG: "x-default"}).text = _xml_text(story.prompt)
    add("xmp", "CreatorTool", SOFTWARE)
    add("Iptc4xmpExt", "DigitalSourceType", AI_SOURCE_TYPE)
    add("atelier", "prompt", story.prompt)
    add("atelier", "negativePrompt", story.negative_prompt)
    add("atelier", "seed", "" if story.seed is None else str(story.seed))
    add("atelier", "model", story.model)
    return description


def _parse_xmp(packet: bytes) -> ET.Element | None:
    # Entity declarations never belong in XMP; refusing them keeps entity tricks out.
    if len(packet) > _XMP_READ_LIMIT or re.search(rb"<!(DOCTYPE|ENTITY)", packet, re.IGNORECASE):
        return None
    try:
        root = ET.fromstring(packet.strip(b"\0 \t\r\n"))
    except ET.ParseError:
        return None
    if root.tag == _q("rdf", "RDF") or (root.tag == _q("x", "xmpmeta") and root.find(_q("rdf", "RDF")) is not None):
        return root
    return None


def _forget_ours(description: ET.Element) -> None:
    for child in [c for c in description if c.tag in _OUR_PROPERTIES]:
        description.remove(child)
    for name in [a for a in description.attrib if a in _OUR_PROPERTIES]:
        del description.attrib[name]


def _xml_text(text: str) -> str:
    return _NOT_XML.sub("", text)


def _quote(value: str) -> str:
    """Quote a settings value the way SD tools do when it would break the `Key: value, …` line."""
    return json.dumps(value, ensure_ascii=False) if any(c in value for c in ",\n:") else value


_PLANNERS: dict[str, Callable[[BinaryIO, int, Story], list[Segment]]] = {
    "image/png": _plan_png,
    "image/jpeg": _plan_jpeg,
    "image/webp": _plan_webp,
}
