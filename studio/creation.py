"""Turning a valid form into a queued job: one job per form, input images kept as assets.

Every new job passes the budget check (usage.budgets.decide) in the transaction that
creates it, so concurrent clicks cannot overshoot a budget; a job above the per-job limit
waits for an administrator's approval instead of being sent.
"""

from __future__ import annotations

import secrets

from django.db import IntegrityError, transaction

from accounts.roles import default_visibility

from gallery.assets import store_asset
from gallery.ingest import receive, verify
from gallery.models import Asset
from studio import jobs
from studio.catalogue import ModelSpec
from studio.generation_form import GenerationForm
from studio.input_images import asset_reference
from studio.models import Generation
from usage import budgets, costs
from usage.budgets import BudgetRefused  # noqa: F401  (callers catch it from here)
from usage.models import ApprovalRequest


def create_generation(user, spec: ModelSpec, form: GenerationForm) -> tuple[Generation, bool]:
    """The job for this form; (existing job, False) when the same form was sent before.

    Raises BudgetRefused (nothing created) when the job would take a budget over its limit.
    """
    token = form.cleaned_data["client_token"]
    existing = Generation.objects.filter(user=user, client_token=token).first()
    if existing is not None:
        return existing, False
    references: dict[str, list[str]] = {}
    used: list[Asset] = []
    for field_name, images in form.input_images().items():
        for image in images:
            asset = image.asset or _store_upload(user, image.upload)
            used.append(asset)
            references.setdefault(field_name, []).append(asset_reference(asset))
    arguments = {**form.arguments(), **form.image_arguments(references)}
    cost = costs.estimate_for(spec, arguments)
    try:
        with transaction.atomic():
            generation = _create_within_budget(
                user, cost, model_id=spec.id, model_title=spec.title, kind=spec.kind, arguments=arguments,
                prompt=form.prompt(), client_token=token, visibility=default_visibility(user))
            generation.input_assets.set(used)
    except IntegrityError:  # the same form, sent twice at the same moment
        return Generation.objects.get(user=user, client_token=token), False
    if generation.state == Generation.State.SUBMITTING:
        _enqueue_submission(generation)
    return generation, True


def copy_generation(original: Generation, user) -> Generation:
    """A new job with the same model, settings and input images (the Retry button).

    Raises BudgetRefused like `create_generation`.
    """
    from studio import catalogue

    spec = catalogue.get_model(original.model_id)
    cost = costs.estimate_for(spec, original.arguments) if spec is not None else None
    with transaction.atomic():
        generation = _create_within_budget(
            user, cost, model_id=original.model_id, model_title=original.model_title, kind=original.kind,
            arguments=original.arguments, prompt=original.prompt, client_token=secrets.token_urlsafe(16),
            visibility=original.visibility)
        generation.input_assets.set(original.input_assets.all())
    if generation.state == Generation.State.SUBMITTING:
        _enqueue_submission(generation)
    return generation


def _create_within_budget(user, cost, **fields) -> Generation:
    """Decide against the budgets and create the job, under the budget lock (see usage.budgets)."""
    amount = cost.amount if cost is not None else budgets.ZERO
    outcome = budgets.decide(user, amount)
    state = (Generation.State.AWAITING_APPROVAL if outcome == budgets.NEEDS_APPROVAL
             else Generation.State.SUBMITTING)
    generation = Generation.objects.create(user=user, state=state, **fields)
    costs.record_charge(generation, cost)
    if state == Generation.State.AWAITING_APPROVAL:
        ApprovalRequest.objects.create(generation=generation)
    return generation


def enqueue_approved(generation: Generation) -> None:
    """An administrator approved the job: send it (after the approving transaction commits)."""
    _enqueue_submission(generation)


def _enqueue_submission(generation: Generation) -> None:
    from studio.tasks import submit_generation

    if jobs.sent_by_tracker(generation.arguments):
        return  # the tracker sends it within a tenth of a second (studio.sending): no task needed
    transaction.on_commit(lambda: submit_generation.enqueue(str(generation.id)))


def _store_upload(user, upload) -> Asset:
    upload.seek(0)
    path, size, checksum = receive(upload.chunks())
    return store_asset(verify(path, size, checksum), owner=user, source=Asset.Source.UPLOAD,
                       original_name=upload.name or "", visibility=default_visibility(user))
