"""backup and restore: a round trip keeps every row, the CSV researchers get and the history.

The round trips run the real commands in subprocesses, each against a database of its own
(SQLite files under tmp_path, or bk_* databases on PostgreSQL): populate a source with the
seed timeline, generated events and curators' edits, back it up, restore into an empty
database, and compare. The refusals run in-process against the test database, which is
migrated and empty: each must leave it as it was.
"""

import csv
import gzip
import hashlib
import io
import json
import os
import subprocess
import sys
import uuid
from dataclasses import dataclass

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from events.models import Event, Tag
from events.services import backup
from tests.factories import UserFactory

# What a backup leaves out, said independently of the code under test: rebuilt by migrate
# (content types, permissions) or transient (sessions, django-axes lockouts).
LEFT_OUT_APPS = {"contenttypes", "sessions", "axes"}
# The public change log, the published events' tallies and the names' use are written by
# the database's triggers as rows are restored.
LEFT_OUT_MODELS = {
    "auth.permission",
    "events.publicchange",
    "events.publicversion",
    "events.publishedtally",
    "events.publishedtypemonth",
    "events.publishedtypeplace",
    "events.nameuse",
}
EVENT_ROW = b'{"model":"events.event",'

POPULATE = """
import io
import django
django.setup()
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.core.management import call_command
from django.db.models import Count
from events.models import Event, Tag
from events.services import (
    event_publish, event_retract, event_return_to_draft, event_save, event_submit,
)

quiet = {"stdout": io.StringIO(), "stderr": io.StringIO()}
call_command("migrate", verbosity=0)
call_command("load_seed", **quiet)
call_command("create_demo_users", **quiet)
call_command(
    "generate_events", count=300, seed=1, actors=200, platforms=50, sources=500, **quiet
)
users = get_user_model().objects
curator, editor = users.get(username="demo-curator"), users.get(username="demo-editor")
admin = users.create_superuser("admin", "admin@example.org", "not-a-real-password-1")
editor.user_permissions.add(Permission.objects.get(codename="view_eventtransition"))

publishable = (
    Event.objects.filter(status="draft", event_type__isnull=False)
    .annotate(citing=Count("citations")).filter(citing__gt=0).order_by("pk")
)
for event in publishable[:4]:
    event.title += " (checked against the source)"
    event_save(event=event, user=curator)
    event_submit(event=event, user=curator, comment="Ready")
    event_publish(event=event, user=editor, comment="Corroborated")
published = list(Event.objects.filter(status="published").order_by("pk")[:6])
for event in published[:2]:
    event_retract(event=event, user=editor, reason="The source withdrew its report.")
event_return_to_draft(event=published[2], user=editor, comment="Needs a second source")
event = published[3]
event.summary += " Confirmed by a second outlet."
event_save(event=event, user=editor)
event.tags.add(Tag.objects.order_by("pk").first())  # m2m history
LogEntry.objects.log_actions(
    user_id=editor.pk,
    queryset=Event.objects.filter(pk__in=[e.pk for e in published[:3]]),
    action_flag=CHANGE,
    change_message=[{"changed": {"fields": ["Title"]}}],
)
"""

SNAPSHOT = """
import json
import sys
import django
django.setup()
from django.apps import apps
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.test import Client

LEFT_OUT_APPS, LEFT_OUT_MODELS = json.loads(sys.argv[1])
by_natural_key = {
    ContentType: {ct.pk: [ct.app_label, ct.model] for ct in ContentType.objects.all()},
    Permission: {
        p.pk: [p.codename, *p.content_type.natural_key()]
        for p in Permission.objects.select_related("content_type")
    },
}

def rows(model):
    fields = model._meta.concrete_fields
    targets = [f.remote_field.model if f.remote_field else None for f in fields]
    values = model._base_manager.values_list(*[f.attname for f in fields])
    return sorted(
        json.dumps(
            [by_natural_key[t].get(v) if t in by_natural_key else v for t, v in zip(targets, row)],
            default=str,
            ensure_ascii=False,
        )
        for row in values.iterator()
    )

models = [
    m for m in apps.get_models(include_auto_created=True)
    if not (m._meta.proxy or not m._meta.managed or m._meta.app_label in LEFT_OUT_APPS
            or m._meta.label_lower in LEFT_OUT_MODELS)
]
response = Client().get("/api/v1/events/", {"format": "csv"}, HTTP_HOST="localhost")
assert response.status_code == 200, response.status_code
print(json.dumps({
    "tables": {m._meta.label_lower: rows(m) for m in models},
    "csv": b"".join(response.streaming_content).decode(),
}))
"""

