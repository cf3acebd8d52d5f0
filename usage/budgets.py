"""Monthly spend against budgets, and the decision taken at every Generate.

Spend is the sum over a month's charges of the reported cost, or the estimate where the
service reported none, for every job that is not failed, cancelled or still waiting for
approval (upstream does not bill failures; jobs in flight count at their estimate, so
twenty quick clicks cannot slip past a budget before the first one finishes).

`decide()` runs inside the transaction that creates the job. It locks the person's budget
row (and the team's, when the team has a limit) with SELECT … FOR UPDATE on PostgreSQL; on
SQLite the settings open every transaction with BEGIN IMMEDIATE, which serialises writers.
Either way the spend it reads includes every job committed before it, and the job it allows
is written before the lock is released.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Q, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from accounts.roles import is_administrator
from studio.models import Generation
from usage.models import Allowance, Charge, PersonBudget, TeamBudget
from usage.pricing import MONEY_PLACES

WARNING_FRACTION = Decimal("0.8")
ZERO = Decimal(0)
# Jobs whose charge is not spend: the service did not bill them, or they were never sent.
NOT_SPENT_STATES = (Generation.State.FAILED, Generation.State.CANCELLED, Generation.State.AWAITING_APPROVAL)
NOT_BILLED_STATES = (Generation.State.FAILED, Generation.State.CANCELLED)
SPENT = ~Q(generation__state__in=NOT_SPENT_STATES)
NOT_BILLED = Q(generation__state__in=NOT_BILLED_STATES)
COST = Coalesce("reported_cost", "estimated_cost")


class BudgetRefused(Exception):
    """Generate is refused: the message says why and who can lift it."""


# --- Months ---------------------------------------------------------------------------------
def month_of(moment: datetime.datetime | None = None) -> datetime.date:
    """The first day of the month of `moment` (now), in the configured time zone."""
    local = timezone.localtime(moment or timezone.now())
    return local.date().replace(day=1)


def month_bounds(month: datetime.date) -> tuple[datetime.datetime, datetime.datetime]:
    """The first instant of the month and of the next, as aware datetimes."""
    start = timezone.make_aware(datetime.datetime(month.year, month.month, 1))
    following = (month.replace(day=28) + datetime.timedelta(days=4)).replace(day=1)
    return start, timezone.make_aware(datetime.datetime(following.year, following.month, 1))


def month_name(month: datetime.date) -> str:
    return date_format(month, "F Y")


# --- Spend and limits -------------------------------------------------------------------------
def spend(month: datetime.date, *, user=None) -> Decimal:
    start, end = month_bounds(month)
    charges = Charge.objects.filter(SPENT, created_at__gte=start, created_at__lt=end)
    if user is not None:
        charges = charges.filter(user=user)
    total = charges.aggregate(total=Sum(COST))["total"] or ZERO
    return Decimal(total).quantize(MONEY_PLACES)  # SQLite sums decimals as floats


@dataclass(frozen=True)
class BudgetStatus:
    spent: Decimal
    limit: Decimal | None  # None: no limit
    month: datetime.date

    @property
    def remaining(self) -> Decimal | None:
        return None if self.limit is None else max(ZERO, self.limit - self.spent)

    @property
    def fraction(self) -> float | None:
        if self.limit is None:
            return None
        if self.limit == 0:
            return 1.0
        return float(self.spent / self.limit)

    @property
    def percent(self) -> int | None:
        fraction = self.fraction
        return None if fraction is None else int(fraction * 100)

    @property
    def warning(self) -> bool:
        return self.limit is not None and self.fraction >= float(WARNING_FRACTION) and not self.exhausted

    @property
    def exhausted(self) -> bool:
        return self.limit is not None and self.spent >= self.limit

    def allows(self, amount: Decimal) -> bool:
        return self.limit is None or self.spent + amount <= self.limit


def person_limit(user, month: datetime.date, team: TeamBudget | None = None) -> Decimal | None:
    """The person's own budget (or the team's default per person) plus this month's allowances."""
    team = team or TeamBudget.objects.filter(pk=1).first() or TeamBudget(pk=1)
    own = PersonBudget.objects.filter(user=user).values_list("monthly_limit", flat=True).first()
    base = own if own is not None else team.default_person_limit
    if base is None:
        return None
    extra = Allowance.objects.filter(user=user, month=month).aggregate(total=Sum("amount"))["total"] or ZERO
    return base + extra


