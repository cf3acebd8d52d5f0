"""Turning a valid form into a queued job: one job per form, input images kept as assets."""

from __future__ import annotations

import secrets

from django.db import IntegrityError, transaction

from accounts.roles import default_visibility

from gallery.assets import store_asset
from gallery.ingest import receive, verify
from gallery.models import Asset
from studio.catalogue import ModelSpec
from studio.generation_form import GenerationForm
from studio.input_images import asset_reference
from studio.models import Generation


def create_generation(user, spec: ModelSpec, form: GenerationForm) -> tuple[Generation, bool]:
    """The job for this form; (existing job, False) when the same form was sent before."""
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
    try:
        with transaction.atomic():
            generation = Generation.objects.create(
                user=user, model_id=spec.id, model_title=spec.title, kind=spec.kind,
                arguments=arguments, prompt=form.prompt(), client_token=token,
                visibility=default_visibility(user))
            generation.input_assets.set(used)
    except IntegrityError:  # the same form, sent twice at the same moment
        return Generation.objects.get(user=user, client_token=token), False
    _enqueue_submission(generation)
    return generation, True


def copy_generation(original: Generation, user) -> Generation:
    """A new job with the same model, settings and input images (the Retry button)."""
    with transaction.atomic():
        generation = Generation.objects.create(
            user=user, model_id=original.model_id, model_title=original.model_title, kind=original.kind,
            arguments=original.arguments, prompt=original.prompt, client_token=secrets.token_urlsafe(16),
            visibility=original.visibility)
        generation.input_assets.set(original.input_assets.all())
    _enqueue_submission(generation)
    return generation


def _enqueue_submission(generation: Generation) -> None:
    from studio.tasks import submit_generation

    transaction.on_commit(lambda: submit_generation.enqueue(str(generation.id)))


def _store_upload(user, upload) -> Asset:
    upload.seek(0)
    path, size, checksum = receive(upload.chunks())
    return store_asset(verify(path, size, checksum), owner=user, source=Asset.Source.UPLOAD,
                       original_name=upload.name or "", visibility=default_visibility(user))
