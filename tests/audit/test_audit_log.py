"""The audit log: every administrator action and share-link change, by whom, never a secret."""

from __future__ import annotations

import pytest
from django.contrib.admin.models import LogEntry
from django.test import Client
from django.urls import reverse

from audit.models import AppendOnlyError, AuditEvent
from gallery.models import Album, ShareLink

pytestmark = pytest.mark.django_db
Action = AuditEvent.Action


def only_event(action: str) -> AuditEvent:
    events = list(AuditEvent.objects.filter(action=action))
    assert len(events) == 1, f"expected one {action} event, found {len(events)}"
    return events[0]


# --- Team page actions -----------------------------------------------------------------------
def test_team_page_actions_are_recorded_with_their_administrator(administrator_client, administrator, member):
    administrator_client.post("/team/add/", {"username": "nora", "name": "Nora Quill", "role": "viewer"},
                              REMOTE_ADDR="203.0.113.7")
    administrator_client.post(f"/team/people/{member.username}/role/", {"role": "viewer"})
    administrator_client.post(f"/team/people/{member.username}/deactivate/")
    administrator_client.post(f"/team/people/{member.username}/reactivate/")
    administrator_client.post(f"/team/people/{member.username}/link/")

    added = only_event(Action.PERSON_ADDED)
    assert (added.actor, added.actor_name, added.target) == (administrator, "ada", "Nora Quill (nora)")
    assert added.details == {"role": "viewer", "link_issued": True}
    assert added.ip_address == "203.0.113.7"
    role = only_event(Action.ROLE_CHANGED)
    assert role.actor == administrator and role.target == "mina" and role.details == {"from": "member", "to": "viewer"}
    for action in (Action.PERSON_DEACTIVATED, Action.PERSON_REACTIVATED, Action.LINK_ISSUED):
        event = only_event(action)
        assert event.actor == administrator and event.target == "mina"


def test_the_set_password_link_itself_is_never_recorded(administrator_client, member):
    page = administrator_client.post(f"/team/people/{member.username}/link/", follow=True).content.decode()
    link = page.split('id="one-time-link"')[1].split('value="')[1].split('"')[0]
    token = link.rstrip("/").rsplit("/", 1)[-1]
    stored = " ".join(f"{event.target} {event.details}" for event in AuditEvent.objects.all())
    assert token and token not in stored and "welcome" not in stored


def test_refused_changes_are_not_recorded(administrator_client, administrator):
    administrator_client.post(f"/team/people/{administrator.username}/deactivate/")  # oneself: refused
    administrator_client.post(f"/team/people/{administrator.username}/role/", {"role": "viewer"})
    assert not AuditEvent.objects.exists()


# --- Share links and visibility -------------------------------------------------------------
def test_share_links_made_and_withdrawn_are_recorded_without_their_token(member_client, member, make_item):
    item = make_item(member)
    member_client.post(reverse("gallery:share_asset", args=[item.id]), {"expires_in": "7", "allow_download": "on"})
    link = ShareLink.objects.get()
    member_client.post(reverse("gallery:revoke_share", args=[link.pk]))
    member_client.post(reverse("gallery:revoke_share", args=[link.pk]))  # already withdrawn: nothing new

    created = only_event(Action.SHARE_CREATED)
    assert created.actor == member and created.target == f"Item {item.id}"
    assert created.details["link_id"] == link.pk and created.details["allow_download"] is True
    assert created.details["token_prefix"] == link.token[:6]
    withdrawn = only_event(Action.SHARE_WITHDRAWN)
    assert withdrawn.actor == member and withdrawn.details["link_id"] == link.pk
    for event in AuditEvent.objects.all():
        assert link.token not in f"{event.target} {event.details}"


def test_album_share_links_and_visibility_changes_are_recorded(member_client, member, make_item):
    album = Album.objects.create(owner=member, name="Harbour", visibility="private")
    member_client.post(reverse("gallery:album_share", args=[album.id]), {})
    member_client.post(reverse("gallery:album_edit", args=[album.id]),
                       {"name": "Harbour", "description": "", "visibility": "team"})
    item = make_item(member)
    member_client.post(reverse("gallery:change_visibility", args=[item.id]), {"visibility": "private"})

    shared = only_event(Action.SHARE_CREATED)
    assert shared.actor == member and "Harbour" in shared.target
    album_change = only_event(Action.ALBUM_VISIBILITY)
    assert album_change.details == {"from": "private", "to": "team"}
    item_change = only_event(Action.ITEM_VISIBILITY)
    assert item_change.actor == member and item_change.details["to"] == "private"


