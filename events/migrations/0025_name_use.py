"""How many links name each actor, platform and tag, kept by the database's triggers.

The timeline's form suggests the 30 most used names of each. Ranking them counted every link
(470 ms of SQL at a million events), so the ranking was kept for 15 minutes whatever the data
changed, and one reader in each 15 paid for it. The counts (models.NameUse) are kept as the
tallies are (0020, 0024): statement-level triggers on PostgreSQL, which fold a whole
statement into one write per name, and row-level ones on SQLite. Reading the ranking is then
a few hundred rows.
"""

from django.db import migrations, models

# Each kind of name: the table linking it to events, and its column there.
LINKS = {
    "actor": ("events_eventactor", "actor_id"),
    "platform": ("events_event_platforms", "platform_id"),
    "tag": ("events_event_tags", "tag_id"),
}


def _upsert(rows):
    return (
        f"INSERT INTO events_nameuse (kind, named_id, links) {rows} "
        "ON CONFLICT (kind, named_id) DO UPDATE SET links = events_nameuse.links + excluded.links"
    )


def _folded(kind, column, *moves):
    """One write per name a statement moved, in id order, so that two statements writing the
    same names lock them in one order. An edit of a role alone moves none."""
    moved = " UNION ALL ".join(
        f"SELECT {column} AS named_id, {change} AS change FROM {rows}" for rows, change in moves
    )
    return _upsert(
        f"SELECT '{kind}', named_id, SUM(change) FROM ({moved}) AS moved "
        "GROUP BY named_id HAVING SUM(change) <> 0 ORDER BY named_id"
    )


def _postgresql_triggers(kind, table, column):
    return f"""
CREATE FUNCTION events_name_use_{kind}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        {_folded(kind, column, ("new_rows", 1))};
    ELSIF TG_OP = 'DELETE' THEN
        {_folded(kind, column, ("old_rows", -1))};
    ELSE
        {_folded(kind, column, ("new_rows", 1), ("old_rows", -1))};
    END IF;
    RETURN NULL;
END
$$;

CREATE FUNCTION events_name_use_{kind}_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM events_nameuse WHERE kind = '{kind}';
    RETURN NULL;
END
$$;

CREATE TRIGGER {table}_name_use_insert AFTER INSERT ON {table}
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION events_name_use_{kind}();
CREATE TRIGGER {table}_name_use_update AFTER UPDATE ON {table}
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION events_name_use_{kind}();
CREATE TRIGGER {table}_name_use_delete AFTER DELETE ON {table}
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION events_name_use_{kind}();
CREATE TRIGGER {table}_name_use_truncate AFTER TRUNCATE ON {table}
    FOR EACH STATEMENT EXECUTE FUNCTION events_name_use_{kind}_truncate();
"""


def _sqlite_triggers(kind, table, column):
    def counted(row):
        return _upsert(f"SELECT '{kind}', {row}.{column}, 1")

    def uncounted(row):
        # An update, not an upsert: with no row to count down (Django's test flush may empty
        # the counts before the links, on SQLite) there is nothing to take away.
        return (
            "UPDATE events_nameuse SET links = links - 1 "
            f"WHERE kind = '{kind}' AND named_id = {row}.{column}"
        )

    return [
        f"CREATE TRIGGER {table}_name_use_insert AFTER INSERT ON {table} "
        f"BEGIN {counted('NEW')}; END",
        f"CREATE TRIGGER {table}_name_use_update AFTER UPDATE OF {column} ON {table} "
        f"WHEN NEW.{column} IS NOT OLD.{column} "
        f"BEGIN {uncounted('OLD')}; {counted('NEW')}; END",
        f"CREATE TRIGGER {table}_name_use_delete AFTER DELETE ON {table} "
        f"BEGIN {uncounted('OLD')}; END",
    ]


def create_triggers(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor not in ("postgresql", "sqlite"):
        return
    if vendor == "postgresql":
        # No link may be written between the count and the triggers: writers wait for the
        # commit (readers do not).
        tables = ", ".join(table for table, _ in LINKS.values())
        schema_editor.execute(f"LOCK TABLE {tables} IN SHARE ROW EXCLUSIVE MODE")
    for kind, (table, column) in LINKS.items():
        schema_editor.execute(
            _upsert(f"SELECT '{kind}', {column}, COUNT(*) FROM {table} GROUP BY {column}")
        )
        if vendor == "postgresql":
            schema_editor.execute(_postgresql_triggers(kind, table, column))
        else:
            for statement in _sqlite_triggers(kind, table, column):
                schema_editor.execute(statement)


def drop_triggers(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor not in ("postgresql", "sqlite"):
        return
    for kind, (table, _) in LINKS.items():
        on = f" ON {table}" if vendor == "postgresql" else ""
        for change in ("insert", "update", "delete", "truncate"):
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_name_use_{change}{on}")
        if vendor == "postgresql":
            schema_editor.execute(f"DROP FUNCTION IF EXISTS events_name_use_{kind}()")
            schema_editor.execute(f"DROP FUNCTION IF EXISTS events_name_use_{kind}_truncate()")


class Migration(migrations.Migration):
    dependencies = [
        ("events", "0024_published_type_tally"),
    ]

    operations = [
        migrations.CreateModel(
            name="NameUse",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "kind",
                    models.CharField(
                        choices=[("actor", "Actor"), ("platform", "Platform"), ("tag", "Tag")],
                        max_length=8,
                    ),
                ),
                (
                    "named_id",
                    models.BigIntegerField(help_text="The actor's, platform's or tag's id."),
                ),
                ("links", models.IntegerField()),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(fields=("kind", "named_id"), name="nameuse_key")
                ],
            },
        ),
        migrations.RunPython(create_triggers, drop_triggers),
    ]
