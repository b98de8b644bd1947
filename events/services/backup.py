"""Backups: the whole database as one consistent, versioned, checksummed file, and its restore.

A backup is gzipped JSON Lines (UTF-8), one JSON value per line:

- the header: {"format": "censorship-timeline-backup", "format_version": 1, "created_at",
  "database_vendor", "django_version", "migrations": {app: [latest applied migration]},
  "models": {model label: row count}}, the models in the order their rows follow;
- one line per row, Django's own serialisation ({"model", "pk", "fields"}), model by model in
  dependency order and by primary key within a model. Many-to-many links are rows of their
  own tables (events.event_tags, auth.group_permissions). Content types and permissions are
  referred to by natural key (["publish_event", "events", "event"]): migrate recreates them
  with ids of its own;
- the trailer: {"trailer": {"objects": N, "sha256": hex}}, the SHA-256 of every byte before
  the trailer line. A file without it was cut short.

Everything is read in one snapshot (REPEATABLE READ READ ONLY on PostgreSQL; one read
transaction on SQLite), so a backup taken while curators work is still consistent. What
migrate recreates (content types, permissions) and what is transient (sessions, django-axes
lockouts) is left out. A restore goes into an empty database only, all or nothing.
"""

import datetime
import gzip
import hashlib
import json
import os
import zlib
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import django
from django.apps import apps
from django.core.management import call_command
from django.core.management.color import no_style
from django.core.serializers import base as serializer_base
from django.core.serializers.json import DjangoJSONEncoder
from django.core.serializers.python import Deserializer as PythonDeserializer
from django.core.serializers.python import Serializer as PythonSerializer
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections, transaction
from django.db.migrations.executor import MigrationExecutor
from django.db.migrations.loader import MigrationLoader
from django.utils import timezone

FORMAT = "censorship-timeline-backup"
FORMAT_VERSION = 1
READABLE_VERSIONS = {1}
CHUNK_ROWS = 2000  # rows read per round trip while backing up
INSERT_ROWS = 1000  # rows held and inserted at once while restoring
# Rebuilt by migrate (content types, permissions), or transient: sessions, django-axes'
# login attempts and lockouts. Apps not installed here are simply absent.
EXCLUDED_APPS = {"contenttypes", "sessions", "axes"}
# The public change log, the published events' tallies and the names' use are the
# database's own (triggers write them as rows are restored).
EXCLUDED_MODELS = {
    "auth.permission",
    "events.publicchange",
    "events.publicversion",
    "events.publishedtally",
    "events.publishedtypemonth",
    "events.publishedtypeplace",
    "events.nameuse",
}


class BackupError(Exception):
    """A backup or restore that cannot go ahead; the message says why and what to do."""


@dataclass
class BackupSummary:
    header: dict
    objects: int = 0
    sha256: str = ""
    counts: Counter = field(default_factory=Counter)


# What a backup holds ----------------------------------------------------------------------


def backup_models():
    """Return the models a backup holds, each after the models its foreign keys point to."""
    models = [model for model in apps.get_models(include_auto_created=True) if _is_backed_up(model)]
    return _dependency_order(models)


def _is_backed_up(model):
    meta = model._meta
    if meta.proxy or not meta.managed or meta.swapped:
        return False
    return meta.app_label not in EXCLUDED_APPS and meta.label_lower not in EXCLUDED_MODELS


def _dependency_order(models):
    """Order models so each follows those it refers to; a cycle keeps the registry's order.

    Foreign keys are checked at the end of the restore, so the order only has to make
    natural-key lookups and a reader's eye work; self-references need nothing.
    """
    depends = {model: _references(model) & set(models) for model in models}
    ordered = []
    while depends:
        ready = [model for model, needs in depends.items() if not needs - set(ordered)]
        for model in ready or list(depends)[:1]:
            ordered.append(model)
            del depends[model]
    return ordered


def _references(model):
    return {
        f.remote_field.model._meta.concrete_model
        for f in model._meta.local_fields
        if f.remote_field and f.remote_field.model._meta.concrete_model is not model
    }


