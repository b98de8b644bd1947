"""Migrations run forward and back on real databases, and a round trip loses nothing.

Each test gets a database of its own (a copy of a SQLite file, or a PostgreSQL database created
and dropped here, migrated by `manage.py migrate`) and drives it in subprocesses, as an operator
would: `manage.py` to fill it, then a probe (`probe()` below) that takes migration steps one
after another and reports what readers and curators have: the public CSV export, search
results, the row count of every table, a digest of every row of the events tables (historical
ones included) and the schema.

How far back a populated database can go: down to 0003_workflow. Unapplying 0003 drops the
workflow columns (retraction reason and time, submission time, version) and the transition
log, and re-applying it then fails event_retracted_has_reason on every retracted event. So the
round trip on data stops at 0003, and 0002 below it (PostgreSQL's search vector) is unapplied
and re-applied on its own, which its raw SQL allows. Unapplying 0008_original_language drops
the original titles and summaries, so the round trip's data has none (clear_originals below).
"""

import hashlib
import io
import json
import os
import secrets
import shutil
import subprocess
import sys
from contextlib import contextmanager
from urllib.parse import quote

import pytest
from django.conf import settings
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.operations import AddField

APP = "events"
DATA_FLOOR = "0003_workflow"  # the earliest events migration that keeps a database's data
SEARCH_VECTOR_MIGRATION = "0002_search_vector"
# (app label, migration name) of every migration with an operation that cannot be undone.
# Adding an irreversible migration fails the tests below until it is listed here, on purpose.
EXPECTED_IRREVERSIBLE = set()
SEARCHES = ("wechat", "wechat accounts", "court")  # words of the seed and of generated events
PROBE = "import django; django.setup(); from tests.events.test_migrations import probe; probe()"
CLEAR_ORIGINALS = (
    "import django; django.setup(); "
    "from tests.events.test_migrations import clear_originals; clear_originals()"
)
# Variables that would point a subprocess at the suite's own services or change what it serves.
NOT_INHERITED = ("DATABASE_REPLICA_URLS", "REDIS_URL", "HTTPS", "SECURE_SSL_REDIRECT")


# In the subprocess ----------------------------------------------------------------------------


def probe():
    """Take the steps named on the command line in order; print their reports as JSON.

    Steps: migrate (every app to its latest), migrate:<app>:<target>, unapply:<events
    migration> and apply:<events migration> (that migration alone), and the reports in REPORTS.
    """
    reports = []
    for step in sys.argv[1:]:
        print(f"step {step}", file=sys.stderr)  # a failure's traceback follows its step
        verb, *arguments = step.split(":")
        if verb == "migrate":
            from django.core.management import call_command

            call_command("migrate", *arguments, interactive=False, verbosity=0)
        elif verb in ("unapply", "apply"):
            alone(verb, *arguments)
        else:
            reports.append(REPORTS[verb]())
    print(json.dumps(reports))


def alone(verb, name):
    """Unapply or apply one events migration, leaving the later ones applied.

    Only sound for a migration nothing later builds on: 0002's raw SQL adds a column and an
    index that no later migration touches.
    """
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    migration = executor.loader.get_migration(APP, name)
    before = executor.loader.project_state(migration.dependencies, at_end=True)
    getattr(executor, f"{verb}_migration")(before, migration)


def state():
    """Return the migrations applied and each table's columns and row count."""
    from django.db import connection
    from django.db.migrations.recorder import MigrationRecorder

    applied = sorted(map(list, MigrationRecorder(connection).applied_migrations()))
    with connection.cursor() as cursor:
        tables = sorted(connection.introspection.table_names(cursor))
        return {
            "applied": applied,
            "columns": {table: columns(cursor, table) for table in tables},
            # django_migrations differs only in ids and times, and applied covers it.
            "counts": {
                table: count(cursor, table) for table in tables if table != "django_migrations"
            },
        }


def schema():
    """Return state() and each table's constraints and indexes."""
    from django.db import connection

    with connection.cursor() as cursor:
        constraints = {
            table: connection.introspection.get_constraints(cursor, table)
            for table in sorted(connection.introspection.table_names(cursor))
        }
    return state() | {"constraints": json.loads(json.dumps(constraints, default=str))}


