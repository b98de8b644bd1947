"""The published events' words (migrations 0026 and 0027, PostgreSQL) against the events,
and the timeline's counts of a search read from them.

The database's triggers keep the table, so every write path is tried: the workflow, an edit
of the text, the day or the place, an edit of something else, bulk inserts and updates,
deletions, a flush. After each, the table must hold exactly the words of every published
event's search vector, with its days and place. Then the chart and the map of a search read
from it, alone or narrowed to days and countries, must say what counting the events says.
"""

import datetime
import re
from collections import Counter

import pytest
from django.core.management import call_command
from django.db import connection
from django.http import QueryDict
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from events.choices import EventStatus
from events.models import Event
from events.services import (
    event_publish,
    event_retract,
    event_return_to_draft,
    event_save,
    event_search_refresh,
)
from tests.factories import CitationFactory, EventFactory
from timeline import stats
from timeline.filters import EventFilterSet

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

KEPT = "word, event_id, date_earliest, country, is_global, date_latest"


def rows(sql):
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return Counter(cursor.fetchall())


def kept():
    return rows(f"SELECT {KEPT} FROM events_publishedword")


def derived():
    """Each published event's words, read from the events as the table should hold them."""
    return rows(
        "SELECT word, id, date_earliest, country, is_global, date_latest FROM events_event, "
        "unnest(tsvector_to_array(search_vector)) AS word WHERE status = 'published'"
    )


def agree():
    return kept() == derived()


def indexed(*events):
    """Write the events' search text, as the admin does after a save, and read it back."""
    event_search_refresh(event_ids=[event.pk for event in events])
    for event in events:
        event.refresh_from_db()
    return events[0] if len(events) == 1 else events


def read_words(queries):
    """The queries that read the words' rows, not only probe which words a search begins."""
    return [
        q["sql"]
        for q in queries
        if "events_publishedword" in q["sql"] and "to_tsquery" not in q["sql"]
    ]


def words_of(event):
    return {word for word, event_id, *_ in kept() if event_id == event.pk}


def test_the_workflow_adds_and_removes_an_events_words(editor):
    event = indexed(EventFactory(title="Bloggers detained", summary="Two bloggers held."))
    CitationFactory(event=event)
    assert not kept()  # a draft's words are not kept
    event_publish(event=event, user=editor)
    assert {"bloggers", "detained", "two", "held"} <= words_of(event)
    assert agree()
    event_retract(event=event, user=editor, reason="Found to be wrong.")
    assert not kept() and agree()


def test_edits_of_the_text_day_and_place_move_the_words_and_others_do_not(editor):
    event, other = indexed(
        EventFactory(published=True, title="Accounts removed", date_text="2014-03"),
        EventFactory(published=True, title="A law passed", date_text="2013"),
    )
    event.title = "Accounts suspended"
    event_save(event=event)
    indexed(event)
    assert "suspended" in words_of(event) and "removed" not in words_of(event)
    event.date_text = "2015"
    event.country, event.is_global = "", True
    event_save(event=event)
    assert agree()
    assert {
        (day.year, country, is_global, last) for _, _, day, country, is_global, last in kept()
    } >= {(2015, "", True, datetime.date(2015, 12, 31))}
    event.date_text = "2015-01-01/.."  # the same first day, ongoing: the last day moves
    event_save(event=event)
    assert agree()
    assert {last for _, event_id, *_, last in kept() if event_id == event.pk} == {None}
    before = kept()
    other.verification = "corroborated"  # no word, day or place moves
    event_save(event=other)
    assert kept() == before and agree()
    event_return_to_draft(event=event, user=editor, comment="Not yet.")
    assert not words_of(event) and agree()


def test_bulk_writes_and_deletions():
    events = indexed(*[EventFactory(published=True, title=f"Closure {n}") for n in range(4)])
    indexed(EventFactory(title="A draft's words"))  # never counted
    Event.objects.filter(pk__in=[e.pk for e in events[:2]]).update(country="HK")
    Event.objects.filter(pk=events[2].pk).update(search_text=" blocked vpn")
    Event.objects.filter(pk=events[3].pk).update(status=EventStatus.DRAFT)
    assert agree()
    assert words_of(events[2]) == {"blocked", "vpn"}
    Event.objects.bulk_create(
        Event(
            title="Copied",
            search_text=" copied words",
            date_text="2010",
            date_earliest="2010-01-01",
            date_latest="2010-12-31",
            country="RU",
            status=EventStatus.PUBLISHED,
            first_published_at=timezone.now(),
            public_id=f"RU-2010-9{n:03d}",
        )
        for n in range(3)
    )
    assert agree()
    Event.objects.filter(country__in=["RU", "HK"]).delete()
    assert agree()
    assert {event_id for _, event_id, *_ in kept()} == {events[2].pk}


@pytest.mark.django_db(transaction=True)
def test_a_flush_empties_it():
    indexed(EventFactory(published=True, title="Words"))
    assert kept()
    call_command("flush", interactive=False, verbosity=0)
    assert not kept()


# What a reader sees: the chart and the map of a search of one word.


@pytest.fixture
def searched():
    texts = [
        "Bloggers detained in Beijing",
        "A blogger and a blogging platform",  # two words beginning "blog": counted once
        "微信公众号被封",
        "WeChat accounts removed",
        "Accounts of bloggers closed",
    ]
    places = [("CN", False), ("IR", False), ("", True)]
    for index in range(15):
        country, is_global = places[index % 3]
        event = EventFactory(
            published=index % 7 != 6,  # a few drafts
            title=texts[index % 5],
            date_text=[
                "2013",
                "2014-03",
                "2014-04~",
                "2014-03-15/2014-05-02",
                "2013-06/..",  # ongoing: overlaps 2014, within no range with an end
                "2014-02/..",
            ][index % 6],
            country=country,
            is_global=is_global,
        )
        indexed(event)
    assert kept()


