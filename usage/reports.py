"""The usage figures of one month: rows of (day, person, model) from one query, and their totals.

The page and the CSV export read the same rows, so they always agree: the page's tables
are sums of the CSV's lines.
"""

from __future__ import annotations

import datetime
from collections import OrderedDict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Count, DecimalField, IntegerField, Max, Sum, Value
from django.db.models.functions import Coalesce, TruncDate
from django.utils import timezone

from studio.models import Generation
from usage.budgets import COST, NOT_BILLED, SPENT, ZERO, month_bounds
from usage.models import MONEY, Charge


@dataclass(frozen=True)
class Row:
    day: datetime.date
    username: str
    person: str
    model_id: str
    model_title: str
    jobs: int
    outputs: int
    spend: Decimal
    not_billed: int


@dataclass
class Group:
    """Totals for one key (a model, a day, a person)."""

    key: str
    label: str
    jobs: int = 0
    outputs: int = 0
    spend: Decimal = ZERO
    not_billed: int = 0

    def add(self, row: Row) -> None:
        self.jobs += row.jobs
        self.outputs += row.outputs
        self.spend += row.spend
        self.not_billed += row.not_billed


@dataclass
class Report:
    month: datetime.date
    total: Group
    by_model: list[Group] = field(default_factory=list)
    by_day: list[Group] = field(default_factory=list)
    by_person: list[Group] = field(default_factory=list)


def rows(month: datetime.date, *, user=None, model_id: str = "") -> Iterator[Row]:
    """One row per day, person and model with any job this month (waiting approvals left out)."""
    start, end = month_bounds(month)
    charges = (Charge.objects.filter(created_at__gte=start, created_at__lt=end)
               .exclude(generation__state=Generation.State.AWAITING_APPROVAL))
    if user is not None:
        charges = charges.filter(user=user)
    if model_id:
        charges = charges.filter(model_id=model_id)
    money = DecimalField(**MONEY)
    grouped = (charges.annotate(day=TruncDate("created_at", tzinfo=timezone.get_current_timezone()))
               .values("day", "user__username", "user__first_name", "user__last_name", "model_id")
               .annotate(title=Max("model_title"),
                         jobs=Count("pk", filter=SPENT),
                         outputs=Coalesce(Sum("outputs", filter=SPENT), Value(0), output_field=IntegerField()),
                         spend=Coalesce(Sum(COST, filter=SPENT, output_field=money), Value(ZERO),
                                        output_field=money),
                         not_billed=Count("pk", filter=NOT_BILLED))
               .order_by("day", "user__username", "model_id"))
    for values in grouped.iterator():
        name = f"{values['user__first_name']} {values['user__last_name']}".strip()
        yield Row(day=values["day"], username=values["user__username"], person=name or values["user__username"],
                  model_id=values["model_id"], model_title=values["title"], jobs=values["jobs"],
                  outputs=values["outputs"], spend=Decimal(values["spend"]).quantize(Decimal("0.0001")),
                  not_billed=values["not_billed"])


def build(month: datetime.date, month_rows: Iterable[Row]) -> Report:
    total = Group("total", "")
    models: dict[str, Group] = {}
    people: dict[str, Group] = {}
    days: OrderedDict[datetime.date, Group] = OrderedDict()
    day = month
    while day.month == month.month:
        days[day] = Group(day.isoformat(), str(day.day))
        day += datetime.timedelta(days=1)
    for row in month_rows:
        total.add(row)
        models.setdefault(row.model_id, Group(row.model_id, row.model_title)).add(row)
        people.setdefault(row.username, Group(row.username, row.person)).add(row)
        days[row.day].add(row)
    by_spend = lambda group: (-group.spend, -group.jobs, group.label.lower())  # noqa: E731
    return Report(month=month, total=total, by_model=sorted(models.values(), key=by_spend),
                  by_day=list(days.values()), by_person=sorted(people.values(), key=by_spend))
