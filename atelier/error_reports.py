"""What Django's error reports (DEBUG pages, mails to ADMINS) may show of the settings.

Django hides settings whose names look secret (KEY, PASS, TOKEN…). Connection URLs carry
passwords too (postgres://user:password@host/db, redis://:password@host), under names it does
not suspect: DATABASE_URL, REDIS_URL, CACHE_REDIS_URL, and the copies in RQ_QUEUES ("URL") and
CACHES ("LOCATION").
"""

from __future__ import annotations

import re

from django.views.debug import SafeExceptionReporterFilter


class SettingsFilter(SafeExceptionReporterFilter):
    hidden_settings = re.compile(
        "API|AUTH|TOKEN|KEY|SECRET|PASS|SIGNATURE|HTTP_COOKIE|DATABASE_URL|REDIS_URL|^URL$|^LOCATION$", flags=re.I)
