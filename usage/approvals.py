"""Jobs above the per-job limit: an administrator approves (the job is sent) or denies (it fails, with why)."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from studio.models import Generation
from usage import budgets
from usage.models import ApprovalRequest

State = Generation.State
Decision = ApprovalRequest.Decision


class ApprovalError(Exception):
    """The approval could not be given: the message says why in plain words."""


def pending():
    """Jobs waiting for an administrator, oldest first."""
    return (ApprovalRequest.objects.filter(decision=Decision.PENDING, generation__state=State.AWAITING_APPROVAL)
            .select_related("generation", "generation__user", "generation__charge").order_by("requested_at"))


def approve(generation: Generation, administrator) -> None:
    """Send the job. Budgets still hold: approving cannot take the person or team over theirs."""
    from studio.creation import enqueue_approved

    with transaction.atomic():
        budgets.decide(generation.user, generation.charge.estimated_cost, approving=True)
        moved = Generation.objects.filter(id=generation.id, state=State.AWAITING_APPROVAL).update(
            state=State.SUBMITTING)
        if not moved:
            raise ApprovalError(_("This job is no longer waiting: it was cancelled or decided already."))
        ApprovalRequest.objects.filter(generation=generation).update(
            decision=Decision.APPROVED, decided_at=timezone.now(), decided_by=administrator)
        enqueue_approved(generation)


def deny(generation: Generation, administrator, reason: str) -> None:
    """The job fails without being sent; the person sees the reason on its card."""
    reason = reason.strip()
    # Stored in English and translated for each reader (studio.stored_text).
    message = ("An administrator did not approve this job: %(reason)s" % {"reason": reason} if reason
               else "An administrator did not approve this job.")
    now = timezone.now()
    with transaction.atomic():
        moved = Generation.objects.filter(id=generation.id, state=State.AWAITING_APPROVAL).update(
            state=State.FAILED, error_type="not_approved", error_message=message, finished_at=now)
        if not moved:
            raise ApprovalError(_("This job is no longer waiting: it was cancelled or decided already."))
        ApprovalRequest.objects.filter(generation=generation).update(
            decision=Decision.DENIED, decided_at=now, decided_by=administrator, reason=reason)
