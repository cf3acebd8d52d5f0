"""The life of a generation, one idempotent step at a time.

    create → submit (task) → check … check (tracker) → collect → done
                                                     ↘ failed / cancelled

Every step re-reads the row, returns early when the job is gone or already past that step,
and claims its work with a conditional UPDATE, so two workers never do the same step.
The upstream request id is written the moment fal returns it, before anything else.
"""

from __future__ import annotations

import json
import logging
import math
import re
from collections.abc import Callable
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

import fal
from atelier.rows import RowQuery
from gallery.assets import store_asset
from gallery.ingest import IngestError, receive, storage_problem, verify
from gallery.models import Asset
from studio.input_images import MissingInputImage, has_input_images, resolve_inputs
from studio.models import Generation
from studio.upstream import get_client
from usage.costs import record_outcome
from studio.webhooks import webhook_url

logger = logging.getLogger(__name__)
State = Generation.State

POLL_INTERVAL = timedelta(seconds=1)
# A tracker that claims a job holds it this long; if it dies, another picks the job up.
CLAIM_LEASE = timedelta(seconds=settings.TRACK_LEASE_SECONDS)
# Passing upstream trouble is retried with backoff up to this long before the job fails.
GIVE_UP_AFTER = timedelta(minutes=30)
MAX_LOG_LINES = 50
MAX_DOWNLOAD_ATTEMPTS = 3

WAITING_FOR_SERVICE = "Waiting for the service to answer. Atelier keeps trying."
# Stored in English, translated when shown (studio.stored_text lists every message of this module).
MISLABELLED_OUTPUT = {
    "image": "The service called this file an image, but it is not one.",
    "video": "The service called this file a video, but it is not one.",
    "audio": "The service called this file an audio file, but it is not one.",
}


# --- Submit -----------------------------------------------------------------------------
# A worker that claimed a submission but died before sending it loses the claim after this;
# the tracker's sweeper (studio.recovery) then sends it. A late original cannot send it too:
# sending needs the claim it took (see _mark_sent).
SUBMIT_PREPARE_LEASE = timedelta(seconds=15)


def submit(generation_id: str, *, hand_to: Callable[[Generation], bool] | None = None) -> None:
    """Send the job to fal, once, and store its request id the moment fal answers.

    `hand_to` (a tracker's, studio.sending): the queued job is leased to that tracker and handed
    over at once, so its first look needs no claim; when the tracker cannot take it (stopping),
    the job is released for any tracker.
    """
    now = timezone.now()
    generation = _SUBMITTING.get(generation_id, State.SUBMITTING)
    if generation is None or not _looks_unsent(generation, now):
        return  # the writes below check again, atomically
    lease = None
    if has_input_images(generation.arguments):
        # Reading input images takes a while: claim the submission first, so two workers holding
        # the same task do not both prepare it. Jobs without any are claimed as they are sent.
        lease = now + SUBMIT_PREPARE_LEASE
        if not _unsent(Generation.objects.filter(id=generation.id), now).update(next_check_at=lease):
            return
    try:
        arguments = resolve_inputs(generation)
    except MissingInputImage as error:
        _fail(generation, error_type="invalid_input", message=str(error), from_states=[State.SUBMITTING])
        return
    except Exception:
        # Nothing was sent yet, so failing is safe; the person can retry.
        logger.exception("Preparing generation %s failed", generation_id)
        _fail(generation, error_type="internal", from_states=[State.SUBMITTING],
              message="Atelier could not prepare this job (its input images could not be read).")
        return
    webhook = webhook_url(generation)
    if not _mark_sent(generation, lease, webhook is not None):
        return  # another worker sent it, our claim lapsed and another took it over, or it was cancelled
    client = get_client()
    try:
        handle = client.submit(generation.model_id, arguments, webhook_url=webhook)
    except fal.SubmitOutcomeUnknown as error:
        submit_outcome_unknown(generation, error.message)
        return
    except fal.FalError as error:
        _submit_failed(generation, error)
        return
    recorded = record_request_id(generation, handle.request_id, handle.queue_position,
                                 lease=CLAIM_LEASE if hand_to else None)
    if hand_to and recorded and generation.state == State.QUEUED and not hand_to(generation):
        release([str(generation.id)])