def fingerprint():
    """Return what a round trip must not change: reader answers, rows and schema."""
    from django.test import Client

    client = Client(HTTP_HOST="localhost")
    csv = client.get("/api/v1/events/", {"format": "csv"})
    body = b"".join(csv.streaming_content)
    from events.querysets import public_version

    return schema() | {
        "csv": {"sha256": hashlib.sha256(body).hexdigest(), "rows": int(csv["X-Row-Count"])},
        "etag": csv["ETag"],
        "version": public_version(),
        "search": {query: search_ids(client, query) for query in SEARCHES},
        "rows": row_digests(),
    }


def search_ids(client, query):
    response = client.get("/api/v1/events/", {"q": query, "page_size": 1000})
    return [event["id"] for event in response.json()["results"]]


def columns(cursor, table):
    """Return a table's columns and their types, sorted: re-adding one moves it to the end."""
    from django.db import connection

    description = connection.introspection.get_table_description(cursor, table)
    return sorted([column.name, str(column.type_code)] for column in description)


def count(cursor, table):
    from django.db import connection

    cursor.execute(f"SELECT COUNT(*) FROM {connection.ops.quote_name(table)}")
    return cursor.fetchone()[0]


def row_digests():
    """Return a digest of each events table's rows, whatever order rows and columns are in."""
    from django.db import connection

    quote_name = connection.ops.quote_name
    digests = {}
    with connection.cursor() as cursor:
        for table in sorted(connection.introspection.table_names(cursor)):
            if not table.startswith(f"{APP}_"):
                continue
            listed = ", ".join(quote_name(name) for name, _ in columns(cursor, table))
            cursor.execute(f"SELECT {listed} FROM {quote_name(table)}")
            rows = sorted(repr(row) for row in cursor.fetchall())
            digests[table] = hashlib.sha256("\n".join(rows).encode()).hexdigest()
    return digests


def plans():
    """Return, for each app with migrations, what `migrate <app> zero --plan` prints."""
    from django.core.management import call_command

    printed = {}
    for app in sorted(MigrationLoader(None, ignore_no_migrations=True).migrated_apps):
        output = io.StringIO()
        call_command("migrate", app, "zero", plan=True, stdout=output, no_color=True)
        printed[app] = output.getvalue()
    return printed


def clear_originals():
    """Empty the original title, summary and language of every event, and its search text too.

    Unapplying 0008_original_language drops those columns, and re-applying it adds them back
    empty: a round trip keeps what every migration down to the floor can hold.
    """
    from events.models import Event
    from events.services import events_search_rebuild

    with_original = Event.objects.exclude(original_language="")
    with_original.update(title_original="", summary_original="", original_language="")
    events_search_rebuild()


REPORTS = {"fingerprint": fingerprint, "schema": schema, "state": state, "plans": plans}


# In the test ----------------------------------------------------------------------------------


@contextmanager
def postgres_server():
    """Yield a function that creates a database on the suite's server; drop them all after."""
    import psycopg2

    server = settings.DATABASES["default"]
    user, password = server["USER"] or "", server["PASSWORD"] or ""
    login = quote(user, safe="") + (f":{quote(password, safe='')}" if password else "")
    maintenance = psycopg2.connect(
        dbname="postgres",
        host=server["HOST"] or None,
        port=server["PORT"] or None,
        user=user or None,
        password=password or None,
    )
    maintenance.autocommit = True
    created = []

    def create(template=None):
        name = f"mig_roundtrip_{secrets.token_hex(4)}"
        copied = f' TEMPLATE "{template}"' if template else ""
        with maintenance.cursor() as cursor:
            cursor.execute(f'CREATE DATABASE "{name}"{copied}')
        created.append(name)
        return name, f"postgres://{login}@{server['HOST']}:{server['PORT'] or 5432}/{name}"

    try:
        yield create
    finally:
        with maintenance.cursor() as cursor:
            for name in reversed(created):
                cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        maintenance.close()


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def migrated_database(request, tmp_path_factory):
    """Return a function that gives each test its own copy of a freshly migrated database.

    Migrating once and copying spares each test the slowest step (seconds of model states).
    """
    if request.param == "sqlite":
        template = tmp_path_factory.mktemp("migrations") / "migrated.sqlite3"
        manage(f"sqlite:///{template}", "migrate", "--no-input", "-v0")

        def copy():
            path = template.with_name(f"copy-{secrets.token_hex(4)}.sqlite3")
            shutil.copyfile(template, path)
            return f"sqlite:///{path}"

        yield copy
        return
    with postgres_server() as create:
        template, url = create()
        manage(url, "migrate", "--no-input", "-v0")
        yield lambda: create(template)[1]