NEW_ROWS = """
import json
import django
django.setup()
from django.contrib.auth import get_user_model
from events.models import Event, EventTransition, EventType, Tag
from events.services import event_save, event_submit

before = {
    "event": Event.objects.order_by("-pk").values_list("pk", flat=True).first(),
    "history": Event.history.order_by("-pk").values_list("pk", flat=True).first(),
    "tag": Tag.objects.order_by("-pk").values_list("pk", flat=True).first(),
}
user = get_user_model().objects.create_superuser("after-restore", "", "not-a-real-password-2")
tag = Tag.objects.create(name="after restore", slug="after-restore")
event = Event(
    title="Written after the restore", date_text="2025-01-02", country="CN",
    event_type=EventType.objects.first(),
)
event_save(event=event, user=user)
event.tags.add(tag)
event_submit(event=event, user=user)
print(json.dumps({
    "before": before,
    "event": event.pk,
    "history": Event.history.order_by("-pk").values_list("pk", flat=True).first(),
    "tag": tag.pk,
    "public_id": event.public_id,
    "transitions": EventTransition.objects.filter(event=event).count(),
}))
"""


def run(args, database_url, check=True):
    """Run python with args in the project, on its own database; return the CompletedProcess."""
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "PUBLIC_CACHE_SECONDS": "0",
        "CONN_MAX_AGE": "0",
    }
    env.pop("DATABASE_REPLICA_URLS", None)
    result = subprocess.run(
        [sys.executable, *args], cwd=settings.BASE_DIR, env=env, capture_output=True, timeout=900
    )
    if check and result.returncode:
        pytest.fail(f"{args[:2]} failed:\n{result.stderr.decode()[-4000:]}")
    return result


def manage(database_url, *args, check=True):
    return run(["manage.py", *args], database_url, check=check)


def snapshot(database_url, *, before="", after=""):
    """Run the script before, read every table and the public CSV, then run the one after.

    One process for all three: each start of Django costs seconds. Returns the snapshot and
    what the script after printed, parsed as JSON.
    """
    left_out = json.dumps([sorted(LEFT_OUT_APPS), sorted(LEFT_OUT_MODELS)])
    output = run(["-c", before + SNAPSHOT + after, left_out], database_url).stdout
    taken, _, printed_after = output.partition(b"\n")
    return json.loads(taken), json.loads(printed_after) if after else None


class RoundTrip:
    """A populated source and its backup, ready to be restored into empty databases."""

    def __init__(self, source_url, backup_path):
        self.source_url = source_url
        self.backup_path = backup_path
        self.source, _ = snapshot(source_url, before=POPULATE)
        manage(source_url, "backup", "-o", str(backup_path))

    def restore_into(self, target_url):
        """Restore into target_url, then read it and add rows; return what each step printed."""
        output = manage(target_url, "restore", str(self.backup_path)).stdout.decode()
        restored, new_rows = snapshot(target_url, after=NEW_ROWS)
        return Restored(output, restored, new_rows)


@dataclass
class Restored:
    output: str
    tables_and_csv: dict
    new_rows: dict


def sqlite_url(path):
    return f"sqlite:///{path}"


@pytest.fixture(scope="module")
def sqlite_trip(tmp_path_factory):
    directory = tmp_path_factory.mktemp("backup-sqlite")
    return RoundTrip(sqlite_url(directory / "source.sqlite3"), directory / "backup.jsonl.gz")


@pytest.fixture(scope="module")
def sqlite_restored(sqlite_trip, tmp_path_factory):
    target = tmp_path_factory.mktemp("restored-sqlite") / "restored.sqlite3"
    return sqlite_trip.restore_into(sqlite_url(target))


# Round trips ------------------------------------------------------------------------------


