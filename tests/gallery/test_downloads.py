"""Downloads carry their story: metadata embedded in originals, ZIPs with a metadata file."""

from __future__ import annotations

import io
import json
import zipfile

import pytest
from django.urls import reverse
from PIL import Image

pytestmark = pytest.mark.django_db


def body(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def test_downloaded_png_carries_prompt_seed_and_model(member_client, member, make_item):
    item = make_item(member, "a lighthouse: storm/night?", seed=4242)
    response = member_client.get(reverse("gallery:asset_file", args=[item.id]) + "?download=1")
    data = body(response)
    assert response.status_code == 200 and int(response["Content-Length"]) == len(data)
    disposition = response["Content-Disposition"]
    assert disposition.startswith("attachment;") and ".png" in disposition
    for bad in ':/?"':
        assert bad not in disposition.split("filename=", 1)[-1].strip('"')
    image = Image.open(io.BytesIO(data))
    assert image.text["prompt"] == "a lighthouse: storm/night?"
    assert image.text["seed"] == "4242" and image.text["model"] == "fal-ai/flux-1/dev"
    with Image.open(item.file.path) as original:
        assert image.tobytes() == original.tobytes()  # pixels untouched


def test_inline_file_is_served_as_stored(member_client, member, make_item):
    item = make_item(member)
    data = body(member_client.get(reverse("gallery:asset_file", args=[item.id])))
    assert data == open(item.file.path, "rb").read()


def test_zip_download_holds_originals_and_their_metadata(member_client, member, make_item):
    first = make_item(member, "same prompt", seed=1)
    second = make_item(member, "same prompt", seed=2)
    video = make_item(member, "a wave", model_id="fal-ai/veo3", kind="video")
    response = member_client.post(reverse("gallery:bulk"), {
        "action": "zip", "ids": [str(first.id), str(second.id), str(video.id)]})
    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    assert response.streaming
    archive = zipfile.ZipFile(io.BytesIO(body(response)))
    assert archive.testzip() is None
    names = archive.namelist()
    assert len(set(name.lower() for name in names)) == 4 and "metadata.json" in names
    metadata = json.loads(archive.read("metadata.json"))
    by_id = {entry["id"]: entry for entry in metadata}
    assert by_id[str(first.id)]["seed"] == 1 and by_id[str(second.id)]["seed"] == 2
    assert by_id[str(video.id)]["model"] == "fal-ai/veo3"
    for entry in metadata:
        data = archive.read(entry["file"])
        assert len(data) >= entry["bytes"]  # originals, plus their embedded story for images
    png = Image.open(io.BytesIO(archive.read(by_id[str(first.id)]["file"])))
    assert png.text["prompt"] == "same prompt"


def test_bulk_favourite_album_and_delete(member_client, member, outsider, make_item, django_capture_on_commit_callbacks):
    mine = [make_item(member) for _ in range(3)]
    theirs = make_item(outsider)
    ids = [str(item.id) for item in mine] + [str(theirs.id)]
    member_client.post(reverse("gallery:bulk"), {"action": "favourite", "ids": ids})
    assert member.favourites.count() == 4
    member_client.post(reverse("gallery:bulk"), {"action": "album", "new_album": "Picks", "ids": ids[:2]})
    assert member.albums.get(name="Picks").items.count() == 2
    with django_capture_on_commit_callbacks(execute=True):
        response = member_client.post(reverse("gallery:bulk"), {"action": "delete", "ids": ids}, follow=True)
    assert "Deleted 3 items. 1 belongs to someone else and was kept." in response.content.decode()
    assert [a.id for a in type(theirs).objects.all()] == [theirs.id]


def test_bulk_without_a_selection_says_so(member_client):
    response = member_client.post(reverse("gallery:bulk"), {"action": "zip"}, follow=True)
    assert "Select at least one item first." in response.content.decode()
