"""The registry of public fields against every consumer: a field declared in one place only
fails here, loudly.

Each format must carry exactly the fields the registry says it carries, in the registry's
order: the JSON list, the detail, NDJSON, the change feed, both CSV writers, the import, the
OpenAPI schema, the guide's tables, search, the admin and the synthetic generator.
"""

import csv
import io
import json

import pytest
from django.conf import settings
from django.contrib import admin
from django.core.management import call_command

from events import choices
from events.admin.events import EventAdmin
from events.models import Event
from events.public import docs
from events.public.fields import (
    CSV_COLUMNS,
    CSV_FIELDS,
    EVENT_FIELDS,
    GROUPS,
    IMPORTED_FIELDS,
    JSON_FIELDS,
    SEARCHABLE_FIELDS,
    Kind,
    Origin,
)
from events.public.openapi import event_components
from events.resources import EventResource
from events.services import event_search_refresh
from tests.factories import (
    ActorFactory,
    CitationFactory,
    EventActorFactory,
    EventFactory,
    EventTypeFactory,
    PlatformFactory,
    SourceFactory,
    TagFactory,
)
from timeline import exports

pytestmark = pytest.mark.django_db

EVENTS = "/api/v1/events/"
# Event columns the public never sees, each for a reason; a new column must be put here or in
# the registry.
PRIVATE_COLUMNS = {
    "id": "the database's key; the public id is public",
    "event_type": "shown through the type and category fields",
    "status": "only published events are public at all",
    "submitted_at": "workflow",
    "retracted_at": "shown only in the change feed, as the retraction",
    "retraction_reason": "shown only in the change feed, for retracted events",
    "version": "edit conflicts",
    "internal_notes": "curators' notes",
    "search_text": "what search reads",
    "created_at": "curation record",
    "created_by": "curation record",
    "updated_by": "curation record",
}


def json_keys():
    """Return the registry's JSON shape: top-level keys, and the keys of each nested group."""
    top, groups = [], {}
    for public_field in JSON_FIELDS:
        path = public_field.json_path
        if path[0] not in top:
            top.append(path[0])
        if len(path) == 2:
            groups.setdefault(path[0], []).append(path[1])
    return top, groups


@pytest.fixture
def full_event():
    """A published event with a value in every field the registry declares."""
    event = EventFactory(
        status=choices.EventStatus.PUBLISHED,
        title="Accounts removed",
        summary="Many accounts were removed.",
        title_original="微信公众号被删除",
        summary_original="许多账号被删除。",
        original_language="zh-hans",
        event_type=EventTypeFactory(),
        date_text="2014-03~",
        country="CN",
        locality="Beijing",
        latitude="39.90420",
        longitude="116.40740",
    )
    EventActorFactory(event=event, actor=ActorFactory(name="Tencent"), note="operator")
    event.platforms.add(PlatformFactory(name="WeChat"))
    event.tags.add(TagFactory(name="messaging"))
    CitationFactory(event=event, source=SourceFactory(url="https://example.org/a"), quote="q")
    other = EventFactory(status=choices.EventStatus.PUBLISHED, title="Other")
    event.relations_out.create(to_event=other, relation_type=choices.RelationType.PRECEDES)
    event.counts.create(quantity=40, unit=choices.CountUnit.ACCOUNTS)
    event_search_refresh(event_ids=[event.pk, other.pk])
    return event


def streamed(client, url):
    response = client.get(url)
    assert response.status_code == 200
    return b"".join(response.streaming_content).decode()


# JSON ------------------------------------------------------------------------------------


def assert_registry_shape(item):
    top, groups = json_keys()
    assert list(item) == top
    for group, keys in groups.items():
        if item[group] is not None:
            assert list(item[group]) == keys, group


def test_json_list_detail_ndjson_and_change_feed_carry_exactly_the_registry(client, full_event):
    listed = client.get(EVENTS).json()["results"]
    detail = client.get(f"{EVENTS}{full_event.public_id}/").json()
    ndjson = streamed(client, f"{EVENTS}?format=ndjson")
    lines = [json.loads(line) for line in ndjson.splitlines()]
    changes = client.get("/api/v1/changes/").json()["results"]

    for item in [*listed, detail, *lines, *(change["data"] for change in changes)]:
        assert_registry_shape(item)
    assert detail in listed and detail in lines


def test_every_json_value_has_its_kinds_type(client, full_event):
    item = client.get(f"{EVENTS}{full_event.public_id}/").json()
    types = {
        Kind.TEXT: str,
        Kind.CODE: str,
        Kind.DAY: str,
        Kind.MOMENT: str,
        Kind.DECIMAL: str,
        Kind.BOOLEAN: bool,
        Kind.INTEGER: int,
        Kind.LIST: list,
    }
    for public_field in JSON_FIELDS:
        value = item
        for key in public_field.json_path:
            value = value[key]
        assert isinstance(value, types[public_field.kind]), public_field.name
        if public_field.origin == Origin.RELATED:
            assert value and list(value[0]) == list(public_field.item), public_field.name


