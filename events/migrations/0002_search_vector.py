"""Full-text search on PostgreSQL: a generated tsvector over Event.search_text, GIN indexed.

SQLite needs nothing here: it matches search_text with LIKE (events.search).
"""

from django.db import migrations

FORWARD = [
    """ALTER TABLE events_event ADD COLUMN search_vector tsvector
       GENERATED ALWAYS AS (to_tsvector('simple'::regconfig, search_text)) STORED""",
    # Serves q= on the event list, stats and exports: "every word begins a word".
    "CREATE INDEX event_search_vector_idx ON events_event USING gin (search_vector)",
]
BACKWARD = [
    "DROP INDEX IF EXISTS event_search_vector_idx",
    "ALTER TABLE events_event DROP COLUMN IF EXISTS search_vector",
]


def run(statements):
    def apply(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        for statement in statements:
            schema_editor.execute(statement)

    return apply


class Migration(migrations.Migration):
    dependencies = [("events", "0001_initial")]

    operations = [migrations.RunPython(run(FORWARD), run(BACKWARD))]
