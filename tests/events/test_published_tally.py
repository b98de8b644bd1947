"""The published events' tallies against the events: the tally (models.PublishedTally,
migration 0020) and the tallies by type (PublishedTypeMonth, PublishedTypePlace, 0024).

The database's triggers keep it, so every write path is tried: the workflow, an edit of
each key, a bulk update, a bulk insert, a deletion, a flush. After each, the tally must say
what a count of the published events says. Then the timeline's chart, count and map read
from them must say what they say counted from the events, for every filter they answer.
"""

import datetime
import re
from urllib.parse import urlencode

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.models import Count
from django.db.models.functions import TruncMonth
from django.http import QueryDict
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from events.choices import EventStatus, Verification
from events.models import Event, PublishedTally, PublishedTypeMonth, PublishedTypePlace
from events.services import event_publish, event_retract, event_return_to_draft, event_save
from tests.factories import (
    CitationFactory,
    EventCategoryFactory,
    EventFactory,
    EventTypeFactory,
    PlatformFactory,
)
from timeline import stats
from timeline.filters import EventFilterSet

pytestmark = pytest.mark.django_db


def tallied():
    return {
        (row.month, row.country, row.is_global, row.verification): row.events
        for row in PublishedTally.objects.all()
        if row.events
    }


def counted():
    rows = (
        Event.objects.published()
        .annotate(month=TruncMonth("date_earliest"))
        .values("month", "country", "is_global", "verification")
        .annotate(n=Count("*"))
    )
    return {
        (_day(row["month"]), row["country"], row["is_global"], row["verification"]): row["n"]
        for row in rows
    }


def by_type():
    """The tallies by type, and the same counts of the published events."""
    months = {
        (row.event_type_id, row.month): row.events for row in PublishedTypeMonth.objects.all()
    }
    places = {
        (row.event_type_id, row.country, row.is_global): row.events
        for row in PublishedTypePlace.objects.all()
    }
    published = Event.objects.published().exclude(event_type=None)
    return (
        {key: n for key, n in months.items() if n},
        {key: n for key, n in places.items() if n},
    ), (
        {
            (row["event_type"], _day(row["month"])): row["n"]
            for row in published.annotate(month=TruncMonth("date_earliest"))
            .values("event_type", "month")
            .annotate(n=Count("*"))
        },
        {
            (row["event_type"], row["country"], row["is_global"]): row["n"]
            for row in published.values("event_type", "country", "is_global").annotate(n=Count("*"))
        },
    )


def agree():
    """Whether every tally says what the events say."""
    kept, counted_by_type = by_type()
    return tallied() == counted() and kept == counted_by_type


def _day(value):
    return value.date() if isinstance(value, datetime.datetime) else value


def test_the_workflow_moves_an_event_in_and_out(editor):
    event = EventFactory(date_text="2014-03")
    CitationFactory(event=event)
    assert tallied() == {} == counted()
    event_publish(event=event, user=editor)
    assert tallied() == {(datetime.date(2014, 3, 1), "CN", False, "single_source"): 1}
    assert by_type()[0] == (
        {(event.event_type_id, datetime.date(2014, 3, 1)): 1},
        {(event.event_type_id, "CN", False): 1},
    )
    event_retract(event=event, user=editor, reason="Found to be wrong.")
    assert tallied() == {} == counted()
    assert by_type() == (({}, {}), ({}, {}))


def test_an_edit_of_each_key_moves_its_count(editor):
    events = [EventFactory(published=True, date_text="2014-05-27") for _ in range(3)]
    other = EventFactory(published=True, date_text="2013", country="IR")
    events[0].date_text = "2014-04~"
    event_save(event=events[0])
    events[1].country = ""
    events[1].is_global = True
    event_save(event=events[1])
    events[2].verification = Verification.CORROBORATED
    event_save(event=events[2])
    other.title = "Only the title changed"
    event_save(event=other)
    assert agree()
    assert len(counted()) == 4
    before = other.event_type_id
    other.event_type = EventTypeFactory()
    event_save(event=other)
    assert agree()
    months = by_type()[0][0]
    assert months[(other.event_type_id, datetime.date(2013, 1, 1))] == 1
    assert not any(key[0] == before for key in months)


def test_statements_of_many_rows_are_folded_alike():
    EventFactory.create_batch(4, published=True, date_text="2014-05")
    EventFactory.create_batch(2, date_text="2014-05")  # drafts: not counted
    Event.objects.filter(status=EventStatus.PUBLISHED).update(country="HK")
    assert tallied() == counted() == {(datetime.date(2014, 5, 1), "HK", False, "single_source"): 4}
    assert agree()
    Event.objects.filter(status=EventStatus.DRAFT).update(
        status=EventStatus.PUBLISHED, first_published_at=timezone.now()
    )
    assert agree()
    retyped = EventTypeFactory()
    Event.objects.update(event_type=retyped)
    assert agree()
    assert {key[0] for key in by_type()[0][1]} == {retyped.pk}
    copies = [
        Event(
            title=f"Copy {n}",
            summary="Copied.",
            event_type=event.event_type,
            date_text="2010",
            date_earliest=datetime.date(2010, 1, 1),
            date_latest=datetime.date(2010, 12, 31),
            country="RU",
            status=EventStatus.PUBLISHED,
            first_published_at=timezone.now(),
            public_id=f"CN-2010-9{n:03d}",
        )
        for n, event in enumerate(Event.objects.all()[:3])
    ]
    Event.objects.bulk_create(copies)
    assert agree()
    Event.objects.filter(country="RU").delete()
    assert agree()
    assert sum(tallied().values()) == 6


