"""Hostile uploads: files that are not pictures, broken pictures, bombs, giants, odd names.

An input picture is checked before anything is stored (studio.generation_form.check_image_upload);
what passes is stored by gallery.ingest under a path made from its id. A refused file gives a
plain message next to the picture input, and leaves no Generation, no Asset and no file.
"""

from __future__ import annotations

import hashlib
import html
import io
import re
import struct
import uuid
import zipfile
import zlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from gallery.models import Asset
from studio.models import Generation

pytestmark = pytest.mark.django_db

EDIT_MODEL = "fal-ai/flux-pro/kontext"  # one picture: `image_url`
MULTI_MODEL = "fal-ai/nano-banana/edit"  # up to 10 pictures: `image_urls`


# --- Building hostile files ------------------------------------------------------------------------
def png(width: int = 320, height: int = 200, mode: str = "RGB") -> bytes:
    buffer = io.BytesIO()
    Image.new(mode, (width, height)).save(buffer, "PNG")
    return buffer.getvalue()


def jpeg(width: int = 320, height: int = 200, **options) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (20, 120, 200)).save(buffer, "JPEG", **options)
    return buffer.getvalue()


def png_declaring(width: int, height: int) -> bytes:
    """A tiny, valid-looking PNG whose header claims width × height (a decompression bomb)."""
    data = png(64, 64, "1")
    body = b"IHDR" + struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return data[:8] + struct.pack(">I", 13) + body + struct.pack(">I", zlib.crc32(body)) + data[33:]


def jpeg_declaring(width: int, height: int) -> bytes:
    """A small JPEG whose SOF0 segment claims width × height."""
    data = bytearray(jpeg(64, 64))
    sof = data.index(b"\xff\xc0")
    data[sof + 5:sof + 9] = struct.pack(">HH", height, width)
    return bytes(data)


def animated(image_format: str) -> bytes:
    frames = [Image.new("RGB", (120, 90), colour) for colour in ((255, 0, 0), (0, 255, 0), (0, 0, 255))]
    buffer = io.BytesIO()
    frames[0].save(buffer, image_format, save_all=True, append_images=frames[1:], duration=100, loop=0)
    return buffer.getvalue()


def upload(name: str, data: bytes, content_type: str = "image/png") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type=content_type)


def post_picture(client, file, model_id: str = EDIT_MODEL, field: str = "image_url"):
    return client.post(reverse("studio:generate", args=[model_id]),
                       {"client_token": f"tok-{uuid.uuid4().hex}", "prompt": "make it night", field: file})


def errors_of(page: str, field: str) -> list[str]:
    match = re.search(rf'id="id_{re.escape(field)}_error">(.*?)</ul>', page, re.S)
    return [html.unescape(item) for item in re.findall(r"<li>(.*?)</li>", match.group(1), re.S)] if match else []


def stored_files(media_root) -> list[str]:
    if not media_root.exists():
        return []
    return sorted(str(path.relative_to(media_root)) for path in media_root.rglob("*") if path.is_file())


def assert_refused(response, media_root, message: str, field: str = "image_url") -> None:
    page = response.content.decode()
    assert response.status_code == 200
    shown = errors_of(page, field)
    assert any(message in error for error in shown), shown
    assert "<script>alert" not in page and "<img src=x onerror" not in page and "<i onmouseover" not in page
    assert not Generation.objects.exists()
    assert not Asset.objects.exists()
    assert stored_files(media_root) == []


# --- Not pictures, broken pictures --------------------------------------------------------------------
NOT_PICTURES = {
    "text": b"hello, this is not a picture",
    "html": b"<!doctype html><script>alert(1)</script>",
    "svg": b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><rect width="100" height="100"/></svg>',
    "pdf": b"%PDF-1.7\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF",
    "zip": b"PK\x03\x04" + b"\0" * 200,
    "elf": b"\x7fELF\x02\x01\x01" + b"\0" * 200,
    "empty": b"",
    "tiff": b"II*\x00\x08\x00\x00\x00" + b"\0" * 200,
}


