"""The story travels inside downloaded originals; the pixels stay exactly as they were."""

from __future__ import annotations

import io
import struct
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from PIL import Image

from gallery.embed import Story, embedded_stream

STORY = Story(prompt="a quiet harbour at dawn, café lights", seed=42, model="fal-ai/flux-1/dev",
              negative_prompt="blurry, text")
ATELIER = "{https://atelier.invalid/ns/1.0/}"


def picture(mode: str = "RGB", size: tuple[int, int] = (64, 48)) -> Image.Image:
    """A gradient with texture, so that any re-encoding would show in the pixels."""
    image = Image.new(mode, size)
    image.putdata([((x * 4) % 256, (y * 5) % 256, (x * y) % 256, (x + y) * 2 % 256)[: len(mode)]
                   for y in range(size[1]) for x in range(size[0])])
    return image


def save(tmp_path: Path, image: Image.Image, name: str, **options) -> Path:
    path = tmp_path / name
    image.save(path, **options)
    return path


def embedded(path: Path, content_type: str, story: Story = STORY, chunk_size: int = 65536) -> bytes:
    chunks, total = embedded_stream(path, content_type, story, chunk_size=chunk_size)
    data = b"".join(chunks)
    assert len(data) == total
    return data


def pixels(data: bytes | Path) -> tuple[str, tuple[int, int], bytes]:
    with Image.open(io.BytesIO(data) if isinstance(data, bytes) else data) as image:
        image.load()
        return image.mode, image.size, image.tobytes()


def xmp_values(xmp: bytes | str) -> dict[str, str]:
    root = ET.fromstring(xmp.encode() if isinstance(xmp, str) else xmp.strip(b"\0 \n"))
    return {element.tag.removeprefix(ATELIER): element.text or ""
            for element in root.iter() if element.tag.startswith(ATELIER)}


def assert_story_in_xmp(xmp: bytes | str, story: Story = STORY) -> None:
    values = xmp_values(xmp)
    assert values["prompt"] == story.prompt
    assert values["seed"] == str(story.seed)
    assert values["model"] == story.model


# --- PNG ---------------------------------------------------------------------------------------

def test_png_carries_the_story_in_text_chunks(tmp_path):
    path = save(tmp_path, picture(), "a.png")
    data = embedded(path, "image/png")
    assert pixels(data) == pixels(path)
    with Image.open(io.BytesIO(data)) as image:
        text = image.text
        assert_story_in_xmp(image.info["xmp"])
    assert text["prompt"] == STORY.prompt
    assert text["negative_prompt"] == "blurry, text"
    assert text["seed"] == "42"
    assert text["model"] == "fal-ai/flux-1/dev"
    assert text["Software"] == "Atelier"
    assert text["parameters"] == ("a quiet harbour at dawn, café lights\nNegative prompt: blurry, text\n"
                                  "Seed: 42, Model: fal-ai/flux-1/dev, Software: Atelier")
    assert b"tEXtprompt\0" in data  # Latin-1 text stays in plain tEXt


def test_png_non_latin_prompt_goes_in_itxt(tmp_path):
    story = Story(prompt="猫 🐱", seed=7, model="fal-ai/flux/schnell")
    path = save(tmp_path, picture("RGBA"), "cat.png")
    data = embedded(path, "image/png", story)
    assert b"iTXtprompt\0" in data
    assert pixels(data) == pixels(path)
    with Image.open(io.BytesIO(data)) as image:
        assert image.text["prompt"] == "猫 🐱"
        assert image.text["seed"] == "7"
        assert "negative_prompt" not in image.text
        assert_story_in_xmp(image.info["xmp"], story)


def test_png_replaces_our_old_keys_and_keeps_the_rest(tmp_path):
    from PIL.PngImagePlugin import PngInfo

    info = PngInfo()
    info.add_text("prompt", "an old prompt")
    info.add_text("Comment", "keep me")
    path = save(tmp_path, picture(), "old.png", pnginfo=info)
    data = embedded(path, "image/png")
    assert data.count(b"tEXtprompt\0") == 1
    with Image.open(io.BytesIO(data)) as image:
        assert image.text["prompt"] == STORY.prompt
        assert image.text["Comment"] == "keep me"


