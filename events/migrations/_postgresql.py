"""Migrations that only PostgreSQL runs: indexes SQLite has no use for (or cannot build),
made and dropped CONCURRENTLY, so the migration itself must not be atomic."""

from django.db import migrations


def postgresql_only(forward, backward):
    """Return an operation running the forward statements on PostgreSQL (the backward ones
    to undo it), and nothing on another database."""

    def run(statements):
        def apply(apps, schema_editor):
            if schema_editor.connection.vendor == "postgresql":
                for statement in statements:
                    schema_editor.execute(statement)

        return apply

    return migrations.RunPython(run(forward), run(backward))
