"""Full-text search over prompts: SQLite FTS5 kept in step by triggers, or a PostgreSQL GIN index."""

from django.db import migrations

SQLITE_UP = [
    # External-content-free FTS table: the generation id rides along, unindexed.
    "CREATE VIRTUAL TABLE studio_generation_fts USING fts5(generation_id UNINDEXED, prompt, "
    "tokenize = 'unicode61 remove_diacritics 2')",
    "INSERT INTO studio_generation_fts (generation_id, prompt) SELECT id, prompt FROM studio_generation",
    "CREATE TRIGGER studio_generation_fts_insert AFTER INSERT ON studio_generation BEGIN "
    "INSERT INTO studio_generation_fts (generation_id, prompt) VALUES (new.id, new.prompt); END",
    "CREATE TRIGGER studio_generation_fts_update AFTER UPDATE OF prompt ON studio_generation BEGIN "
    "UPDATE studio_generation_fts SET prompt = new.prompt WHERE generation_id = old.id; END",
    "CREATE TRIGGER studio_generation_fts_delete AFTER DELETE ON studio_generation BEGIN "
    "DELETE FROM studio_generation_fts WHERE generation_id = old.id; END",
]
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
            _run({"sqlite": SQLITE_UP, "postgresql": POSTGRES_UP}),
            _run({"sqlite": SQLITE_DOWN, "postgresql": POSTGRES_DOWN}),
        ),
    ]
