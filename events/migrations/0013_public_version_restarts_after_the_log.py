"""Databases migrated to 0011 before its version counter learnt to restart after the log."""

import importlib

from django.db import migrations

change_log = importlib.import_module("events.migrations.0011_public_change_log")


def replace_counter(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(change_log.POSTGRESQL_NEXT)
    elif schema_editor.connection.vendor == "sqlite":
        for statement in change_log.SQLITE_DROP + change_log.SQLITE_TRIGGERS:
            schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [
        ("events", "0012_drop_public_version_indexes"),
    ]

    operations = [migrations.RunPython(replace_counter, migrations.RunPython.noop)]
