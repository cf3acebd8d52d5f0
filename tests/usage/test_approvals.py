"""Jobs above the per-job limit wait for an administrator, who approves (sent) or denies (told why)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse
from django_tasks_db.models import DBTaskResult

from studio.models import Generation
from usage.models import ApprovalRequest, PersonBudget, TeamBudget

pytestmark = pytest.mark.django_db
State = Generation.State
VEO = "fal-ai/veo3"


@pytest.fixture
def approval_limit():
    return TeamBudget.objects.create(pk=1, approval_threshold=Decimal("2.00"))


def ask_for_video(client, token: str = "token-video-0001", duration: str = "8s"):
    return client.post(reverse("studio:generate", args=[VEO]), {
        "client_token": token, "prompt": "waves at night", "aspect_ratio": "16:9", "duration": duration,
        "resolution": "720p", "generate_audio": "on", "safety_tolerance": "4", "auto_fix": "on"})


def submit_tasks() -> int:
    """Jobs on their way to fal: by a submit task, or (no input images) by the tracker's sender."""
    from studio import jobs

    return (DBTaskResult.objects.filter(task_path="studio.tasks.submit_generation").count()
            + len(jobs.sendable_by_tracker(10)))


def test_a_job_above_the_limit_waits_and_is_not_sent(approval_limit, member_client, member,
                                                     django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        page = member_client.get(reverse("studio:generate", args=[VEO])).content.decode()
        assert "Ask for approval" in page and "wait for an administrator’s approval" in page
        assert ask_for_video(member_client).status_code == 302
    generation = Generation.objects.get(user=member)
    assert generation.state == State.AWAITING_APPROVAL and submit_tasks() == 0
    card = member_client.get(reverse("studio:job_card", args=[generation.id])).content.decode()
    assert "Waiting for approval" in card and "estimated at $3.20" in card and "every 10s" in card


def test_a_job_below_the_limit_is_sent_at_once(approval_limit, member_client, member,
                                               django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        ask_for_video(member_client, duration="4s")  # $1.60
    assert Generation.objects.get(user=member).state == State.SUBMITTING and submit_tasks() == 1


def test_approval_sends_the_job(approval_limit, member_client, member, administrator_client,
                                django_capture_on_commit_callbacks):
    ask_for_video(member_client)
    generation = Generation.objects.get(user=member)
    page = administrator_client.get(reverse("usage:approvals")).content.decode()
    assert "Veo 3" in page and "$3.20" in page and "waves at night" in page
    with django_capture_on_commit_callbacks(execute=True):
        response = administrator_client.post(reverse("usage:approve", args=[generation.id]))
    assert response.status_code == 302
    generation.refresh_from_db()
    assert generation.state == State.SUBMITTING and submit_tasks() == 1
    assert ApprovalRequest.objects.get(generation=generation).decision == "approved"
    assert "Nothing is waiting for approval." in administrator_client.get(reverse("usage:approvals")).content.decode()


def test_denial_tells_the_person_why_and_costs_nothing(approval_limit, member_client, member, administrator_client):
    ask_for_video(member_client)
    generation = Generation.objects.get(user=member)
    administrator_client.post(reverse("usage:deny", args=[generation.id]), {"reason": "use 4 seconds for drafts"})
    generation.refresh_from_db()
    assert generation.state == State.FAILED and generation.error_type == "not_approved"
    card = member_client.get(reverse("studio:job_card", args=[generation.id])).content.decode()
    assert "An administrator did not approve this job: use 4 seconds for drafts" in card
    assert "it cost nothing" in card
    assert submit_tasks() == 0
    usage = member_client.get(reverse("usage:usage")).content.decode()
    assert 'id="total-spend" data-amount="0' in usage


def test_approval_still_respects_the_budget(approval_limit, member_client, member, administrator_client):
    ask_for_video(member_client)
    generation = Generation.objects.get(user=member)
    PersonBudget.objects.update_or_create(user=member, defaults={"monthly_limit": Decimal("1.00")})
    response = administrator_client.post(reverse("usage:approve", args=[generation.id]), follow=True)
    assert "only $1.00 is left" in response.content.decode()
    generation.refresh_from_db()
    assert generation.state == State.AWAITING_APPROVAL


def test_the_person_can_withdraw_a_waiting_job(approval_limit, member_client, member, administrator_client):
    ask_for_video(member_client)
    generation = Generation.objects.get(user=member)
    member_client.post(reverse("studio:cancel_job", args=[generation.id]))
    generation.refresh_from_db()
    assert generation.state == State.CANCELLED
    response = administrator_client.post(reverse("usage:approve", args=[generation.id]), follow=True)
    assert "no longer waiting" in response.content.decode()
    assert submit_tasks() == 0


def test_administrators_jobs_need_no_approval(approval_limit, administrator_client, administrator):
    ask_for_video(administrator_client)
    assert Generation.objects.get(user=administrator).state == State.SUBMITTING


def test_approvals_are_for_administrators_only(approval_limit, member_client, member):
    ask_for_video(member_client)
    generation = Generation.objects.get(user=member)
    assert member_client.get(reverse("usage:approvals")).status_code == 404
    assert member_client.post(reverse("usage:approve", args=[generation.id])).status_code == 404
    generation.refresh_from_db()
    assert generation.state == State.AWAITING_APPROVAL
