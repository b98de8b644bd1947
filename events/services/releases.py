"""Writing a data release, and loading one into an empty database (events.releases says
what a release holds)."""

import csv
import datetime
import graphlib
import hashlib
import io
import itertools
import json
import shutil
import tempfile
import zipfile
from collections import defaultdict
from operator import itemgetter
from pathlib import Path, PurePosixPath

from django.conf import settings
from django.core.files.base import File
from django.core.files.storage import storages
from django.db import connection, transaction
from django.utils import timezone

from .. import choices
from ..models import (
    Actor,
    ActorAlias,
    Citation,
    Event,
    EventActor,
    EventCategory,
    EventCount,
    EventRelation,
    EventType,
    Platform,
    PlatformAlias,
    Release,
    Source,
    Tag,
)
from ..releases import (
    EVENT_COLUMNS,
    LICENCE,
    PACKAGE_NAME,
    RETRACTION_TABLE,
    RETRACTIONS,
    TABLES,
    TITLE,
    ReleaseError,
    read_cell,
    write_cell,
)
from .events import event_save, event_search_refresh

CHUNK_BYTES = 1024 * 1024

# Writing a release -----------------------------------------------------------------------------


def release_make(*, storage=None, now=None, progress=None):
    """Write the next numbered release of the public timeline; return its Release row.

    Every table is read in one snapshot of the database (a read-only REPEATABLE READ
    transaction on PostgreSQL), so the tables agree with each other; readers are never
    blocked. Tables are written row by row to temporary files (memory stays flat at a
    million events), then the files go to the releases storage under release-<number>/, with
    a zip of them all, and are never written over.
    """
    storage = storage or storages["releases"]
    now = now or timezone.now()
    previous = Release.objects.order_by("-number").first()
    number = previous.number + 1 if previous else 1
    folder = f"release-{number}"
    if storage.exists(f"{folder}/datapackage.json"):
        raise ReleaseError(f"{folder} is already in the releases storage: releases are immutable.")
    since = previous.released_at if previous else None
    with tempfile.TemporaryDirectory(prefix="release-") as work:
        work = Path(work)
        resources = _tables_written(work, since)
        event_count = next(r for r in resources if r["name"] == "events")["rows"]
        retraction_count = next(r for r in resources if r["name"] == RETRACTIONS)["rows"]
        package = _package(number, now, resources, since)
        texts = {
            "datapackage.json": json.dumps(package, indent=2, ensure_ascii=False) + "\n",
            "CITATION.cff": _citation_cff(number, now),
            "README.md": _readme(number, now, event_count, retraction_count, since),
        }
        for name, text in texts.items():
            (work / name).write_text(text, encoding="utf-8")
        names = [resource["path"] for resource in resources] + list(texts)
        archive = work / f"{PACKAGE_NAME}-{number}.zip"
        _zip(archive, folder, work, names)
        for name in names:
            with open(work / name, "rb") as file:
                storage.save(f"{folder}/{name}", File(file))
        with open(archive, "rb") as file:
            archive_name = storage.save(f"{folder}/{archive.name}", File(file))
        size, sha256 = _measured(archive)
    release = Release.objects.create(
        number=number,
        released_at=now,
        event_count=event_count,
        retraction_count=retraction_count,
        archive=archive_name,
        size=size,
        sha256=sha256,
    )
    if progress:
        progress(f"Release {number}: {event_count} events, {size:,} bytes")
    return release


def _tables_written(work, since):
    """Write every table's CSV into work, in one snapshot; return their resources."""
    resources = []
    outermost = not connection.in_atomic_block
    with transaction.atomic():
        if outermost:  # inside a caller's transaction, its snapshot is the one read
            _begin_snapshot()
        for table in TABLES:
            rows = _table_csv(work / table.path, table, table.records())
            resources.append(_resource(work, table, rows))
        retracted = Event.objects.filter(status=choices.EventStatus.RETRACTED)
        if since is not None:
            retracted = retracted.filter(retracted_at__gt=since)
        retracted = retracted.order_by("public_id").values_list(
            "public_id", "retracted_at", "retraction_reason"
        )
        rows = _table_csv(work / RETRACTION_TABLE.path, RETRACTION_TABLE, retracted.iterator())
        resources.append(_resource(work, RETRACTION_TABLE, rows))
    return resources