@pytest.mark.parametrize("kind", [kind for kind in NOT_PICTURES if kind != "empty"])
def test_a_file_that_is_not_a_picture_is_refused_whatever_its_name(member_client, media_root, kind):
    response = post_picture(member_client, upload("holiday.png", NOT_PICTURES[kind]))
    assert_refused(response, media_root, "“holiday.png” is not a JPEG, PNG or WebP picture.")


def test_an_empty_file_is_refused(member_client, media_root):
    response = post_picture(member_client, upload("empty.png", b""))
    page = response.content.decode()
    assert response.status_code == 200 and errors_of(page, "image_url")
    assert not Generation.objects.exists() and stored_files(media_root) == []


def test_a_png_header_followed_by_garbage_is_refused(member_client, media_root):
    response = post_picture(member_client, upload("x.png", b"\x89PNG\r\n\x1a\n" + b"garbage" * 200))
    assert_refused(response, media_root, "seems damaged and could not be read as a picture")


@pytest.mark.parametrize("cut", [60, 200, 0.5, -12], ids=["header-only", "in-idat", "half", "no-iend"])
def test_a_truncated_png_is_refused(member_client, media_root, cut):
    data = png(640, 480)
    data = data[:int(len(data) * cut)] if isinstance(cut, float) else data[:cut]
    response = post_picture(member_client, upload("cut.png", data))
    assert_refused(response, media_root, "“cut.png” seems damaged")


@pytest.mark.parametrize("cut", [2000, -2], ids=["half", "no-eoi"])
def test_a_truncated_jpeg_is_refused(member_client, media_root, cut):
    data = jpeg(640, 480, quality=95)
    member_client.raise_request_exception = False
    response = post_picture(member_client, upload("cut.jpg", data[:cut], "image/jpeg"))
    assert_refused(response, media_root, "“cut.jpg” seems damaged")


# --- Bombs and giants --------------------------------------------------------------------------------
@pytest.mark.parametrize("data, message", [
    (png_declaring(30_000, 30_000), "is too large to open safely"),
    (png_declaring(7_000, 7_000), "is too large: 7000 × 7000 pixels. Pictures can have at most 40 megapixels."),
    (png_declaring(2**31 - 1, 1), "is too large"),
    (jpeg_declaring(30_000, 30_000), "is too large to open safely"),
    (png(20_000, 20_000, "1"), "is too large to open safely"),  # a real 400-megapixel PNG of ~50 KB
], ids=["png-30000", "png-7000", "png-2^31", "jpeg-30000", "real-1bit-20000"])
def test_decompression_bombs_are_refused_before_decoding(member_client, media_root, data, message):
    response = post_picture(member_client, upload("bomb.png", data))
    assert_refused(response, media_root, message)


def test_a_picture_too_small_to_use_is_refused(member_client, media_root):
    response = post_picture(member_client, upload("icon.png", png(10, 300)))
    assert_refused(response, media_root, "is too small: 10 × 300 pixels")


def test_an_upload_over_the_configured_limit_is_refused(member_client, media_root, settings):
    settings.ATELIER_MAX_UPLOAD_BYTES = 1_000_000
    big = png(64, 64) + b"\0" * 1_500_000
    response = post_picture(member_client, upload("big.png", big))
    assert_refused(response, media_root, "“big.png” is larger than 1 MB. Please choose a smaller file.")


def test_a_25_mb_upload_is_refused_at_the_default_limit(member_client, media_root, settings):
    assert settings.ATELIER_MAX_UPLOAD_BYTES == 20_000_000
    big = b"\x89PNG\r\n\x1a\n" + b"\0" * 25_000_000
    response = post_picture(member_client, upload("huge.png", big))
    assert_refused(response, media_root, "“huge.png” is larger than 20 MB.")


