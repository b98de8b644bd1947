"""Data releases: validated by frictionless, read by pandas, and loaded back losslessly."""

import csv
import hashlib
import io
import json
import zipfile
from decimal import Decimal

import pandas as pd
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from frictionless import validate

from events import choices
from events.models import (
    Actor,
    ActorAlias,
    Event,
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
from events.releases import TABLES, ReleaseError, protect, unprotect
from events.services import event_retract
from events.services.releases import release_load, release_make, release_path_reader
from events.services.synthetic import events_generate
from tests.factories import (
    ActorFactory,
    CitationFactory,
    EventActorFactory,
    EventFactory,
    PlatformFactory,
    SourceFactory,
    TagFactory,
    member_of,
)

pytestmark = pytest.mark.django_db

TABLE_FILES = [table.path for table in TABLES]


def folder(storage, release):
    return storage / f"release-{release.number}"


def read_csv(path):
    with open(path, newline="", encoding="utf-8") as file:
        return list(csv.DictReader(file))


@pytest.fixture
def timeline(db):
    """The seed timeline, generated events, and cells that test the format's edges."""
    call_command("load_seed", verbosity=0)
    events_generate(count=60, seed=3, actors=40, platforms=12, sources=80)
    hostile = EventFactory(
        published=True,
        title='=HYPERLINK("http://evil")',
        summary='\'=already an apostrophe\nand a second line, "quoted"; with ; separators',
        title_original="微信公众号被删除",
        summary_original="-下一行",
        original_language="zh-hans",
        date_text="2014-04~",
        latitude=Decimal("39.90420"),
        longitude=Decimal("-116.40740"),
        locality="@home",
    )
    CitationFactory(event=hostile, source=SourceFactory(title="+ plus", url=""), quote="\tquote")
    return hostile


def test_a_release_is_a_valid_data_package_of_public_data_only(timeline, releases_storage):
    operator = ActorFactory(name="Hidden operator")  # in no published event
    platform = PlatformFactory(name="Seen platform", operator=operator)
    EventFactory(published=True, title="Uses the platform").platforms.add(platform)
    draft = EventFactory(title="A draft nobody may read")
    EventActorFactory(event=draft, actor=ActorFactory(name="Actor of drafts only"))

    release = release_make()

    path = folder(releases_storage, release)
    report = validate(str(path / "datapackage.json"))
    assert report.valid, report.flatten(["rowNumber", "fieldName", "type", "note"])[:10]
    events = read_csv(path / "events.csv")
    assert {row["id"] for row in events} == set(
        Event.objects.published().values_list("public_id", flat=True)
    )
    assert release.event_count == len(events) == Event.objects.published().count()
    everything = b"".join(file.read_bytes() for file in path.iterdir())
    assert b"A draft nobody may read" not in everything
    assert b"Actor of drafts only" not in everything
    (seen,) = [row for row in read_csv(path / "platforms.csv") if row["slug"] == platform.slug]
    assert seen["operator"] == ""  # not public, left empty as the API does


def test_the_package_describes_tables_with_types_keys_and_checksums(timeline, releases_storage):
    release = release_make()

    path = folder(releases_storage, release)
    package = json.loads((path / "datapackage.json").read_text())
    resources = {resource["name"]: resource for resource in package["resources"]}
    assert set(resources) == {table.name for table in TABLES} | {"retractions"}
    assert package["licenses"][0]["name"] == "CC-BY-4.0"
    assert package["version"] == "1.0.0"
    events = resources["events"]["schema"]
    fields = {field["name"]: field for field in events["fields"]}
    assert fields["date_earliest"]["type"] == "date"
    assert fields["first_published_at"]["type"] == "datetime"
    assert fields["latitude"]["type"] == "number"
    assert fields["title"]["description"] == "What happened, in one line."  # the registry's
    assert events["primaryKey"] == ["id"]
    citations = resources["citations"]["schema"]
    assert {"fields": ["source"], "reference": {"resource": "sources", "fields": ["key"]}} in (
        citations["foreignKeys"]
    )
    for resource in package["resources"]:
        data = (path / resource["path"]).read_bytes()
        assert resource["hash"] == "sha256:" + hashlib.sha256(data).hexdigest()
        assert resource["bytes"] == len(data)
    assert "cff-version: 1.2.0" in (path / "CITATION.cff").read_text()
    assert "release 1" in (path / "README.md").read_text()
    archive = (path / release.archive_name).read_bytes()
    assert release.sha256 == hashlib.sha256(archive).hexdigest() and release.size == len(archive)
    names = zipfile.ZipFile(io.BytesIO(archive)).namelist()
    assert "release-1/datapackage.json" in names and "release-1/events.csv" in names


def test_each_quote_is_tied_to_its_own_source(db, releases_storage):
    event = EventFactory(published=True, title="Two sources")
    first, second = SourceFactory(key="first"), SourceFactory(key="second")
    CitationFactory(event=event, source=second, quote="said by the second")
    CitationFactory(event=event, source=first, quote="said by the first")

    release = release_make()

    rows = read_csv(folder(releases_storage, release) / "citations.csv")
    assert [(row["position"], row["source"], row["quote"]) for row in rows] == [
        ("1", "second", "said by the second"),
        ("2", "first", "said by the first"),
    ]


def test_cells_a_spreadsheet_would_run_are_protected_reversibly(timeline, releases_storage):
    release = release_make()

    (row,) = [
        row
        for row in read_csv(folder(releases_storage, release) / "events.csv")
        if row["id"] == timeline.public_id
    ]
    assert row["title"] == '\'=HYPERLINK("http://evil")'
    assert row["summary"].startswith("''=already")
    assert row["summary_original"] == "'-下一行"
    assert row["locality"] == "'@home"
    assert row["longitude"] == "-116.40740"  # a number, never protected
    for text in ("=1", "'=1", "''=1", "'plain", "plain", "", "-", "\tx", "''"):
        assert unprotect(protect(text)) == text


def test_release_load_release_gives_identical_tables(timeline, releases_storage):
    first = release_make()
    path = folder(releases_storage, first)
    empty_the_database()

    output = io.StringIO()
    call_command("load_release", str(path / first.archive_name), stdout=output)
    second = release_make()

    assert output.getvalue() == f"Loaded {first.event_count} events.\n"
    assert all(len(read_csv(path / name)) > 0 for name in TABLE_FILES)  # every kind of row
    again = folder(releases_storage, second)
    for name in TABLE_FILES:
        assert (again / name).read_bytes() == (path / name).read_bytes(), name


RELATED = ("actors", "platforms", "tags", "citations", "counts", "relations")
PLACES = {  # the columns that give each event's related rows their places
    table.name: places
    for table in TABLES
    if (places := tuple(field.name for field in table.columns if field.name.endswith("position")))
}


def test_every_table_of_an_events_rows_gives_them_their_places():
    of_events = {
        table.name
        for table in TABLES
        if any(reference == "events" for _, reference, _ in table.foreign_keys)
    }

    assert of_events == set(PLACES)
    assert PLACES["relations"] == ("from_position", "to_position")


@pytest.fixture
def added_out_of_order(db):
    """Three events whose related rows were added in no alphabetical order."""
    first, second, third = (EventFactory(published=True) for _ in range(3))
    zulu, alpha = ActorFactory(slug="zulu"), ActorFactory(slug="alpha")
    for actor, role in ((zulu, "targeted"), (alpha, "ordered"), (zulu, "ordered")):
        EventActorFactory(event=first, actor=actor, role=role)
    # The API lists an event's platforms and tags in the order they were created.
    zulu_net, alpha_net, mike_net = (
        PlatformFactory(slug=slug) for slug in ("zulu-net", "alpha-net", "mike-net")
    )
    first.platforms.add(alpha_net, zulu_net)
    second.platforms.add(mike_net, alpha_net)
    first.tags.add(TagFactory(slug="zulu-tag"), TagFactory(slug="alpha-tag"))
    for key in ("zulu-source", "alpha-source"):
        CitationFactory(event=first, source=SourceFactory(key=key))
    for quantity, unit in ((5, choices.CountUnit.PEOPLE), (40, choices.CountUnit.ACCOUNTS)):
        EventCount.objects.create(event=first, quantity=quantity, unit=unit)
    for source, kind, target in (
        (first, choices.RelationType.RELATED, third),
        (third, choices.RelationType.PRECEDES, second),
        (first, choices.RelationType.RELATED, second),
    ):
        EventRelation.objects.create(from_event=source, relation_type=kind, to_event=target)
    return first, second, third


def related_rows(client, events):
    """Return {event id: its related rows} as the API shows them to an anonymous reader."""
    rows = {}
    for event in events:
        body = client.get(f"/api/v1/events/{event.public_id}/").json()
        rows[event.public_id] = {name: body[name] for name in RELATED}
    return rows


def test_load_release_keeps_each_events_related_rows_in_the_apis_order(
    added_out_of_order, client, releases_storage
):
    first, second, third = added_out_of_order
    before = related_rows(client, added_out_of_order)
    release = release_make()
    empty_the_database()

    call_command("load_release", str(folder(releases_storage, release) / release.archive_name))

    assert [row["slug"] for row in before[first.public_id]["platforms"]] == [
        "zulu-net",
        "alpha-net",
    ]
    assert [row["event"] for row in before[second.public_id]["relations"]] == [
        third.public_id,
        first.public_id,
    ]
    assert related_rows(client, added_out_of_order) == before


def test_a_release_without_places_loads_in_the_order_of_its_files(
    added_out_of_order, client, releases_storage
):
    first = added_out_of_order[0]  # with rows of every kind, links from it but none to it
    before = related_rows(client, [first])
    path = folder(releases_storage, release_make())
    for name, columns in PLACES.items():
        drop_columns(path, name, columns)
    empty_the_database()

    count = release_load(read=release_path_reader(path))

    assert count == 3
    assert "position" not in read_csv(path / "event_actors.csv")[0]
    assert related_rows(client, [first]) == before  # its rows were written in their places


def drop_columns(path, name, columns):
    """Take columns out of a release's table, as a release made before them would be."""
    rows = read_csv(path / f"{name}.csv")
    kept = [column for column in rows[0] if column not in columns]
    output = io.StringIO(newline="")
    writer = csv.DictWriter(output, kept, extrasaction="ignore", lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    data = output.getvalue().encode()
    (path / f"{name}.csv").write_bytes(data)
    package = json.loads((path / "datapackage.json").read_text())
    (resource,) = [resource for resource in package["resources"] if resource["name"] == name]
    schema = resource["schema"]
    schema["fields"] = [field for field in schema["fields"] if field["name"] in kept]
    schema["primaryKey"] = [key for key in schema["primaryKey"] if key in kept]
    resource["hash"] = "sha256:" + hashlib.sha256(data).hexdigest()
    (path / "datapackage.json").write_text(json.dumps(package))


def empty_the_database():
    Event.objects.all().delete()
    for model in (ActorAlias, PlatformAlias, Platform, Source, Actor, Tag, EventType):
        model.objects.all().delete()
    EventCategory.objects.all().delete()


def test_load_release_refuses_a_database_with_events_and_a_damaged_file(timeline, releases_storage):
    release = release_make()
    path = folder(releases_storage, release)

    with pytest.raises(CommandError, match="already has events"):
        call_command("load_release", str(path))
    empty_the_database()
    (path / "events.csv").write_text("id,title\nXX-0000-0001,tampered\n")
    with pytest.raises(ReleaseError, match=r"events\.csv does not match its checksum"):
        release_load(read=release_path_reader(path))
    assert not Event.objects.exists()  # all or nothing


def test_each_release_lists_the_events_retracted_since_the_one_before(db, releases_storage):
    editor = member_of("Editor", "ana")
    kept, wrong = (
        EventFactory(published=True, title="Kept"),
        EventFactory(published=True, title="Wrong"),
    )
    release_make()
    event_retract(event=wrong, user=editor, reason="The source was a hoax.")

    second = release_make()
    third = release_make()

    retracted = read_csv(folder(releases_storage, second) / "retractions.csv")
    assert [(row["id"], row["reason"]) for row in retracted] == [
        (wrong.public_id, "The source was a hoax.")
    ]
    assert b"Wrong" not in (folder(releases_storage, second) / "events.csv").read_bytes()
    assert read_csv(folder(releases_storage, third) / "retractions.csv") == []
    assert second.retraction_count == 1 and second.event_count == 1
    assert kept.public_id.encode() in (folder(releases_storage, third) / "events.csv").read_bytes()


def test_releases_are_numbered_and_never_written_over(db, releases_storage):
    EventFactory(published=True)
    first = release_make()
    Release.objects.filter(pk=first.pk).delete()  # the row lost, the files kept

    with pytest.raises(ReleaseError, match="immutable"):
        release_make()
    with pytest.raises(CommandError, match="immutable"):
        call_command("release")
    assert (releases_storage / "release-1" / "datapackage.json").exists()


def test_pandas_loads_a_release_and_joins_its_tables(timeline, releases_storage):
    release = release_make()
    path = folder(releases_storage, release)

    # As the researchers' guide shows it.
    events = pd.read_csv(path / "events.csv", keep_default_na=False, na_values=[""])
    roles = pd.read_csv(path / "event_actors.csv", keep_default_na=False, na_values=[""])
    actors = pd.read_csv(path / "actors.csv", keep_default_na=False, na_values=[""])
    who = roles.merge(actors, left_on="actor", right_on="slug").merge(
        events, left_on="event", right_on="id", suffixes=("_actor", "")
    )

    ordered = who[who.role == "ordered"]
    assert len(ordered) == Event.objects.published().filter(actor_roles__role="ordered").count()
    assert set(ordered["id"]) <= set(events["id"])
    assert pd.api.types.is_bool_dtype(events["is_global"])