def test_a_return_to_draft_and_a_deleted_draft(editor):
    event = EventFactory(date_text="2014")
    CitationFactory(event=event)
    event_publish(event=event, user=editor)
    event_return_to_draft(event=event, user=editor, comment="Not yet.")
    assert tallied() == counted() == {}
    assert by_type() == (({}, {}), ({}, {}))


@pytest.mark.django_db(transaction=True)
def test_a_flush_empties_it():
    EventFactory(published=True)
    assert tallied()
    call_command("flush", interactive=False, verbosity=0)
    assert PublishedTally.objects.count() == 0
    assert PublishedTypeMonth.objects.count() == PublishedTypePlace.objects.count() == 0


# The chart and the map: from the tally where it answers, from the events elsewhere.

ANSWERED = [
    "",
    "country=CN",
    "country=global",
    "country=CN&country=global&country=IR",
    "verification=corroborated",
    "verification=single_source&verification=confirmed&country=IR",
    "date_from=2014-03&date_to=2014-03&date_match=begins",
    "date_from=2013&date_to=2014&date_match=begins&country=CN",
    "date_from=2014-02&date_match=begins",
    "date_to=2013-12&date_match=begins",
    "date_match=within",  # no dates: the choice changes nothing
    "ordering=-date",
]
# Of types and categories alone: the tallies by type answer (the tally does not).
ANSWERED_BY_TYPE = [
    "type=type-0",
    "type=type-0&type=type-1",
    "category=category-0",
    "category=category-0&category=category-1&type=type-1",
    "type=type-1&ordering=-date&date_match=within",
]
NOT_ANSWERED_BY_TYPE = [
    "",
    "country=CN",
    "type=type-0&country=CN",
    "category=category-0&verification=corroborated",
    "type=type-0&date_from=2014&date_match=begins",
    "type=type-0&q=wechat",
    "type=type-0&platform=wechat",
]
NOT_ANSWERED = [
    "q=wechat",
    "date_from=2014&date_to=2014",  # may overlap: the tally keeps no last days
    "date_from=2014&date_to=2014&date_match=within",
    "date_from=2014-03-02&date_match=begins",  # cuts a month
    "date_to=2014-03-30&date_match=begins",
    "type=account-removal",
    "platform=wechat",
]


@pytest.fixture
def varied(editor):
    dates = ["2013", "2013-12-31", "2014-03", "2014-04~", "2014-03-15/2014-05-02"]
    places = [("CN", False), ("IR", False), ("", True)]
    verifications = [Verification.SINGLE_SOURCE, Verification.CORROBORATED]
    categories = [EventCategoryFactory(slug="category-0"), EventCategoryFactory(slug="category-1")]
    types = [
        EventTypeFactory(slug="type-0", category=categories[0]),
        EventTypeFactory(slug="type-1", category=categories[1]),
        EventTypeFactory(slug="type-2", category=categories[0]),
    ]
    wechat = PlatformFactory(slug="wechat")
    for index in range(24):
        country, is_global = places[index % 3]
        event = EventFactory(
            published=index % 5 != 4,  # a few drafts
            date_text=dates[index % 5],
            country=country,
            is_global=is_global,
            verification=verifications[index % 2],
            event_type=types[index % 3],
        )
        if index % 4 == 0:
            event.platforms.add(wechat)


def _filters(query):
    filterset = EventFilterSet(data=QueryDict(query), queryset=Event.objects.published())
    assert filterset.is_valid(), filterset.errors
    return filterset


def assert_counted_alike(filterset, months, places):
    """The chart's months and years, the map's places and the count, read from a tally, are
    those counted from the filtered events."""
    days, counted_places = stats.per_day_and_country(filterset.qs)
    for with_month in (True, False):
        assert stats.by_period(months, with_month) == stats.by_period(days, with_month)
    assert places == counted_places
    assert sum(count for _month, count in months) == filterset.qs.count()


@pytest.mark.parametrize("query", ANSWERED)
def test_the_tally_counts_what_the_events_count(varied, query):
    filterset = _filters(query)
    tally = filterset.tally()
    assert tally is not None
    assert_counted_alike(filterset, *stats.tallied(tally))


