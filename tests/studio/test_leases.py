"""Several trackers (and workers) on several machines: each job collected by one of them, and
the jobs of one that died handed on."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.utils import timezone

from studio import jobs
from studio.leases import LeaseKeeper
from studio.models import Generation
from tests.studio.conftest import make_generation

pytestmark = pytest.mark.django_db
State = Generation.State


def completed_job(member, fal_service) -> Generation:
    """A job the service has finished; the tracker has not looked yet."""
    generation = make_generation(member, "fal-ai/flux-1/dev", {"prompt": "done [sim: queue=0, run=0]"})
    jobs.submit(str(generation.id))
    time.sleep(0.1)
    return generation


def test_a_job_waiting_for_its_collector_is_not_claimed_by_another_tracker(fal_service, member):
    generation = completed_job(member, fal_service)
    waiting = []
    [claimed] = jobs.claim_due_rows()
    jobs.check(str(generation.id), claimed=claimed, collect_with=waiting.append)  # collectors all busy
    assert [g.id for g in waiting] == [generation.id]
    time.sleep(0.1)  # several poll intervals later…
    assert jobs.claim_due() == []  # …no other tracker starts collecting it too


def taken_over(member, fal_service) -> tuple[Generation, Generation]:
    """A finished job our tracker waited to collect while another tracker took it over: (ours, theirs)."""
    generation = completed_job(member, fal_service)
    waiting = []
    [claimed] = jobs.claim_due_rows()
    jobs.check(str(generation.id), claimed=claimed, collect_with=waiting.append)
    # Our tracker stalled past the lease; another one claimed the job meanwhile.
    Generation.objects.filter(id=generation.id).update(next_check_at=timezone.now())
    [theirs] = jobs.claim_due_rows()
    return waiting[0], theirs


def test_a_collector_that_lost_its_lease_leaves_the_job_to_the_one_that_took_it(fal_service, member):
    mine, theirs = taken_over(member, fal_service)
    keeper = LeaseKeeper()
    assert keeper.take(mine) is False
    assert keeper.take(theirs) is True
    keeper.release(theirs)
    keeper.stop()


@pytest.mark.django_db(transaction=True)
def test_the_lease_is_renewed_while_collecting_and_lapses_when_the_tracker_is_gone(fal_service, member):
    generation = completed_job(member, fal_service)
    waiting = []
    [claimed] = jobs.claim_due_rows()
    jobs.check(str(generation.id), claimed=claimed, collect_with=waiting.append)
    keeper = LeaseKeeper(lease=timedelta(seconds=0.6))
    assert keeper.take(waiting[0])
    time.sleep(1.0)  # longer than the lease: only the renewals keep it ours
    assert jobs.claim_due() == []
    keeper.stop()  # the tracker dies: nobody renews
    time.sleep(0.8)
    assert jobs.claim_due() == [str(generation.id)]


def test_a_collector_that_reads_another_trackers_lease_leaves_the_job_to_it(fal_service, member):
    mine, theirs = taken_over(member, fal_service)
    current = Generation.objects.get(id=theirs.id).next_check_at  # what each collector reads
    keeper = LeaseKeeper()
    assert keeper.take(mine, current) is False
    assert keeper.take(theirs, current) is True
    keeper.release(theirs)
    keeper.stop()
