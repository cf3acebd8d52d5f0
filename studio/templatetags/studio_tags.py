"""Small presentation helpers for the studio pages: durations, advice after a failure."""

from __future__ import annotations

from datetime import timedelta

from django import template
from django.utils import formats, timezone
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from studio.models import Generation
from studio.stored_text import translate_stored

register = template.Library()

# What a person can do about each kind of failure, in plain words.
ADVICE = {
    "auth": gettext_lazy("The service did not accept Atelier's key. Ask your administrator to check the fal key."),
    "payment": gettext_lazy("The fal account is out of credit. Ask your administrator to top it up, then retry."),
    "invalid_input": gettext_lazy("The service did not accept some settings. Fix the marked fields and generate again."),
    "expired": gettext_lazy("The result expired before Atelier could save it. Generate again to get a new one."),
    "rate_limited": gettext_lazy("The service is busy. Wait a minute, then retry."),
    "submit_unknown": gettext_lazy("The connection broke while this job was being sent and the service never "
                                   "confirmed it. Press Retry to send it again."),
    "network": gettext_lazy("Atelier could not reach the service. Retry in a moment."),
    "upstream": gettext_lazy("The service could not finish this job. Retry; if it keeps failing, change the settings."),
    "no_output": gettext_lazy("The service finished but sent back no files. Retry, or change the settings."),
    "bad_output": gettext_lazy("The service sent back a damaged file. Retry."),
    "cancelled_upstream": gettext_lazy("The service cancelled this job."),
    "not_approved": gettext_lazy("This job was not sent, so it cost nothing. Change the settings and generate again."),
}


@register.filter
def advice(generation: Generation) -> str:
    return ADVICE.get(generation.error_type, ADVICE["upstream"])


@register.filter
def elapsed(generation: Generation) -> str:
    """Time since the job started, or its total time once it is over."""
    duration = generation.total_duration or (timezone.now() - generation.created_at)
    return seconds_text(duration)


@register.simple_tag
def ticking_clock(generation: Generation) -> str:
    """Attributes that let the browser tick a job's elapsed time (static/js/studio.js).

    The card's bytes then stay the same from one second to the next, so an unchanged card
    can be answered 304 (studio/cards.py). The texts are `seconds_text`'s, in the reader's
    language; none once the job is over, when its total time stands still.
    """
    if generation.is_final:
        return ""
    return format_html(
        ' data-elapsed-since="{}" data-seconds="{}" data-minutes="{}" data-hours="{}" data-decimal="{}"',
        int(generation.created_at.timestamp() * 1000), _("%(seconds)s s"), _("%(minutes)s min %(seconds)s s"),
        _("%(hours)s h %(minutes)s min"), formats.get_format("DECIMAL_SEPARATOR"))


@register.filter
def seconds_text(duration: timedelta | float | None) -> str:
    """A short duration in the reader's language and number format: "4.2 s", "3 min 05 s"."""
    if duration is None:
        return ""
    seconds = duration.total_seconds() if isinstance(duration, timedelta) else float(duration)
    if seconds < 60:
        amount = formats.number_format(seconds, decimal_pos=1 if seconds < 10 else 0)
        return _("%(seconds)s s") % {"seconds": amount}
    minutes, rest = divmod(int(seconds), 60)
    if minutes < 60:
        return _("%(minutes)s min %(seconds)s s") % {"minutes": minutes, "seconds": f"{rest:02d}"}
    hours, minutes = divmod(minutes, 60)
    return _("%(hours)s h %(minutes)s min") % {"hours": hours, "minutes": f"{minutes:02d}"}


@register.filter
def stored_text(text: str) -> str:
    """A message saved on a job, in the reader's language when Atelier wrote it."""
    return translate_stored(text)


@register.filter
def field_role(bound_field) -> str:
    """How the generate form shows a field: "image", "seed", or "" for a plain field."""
    attrs = bound_field.field.widget.attrs
    if "data-gallery-input" in attrs:
        return "image"
    if "data-roll-seed" in attrs:
        return "seed"
    return ""


@register.filter
def gallery_name(bound_field) -> str:
    return bound_field.field.widget.attrs.get("data-gallery-input", "")


@register.filter
def chosen_for(form, field_name: str) -> list:
    """Gallery pictures currently chosen for one picture field of the generate form."""
    return form.chosen_assets().get(field_name, [])