def _natural_key_fields(model):
    """Return the foreign keys of a model into tables a backup leaves out: by natural key."""
    fields = []
    for f in model._meta.local_fields:
        target = f.remote_field.model if f.remote_field else None
        if target is None or _is_backed_up(target):
            continue
        if not hasattr(target, "natural_key") or not hasattr(
            target._default_manager, "get_by_natural_key"
        ):
            raise BackupError(
                f"{model._meta.label}.{f.name} refers to {target._meta.label}, which backups "
                "leave out and which has no natural key to refer to it by."
            )
        fields.append(f)
    return fields


# Writing ----------------------------------------------------------------------------------


class _Encoder(DjangoJSONEncoder):
    """Django's JSON encoder, but keeping microseconds: it cuts times to milliseconds."""

    def default(self, o):
        if isinstance(o, datetime.datetime | datetime.time):
            return o.isoformat()
        return super().default(o)


def _dumps(value):
    return json.dumps(value, cls=_Encoder, ensure_ascii=False, separators=(",", ":")) + "\n"


class _RowSerializer(PythonSerializer):
    """Write each row as one line: foreign keys by id, except into content types and
    permissions, by natural key; many-to-many links are left to their own tables."""

    def __init__(self, writer, natural_fields):
        super().__init__()
        self.writer = writer
        self.natural_fields = {f.name for f in natural_fields}

    def handle_fk_field(self, obj, field):
        if field.name not in self.natural_fields:
            self._current[field.name] = self._value_from_field(obj, field)
            return
        related = getattr(obj, field.name)
        self._current[field.name] = related.natural_key() if related else None

    def handle_m2m_field(self, obj, field):
        pass

    def end_object(self, obj):
        self.writer.write_line(_dumps(self.get_dump_object(obj)), obj._meta.label_lower)
        self._current = None


class _Writer:
    """Compress lines into a stream while hashing them and counting rows per model."""

    def __init__(self, stream, progress):
        self.gzip = gzip.GzipFile(fileobj=stream, mode="wb", mtime=0, filename="")
        self.sha256 = hashlib.sha256()
        self.counts = Counter()
        self.progress = progress

    def write_line(self, text, label=None):
        data = text.encode()
        self.sha256.update(data)
        self.gzip.write(data)
        if label:
            self.counts[label] += 1
            if self.progress:
                self.progress(1)

    def close(self, trailer):
        self.gzip.write(_dumps({"trailer": trailer}).encode())
        self.gzip.close()


def backup_write(*, stream, using=DEFAULT_DB_ALIAS, progress=None, on_header=None):
    """Write a backup of the database to a binary stream; return a BackupSummary.

    on_header is called with the header before any row is read: a progress bar learns the
    total from its counts.
    """
    models = backup_models()
    natural = {model: _natural_key_fields(model) for model in models}
    connection = connections[using]
    if connection.vendor == "postgresql" and connection.in_atomic_block:
        raise BackupError(
            "A backup reads one snapshot of its own and must start its transaction itself: "
            "run it outside transaction.atomic."
        )
    with transaction.atomic(using=using):
        _begin_snapshot(connection)
        header = _header(connection, models)
        if on_header:
            on_header(header)
        writer = _Writer(stream, progress)
        writer.write_line(_dumps(header))
        for model in models:
            rows = (
                model._base_manager.using(using)
                .select_related(*_natural_paths(natural[model]))
                .order_by("pk")
            )
            _RowSerializer(writer, natural[model]).serialize(rows.iterator(chunk_size=CHUNK_ROWS))
    _check_counts(header["models"], writer.counts, when="while it was written")
    summary = BackupSummary(header=header, counts=writer.counts)
    summary.objects = writer.counts.total()
    summary.sha256 = writer.sha256.hexdigest()
    writer.close({"objects": summary.objects, "sha256": summary.sha256})
    return summary


