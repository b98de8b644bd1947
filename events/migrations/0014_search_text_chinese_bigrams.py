"""Search text rewritten for the Chinese words of events.search: Simplified bigrams.

Until now a run of Han characters was one word (微信公众号) and Traditional and Simplified
characters differed. The search text of every event that holds Han characters is recomputed by
the service the curators' saves use, a batch of ids at a time, and written where its words
changed. It reads through this migration's models, so later columns cannot break it.

Unapplying leaves the new words: search text is derived, and code before this migration still
finds a two-character word such as 微信 in it.
"""

from django.db import migrations

from events.search import HAS_HAN
from events.services import events_search_rebuild


def rebuild(apps, schema_editor):
    events = apps.get_model("events", "Event")._default_manager.using(
        schema_editor.connection.alias
    )
    # Text without Han characters splits into the same words as before: only search text
    # holding some can change. The others are passed over by the database, never loaded.
    events_search_rebuild(events=events.filter(search_text__regex=HAS_HAN.pattern))


class Migration(migrations.Migration):
    # Each batch commits on its own: a million events are not rewritten in one transaction,
    # and a rebuild stopped half way is simply run again.
    atomic = False

    dependencies = [
        ("events", "0013_public_version_restarts_after_the_log"),
    ]

    operations = [migrations.RunPython(rebuild, migrations.RunPython.noop, elidable=True)]
