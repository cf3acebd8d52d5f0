"""Full-text search over prompts: a PostgreSQL GIN index (SQLite: see gallery.search)."""

from django.db import migrations

# SQLite's FTS5 table and its triggers are created (and re-created after every migrate, since
# Django drops a table's triggers when it rebuilds it) by gallery.search.ensure_sqlite_fts,
# run on post_migrate. Only the way down lives here.
SQLITE_DOWN = [
    "DROP TRIGGER IF EXISTS studio_generation_fts_insert",
    "DROP TRIGGER IF EXISTS studio_generation_fts_update",
    "DROP TRIGGER IF EXISTS studio_generation_fts_delete",
    "DROP TABLE IF EXISTS studio_generation_fts",
]
POSTGRES_UP = [
    "CREATE INDEX studio_generation_prompt_fts ON studio_generation "
    "USING GIN (to_tsvector('simple', prompt))",
]
POSTGRES_DOWN = ["DROP INDEX IF EXISTS studio_generation_prompt_fts"]


def _run(statements_by_vendor):
    def run(apps, schema_editor):
        for statement in statements_by_vendor.get(schema_editor.connection.vendor, []):
            schema_editor.execute(statement)
    return run


class Migration(migrations.Migration):
    dependencies = [("studio", "0002_catalogue_entry")]

    operations = [
        migrations.RunPython(
            _run({"postgresql": POSTGRES_UP}),
            _run({"sqlite": SQLITE_DOWN, "postgresql": POSTGRES_DOWN}),
        ),
    ]
