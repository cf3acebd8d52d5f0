"""Media on an S3-compatible bucket (moto's server on 127.0.0.1): the same views, other settings.

Files land in the bucket, never on local disk; every view still checks permission first, then
streams from the bucket or redirects to a short-lived presigned link; deleting removes objects.
"""

from __future__ import annotations

import io
import uuid
import zipfile
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from django.urls import reverse
from PIL import Image

from atelier.buckets import bucket_storage
from gallery.models import Asset
from studio.input_images import data_uri
from studio.models import Generation
from tests.scale.conftest import S3_BUCKET, S3_KEYS, bucket_client, bucket_keys
from tests.studio.conftest import drive, fal_service, make_generation, png_bytes, upstream_sleeps  # noqa: F401

pytestmark = pytest.mark.django_db


@pytest.fixture
def bucket(settings, s3_server, media_root):
    """Media for this test under its own prefix of the bucket; yields that prefix."""
    prefix = f"test-{uuid.uuid4().hex[:10]}"
    settings.STORAGES = {**settings.STORAGES, "default": bucket_storage(
        bucket=S3_BUCKET, endpoint_url=s3_server, region="us-east-1", access_key=S3_KEYS["S3_ACCESS_KEY_ID"],
        secret_key=S3_KEYS["S3_SECRET_ACCESS_KEY"], prefix=prefix, addressing_style="path", url_ttl_seconds=120)}
    settings.MEDIA_IN_BUCKET = True
    settings.S3_URL_TTL_SECONDS = 120
    settings.FILE_SERVING = "django"
    return prefix


def local_media_files(media_root) -> list:
    return [path for path in media_root.rglob("*") if path.is_file()] if media_root.exists() else []


def test_generated_outputs_and_thumbnails_land_in_the_bucket(bucket, fal_service, member, s3_server, media_root):
    generation = make_generation(member, "fal-ai/flux-1/dev",
                                 {"prompt": "harbour [sim: queue=0, run=0]", "num_images": 2, "image_size": "square"})
    generation = drive(generation)
    assert generation.state == Generation.State.DONE
    assets = list(generation.assets.order_by("position"))
    assert len(assets) == 2
    keys = bucket_keys(s3_server, bucket)
    for asset in assets:
        assert f"{bucket}/{asset.file.name}" in keys and f"{bucket}/{asset.thumbnail.name}" in keys
    assert local_media_files(media_root) == []  # temporary files are gone; nothing kept locally
    body = bucket_client(s3_server).get_object(Bucket=S3_BUCKET, Key=f"{bucket}/{assets[0].thumbnail.name}")["Body"]
    with Image.open(io.BytesIO(body.read())) as thumbnail:
        assert thumbnail.format == "WEBP" and max(thumbnail.size) <= 512


def test_original_and_thumbnail_stream_from_the_bucket_after_the_permission_check(
        bucket, make_s3_item, member, member_client, outsider_client):
    asset = make_s3_item(member, private=True)
    response = member_client.get(reverse("gallery:asset_file", args=[asset.id]))
    assert response.status_code == 200 and response["Content-Type"] == "image/png"
    assert b"".join(response.streaming_content) == png_bytes(300, 200)
    thumbnail = member_client.get(reverse("gallery:asset_thumbnail", args=[asset.id]))
    assert thumbnail.status_code == 200 and thumbnail["Content-Type"] == "image/webp"
    assert b"".join(thumbnail.streaming_content)[8:12] == b"WEBP"
    assert outsider_client.get(reverse("gallery:asset_file", args=[asset.id])).status_code == 404
    assert outsider_client.get(reverse("gallery:asset_thumbnail", args=[asset.id])).status_code == 404


def test_download_with_its_story_embedded_reads_from_the_bucket(bucket, make_s3_item, member, member_client):
    asset = make_s3_item(member, prompt="a lighthouse in fog")
    response = member_client.get(reverse("gallery:asset_file", args=[asset.id]) + "?download=1")
    data = b"".join(response.streaming_content)
    assert int(response["Content-Length"]) == len(data)
    with Image.open(io.BytesIO(data)) as image:
        assert image.text["prompt"] == "a lighthouse in fog"
        assert image.size == (300, 200)