def run(database_url, *arguments):
    environment = {
        name: value for name, value in os.environ.items() if name not in NOT_INHERITED
    } | {
        "DATABASE_URL": database_url,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DEBUG": "true",
        "PUBLIC_CACHE_SECONDS": "0",  # every answer is read from the database, never a cache
    }
    result = subprocess.run(
        [sys.executable, *arguments],
        cwd=settings.BASE_DIR,
        env=environment,
        capture_output=True,
        text=True,
        timeout=600,
    )
    steps = [line for line in result.stderr.splitlines() if line.startswith("step ")]
    failed = steps[-1] if steps else " ".join(arguments)
    assert result.returncode == 0, f"{failed} failed:\n{result.stderr[-4000:]}"
    return result.stdout


def manage(database_url, *arguments):
    run(database_url, "manage.py", *arguments)


def probed(database_url, *steps):
    """Run the probe's steps against a database; return its reports."""
    return json.loads(run(database_url, "-c", PROBE, *steps).splitlines()[-1])


def events_migrations():
    """Return the names of the events migrations, first to last."""
    graph = MigrationLoader(None, ignore_no_migrations=True).graph
    (leaf,) = graph.leaf_nodes(APP)
    return [name for app, name in graph.forwards_plan(leaf) if app == APP]


def applied_in(report, app=APP):
    return [name for label, name in report["applied"] if label == app]


def column_names(report, table):
    return [name for name, _ in report["columns"][table]]


def columns_added_by(names):
    """Return {(table, column)} that the AddField operations of some events migrations add."""
    loader = MigrationLoader(None, ignore_no_migrations=True)
    added = set()
    for name in names:
        for operation in loader.disk_migrations[(APP, name)].operations:
            if isinstance(operation, AddField):
                field = operation.field
                suffix = "_id" if field.many_to_one or field.one_to_one else ""
                column = field.db_column or f"{operation.name}{suffix}"
                added.add((f"{APP}_{operation.model_name}", column))
    return added


def _differences(found, expected):
    return {
        table: (
            [entry for entry in found.get(table, []) if entry not in entries],
            [entry for entry in entries if entry not in found.get(table, [])],
        )
        for table, entries in expected.items()
        if found.get(table) != entries
    }


def without_columns(columns, dropped):
    return {
        table: [entry for entry in entries if (table, entry[0]) not in dropped]
        for table, entries in columns.items()
    }


def irreversible_in(printed_plans):
    """Return (app, migration) of each operation a plan marks IRREVERSIBLE."""
    found = set()
    for plan in printed_plans.values():
        for line in plan.splitlines():
            if line and not line.startswith(" "):
                migration = tuple(line.split(".", 1))  # "events.0002_search_vector"
            elif "IRREVERSIBLE" in line:
                found.add(migration)
    return found