def _begin_snapshot():
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")


def _table_csv(path, table, records):
    """Write a table's CSV to path; return how many rows it holds."""
    kinds = [column.type for column in table.columns]
    rows = 0
    with open(path, "w", encoding="utf-8", newline="") as file:
        writer = csv.writer(file, lineterminator="\r\n")
        writer.writerow([column.name for column in table.columns])
        for record in records:
            cells = [write_cell(value, kind) for value, kind in zip(record, kinds, strict=True)]
            writer.writerow(cells)
            rows += 1
    return rows


def _measured(path):
    """Return (bytes, SHA-256) of a file, read a megabyte at a time."""
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        while chunk := file.read(CHUNK_BYTES):
            digest.update(chunk)
    return path.stat().st_size, digest.hexdigest()


def _resource(work, table, rows):
    size, sha256 = _measured(work / table.path)
    return {
        "name": table.name,
        "path": table.path,
        "title": table.name.replace("_", " ").capitalize(),
        "description": table.description,
        "format": "csv",
        "mediatype": "text/csv",
        "encoding": "utf-8",
        "bytes": size,
        "hash": "sha256:" + sha256,
        "rows": rows,
        "schema": table.schema(),
    }


def _package(number, now, resources, since):
    return {
        "$schema": "https://datapackage.org/profiles/2.0/datapackage.json",
        "name": PACKAGE_NAME,
        "id": f"{settings.SITE_URL}/data/{number}/",
        "title": f"{TITLE}, release {number}",
        "description": (
            "Published censorship events with their actors, platforms, tags, sources, "
            "quoted citations, counts and relations, as of "
            f"{now.astimezone(datetime.UTC):%Y-%m-%d %H:%M} UTC. Only public data. "
            "Text cells a spreadsheet would run as a formula begin with one added apostrophe."
        ),
        "version": f"{number}.0.0",
        "created": now.astimezone(datetime.UTC).isoformat().replace("+00:00", "Z"),
        "homepage": f"{settings.SITE_URL}/data/",
        "licenses": [LICENCE],
        "contributors": [{"title": TITLE, "roles": ["publisher"]}],
        "keywords": ["censorship", "events", "human rights"],
        "previous_release": (
            since.astimezone(datetime.UTC).isoformat().replace("+00:00", "Z") if since else None
        ),
        "resources": [
            {key: value for key, value in resource.items() if key != "rows"}
            for resource in resources
        ],
    }


def _citation_cff(number, now):
    day = now.astimezone(datetime.UTC).date().isoformat()
    return (
        "cff-version: 1.2.0\n"
        'message: "If you use this data, please cite it as below."\n'
        "type: dataset\n"
        f'title: "{TITLE}"\n'
        "authors:\n"
        f'  - name: "{TITLE}"\n'
        f'version: "{number}"\n'
        f"date-released: {day}\n"
        f'url: "{settings.SITE_URL}/data/"\n'
        f'repository-artifact: "{settings.SITE_URL}/data/{number}/{PACKAGE_NAME}-{number}.zip"\n'
        "license: CC-BY-4.0\n"
    )


def _readme(number, now, event_count, retraction_count, since):
    day = now.astimezone(datetime.UTC).date().isoformat()
    tables = "\n".join(f"- `{table.path}`: {table.description}" for table in TABLES)
    after = f"since the previous release ({since:%Y-%m-%d})" if since else "ever"
    return (
        f"# {TITLE}, release {number} ({day})\n\n"
        f"{event_count} published censorship events, as of {now:%Y-%m-%d %H:%M} UTC, as a "
        "Frictionless Data Package: `datapackage.json` describes every table, its columns, "
        "types, keys and checksum.\n\n"
        f"{tables}\n"
        f"- `{RETRACTION_TABLE.path}`: {retraction_count} events retracted {after}: drop them "
        "from your copy.\n\n"
        "Every id, slug and key is stable across releases. A `position` column gives a row's "
        "place among its event's rows (1, 2, ...), in the order the API lists them. A text "
        "cell that a spreadsheet would run as a formula (starting with =, +, -, @, a tab or a "
        "line break) begins with one added apostrophe; take one away to read the text.\n\n"
        f"Licence: CC BY 4.0. Cite as: {TITLE}, release {number} ({day}), "
        f"{settings.SITE_URL}/data/ (see CITATION.cff).\n"
    )


