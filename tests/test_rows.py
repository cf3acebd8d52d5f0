"""A row read by a prepared statement is the row the ORM reads, field for field."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.sessions.models import Session
from django.utils import timezone

from atelier.rows import RowQuery
from studio.models import Generation
from tests.studio.conftest import make_generation

pytestmark = pytest.mark.django_db


def fields_of(instance) -> dict:
    return {field.attname: field.value_from_object(instance) for field in instance._meta.concrete_fields}


def test_a_job_read_by_id_and_owner_equals_the_orms(member, outsider):
    generation = make_generation(member, "fal-ai/flux-1/dev", {"prompt": "a lighthouse", "image_size": "square"},
                                 state=Generation.State.RUNNING, logs=[{"message": "step 1 of 28"}],
                                 started_at=timezone.now())
    own_job = RowQuery(Generation, "id", "user")
    found = own_job.get(generation.id, member.pk)
    assert fields_of(found) == fields_of(Generation.objects.get(id=generation.id))
    assert found._state.adding is False and found._state.db == "default"
    assert own_job.get(generation.id, outsider.pk) is None  # someone else's job is not found


def test_an_expired_session_is_not_read():
    live = RowQuery(Session, "session_key", "expire_date__gt")
    Session.objects.create(session_key="k" * 32, session_data="data", expire_date=timezone.now() + timedelta(days=1))
    assert live.get("k" * 32, timezone.now()).session_data == "data"
    assert live.get("k" * 32, timezone.now() + timedelta(days=2)) is None
    assert live.get("unknown", timezone.now()) is None
