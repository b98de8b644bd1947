"""The published events' words on PostgreSQL (migrations 0026, 0027 and 0028): the table,
its index and its triggers, written for the columns each word's row keeps beside it.

Each published event's words (the lexemes of its search_vector) with what the counts of a
search read: its day and place (0026), and its last day (0027), so that a search narrowed to a
country or a range of days is counted from the same index. A row is found again by its word,
event, day and place (KEY). The index is keyed by the word, the day and the event: each
word's rows in the list's order (0028; 0026 and 0027 keyed the place too). The other
columns it keeps are carried by the index (INCLUDE) so that every count is an index-only
scan.

Kept by triggers on the events table, as the tallies are (0020, 0024): a publication adds an
event's words, a retraction or deletion removes them, and an edit of its text, days or place
rewrites them; an edit of anything else writes nothing. Inserts and deletions are folded per
statement; updates are taken row by row (move, below). SQLite has no search_vector (it
matches the search text with LIKE) and needs nothing here.
"""

from django.db import migrations

TABLE = "events_publishedword"
COLUMNS = {
    "date_earliest": "date NOT NULL",
    "date_latest": "date",
    "country": "varchar(2) NOT NULL",
    "is_global": "boolean NOT NULL",
}
KEY = ("date_earliest", "country", "is_global")  # with the word and the event: one row


def _words(kept, rows, row, where):
    """The words of some events' rows (rows, named row), with the columns kept."""
    columns = ", ".join(f"{row}.{column}" for column in kept)
    return (
        f'SELECT word COLLATE "C" AS word, {row}.id AS event_id, {columns} '
        f"FROM {rows} AS {row}, "
        f"unnest(tsvector_to_array({row}.search_vector)) AS word WHERE {where}"
    )


def added(kept, rows, row, where):
    return f"INSERT INTO {TABLE} (word, event_id, {', '.join(kept)}) {_words(kept, rows, row, where)}"


def _removed(kept, rows, row, where):
    matched = " AND ".join(f"kept.{column} = gone.{column}" for column in ("word", "event_id", *KEY))
    return (
        f"DELETE FROM {TABLE} AS kept USING ({_words(kept, rows, row, where)}) AS gone "
        f"WHERE {matched}"
    )


def _moved(kept):
    """When an update moves an event's words: it was or is published and its status, text,
    or a kept column changed. Row by row, decided by the trigger's WHEN before any function
    runs: a statement-level join of the old rows to the new ones (each carrying its search
    vector) was planned as a nested loop once 10,000 rows outgrew work_mem, and ran for
    minutes."""
    compared = ("status", "search_vector", *kept)
    return (
        "(OLD.status = 'published' OR NEW.status = 'published') AND "
        f"({', '.join(f'OLD.{c}' for c in compared)}) IS DISTINCT FROM "
        f"({', '.join(f'NEW.{c}' for c in compared)})"
    )


def _move(kept):
    found = " AND ".join(f"kept.{column} = OLD.{column}" for column in KEY)
    return f"""
    IF OLD.status = 'published' THEN
        DELETE FROM {TABLE} AS kept
        WHERE kept.word = ANY (tsvector_to_array(OLD.search_vector) COLLATE "C")
            AND {found} AND kept.event_id = OLD.id;
    END IF;
    IF NEW.status = 'published' THEN
        INSERT INTO {TABLE} (word, event_id, {", ".join(kept)})
        SELECT word, NEW.id, {", ".join(f"NEW.{column}" for column in kept)}
        FROM unnest(tsvector_to_array(NEW.search_vector)) AS word;
    END IF;
"""


def _create(kept):
    columns = "".join(f",\n    {column} {COLUMNS[column]}" for column in kept)
    return f"""
CREATE TABLE {TABLE} (
    word text COLLATE "C" NOT NULL,
    event_id bigint NOT NULL{columns}
);

CREATE FUNCTION events_published_words() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        {added(kept, "new_rows", "n", "n.status = 'published'")};
    ELSE
        {_removed(kept, "old_rows", "o", "o.status = 'published'")};
    END IF;
    RETURN NULL;
END
$$;

CREATE FUNCTION events_published_words_moved() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
{_move(kept)}
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
    FOR EACH ROW WHEN ({_moved(kept)}) EXECUTE FUNCTION events_published_words_moved();
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


def build(schema_editor, kept):
    """Create the table keeping these columns, fill it from the published events, index it
    and arm its triggers."""
    # No write may fall between the copy and the triggers: writers wait for the commit
    # (readers do not). The index is built after the copy, which is faster than keeping it.
    schema_editor.execute("LOCK TABLE events_event IN SHARE ROW EXCLUSIVE MODE")
    schema_editor.execute(_create(kept))
    schema_editor.execute(added(kept, "events_event", "e", "e.status = 'published'"))
    carried = [column for column in kept if column not in KEY]
    schema_editor.execute(_index("publishedword_idx", KEY, carried))
    schema_editor.execute(f"ANALYZE {TABLE}")


def _index(name, key, carried):
    included = f" INCLUDE ({', '.join(carried)})" if carried else ""
    return f"CREATE INDEX {name} ON {TABLE} (word, {', '.join(key)}, event_id){included}"


def reindexed(key, carried, before):
    """Return the operation that indexes the table by (word, *key, event_id), carrying the
    other columns, in place of the index before gives as (key, carried); PostgreSQL only.
    Writes to the table, and so publications, wait for the index to be built."""

    def swap(schema_editor, key, carried):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(_index("publishedword_idx_new", key, carried))
            schema_editor.execute("DROP INDEX publishedword_idx")
            schema_editor.execute("ALTER INDEX publishedword_idx_new RENAME TO publishedword_idx")

    return migrations.RunPython(
        lambda apps, schema_editor: swap(schema_editor, key, carried),
        lambda apps, schema_editor: swap(schema_editor, *before),
    )


def rebuilt(kept, before=None):
    """Return the operation that builds the table keeping these columns (in place of the one
    keeping before, which undoing it builds again), on PostgreSQL only."""

    def forward(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(DROP)
            build(schema_editor, kept)

    def backward(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(DROP)
            if before is not None:
                build(schema_editor, before)

    return migrations.RunPython(forward, backward)