def sent_by_tracker(arguments: dict) -> bool:
    """Whether the tracker sends this job itself (studio.sending) rather than a task worker."""
    return not has_input_images(arguments)


def sendable_by_tracker(limit: int) -> list[str]:
    """Ids of jobs the tracker should send now (no input images, nobody on it), oldest first."""
    rows = _unsent(Generation.objects.filter(input_assets__isnull=True), timezone.now())
    return [str(pk) for pk in rows.order_by("created_at").values_list("id", flat=True)[:limit]]


def _never_sent(rows):
    """The rows still waiting to be sent."""
    return rows.filter(state=State.SUBMITTING, request_id="", submit_sent_at__isnull=True)


def _unsent(rows, now):
    """The rows still waiting to be sent that no worker holds a claim on."""
    return _never_sent(rows).filter(Q(next_check_at__isnull=True) | Q(next_check_at__lt=now))


def _looks_unsent(generation: Generation, now) -> bool:
    """_unsent for a row already read (submitting): a quick way out before any write."""
    return (not generation.request_id and generation.submit_sent_at is None
            and (generation.next_check_at is None or generation.next_check_at < now))


# The job a sender reads, by a statement built once (the sender runs for every job).
_SUBMITTING = RowQuery(Generation, "id", "state")


def _mark_sent(generation: Generation, lease, webhook: bool) -> bool:
    """Record that the submit is leaving, if it is still ours to send. From here it is never resent.

    With `lease`, ours means our claim still holds; without, that nobody claimed or sent it yet
    (this write is then the claim: two workers holding the same task cannot both send it).
    """
    now = timezone.now()
    rows = Generation.objects.filter(id=generation.id)
    rows = _never_sent(rows).filter(next_check_at=lease) if lease else _unsent(rows, now)
    marked = rows.update(submit_sent_at=now, webhook_registered=webhook, next_check_at=now + submit_answer_lease())
    if marked:
        generation.submit_sent_at, generation.webhook_registered = now, webhook
    return bool(marked)


def submit_answer_lease() -> timedelta:
    """Longest a live worker can wait for fal's answer to a submit (every attempt and wait)."""
    client = get_client()
    attempts = client.retry.max_attempts
    waits = (attempts - 1) * max(client.max_retry_after, client.retry.max_delay)
    return timedelta(seconds=attempts * settings.FAL_TIMEOUT_SECONDS + waits + 5)


def record_request_id(generation: Generation, request_id: str, queue_position: int | None = None, *,
                      lease: timedelta | None = None) -> bool:
    """Store the request id fal gave this job (from the submit answer or its webhook); once only.

    A job moved to queued is due for a look at once, or (`lease`) held that long by the caller's
    tracker; `generation` then holds what was written.
    """
    now = timezone.now()
    try:
        # The request id first: from here on the job can always be found again. Usually the job
        # is still submitting, and one write stores the id and moves it to queued together.
        changes = {"request_id": request_id, "submitted_at": now, "state": State.QUEUED,
                   "queue_position": queue_position, "next_check_at": now + lease if lease else now,
                   "waiting_reason": "", "check_failures": 0}
        queued = Generation.objects.filter(id=generation.id, request_id="", state=State.SUBMITTING).update(**changes)
        stored = queued or Generation.objects.filter(id=generation.id, request_id="").update(
            request_id=request_id, submitted_at=now)
    except Exception:
        logger.critical("fal accepted generation %s as request %s (model %s) but it could not be stored",
                        generation.id, request_id, generation.model_id)
        raise
    if not stored:
        return False  # the webhook (or the submit answer) was first
    if queued:
        for name, value in changes.items():
            setattr(generation, name, value)
    if not queued and Generation.objects.filter(id=generation.id, state=State.CANCELLED).exists():
        _cancel_upstream(generation.model_id, request_id)  # cancelled while we were submitting
    return True


