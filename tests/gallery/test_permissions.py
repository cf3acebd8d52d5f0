"""The permission matrix: every page and file URL, for every kind of visitor.

Rules: an item is seen by its author, administrators, and — when its visibility is "team" —
every active account. A share link shows exactly what it names while it is live. Everyone
else gets a 404 (anonymous visitors of account pages are sent to the login page).
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from gallery.actions import add_to_album, set_visibility
from gallery.models import Album, ShareLink, Visibility
from gallery.sharing import new_token

pytestmark = pytest.mark.django_db

OK, GONE, LOGIN = 200, 404, 302


@pytest.fixture
def world(member, outsider, viewer, administrator, make_item):
    team_item = make_item(member, "team work")
    private_item = make_item(member, "secret work")
    set_visibility(private_item, Visibility.PRIVATE)
    private_item.refresh_from_db()
    team_album = Album.objects.create(owner=member, name="Team album", visibility=Visibility.TEAM)
    private_album = Album.objects.create(owner=member, name="Private album", visibility=Visibility.PRIVATE)
    add_to_album(team_album, [team_item, private_item])
    add_to_album(private_album, [team_item])

    def link(**fields):
        return ShareLink.objects.create(token=new_token(), created_by=member, **fields)

    return {
        "team_item": team_item, "private_item": private_item,
        "team_album": team_album, "private_album": private_album,
        "live": link(asset=private_item),
        "expired": link(asset=private_item, expires_at=timezone.now() - timedelta(minutes=1)),
        "revoked": link(asset=private_item, revoked_at=timezone.now()),
        "album_link": link(album=team_album),
    }


def client_for(user) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


ACCOUNT_URLS = {
    "detail(team)": lambda w: reverse("gallery:detail", args=[w["team_item"].id]),
    "detail(private)": lambda w: reverse("gallery:detail", args=[w["private_item"].id]),
    "file(team)": lambda w: reverse("gallery:asset_file", args=[w["team_item"].id]),
    "file(private)": lambda w: reverse("gallery:asset_file", args=[w["private_item"].id]),
    "download(private)": lambda w: reverse("gallery:asset_file", args=[w["private_item"].id]) + "?download=1",
    "thumb(team)": lambda w: reverse("gallery:asset_thumbnail", args=[w["team_item"].id]),
    "thumb(private)": lambda w: reverse("gallery:asset_thumbnail", args=[w["private_item"].id]),
    "album(team)": lambda w: reverse("gallery:album", args=[w["team_album"].id]),
    "album(private)": lambda w: reverse("gallery:album", args=[w["private_album"].id]),
}

# visitor → what each URL answers
EXPECTED = {
    "administrator": {name: OK for name in ACCOUNT_URLS},
    "author": {name: OK for name in ACCOUNT_URLS},
    "other member": {**{name: OK for name in ACCOUNT_URLS}, "detail(private)": GONE, "file(private)": GONE,
                     "download(private)": GONE, "thumb(private)": GONE, "album(private)": GONE},
    "viewer": {**{name: OK for name in ACCOUNT_URLS}, "detail(private)": GONE, "file(private)": GONE,
               "download(private)": GONE, "thumb(private)": GONE, "album(private)": GONE},
    "anonymous": {name: LOGIN for name in ACCOUNT_URLS},
}


@pytest.mark.parametrize("visitor", list(EXPECTED))
def test_account_pages_and_files(world, visitor, administrator, member, outsider, viewer):
    user = {"administrator": administrator, "author": member, "other member": outsider,
            "viewer": viewer, "anonymous": None}[visitor]
    client = client_for(user)
    answers = {name: client.get(url(world)).status_code for name, url in ACCOUNT_URLS.items()}
    assert answers == EXPECTED[visitor]


@pytest.mark.parametrize("visitor", ["other member", "viewer"])
def test_the_grid_and_albums_hide_private_work(world, visitor, outsider, viewer):
    client = client_for({"other member": outsider, "viewer": viewer}[visitor])
    grid = client.get(reverse("gallery:index")).content.decode()
    assert str(world["team_item"].id) in grid and str(world["private_item"].id) not in grid
    album = client.get(reverse("gallery:album", args=[world["team_album"].id])).content.decode()
    assert str(world["team_item"].id) in album and str(world["private_item"].id) not in album
    albums = client.get(reverse("gallery:albums")).content.decode()
    assert "Team album" in albums and "Private album" not in albums


def share_urls(token, asset):
    return {
        "page": reverse("gallery:shared", args=[token]),
        "file": reverse("gallery:shared_file", args=[token, asset.id]),
        "thumb": reverse("gallery:shared_thumbnail", args=[token, asset.id]),
        "download": reverse("gallery:shared_file", args=[token, asset.id]) + "?download=1",
    }


def test_live_share_link_shows_exactly_its_item(world):
    anonymous = Client()
    urls = share_urls(world["live"].token, world["private_item"])
    answers = {name: anonymous.get(url).status_code for name, url in urls.items()}
    assert answers == {"page": OK, "file": OK, "thumb": OK, "download": GONE}  # no download unless allowed
    other = share_urls(world["live"].token, world["team_item"])
    assert anonymous.get(other["file"]).status_code == GONE  # not what was shared
    page = anonymous.get(urls["page"]).content.decode()
    assert "secret work" not in page  # no prompts unless the sharer ticked it


@pytest.mark.parametrize("which", ["expired", "revoked"])
def test_dead_share_links_show_nothing(world, which):
    anonymous = Client()
    urls = share_urls(world[which].token, world["private_item"])
    assert {name: anonymous.get(url).status_code for name, url in urls.items()} == {
        "page": GONE, "file": GONE, "thumb": GONE, "download": GONE}


def test_album_link_shows_the_album_items_its_creator_may_see(world):
    anonymous = Client()
    token = world["album_link"].token
    page = anonymous.get(reverse("gallery:shared", args=[token])).content.decode()
    assert "Team album" in page
    for item in (world["team_item"], world["private_item"]):  # the author may see both
        assert anonymous.get(reverse("gallery:shared_file", args=[token, item.id])).status_code == OK


def test_unknown_share_token_is_404(member):
    assert Client().get(reverse("gallery:shared", args=["x" * 43])).status_code == GONE


@pytest.mark.parametrize(("mode", "header"), [("x-accel-redirect", "X-Accel-Redirect"), ("x-sendfile", "X-Sendfile")])
def test_file_transfer_can_be_handed_to_the_front_server(world, member, settings, mode, header):
    settings.FILE_SERVING = mode
    item = world["team_item"]
    response = client_for(member).get(reverse("gallery:asset_file", args=[item.id]))
    assert response.status_code == 200 and response.content == b""
    expected = settings.MEDIA_INTERNAL_URL + item.file.name if mode == "x-accel-redirect" else item.file.path
    assert response[header] == expected
    # Still checked first: someone who may not see it gets nothing to hand over.
    private = world["private_item"]
    assert client_for(None).get(reverse("gallery:asset_file", args=[private.id])).status_code == 302