def person_status(user, month: datetime.date | None = None) -> BudgetStatus:
    month = month or month_of()
    return BudgetStatus(spent=spend(month, user=user), limit=person_limit(user, month), month=month)


def team_status(month: datetime.date | None = None) -> BudgetStatus:
    month = month or month_of()
    team = TeamBudget.objects.filter(pk=1).first()
    return BudgetStatus(spent=spend(month), limit=team.monthly_limit if team else None, month=month)


# --- The decision at Generate -------------------------------------------------------------------
APPROVED_BY_ADMINISTRATOR = "approved"
NEEDS_APPROVAL = "needs_approval"
ALLOWED = "allowed"


def decide(user, amount: Decimal, *, approving: bool = False, lock: bool = True) -> str:
    """ALLOWED or NEEDS_APPROVAL for a job of `amount` by `user`, or raise BudgetRefused.

    Call inside `transaction.atomic()`, and create the job before leaving it. `approving`
    is an administrator approving a job: the per-job limit is then already settled.
    `lock=False` only predicts the answer (the figure on the Generate button).
    """
    month = month_of()
    if lock:
        # The person's row is their lock: their submits queue here, one at a time.
        PersonBudget.objects.select_for_update().get_or_create(user=user)
        team = TeamBudget.objects.select_for_update().get_or_create(pk=1)[0] if _team_has_limit() \
            else TeamBudget.current()
    else:
        team = TeamBudget.objects.filter(pk=1).first() or TeamBudget(pk=1)
    mine = BudgetStatus(spent=spend(month, user=user), limit=person_limit(user, month, team), month=month)
    if not mine.allows(amount):
        raise BudgetRefused(_refusal(mine, amount, whose="person"))
    if team.monthly_limit is not None:
        ours = BudgetStatus(spent=spend(month), limit=team.monthly_limit, month=month)
        if not ours.allows(amount):
            raise BudgetRefused(_refusal(ours, amount, whose="team"))
    if (not approving and team.approval_threshold is not None and amount > team.approval_threshold
            and not is_administrator(user)):
        return NEEDS_APPROVAL
    return ALLOWED


def _team_has_limit() -> bool:
    return TeamBudget.objects.filter(pk=1, monthly_limit__isnull=False).exists()


def _refusal(status: BudgetStatus, amount: Decimal, *, whose: str) -> str:
    from usage.templatetags.usage_tags import money

    values = {"month": month_name(status.month), "limit": money(status.limit), "cost": money(amount),
              "left": money(status.remaining)}
    if whose == "team":
        if status.exhausted:
            return _("The team’s budget for %(month)s (%(limit)s) is used up, so Generate is stopped for "
                     "everyone. An administrator can raise it on the Budgets page.") % values
        return _("This job would cost about %(cost)s, but only %(left)s is left of the team’s %(limit)s budget "
                 "for %(month)s. Choose fewer or smaller outputs, or ask an administrator to raise the team’s "
                 "budget.") % values
    if status.exhausted:
        return _("You have used your whole budget for %(month)s (%(limit)s), so Generate is stopped until next "
                 "month. An administrator can raise your budget or grant a one-off allowance.") % values
    return _("This job would cost about %(cost)s, but only %(left)s is left of your %(limit)s budget for "
             "%(month)s. Choose fewer or smaller outputs, or ask an administrator to raise your budget or grant "
             "a one-off allowance.") % values
