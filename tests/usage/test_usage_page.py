"""The usage page and its CSV: the same figures, per person, model and day."""

from __future__ import annotations

import csv
import io
import re
from collections import defaultdict
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from studio.models import Generation
from usage.templatetags.usage_tags import money

pytestmark = pytest.mark.django_db
State = Generation.State


@pytest.fixture
def month_of_work(member, administrator, job):
    now = timezone.localtime()
    first = now.replace(day=1, hour=10)
    job(member, cost="0.10", outputs=4, created_at=first)
    job(member, cost="0.039", outputs=1, model_id="fal-ai/nano-banana", title="Nano Banana", created_at=first)
    job(member, cost="3.20", outputs=1, model_id="fal-ai/veo3", title="Veo 3", created_at=now)
    job(member, cost="0.50", state=State.FAILED, created_at=now)
    job(administrator, cost="0.25", reported="0.2", outputs=2, created_at=now)
    job(administrator, cost="9.99", created_at=now - timezone.timedelta(days=45))  # another month


def read_csv(response) -> list[dict]:
    assert response.streaming and response["Content-Type"].startswith("text/csv")
    text = b"".join(response.streaming_content).decode()
    return list(csv.DictReader(io.StringIO(text)))


def table(page: str, table_id: str) -> dict[str, tuple[str, ...]]:
    """Rows of one table on the page: key → cell texts."""
    body = re.search(rf'<table class="usage-table" id="{table_id}">(.*?)</table>', page, re.S).group(1)
    rows = {}
    for row in re.findall(r"<tr[^>]*>(.*?)</tr>", body, re.S)[1:]:
        cells = [re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)]
        rows[cells[0]] = tuple(cells[1:])
    return rows


def test_the_csv_matches_the_page(administrator_client, month_of_work):
    page = administrator_client.get(reverse("usage:usage")).content.decode()
    lines = read_csv(administrator_client.get(reverse("usage:export_csv")))
    assert {line["currency"] for line in lines} == {"USD"}

    by_model = defaultdict(lambda: [0, 0, 0, Decimal(0)])
    by_person = defaultdict(lambda: [0, 0, 0, Decimal(0)])
    for line in lines:
        for groups, key in ((by_model, line["model"]), (by_person, line["person"])):
            groups[key][0] += int(line["jobs"])
            groups[key][1] += int(line["outputs"])
            groups[key][2] += int(line["failed_or_cancelled_jobs"])
            groups[key][3] += Decimal(line["spend"])
    expected = {key: (str(jobs), str(outputs), str(failed), money(spend))
                for key, (jobs, outputs, failed, spend) in by_model.items()}
    assert table(page, "by-model") == expected
    assert table(page, "by-person") == {key: (str(j), str(o), str(f), money(s)) for key, (j, o, f, s) in by_person.items()}
    total = sum((Decimal(line["spend"]) for line in lines), Decimal(0))
    assert total == Decimal("3.539")  # the reported $0.20 replaces its $0.25 estimate; the failed job is not spend
    assert f'id="total-spend" data-amount="{total:.4f}">{money(total)}' in page
    assert f'id="total-outputs">{sum(int(line["outputs"]) for line in lines)}<' in page


def test_the_page_shows_days_models_and_a_chart(administrator_client, month_of_work):
    page = administrator_client.get(reverse("usage:usage")).content.decode()
    assert '<svg viewBox="0 0 640 180" role="img" aria-labelledby="chart-title chart-desc"' in page
    import calendar

    today = timezone.localdate()
    assert page.count('class="bar-chart__bar"') == calendar.monthrange(today.year, today.month)[1]  # one per day
    days = table(page, "by-day")
    assert sum(Decimal(cells[2].lstrip("$")) for cells in days.values()) == Decimal("3.539")
    assert "Veo 3" in page and "Nano Banana" in page and "$3.539" not in page and "$3.54" in page


def test_a_member_sees_only_their_own_figures(member_client, month_of_work, administrator):
    page = member_client.get(reverse("usage:usage") + f"?person={administrator.username}").content.decode()
    assert "$3.34" in page and 'id="by-person"' not in page  # 0.10 + 0.039 + 3.20
    lines = read_csv(member_client.get(reverse("usage:export_csv") + f"?person={administrator.username}"))
    assert {line["username"] for line in lines} == {"mina"}
    assert member_client.get(reverse("usage:budgets")).status_code == 404


def test_administrators_filter_by_person_model_and_month(administrator_client, month_of_work, member, administrator):
    lines = read_csv(administrator_client.get(reverse("usage:export_csv") + "?person=mina&model=fal-ai/veo3"))
    assert [(line["username"], line["model_id"], line["spend"]) for line in lines] == [("mina", "fal-ai/veo3", "3.2000")]
    earlier = (timezone.localtime() - timezone.timedelta(days=45)).strftime("%Y-%m")
    page = administrator_client.get(reverse("usage:usage") + f"?month={earlier}").content.decode()
    assert 'data-amount="9.9900"' in page
    response = administrator_client.get(reverse("usage:export_csv") + f"?month={earlier}")
    assert f"atelier-usage-{earlier}.csv" in response["Content-Disposition"]


def test_nonsense_filters_fall_back_to_this_month(administrator_client, month_of_work):
    response = administrator_client.get(reverse("usage:usage") + "?month=2026-13&person=nobody&model=%00")
    assert response.status_code == 200


def test_names_cannot_become_spreadsheet_formulas(administrator_client, member, job):
    member.first_name = "=HYPERLINK(\"http://evil\")"
    member.save()
    job(member)
    [line] = read_csv(administrator_client.get(reverse("usage:export_csv")))
    assert line["person"].startswith("'=")
