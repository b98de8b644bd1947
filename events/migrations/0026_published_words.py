"""The words of published events, with each event's day and place, on PostgreSQL.

A search's first view counts its matches per day and per country for the chart and the map.
From the events, that reads every match's row: `q=bloggers` (31,465 matches at a million
events) reads 31,397 pages of the table, 225 ms. This table holds each published event's
words (the lexemes of its search_vector) beside its day, country and is_global, and its one
index carries them all, so the same counts are an index-only range scan: 50 ms
(timeline.stats.word_days_and_places). 23 million rows at a million events, 1.2 GB and an
index of 0.9 GB.

Kept by triggers on the events table, as the tallies are (0020, 0024): a publication adds an
event's words, a retraction or deletion removes them, and an edit of its text, day or place
rewrites them; an edit of anything else writes nothing. Inserts and deletions are folded per
statement; updates are taken row by row (MOVED, below). A row is found again by every
column of the index, so no second index is needed. SQLite has no search_vector (it matches
the search text with LIKE) and needs nothing here.
"""

from django.db import migrations

TABLE = "events_publishedword"
KEPT = "date_earliest, country, is_global"  # what the counts read beside the word


def _words(rows, row, where):
    """The words of some events' rows (rows, named row), with what the counts read."""
    kept = ", ".join(f"{row}.{column}" for column in KEPT.split(", "))
    return (
        f'SELECT word COLLATE "C" AS word, {row}.id AS event_id, {kept} '
        f"FROM {rows} AS {row}, "
        f"unnest(tsvector_to_array({row}.search_vector)) AS word WHERE {where}"
    )


def _added(rows, row, where):
    return f"INSERT INTO {TABLE} (word, event_id, {KEPT}) {_words(rows, row, where)}"


def _removed(rows, row, where):
    matched = " AND ".join(
        f"kept.{column} = gone.{column}" for column in ("word", "event_id", *KEPT.split(", "))
    )
    return f"DELETE FROM {TABLE} AS kept USING ({_words(rows, row, where)}) AS gone WHERE {matched}"


# An update moves an event's words where it was or is published and its status, text, day or
# place changed. Row by row, decided by the trigger's WHEN before any function runs: a
# statement-level join of the old rows to the new ones (each carrying its search vector) was
# planned as a nested loop once 10,000 rows outgrew work_mem, and ran for minutes.
COMPARED = ", ".join(("status", "search_vector", "date_earliest", "country", "is_global"))
MOVED = (
    "(OLD.status = 'published' OR NEW.status = 'published') AND "
    + f"({', '.join(f'OLD.{c}' for c in COMPARED.split(', '))}) IS DISTINCT FROM "
    + f"({', '.join(f'NEW.{c}' for c in COMPARED.split(', '))})"
)
MOVE = f"""
    IF OLD.status = 'published' THEN
        DELETE FROM {TABLE} AS kept
        WHERE kept.word = ANY (tsvector_to_array(OLD.search_vector) COLLATE "C")
            AND kept.date_earliest = OLD.date_earliest AND kept.country = OLD.country
            AND kept.is_global = OLD.is_global AND kept.event_id = OLD.id;
    END IF;
    IF NEW.status = 'published' THEN
        INSERT INTO {TABLE} (word, event_id, {KEPT})
        SELECT word, NEW.id, NEW.date_earliest, NEW.country, NEW.is_global
        FROM unnest(tsvector_to_array(NEW.search_vector)) AS word;
    END IF;
"""


CREATE = f"""
CREATE TABLE {TABLE} (
    word text COLLATE "C" NOT NULL,
    event_id bigint NOT NULL,
    date_earliest date NOT NULL,
    country varchar(2) NOT NULL,
    is_global boolean NOT NULL
);

CREATE FUNCTION events_published_words() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        {_added("new_rows", "n", "n.status = 'published'")};
    ELSE
        {_removed("old_rows", "o", "o.status = 'published'")};
    END IF;
    RETURN NULL;
END
$$;

CREATE FUNCTION events_published_words_moved() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
{MOVE}
    RETURN NULL;
END
$$;

CREATE FUNCTION events_published_words_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM {TABLE};
    RETURN NULL;
END
$$;

CREATE TRIGGER events_event_words_insert AFTER INSERT ON events_event
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION events_published_words();
CREATE TRIGGER events_event_words_update AFTER UPDATE ON events_event
    FOR EACH ROW WHEN ({MOVED}) EXECUTE FUNCTION events_published_words_moved();
CREATE TRIGGER events_event_words_delete AFTER DELETE ON events_event
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION events_published_words();
CREATE TRIGGER events_event_words_truncate AFTER TRUNCATE ON events_event
    FOR EACH STATEMENT EXECUTE FUNCTION events_published_words_truncate();
"""

DROP = f"""
DROP TRIGGER IF EXISTS events_event_words_insert ON events_event;
DROP TRIGGER IF EXISTS events_event_words_update ON events_event;
DROP TRIGGER IF EXISTS events_event_words_delete ON events_event;
DROP TRIGGER IF EXISTS events_event_words_truncate ON events_event;
DROP FUNCTION IF EXISTS events_published_words();
DROP FUNCTION IF EXISTS events_published_words_moved();
DROP FUNCTION IF EXISTS events_published_words_truncate();
DROP TABLE IF EXISTS {TABLE};
"""


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    # No write may fall between the copy and the triggers: writers wait for the commit
    # (readers do not). The index is built after the copy, which is faster than keeping it.
    schema_editor.execute("LOCK TABLE events_event IN SHARE ROW EXCLUSIVE MODE")
    schema_editor.execute(CREATE)
    schema_editor.execute(_added("events_event", "e", "e.status = 'published'"))
    schema_editor.execute(f"CREATE INDEX publishedword_idx ON {TABLE} (word, {KEPT}, event_id)")
    schema_editor.execute(f"ANALYZE {TABLE}")


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [
        ("events", "0025_name_use"),
    ]

    operations = [migrations.RunPython(create, drop)]
