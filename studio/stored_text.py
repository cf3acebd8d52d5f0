"""Messages kept on a job (error text, waiting reason) are stored in English and translated when shown.

A job fails in a worker, where nobody's language is active, and is read later by people
who may each use another language. So the worker stores the English text, and the job
card passes it through `translate_stored()`: a text written by Atelier itself (here, in
jobs.py, in gallery.ingest, or by the fal client) comes out in the reader's language; a
text the service wrote (fal's own detail) has no translation and is shown as it came.

Texts with values in them are listed as patterns: "%(name)s" stands for any value, which
is carried over into the translation unchanged. The fal client knows nothing of Django, so
its messages are listed here; tests/test_translations.py checks that every message the
client, ingest and jobs modules can write matches one of these.
"""

from __future__ import annotations

import functools
import re

from django.utils.translation import gettext, gettext_noop

STORED_TEXTS = (
    # studio.jobs
    gettext_noop("Waiting for the service to answer. Atelier keeps trying."),
    gettext_noop("Atelier could not prepare this job (its input images could not be read)."),
    gettext_noop("The model could not finish this job."),
    gettext_noop("The service no longer knows this job; its result may have expired."),
    gettext_noop("The service finished but sent back no files."),
    gettext_noop("The result expired before Atelier could save it."),
    gettext_noop("A file from the service could not be kept: %(reason)s"),
    gettext_noop("The service called this file an image, but it is not one."),
    gettext_noop("The service called this file a video, but it is not one."),
    gettext_noop("The service called this file an audio file, but it is not one."),
    gettext_noop("The server's storage is full. Atelier will keep trying and finish when space is freed."),
    gettext_noop("Atelier cannot write to its storage folder. It will keep trying and finish once an "
                 "administrator fixes the folder's permissions."),
    gettext_noop("Atelier lost contact with the service while sending this job. If the service took it, "
                 "the result will appear here by itself."),
    gettext_noop("Atelier could not confirm that the service accepted this job. It was not sent a second "
                 "time, so it cannot have been charged twice."),
    # usage.approvals
    gettext_noop("An administrator did not approve this job: %(reason)s"),
    gettext_noop("An administrator did not approve this job."),
    # studio.input_images
    gettext_noop("An input image of this job is no longer in the gallery."),
    # gallery.ingest
    gettext_noop("The file is larger than the %(limit)s MB limit."),
    gettext_noop("The download stopped early (%(size)s of %(expected)s bytes)."),
    gettext_noop("The file is empty."),
    gettext_noop("The image has more than %(limit)s megapixels."),
    gettext_noop("The image is damaged or incomplete."),
    gettext_noop("Images in %(format)s format are not kept."),
    gettext_noop("The file does not contain the %(type)s it claims to be."),
    # fal.client
    gettext_noop("The service accepted the request but sent no request id."),
    gettext_noop("The service sent a result that is not a JSON object."),
    gettext_noop("The file download broke off (%(error)s)."),
    gettext_noop("The file host %(host)s could not be found."),
    gettext_noop("The service sent a file address on a private network; Atelier does not fetch those."),
    gettext_noop("The request was sent but no answer came back, so it may or may not have been accepted (%(error)s)."),
    gettext_noop("Could not reach the service (%(error)s)."),
    gettext_noop("The service answered with something that is not JSON (HTTP %(code)s)."),
    gettext_noop("The service sent a status that is not a JSON object."),
    gettext_noop("The service sent an unknown request status %(status)s."),
    gettext_noop("The service could not use this request."),
    gettext_noop("The service did not accept the API key."),
    gettext_noop("The API key is not allowed to use this model."),
    gettext_noop("The account is out of credit."),
    gettext_noop("The service does not know this request, or its result has expired."),
    gettext_noop("This result has expired."),
    gettext_noop("The service rejected the input."),
    gettext_noop("Too many requests at once."),
    gettext_noop("The service failed (HTTP %(code)s)."),
    gettext_noop("Invalid value"),
    gettext_noop("A result file redirected too many times."),
    gettext_noop("A result file has an address that is not a web URL."),
    gettext_noop("A result file is an unreadable data URI."),
    gettext_noop("A result file has an address that is not a valid web URL."),
)

_FIELD = re.compile(r"%\(([a-z_]+)\)s")


@functools.cache
def _patterns() -> tuple[tuple[re.Pattern[str], str], ...]:
    """Texts with values, as regular expressions (longest first, so the most specific wins)."""
    compiled = []
    for text in sorted((t for t in STORED_TEXTS if _FIELD.search(t)), key=len, reverse=True):
        pieces, last = [], 0
        for match in _FIELD.finditer(text):
            pieces.append(re.escape(text[last:match.start()]))
            pieces.append(f"(?P<{match.group(1)}>.+?)")
            last = match.end()
        pieces.append(re.escape(text[last:]))
        compiled.append((re.compile("".join(pieces), re.DOTALL), text))
    return tuple(compiled)


def translate_stored(text: str) -> str:
    """The stored English text in the active language, when Atelier wrote it; otherwise unchanged."""
    if not text:
        return text
    if text in _PLAIN:
        return gettext(text)
    for pattern, template in _patterns():
        match = pattern.fullmatch(text)
        if match:
            values = {name: translate_stored(value) for name, value in match.groupdict().items()}
            return gettext(template) % values
    return text


_PLAIN = frozenset(t for t in STORED_TEXTS if not _FIELD.search(t))
