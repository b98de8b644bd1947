"""The words of published events, with each event's day and place, on PostgreSQL.

A search's first view counts its matches per day and per country for the chart and the map.
From the events, that reads every match's row: `q=bloggers` (31,465 matches at a million
events) reads 31,397 pages of the table, 225 ms. This table holds each published event's
words (the lexemes of its search_vector) beside its day, country and is_global, and its one
index carries them all, so the same counts are an index-only range scan: 50 ms
(timeline.stats.word_days_and_places). 23 million rows at a million events, 1.2 GB and an
index of 0.9 GB.

The table and its triggers are written in _published_words, which 0027 rebuilds with the
last day kept too.
"""

from django.db import migrations

from ._published_words import rebuilt

KEPT = ("date_earliest", "country", "is_global")  # what the counts read beside the word


class Migration(migrations.Migration):
    dependencies = [
        ("events", "0025_name_use"),
    ]

    operations = [rebuilt(KEPT)]
