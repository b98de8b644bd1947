"""The timeline's counts for one event type, from an index alone (PostgreSQL only).

As for a country (0016): a type's published events in date order, carrying the columns the
chart and the map count, so the first view of a type does not read the table (a type of
47,586 events at a million: counted in 19 ms). A category is its types, read the same way.
"""

from django.db import migrations

from ._postgresql import postgresql_only

FORWARD = """
    CREATE INDEX CONCURRENTLY IF NOT EXISTS event_published_type_idx ON events_event
    (event_type_id, date_earliest) INCLUDE (country, is_global) WHERE status = 'published'
"""
BACKWARD = "DROP INDEX CONCURRENTLY IF EXISTS event_published_type_idx"


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("events", "0017_source_archive_and_link_status")]

    operations = [postgresql_only([FORWARD], [BACKWARD])]
