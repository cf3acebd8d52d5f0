"""One item: everything known about it, navigation in the grid's order, and its actions."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.urls import reverse

from gallery.models import Album, Asset, Favourite

pytestmark = pytest.mark.django_db


def detail(client, asset, query=""):
    response = client.get(reverse("gallery:detail", args=[asset.id]) + (f"?{query}" if query else ""))
    assert response.status_code == 200
    return response.content.decode()


def nav(page):
    found = dict(re.findall(r'data-(prev|next|back)="([^"]+)"', page))
    return {key: value.replace("&amp;", "&") for key, value in found.items()}


def test_detail_shows_everything_known(member_client, member, make_item):
    item = make_item(member, "a lighthouse at night", seed=777, width=80, height=60)
    page = detail(member_client, item)
    for text in ("a lighthouse at night", "777", "fal-ai/flux-1/dev", "80 × 60 px", member.get_username(),
                 "Every parameter", "Copy prompt", "Download original"):
        assert text in page


def test_keyboard_navigation_follows_the_grid_order_and_filters(member_client, member, make_item):
    newest = make_item(member, "lighthouse one", minutes_ago=1)
    make_item(member, "a harbour", minutes_ago=2)
    middle = make_item(member, "lighthouse two", minutes_ago=3)
    oldest = make_item(member, "lighthouse three", minutes_ago=4)
    links = nav(detail(member_client, middle, "q=lighthouse"))
    assert links["prev"] == reverse("gallery:detail", args=[newest.id]) + "?q=lighthouse"
    assert links["next"] == reverse("gallery:detail", args=[oldest.id]) + "?q=lighthouse"
    assert links["back"] == reverse("gallery:index") + "?q=lighthouse"
    assert "next" not in nav(detail(member_client, oldest, "q=lighthouse"))
    assert "prev" not in nav(detail(member_client, newest))


def test_reuse_settings_opens_the_form_with_the_same_seed(member_client, member, make_item):
    item = make_item(member, "a fox in snow", seed=31337)
    page = detail(member_client, item)
    reuse = re.search(r'href="([^"]+\?reuse=[^"]+)"', page).group(1)
    form = member_client.get(reuse).content.decode()
    assert "a fox in snow" in form and 'value="31337"' in form


def test_use_as_input_preselects_the_picture(member_client, member, make_item):
    item = make_item(member)
    page = detail(member_client, item)
    link = reverse("studio:generate", args=["fal-ai/flux-pro/kontext"]) + f"?input={item.id}"
    assert link in page
    form = member_client.get(link).content.decode()
    assert re.search(rf'value="{item.id}"\s+checked', form)


def test_lineage_links_inputs_and_outputs(member_client, member, make_item):
    source = make_item(member, "the original")
    edited = make_item(member, "made bluer", model_id="fal-ai/flux-pro/kontext", inputs=[source])
    assert reverse("gallery:detail", args=[source.id]) in detail(member_client, edited)
    assert reverse("gallery:detail", args=[edited.id]) in detail(member_client, source)


def test_favourite_toggles(member_client, member, make_item):
    item = make_item(member)
    url = reverse("gallery:toggle_favourite", args=[item.id])
    assert "★ Favourite" in member_client.post(url, headers={"HX-Request": "true"}).content.decode()
    assert Favourite.objects.filter(user=member, asset=item).exists()
    member_client.post(url, headers={"HX-Request": "true"})
    assert not Favourite.objects.exists()


def test_add_to_a_new_and_an_existing_album(member_client, member, make_item):
    item = make_item(member)
    member_client.post(reverse("gallery:add_to_album", args=[item.id]), {"new_album": "Campaign"})
    album = Album.objects.get(name="Campaign")
    assert list(album.items.values_list("asset_id", flat=True)) == [item.id]
    other = make_item(member)
    member_client.post(reverse("gallery:add_to_album", args=[other.id]), {"album": str(album.id)})
    assert album.items.count() == 2


def test_delete_removes_the_row_and_the_files(member_client, member, make_item, django_capture_on_commit_callbacks):
    item = make_item(member)
    files = [Path(item.file.path), Path(item.thumbnail.path)]
    assert all(path.exists() for path in files)
    with django_capture_on_commit_callbacks(execute=True):
        response = member_client.post(reverse("gallery:delete_asset", args=[item.id]))
    assert response.status_code == 302
    assert not Asset.objects.filter(id=item.id).exists()
    assert not any(path.exists() for path in files)


def test_only_the_author_or_an_administrator_may_delete(outsider_client, administrator_client, member, make_item):
    item = make_item(member)
    assert "Delete" not in detail(outsider_client, item).split("Every parameter")[-1]
    assert outsider_client.post(reverse("gallery:delete_asset", args=[item.id])).status_code == 404
    assert Asset.objects.filter(id=item.id).exists()
    administrator_client.post(reverse("gallery:delete_asset", args=[item.id]))
    assert not Asset.objects.filter(id=item.id).exists()


def test_unknown_item_is_404(member_client):
    assert member_client.get(reverse("gallery:detail", args=["0" * 32])).status_code == 404
    assert member_client.get(reverse("gallery:detail", args=["nope"])).status_code == 404


def test_video_detail_has_a_player(member_client, member, make_item):
    video = make_item(member, model_id="fal-ai/veo3", kind="video")
    page = detail(member_client, video)
    assert "<video controls" in page and reverse("gallery:asset_file", args=[video.id]) in page