def test_png_streams_in_small_chunks(tmp_path):
    path = save(tmp_path, picture(size=(300, 200)), "big.png")
    chunks, total = embedded_stream(path, "image/png", STORY, chunk_size=1024)
    parts = list(chunks)
    assert max(len(part) for part in parts) <= 2048  # a range chunk, or one of our small blocks
    assert sum(map(len, parts)) == total
    assert pixels(b"".join(parts)) == pixels(path)


# --- JPEG --------------------------------------------------------------------------------------

def jpeg_segments(data: bytes) -> list[tuple[int, bytes]]:
    """(marker, payload start) of each segment before the scan."""
    found, offset = [], 2
    while data[offset + 1] != 0xDA:
        marker, length = data[offset + 1], struct.unpack(">H", data[offset + 2: offset + 4])[0]
        found.append((marker, data[offset + 4: offset + 4 + 30]))
        offset += 2 + length
    return found


def without_app0(data: bytes) -> bytes:
    assert data[2:4] == b"\xff\xe0"
    length = struct.unpack(">H", data[4:6])[0]
    return data[:2] + data[4 + length:]


def test_jpeg_with_jfif_gets_xmp_and_exif_after_app0(tmp_path):
    path = save(tmp_path, picture(), "a.jpg", quality=90)
    data = embedded(path, "image/jpeg")
    assert pixels(data) == pixels(path)
    markers = jpeg_segments(data)
    assert markers[0][0] == 0xE0  # JFIF stays first
    assert markers[1][1].startswith(b"Exif\0\0")
    assert markers[2][1].startswith(b"http://ns.adobe.com/xap/1.0/\0")
    with Image.open(io.BytesIO(data)) as image:
        assert_story_in_xmp(image.info["xmp"])
        exif = image.getexif()
        assert exif[0x010E].encode("latin-1").decode("utf-8") == STORY.prompt  # UTF-8 in an ASCII tag
        assert exif[0x0131] == "Atelier"
        comment = exif.get_ifd(0x8769)[0x9286]
        assert comment[:8] == b"UNICODE\0" and "Seed: 42" in comment[8:].decode("utf-16-be")


def test_jpeg_without_jfif(tmp_path):
    path = tmp_path / "bare.jpg"
    buffer = io.BytesIO()
    picture().save(buffer, "JPEG", quality=85)
    path.write_bytes(without_app0(buffer.getvalue()))
    data = embedded(path, "image/jpeg")
    assert pixels(data) == pixels(path)
    assert jpeg_segments(data)[0][1].startswith(b"Exif\0\0")
    with Image.open(io.BytesIO(data)) as image:
        assert_story_in_xmp(image.info["xmp"])


def test_jpeg_keeps_an_existing_exif_untouched(tmp_path):
    exif = Image.Exif()
    exif[0x010F] = "TestCam"
    exif[0x0112] = 6  # orientation: must survive, or the picture would turn
    path = save(tmp_path, picture(), "camera.jpg", exif=exif, quality=90)
    original_exif = [p for m, p in jpeg_segments(path.read_bytes()) if p.startswith(b"Exif")]
    data = embedded(path, "image/jpeg")
    assert pixels(data) == pixels(path)
    assert [p for m, p in jpeg_segments(data) if p.startswith(b"Exif")] == original_exif
    with Image.open(io.BytesIO(data)) as image:
        assert image.getexif()[0x010F] == "TestCam"
        assert image.getexif()[0x0112] == 6
        assert_story_in_xmp(image.info["xmp"])


def test_jpeg_merges_into_an_existing_xmp_packet(tmp_path):
    old = (b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
           b'<rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/" '
           b'xmlns:atelier="https://atelier.invalid/ns/1.0/" atelier:seed="1">'
           b'<dc:creator><rdf:Seq><rdf:li>Ada</rdf:li></rdf:Seq></dc:creator>'
           b'<dc:description><rdf:Alt><rdf:li xml:lang="x-default">old</rdf:li></rdf:Alt></dc:description>'
           b'</rdf:Description></rdf:RDF></x:xmpmeta>')
    path = save(tmp_path, picture(), "xmp.jpg", xmp=old)
    data = embedded(path, "image/jpeg")
    assert data.count(b"http://ns.adobe.com/xap/1.0/\0") == 1
    with Image.open(io.BytesIO(data)) as image:
        xmp = image.info["xmp"]
    assert_story_in_xmp(xmp)
    assert b"Ada" in xmp and b">old<" not in xmp and b'seed="1"' not in xmp


