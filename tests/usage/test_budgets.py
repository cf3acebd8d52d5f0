"""Budgets: warning at 80 %, Generate refused at 100 %, lifted by an administrator; what counts as spend."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from studio import jobs
from studio.models import Generation
from tests.studio.conftest import drive, fal_service, upstream_sleeps  # noqa: F401  (fixtures)
from usage import budgets
from usage.costs import reported_cost
from usage.models import Allowance, Charge, PersonBudget, TeamBudget

pytestmark = pytest.mark.django_db
State = Generation.State
FLUX = "fal-ai/flux-1/dev"


def generate(client, model_id: str = FLUX, token: str = "token-12345678", **fields):
    data = {"client_token": token, "prompt": "a lighthouse", "image_size": "landscape_4_3", "num_images": "1",
            **fields}
    return client.post(reverse("studio:generate", args=[model_id]), data)


def test_failed_and_cancelled_jobs_are_not_spend(member, job):
    job(member, cost="1.00")
    job(member, cost="2.00", state=State.FAILED)
    job(member, cost="4.00", state=State.CANCELLED)
    job(member, cost="8.00", state=State.RUNNING)  # in flight: counted at its estimate
    job(member, cost="16.00", state=State.AWAITING_APPROVAL)  # not sent yet
    assert budgets.spend(budgets.month_of(), user=member) == Decimal("9.00")


def test_the_reported_cost_replaces_the_estimate(member, job):
    job(member, cost="1.00", reported="0.25")
    assert budgets.spend(budgets.month_of(), user=member) == Decimal("0.25")


def test_last_months_jobs_do_not_count(member, job):
    job(member, cost="5.00", created_at=timezone.now() - timezone.timedelta(days=40))
    assert budgets.spend(budgets.month_of(), user=member) == Decimal("0")


def test_generate_is_refused_when_the_budget_is_used_up(member_client, member, job):
    PersonBudget.objects.create(user=member, monthly_limit=Decimal("1.00"))
    job(member, cost="1.00")
    response = generate(member_client)
    page = response.content.decode()
    assert response.status_code == 200
    assert "You have used your whole budget for" in page and "($1.00)" in page
    assert "An administrator can raise your budget or grant a one-off allowance." in page
    assert Generation.objects.filter(user=member).count() == 1
    assert not DBTaskResult.objects.exists()


def test_a_job_bigger_than_what_is_left_is_refused_with_the_figures(member_client, member, job):
    PersonBudget.objects.create(user=member, monthly_limit=Decimal("1.00"))
    job(member, cost="0.95")
    page = generate(member_client, num_images="4").content.decode()
    assert "This job would cost about $0.10, but only $0.05 is left of your $1.00 budget" in page
    assert generate(member_client, num_images="2", token="token-87654321").status_code == 302  # $0.05 fits


def test_the_button_warns_at_80_percent_and_stops_at_100(member_client, member, job):
    PersonBudget.objects.create(user=member, monthly_limit=Decimal("10.00"))
    job(member, cost="8.50")
    page = member_client.get(reverse("studio:generate", args=[FLUX])).content.decode()
    assert "You have used over 80% of your budget." in page and "cost-note--warning" in page
    job(member, cost="1.50")
    page = member_client.get(reverse("studio:generate", args=[FLUX])).content.decode()
    assert "You have used your whole budget" in page
    assert 'type="submit" class="button button--primary" disabled' in page


def test_an_allowance_or_a_higher_budget_lifts_the_stop(member_client, member, administrator_client, job):
    PersonBudget.objects.create(user=member, monthly_limit=Decimal("1.00"))
    job(member, cost="1.00")
    assert "whole budget" in generate(member_client).content.decode()

    response = administrator_client.post(reverse("usage:grant_allowance", args=[member.username]),
                                         {"amount": "0.50", "reason": "campaign launch"})
    assert response.status_code == 302
    assert Allowance.objects.get(user=member).amount == Decimal("0.50")
    assert generate(member_client, token="token-allowance").status_code == 302

    response = administrator_client.post(reverse("usage:set_person_budget", args=[member.username]),
                                         {"monthly_limit": "50"})
    assert response.status_code == 302
    assert PersonBudget.objects.get(user=member).monthly_limit == Decimal("50")
    assert budgets.person_status(member).limit == Decimal("50.50")


def test_the_team_budget_stops_everyone(member_client, member, administrator, job):
    TeamBudget.objects.create(pk=1, monthly_limit=Decimal("2.00"))
    job(administrator, cost="2.00")
    page = generate(member_client).content.decode()
    assert "The team’s budget for" in page and "is used up" in page
    assert not Generation.objects.filter(user=member).exists()


def test_the_default_per_person_budget_applies_without_one_of_their_own(member, job):
    TeamBudget.objects.create(pk=1, default_person_limit=Decimal("3.00"))
    job(member, cost="2.70")
    status = budgets.person_status(member)
    assert status.limit == Decimal("3.00") and status.warning and not status.exhausted


def test_retry_goes_through_the_budget_too(member_client, member, job):
    PersonBudget.objects.create(user=member, monthly_limit=Decimal("0.10"))
    failed = job(member, cost="0.10", state=State.FAILED, model_id=FLUX)
    failed.arguments = {"prompt": "x", "num_images": 4, "image_size": "square_hd"}  # $0.10
    failed.save()
    job(member, cost="0.05")
    response = member_client.post(reverse("studio:retry_job", args=[failed.id]), headers={"HX-Request": "true"})
    assert response.status_code == 200 and "only $0.05 is left" in response.content.decode()
    assert Generation.objects.filter(user=member).count() == 2


def test_budget_pages_are_for_administrators_only(member_client, administrator_client, member):
    assert member_client.get(reverse("usage:budgets")).status_code == 404
    assert member_client.post(reverse("usage:grant_allowance", args=[member.username]), {"amount": "5"}).status_code == 404
    page = administrator_client.get(reverse("usage:budgets")).content.decode()
    assert "Team budget per month" in page and member.username in page


def test_bad_budget_amounts_are_explained(administrator_client, member):
    response = administrator_client.post(reverse("usage:set_person_budget", args=[member.username]),
                                         {"monthly_limit": "ten"})
    assert response.status_code == 200 and "Enter an amount such as 25 or 12.50." in response.content.decode()
    response = administrator_client.post(reverse("usage:grant_allowance", args=[member.username]), {"amount": "0"})
    assert "An allowance must be more than zero." in response.content.decode()
    response = administrator_client.post(reverse("usage:budgets"), {"monthly_limit": "-3"})
    assert "The amount cannot be below zero." in response.content.decode()


# --- Recording against the (simulated) service ---------------------------------------------------
def test_a_finished_job_records_its_outputs_and_estimate(fal_service, member, member_client,  # noqa: F811
                                                          django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        generate(member_client, num_images="2")
    generation = drive(Generation.objects.get(user=member))
    assert generation.state == State.DONE
    charge = Charge.objects.get(generation=generation)
    assert charge.estimated_cost == Decimal("0.05") and charge.outputs == 2 and charge.reported_cost is None
    assert budgets.spend(budgets.month_of(), user=member) == Decimal("0.05")


def test_a_job_the_service_fails_is_recorded_but_not_spent(fal_service, member, member_client,  # noqa: F811
                                                           django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        generate(member_client, prompt="a lighthouse [sim: fail]")
    generation = drive(Generation.objects.get(user=member))
    assert generation.state == State.FAILED
    assert Charge.objects.get(generation=generation).estimated_cost == Decimal("0.025")
    assert budgets.spend(budgets.month_of(), user=member) == Decimal("0")


def test_a_cost_the_service_reports_is_kept(fal_service, member, member_client, monkeypatch,  # noqa: F811
                                            django_capture_on_commit_callbacks):
    real_result = jobs.get_client().result

    def result_with_usage(handle):
        return {**real_result(handle), "usage": {"cost": 0.0213}}

    monkeypatch.setattr(jobs.get_client(), "result", result_with_usage)
    with django_capture_on_commit_callbacks(execute=False):
        generate(member_client)
    generation = drive(Generation.objects.get(user=member))
    assert Charge.objects.get(generation=generation).reported_cost == Decimal("0.0213")
    assert budgets.spend(budgets.month_of(), user=member) == Decimal("0.0213")


@pytest.mark.parametrize("result, expected", [
    ({"cost": 0.5}, Decimal("0.5")), ({"usage": {"total_cost": "0.125"}}, Decimal("0.125")),
    ({"billing": {"amount": 2}}, Decimal("2")), ({"usage": {"cost": -1}}, None), ({"cost": True}, None),
    ({"cost": "NaN"}, None), ({"usage": "cheap"}, None), ({}, None), (None, None),
])
def test_reported_costs_are_read_carefully(result, expected):
    assert reported_cost(result) == expected