def _submit_failed(generation: Generation, error: fal.FalError) -> None:
    if error.retryable and timezone.now() - generation.created_at < GIVE_UP_AFTER:
        from studio.tasks import submit_generation

        retry_at = timezone.now() + _backoff(generation.check_failures + 1, error)
        # Nothing was accepted: the job may be sent again, once the backoff has passed.
        Generation.objects.filter(id=generation.id, state=State.SUBMITTING).update(
            waiting_reason=WAITING_FOR_SERVICE, check_failures=generation.check_failures + 1,
            submit_sent_at=None, webhook_registered=False, next_check_at=retry_at)
        if not sent_by_tracker(generation.arguments):  # the tracker's sender retries the others when due
            submit_generation.using(run_after=retry_at).enqueue(str(generation.id))
        return
    field_errors = error.messages_by_field() if isinstance(error, fal.ValidationError) else {}
    _fail(generation, error_type=_error_kind(error), message=error.message, field_errors=field_errors,
          from_states=[State.SUBMITTING])


def submit_outcome_unknown(generation: Generation, detail: str) -> None:
    """The submit left but fal's answer did not come back: never resend it (fal may have it).

    With a webhook registered, fal's call can still bring the request id, so the job waits for
    it a while; without one nothing more can be learnt, and the job ends saying so plainly.
    """
    logger.warning("Submit of generation %s: outcome unknown (%s)", generation.id, detail)
    confirm_by = generation.submit_sent_at + submit_confirm_window() if generation.submit_sent_at else None
    if generation.webhook_registered and confirm_by and timezone.now() < confirm_by:
        Generation.objects.filter(id=generation.id, state=State.SUBMITTING, request_id="").update(
            waiting_reason=SUBMIT_UNCONFIRMED_WAITING,
            next_check_at=confirm_by)
        return
    _fail(generation, error_type="submit_unknown", message=SUBMIT_UNCONFIRMED, from_states=[State.SUBMITTING])


def submit_confirm_window() -> timedelta:
    return timedelta(seconds=settings.ATELIER_SUBMIT_CONFIRM_SECONDS)


SUBMIT_UNCONFIRMED_WAITING = ("Atelier lost contact with the service while sending this job. "
                              "If the service took it, the result will appear here by itself.")
SUBMIT_UNCONFIRMED = ("Atelier could not confirm that the service accepted this job. It was not sent a "
                      "second time, so it cannot have been charged twice.")


def webhook_arrived(generation: Generation, request_id: str) -> None:
    """fal says this job is done: adopt its request id if the submit's answer was lost."""
    if not generation.request_id:
        if generation.submit_sent_at is None:
            logger.warning("Webhook for generation %s, which was never sent; ignored", generation.id)
            return
        # Even a job already marked unconfirmed comes back: its outputs are paid for.
        Generation.objects.filter(id=generation.id, request_id="", state=State.FAILED,
                                  error_type="submit_unknown").update(
            state=State.SUBMITTING, error_type="", error_message="", finished_at=None)
        if record_request_id(generation, request_id):
            logger.info("fal confirmed generation %s as request %s by webhook", generation.id, request_id)
        return
    if generation.request_id != request_id:
        logger.warning("Webhook for generation %s names another request; ignored", generation.id)
        return
    # Look at once instead of at the next poll (a collecting job keeps its claim).
    Generation.objects.filter(id=generation.id, state__in=[State.QUEUED, State.RUNNING]).update(
        next_check_at=timezone.now())


# --- Track ------------------------------------------------------------------------------
def claim_due(limit: int = 200) -> list[str]:
    """Ids of tracked jobs whose check is due, each claimed (leased) for this tracker."""
    return [str(generation.id) for generation in claim_due_rows(limit)]


