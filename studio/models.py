"""A generation job: what a person asked for, where it is upstream, and what came back."""

from __future__ import annotations

import uuid
from datetime import timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Generation(models.Model):
    class State(models.TextChoices):
        # Above the per-job limit: nothing is sent until an administrator approves (usage app).
        AWAITING_APPROVAL = "awaiting_approval", _("Waiting for approval")
        SUBMITTING = "submitting", _("Sending to the service")
        QUEUED = "queued", _("Waiting in the queue")
        RUNNING = "running", _("Generating")
        COLLECTING = "collecting", _("Saving the results")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")
        CANCELLED = "cancelled", _("Cancelled")

    FINAL_STATES = frozenset({State.DONE, State.FAILED, State.CANCELLED})
    # States a tracker looks after: the request exists upstream and is not collected yet.
    TRACKED_STATES = frozenset({State.QUEUED, State.RUNNING, State.COLLECTING})
    # Outputs are saved while collecting: before that a job has none.
    STATES_BEFORE_OUTPUTS = frozenset({State.SUBMITTING, State.QUEUED, State.RUNNING})

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="generations")
    model_id = models.CharField(max_length=200)
    model_title = models.CharField(max_length=200)
    kind = models.CharField(max_length=30)
    # What the form produced, with input images as "asset:<uuid>" references (data URIs are
    # rebuilt at submit time so the database stays small).
    arguments = models.JSONField(default=dict)
    prompt = models.TextField(blank=True)
    input_assets = models.ManyToManyField("gallery.Asset", blank=True, related_name="used_by")
    # One form submission makes one job, however often it is sent.
    client_token = models.CharField(max_length=64)

    # "team" or "private" (gallery.models.Visibility); outputs copy it.
    visibility = models.CharField(max_length=10, default="team")
    state = models.CharField(max_length=20, choices=State.choices, default=State.SUBMITTING)
    request_id = models.CharField(max_length=200, blank=True, db_index=True)
    queue_position = models.IntegerField(null=True, blank=True)
    logs = models.JSONField(default=list, blank=True)
    waiting_reason = models.CharField(max_length=300, blank=True,
                                      help_text="Shown while a passing upstream problem is retried.")
    error_type = models.CharField(max_length=100, blank=True)
    error_message = models.TextField(blank=True)
    field_errors = models.JSONField(default=dict, blank=True)

    result = models.JSONField(null=True, blank=True)
    seed = models.BigIntegerField(null=True, blank=True)
    inference_seconds = models.FloatField(null=True, blank=True)

    created_at = models.DateTimeField(default=timezone.now)
    submitted_at = models.DateTimeField(null=True, blank=True)
    # When the submit left for fal. Set (by the one worker holding the claim) before sending:
    # a job sent but without a request id on record is never sent again (fal would bill twice).
    submit_sent_at = models.DateTimeField(null=True, blank=True)
    # The submit asked fal to call our webhook, which can still bring the request id after a
    # crash between fal accepting the job and Atelier storing its id.
    webhook_registered = models.BooleanField(default=False)
    started_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True, help_text="When the service finished.")
    finished_at = models.DateTimeField(null=True, blank=True, help_text="When we reached a final state.")
    cancel_requested_at = models.DateTimeField(null=True, blank=True)

    # Tracking: when a tracker should next look, and how many looks in a row failed.
    next_check_at = models.DateTimeField(null=True, blank=True)
    check_failures = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["user", "client_token"], name="generation_one_job_per_form"),
        ]
        indexes = [
            models.Index(fields=["state", "next_check_at"]),
            models.Index(fields=["user", "-created_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.model_title} ({self.get_state_display()})"

    @property
    def outputs(self):
        """The saved outputs; none (and no query) before collecting starts, when none can exist."""
        if self.state in self.STATES_BEFORE_OUTPUTS:
            return []
        return self.assets.all()

    @property
    def is_final(self) -> bool:
        return self.state in self.FINAL_STATES

    @property
    def can_cancel(self) -> bool:
        return self.state in (self.State.AWAITING_APPROVAL, self.State.SUBMITTING, self.State.QUEUED,
                              self.State.RUNNING)

    @property
    def queue_duration(self) -> timedelta | None:
        if self.submitted_at and self.started_at:
            return self.started_at - self.submitted_at
        return None

    @property
    def run_duration(self) -> timedelta | None:
        if self.started_at and self.completed_at:
            return self.completed_at - self.started_at
        return None

    @property
    def total_duration(self) -> timedelta | None:
        if self.finished_at:
            return self.finished_at - self.created_at
        return None


from studio.catalogue.spec import Kind as CatalogueKind, Output as CatalogueOutput  # noqa: E402


class CatalogueEntry(models.Model):
    """An administrator's change to the model catalogue (see docs/catalogue.md).

    With the id of a built-in model, only `hidden` counts: it takes the model out of the
    picker. With a new id, the entry adds a model described by its own field list, in the
    same shape as an entry of studio/catalogue/builtin.toml.
    """

    model_id = models.CharField(
        _("fal model id"), max_length=200, unique=True,
        help_text=_("The model's id on fal, exactly as fal writes it, e.g. “fal-ai/flux-1/dev”."))
    hidden = models.BooleanField(
        default=False,
        help_text=_("Hidden models are left out of the picker. Past results stay in the gallery."))
    title = models.CharField(
        max_length=200, blank=True,
        help_text=_("The name people see in the picker. Leave empty for a built-in model."))
    description = models.CharField(
        max_length=500, blank=True,
        help_text=_("One line, in plain words: what the model is good for."))
    kind = models.CharField(max_length=30, choices=CatalogueKind.choices, blank=True,
                            help_text=_("What the model does; the picker groups models by kind."))
    output = models.CharField(max_length=10, choices=CatalogueOutput.choices, blank=True,
                              help_text=_("Image or video. Left empty, it follows from the kind."))
    fields = models.JSONField(
        default=list, blank=True,
        help_text=_("The model's inputs, as a JSON list of fields (see the example below and docs/catalogue.md)."))
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["model_id"]
        verbose_name = _("catalogue entry")
        verbose_name_plural = _("catalogue entries")

    def __str__(self) -> str:
        return f"{self.title or self.model_id}{' (hidden)' if self.hidden else ''}"

    def spec_data(self) -> dict:
        """The entry in the shape `spec_from_dict` reads."""
        return {"id": self.model_id, "title": self.title, "description": self.description, "kind": self.kind,
                "output": self.output, "fields": self.fields}

    def clean(self) -> None:
        from django.core.exceptions import ValidationError

        from studio.catalogue import builtin_catalogue
        from studio.catalogue.spec import CatalogueError, spec_from_dict

        self.model_id = (self.model_id or "").strip()
        self.title = (self.title or "").strip()
        self.description = (self.description or "").strip()
        builtins = {spec.id: spec for spec in builtin_catalogue().models}
        if self.model_id in builtins:
            name = builtins[self.model_id].title
            message = _("%(name)s is a built-in model: only “Hidden” can be changed here. "
                        "Leave this empty.") % {"name": name}
            filled = {key: message for key in ("title", "description", "kind", "output", "fields")
                      if getattr(self, key)}
            if filled:
                raise ValidationError(filled)
            return
        missing = {}
        if not self.title:
            missing["title"] = _("A new model needs a title: the name people see in the picker.")
        if not self.kind:
            missing["kind"] = _("A new model needs a kind, so the picker can place it.")
        if not self.fields:
            missing["fields"] = _("A new model needs its list of inputs, e.g. "
                                  '[{"use": "prompt"}, {"use": "image_size"}, {"use": "seed"}].')
        if missing:
            raise ValidationError(missing)
        try:
            spec = spec_from_dict(self.spec_data(), builtin=False)
        except CatalogueError as error:
            key = {"id": "model_id"}.get(error.key, error.key)
            if key not in ("model_id", "title", "description", "kind", "output", "fields"):
                key = "fields"
            raise ValidationError({key: error.detail}) from None
        self.output = spec.output
