"""Published events per month, country and verification, kept by the database's triggers.

The timeline's chart, count and map for the whole timeline, a country or a verification
were a count of every matching published event on the first view after any change (242-304
ms unfiltered, 495 ms for verification=corroborated at a million events). The tally
(models.PublishedTally) holds the same counts a key at a time, in each database's own
dialect: statement-level triggers on PostgreSQL, which fold a whole statement (an import,
a COPY of generated events) into one write per key; row-level ones on SQLite.
"""

from django.db import migrations, models

KEY = "month, country, is_global, verification"
# Unqualified, events is the row's own count in both dialects (SQLite's triggers refuse an
# alias for the table).
UPSERT = (
    f"INSERT INTO events_publishedtally ({KEY}, events) {{rows}} "
    f"ON CONFLICT ({KEY}) DO UPDATE SET events = events_publishedtally.events + excluded.events"
)


def _moved(table, change):
    return (
        f"SELECT date_trunc('month', date_earliest::timestamp)::date AS month, country, is_global, "
        f"verification, {change} AS change FROM {table} WHERE status = 'published'"
    )


def _folded(*parts):
    # In key order, so that two statements writing the same keys lock them in one order.
    return UPSERT.format(
        rows=f"SELECT {KEY}, SUM(change) FROM ({' UNION ALL '.join(parts)}) AS moved "
        f"GROUP BY {KEY} HAVING SUM(change) <> 0 ORDER BY {KEY}"
    )


POSTGRESQL_TRIGGERS = f"""
CREATE FUNCTION events_published_tally() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        {_folded(_moved("new_rows", 1))};
    ELSIF TG_OP = 'DELETE' THEN
        {_folded(_moved("old_rows", -1))};
    ELSE
        {_folded(_moved("new_rows", 1), _moved("old_rows", -1))};
    END IF;
    RETURN NULL;
END
$$;

CREATE FUNCTION events_published_tally_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM events_publishedtally;
    RETURN NULL;
END
$$;

CREATE TRIGGER events_event_tally_insert AFTER INSERT ON events_event
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION events_published_tally();
CREATE TRIGGER events_event_tally_update AFTER UPDATE ON events_event
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION events_published_tally();
CREATE TRIGGER events_event_tally_delete AFTER DELETE ON events_event
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION events_published_tally();
CREATE TRIGGER events_event_tally_truncate AFTER TRUNCATE ON events_event
    FOR EACH STATEMENT EXECUTE FUNCTION events_published_tally_truncate();
"""

POSTGRESQL_DROP = """
DROP TRIGGER IF EXISTS events_event_tally_insert ON events_event;
DROP TRIGGER IF EXISTS events_event_tally_update ON events_event;
DROP TRIGGER IF EXISTS events_event_tally_delete ON events_event;
DROP TRIGGER IF EXISTS events_event_tally_truncate ON events_event;
DROP FUNCTION IF EXISTS events_published_tally();
DROP FUNCTION IF EXISTS events_published_tally_truncate();
"""


def _sqlite_counted(row):
    return UPSERT.format(
        rows=f"SELECT date({row}.date_earliest, 'start of month'), {row}.country, "
        f"{row}.is_global, {row}.verification, 1 WHERE {row}.status = 'published'"
    )


def _sqlite_uncounted(row):
    # An update, not an upsert: with no row to count down (Django's test flush empties the
    # tally before the events, on SQLite) there is nothing to take away.
    return (
        "UPDATE events_publishedtally SET events = events - 1 "
        f"WHERE {row}.status = 'published' "
        f"AND month = date({row}.date_earliest, 'start of month') AND country = {row}.country "
        f"AND is_global = {row}.is_global AND verification = {row}.verification"
    )


SQLITE_TRIGGERS = [
    f"""CREATE TRIGGER events_event_tally_insert AFTER INSERT ON events_event
    WHEN NEW.status = 'published'
    BEGIN {_sqlite_counted("NEW")}; END""",
    f"""CREATE TRIGGER events_event_tally_update AFTER UPDATE ON events_event
    WHEN (OLD.status = 'published' OR NEW.status = 'published') AND (
        NEW.status IS NOT OLD.status
        OR date(NEW.date_earliest, 'start of month')
            IS NOT date(OLD.date_earliest, 'start of month')
        OR NEW.country IS NOT OLD.country OR NEW.is_global IS NOT OLD.is_global
        OR NEW.verification IS NOT OLD.verification)
    BEGIN {_sqlite_uncounted("OLD")}; {_sqlite_counted("NEW")}; END""",
    f"""CREATE TRIGGER events_event_tally_delete AFTER DELETE ON events_event
    WHEN OLD.status = 'published'
    BEGIN {_sqlite_uncounted("OLD")}; END""",
]

SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS events_event_tally_insert",
    "DROP TRIGGER IF EXISTS events_event_tally_update",
    "DROP TRIGGER IF EXISTS events_event_tally_delete",
]

MONTH = {
    "postgresql": "date_trunc('month', date_earliest::timestamp)::date",
    "sqlite": "date(date_earliest, 'start of month')",
}


def create_triggers(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor not in MONTH:
        return
    if vendor == "postgresql":
        # No write may fall between the count and the triggers: writers wait for the commit
        # (readers do not).
        schema_editor.execute("LOCK TABLE events_event IN SHARE ROW EXCLUSIVE MODE")
    schema_editor.execute(
        f"INSERT INTO events_publishedtally ({KEY}, events) "
        f"SELECT {MONTH[vendor]}, country, is_global, verification, COUNT(*) "
        f"FROM events_event WHERE status = 'published' GROUP BY 1, 2, 3, 4"
    )
    if vendor == "postgresql":
        schema_editor.execute(POSTGRESQL_TRIGGERS)
    else:
        for statement in SQLITE_TRIGGERS:
            schema_editor.execute(statement)


def drop_triggers(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(POSTGRESQL_DROP)
    elif schema_editor.connection.vendor == "sqlite":
        for statement in SQLITE_DROP:
            schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("events", "0019_event_revision")]

    operations = [
        migrations.CreateModel(
            name="PublishedTally",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "month",
                    models.DateField(help_text="The first day of the month of date_earliest."),
                ),
                ("country", models.CharField(blank=True, max_length=2)),
                ("is_global", models.BooleanField()),
                ("verification", models.CharField(max_length=20)),
                ("events", models.IntegerField()),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(
                        fields=("month", "country", "is_global", "verification"),
                        name="publishedtally_key",
                    )
                ],
            },
        ),
        migrations.RunPython(create_triggers, drop_triggers),
    ]