def _zip(archive, folder, work, names):
    """Zip the files under folder/, with fixed times: the same files make the same bytes."""
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zipped:
        for name in names:
            info = zipfile.ZipInfo(str(PurePosixPath(folder) / name), (1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            with open(work / name, "rb") as source, zipped.open(info, "w") as target:
                shutil.copyfileobj(source, target, CHUNK_BYTES)


# Reading a release back ------------------------------------------------------------------------


def release_tables(read):
    """Return {table: [dict per row]} of a release, from read(name) -> bytes of its files."""
    package = json.loads(read("datapackage.json"))
    tables = {}
    for resource in package["resources"]:
        kinds = {field["name"]: field["type"] for field in resource["schema"]["fields"]}
        data = read(resource["path"])
        if "sha256:" + hashlib.sha256(data).hexdigest() != resource["hash"]:
            raise ReleaseError(f"{resource['path']} does not match its checksum.")
        rows = csv.DictReader(io.StringIO(data.decode("utf-8"), newline=""))
        tables[resource["name"]] = [
            {name: read_cell(text, kinds[name]) for name, text in row.items()} for row in rows
        ]
    return tables


def release_path_reader(path):
    """Return read(name) for a release folder, or a release's zip."""
    path = str(path)
    if path.endswith(".zip"):
        archive = zipfile.ZipFile(path)
        (folder,) = {PurePosixPath(name).parts[0] for name in archive.namelist()}
        return lambda name: archive.read(f"{folder}/{name}")
    return lambda name: (Path(path) / name).read_bytes()


# Loading a release into an empty database -------------------------------------------------------

# What Event.set_date derives from the date as curated: written again as each event is saved.
DERIVED_FROM_DATE = {
    field.name
    for field in Event._meta.concrete_fields
    if field.name.startswith("date_") and field.name != "date_text"
}


@transaction.atomic
def release_load(*, read):
    """Load a release (read(name) -> bytes of its files) into a database with no events.

    Everything comes back as published, with its ids, slugs, keys and times, and each
    event's related rows in their places (the order the API lists them in): a release
    written from the loaded database has the same tables. A release without places (one
    made before they were written) keeps the order of its files.
    """
    if Event.objects.exists():
        raise ReleaseError("This database already has events: load a release into an empty one.")
    tables = release_tables(read)
    categories = {
        row["slug"]: EventCategory.objects.create(slug=row["slug"], name=row["name"])
        for row in tables["event_categories"]
    }
    types = {
        row["slug"]: EventType.objects.create(
            slug=row["slug"],
            name=row["name"],
            description=row["description"],
            category=categories[row["category"]],
        )
        for row in tables["event_types"]
    }
    actors = {}
    for row in tables["actors"]:
        fields = {key: value for key, value in row.items() if key != "parent"}
        actors[row["slug"]] = Actor.objects.create(**fields)
    for row in tables["actors"]:
        if row["parent"]:
            Actor.objects.filter(slug=row["slug"]).update(parent=actors[row["parent"]])
    ActorAlias.objects.bulk_create(
        ActorAlias(actor=actors[row.pop("actor")], **row) for row in tables["actor_aliases"]
    )
    platforms = {}
    for row in _in_listed_order(tables["platforms"], tables["event_platforms"], "platform"):
        operator = row.pop("operator")
        operator = actors[operator] if operator else None
        platforms[row["slug"]] = Platform.objects.create(operator=operator, **row)
    PlatformAlias.objects.bulk_create(
        PlatformAlias(platform=platforms[row.pop("platform")], **row)
        for row in tables["platform_aliases"]
    )
    tags = {
        row["slug"]: Tag.objects.create(**row)
        for row in _in_listed_order(tables["tags"], tables["event_tags"], "tag")
    }
    sources = {}
    for row in tables["sources"]:
        publisher = row.pop("publisher_actor")
        row["publisher_actor"] = actors[publisher] if publisher else None
        sources[row["key"]] = Source.objects.create(**row)
    events, updated = {}, {}
    for row in tables["events"]:
        event = Event(status=choices.EventStatus.PUBLISHED, event_type=types[row["type"]])
        for column_ in EVENT_COLUMNS:
            name = column_.lookup
            if name in DERIVED_FROM_DATE or name == "event_type__slug" or name == "updated_at":
                continue
            setattr(event, name, row[column_.name])
        events[row["id"]] = event_save(event=event)
        updated[row["id"]] = row["updated_at"]
    _link_rows(tables, events, actors, platforms, tags, sources)
    event_search_refresh(event_ids=[event.pk for event in events.values()])
    for public_id, event in events.items():
        event.updated_at = updated[public_id]
    Event.objects.bulk_update(events.values(), ["updated_at"], batch_size=1000)
    return len(events)


def _link_rows(tables, events, actors, platforms, tags, sources):
    # In their places: the ids they get keep each event's order.
    EventActor.objects.bulk_create(
        EventActor(
            event=events[row["event"]],
            actor=actors[row["actor"]],
            role=row["role"],
            note=row["note"],
        )
        for row in _by_place(tables["event_actors"])
    )
    Event.platforms.through.objects.bulk_create(
        Event.platforms.through(event=events[row["event"]], platform=platforms[row["platform"]])
        for row in tables["event_platforms"]
    )
    Event.tags.through.objects.bulk_create(
        Event.tags.through(event=events[row["event"]], tag=tags[row["tag"]])
        for row in tables["event_tags"]
    )
    Citation.objects.bulk_create(
        Citation(
            event=events[row["event"]],
            source=sources[row["source"]],
            quote=row["quote"],
            locator=row["locator"],
        )
        for row in _by_place(tables["citations"])
    )
    EventCount.objects.bulk_create(
        EventCount(
            event=events[row["event"]],
            qualifier=row["qualifier"],
            quantity=row["quantity"],
            unit=row["unit"],
            note=row["note"],
        )
        for row in _by_place(tables["counts"])
    )
    EventRelation.objects.bulk_create(
        EventRelation(
            from_event=events[row["from_event"]],
            relation_type=row["relation"],
            to_event=events[row["to_event"]],
            note=row["note"],
        )
        for row in _relations_in_order(tables["relations"])
    )


# Places: the order of each event's related rows -----------------------------------------------


def _by_place(rows, event="event", position="position"):
    """Return rows in (event, place) order; in file order within an event if none has one."""
    keyed = [((row[event], row.get(position, index)), row) for index, row in enumerate(rows)]
    return [row for _, row in sorted(keyed, key=itemgetter(0))]


def _places(rows, event, key, position="position"):
    """Return each event's rows, as key(row), in their places."""
    listed = defaultdict(list)
    for row in _by_place(rows, event, position):
        listed[row[event]].append(key(row))
    return list(listed.values())


def _in_listed_order(rows, links, field):
    """Return platforms' (or tags') rows in an order in which every event lists them.

    The API lists an event's platforms and tags in the order they were created (by id):
    created in this order, each event's come back in their places.
    """
    by_slug = {row["slug"]: row for row in rows}
    slugs = _agreeing_order(sorted(by_slug), _places(links, "event", itemgetter(field)))
    return [by_slug[slug] for slug in slugs]


def _relations_in_order(rows):
    """Return relations in an order that keeps both events' places: the links from one event
    and the links to one event are each listed in the order they were made."""

    def key(row):
        return row["from_event"], row["relation"], row["to_event"]

    lists = _places(rows, "from_event", key, "from_position") + _places(
        rows, "to_event", key, "to_position"
    )
    by_key = {key(row): row for row in rows}
    return [by_key[found] for found in _agreeing_order(sorted(by_key), lists)]


def _agreeing_order(keys, lists):
    """Return keys in an order that keeps every list's order, the smallest keys first when
    several could come next (a topological sort, graphlib's).

    A database's ids give such an order, so a release written from one always has it.
    """
    sorter = graphlib.TopologicalSorter({key: () for key in keys})
    for listed in lists:
        for before, after in itertools.pairwise(listed):
            sorter.add(after, before)
    try:
        sorter.prepare()
    except graphlib.CycleError:
        raise ReleaseError("The places of an event's rows contradict another event's.") from None
    ordered = []
    while sorter.is_active():
        ready = sorted(sorter.get_ready())
        ordered += ready
        sorter.done(*ready)
    return ordered