def claim_due_rows(limit: int = 200, collect_limit: int | None = None) -> list[Generation]:
    """The due jobs themselves, claimed, with what a status check reads (saves a SELECT per check).

    At most `limit` jobs to look at (queued or running) and at most `collect_limit` (default:
    `limit`) done jobs waiting for a collector: a tracker takes only as many of those as it has
    free collectors, and leaves the rest to trackers that have.
    """
    now = timezone.now()
    collect_limit = limit if collect_limit is None else collect_limit
    due_rows = Generation.objects.filter(state__in=Generation.TRACKED_STATES, next_check_at__lte=now)
    if not due_rows.exists():  # a read first: SQLite's write lock only when there is work
        return []
    watching = [State.QUEUED, State.RUNNING]
    with transaction.atomic():
        # PostgreSQL skips rows another tracker holds; SQLite's BEGIN IMMEDIATE serialises us.
        due = list(Generation.objects.select_for_update(skip_locked=True)
                   .filter(state__in=watching, next_check_at__lte=now)
                   .order_by("next_check_at").only(*_CHECK_FIELDS)[:limit]) if limit > 0 else []
        if collect_limit > 0:
            due += list(Generation.objects.select_for_update(skip_locked=True)
                        .filter(state=State.COLLECTING, next_check_at__lte=now)
                        .order_by("next_check_at").only(*_CHECK_FIELDS)[:collect_limit])
        if due:
            until = now + CLAIM_LEASE
            Generation.objects.filter(id__in=[generation.id for generation in due]).update(next_check_at=until)
            for generation in due:
                generation.next_check_at = until  # the lease we hold (studio.leases renews it)
    return due


# What a status check reads; the rest (arguments, result, ...) loads only when collecting.
_CHECK_FIELDS = ("id", "state", "model_id", "request_id", "started_at", "logs", "check_failures",
                 "waiting_reason", "queue_position", "completed_at", "submitted_at", "created_at")


def check(generation_id: str, *, claimed: Generation | None = None, collect_with=None) -> None:
    """One look at a tracked job: update its state, collect it when it is done."""
    generation = claimed or Generation.objects.filter(id=generation_id).only(*_CHECK_FIELDS).first()
    if generation is None or generation.state not in Generation.TRACKED_STATES:
        return
    if generation.state == State.COLLECTING:
        (collect_with or collect)(generation)
        return
    client = get_client()
    handle = client.handle_for(generation.model_id, generation.request_id)
    try:
        status = client.status(handle, with_logs=True)
    except fal.FalError as error:
        _check_failed(generation, error)
        return
    now = timezone.now()
    # Looked at one at a time, the job goes back to every tracker until its next look.
    changes = {"waiting_reason": "", "check_failures": 0, "next_check_at": now + POLL_INTERVAL,
               **status_changes(generation, status, now)}
    updated = Generation.objects.filter(id=generation.id, state__in=[State.QUEUED, State.RUNNING]).update(**changes)
    if updated and changes.get("state") == State.COLLECTING:
        generation.refresh_from_db()
        (collect_with or collect)(generation)  # at once: fal keeps results only minutes


def status_changes(generation: Generation, status: fal.Status, now) -> dict:
    """What a status answer changes on the row; empty when nothing anyone would see changed.

    Reads only the fields claim_due_rows loads (_CHECK_FIELDS), so an event loop can call it.
    """
    changes: dict = {}
    if generation.waiting_reason or generation.check_failures:
        changes.update(waiting_reason="", check_failures=0)  # the service answers again
    if isinstance(status, fal.Queued):
        if generation.state != State.QUEUED:
            changes["state"] = State.QUEUED
        if generation.queue_position != status.position:
            changes["queue_position"] = status.position
    elif isinstance(status, fal.InProgress):
        if generation.state != State.RUNNING:
            changes["state"] = State.RUNNING
        if generation.queue_position is not None:
            changes["queue_position"] = None
        lines = _log_lines(status.logs)
        if lines and lines != generation.logs:  # the JSON is rewritten only when the logs changed
            changes["logs"] = lines
        if generation.started_at is None:
            changes["started_at"] = now
    else:
        changes.update(queue_position=None, completed_at=now, inference_seconds=status.inference_time,
                       logs=_log_lines(status.logs) or generation.logs, started_at=generation.started_at or now)
        if status.failed:
            changes.update(state=State.FAILED, finished_at=now, next_check_at=None,
                           error_type=_completion_error_kind(status.error_type),
                           error_message=status.error or "The model could not finish this job.")
        else:
            changes.update(state=State.COLLECTING, next_check_at=now + CLAIM_LEASE)  # this tracker collects it
    return changes