def test_too_many_pictures_and_bad_ones_among_them_are_all_explained(member_client, media_root):
    files = [upload(f"ok{i}.png", png(80, 80)) for i in range(11)]
    response = post_picture(member_client, files, model_id=MULTI_MODEL, field="image_urls")
    assert_refused(response, media_root, "You can use at most 10 pictures here; you gave 11.", field="image_urls")
    files = [upload("fine.png", png(80, 80)), upload("<i onmouseover=alert(1)>bad.png", b"nope"), upload("cut.png", png()[:100])]
    response = post_picture(member_client, files, model_id=MULTI_MODEL, field="image_urls")
    page = response.content.decode()
    assert "<i onmouseover" not in page
    assert_refused(response, media_root, "“<i onmouseover=alert(1)>bad.png” is not a JPEG, PNG or WebP picture.", field="image_urls")
    assert any("“cut.png” seems damaged" in error for error in errors_of(page, "image_urls"))


# --- Animated pictures ------------------------------------------------------------------------------
def test_an_animated_gif_is_refused_like_any_gif(member_client, media_root):
    response = post_picture(member_client, upload("loop.gif", animated("GIF"), "image/gif"))
    assert_refused(response, media_root, "“loop.gif” is not a JPEG, PNG or WebP picture.")


@pytest.mark.parametrize("image_format, content_type, extension", [("WEBP", "image/webp", "webp"),
                                                                   ("PNG", "image/png", "png")],
                         ids=["animated-webp", "apng"])
def test_animated_webp_and_apng_are_kept_as_sent_with_a_still_thumbnail(member_client, member, media_root,
                                                                         image_format, content_type, extension):
    """Documented behaviour: accepted (they are WebP / PNG files), stored byte for byte, the
    model receives the file as sent; the thumbnail shows the first frame as a still WebP."""
    data = animated(image_format)
    response = post_picture(member_client, upload(f"loop.{extension}", data, content_type))
    assert response.status_code == 302
    [asset] = Asset.objects.all()
    assert (asset.content_type, asset.width, asset.height) == (content_type, 120, 90)
    assert asset.checksum == hashlib.sha256(data).hexdigest()
    assert asset.file.name.endswith(f"{asset.id}.{extension}")
    with Image.open(asset.thumbnail.path) as thumbnail:
        assert thumbnail.format == "WEBP" and thumbnail.size == (120, 90)
        assert getattr(thumbnail, "n_frames", 1) == 1
        assert thumbnail.convert("RGB").getpixel((60, 45)) == pytest.approx((255, 0, 0), abs=8)


# --- EXIF orientation -----------------------------------------------------------------------------
def rotated_jpeg() -> bytes:
    """400 × 300 pixels stored sideways: Orientation 6 says "turn 90° clockwise to show"."""
    image = Image.new("RGB", (400, 300), (200, 30, 30))
    image.paste((30, 30, 200), (0, 0, 200, 300))  # the left half blue: after turning, the top is blue
    exif = Image.Exif()
    exif[0x0112] = 6
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", exif=exif, quality=95)
    return buffer.getvalue()


def test_a_sideways_photo_keeps_its_exif_and_gets_an_upright_thumbnail(member_client, member, media_root):
    data = rotated_jpeg()
    response = post_picture(member_client, upload("phone.jpg", data, "image/jpeg"))
    assert response.status_code == 302
    [asset] = Asset.objects.all()
    assert asset.checksum == hashlib.sha256(data).hexdigest()  # the original, EXIF and all
    with Image.open(asset.file.path) as original:
        assert original.getexif().get(0x0112) == 6
    with Image.open(asset.thumbnail.path) as thumbnail:
        assert thumbnail.size == (300, 400)
        top, bottom = thumbnail.convert("RGB").getpixel((150, 20)), thumbnail.convert("RGB").getpixel((150, 380))
        assert top[2] > 150 and bottom[0] > 150  # blue on top, red below: turned the right way