@pytest.mark.parametrize("query", ANSWERED)
@pytest.mark.parametrize("group_by", sorted(stats.TALLIED))
def test_the_api_stats_from_it_are_the_events_stats(varied, client, query, group_by):
    filterset = _filters(query)
    assert filterset.tally() is not None
    assert stats.grouped(filterset, group_by) == stats.STATS[group_by](filterset.qs)
    response = client.get(f"/api/v1/stats/?group_by={group_by}&{query}")
    assert response.status_code == 200
    assert response.json()["total"] == filterset.qs.count()


@pytest.mark.parametrize("query", NOT_ANSWERED)
def test_filters_it_cannot_answer_are_counted_from_the_events(varied, query):
    query = re.sub("type=account-removal", "type=type-0", query)
    assert _filters(query).tally() is None


@pytest.mark.parametrize("query", ANSWERED_BY_TYPE)
def test_the_tallies_by_type_count_what_the_events_count(varied, query):
    filterset = _filters(query)
    assert filterset.tally() is None
    types = filterset.tallied_types()
    assert types is not None
    assert_counted_alike(filterset, *stats.tallied_by_type(types))
    assert filterset.qs.exists()


@pytest.mark.parametrize("query", ANSWERED_BY_TYPE)
@pytest.mark.parametrize("group_by", sorted(stats.TALLIED_BY_TYPE))
def test_the_api_stats_by_type_are_the_events_stats(varied, client, query, group_by):
    filterset = _filters(query)
    assert filterset.tally() is None and filterset.tallied_types() is not None
    by_type = stats.grouped(filterset, group_by)
    assert by_type == stats.STATS[group_by](filterset.qs)
    response = client.get(f"/api/v1/stats/?group_by={group_by}&{query}")
    assert response.status_code == 200
    assert response.json()["results"] == by_type
    assert response.json()["total"] == filterset.qs.count()


@pytest.mark.parametrize("query", NOT_ANSWERED_BY_TYPE)
def test_filters_of_more_than_types_are_not_counted_by_type(varied, query):
    assert _filters(query).tallied_types() is None


def _counts_events(sql):
    """Whether a query counts the events by their earliest day (the list's own query, with
    its LIMIT, aside)."""
    return "COUNT(*)" in sql and "date_earliest" in sql and "LIMIT" not in sql


@pytest.mark.parametrize(
    ("query", "source"),
    [
        ({"verification": "corroborated"}, "events_publishedtally"),
        ({"country": "IR", "date_from": "2014", "date_match": "begins"}, "events_publishedtally"),
        ({"category": "category-0"}, "events_publishedtypemonth"),
        ({"q": "event", "country": "CN"}, "events_event"),
    ],
)
def test_the_timeline_page_counts_from_it(varied, client, query, source):
    """The page's chart, count and map come from the tally where it answers: the count
    shown is the events', and no query groups the events by day."""
    filterset = _filters(urlencode(query))
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/", query)
    assert response.status_code == 200
    shown = re.search(r'id="result-count">(\d+) events?<', response.content.decode())
    assert int(shown.group(1)) == filterset.qs.count()
    by_day = [q["sql"] for q in queries if _counts_events(q["sql"])]
    tally = [q["sql"] for q in queries if "SUM(" in q["sql"] and "events_published" in q["sql"]]
    if source == "events_publishedtally":
        # Months and countries in one pass on PostgreSQL (GROUPING SETS), two on SQLite.
        assert len(tally) == (1 if connection.vendor == "postgresql" else 2), tally
        assert all(source in sql for sql in tally), tally
        assert not by_day, by_day
    elif source == "events_publishedtypemonth":
        # The months from one tally by type, the places from the other.
        assert len(tally) == 2, tally
        assert source in tally[0] and "events_publishedtypeplace" in tally[1], tally
        assert not by_day, by_day
    else:
        assert by_day and not tally, tally


def test_the_countries_readers_can_pick_are_those_of_published_events(varied):
    """The filter form's countries skip along the index from one country to the next: only
    countries of published events, each once, never a draft's."""
    EventFactory(published=False, country="KP")
    retracted = EventFactory(published=True, country="RU")
    event_retract(event=retracted, reason="Duplicate.")
    published = Event.objects.published().exclude(country="")
    assert stats.published_countries() == sorted(set(published.values_list("country", flat=True)))
    assert stats.published_countries() == ["CN", "IR"]


@pytest.mark.parametrize("query", ANSWERED + ANSWERED_BY_TYPE + NOT_ANSWERED)
def test_the_apis_count_is_the_events_count(varied, client, query):
    # Read from the tally, the tallies by type or the events: the same number each way,
    # and the same events listed; the fixture's drafts in none.
    query = re.sub("type=account-removal", "type=type-0", query)
    events = _filters(query).qs
    response = client.get(f"/api/v1/events/?{query}&count=true&page_size=1000")
    assert response.status_code == 200
    assert response.json()["count"] == events.count() == len(response.json()["results"])
    total = client.get(f"/api/v1/stats/?{query}&group_by=platform").json()["total"]
    assert total == events.count()