def record_statuses(changes_by_id: dict[str, dict]) -> tuple[set[str], set[str]]:
    """Write the status changes of many jobs in one transaction (one commit, not one per job).

    Returns (ids this call moved to collecting, so its caller collects them; ids no longer
    queued or running, e.g. cancelled meanwhile, which the caller stops watching).
    """
    collecting: set[str] = set()
    gone: set[str] = set()
    with transaction.atomic():
        for generation_id, changes in changes_by_id.items():
            updated = Generation.objects.filter(id=generation_id, state__in=[State.QUEUED, State.RUNNING]
                                                 ).update(**changes)
            if not updated:
                gone.add(generation_id)
            elif changes.get("state") == State.COLLECTING:
                collecting.add(generation_id)
    return collecting, gone


def renew_leases(generation_ids: list[str]) -> set[str]:
    """Extend the claim on jobs a tracker keeps watching; returns the ids still queued or running."""
    watching = [State.QUEUED, State.RUNNING]
    still: set[str] = set()
    for start in range(0, len(generation_ids), 500):
        chunk = generation_ids[start:start + 500]
        with transaction.atomic():
            Generation.objects.filter(id__in=chunk, state__in=watching).update(
                next_check_at=timezone.now() + CLAIM_LEASE)
            still.update(str(pk) for pk in Generation.objects.filter(id__in=chunk, state__in=watching)
                         .values_list("id", flat=True))
    return still


def release(generation_ids: list[str]) -> None:
    """Hand watched jobs back (a tracker stopping): any tracker may look at them at once."""
    for start in range(0, len(generation_ids), 500):
        Generation.objects.filter(id__in=generation_ids[start:start + 500], state__in=[State.QUEUED, State.RUNNING]
                                  ).update(next_check_at=timezone.now())


def _check_failed(generation: Generation, error: fal.FalError) -> None:
    if isinstance(error, fal.NotFoundError):
        _fail(generation, error_type="expired",
              message="The service no longer knows this job; its result may have expired.",
              from_states=list(Generation.TRACKED_STATES))
        return
    # A garbled answer (a proxy's HTML error page, say) is treated as passing trouble.
    if (not error.retryable and not isinstance(error, fal.ProtocolError)) or _given_up(generation):
        _fail(generation, error_type=_error_kind(error), message=error.message,
              from_states=list(Generation.TRACKED_STATES))
        return
    failures = generation.check_failures + 1
    Generation.objects.filter(id=generation.id, state__in=Generation.TRACKED_STATES).update(
        waiting_reason=WAITING_FOR_SERVICE, check_failures=failures,
        next_check_at=timezone.now() + _backoff(failures, error))


# --- Collect ----------------------------------------------------------------------------
def collect(generation: Generation) -> None:
    """Fetch the result, then every file in it. Safe to run again: saved outputs are skipped."""
    client = get_client()
    try:
        saved: set[int] = set()  # nothing can be saved before the result is stored
        if generation.result is None:
            changes = result_changes(client.result(client.handle_for(generation.model_id, generation.request_id)))
            for name, value in changes.items():
                setattr(generation, name, value)
            # The result JSON is kept before any file is fetched.
            generation.save(update_fields=list(changes))
        else:
            saved = set(generation.assets.filter(source=Asset.Source.OUTPUT).values_list("position", flat=True))
        media = fal.extract_media(generation.result)
        if not media:
            _fail(generation, error_type="no_output", message="The service finished but sent back no files.",
                  from_states=[State.COLLECTING])
            return
        nsfw_flags = generation.result.get("has_nsfw_concepts")
        nsfw_flags = nsfw_flags if isinstance(nsfw_flags, list) else []
        missing = [position for position in range(len(media)) if position not in saved]
        finished = []

        def finish() -> None:  # with the last output, in its transaction: one commit fewer
            finished.append(_mark_done(generation, outputs=len(media)))

        for position in missing:
            nsfw = bool(nsfw_flags[position]) if position < len(nsfw_flags) else False
            _save_output(client, generation, position, media[position], nsfw,
                         then=finish if position == missing[-1] else None)
    except fal.FalError as error:
        if isinstance(error, fal.NotFoundError):
            _fail(generation, error_type="expired", from_states=[State.COLLECTING],
                  message="The result expired before Atelier could save it.")
        elif isinstance(error, fal.ValidationError):
            _fail(generation, error_type="invalid_input", message=error.message,
                  field_errors=error.messages_by_field(), from_states=[State.COLLECTING])
        elif error.retryable and not _given_up(generation):
            _reschedule(generation, error)
        else:
            _fail(generation, error_type=_error_kind(error), message=error.message, from_states=[State.COLLECTING])
        return
    except IngestError as error:
        _fail(generation, error_type="bad_output", message=f"A file from the service could not be kept: {error}",
              from_states=[State.COLLECTING])
        return
    except OSError as error:
        if not storage_problem(error):
            raise
        _storage_failed(generation, error)
        return
    if not finished:  # every output was saved before (a resumed collect), or by another collector
        with transaction.atomic():
            _mark_done(generation, outputs=len(media))