def test_backup_holds_every_table_but_derived_and_transient_ones(sqlite_trip):
    header = read_backup(sqlite_trip.backup_path)[0]

    assert set(header["models"]) == set(sqlite_trip.source["tables"])
    assert {"events.historicalevent", "events.historicalevent_tags", "auth.user",
            "auth.group_permissions", "admin.logentry", "events.event_platforms"} <= set(
        header["models"]
    )  # fmt: skip
    assert not {
        "contenttypes.contenttype",
        "auth.permission",
        "sessions.session",
        "events.publicchange",
        "events.publicversion",
        "events.publishedtally",
        "events.publishedtypemonth",
        "events.publishedtypeplace",
        "events.nameuse",
    } & set(header["models"])
    assert header["migrations"]["events"] == backup.code_migrations()["events"]
    assert header["database_vendor"] == "sqlite"
    assert all(
        header["models"][label] == len(rows) for label, rows in sqlite_trip.source["tables"].items()
    )


def test_source_has_the_history_and_accounts_a_restore_must_keep(sqlite_trip):
    tables = sqlite_trip.source["tables"]

    assert len(tables["events.historicalevent"]) > 20
    assert tables["events.historicalevent_tags"]
    assert len(tables["events.eventtransition"]) >= 10
    assert len(tables["admin.logentry"]) == 3
    assert len(tables["auth.group_permissions"]) > 50
    assert tables["auth.user_user_permissions"]
    assert sqlite_trip.source["csv"].count("\r\n") > 250


def test_sqlite_restore_keeps_every_row_history_and_the_csv_byte_for_byte(
    sqlite_trip, sqlite_restored
):
    assert_same(sqlite_restored, sqlite_trip)


def test_new_rows_after_a_restore_get_fresh_ids(sqlite_restored):
    assert_new_rows_fit(sqlite_restored.new_rows)


def assert_same(restored, trip, *, same_vendor=True):
    """Assert a restore holds exactly the source's rows and CSV, and said what it restored.

    Across vendors the CSV is written by another writer (COPY on PostgreSQL, Python's csv
    module on SQLite) whose cells agree but whose line ends differ: compare cells there.
    """
    assert restored.tables_and_csv["tables"] == trip.source["tables"]
    if same_vendor:
        assert restored.tables_and_csv["csv"] == trip.source["csv"]
    else:
        assert csv_cells(restored.tables_and_csv["csv"]) == csv_cells(trip.source["csv"])
    for label in ("events.event", "events.historicalevent", "auth.user"):
        assert f"{label}: {len(trip.source['tables'][label])} restored" in restored.output


def assert_new_rows_fit(new):
    assert new["event"] > new["before"]["event"]
    assert new["history"] > new["before"]["history"]
    assert new["tag"] > new["before"]["tag"]
    assert new["public_id"].startswith("CN-2025-")
    assert new["transitions"] == 1


# Refusals: each leaves the database as it was ---------------------------------------------


def assert_still_empty():
    assert not Event.objects.exists()
    assert not Tag.objects.exists()
    assert not Event.history.exists()


def restore_refused(path):
    with pytest.raises(CommandError) as refusal:
        call_command("restore", str(path))
    assert_still_empty()
    return str(refusal.value)


@pytest.mark.django_db
def test_restore_refuses_a_database_that_holds_data(sqlite_trip):
    UserFactory(username="already-here")

    message = restore_refused(sqlite_trip.backup_path)

    assert "already holds data: auth.User (1 rows)" in message
    assert "never overwrites" in message
    assert list(get_user_model().objects.values_list("username", flat=True)) == ["already-here"]


@pytest.mark.django_db
def test_restore_check_reads_a_backup_through_and_writes_nothing(sqlite_trip):
    output = io.StringIO()

    call_command("restore", str(sqlite_trip.backup_path), "--check", stdout=output)

    assert "is whole and this code can restore it" in output.getvalue()
    assert_still_empty()