def test_a_sideways_photo_is_recorded_with_its_upright_size(member_client, member, media_root):
    post_picture(member_client, upload("phone.jpg", rotated_jpeg(), "image/jpeg"))
    [asset] = Asset.objects.all()
    assert (asset.width, asset.height) == (300, 400)


# --- Names --------------------------------------------------------------------------------------------
HOSTILE_NAMES = {
    "parent-dirs": ("../../etc/passwd.png", "passwd.png"),
    "windows-dirs": ("..\\..\\windows\\win.ini.png", "win.ini.png"),
    "absolute": ("/var/www/atelier/settings.png", "settings.png"),
    "device": ("CON.png", "CON.png"),
    "nul": ("ev\x00il.png", "evil.png"),
    "rtl": ("photo\u202egnp.exe", "photognp.exe"),
    "markup": ("<img src=x onerror=alert(1)>.png", "<img src=x onerror=alert(1)>.png"),
    "encoded": ("%2e%2e%2fsecret.png", "%2e%2e%2fsecret.png"),
    "long": ("a" * 400 + ".png", None),
}


@pytest.mark.parametrize("case", list(HOSTILE_NAMES))
def test_path_tricks_in_upload_names_are_stored_under_an_id(member_client, member, media_root, case):
    name, kept = HOSTILE_NAMES[case]
    response = post_picture(member_client, upload(name, png()))
    assert response.status_code == 302
    [asset] = Asset.objects.all()
    assert re.fullmatch(rf"assets/\d{{4}}/\d{{2}}/{asset.id}\.png", asset.file.name)
    assert re.fullmatch(rf"thumbs/\d{{4}}/\d{{2}}/{asset.id}\.webp", asset.thumbnail.name)
    assert stored_files(media_root) == sorted([asset.file.name, asset.thumbnail.name])
    if kept is not None:
        assert asset.original_name == kept
    assert len(asset.original_name) <= 255 and asset.original_name.endswith(".png" if case != "rtl" else ".exe")
    assert "/" not in asset.original_name and "\\" not in asset.original_name
    assert all(character.isprintable() for character in asset.original_name)
    # Its pages and its download work, and say nothing raw.
    detail = member_client.get(reverse("gallery:detail", args=[asset.id]))
    assert detail.status_code == 200 and "<img src=x onerror" not in detail.content.decode()
    download = member_client.get(reverse("gallery:asset_file", args=[asset.id]) + "?download=1")
    disposition = download["Content-Disposition"]
    assert download.status_code == 200 and "\n" not in disposition and "\r" not in disposition
    assert "/" not in disposition.split("filename", 1)[1] and ".." not in disposition


HOSTILE_PROMPTS = [
    "../../etc/passwd",
    "line one\r\nSet-Cookie: stolen=1",
    'quote " and semicolon; filename="evil.exe"',
    "CON",
    "\u202eexe.gnp",
    "NUL\x01\x02\x1f",
    "名前" * 200,
]


def test_download_names_made_from_hostile_prompts_are_safe(member_client, member, make_item):
    items = [make_item(member, prompt=prompt) for prompt in HOSTILE_PROMPTS]
    for item in items:
        response = member_client.get(reverse("gallery:asset_file", args=[item.id]) + "?download=1")
        disposition = response["Content-Disposition"]
        assert response.status_code == 200
        assert "\r" not in disposition and "\n" not in disposition and "\u202e" not in disposition
        assert "/" not in disposition.split("filename", 1)[1] and "../" not in disposition
        b"".join(response.streaming_content)
    archive = member_client.post(reverse("gallery:bulk"), {"action": "zip", "ids": [str(i.id) for i in items]})
    assert archive.status_code == 200
    with zipfile.ZipFile(io.BytesIO(b"".join(archive.streaming_content))) as bundle:
        names = bundle.namelist()
    assert len(names) == len(items) + 1
    for name in names:
        assert "/" not in name and "\\" not in name and not name.startswith(".")
        assert all(character.isprintable() for character in name)
        assert len(name.encode()) <= 100