def result_changes(result: dict) -> dict:
    """The fields a fetched result sets: the result itself (storable), the seed used, the inference time."""
    stored = _storable(result)
    changes = {"result": stored, "seed": _seed(stored)}
    inference = _inference(stored)
    if inference is not None:  # else the status's figure stays
        changes["inference_seconds"] = inference
    return changes


def _mark_done(generation: Generation, outputs: int) -> bool:
    """Done, with its outputs and any cost the service reported counted; call inside a transaction."""
    finished = Generation.objects.filter(id=generation.id, state=State.COLLECTING).update(
        state=State.DONE, finished_at=timezone.now(), next_check_at=None, waiting_reason="", check_failures=0)
    if finished:
        record_outcome(generation, outputs=outputs)
    return bool(finished)


def _save_output(client: fal.FalClient, generation: Generation, position: int, item: fal.MediaFile, nsfw: bool,
                 then=None) -> None:
    for attempt in range(1, MAX_DOWNLOAD_ATTEMPTS + 1):
        try:
            with client.download(item.url) as download:
                path, size, checksum = receive(download.iter_bytes(), expected_bytes=download.content_length)
            break
        except (fal.NetworkError, IngestError) as error:
            # A broken or short download is fetched again while the link is still valid.
            if attempt == MAX_DOWNLOAD_ATTEMPTS:
                raise
            logger.warning("Download of output %d for %s failed (%s); retrying", position, generation.id, error)
    verified = verify(path, size, checksum, claimed_type=item.content_type)
    if item.kind in ("image", "video", "audio") and verified.kind == "file":
        verified.path.unlink(missing_ok=True)
        raise IngestError(MISLABELLED_OUTPUT[item.kind])
    store_asset(verified, source=Asset.Source.OUTPUT, generation=generation,
                position=position, nsfw=nsfw, original_name=_safe_name(item.file_name),
                thumbnail_later=True,  # saved now; the tracker's PreviewMaker makes the thumbnail
                then=then)


def _reschedule(generation: Generation, error: fal.FalError) -> None:
    failures = generation.check_failures + 1
    Generation.objects.filter(id=generation.id, state=State.COLLECTING).update(
        waiting_reason=WAITING_FOR_SERVICE, check_failures=failures,
        next_check_at=timezone.now() + _backoff(failures, error))


STORAGE_FULL = "The server's storage is full. Atelier will keep trying and finish when space is freed."
STORAGE_UNWRITABLE = ("Atelier cannot write to its storage folder. It will keep trying and finish "
                      "once an administrator fixes the folder's permissions.")


def _storage_failed(generation: Generation, error: OSError) -> None:
    """Our disk, not the service, is the problem: keep the result JSON and retry until it is fixed.

    No give-up time: the outputs are paid for. If fal's links expire meanwhile, the next try
    ends the job as expired.
    """
    problem = storage_problem(error)
    logger.error("Cannot store outputs of generation %s: %s (%s). Free space or fix permissions under "
                 "MEDIA_ROOT; the job retries on its own.", generation.id, error.strerror or error, problem)
    failures = generation.check_failures + 1
    Generation.objects.filter(id=generation.id, state=State.COLLECTING).update(
        waiting_reason=STORAGE_FULL if problem == "full" else STORAGE_UNWRITABLE, check_failures=failures,
        next_check_at=timezone.now() + _backoff(failures))


