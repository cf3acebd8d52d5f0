"""Django's own words that Atelier shows but Django's Vietnamese catalogue lacks.

Our catalogue (locale/) is searched before Django's, so listing them here lets us supply
the missing translations: "3 minutes" in "3 minutes ago", and the short-password message.
Check again on a Django upgrade (tests/test_translations.py renders both in Vietnamese).
"""

from django.utils.translation import ngettext_lazy

DJANGO_STRINGS = [
    # django.utils.timesince, used by the `timesince` filter.
    ngettext_lazy("%(num)d year", "%(num)d years", "num"),
    ngettext_lazy("%(num)d month", "%(num)d months", "num"),
    ngettext_lazy("%(num)d week", "%(num)d weeks", "num"),
    ngettext_lazy("%(num)d day", "%(num)d days", "num"),
    ngettext_lazy("%(num)d hour", "%(num)d hours", "num"),
    ngettext_lazy("%(num)d minute", "%(num)d minutes", "num"),
    # django.contrib.auth.password_validation.MinimumLengthValidator
    ngettext_lazy("This password is too short. It must contain at least %d character.",
                  "This password is too short. It must contain at least %d characters.", 8),
]
