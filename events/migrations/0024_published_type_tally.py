"""Published events of each type per month and per place, kept by the database's triggers.

A category's first view counted every event of its types for the chart and the map (237,716
events for the largest at a million, 109-159 ms of SQL); a type's alike. The tally
(migration 0020) cannot answer: it has no type among its keys. These two tallies
(models.PublishedTypeMonth, models.PublishedTypePlace) hold the same counts by type, kept
as 0020 keeps its own: statement-level triggers on PostgreSQL, which fold a whole statement
into one write per key, and row-level ones on SQLite. Events with no type are not counted:
no filter of types finds them.
"""

import django.db.models.deletion
from django.db import migrations, models

MONTH = {
    "postgresql": "date_trunc('month', {row}date_earliest::timestamp)::date",
    "sqlite": "date({row}date_earliest, 'start of month')",
}
# Each tally's table, and its key: each column read off an event row ({row} its prefix).
TALLIES = {
    "events_publishedtypemonth": {"event_type_id": "{row}event_type_id", "month": MONTH},
    "events_publishedtypeplace": {
        "event_type_id": "{row}event_type_id",
        "country": "{row}country",
        "is_global": "{row}is_global",
    },
}
COUNTED = "{row}status = 'published' AND {row}event_type_id IS NOT NULL"


def _column(read, vendor, row):
    return (read[vendor] if isinstance(read, dict) else read).format(row=row)


def _read(key, vendor, row=""):
    """The key's columns read off an event row, named as the tally names them."""
    return ", ".join(f"{_column(read, vendor, row)} AS {name}" for name, read in key.items())


def _upsert(table, key, rows):
    # Unqualified, events is the row's own count in both dialects (SQLite's triggers refuse
    # an alias for the table).
    columns = ", ".join(key)
    return (
        f"INSERT INTO {table} ({columns}, events) {rows} ON CONFLICT ({columns}) "
        f"DO UPDATE SET events = {table}.events + excluded.events"
    )


def _folded(table, key, *moves):
    """One write per key a statement moved, in key order, so that two statements writing
    the same keys lock them in one order."""
    columns = ", ".join(key)
    moved = " UNION ALL ".join(
        f"SELECT {_read(key, 'postgresql')}, {change} AS change FROM {rows} "
        f"WHERE {COUNTED.format(row='')}"
        for rows, change in moves
    )
    return _upsert(
        table,
        key,
        f"SELECT {columns}, SUM(change) FROM ({moved}) AS moved "
        f"GROUP BY {columns} HAVING SUM(change) <> 0 ORDER BY {columns}",
    )


def _each(*moves):
    return "\n".join(f"{_folded(table, key, *moves)};" for table, key in TALLIES.items())


POSTGRESQL_TRIGGERS = f"""
CREATE FUNCTION events_published_type_tally() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        {_each(("new_rows", 1))}
    ELSIF TG_OP = 'DELETE' THEN
        {_each(("old_rows", -1))}
    ELSE
        {_each(("new_rows", 1), ("old_rows", -1))}
    END IF;
    RETURN NULL;
END
$$;

CREATE FUNCTION events_published_type_tally_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    {" ".join(f"DELETE FROM {table};" for table in TALLIES)}
    RETURN NULL;
END
$$;

CREATE TRIGGER events_event_type_tally_insert AFTER INSERT ON events_event
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION events_published_type_tally();
CREATE TRIGGER events_event_type_tally_update AFTER UPDATE ON events_event
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION events_published_type_tally();
CREATE TRIGGER events_event_type_tally_delete AFTER DELETE ON events_event
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION events_published_type_tally();
CREATE TRIGGER events_event_type_tally_truncate AFTER TRUNCATE ON events_event
    FOR EACH STATEMENT EXECUTE FUNCTION events_published_type_tally_truncate();
"""

POSTGRESQL_DROP = """
DROP TRIGGER IF EXISTS events_event_type_tally_insert ON events_event;
DROP TRIGGER IF EXISTS events_event_type_tally_update ON events_event;
DROP TRIGGER IF EXISTS events_event_type_tally_delete ON events_event;
DROP TRIGGER IF EXISTS events_event_type_tally_truncate ON events_event;
DROP FUNCTION IF EXISTS events_published_type_tally();
DROP FUNCTION IF EXISTS events_published_type_tally_truncate();
"""