# --- Cancel -----------------------------------------------------------------------------
def request_cancel(generation: Generation) -> bool:
    """Mark the job cancelled now (the person asked); the upstream cancel follows in a task."""
    now = timezone.now()
    updated = Generation.objects.filter(id=generation.id, state__in=[State.AWAITING_APPROVAL, State.SUBMITTING,
                                                                    State.QUEUED, State.RUNNING]
                                        ).update(state=State.CANCELLED, cancel_requested_at=now, finished_at=now,
                                                 next_check_at=None, waiting_reason="")
    if updated and generation.request_id:
        from studio.tasks import cancel_generation

        transaction.on_commit(lambda: cancel_generation.enqueue(str(generation.id)))
    return bool(updated)


def cancel_upstream(generation_id: str) -> None:
    generation = Generation.objects.filter(id=generation_id).first()
    if generation is not None and generation.request_id:
        _cancel_upstream(generation.model_id, generation.request_id)


def _cancel_upstream(model_id: str, request_id: str) -> None:
    client = get_client()
    try:
        outcome = client.cancel(client.handle_for(model_id, request_id))
    except fal.FalError as error:
        logger.warning("Cancel of %s was not confirmed: %s", request_id, error.message)
        return
    logger.info("Cancel of %s answered %s", request_id, outcome)
    if outcome == "ALREADY_COMPLETED":
        # Too late to stop it, and it is paid for: keep the outputs after all.
        Generation.objects.filter(request_id=request_id, state=State.CANCELLED).update(
            state=State.COLLECTING, finished_at=None, next_check_at=timezone.now())


# --- Helpers ----------------------------------------------------------------------------
def _fail(generation: Generation, *, error_type: str, message: str, from_states: list[str],
          field_errors: dict | None = None) -> None:
    Generation.objects.filter(id=generation.id, state__in=from_states).update(
        state=State.FAILED, error_type=error_type, error_message=message[:2000], field_errors=field_errors or {},
        finished_at=timezone.now(), next_check_at=None, waiting_reason="")


def _error_kind(error: fal.FalError) -> str:
    """A short word the job card turns into advice."""
    for cls, kind in (
        (fal.AuthenticationError, "auth"), (fal.PaymentRequiredError, "payment"),
        (fal.ValidationError, "invalid_input"), (fal.NotFoundError, "expired"),
        (fal.RateLimitError, "rate_limited"), (fal.SubmitOutcomeUnknown, "submit_unknown"),
        (fal.NetworkError, "network"), (fal.UpstreamError, "upstream"),
    ):
        if isinstance(error, cls):
            return kind
    return "upstream"


def _completion_error_kind(upstream_type: str | None) -> str:
    return "cancelled_upstream" if upstream_type == "request_cancelled" else "upstream"


def _backoff(failures: int, error: fal.FalError | None = None) -> timedelta:
    seconds = min(30.0, 2.0 ** failures)
    if isinstance(error, fal.RateLimitError) and error.retry_after:
        seconds = max(seconds, error.retry_after)
    return timedelta(seconds=seconds)


def _given_up(generation: Generation) -> bool:
    since = generation.completed_at or generation.submitted_at or generation.created_at
    return timezone.now() - since > GIVE_UP_AFTER


def _log_lines(logs: tuple[fal.LogLine, ...]) -> list[dict]:
    return [{"message": line.message[:500], "level": line.level, "at": line.timestamp} for line in logs[-MAX_LOG_LINES:]]


def _storable(result: dict) -> dict:
    """The result as JSON a database accepts: NaN and Infinity become null."""
    return json.loads(json.dumps(result, allow_nan=True), parse_constant=lambda _name: None)


def _safe_name(name: str | None) -> str:
    """An upstream file name for display only: last path part, printable, bounded."""
    last = re.split(r"[\\/]", name or "")[-1]
    return "".join(char for char in last if char.isprintable()).strip()[:255]


def _seed(result: dict) -> int | None:
    seed = result.get("seed")
    return seed if isinstance(seed, int) and not isinstance(seed, bool) and abs(seed) < 2**63 else None


def _inference(result: dict) -> float | None:
    timings = result.get("timings")
    value = timings.get("inference") if isinstance(timings, dict) else None
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        return None
    try:
        number = float(value)
    except OverflowError:
        return None
    return number if math.isfinite(number) and number >= 0 else None
