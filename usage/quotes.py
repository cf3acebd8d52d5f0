"""What the Generate button says: this job's estimated cost and what is left of the budget."""

from __future__ import annotations

from dataclasses import dataclass

from usage import budgets, costs
from usage.budgets import BudgetRefused, BudgetStatus
from usage.pricing import Estimate


@dataclass(frozen=True)
class Quote:
    estimate: Estimate | None  # None: the model has no price
    budget: BudgetStatus  # the person's, this month
    team: BudgetStatus | None  # the team's, when the team has a limit
    needs_approval: bool
    refusal: str  # why Generate would be refused now; "" when it would not


def quote(user, spec, arguments: dict) -> Quote:
    estimate = costs.estimate_for(spec, arguments)
    amount = estimate.amount if estimate else budgets.ZERO
    refusal = ""
    needs_approval = False
    try:
        needs_approval = budgets.decide(user, amount, lock=False) == budgets.NEEDS_APPROVAL
    except BudgetRefused as refused:
        refusal = str(refused)
    team = budgets.team_status()
    return Quote(estimate=estimate, budget=budgets.person_status(user), team=team if team.limit is not None else None,
                 needs_approval=needs_approval, refusal=refusal)
