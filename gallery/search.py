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
COMMON_MATCHES = 1000  # generations; above it SQLite walks the grid index (filter_by_prompt)


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
        # SQLite drives this from the FTS matches and sorts them all: fast for a rare word,
        # linear in the matches for a common one. Counting matches is cheap (doclists only);
        # past COMMON_MATCHES, a unary + hides the column from the planner, so it walks the
        # grid index newest-first, tests each row against the matches, and stops after a page.
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM studio_generation_fts WHERE studio_generation_fts MATCH %s",
                           [match])
            common = cursor.fetchone()[0] > COMMON_MATCHES
        column = "+gallery_asset.generation_id" if common else "gallery_asset.generation_id"
        return assets.extra(
            where=[f"{column} IN (SELECT generation_id FROM studio_generation_fts "
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


# --- Keeping SQLite's FTS5 index in place --------------------------------------------------
# Django rebuilds a SQLite table to alter it, which drops its triggers. So after every
# migrate the triggers are put back (IF NOT EXISTS), and the index refilled if it drifted.
_SQLITE_FTS = [
    "CREATE VIRTUAL TABLE IF NOT EXISTS studio_generation_fts USING fts5(generation_id UNINDEXED, prompt, "
    "tokenize = 'unicode61 remove_diacritics 2')",
    "CREATE TRIGGER IF NOT EXISTS studio_generation_fts_insert AFTER INSERT ON studio_generation BEGIN "
    "INSERT INTO studio_generation_fts (generation_id, prompt) VALUES (new.id, new.prompt); END",
    "CREATE TRIGGER IF NOT EXISTS studio_generation_fts_update AFTER UPDATE OF prompt ON studio_generation BEGIN "
    "UPDATE studio_generation_fts SET prompt = new.prompt WHERE generation_id = old.id; END",
    "CREATE TRIGGER IF NOT EXISTS studio_generation_fts_delete AFTER DELETE ON studio_generation BEGIN "
    "DELETE FROM studio_generation_fts WHERE generation_id = old.id; END",
]


def ensure_sqlite_fts(using: str = "default", **kwargs) -> None:
    from django.db import connections

    connection = connections[using]
    if connection.vendor != "sqlite" or "studio_generation" not in connection.introspection.table_names():
        return
    with connection.cursor() as cursor:
        for statement in _SQLITE_FTS:
            cursor.execute(statement)
        cursor.execute("SELECT (SELECT COUNT(*) FROM studio_generation) - (SELECT COUNT(*) FROM studio_generation_fts)")
        if cursor.fetchone()[0] != 0:
            cursor.execute("DELETE FROM studio_generation_fts")
            cursor.execute("INSERT INTO studio_generation_fts (generation_id, prompt) "
                           "SELECT id, prompt FROM studio_generation")
