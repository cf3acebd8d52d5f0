"""Usage pages: everyone's own spend; for administrators the team's, budgets and approvals."""

from __future__ import annotations

import csv
import datetime
from collections.abc import Iterator

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.roles import administrator_required, is_administrator
from atelier.lookups import get_or_404
from studio import catalogue
from studio.models import Generation
from usage import approvals, budgets, reports
from usage.charts import bar_chart
from usage.forms import AllowanceForm, DenyForm, PersonBudgetForm, TeamBudgetForm, parse_month, person_choices
from usage.models import Allowance, PersonBudget, TeamBudget
from usage.templatetags.usage_tags import money


# --- Usage ------------------------------------------------------------------------------------
def _filters(request: HttpRequest) -> dict:
    """Month, person and model from the query string; a member only ever sees themself."""
    this_month = budgets.month_of()
    month = parse_month(request.GET.get("month")) or this_month
    team_view = is_administrator(request.user)
    person = None
    if not team_view:
        person = request.user
    elif request.GET.get("person"):
        person = get_user_model().objects.filter(username=request.GET["person"]).first()
    model_id = (request.GET.get("model") or "").strip()[:200]
    return {"month": month, "this_month": this_month, "team_view": team_view, "person": person,
            "model_id": model_id}


@login_required
@require_GET
def usage_page(request: HttpRequest) -> HttpResponse:
    filters = _filters(request)
    month, person = filters["month"], filters["person"]
    report = reports.build(month, reports.rows(month, user=person, model_id=filters["model_id"]))
    previous = (month - datetime.timedelta(days=1)).replace(day=1)
    following = (month + datetime.timedelta(days=32)).replace(day=1)
    context = {
        **filters,
        "report": report,
        "chart": bar_chart(report.by_day),
        "month_label": budgets.month_name(month),
        "previous_month": previous,
        "next_month": following if following <= filters["this_month"] else None,
        "status": budgets.person_status(person, month) if person is not None else None,
        "team_status": budgets.team_status(month) if filters["team_view"] and person is None else None,
        "query": _query(filters),
    }
    if filters["team_view"]:
        context.update({
            "people": person_choices(),
            "models": [(spec.id, spec.title) for spec in catalogue.all_models(include_hidden=True)],
            "pending_approvals": approvals.pending().count(),
        })
    return render(request, "usage/usage.html", context)


def _query(filters: dict) -> str:
    from urllib.parse import urlencode

    params = {"month": filters["month"].strftime("%Y-%m")}
    if filters["team_view"] and filters["person"] is not None:
        params["person"] = filters["person"].username
    if filters["model_id"]:
        params["model"] = filters["model_id"]
    return urlencode(params)


class _Echo:
    def write(self, value: str) -> str:
        return value


CSV_HEADER = ["date", "username", "person", "model_id", "model", "jobs", "outputs", "spend", "currency",
              "failed_or_cancelled_jobs"]


@login_required
@require_GET
def usage_csv(request: HttpRequest) -> StreamingHttpResponse:
    """The rows behind the usage page, streamed: the page's tables are sums of these lines."""
    from django.conf import settings

    filters = _filters(request)
    writer = csv.writer(_Echo())
    currency = settings.ATELIER_CURRENCY

    def lines() -> Iterator[str]:
        yield writer.writerow(CSV_HEADER)
        for row in reports.rows(filters["month"], user=filters["person"], model_id=filters["model_id"]):
            yield writer.writerow([row.day.isoformat(), row.username, _safe_cell(row.person), row.model_id,
                                   _safe_cell(row.model_title), row.jobs, row.outputs, f"{row.spend:.4f}",
                                   currency, row.not_billed])

    name = f"atelier-usage-{filters['month']:%Y-%m}.csv"
    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


