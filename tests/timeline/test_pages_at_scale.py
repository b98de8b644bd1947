"""The timeline page over 20,000 generated events: what a reader of a large timeline sees."""

import datetime
import io
import re
from contextlib import ExitStack
from html import unescape

import pytest
from django.core.management import call_command
from django.db import connection, connections
from django.db.models import Q
from django.test.utils import CaptureQueriesContext

from events.models import Event
from events.services.synthetic import events_generate

pytestmark = pytest.mark.django_db

EVENTS = 20_000


@pytest.fixture
def large_timeline(db):
    call_command("load_seed", stdout=io.StringIO())  # the taxonomy the generator draws on
    events_generate(count=EVENTS, seed=3, actors=400, platforms=60, sources=4000)
    return Event.objects.published()


def page_of(client, url):
    response = client.get(url)
    assert response.status_code == 200, url
    page = response.content.decode()
    ids = re.findall(r'<p class="id">([A-Z]{2}-\d{4}-\d{4,})</p>', page)
    headings = re.findall(r'<h3 id="m\d+">([^<]+)</h3>', page)
    count = int(re.search(r'id="result-count">(\d+) event', page)[1])
    older = re.search(r'<a rel="next" href="([^"]+)">', page)
    return page, ids, headings, count, older and unescape(older[1])


def chart_counts(page):
    counts = {}
    for year, count in re.findall(r"<title>(?:\S+ )?(\d{4})\S*: (\d+)</title>", page):
        counts[year] = counts.get(year, 0) + int(count)
    return {year: count for year, count in counts.items() if count}


def test_a_large_timeline_reads_in_order_and_chart_list_and_count_agree(client, large_timeline):
    """The first page, then every page of one country's events from 2005 to 2012: all of
    them, once, in order, under headings that never repeat nor go back."""
    page, ids, headings, count, _older = page_of(client, "/")

    newest = large_timeline.order_by("-date_earliest", "-id")[:50]
    assert ids == [event.public_id for event in newest]
    assert len(headings) == len(set(headings))
    assert headings == sorted(headings, reverse=True)
    assert count == large_timeline.count()
    assert sum(chart_counts(page).values()) == count

    url = "/?country=RU&date_from=2005&date_to=2012"
    first, ids, headings, count, older = page_of(client, url)
    listed, years_seen = list(ids), list(headings)
    while older:
        _page, ids, headings, page_count, older = page_of(client, "/" + older.lstrip("/"))
        assert page_count == count  # the count, on every page
        assert len(headings) == len(set(headings))
        listed += ids
        years_seen += headings

    # May overlap 2005 to 2012: began by its end, and ended (if it has) after its start.
    wanted = list(
        large_timeline.filter(country="RU", date_earliest__lte="2012-12-31")
        .filter(Q(date_latest__gte="2005-01-01") | Q(date_latest__isnull=True))
        .order_by("-date_earliest", "-id")
        .values_list("public_id", "date_earliest")
    )
    assert listed == [public_id for public_id, _day in wanted]
    assert count == len(wanted) > 100
    assert years_seen == sorted(years_seen, reverse=True)  # never back to a later year
    per_year = {}
    for _public_id, day in wanted:
        per_year[str(day.year)] = per_year.get(str(day.year), 0) + 1
    assert chart_counts(first) == per_year