def test_xmp_escapes_markup_in_the_prompt(tmp_path):
    story = Story(prompt='<b>bold</b> & "quoted" \x01 ]]>', seed=None, model="m")
    path = save(tmp_path, picture(), "x.jpg")
    with Image.open(io.BytesIO(embedded(path, "image/jpeg", story))) as image:
        values = xmp_values(image.info["xmp"])
    assert values["prompt"] == '<b>bold</b> & "quoted"  ]]>'  # control characters are not XML
    assert "seed" not in values


def test_jpeg_very_long_prompt_still_fits_one_segment(tmp_path):
    story = Story(prompt="猫" * 40_000, seed=1, model="m")
    path = save(tmp_path, picture(), "long.jpg")
    data = embedded(path, "image/jpeg", story)
    assert pixels(data) == pixels(path)
    with Image.open(io.BytesIO(data)) as image:
        assert xmp_values(image.info["xmp"])["prompt"].startswith("猫猫猫")


# --- WebP --------------------------------------------------------------------------------------

def riff_kinds(data: bytes) -> list[bytes]:
    kinds, offset = [], 12
    while offset + 8 <= len(data):
        kind, length = struct.unpack("<4sI", data[offset: offset + 8])
        kinds.append(kind)
        offset += 8 + length + (length & 1)
    return kinds


@pytest.mark.parametrize(("mode", "options", "first_chunk"), [
    ("RGB", {"quality": 80}, b"VP8 "),
    ("RGB", {"lossless": True}, b"VP8L"),
    ("RGBA", {"lossless": True}, b"VP8L"),
    ("RGBA", {"quality": 80}, b"VP8X"),
])
def test_webp_gets_an_xmp_chunk(tmp_path, mode, options, first_chunk):
    path = save(tmp_path, picture(mode), "a.webp", **options)
    original = path.read_bytes()
    assert riff_kinds(original)[0] == first_chunk
    data = embedded(path, "image/webp")
    assert struct.unpack("<I", data[4:8])[0] == len(data) - 8
    kinds = riff_kinds(data)
    assert kinds[0] == b"VP8X" and kinds[-1] == b"XMP "
    assert data[20] & 0x04  # the VP8X XMP flag
    assert pixels(data) == pixels(path)
    with Image.open(io.BytesIO(data)) as image:
        assert_story_in_xmp(image.info["xmp"])


def test_webp_extended_with_exif_and_xmp_keeps_exif_and_merges_xmp(tmp_path):
    exif = Image.Exif()
    exif[0x010F] = "TestCam"
    old = (b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
           b'<rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:rights>mine</dc:rights>'
           b'</rdf:Description></rdf:RDF></x:xmpmeta>')
    path = save(tmp_path, picture("RGBA"), "ext.webp", quality=80, exif=exif, xmp=old)
    data = embedded(path, "image/webp")
    assert riff_kinds(data).count(b"XMP ") == 1
    assert pixels(data) == pixels(path)
    with Image.open(io.BytesIO(data)) as image:
        assert image.getexif()[0x010F] == "TestCam"
        assert b"mine" in image.info["xmp"]
        assert_story_in_xmp(image.info["xmp"])


# --- left alone --------------------------------------------------------------------------------

def test_video_is_sent_unchanged():
    path = Path("fal/simulator/assets/landscape.mp4")
    assert embedded(path, "video/mp4") == path.read_bytes()


def test_no_story_means_no_change(tmp_path):
    path = save(tmp_path, picture(), "upload.png")
    assert embedded(path, "image/png", Story(prompt="", seed=None, model="")) == path.read_bytes()


def test_a_file_that_is_not_what_it_claims_is_sent_unchanged(tmp_path):
    path = tmp_path / "fake.png"
    path.write_bytes(b"GIF89a not a png at all")
    assert embedded(path, "image/png") == path.read_bytes()
    truncated = save(tmp_path, picture(), "cut.webp")
    truncated.write_bytes(truncated.read_bytes()[:-10])
    assert embedded(truncated, "image/webp") == truncated.read_bytes()
