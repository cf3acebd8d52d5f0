"""Helpers for usage tests: jobs with a known cost, in a known state, on a known day."""

from __future__ import annotations

import itertools
from decimal import Decimal

import pytest
from django.utils import timezone

from studio.models import Generation
from usage.models import Charge

_tokens = itertools.count()


def make_job(user, *, cost: str = "0.10", state: str = Generation.State.DONE, model_id: str = "fal-ai/flux-1/dev",
             title: str = "FLUX.1 [dev]", outputs: int = 1, reported: str | None = None, created_at=None
             ) -> Generation:
    """A generation and its charge, as if it had run (no upstream involved)."""
    created_at = created_at or timezone.now()
    generation = Generation.objects.create(
        user=user, model_id=model_id, model_title=title, kind="text-to-image", arguments={"prompt": "x"},
        prompt="x", client_token=f"job-{next(_tokens)}", state=state, created_at=created_at)
    Charge.objects.create(generation=generation, user=user, model_id=model_id, model_title=title,
                          created_at=created_at, estimated_cost=Decimal(cost),
                          reported_cost=Decimal(reported) if reported is not None else None,
                          outputs=outputs if state == Generation.State.DONE else 0)
    return generation


@pytest.fixture
def job():
    return make_job
