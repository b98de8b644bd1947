"""Search text rewritten for the Chinese words of events.search: Simplified bigrams.

Until now a run of Han characters was one word (微信公众号) and Traditional and Simplified
characters differed. The search text of every event that holds Han characters is recomputed by
the service the curators' saves use, a batch of ids at a time, and written where its words
changed. It reads through this migration's models, so later columns cannot break it.

Where any event's words changed, the public data version moves on (as a public change
would), so cached answers and ETags of searches made before it are not served again.

Unapplying leaves the new words: search text is derived, and code before this migration still
finds a two-character word such as 微信 in it.
"""

import importlib

from django.db import migrations

from events.search import HAS_HAN
from events.services import events_search_rebuild

change_log = importlib.import_module("events.migrations.0011_public_change_log")


def rebuild(apps, schema_editor):
    events = apps.get_model("events", "Event")._default_manager.using(
        schema_editor.connection.alias
    )
    # Text without Han characters splits into the same words as before: only search text
    # holding some can change. The others are passed over by the database, never loaded.
    changed = events_search_rebuild(events=events.filter(search_text__regex=HAS_HAN.pattern))
    if changed:
        with schema_editor.connection.cursor() as cursor:
            if schema_editor.connection.vendor == "postgresql":
                cursor.execute("SELECT events_public_version_next()")
            elif schema_editor.connection.vendor == "sqlite":
                cursor.execute(change_log.SQLITE_NEXT)


class Migration(migrations.Migration):
    # Each batch commits on its own: a million events are not rewritten in one transaction,
    # and a rebuild stopped half way is simply run again.
    atomic = False

    dependencies = [
        ("events", "0013_public_version_restarts_after_the_log"),
    ]

    operations = [migrations.RunPython(rebuild, migrations.RunPython.noop, elidable=True)]