def _safe_cell(text: str) -> str:
    """Names typed by people must not run as spreadsheet formulas (CSV injection)."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


# --- Budgets ----------------------------------------------------------------------------------
@administrator_required
@require_http_methods(["GET", "POST"])
def budgets_page(request: HttpRequest) -> HttpResponse:
    team = TeamBudget.current()
    form = TeamBudgetForm(request.POST or None, instance=team)
    if request.method == "POST":
        if form.is_valid():
            form.save()
            messages.success(request, _("The team’s budgets are saved."))
            return redirect("usage:budgets")
    return _render_budgets(request, form)


def _render_budgets(request: HttpRequest, team_form: TeamBudgetForm, *, person_errors: dict | None = None
                    ) -> HttpResponse:
    month = budgets.month_of()
    team = TeamBudget.current()
    people = get_user_model().objects.filter(is_active=True).order_by("username")
    own = dict(PersonBudget.objects.values_list("user_id", "monthly_limit"))
    rows = []
    for person in people:
        status = budgets.person_status(person, month)
        rows.append({
            "user": person,
            "status": status,
            "own_limit": own.get(person.pk),
            "allowances": Allowance.objects.filter(user=person, month=month).order_by("created_at"),
            "errors": (person_errors or {}).get(person.username),
        })
    return render(request, "usage/budgets.html", {
        "form": team_form,
        "team": team,
        "team_status": budgets.team_status(month),
        "rows": rows,
        "month_label": budgets.month_name(month),
        "warning_percent": int(budgets.WARNING_FRACTION * 100),
    })


@administrator_required
@require_POST
def set_person_budget(request: HttpRequest, username: str) -> HttpResponse:
    person = _person_or_404(username)
    form = PersonBudgetForm(request.POST)
    if not form.is_valid():
        return _render_budgets(request, TeamBudgetForm(instance=TeamBudget.current()),
                               person_errors={person.username: form.errors})
    PersonBudget.objects.update_or_create(user=person, defaults={"monthly_limit": form.cleaned_data["monthly_limit"]})
    limit = form.cleaned_data["monthly_limit"]
    if limit is None:
        messages.success(request, _("%(name)s now has the team’s default budget.") % {"name": _name(person)})
    else:
        messages.success(request, _("%(name)s’s budget is now %(amount)s a month.")
                         % {"name": _name(person), "amount": money(limit)})
    return redirect("usage:budgets")


@administrator_required
@require_POST
def grant_allowance(request: HttpRequest, username: str) -> HttpResponse:
    person = _person_or_404(username)
    form = AllowanceForm(request.POST)
    if not form.is_valid():
        return _render_budgets(request, TeamBudgetForm(instance=TeamBudget.current()),
                               person_errors={person.username: form.errors})
    month = budgets.month_of()
    Allowance.objects.create(user=person, month=month, amount=form.cleaned_data["amount"],
                             reason=form.cleaned_data["reason"], granted_by=request.user)
    messages.success(request, _("%(name)s has %(amount)s more to spend in %(month)s.")
                     % {"name": _name(person), "amount": money(form.cleaned_data["amount"]),
                        "month": budgets.month_name(month)})
    return redirect("usage:budgets")


def _person_or_404(username: str):
    from django.http import Http404

    person = get_user_model().objects.filter(username=username).first()
    if person is None:
        raise Http404("No such person.")
    return person


def _name(person) -> str:
    return person.get_full_name() or person.get_username()


# --- Approvals --------------------------------------------------------------------------------
@administrator_required
@require_GET
def approvals_page(request: HttpRequest) -> HttpResponse:
    waiting = list(approvals.pending())
    for item in waiting:
        item.status = budgets.person_status(item.generation.user)
    return render(request, "usage/approvals.html", {"waiting": waiting, "deny_form": DenyForm(),
                                                    "team": TeamBudget.current()})


@administrator_required
@require_POST
def approve(request: HttpRequest, generation_id: str) -> HttpResponse:
    generation = _waiting_or_404(generation_id)
    try:
        approvals.approve(generation, request.user)
    except (approvals.ApprovalError, budgets.BudgetRefused) as problem:
        messages.error(request, str(problem))
    else:
        messages.success(request, _("Approved: %(name)s’s job is on its way.") % {"name": _name(generation.user)})
    return redirect("usage:approvals")


@administrator_required
@require_POST
def deny(request: HttpRequest, generation_id: str) -> HttpResponse:
    generation = _waiting_or_404(generation_id)
    form = DenyForm(request.POST)
    reason = form.cleaned_data["reason"] if form.is_valid() else ""
    try:
        approvals.deny(generation, request.user, reason)
    except approvals.ApprovalError as problem:
        messages.error(request, str(problem))
    else:
        messages.success(request, _("Denied. %(name)s sees your reason on the job.") % {"name": _name(generation.user)})
    return redirect("usage:approvals")


def _waiting_or_404(generation_id: str) -> Generation:
    return get_or_404(Generation.objects.select_related("user", "charge"), generation_id, "No such job.")
