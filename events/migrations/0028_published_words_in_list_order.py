"""The published words' index keeps each word's rows in the list's order: by the event's
earliest day, then its id (PostgreSQL). The rows of two words that begin no other word are
then merged in that order, so a search's page stops at its last match and its counts join
the words' rows without hashing them (timeline.filters.PublishedWords). The place is carried
beside them, where it was part of the key. The index is built again: about a minute at a
million events.
"""

from django.db import migrations

from ._published_words import reindexed

KEY = ("date_earliest",)
CARRIED = ("country", "is_global", "date_latest")
BEFORE = (("date_earliest", "country", "is_global"), ("date_latest",))  # 0027's


class Migration(migrations.Migration):
    dependencies = [
        ("events", "0027_published_words_last_day"),
    ]

    operations = [reindexed(KEY, CARRIED, BEFORE)]
