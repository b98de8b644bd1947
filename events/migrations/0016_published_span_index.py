"""The span of every published event as a date range, GiST indexed (PostgreSQL only).

A date filter asks which events may have touched a range: began before its end and ended
(or go on) after its start. As two comparisons, a B-tree reads every event that began before
the end to test its end (400,000 rows for 2010 at a million events); the range's overlap
operator reads the GiST index for the matches alone. The included columns let the
timeline's counts per day and per country be answered from the index without reading the
table: 55,556 events of 2010 counted in 53 ms instead of 646 ms.

Built CONCURRENTLY, so a live database keeps taking writes while it is made (4 s at a
million events). SQLite compares the two columns (events.querysets.overlapping).
"""

from django.db import migrations

from ._postgresql import postgresql_only

FORWARD = [
    """CREATE INDEX CONCURRENTLY IF NOT EXISTS event_published_span_idx ON events_event
       USING gist (daterange(date_earliest, date_latest, '[]'))
       INCLUDE (date_earliest, date_latest, country, is_global)
       WHERE status = 'published'""",
    # The same counts for one country (the map's links): its published events in date
    # order, read from the index alone (China, 124,813 events: 200 ms down to 30 ms).
    """CREATE INDEX CONCURRENTLY IF NOT EXISTS event_published_country_idx ON events_event
       (country, date_earliest) INCLUDE (is_global) WHERE status = 'published'""",
]
BACKWARD = [
    "DROP INDEX CONCURRENTLY IF EXISTS event_published_country_idx",
    "DROP INDEX CONCURRENTLY IF EXISTS event_published_span_idx",
]


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("events", "0015_translatable_labels")]

    operations = [postgresql_only(FORWARD, BACKWARD)]
