"""fal's webhook: when a job is done, fal calls a URL of ours that names the job (signed).

It brings the request id even when a crash lost the submit's answer, so a job fal accepted is
always found again; for jobs already tracked it only makes the tracker look at once. The body
is not trusted for results: the tracker fetches them from fal with the request id as usual.
Used only when PUBLIC_BASE_URL is set (fal must be able to reach us); polling stays the net.
"""

from __future__ import annotations

import json
import logging

from django.conf import settings
from django.core import signing
from django.core.exceptions import RequestDataTooBig
from django.http import Http404, HttpRequest, JsonResponse
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

logger = logging.getLogger(__name__)
SIGNING_SALT = "atelier.fal-webhook"


def webhook_url(generation) -> str | None:
    """The URL fal should call for this job, or None without a public address."""
    if not settings.PUBLIC_BASE_URL:
        return None
    token = signing.dumps(str(generation.id), salt=SIGNING_SALT)
    return settings.PUBLIC_BASE_URL + reverse("studio:fal_webhook", args=[token])


def generation_id_from_token(token: str) -> str | None:
    try:
        return signing.loads(token, salt=SIGNING_SALT)
    except signing.BadSignature:
        return None


@csrf_exempt  # fal cannot send our CSRF token; the signed URL is the credential
@require_POST
def fal_webhook(request: HttpRequest, token: str) -> JsonResponse:
    from studio import jobs
    from studio.models import Generation

    generation_id = generation_id_from_token(token)
    generation = Generation.objects.filter(id=generation_id).first() if generation_id else None
    if generation is None:
        raise Http404("No such job.")
    try:
        body = json.loads(request.body)
    except RequestDataTooBig:
        return JsonResponse({"detail": "The notification is too large; the job is found by polling."}, status=413)
    except ValueError:
        body = None
    request_id = body.get("request_id") if isinstance(body, dict) else None
    if not isinstance(request_id, str) or not 0 < len(request_id) <= 200:
        return JsonResponse({"detail": "Expected a JSON object with a request_id."}, status=400)
    jobs.webhook_arrived(generation, request_id)
    return JsonResponse({"ok": True})