@pytest.mark.django_db
def test_restore_refuses_a_file_with_a_flipped_byte(sqlite_trip, tmp_path):
    data = bytearray(sqlite_trip.backup_path.read_bytes())
    data[len(data) // 2] ^= 0x01
    damaged = tmp_path / "damaged.jsonl.gz"
    damaged.write_bytes(bytes(data))

    assert "damaged" in restore_refused(damaged)


@pytest.mark.django_db
def test_restore_refuses_content_changed_after_the_backup(sqlite_trip, tmp_path):
    header, rows, trailer = read_backup(sqlite_trip.backup_path)
    first_event = next(i for i, row in enumerate(rows) if row.startswith(EVENT_ROW))
    rows[first_event] = rows[first_event].replace(b'"title":"', b'"title":"Not ', 1)
    changed = write_backup(tmp_path / "changed.jsonl.gz", header, rows, trailer)

    assert "does not match its checksum" in restore_refused(changed)


@pytest.mark.django_db
def test_restore_refuses_a_file_cut_short(sqlite_trip, tmp_path):
    data = sqlite_trip.backup_path.read_bytes()
    cut = tmp_path / "cut.jsonl.gz"
    cut.write_bytes(data[: len(data) * 2 // 3])

    assert "is cut short" in restore_refused(cut)


@pytest.mark.django_db
def test_restore_refuses_a_file_without_its_trailer(sqlite_trip, tmp_path):
    lines = gzip.decompress(sqlite_trip.backup_path.read_bytes()).splitlines(keepends=True)
    cut = tmp_path / "cut.jsonl.gz"
    cut.write_bytes(gzip.compress(b"".join(lines[:-100])))

    assert "without its closing checksum line" in restore_refused(cut)


@pytest.mark.django_db
def test_restore_refuses_an_unknown_format_version(sqlite_trip, tmp_path):
    header, rows, _ = read_backup(sqlite_trip.backup_path)
    header["format_version"] = 99

    message = restore_refused(write_backup(tmp_path / "v99.jsonl.gz", header, rows))

    assert "format version 99; this code reads version 1" in message


@pytest.mark.django_db
def test_restore_refuses_row_counts_that_do_not_match(sqlite_trip, tmp_path):
    header, rows, _ = read_backup(sqlite_trip.backup_path)
    events = header["models"]["events.event"]
    header["models"]["events.event"] += 1

    message = restore_refused(write_backup(tmp_path / "counts.jsonl.gz", header, rows))

    assert f"events.event: {events + 1} expected, {events} found" in message


@pytest.mark.django_db
def test_restore_refuses_another_migration_state_and_names_it(sqlite_trip, tmp_path):
    header, rows, _ = read_backup(sqlite_trip.backup_path)
    header["migrations"]["events"] = ["0003_workflow"]
    ours = backup.code_migrations()["events"][0]

    message = restore_refused(write_backup(tmp_path / "older.jsonl.gz", header, rows))

    assert f"events: the backup is at 0003_workflow, this code at {ours}" in message
    assert "then update the code and run `manage.py migrate`" in message


@pytest.mark.django_db
def test_a_restore_that_fails_part_way_keeps_nothing(sqlite_trip, tmp_path):
    header, rows, _ = read_backup(sqlite_trip.backup_path)
    last_event = max(i for i, row in enumerate(rows) if row.startswith(EVENT_ROW))
    rows.insert(last_event, rows[last_event])  # the same event twice: a unique key fails
    header["models"]["events.event"] += 1

    message = restore_refused(write_backup(tmp_path / "twice.jsonl.gz", header, rows))

    assert "rolled back, nothing kept" in message
    assert not get_user_model().objects.exists()


@pytest.mark.django_db(transaction=True)
def test_backup_to_stdout_and_never_over_an_existing_file(capsysbinary, tmp_path):
    Tag.objects.create(name="one tag", slug="one-tag")

    call_command("backup", "-o", "-")
    written = tmp_path / "stdout.jsonl.gz"
    written.write_bytes(capsysbinary.readouterr().out)

    assert backup.backup_verify(written)["models"]["events.tag"] == 1
    with pytest.raises(CommandError, match="already exists"):
        call_command("backup", "-o", str(written))


# PostgreSQL -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def postgres_databases():
    """Create bk_* databases on demand on the suite's PostgreSQL server; drop them after."""
    import psycopg2

    params = settings.DATABASES["default"]
    server = psycopg2.connect(
        dbname="postgres",
        user=params["USER"],
        password=params["PASSWORD"],
        host=params["HOST"],
        port=params["PORT"],
    )
    server.autocommit = True
    created = []

    def create(name):
        name = f"bk_{uuid.uuid4().hex[:8]}_{name}"
        with server.cursor() as cursor:
            cursor.execute(f'CREATE DATABASE "{name}"')
        created.append(name)
        credentials = params["USER"] + (f":{params['PASSWORD']}" if params["PASSWORD"] else "")
        return f"postgres://{credentials}@{params['HOST']}:{params['PORT'] or 5432}/{name}"

    yield create
    with server.cursor() as cursor:
        for name in created:
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    server.close()


@pytest.fixture(scope="module")
def postgres_trip(postgres_databases, tmp_path_factory):
    path = tmp_path_factory.mktemp("backup-postgres") / "backup.jsonl.gz"
    return RoundTrip(postgres_databases("source"), path)


@pytest.mark.postgres
def test_postgres_restore_keeps_every_row_history_and_the_csv_byte_for_byte(
    postgres_trip, postgres_databases
):
    restored = postgres_trip.restore_into(postgres_databases("restored"))

    assert read_backup(postgres_trip.backup_path)[0]["database_vendor"] == "postgresql"
    assert_same(restored, postgres_trip)
    # The id sequences were moved past the restored ids.
    assert_new_rows_fit(restored.new_rows)


@pytest.mark.postgres
def test_a_sqlite_backup_restores_into_postgres(sqlite_trip, postgres_databases):
    restored = sqlite_trip.restore_into(postgres_databases("from_sqlite"))

    assert_same(restored, sqlite_trip, same_vendor=False)
    assert_new_rows_fit(restored.new_rows)


@pytest.mark.postgres
def test_a_postgres_backup_restores_into_sqlite(postgres_trip, tmp_path):
    restored = postgres_trip.restore_into(sqlite_url(tmp_path / "from-postgres.sqlite3"))

    assert_same(restored, postgres_trip, same_vendor=False)
    assert_new_rows_fit(restored.new_rows)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_backup_reads_one_snapshot_while_others_write(monkeypatch, tmp_path):
    """A row committed by another connection after the backup began is not in it."""
    import psycopg2

    Tag.objects.create(name="before", slug="before")
    seen = {}
    header = backup._header

    def header_then_concurrent_write(conn, models):
        with conn.cursor() as cursor:
            cursor.execute("SHOW transaction_isolation")
            seen["isolation"] = cursor.fetchone()[0]
            cursor.execute("SHOW transaction_read_only")
            seen["read_only"] = cursor.fetchone()[0]
        written = header(conn, models)
        params = connection.settings_dict
        other = psycopg2.connect(
            dbname=params["NAME"], user=params["USER"], host=params["HOST"], port=params["PORT"],
            password=params["PASSWORD"],
        )  # fmt: skip
        with other, other.cursor() as cursor:
            cursor.execute(
                "INSERT INTO events_tag (slug, name, created_at, updated_at) "
                "VALUES ('during', 'during', now(), now())"
            )
        other.close()
        return written

    monkeypatch.setattr(backup, "_header", header_then_concurrent_write)
    path = tmp_path / "snapshot.jsonl.gz"
    summary = backup.backup_to_file(path=path)

    assert seen == {"isolation": "repeatable read", "read_only": "on"}
    assert summary.counts["events.tag"] == 1
    assert b'"slug":"during"' not in gzip.decompress(path.read_bytes())
    assert Tag.objects.count() == 2


# Helpers ----------------------------------------------------------------------------------


def csv_cells(text):
    return list(csv.reader(io.StringIO(text, newline="")))


def read_backup(path):
    """Return a backup's header, its row lines (bytes) and its trailer."""
    lines = gzip.decompress(path.read_bytes()).splitlines(keepends=True)
    return json.loads(lines[0]), lines[1:-1], json.loads(lines[-1])["trailer"]


def write_backup(path, header, rows, trailer=None):
    """Write a backup file; with no trailer given, one whose checksum matches the content."""
    head = json.dumps(header, ensure_ascii=False, separators=(",", ":")).encode() + b"\n"
    if trailer is None:
        digest = hashlib.sha256(head + b"".join(rows)).hexdigest()
        trailer = {"objects": len(rows), "sha256": digest}
    tail = json.dumps({"trailer": trailer}, separators=(",", ":")).encode() + b"\n"
    path.write_bytes(gzip.compress(head + b"".join(rows) + tail))
    return path