# --- The Django admin -----------------------------------------------------------------------
def test_catalogue_changes_in_the_admin_are_recorded(administrator_client, administrator):
    response = administrator_client.post("/admin/studio/catalogueentry/add/", {
        "model_id": "fal-ai/flux-1/schnell", "hidden": "on", "title": "", "description": "",
        "kind": "", "output": "", "fields": "[]",
        # The price inline (usage app), left empty.
        "price-TOTAL_FORMS": "0", "price-INITIAL_FORMS": "0", "price-MIN_NUM_FORMS": "0", "price-MAX_NUM_FORMS": "1",
    }, REMOTE_ADDR="198.51.100.4")
    assert response.status_code == 302, response.content.decode()[:2000]
    event = only_event(Action.ADMIN_ADDED)
    assert event.actor == administrator and "fal-ai/flux-1/schnell" in event.target
    assert event.details["model"] == "studio.catalogueentry" and event.ip_address == "198.51.100.4"


def test_bulk_deletions_in_the_admin_are_recorded(administrator_client, administrator):
    from studio.models import CatalogueEntry

    entries = [CatalogueEntry.objects.create(model_id=f"fal-ai/some/model-{n}", hidden=True) for n in range(3)]
    response = administrator_client.post("/admin/studio/catalogueentry/", {
        "action": "delete_selected", "post": "yes", "_selected_action": [entry.pk for entry in entries]})
    assert response.status_code == 302
    assert LogEntry.objects.count() == 3
    deleted = AuditEvent.objects.filter(action=Action.ADMIN_DELETED)
    assert deleted.count() == 3 and {event.actor for event in deleted} == {administrator}


# --- Who may read it, and that it stays as written ------------------------------------------
def test_administrators_read_the_log_newest_first_filtered_and_paged(administrator_client, administrator, member):
    for number in range(60):
        AuditEvent.objects.create(actor=member, actor_name="mina", action=Action.SHARE_CREATED, target=f"Item {number}")
    AuditEvent.objects.create(actor=administrator, actor_name="ada", action=Action.PERSON_ADDED, target="Nora (nora)")

    first = administrator_client.get("/team/audit/").content.decode()
    assert first.index("Nora (nora)") < first.index("Item 59") and "Page 1 of 2" in first
    assert "Item 0<" not in first  # the oldest are on page 2
    assert "Item 0<" in administrator_client.get("/team/audit/?page=2").content.decode()
    by_ada = administrator_client.get("/team/audit/?person=ada").content.decode()
    assert "Nora (nora)" in by_ada and "Item 59" not in by_ada
    shares = administrator_client.get("/team/audit/?action=share.created").content.decode()
    assert "Item 59" in shares and "Nora (nora)" not in shares


@pytest.mark.parametrize("who", ["member_client", "viewer_client"])
def test_members_and_viewers_cannot_see_the_log(request, who, administrator):
    AuditEvent.objects.create(actor=administrator, actor_name="ada", action=Action.PERSON_ADDED, target="Nora (nora)")
    response = request.getfixturevalue(who).get("/team/audit/")
    assert response.status_code == 404
    assert "Nora" not in response.content.decode()
    anonymous = Client().get("/team/audit/")
    assert anonymous.status_code == 302 and anonymous["Location"].startswith("/login/")


def test_events_cannot_be_changed_or_removed_through_the_admin(administrator_client, administrator):
    event = AuditEvent.objects.create(actor=administrator, actor_name="ada", action=Action.PERSON_ADDED,
                                      target="Nora (nora)")
    change_url = f"/admin/audit/auditevent/{event.pk}/change/"
    assert administrator_client.get(change_url).status_code == 200  # readable
    assert administrator_client.post(change_url, {"target": "someone else"}).status_code == 403
    assert administrator_client.post(f"/admin/audit/auditevent/{event.pk}/delete/", {"post": "yes"}).status_code == 403
    assert administrator_client.get("/admin/audit/auditevent/add/").status_code == 403
    bulk = administrator_client.post("/admin/audit/auditevent/", {
        "action": "delete_selected", "post": "yes", "_selected_action": [event.pk]})
    assert bulk.status_code in (200, 302, 403)
    event.refresh_from_db()
    assert event.target == "Nora (nora)"


def test_events_refuse_changes_in_code_too(administrator):
    event = AuditEvent.objects.create(actor=administrator, actor_name="ada", action=Action.PERSON_ADDED, target="x")
    event.target = "y"
    with pytest.raises(AppendOnlyError):
        event.save()
    with pytest.raises(AppendOnlyError):
        event.delete()
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.filter(pk=event.pk).update(target="y")
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.all().delete()
    assert AuditEvent.objects.get().target == "x"