def test_new_fields_are_in_json_with_their_language(client, full_event):
    item = client.get(f"{EVENTS}{full_event.public_id}/").json()

    assert item["title_original"] == "微信公众号被删除"
    assert item["summary_original"] == "许多账号被删除。"
    assert item["original_language"] == "zh-hans"


# CSV -------------------------------------------------------------------------------------


def test_csv_header_is_the_registrys_columns_in_its_order(client, full_event):
    text = streamed(client, f"{EVENTS}?format=csv")
    header, *rows = list(csv.reader(io.StringIO(text, newline="")))

    assert header == list(CSV_COLUMNS) == exports.COLUMN_NAMES
    assert {len(row) for row in rows} == {len(CSV_FIELDS)}
    cells = next(
        dict(zip(header, row, strict=True)) for row in rows if row[0] == full_event.public_id
    )
    assert cells["title_original"] == "微信公众号被删除"
    assert cells["original_language"] == "zh-hans"
    json_only = [f.name for f in EVENT_FIELDS if not f.csv]
    assert not set(json_only) & set(header)


def test_every_csv_column_has_a_value_when_the_event_has_one(client, full_event):
    text = streamed(client, f"{EVENTS}?format=csv")
    records = csv.DictReader(io.StringIO(text, newline=""))
    cells = next(row for row in records if row["id"] == full_event.public_id)

    empty = [name for name, value in cells.items() if value == ""]
    assert empty == [], "the fixture sets every field: an empty cell is a field left out"


# Import ----------------------------------------------------------------------------------


def test_the_import_reads_every_column_the_registry_says_it_reads():
    resource = EventResource()
    listed = [f.column_name for f in resource.get_import_fields()]

    assert listed == [f.name for f in IMPORTED_FIELDS]
    read_only = {f.name for f in CSV_FIELDS if f.importer is None}
    assert read_only == {
        "date_display",
        "date_earliest",
        "date_latest",
        "date_precision",
        "date_is_approximate",
        "date_is_uncertain",
        "is_ongoing",
        "source_urls",
        "url",
    }


# Schema and guide -------------------------------------------------------------------------


def test_openapi_event_component_is_the_registrys_shape(client):
    schema = client.get("/api/schema/?format=json").json()
    components = schema["components"]["schemas"]
    top, groups = json_keys()

    assert list(components["Event"]["properties"]) == top
    for group, keys in groups.items():
        assert list(components[GROUPS[group]["component"]]["properties"]) == keys
    for public_field in JSON_FIELDS:
        path = public_field.json_path
        owner = components["Event"] if len(path) == 1 else components[GROUPS[path[0]]["component"]]
        assert owner["properties"][path[-1]].get("description") == public_field.description
    for name in event_components():
        assert name in components, name


def test_researchers_guide_tables_are_written_from_the_registry():
    text = (settings.BASE_DIR / "docs" / "researchers.md").read_text(encoding="utf-8")
    found = docs.blocks(text)

    assert found == {"csv-columns": docs.csv_column_table(), "json-fields": docs.json_field_table()}
    for name in CSV_COLUMNS:
        assert f"| `{name}` |" in found["csv-columns"]


def test_document_fields_check_passes_on_the_committed_guide():
    call_command("document_fields", "--check")


# Model, admin, search -------------------------------------------------------------------


def test_every_event_column_is_public_through_the_registry_or_named_private():
    shown = {f.model_field for f in EVENT_FIELDS if f.model_field}
    columns = {field.name for field in Event._meta.concrete_fields}

    assert columns - shown == set(PRIVATE_COLUMNS)
    assert shown <= columns


def test_every_editable_public_column_is_in_the_admin_form():
    fieldsets = EventAdmin(Event, admin.site).fieldsets
    in_form = {name for _title, options in fieldsets for name in _flat(options["fields"])}
    editable = {
        f.model_field
        for f in EVENT_FIELDS
        if f.model_field and Event._meta.get_field(f.model_field).editable
    }

    assert editable - in_form == set()


def _flat(names):
    for name in names:
        yield from (name if isinstance(name, tuple) else (name,))


@pytest.mark.parametrize("field_name", SEARCHABLE_FIELDS)
def test_q_finds_words_of_every_searchable_field(client, full_event, field_name):
    Event.objects.filter(pk=full_event.pk).update(**{field_name: "zanzibarquux 微博审查"})
    event_search_refresh(event_ids=[full_event.pk])

    for word in ("zanzibarquux", "微博"):
        found = client.get(EVENTS, {"q": word}).json()["results"]
        assert [item["id"] for item in found] == [full_event.public_id], (field_name, word)