def _sqlite_counted(table, key, row):
    row = f"{row}."
    return _upsert(
        table, key, f"SELECT {_read(key, 'sqlite', row)}, 1 WHERE {COUNTED.format(row=row)}"
    )


def _sqlite_uncounted(table, key, row):
    # An update, not an upsert: with no row to count down (Django's test flush empties the
    # tallies before the events, on SQLite) there is nothing to take away.
    matched = " AND ".join(
        f"{name} = {_column(read, 'sqlite', f'{row}.')}" for name, read in key.items()
    )
    return (
        f"UPDATE {table} SET events = events - 1 "
        f"WHERE {COUNTED.format(row=f'{row}.')} AND {matched}"
    )


def _sqlite_triggers(table, key):
    name = table.removeprefix("events_")
    moved = " OR ".join(
        f"{_column(read, 'sqlite', 'NEW.')} IS NOT {_column(read, 'sqlite', 'OLD.')}"
        for read in key.values()
    )
    return [
        f"""CREATE TRIGGER events_event_{name}_insert AFTER INSERT ON events_event
        WHEN {COUNTED.format(row="NEW.")}
        BEGIN {_sqlite_counted(table, key, "NEW")}; END""",
        f"""CREATE TRIGGER events_event_{name}_update AFTER UPDATE ON events_event
        WHEN (OLD.status = 'published' OR NEW.status = 'published')
            AND (NEW.status IS NOT OLD.status OR {moved})
        BEGIN {_sqlite_uncounted(table, key, "OLD")}; {_sqlite_counted(table, key, "NEW")}; END""",
        f"""CREATE TRIGGER events_event_{name}_delete AFTER DELETE ON events_event
        WHEN {COUNTED.format(row="OLD.")}
        BEGIN {_sqlite_uncounted(table, key, "OLD")}; END""",
    ]


def create_triggers(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor not in MONTH:
        return
    if vendor == "postgresql":
        # No write may fall between the count and the triggers: writers wait for the commit
        # (readers do not).
        schema_editor.execute("LOCK TABLE events_event IN SHARE ROW EXCLUSIVE MODE")
    for table, key in TALLIES.items():
        schema_editor.execute(
            f"INSERT INTO {table} ({', '.join(key)}, events) "
            f"SELECT {_read(key, vendor)}, COUNT(*) FROM events_event "
            f"WHERE {COUNTED.format(row='')} GROUP BY {', '.join(key)}"
        )
    if vendor == "postgresql":
        schema_editor.execute(POSTGRESQL_TRIGGERS)
    else:
        for table, key in TALLIES.items():
            for statement in _sqlite_triggers(table, key):
                schema_editor.execute(statement)


def drop_triggers(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(POSTGRESQL_DROP)
    elif vendor == "sqlite":
        for table in TALLIES:
            name = table.removeprefix("events_")
            for change in ("insert", "update", "delete"):
                schema_editor.execute(f"DROP TRIGGER IF EXISTS events_event_{name}_{change}")


class Migration(migrations.Migration):
    dependencies = [
        ("events", "0023_published_updated_index"),
    ]

    operations = [
        migrations.CreateModel(
            name="PublishedTypeMonth",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("events", models.IntegerField()),
                (
                    "month",
                    models.DateField(help_text="The first day of the month of date_earliest."),
                ),
                (
                    "event_type",
                    models.ForeignKey(
                        db_constraint=False,
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="events.eventtype",
                    ),
                ),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(
                        fields=("event_type", "month"), name="publishedtypemonth_key"
                    )
                ],
            },
        ),
        migrations.CreateModel(
            name="PublishedTypePlace",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("events", models.IntegerField()),
                ("country", models.CharField(blank=True, max_length=2)),
                ("is_global", models.BooleanField()),
                (
                    "event_type",
                    models.ForeignKey(
                        db_constraint=False,
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="events.eventtype",
                    ),
                ),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(
                        fields=("event_type", "country", "is_global"), name="publishedtypeplace_key"
                    )
                ],
            },
        ),
        migrations.RunPython(create_triggers, drop_triggers),
    ]
