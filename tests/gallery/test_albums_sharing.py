"""Albums (order, cover, who may add) and share links (expiry, withdrawal, options)."""

from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from gallery.actions import add_to_album
from gallery.models import Album, ShareLink, Visibility

pytestmark = pytest.mark.django_db


def album_order(client, album) -> list[str]:
    page = client.get(reverse("gallery:album", args=[album.id])).content.decode()
    return re.findall(r'id="item-([0-9a-f-]{36})"', page)


def test_album_ordering_moves_items(member_client, member, make_item):
    items = [make_item(member, f"n{n}") for n in range(3)]
    album = Album.objects.create(owner=member, name="Order")
    add_to_album(album, items)
    assert album_order(member_client, album) == [str(i.id) for i in items]
    url = reverse("gallery:album_item", args=[album.id, items[2].id])
    member_client.post(url, {"action": "up"})
    member_client.post(url, {"action": "up"})
    assert album_order(member_client, album) == [str(items[2].id), str(items[0].id), str(items[1].id)]
    member_client.post(reverse("gallery:album_item", args=[album.id, items[0].id]), {"action": "down"})
    assert album_order(member_client, album) == [str(items[2].id), str(items[1].id), str(items[0].id)]


def test_cover_and_removal(member_client, member, make_item):
    first, second = make_item(member), make_item(member)
    album = Album.objects.create(owner=member, name="Cover")
    add_to_album(album, [first, second])
    member_client.post(reverse("gallery:album_item", args=[album.id, second.id]), {"action": "cover"})
    album.refresh_from_db()
    assert album.cover_id == second.id
    member_client.post(reverse("gallery:album_item", args=[album.id, second.id]), {"action": "remove"})
    album.refresh_from_db()
    assert album.cover_id is None and list(album.items.values_list("asset_id", flat=True)) == [first.id]


def test_only_the_owner_edits_but_colleagues_may_add_when_allowed(member, outsider_client, outsider, make_item):
    album = Album.objects.create(owner=member, name="Shared board", visibility=Visibility.TEAM)
    theirs = make_item(outsider)
    add = reverse("gallery:add_to_album", args=[theirs.id])
    assert outsider_client.post(add, {"album": str(album.id)}).status_code == 404
    album.members_may_add = True
    album.save()
    outsider_client.post(add, {"album": str(album.id)})
    assert album.items.filter(asset=theirs).exists()
    edit = reverse("gallery:album_edit", args=[album.id])
    assert outsider_client.post(edit, {"name": "Mine now", "visibility": "team"}).status_code == 404


def test_viewer_cannot_create_albums(viewer_client):
    assert viewer_client.post(reverse("gallery:album_create"), {"name": "x", "visibility": "team"}).status_code == 404


def test_creating_an_album_from_the_albums_page(member_client):
    response = member_client.post(reverse("gallery:album_create"),
                                  {"name": "Spring campaign", "description": "Ideas", "visibility": "private"})
    album = Album.objects.get(name="Spring campaign")
    assert response.status_code == 302 and album.visibility == "private"


def test_share_link_withdrawal_and_expiry_take_effect_at_once(member_client, member, make_item):
    item = make_item(member, "a gift")
    member_client.post(reverse("gallery:share_asset", args=[item.id]), {"expires_in": "1"})
    link = ShareLink.objects.get(asset=item)
    assert link.expires_at and len(link.token) >= 43  # 256 bits, URL-safe
    public = reverse("gallery:shared", args=[link.token])
    assert Client().get(public).status_code == 200
    ShareLink.objects.filter(pk=link.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert Client().get(public).status_code == 404
    ShareLink.objects.filter(pk=link.pk).update(expires_at=None)
    assert Client().get(public).status_code == 200
    member_client.post(reverse("gallery:revoke_share", args=[link.pk]))
    assert Client().get(public).status_code == 404


def test_view_count_and_options(member_client, member, make_item):
    item = make_item(member, "a lighthouse at dawn", seed=5)
    member_client.post(reverse("gallery:share_asset", args=[item.id]),
                       {"allow_download": "on", "show_prompts": "on"})
    link = ShareLink.objects.get(asset=item)
    anonymous = Client()
    page = anonymous.get(reverse("gallery:shared", args=[link.token])).content.decode()
    anonymous.get(reverse("gallery:shared", args=[link.token]))
    link.refresh_from_db()
    assert link.view_count == 2 and "a lighthouse at dawn" in page and "Download" in page
    download = anonymous.get(reverse("gallery:shared_file", args=[link.token, item.id]) + "?download=1")
    image = Image.open(io.BytesIO(b"".join(download.streaming_content)))
    assert image.text["prompt"] == "a lighthouse at dawn"


def test_download_without_prompts_carries_no_prompt(member, make_item):
    item = make_item(member, "confidential brief")
    link = ShareLink.objects.create(token="t" * 43, created_by=member, asset=item, allow_download=True)
    response = Client().get(reverse("gallery:shared_file", args=[link.token, item.id]) + "?download=1")
    data = b"".join(response.streaming_content)
    assert b"confidential" not in data and "confidential" not in response["Content-Disposition"]


def test_only_the_author_may_share_or_withdraw(outsider_client, member, make_item):
    item = make_item(member)
    assert outsider_client.post(reverse("gallery:share_asset", args=[item.id])).status_code == 404
    link = ShareLink.objects.create(token="u" * 43, created_by=member, asset=item)
    assert outsider_client.post(reverse("gallery:revoke_share", args=[link.pk])).status_code == 404


def test_making_a_job_private_hides_all_its_outputs(member_client, outsider_client, member, make_item):
    item = make_item(member)
    member_client.post(reverse("gallery:change_visibility", args=[item.id]), {"visibility": "private"})
    item.refresh_from_db()
    assert item.visibility == "private" and item.generation.visibility == "private"
    assert outsider_client.get(reverse("gallery:detail", args=[item.id])).status_code == 404
