"""The published events that may have touched a range, read by the width of their spans
(events.querysets.PublishedSpans, migration 0029): the year's and the month's timelines
count from it on PostgreSQL. Each width class, the ongoing events and spans wider than the
widest class must be found exactly as the overlap of the spans (the GiST index) finds them,
for ranges of a day, a month, a year, ranges that cut months and ranges with no end.
"""

import re
from urllib.parse import urlencode

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from events.choices import Verification
from events.models import Event
from events.querysets import SPAN_WIDTHS
from events.services import event_save
from tests.events.test_published_tally import _filters
from tests.factories import EventFactory
from timeline import stats

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

DATES = [
    "2014-03-01",  # a day: width 0
    "2014-02-28/2014-03-01",  # 1 day
    "2014-03-31/2014-04-02",  # 2 days, across a month's end
    "2014-03",  # a month
    "2014-04~",  # widened by its uncertainty
    "2014-21",  # spring
    "2013",  # a year
    "2013-06-15/2014-03-15",  # 273 days, ends mid-month
    "201X",  # a decade: 3,652 days
    "1990/2014-02",  # 24 years: wider than the widest class
    "1985/2015",
    "2009-07-07/..",  # ongoing
    "2014-03-20/..",
    "2015-01-01/..",
]
RANGES = [
    "date_from=2014-03&date_to=2014-03",
    "date_from=2014&date_to=2014",
    "date_from=2014-03-01&date_to=2014-03-01",
    "date_from=2014-03-02&date_to=2014-03-31",
    "date_from=2014-02-15&date_to=2014-04-15",
    "date_from=2013-12-31&date_to=2014-01-01",
    "date_from=2014-04",  # no end
    "date_from=2016",
    "date_from=2009-07-07&date_to=2009-07-07",
    "date_from=1989&date_to=1989",
    "date_from=1995-05&date_to=1995-05&date_match=overlaps",
    "date_from=2014-03&date_to=2014-03&ordering=-updated",
]


@pytest.fixture
def spread():
    places = [("CN", False), ("IR", False), ("", True)]
    for index, date_text in enumerate(DATES * 2):
        country, is_global = places[index % 3]
        EventFactory(
            published=index % 7 != 6,  # a few drafts, never counted
            date_text=date_text,
            country=country,
            is_global=is_global,
            verification=Verification.SINGLE_SOURCE,
        )
    # Edited since, out of the order of their dates: the order of update is not the list's.
    for event in Event.objects.order_by("-date_earliest", "id")[::3]:
        event.title += " (edited)"
        event_save(event=event)


def test_the_dates_cover_every_kind_of_width(spread):
    widths = {
        None if event.date_latest is None else (event.date_latest - event.date_earliest).days
        for event in Event.objects.all()
    }
    assert None in widths and max(w for w in widths if w is not None) >= SPAN_WIDTHS[-1]
    assert {0, 1, 2}.issubset(widths)


@pytest.mark.parametrize("query", RANGES)
def test_spans_find_what_the_overlap_of_the_spans_finds(spread, query):
    filterset = _filters(query)
    spans = filterset.spans()
    assert spans is not None

    days, places = stats.span_days_and_places(spans)

    assert (days, places) == stats.per_day_and_country(filterset.qs)
    assert spans.count() == filterset.qs.count() == sum(count for _day, count in days)
    assert filterset.qs.exists() or query.startswith("date_from=1995")


@pytest.mark.parametrize(
    "query",
    [
        "date_from=2014&date_match=within",
        "date_from=2014&date_match=begins",
        "date_to=2014",  # no first day to read back from
        "date_from=2014&country=CN",
        "date_from=2014&q=wechat",
        "",
    ],
)
def test_other_filters_are_not_read_by_width(spread, query):
    assert _filters(query).spans() is None


@pytest.mark.parametrize("group_by", sorted(stats.BY_SPAN))
def test_the_api_stats_of_a_range_are_the_events_stats(spread, client, group_by):
    query = "date_from=2014-03&date_to=2014-03"
    filterset = _filters(query)
    assert stats.grouped(filterset, group_by) == stats.STATS[group_by](filterset.qs)
    response = client.get(f"/api/v1/stats/?group_by={group_by}&{query}")
    assert response.status_code == 200
    assert response.json()["total"] == filterset.qs.count()


def test_a_months_timeline_counts_by_width_from_the_index_alone(spread, client):
    query = {"date_from": "2014-03", "date_to": "2014-03"}
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE events_event")
        cursor.execute("SET enable_seqscan = off")
        cursor.execute("SET enable_bitmapscan = off")
    try:
        with CaptureQueriesContext(connection) as queries:
            response = client.get("/", query)
        [counted] = [q["sql"] for q in queries if "width_bucket" in q["sql"]]
        with connection.cursor() as cursor:
            cursor.execute(f"EXPLAIN {counted}")
            plan = "\n".join(row for (row,) in cursor.fetchall())
    finally:
        with connection.cursor() as cursor:
            cursor.execute("RESET enable_seqscan")
            cursor.execute("RESET enable_bitmapscan")

    shown = re.search(r'id="result-count">(\d+) events?<', response.content.decode())
    assert int(shown.group(1)) == _filters(urlencode(query)).qs.count()
    # One read of the width index per class and one for the ongoing events, none of the table.
    reads = plan.count("Index Only Scan using event_published_width_idx")
    assert reads == len(SPAN_WIDTHS) + 2, plan
    assert "Seq Scan" not in plan and "Bitmap" not in plan, plan


def _listed(client, url):
    """Every event an API list holds, following its next links; then the same list again,
    following the previous links back from the last page."""
    pages = [client.get(url).json()]
    while pages[-1]["next"]:
        pages.append(client.get(pages[-1]["next"]).json())
    back = [pages[-1]]
    while back[-1]["previous"]:
        back.append(client.get(back[-1]["previous"]).json())
    forwards = [item["id"] for page in pages for item in page["results"]]
    return forwards, [item["id"] for page in reversed(back) for item in page["results"]]


@pytest.mark.parametrize("ordering", ["-updated", "updated"])
@pytest.mark.parametrize(
    "dates", ["date_from=2014-03&date_to=2014-03", "date_from=2014-02-15", "date_from=1989"]
)
def test_a_range_in_order_of_update_is_paged_by_width(spread, client, ordering, dates):
    query = f"{dates}&ordering={ordering}"
    descending = "-" if ordering.startswith("-") else ""
    wanted = list(
        _filters(query)
        .qs.order_by(f"{descending}updated_at", f"{descending}id")
        .values_list("public_id", flat=True)
    )
    with CaptureQueriesContext(connection) as queries:
        forwards, backwards = _listed(client, f"/api/v1/events/?{query}&page_size=3")

    assert forwards == backwards == wanted
    assert len(wanted) > 6  # several pages
    sorted_by_width = [
        q["sql"] for q in queries if "width_bucket" in q["sql"] and "updated_at" in q["sql"]
    ]
    assert len(sorted_by_width) >= len(wanted) // 3, "each page read by width"


def test_the_timeline_page_lists_a_month_by_update_as_the_api_does(spread, client):
    query = "date_from=2014-03&date_to=2014-03&ordering=-updated"
    wanted = list(
        _filters(query).qs.order_by("-updated_at", "-id").values_list("public_id", flat=True)
    )
    page = client.get(f"/?{query}").content.decode()

    assert re.findall(r'<p class="id">([A-Z]{2}-\d{4}-\d{4,})</p>', page) == wanted