def _natural_paths(fields):
    """Return select_related paths that load everything the natural keys of fields read."""
    paths = []
    for f in fields:
        paths.append(f.name)
        # A permission's natural key includes its content type's.
        targets = f.remote_field.model._meta.local_fields
        paths += [f"{f.name}__{g.name}" for g in targets if g.many_to_one]
    return paths


def _begin_snapshot(connection):
    """Make every following read in this transaction see one moment of the database."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            # Must be the transaction's first statement: the snapshot starts with it.
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
    # SQLite: one read transaction is already a snapshot (WAL) or holds off writers.


def _header(connection, models):
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "created_at": timezone.now().astimezone(datetime.UTC).isoformat(),
        "database_vendor": connection.vendor,
        "django_version": django.get_version(),
        "migrations": applied_migrations(connection),
        "models": {
            model._meta.label_lower: model._base_manager.using(connection.alias).count()
            for model in models
        },
    }


def backup_to_file(*, path, using=DEFAULT_DB_ALIAS, progress=None, on_header=None):
    """Write a backup to a new file, readable by its owner only; return a BackupSummary.

    It is written under a temporary name and renamed when complete, so a backup that fails
    leaves no file that looks whole. An existing file is never replaced.
    """
    path = Path(path)
    if path.exists():
        raise BackupError(f"{path} already exists: choose another name, or move it away first.")
    partial = path.with_name(path.name + ".partial")
    try:
        descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except OSError as error:
        raise BackupError(f"Cannot write {partial}: {error.strerror}.") from None
    try:
        with os.fdopen(descriptor, "wb") as stream:
            summary = backup_write(
                stream=stream, using=using, progress=progress, on_header=on_header
            )
        # A hard link, unlike a rename, fails if a file of that name appeared meanwhile.
        os.link(partial, path)
    except FileExistsError:
        raise BackupError(
            f"{path} already exists: choose another name, or move it away first."
        ) from None
    finally:
        partial.unlink(missing_ok=True)
    return summary


# Migration state ----------------------------------------------------------------------


def applied_migrations(connection):
    """Return the latest applied migration of each app, as {app: [names]}, from the database."""
    loader = MigrationLoader(connection, ignore_no_migrations=True)
    applied = set(loader.applied_migrations)
    latest = {}
    for key in sorted(applied):
        node = loader.graph.node_map.get(key)
        later = node and any(
            child.key in applied for child in node.children if child.key[0] == key[0]
        )
        if not later:
            latest.setdefault(key[0], []).append(key[1])
    return latest


def code_migrations():
    """Return the last migration of each app in this code, as {app: [names]}."""
    graph = MigrationLoader(None, ignore_no_migrations=True).graph
    latest = {}
    for app, name in sorted(graph.leaf_nodes()):
        latest.setdefault(app, []).append(name)
    return latest


def migration_differences(backup_state, code_state):
    """Describe each app whose migrations differ between a backup and this code."""
    problems = []
    for app in sorted((set(backup_state) | set(code_state)) - EXCLUDED_APPS):
        theirs, ours = backup_state.get(app), code_state.get(app)
        if theirs == ours:
            continue
        if ours is None:
            problems.append(f"{app}: in the backup (at {_names(theirs)}) but not installed here")
        elif theirs is None:
            problems.append(f"{app}: installed here (at {_names(ours)}) but not in the backup")
        else:
            problems.append(
                f"{app}: the backup is at {_names(theirs)}, this code at {_names(ours)}"
            )
    return problems


def _names(names):
    return " + ".join(names)


# Reading ----------------------------------------------------------------------------------


def backup_verify(path):
    """Read a backup through; return its header if it is whole and this code can restore it.

    Raises BackupError for a file that is not a backup, of an unknown format version,
    damaged, cut short, whose checksum or row counts do not match, or made at another
    migration state. Nothing is written anywhere.
    """
    lines = _lines(path)
    try:
        first = next(lines, b"")
        header = _read_header(path, first)
        sha256, counts, trailer = hashlib.sha256(first), Counter(), None
        for line in lines:
            if trailer is not None:
                raise BackupError(f"{path} has data after its closing checksum line.")
            if line.startswith(b'{"trailer":'):
                trailer = _parse(path, line).get("trailer")
                continue
            sha256.update(line)
            counts[_parse(path, line).get("model")] += 1
    finally:
        lines.close()
    _check_trailer(path, trailer, sha256.hexdigest(), counts)
    _check_counts(header["models"], counts, when="in this file")
    problems = migration_differences(header["migrations"], code_migrations())
    if problems:
        raise BackupError(
            "This backup was made at another migration state than this code's:\n  "
            + "\n  ".join(problems)
            + "\nRestore it with the version of the code that made it, into an empty "
            "database; then update the code and run `manage.py migrate`."
        )
    unknown = [label for label in header["models"] if not _model_exists(label)]
    if unknown:
        raise BackupError(f"This backup holds rows of models this code lacks: {unknown}.")
    return header


def _model_exists(label):
    try:
        apps.get_model(label)
    except (LookupError, ValueError):
        return False
    return True


def _lines(path):
    """Yield the raw lines of a gzipped file, turning decompression errors into BackupError."""
    try:
        with gzip.open(path, "rb") as file:
            yield from file
    except (FileNotFoundError, PermissionError, IsADirectoryError) as error:
        raise BackupError(f"Cannot read {path}: {error.strerror}.") from None
    except EOFError:
        raise BackupError(
            f"{path} is cut short: the compressed data ends early. Use a complete copy."
        ) from None
    except (gzip.BadGzipFile, zlib.error, OSError) as error:
        raise BackupError(f"{path} is damaged ({error}). Use another copy of the backup.") from None


def _parse(path, line):
    try:
        value = json.loads(line)
    except ValueError:
        raise BackupError(f"{path} holds a line that is not JSON: it is damaged.") from None
    if not isinstance(value, dict):
        raise BackupError(f"{path} holds a line that is not a JSON object: it is damaged.")
    return value


def _read_header(path, line):
    try:
        header = json.loads(line)
    except ValueError:
        header = None
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise BackupError(f"{path} is not a backup written by `manage.py backup`.")
    version = header.get("format_version")
    if version not in READABLE_VERSIONS:
        raise BackupError(
            f"{path} is in backup format version {version}; this code reads version "
            f"{', '.join(map(str, sorted(READABLE_VERSIONS)))}. Restore it with the version "
            "of the code that wrote it."
        )
    return header


def _check_trailer(path, trailer, sha256, counts):
    if not isinstance(trailer, dict):
        raise BackupError(
            f"{path} is cut short: it ends after {counts.total()} rows, without its closing "
            "checksum line. Use a complete copy."
        )
    if trailer.get("sha256") != sha256:
        raise BackupError(
            f"{path} does not match its checksum (it says {trailer.get('sha256')}, the content "
            f"gives {sha256}): it was changed or damaged after it was written. Use another copy."
        )
    if trailer.get("objects") != counts.total():
        raise BackupError(
            f"{path} holds {counts.total()} rows but its trailer says {trailer.get('objects')}."
        )


def _check_counts(expected, found, when):
    wrong = [
        f"{label}: {expected.get(label, 0)} expected, {found.get(label, 0)} found"
        for label in sorted(set(expected) | set(found))
        if expected.get(label, 0) != found.get(label, 0)
    ]
    if wrong:
        raise BackupError(
            f"Row counts do not match the header {when}: " + "; ".join(wrong) + ". "
            "The backup is not consistent; make a new one."
        )


# Restoring --------------------------------------------------------------------------------


def restore_target_check(using=DEFAULT_DB_ALIAS):
    """Raise BackupError unless the database is empty; return True if it has no tables yet."""
    connection = connections[using]
    if not connection.introspection.table_names():
        return True
    executor = MigrationExecutor(connection)
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    if plan:
        pending = ", ".join(f"{migration.app_label}.{migration.name}" for migration, _ in plan)
        _refuse(
            using,
            f"it has tables but unapplied migrations ({pending}). Run `manage.py migrate` "
            "on it first, or restore into a new empty database",
        )
    holding = [
        f"{model._meta.label} ({rows} rows)"
        for model in backup_models()
        if (rows := model._base_manager.using(using).count())
    ]
    if holding:
        more = f" and {len(holding) - 5} more tables" if len(holding) > 5 else ""
        _refuse(using, "it already holds data: " + ", ".join(holding[:5]) + more)
    return False


def _refuse(using, reason):
    raise BackupError(
        f"Refusing to restore into database '{using}': {reason}. A restore never overwrites "
        "anything: create an empty database and point DATABASE_URL at it."
    )


def backup_restore(*, path, using=DEFAULT_DB_ALIAS, progress=None, on_header=None):
    """Load a verified backup into an empty database, all or nothing; return rows per model.

    The file is read through and checked before the database is touched. A database with no
    tables is migrated first. Rows are saved raw: timestamps keep their values and
    simple-history writes no history of its own.
    """
    header = backup_verify(path)
    if on_header:
        on_header(header)
    if restore_target_check(using):
        call_command("migrate", database=using, interactive=False, verbosity=0)
    try:
        counts = _load(path, header, using, progress)
    except (serializer_base.DeserializationError, DatabaseError) as error:
        raise BackupError(
            f"The restore failed and was rolled back, nothing kept: {error}"
        ) from None
    _analyze(connections[using])
    return counts


def _load(path, header, using, progress):
    connection = connections[using]
    models = [apps.get_model(label) for label in header["models"]]
    counts = Counter(dict.fromkeys(header["models"], 0))
    with transaction.atomic(using=using):
        with connection.constraint_checks_disabled():
            for model, instances in _batches(PythonDeserializer(_rows(path), using=using)):
                _insert_raw(model, instances, using)
                counts[model._meta.label_lower] += len(instances)
                if progress:
                    progress(len(instances))
        connection.check_constraints(table_names=[model._meta.db_table for model in models])
        _check_counts(header["models"], counts, when="after loading")
        _reset_sequences(connection, models)
    return counts


def _batches(deserialized):
    """Group consecutive rows of one model, INSERT_ROWS at a time."""
    model, batch = None, []
    for row in deserialized:
        if row.m2m_data:
            raise BackupError(f"A {row.object._meta.label} row carries many-to-many links.")
        if batch and (type(row.object) is not model or len(batch) == INSERT_ROWS):
            yield model, batch
            batch = []
        model = type(row.object)
        batch.append(row.object)
    if batch:
        yield model, batch


def _insert_raw(model, instances, using):
    """Insert rows as they are, the way a raw save does: auto_now and defaults leave their
    values alone, and no signal is sent (simple-history records nothing).

    One multi-row INSERT per batch instead of a save per row; bulk_create would stamp
    auto_now fields with the time of the restore.
    """
    fields = [f for f in model._meta.local_concrete_fields if not f.generated]
    size = max(connections[using].ops.bulk_batch_size(fields, instances), 1)
    for start in range(0, len(instances), size):
        model._base_manager.using(using)._insert(
            instances[start : start + size], fields=fields, raw=True, using=using
        )


def _rows(path):
    lines = _lines(path)
    try:
        next(lines)  # the header, read already
        for line in lines:
            if line.startswith(b'{"trailer":'):
                return
            yield json.loads(line)
    finally:
        lines.close()


def _analyze(connection):
    """Give PostgreSQL's planner statistics and a visibility map for the rows just loaded.

    Without them its plans assume empty tables, and index-only scans read every row.
    """
    if connection.vendor != "postgresql":
        return
    # VACUUM cannot run inside a transaction (a caller's atomic block, a test).
    statement = "ANALYZE" if connection.in_atomic_block else "VACUUM ANALYZE"
    with connection.cursor() as cursor:
        cursor.execute(statement)


def _reset_sequences(connection, models):
    """Move each id sequence past the restored ids, so new rows do not collide with them."""
    statements = connection.ops.sequence_reset_sql(no_style(), models)
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)
