"""How events.public.documents runs its SQL: prepared statements on PostgreSQL, and the same
documents whatever the shape of the query that reads related rows."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from events.models import Event
from events.public import documents
from events.public.documents import Bases, EventDocuments
from tests.factories import CitationFactory, EventActorFactory, EventFactory, PlatformFactory
from timeline.pagination import SORT_KEYS

EVENTS = "/api/v1/events/"
BASES = Bases("http://testserver/events/", "http://testserver/api/v1/events/")


@pytest.fixture
def published_events(db):
    events = []
    for number in range(12):
        event = EventFactory(published=True, title=f"Event {number}")
        EventActorFactory(event=event)
        CitationFactory(event=event)
        event.platforms.add(PlatformFactory())
        events.append(event)
    return events


@pytest.fixture
def reader(published_events):
    """Pages read on the default connection, which starts with no prepared statement."""
    with connection.cursor() as cursor:
        cursor.execute("DEALLOCATE ALL")
    documents._prepared.pop(connection.connection, None)
    return EventDocuments("default", BASES)


def prepared_on_server():
    with connection.cursor() as cursor:
        cursor.execute("SELECT name FROM pg_prepared_statements WHERE name LIKE 'public_%%'")
        return {name for (name,) in cursor.fetchall()}


def page_keys(size):
    sort = SORT_KEYS["date"]
    ordered = Event.objects.published().order_by(*sort.order_by())[:size]
    return list(ordered.values_list("pk", sort.field))


def read_page(reader, size, **options):
    keys = page_keys(size)
    with CaptureQueriesContext(connection) as queries:
        page = reader.page(keys, **options)
    return [query["sql"] for query in queries.captured_queries], [doc.text for doc in page]


@pytest.mark.postgres
def test_a_page_is_prepared_once_then_only_executed(reader):
    first, texts = read_page(reader, 5)
    again, same = read_page(reader, 5)

    assert len(first) == len(again) == 1  # one round trip each
    assert "PREPARE public_" in first[0] and "EXECUTE public_" in first[0]
    assert again[0].startswith("EXECUTE public_") and "PREPARE" not in again[0]
    assert same == texts and len(texts) == 5
    assert len(prepared_on_server()) == 1


@pytest.mark.postgres
def test_every_page_of_any_size_and_filter_runs_one_statement(reader):
    for size in (1, 5, 12):
        read_page(reader, size)
    reader.page(page_keys(3)[1:])

    assert len(prepared_on_server()) == 1


@pytest.mark.postgres
def test_each_connection_keeps_at_most_so_many_statements(reader, monkeypatch):
    monkeypatch.setattr(documents, "PREPARED_PER_CONNECTION", 2)

    read_page(reader, 5)  # the list's statement
    read_page(reader, 5, when="e.status = 'published'")  # the change feed's
    reader.cell_rows(page_keys(5))  # the CSV chunks'

    assert len(prepared_on_server()) == 2


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_statements_the_server_forgot_are_prepared_again(reader):
    _sql, texts = read_page(reader, 5)
    with connection.cursor() as cursor:
        cursor.execute("DEALLOCATE ALL")  # as a pooler's DISCARD ALL would

    _sql, again = read_page(reader, 5)

    assert again == texts
    assert len(prepared_on_server()) == 1


@pytest.mark.postgres
def test_without_prepared_statements_the_page_is_the_same(reader, settings):
    _sql, prepared = read_page(reader, 12)
    settings.PUBLIC_PREPARED_STATEMENTS = False

    sql, plain = read_page(reader, 12)

    assert plain == prepared
    assert not any("PREPARE" in query or "EXECUTE" in query for query in sql)


@pytest.mark.postgres
def test_an_api_page_is_three_round_trips_on_a_new_connection_and_after(client, published_events):
    # The data version, the page's ids, then their JSON (prepared and executed in one round
    # trip the first time).
    for size in (5, 6):
        with CaptureQueriesContext(connection) as queries:
            assert client.get(EVENTS, {"page_size": size}).status_code == 200
        assert len(queries.captured_queries) == 3


@pytest.mark.parametrize("form", ["json", "cell"])
def test_per_event_and_grouped_reads_write_the_same_documents(published_events, form):
    """The two shapes of reading related rows (per event, grouped) agree, on both databases."""
    reader = EventDocuments("default", BASES)
    ids = [pk for pk, _day in page_keys(20)]
    fields = documents.JSON_FIELDS if form == "json" else documents.CSV_FIELDS

    per_event = reader._select(ids, fields, form, shape="per_event")
    grouped = reader._select(ids, fields, form, shape="grouped")

    assert grouped == per_event
    assert len(grouped) == 12
