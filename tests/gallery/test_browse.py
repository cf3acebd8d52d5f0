"""The grid: filters in the URL, prompt search, cursor pages without duplicates or gaps."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from gallery.actions import add_to_album, toggle_favourite
from gallery.browse import PAGE_SIZE
from gallery.models import Album

pytestmark = pytest.mark.django_db
TILE = re.compile(r'name="ids" value="([0-9a-f-]{36})"')


def grid_ids(client, query: str = "") -> list[str]:
    response = client.get(reverse("gallery:index") + (f"?{query}" if query else ""))
    assert response.status_code == 200
    return TILE.findall(response.content.decode())


def test_newest_first_with_model_and_age(member_client, member, make_item):
    old = make_item(member, "old", minutes_ago=60)
    new = make_item(member, "new", minutes_ago=1)
    page = member_client.get(reverse("gallery:index")).content.decode()
    assert grid_ids(member_client) == [str(new.id), str(old.id)]
    assert "flux-1/dev" in page and "ago" in page


def test_mine_versus_the_team(member_client, member, outsider, make_item):
    mine = make_item(member)
    theirs = make_item(outsider)
    assert set(grid_ids(member_client)) == {str(mine.id), str(theirs.id)}
    assert grid_ids(member_client, "scope=mine") == [str(mine.id)]


def test_filter_by_model_kind_and_dates(member_client, member, make_item):
    flux = make_item(member, model_id="fal-ai/flux-1/dev", minutes_ago=3 * 24 * 60)
    video = make_item(member, model_id="fal-ai/veo3", kind="video", minutes_ago=5)
    assert grid_ids(member_client, "model=fal-ai/veo3") == [str(video.id)]
    assert grid_ids(member_client, "kind=image") == [str(flux.id)]
    assert grid_ids(member_client, "kind=video") == [str(video.id)]
    # The item's own day, not today's: five minutes ago may be yesterday just after midnight.
    video_day = timezone.localdate(video.created_at)
    assert grid_ids(member_client, f"date_from={video_day.isoformat()}") == [str(video.id)]
    assert grid_ids(member_client, f"date_to={(video_day - timedelta(days=2)).isoformat()}") == [str(flux.id)]


def test_bad_date_is_explained_not_fatal(member_client, member, make_item):
    make_item(member)
    response = member_client.get(reverse("gallery:index") + "?date_from=yesterday&album=nope")
    page = response.content.decode()
    assert response.status_code == 200
    assert "must be a date" in page and "album does not exist" in page
    assert len(TILE.findall(page)) == 1


def test_favourites_are_personal(member_client, outsider_client, member, outsider, make_item):
    liked = make_item(member)
    make_item(member)
    toggle_favourite(member, liked)
    assert grid_ids(member_client, "favourites=1") == [str(liked.id)]
    assert grid_ids(outsider_client, "favourites=1") == []


def test_filter_by_album(member_client, member, make_item):
    kept = make_item(member)
    make_item(member)
    album = Album.objects.create(owner=member, name="Mood board")
    add_to_album(album, [kept])
    assert grid_ids(member_client, f"album={album.id}") == [str(kept.id)]


@pytest.mark.parametrize(("query", "expected"), [
    ("harbour", {"harbour"}),
    ("HARB", {"harbour"}),  # prefix, any case
    ("lighthouse storm", {"storm"}),  # every word
    ("café", {"café"}),
    ('"; DROP TABLE x; --', set()),  # operators are not syntax
])
def test_prompt_search(member_client, member, make_item, query, expected):
    items = {
        "harbour": make_item(member, "a quiet harbour at dawn"),
        "storm": make_item(member, "a lighthouse in a storm"),
        "sun": make_item(member, "a lighthouse in the sun"),
        "café": make_item(member, "un café à Paris"),
    }
    found = set(grid_ids(member_client, f"q={query}"))
    assert found == {str(items[name].id) for name in expected}


def test_search_follows_prompt_changes_and_deletions(member_client, member, make_item):
    item = make_item(member, "a red balloon")
    item.generation.prompt = "a blue kite"
    item.generation.save(update_fields=["prompt"])
    assert grid_ids(member_client, "q=balloon") == []
    assert grid_ids(member_client, "q=kite") == [str(item.id)]


def test_cursor_pages_have_no_duplicates_or_gaps_while_new_items_arrive(member_client, member, make_item):
    items = [make_item(member, f"item {n}", minutes_ago=n) for n in range(PAGE_SIZE + 10)]
    first = member_client.get(reverse("gallery:index")).content.decode()
    first_ids = TILE.findall(first)
    assert first_ids == [str(item.id) for item in items[:PAGE_SIZE]]
    for n in range(5):  # new work lands while someone scrolls
        make_item(member, f"newer {n}", minutes_ago=-1 - n)
    next_url = re.search(r'hx-get="([^"]+after=[^"]+)"', first).group(1).replace("&amp;", "&")
    second = member_client.get(next_url, headers={"HX-Request": "true"}).content.decode()
    second_ids = TILE.findall(second)
    assert second_ids == [str(item.id) for item in items[PAGE_SIZE:]]
    assert "hx-get" not in second  # the end
    assert "<html" not in second  # only the tiles


def test_filters_survive_in_the_next_page_link(member_client, member, make_item):
    for n in range(PAGE_SIZE + 1):
        make_item(member, f"lighthouse {n}")
    page = member_client.get(reverse("gallery:index") + "?q=lighthouse&kind=image").content.decode()
    next_url = re.search(r'hx-get="([^"]+)"', page).group(1).replace("&amp;", "&")
    assert "q=lighthouse" in next_url and "kind=image" in next_url


def test_empty_states_say_what_to_do(member_client, member, make_item):
    assert "Everything you generate in the Studio is kept here" in member_client.get(reverse("gallery:index")).content.decode()
    make_item(member, "something")
    assert "Nothing matches these filters" in member_client.get(reverse("gallery:index") + "?q=zebra").content.decode()


def test_nsfw_items_are_marked_for_blurring(member_client, member, make_item):
    make_item(member, nsfw=True)
    assert "tile__link--nsfw" in member_client.get(reverse("gallery:index")).content.decode()
