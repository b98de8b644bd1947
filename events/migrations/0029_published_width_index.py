"""Published events by the width of their span, then their earliest day (PostgreSQL only).

The timeline's counts for a year or a month (the events that may have touched it) were read
from the GiST index of the spans (0016): at a million events, 44,000 events for March 2016
from 16,000 of its pages, 70 ms. Keyed by width (events.querysets.PublishedSpans), the same
events are read class by class, each a range of this B-tree, carrying the columns counted,
and their last change, by which a list in order of update sorts them.

Built CONCURRENTLY, as 0016: a live database keeps taking writes while it is made.
"""

from django.db import migrations

from ._postgresql import postgresql_only

# The width's class, as events.querysets.SPAN_WIDTH_CLASS writes it (so the planner matches
# the two): fewer than 1, 2, 4, ... 8192 days, more, or ongoing (NULL).
FORWARD = """
    CREATE INDEX CONCURRENTLY IF NOT EXISTS event_published_width_idx ON events_event
    ((width_bucket(date_latest - date_earliest,
      ARRAY[1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192]::integer[])),
     date_earliest) INCLUDE (date_latest, country, is_global, updated_at, id)
    WHERE status = 'published'
"""
BACKWARD = "DROP INDEX CONCURRENTLY IF EXISTS event_published_width_idx"


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("events", "0028_published_words_in_list_order")]

    operations = [postgresql_only([FORWARD], [BACKWARD])]