def test_populated_database_steps_back_to_the_workflow_migration_and_forward_unchanged(
    migrated_database,
):
    database = migrated_database()
    manage(database, "load_seed")
    manage(database, "generate_events", "--count", "300", "--seed", "3")
    run(database, "-c", CLEAR_ORIGINALS)
    (latest,) = probed(database, "fingerprint")
    assert latest["csv"]["rows"] > 250, "the export should hold the published events"
    assert all(latest["search"].values()), f"every search should find events: {latest['search']}"
    has_vector = "search_vector" in column_names(latest, "events_event")
    assert has_vector == database.startswith("postgres")
    names = events_migrations()
    kept = names[names.index(DATA_FLOOR) :]
    vector = SEARCH_VECTOR_MIGRATION

    def up_to(name):
        return names[: names.index(name) + 1]

    # (step, the events migrations applied after it): down one migration at a time to the
    # floor, 0002 below it unapplied and applied alone, then up one at a time.
    walk = [(f"migrate:{APP}:{name}", up_to(name)) for name in kept[-2::-1]]
    walk += [
        (f"unapply:{vector}", [name for name in up_to(DATA_FLOOR) if name != vector]),
        (f"apply:{vector}", up_to(DATA_FLOOR)),
    ]
    walk += [(f"migrate:{APP}:{name}", up_to(name)) for name in kept[1:]]
    *reports, again = probed(
        database, *[taken for step, _ in walk for taken in (step, "state")], "fingerprint"
    )

    for (step, applied), report in zip(walk, reports, strict=True):
        assert applied_in(report) == applied, step
        counts = without_log(report["counts"])
        assert counts == at_step(latest["counts"], counts), step
        if step == f"unapply:{vector}":
            assert "search_vector" not in column_names(report, "events_event")
        else:  # between the floor and the latest: indexes, and the columns migrations add
            later = columns_added_by([name for name in names if name not in applied])
            found = without_log(report["columns"])
            expected = at_step(without_columns(latest["columns"], later), found)
            assert found == expected, (step, _differences(found, expected))
    # The same CSV bytes, searches, rows and schema. The public change log was dropped and
    # rebuilt on the way, so the data version (the ETag) moved on: forward, never back.
    assert again["version"] > latest["version"] and again["etag"] != latest["etag"]
    assert without_log(again["counts"]) == without_log(latest["counts"])
    for name in ("csv", "search", "columns", "applied"):
        assert again[name] == latest[name], name
    assert without_log(again["rows"]) == without_log(latest["rows"])


# Derived by the database's triggers, and rebuilt (with new ids) by the migrations that
# create them: the public change log (0011), the published events' tallies (0020, 0024), the
# names' use (0025) and the published events' words (0026, PostgreSQL only).
LOG_TABLES = {
    "events_publicchange",
    "events_publicversion",
    "events_publishedtally",
    "events_publishedtypemonth",
    "events_publishedtypeplace",
    "events_nameuse",
    "events_publishedword",
}


def without_log(by_table):
    return {table: value for table, value in by_table.items() if table not in LOG_TABLES}


def at_step(latest, found):
    """The latest state's tables that exist at a step (later migrations create the others:
    the release, public change log and pending edit tables)."""
    created_later = {
        "events_release",
        "events_eventrevision",  # 0019
        "events_historicaleventrevision",
    } | LOG_TABLES
    assert set(latest) - set(found) <= created_later, set(latest) - set(found)
    return {table: value for table, value in without_log(latest).items() if table in found}


def test_empty_database_migrates_events_to_zero_and_forward_again(migrated_database):
    # An expected irreversible events migration is as far back as migrate can go.
    irreversible = sorted(name for app, name in EXPECTED_IRREVERSIBLE if app == APP)
    bottom = irreversible[-1] if irreversible else "zero"
    latest, printed_plans, emptied, again = probed(
        migrated_database(),
        "schema",
        "plans",
        f"migrate:{APP}:{bottom}",
        "state",
        "migrate",
        "schema",
    )

    assert irreversible_in(printed_plans) == EXPECTED_IRREVERSIBLE
    assert all(f"{APP}.{name}" in printed_plans[APP] for name in events_migrations())
    if bottom == "zero":
        assert applied_in(emptied) == []
        assert [table for table in emptied["columns"] if table.startswith(f"{APP}_")] == []
    assert again == latest


def test_every_migration_operation_can_be_reversed():
    loader = MigrationLoader(None, ignore_no_migrations=True)
    irreversible = {
        key
        for key, migration in loader.disk_migrations.items()
        for operation in migration.operations
        if not operation.reversible
    }
    assert irreversible == EXPECTED_IRREVERSIBLE