def _filters(query):
    filterset = EventFilterSet(data=QueryDict(query), queryset=Event.objects.published())
    assert filterset.is_valid(), filterset.errors
    return filterset


@pytest.mark.parametrize(
    "query",
    [
        "blog",
        "bloggers",
        "accounts",
        "微信",
        "wech",
        "nothing",
        "wechat accounts",
        "blog bloggers",  # one event may hold both
        "公众号",  # two bigrams
        "blog&country=CN",
        "accounts&country=global&country=IR",
        "blog&date_from=2014",
        "blog&date_from=2014-04&date_to=2014-04",
        "blog&date_from=2014&date_to=2014&date_match=within",
        "accounts&date_to=2014-03&date_match=begins",
        "blog&ongoing=true",
        "accounts bloggers&country=CN&date_from=2014-03-20",
    ],
)
def test_a_searchs_counts_are_the_events(searched, query):
    filterset = _filters(f"q={query}")
    assert filterset.published_words() is not None
    read = stats.word_days_and_places(filterset.published_words())
    assert read == stats.per_day_and_country(filterset.qs)
    assert sum(n for _, n in read[0]) == filterset.qs.count()


@pytest.mark.parametrize(
    ("query", "in_order"),
    [
        ("wechat accounts", True),  # each begins one word: their rows are merged in order
        ("wech", True),  # "wechat" alone
        ("nothing", True),  # begins no word: matches nothing
        ("accounts bloggers&country=CN&date_from=2014-03-20", True),
        ("blog", False),  # "blogger", "blogging": read whole, each event once
        ("blog bloggers", False),
        ("公众号", True),
    ],
)
def test_the_cases_above_read_the_words_both_ways(searched, query, in_order):
    assert _filters(f"q={query}").published_words().in_order is in_order


def test_the_counts_narrowed_by_days_and_places_are_not_all_alike(searched):
    # The cases above would agree if every filter were ignored: these must differ.
    counts = {
        query: filterset.qs.count()
        for query in ("blog", "blog&country=CN", "blog&date_from=2014", "blog&ongoing=true")
        for filterset in [_filters(f"q={query}")]
    }
    assert len(set(counts.values())) == len(counts), counts


@pytest.mark.parametrize(
    "query",
    ["blog&verification=corroborated", "blog&updated_since=2020-01-01T00:00:00Z", "", "country=CN"],
)
def test_other_filters_are_counted_from_the_events(searched, query):
    assert _filters(query).published_words() is None


def test_a_word_postgresql_reads_otherwise_is_counted_from_the_events(searched, client):
    # events.search keeps "x²" one word; PostgreSQL's parser reads the word "x" in it.
    assert _filters("q=x²").published_words() is None
    assert _filters("q=x² blog&country=CN").published_words() is None
    assert _filters("q=blog&country=CN").published_words() is not None
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/", {"q": "x²"}).status_code == 200
    counts = [q["sql"] for q in queries if "GROUPING SETS" in q["sql"]]
    assert len(counts) == 1 and "events_publishedword" not in counts[0], counts
    assert not read_words(queries)  # nor listed


def test_a_word_postgresql_reads_otherwise_is_listed_from_the_events(client):
    event = indexed(EventFactory(published=True, title="Rule x² of the platform"))
    for query in ("x²", "x² platform"):
        for path in ("/", "/api/v1/events/"):
            response = client.get(path, {"q": query, "date_from": "2000"})
            assert event.public_id in response.content.decode(), (path, query)


@pytest.mark.parametrize("group_by", ["month", "year", "country"])
@pytest.mark.parametrize("query", ["q=blog", "q=blog accounts&country=CN&date_from=2014"])
def test_the_apis_stats_of_a_search_are_the_events(searched, client, group_by, query):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(f"/api/v1/stats/?{query}&group_by={group_by}")
    assert response.status_code == 200
    assert response.json()["results"] == stats.STATS[group_by](_filters(query).qs)
    assert response.json()["total"] == _filters(query).qs.count()
    assert read_words(queries)


def test_the_timeline_page_counts_a_word_from_them(searched, client):
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/", {"q": "blog"})
    assert response.status_code == 200
    shown = re.search(r'id="result-count">(\d+) events?<', response.content.decode())
    assert int(shown.group(1)) == _filters("q=blog").qs.count() > 0
    counts = [q["sql"] for q in queries if "GROUPING SETS" in q["sql"]]
    assert len(counts) == 1 and "events_publishedword" in counts[0], counts


@pytest.mark.parametrize(
    "query",
    ["blog", "accounts", "wechat accounts", "nothing", "blog&country=CN", "微信&date_from=2014"],
)
def test_the_apis_count_of_a_search_is_read_from_them(searched, client, query):
    events = _filters(f"q={query}").qs
    with CaptureQueriesContext(connection) as queries:
        response = client.get(f"/api/v1/events/?q={query}&count=true&page_size=50")
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == events.count()
    assert [event["id"] for event in body["results"]] == list(
        events.order_by("date_earliest", "id").values_list("public_id", flat=True)
    )
    assert read_words(queries)
    stats_total = client.get(f"/api/v1/stats/?q={query}&group_by=platform").json()["total"]
    assert stats_total == events.count()