def test_zip_of_several_items_streams_from_the_bucket(bucket, make_s3_item, member, member_client):
    first, second = make_s3_item(member, prompt="one"), make_s3_item(member, prompt="two")
    response = member_client.post(reverse("gallery:bulk"), {"ids": [first.id, second.id], "action": "zip"})
    assert response.status_code == 200, response.content[:500]
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    assert sorted(archive.namelist()) == ["metadata.json", "one.png", "two.png"]
    with Image.open(io.BytesIO(archive.read("two.png"))) as image:
        assert image.text["prompt"] == "two"


def test_presigned_mode_redirects_to_a_short_lived_link_only_after_the_check(
        bucket, make_s3_item, settings, member, member_client, outsider_client):
    settings.FILE_SERVING = "presigned"
    asset = make_s3_item(member, private=True)
    assert outsider_client.get(reverse("gallery:asset_file", args=[asset.id])).status_code == 404
    response = member_client.get(reverse("gallery:asset_file", args=[asset.id]))
    assert response.status_code == 302
    link = response["Location"]
    query = parse_qs(urlsplit(link).query)
    assert query["X-Amz-Expires"] == ["120"] and "X-Amz-Signature" in query
    assert "max-age=60" in response["Cache-Control"]  # never reused past the link's life
    fetched = httpx.get(link)
    assert fetched.status_code == 200 and fetched.content == png_bytes(300, 200)
    assert fetched.headers["content-type"] == "image/png"
    thumbnail = httpx.get(member_client.get(reverse("gallery:asset_thumbnail", args=[asset.id]))["Location"])
    assert thumbnail.status_code == 200 and thumbnail.content[8:12] == b"WEBP"


def test_presigned_download_without_story_is_named_by_the_bucket(bucket, make_s3_item, settings, member):
    from gallery.downloads import original_response

    settings.FILE_SERVING = "presigned"
    asset = make_s3_item(member)
    response = original_response(asset, as_download=True, with_story=False)
    fetched = httpx.get(response["Location"])
    assert fetched.status_code == 200
    assert fetched.headers["content-disposition"].startswith("attachment;")
    assert f"atelier-{str(asset.id)[:8]}.png" in fetched.headers["content-disposition"]


def test_deleting_an_item_removes_its_objects(bucket, make_s3_item, member, member_client, s3_server,
                                              django_capture_on_commit_callbacks):
    asset = make_s3_item(member)
    names = {f"{bucket}/{asset.file.name}", f"{bucket}/{asset.thumbnail.name}"}
    assert names <= bucket_keys(s3_server, bucket)
    with django_capture_on_commit_callbacks(execute=True):
        response = member_client.post(reverse("gallery:delete_asset", args=[asset.id]))
    assert response.status_code == 302
    assert not Asset.objects.filter(id=asset.id).exists()
    assert not names & bucket_keys(s3_server, bucket)


def test_input_images_are_read_back_from_the_bucket(bucket, make_s3_item, member):
    asset = make_s3_item(member)
    uri = data_uri(asset)
    assert uri.startswith("data:image/png;base64,")
    import base64

    assert base64.b64decode(uri.split(",", 1)[1]) == png_bytes(300, 200)


@pytest.fixture
def make_s3_item(bucket):
    from gallery.assets import store_asset
    from gallery.ingest import receive, verify

    def factory(owner, prompt="a quiet harbour", private=False):
        generation = Generation.objects.create(
            user=owner, model_id="fal-ai/flux-1/dev", model_title="FLUX.1 [dev]", kind="text-to-image",
            arguments={"prompt": prompt}, prompt=prompt, client_token=uuid.uuid4().hex,
            state=Generation.State.DONE, seed=7, visibility="private" if private else "team")
        path, size, checksum = receive([png_bytes(300, 200)])
        return store_asset(verify(path, size, checksum), owner=owner, source=Asset.Source.OUTPUT, generation=generation)

    return factory