@pytest.mark.postgres
# Committed, so that VACUUM can make the index-only scan read no table; with a read replica
# the page reads there, so every connection is set and watched.
@pytest.mark.django_db(transaction=True, databases="__all__")
def test_a_range_listed_by_update_is_paged_from_an_index_that_carries_the_spans(client):
    """Walking the update index to fill a page of events in a range must not read the table
    for each event it passes over (migration 0023: 2.3 s down to 110 ms at a million). A
    range with a first day is read by the width of the spans instead (test_published_spans);
    one with an end alone is still walked.

    A thousand events are too few for PostgreSQL to walk an index rather than sort the
    range's few matches, so sorting is priced out, as the planner prices it at a million
    when it expects the page's events to come early in the walk."""
    call_command("load_seed", stdout=io.StringIO())
    events_generate(count=1000, seed=5, actors=40, platforms=10, sources=100)
    readers = [connections[alias] for alias in connections]
    planner = ("seqscan", "bitmapscan", "sort")
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE events_event")
    for reader in readers:
        with reader.cursor() as cursor:
            for kind in planner:
                cursor.execute(f"SET enable_{kind} = off")
    try:
        with ExitStack() as stack:
            captured = [(r, stack.enter_context(CaptureQueriesContext(r))) for r in readers]
            _page, ids, _headings, _count, _older = page_of(
                client, "/?date_to=2012&ordering=-updated"
            )
        [(reader, listed)] = [
            (reader, query["sql"])
            for reader, queries in captured
            for query in queries.captured_queries
            if 'ORDER BY "events_event"."updated_at" DESC' in query["sql"]
            and "LIMIT" in query["sql"]
        ]
        with reader.cursor() as cursor:
            cursor.execute(f"EXPLAIN {listed}")
            plan = "\n".join(row for (row,) in cursor.fetchall())
    finally:
        for reader in readers:
            with reader.cursor() as cursor:
                for kind in planner:
                    cursor.execute(f"RESET enable_{kind}")

    assert ids  # the page lists events of 2012
    assert "Index Only Scan Backward using event_published_updated_idx" in plan, plan


def listed_to_the_end(client, url):
    """Every event the list shows, page after page, and the count it shows on each; then
    the same pages again, back from the last by their links to the page before."""
    page, listed, _headings, count, older = page_of(client, url)
    pages = [listed]
    while older:
        page, ids, _headings, page_count, older = page_of(client, "/" + older.lstrip("/"))
        assert page_count == count
        listed = listed + ids
        pages.append(ids)
    for ids in reversed(pages[:-1]):
        newer = unescape(re.search(r'<a rel="prev" href="([^"]+)">', page)[1])
        page, back, *_ = page_of(client, "/" + newer.lstrip("/"))
        assert back == ids
    return listed, count


def api_listed_to_the_end(client, url):
    listed = []
    while url:
        response = client.get(url)
        assert response.status_code == 200, url
        listed += [event["id"] for event in response.json()["results"]]
        url = response.json()["next"]
    return listed


@pytest.mark.parametrize("ordering", ["-date", "date", "-updated"])
def test_a_search_lists_the_same_events_found_first_or_walked_to(client, ordering, monkeypatch):
    """On PostgreSQL a search's page in date order is found in the published events' words
    where it is narrowed by days or countries or its matches are few (EventFilterSet.paged), and
    walked to along the list's index where they are many or the order is another; the API,
    which knows no count, finds a page of several words in the words too. Either way the
    reader gets every match once, in order, and a search that matches nothing lists
    nothing."""
    call_command("load_seed", stdout=io.StringIO())
    events_generate(count=1500, seed=7, actors=60, platforms=12, sources=200)
    published = Event.objects.published()
    key = {"-date": ("-date_earliest", "-id"), "date": ("date_earliest", "id")}
    searches = {
        "in": published,
        "accounts": published,
        "blocks accounts": published,
        "in accounts": published,
        "no such words": published,
        "in&country=RU&country=global": published.filter(Q(country="RU") | Q(is_global=True)),
        "in&date_from=2010-03": published.overlapping(datetime.date(2010, 3, 1)),
    }
    for search, narrowed in searches.items():
        words = search.split("&")[0]
        wanted = list(
            narrowed.matching(words)
            .order_by(*key.get(ordering, ("-updated_at", "-id")))
            .values_list("public_id", flat=True)
        )
        url = f"/?q={search.replace(' ', '+')}&ordering={ordering}"
        for walked_from in (0, len(wanted) + 1, 5000):
            monkeypatch.setattr("timeline.filters.WALKED_FROM", walked_from)
            assert listed_to_the_end(client, url) == (wanted, len(wanted)), walked_from
        api = f"/api/v1/events/?q={search.replace(' ', '+')}&ordering={ordering}&page_size=40"
        assert api_listed_to_the_end(client, api) == wanted
    assert len(published.matching("in")) > 50 < len(published.matching("accounts")) * 2
    with CaptureQueriesContext(connection) as queries:
        page_of(client, f"/?q=accounts+in&ordering={ordering}")  # not yet cached
    paged = [q["sql"] for q in queries if "LIMIT 51" in q["sql"]]
    from_words = connection.vendor == "postgresql" and ordering != "-updated"
    assert any("events_publishedword" in sql for sql in paged) == from_words, paged
