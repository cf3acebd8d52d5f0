"""Videos get a poster when PyAV can decode them; anything else gets None, never an error."""

from __future__ import annotations

import builtins
import struct
from pathlib import Path

import pytest
from PIL import Image, ImageChops, ImageStat

from gallery.posters import make_video_poster

LANDSCAPE = Path("fal/simulator/assets/landscape.mp4")

pytest.importorskip("av")


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def test_landscape_video_gets_a_webp_poster(media_root):
    poster = make_video_poster(LANDSCAPE)
    assert poster is not None
    assert poster.parent.parent == media_root / "tmp"  # in this process's scratch folder
    with Image.open(poster) as image:
        assert image.format == "WEBP"
        assert image.size == (320, 180)
        extrema = image.convert("RGB").getextrema()
    assert any(low != high for low, high in extrema), "the poster is a single colour"


def test_large_video_poster_fits_the_thumbnail_box(tmp_path):
    av = pytest.importorskip("av")
    path = tmp_path / "big.mp4"
    with av.open(str(path), "w") as container:
        stream = container.add_stream("mpeg4", rate=10)
        stream.width, stream.height, stream.pix_fmt = 1280, 720, "yuv420p"
        for n in range(8):
            image = Image.linear_gradient("L").resize((1280, 720)).convert("RGB")
            frame = av.VideoFrame.from_image(ImageChops.offset(image, n * 40, 0))
            container.mux(stream.encode(frame))
        container.mux(stream.encode())
    poster = make_video_poster(path)
    assert poster is not None
    with Image.open(poster) as image:
        assert image.size == (512, 288)


def test_rotation_recorded_by_a_phone_is_applied(tmp_path):
    # A phone holding the camera upright stores landscape frames plus a "turn 90° clockwise" matrix.
    data = bytearray(LANDSCAPE.read_bytes())
    tkhd = data.index(b"tkhd") + 4
    matrix_at = tkhd + (40 if data[tkhd] == 0 else 52)
    data[matrix_at: matrix_at + 36] = struct.pack(">9i", 0, 0x10000, 0, -0x10000, 0, 0, 0, 0, 0x40000000)
    rotated = tmp_path / "portrait-phone.mp4"
    rotated.write_bytes(bytes(data))

    upright = make_video_poster(LANDSCAPE)
    poster = make_video_poster(rotated)
    assert poster is not None
    with Image.open(poster) as image, Image.open(upright) as reference:
        assert image.size == (180, 320)
        expected = reference.convert("RGB").transpose(Image.Transpose.ROTATE_270)  # clockwise
        difference = ImageChops.difference(image.convert("RGB"), expected).convert("L")
        # The same picture up to WebP noise; turned the wrong way the mean difference is ~15.
        assert ImageStat.Stat(difference).mean[0] < 6


@pytest.mark.parametrize("content", [b"just some text, not a video\n", b"\x00" * 4096])
def test_non_video_file_gives_none(tmp_path, content, caplog):
    path = tmp_path / "notes.mp4"
    path.write_bytes(content)
    assert make_video_poster(path) is None
    assert "No poster for notes.mp4" in caplog.text


def test_still_image_gives_none(tmp_path):
    path = tmp_path / "still.png"
    Image.new("RGB", (32, 32), "teal").save(path)
    assert make_video_poster(path) is None


def test_missing_file_gives_none(tmp_path):
    assert make_video_poster(tmp_path / "gone.mp4") is None


def test_without_pyav_gives_none(monkeypatch, caplog):
    real_import = builtins.__import__

    def refuse_av(name, *args, **kwargs):
        if name == "av" or name.startswith("av."):
            raise ImportError("No module named 'av'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", refuse_av)
    assert make_video_poster(LANDSCAPE) is None
    assert "PyAV" in caplog.text
