"""Free-text search over prompts, with whichever full-text engine the database has.

SQLite: the FTS5 table `studio_generation_fts` (kept in step by triggers); PostgreSQL: a GIN
index on to_tsvector('simple', prompt). Words are matched as prefixes, all of them required.
"""

from __future__ import annotations

import re

from django.db import connection
from django.db.models import QuerySet

_WORD = re.compile(r"\w+", re.UNICODE)
MAX_WORDS = 12


def search_words(text: str) -> list[str]:
    """The words of a search box, stripped of operators so no query syntax leaks through."""
    return _WORD.findall(text.lower())[:MAX_WORDS]


def filter_by_prompt(assets: QuerySet, text: str) -> QuerySet:
    """Assets whose generation's prompt contains every word (as a prefix)."""
    words = search_words(text)
    if not words:
        return assets
    if connection.vendor == "sqlite":
        match = " ".join(f'"{word}"*' for word in words)
        return assets.extra(
            where=["gallery_asset.generation_id IN (SELECT generation_id FROM studio_generation_fts "
                   "WHERE studio_generation_fts MATCH %s)"],
            params=[match])
    if connection.vendor == "postgresql":
        query = " & ".join(f"{word}:*" for word in words)
        return assets.extra(
            where=["gallery_asset.generation_id IN (SELECT id FROM studio_generation "
                   "WHERE to_tsvector('simple', prompt) @@ to_tsquery('simple', %s))"],
            params=[query])
    # Any other database: a plain, slower substring match.
    for word in words:
        assets = assets.filter(generation__prompt__icontains=word)
    return assets
