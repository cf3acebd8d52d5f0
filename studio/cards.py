"""The job card a browser polls once a second: cheap to answer when nothing has changed.

Every open job's card asks once a second (bench/load_job_cards.py drives 200 browsers). Often
the answer is a card the browser already has (a job waiting in the queue, a run without new
log lines), or one another tab of the same person was just sent. So:

- The card's ETag is a digest of what the card shows: the job's row (without the tracker's
  bookkeeping), its outputs and the reader's language. It is computed from the database row
  the view reads anyway, before anything is rendered. The elapsed time is not in it: the
  browser ticks it (static/js/studio.js) from the card's `data-elapsed-since`, against the
  server's clock sent in `X-Server-Time` with every answer.
- `Cache-Control: private, no-cache` lets the browser keep the card and revalidate it on
  every poll with If-None-Match: an unchanged card is a 304 without a body, and the browser
  hands htmx the copy it holds.
- The rendered bytes are kept in this process under that ETag, so other tabs polling the
  same job, and repeated asks for a final card, are not rendered again.

A final card (HTTP 286, polling stops) is never answered 304: htmx must see the 286.
A card waiting for approval shows its charge (another table) and asks every 10 s: it is
rendered every time.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections import OrderedDict
from functools import cache
from pathlib import Path

from django.conf import settings
from django.db.models import prefetch_related_objects
from django.http import HttpRequest, HttpResponse, HttpResponseNotModified
from django.template.loader import get_template, render_to_string
from django.utils import translation
from django.utils.cache import patch_vary_headers
from django_htmx.http import HttpResponseStopPolling

from studio.models import Generation

TEMPLATE = "studio/_job_card.html"
# Columns that change while the card stays the same: when a tracker looks next, how often a
# look failed (the card shows `waiting_reason` instead), submit bookkeeping, what was sent and
# the raw result (neither is shown; the result arrives with the move to collecting).
NOT_SHOWN = frozenset({"next_check_at", "check_failures", "submit_sent_at", "webhook_registered",
                       "arguments", "result"})
# An output's thumbnail lease is bookkeeping too; the thumbnail itself is shown.
ASSET_NOT_SHOWN = frozenset({"thumbnail_due_at"})
CACHED_CARDS = 1024  # rendered cards kept per process (a few kB each)
SERVER_TIME_HEADER = "X-Server-Time"


class _RenderedCards:
    """Rendered card bodies by ETag, least recently used dropped first; safe across threads."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._bodies: OrderedDict[str, bytes] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, tag: str) -> bytes | None:
        with self._lock:
            body = self._bodies.get(tag)
            if body is not None:
                self._bodies.move_to_end(tag)
            return body

    def put(self, tag: str, body: bytes) -> None:
        with self._lock:
            self._bodies[tag] = body
            self._bodies.move_to_end(tag)
            while len(self._bodies) > self.size:
                self._bodies.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._bodies.clear()


rendered_cards = _RenderedCards(CACHED_CARDS)


def card_response(request: HttpRequest, generation: Generation) -> HttpResponse:
    """The card of a job the person may see: 200, 286 when final, 304 when unchanged."""
    if generation.state == Generation.State.AWAITING_APPROVAL:
        return _with_clock(HttpResponse(render_to_string(TEMPLATE, {"job": generation}, request=request)))
    if generation.state not in Generation.STATES_BEFORE_OUTPUTS:
        # One query, and the template's `job.outputs` reads what it fetched.
        prefetch_related_objects([generation], "assets")
    tag = etag(generation, translation.get_language())
    final = generation.is_final
    if not final and tag in _if_none_match(request):
        response = HttpResponseNotModified()
    else:
        body = rendered_cards.get(tag)
        if body is None:
            body = render_to_string(TEMPLATE, {"job": generation}, request=request).encode()
            rendered_cards.put(tag, body)
        # 286 tells htmx to stop polling; the final card carries no hx-trigger.
        response = HttpResponseStopPolling(body) if final else HttpResponse(body)
    if final:
        response["Cache-Control"] = "private, no-store"
    else:
        response["ETag"] = tag
        response["Cache-Control"] = "private, no-cache"
    patch_vary_headers(response, ("Cookie", "Accept-Language"))
    return _with_clock(response)


def etag(generation: Generation, language: str) -> str:
    """A strong ETag for what the card shows; the same in every web process of one release."""
    values: list = [_release(), language]
    values += [(field.attname, field.value_from_object(generation)) for field in Generation._meta.concrete_fields
               if field.attname not in NOT_SHOWN]
    for asset in generation.outputs:
        values += [(field.attname, field.value_from_object(asset)) for field in asset._meta.concrete_fields
                   if field.attname not in ASSET_NOT_SHOWN]
    return '"' + hashlib.blake2b(repr(values).encode(), digest_size=16).hexdigest() + '"'


def _if_none_match(request: HttpRequest) -> list[str]:
    header = request.headers.get("If-None-Match", "")
    return [tag.strip().removeprefix("W/") for tag in header.split(",")] if header else []


def _with_clock(response: HttpResponse) -> HttpResponse:
    """The server's clock, so the browser ticks elapsed times without trusting its own."""
    response[SERVER_TIME_HEADER] = str(int(time.time() * 1000))
    return response


@cache
def _release() -> str:
    """What else decides the card's bytes: its templates and the compiled translations.

    A new release changes this, so browsers holding a card from the old one get the new one.
    """
    digest = hashlib.blake2b(digest_size=8)
    files = [Path(get_template(TEMPLATE).origin.name), Path(__file__).parent / "templatetags" / "studio_tags.py"]
    files += sorted(mo for locale in settings.LOCALE_PATHS for mo in Path(locale).glob("*/LC_MESSAGES/*.mo"))
    for path in files:
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()
