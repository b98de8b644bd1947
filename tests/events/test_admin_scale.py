"""The events admin at scale: counts, pages, sorting, search and forms that stay fast.

What a million events would show is imitated here with a few rows and lowered thresholds.
"""

import re

import pytest
from django.contrib import admin
from django.contrib.admin.widgets import (
    AutocompleteSelect,
    AutocompleteSelectMultiple,
    ForeignKeyRawIdWidget,
    RelatedFieldWidgetWrapper,
)
from django.db import connection
from django.db.models import BooleanField
from django.db.models.expressions import RawSQL
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from events import choices, services
from events.admin.changelist import (
    EstimatedCount,
    LargeTablePaginator,
    count_within,
    public_id_start,
)
from events.models import Event
from tests.factories import (
    ActorFactory,
    CitationFactory,
    EventActorFactory,
    EventFactory,
    PlatformFactory,
    SourceFactory,
)

EVENT_CHANGELIST = reverse("admin:events_event_changelist")
PUBLIC_ID_CELL = re.compile(r'<th class="field-public_id"><a href="[^"]*">([^<]+)</a></th>')
postgres_only = pytest.mark.postgres


def listed(response):
    """Return the public ids of the changelist's rows, in the order shown."""
    assert response.status_code == 200
    return PUBLIC_ID_CELL.findall(response.content.decode())


def paginator_line(response):
    return re.search(r'<p class="paginator">(.*?)</p>', response.content.decode(), re.S).group(1)


def analyze_events():
    """Give the planner real statistics for the few test rows (ANALYZE runs in a transaction)."""
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {Event._meta.db_table}")


@pytest.fixture
def three_events(db):
    return [
        EventFactory(country="CN", date_text="2014-05-27", status=choices.EventStatus.DRAFT),
        EventFactory(country="CN", date_text="2015-01", status=choices.EventStatus.IN_REVIEW),
        EventFactory(country="HK", date_text="2016", status=choices.EventStatus.DRAFT),
    ]


# Counting ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rows", "shown", "printed"),
    [
        (1_000_082, 1_000_000, "about 1,000,000"),
        (267_661, 270_000, "about 270,000"),
        (74_648, 75_000, "about 75,000"),
        (42, 42, "about 42"),
    ],
)
def test_an_estimated_count_is_rounded_and_says_it_is_an_estimate(rows, shown, printed):
    estimate = EstimatedCount(rows)

    assert (estimate, str(estimate)) == (shown, printed)


def test_on_sqlite_the_changelist_counts_exactly_however_low_the_threshold(
    curator_client, three_events, monkeypatch
):
    if connection.vendor == "postgresql":
        pytest.skip("SQLite's behaviour")
    monkeypatch.setattr(LargeTablePaginator, "ESTIMATE_ABOVE", 1)

    response = curator_client.get(EVENT_CHANGELIST)

    assert "3 events" in paginator_line(response)
    assert "about" not in paginator_line(response)


@postgres_only
def test_the_whole_table_above_the_threshold_is_counted_by_the_planners_estimate(
    curator_client, three_events, monkeypatch
):
    analyze_events()
    monkeypatch.setattr(LargeTablePaginator, "ESTIMATE_ABOVE", 1)

    with CaptureQueriesContext(connection) as queries:
        response = curator_client.get(EVENT_CHANGELIST)

    assert "about 3 events" in paginator_line(response)
    assert not [query for query in queries if "COUNT(" in query["sql"].upper()]
    assert len(listed(response)) == 3


@postgres_only
def test_the_whole_table_below_the_threshold_is_counted_exactly(curator_client, three_events):
    analyze_events()

    response = curator_client.get(EVENT_CHANGELIST)

    assert "3 events" in paginator_line(response)
    assert "about" not in paginator_line(response)


def test_a_filtered_list_is_counted_exactly(curator_client, three_events, monkeypatch):
    monkeypatch.setattr(LargeTablePaginator, "ESTIMATE_ABOVE", 1)

    response = curator_client.get(EVENT_CHANGELIST, {"status__exact": "draft"})

    assert "2 events" in paginator_line(response)
    assert "about" not in paginator_line(response)


@postgres_only
def test_a_filtered_count_over_its_time_budget_falls_back_to_the_planners_estimate(
    curator_client, three_events, monkeypatch
):
    analyze_events()
    monkeypatch.setattr("events.admin.changelist.count_within", lambda queryset, budget: None)

    response = curator_client.get(EVENT_CHANGELIST, {"status__exact": "draft"})

    assert re.search(r"about \d+ events?", paginator_line(response))
    assert len(listed(response)) == 2


@postgres_only
def test_a_count_over_budget_is_stopped_and_the_connection_keeps_its_timeout(three_events):
    slow = Event.objects.filter(
        RawSQL("pg_sleep(0.05) IS NOT NULL", (), output_field=BooleanField())
    )
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('statement_timeout')")
        (before,) = cursor.fetchone()

    assert count_within(slow, budget_ms=20) is None
    assert count_within(Event.objects.all(), budget_ms=1000) == 3
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('statement_timeout')")
        assert cursor.fetchone() == (before,)


@postgres_only
def test_pages_past_an_estimate_open_rather_than_fail(curator_client, three_events, monkeypatch):
    analyze_events()
    monkeypatch.setattr(LargeTablePaginator, "ESTIMATE_ABOVE", 1)
    monkeypatch.setattr(admin.site.get_model_admin(Event), "list_per_page", 2)

    response = curator_client.get(EVENT_CHANGELIST, {"p": 5})

    assert response.status_code == 200
    assert listed(response) == []


# Pages and queries -------------------------------------------------------------------------


def test_each_page_lists_its_own_events_in_order(curator_client, three_events, monkeypatch):
    monkeypatch.setattr(admin.site.get_model_admin(Event), "list_per_page", 2)
    newest_first = [event.public_id for event in reversed(three_events)]

    first = curator_client.get(EVENT_CHANGELIST)
    second = curator_client.get(EVENT_CHANGELIST, {"p": 2})

    assert listed(first) + listed(second) == newest_first


def create_listed_events(count):
    for number in range(count):
        event = EventFactory(country="CN", title=f"Blogger detained {number}")
        EventActorFactory(event=event)
        event.platforms.add(PlatformFactory())
        CitationFactory(event=event)
    services.event_search_refresh(event_ids=Event.objects.values_list("pk", flat=True))


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"status__exact": "draft"},
        {"country": "CN"},
        {"year": "2014"},
        {"q": "blogger"},
        {"o": "-5"},
        {"q": "blogger", "country": "CN", "o": "3"},
    ],
    ids=["plain", "status", "country", "year", "search", "sorted", "search+filter+sorted"],
)
def test_the_changelist_runs_the_same_queries_for_3_or_30_events(curator_client, params):
    create_listed_events(3)
    curator_client.get(EVENT_CHANGELIST, params)  # warm per-process caches
    with CaptureQueriesContext(connection) as for_three:
        three = listed(curator_client.get(EVENT_CHANGELIST, params))

    create_listed_events(27)
    with CaptureQueriesContext(connection) as for_thirty:
        thirty = listed(curator_client.get(EVENT_CHANGELIST, params))

    assert (len(three), len(thirty)) == (3, 30)
    assert len(for_thirty) == len(for_three)


def test_the_changelist_offers_no_facet_counts(curator_client, three_events):
    response = curator_client.get(EVENT_CHANGELIST, {"_facets": "True"})

    assert response.status_code == 200
    assert "Show counts" not in response.content.decode()
    assert "Hide counts" not in response.content.decode()


# Filters and sorting -----------------------------------------------------------------------


def test_the_country_filter_offers_exactly_the_countries_that_have_events(curator_client, db):
    EventFactory(country="CN")
    EventFactory(country="HK")
    EventFactory(country="", is_global=True)

    sidebar = curator_client.get(EVENT_CHANGELIST).content.decode()

    offered = set(re.findall(r'href="\?country=([A-Z]{2})"', sidebar))
    assert offered == {"CN", "HK"}


def test_the_country_column_shows_the_country_name_and_a_dash_for_global_events(curator_client, db):
    EventFactory(country="CN")
    EventFactory(country="", is_global=True)

    page = curator_client.get(EVENT_CHANGELIST).content.decode()

    cells = re.findall(r'<td class="field-country_name">([^<]*)</td>', page)
    assert sorted(cells) == ["-", "China"]


def test_sorting_by_date_follows_the_dates_not_the_text(curator_client, db):
    approximate_april = EventFactory(date_text="2014-04~")  # from 1 March 2014
    mid_march = EventFactory(date_text="2014-03-15")

    ascending = curator_client.get(EVENT_CHANGELIST, {"o": "2"})
    descending = curator_client.get(EVENT_CHANGELIST, {"o": "-2"})

    assert listed(ascending) == [approximate_april.public_id, mid_march.public_id]
    assert listed(descending) == [mid_march.public_id, approximate_april.public_id]


@pytest.mark.parametrize(("order", "expected"), [("5", "oldest first"), ("-5", "newest first")])
def test_sorting_by_a_column_breaks_ties_by_date_in_the_same_direction(
    curator_client, db, order, expected
):
    older = EventFactory(country="CN", date_text="2013")
    newer = EventFactory(country="CN", date_text="2015")
    by_date = [older.public_id, newer.public_id]

    response = curator_client.get(EVENT_CHANGELIST, {"o": order})

    assert listed(response) == (by_date if expected == "oldest first" else by_date[::-1])


# Search ------------------------------------------------------------------------------------


@pytest.fixture
def indexed(db):
    """Events whose search text is written, as the admin writes it after every save."""
    purge = EventFactory(country="CN", date_text="2014-05-27", title="Public accounts removed")
    CitationFactory(event=purge, quote="over 40 accounts being removed")
    blocking = EventFactory(country="CN", date_text="2014-09", title="Instagram blocked")
    hong_kong = EventFactory(country="HK", date_text="2014-10", title="Protest posts deleted")
    services.event_search_refresh(event_ids=[purge.pk, blocking.pk, hong_kong.pk])
    return purge, blocking, hong_kong


@pytest.mark.parametrize(
    ("term", "expected"),
    [
        ("accounts removed", {0}),
        ("ACCOUNT", {0}),
        ("40", {0}),  # only in the citation's quote
        ("instagram", {1}),
        ("stagram", set()),  # words are matched from their start
        ("CN-2014", {0, 1}),
        ("cn-2014-0002", {1}),
        ("HK", {2}),
        ("-", set()),
    ],
)
def test_search_matches_the_start_of_words_or_of_a_public_id(
    curator_client, indexed, term, expected
):
    assert [event.public_id for event in indexed] == [
        "CN-2014-0001",
        "CN-2014-0002",
        "HK-2014-0001",
    ]

    response = curator_client.get(EVENT_CHANGELIST, {"q": term})

    assert set(listed(response)) == {indexed[index].public_id for index in expected}


def test_search_finds_an_event_with_no_search_text_yet_by_its_columns(curator_client, indexed):
    unindexed = EventFactory(title="Forum closed", summary="Tianya shut the board.")
    assert unindexed.search_text == ""

    response = curator_client.get(EVENT_CHANGELIST, {"q": "tianya"})

    assert listed(response) == [unindexed.public_id]


@pytest.mark.parametrize(
    ("term", "public_id"), [("CN-2014", True), ("cn", True), ("wechat", False), ("CN 2014", False)]
)
def test_a_search_term_is_read_as_the_start_of_a_public_id_only_when_shaped_like_one(
    term, public_id
):
    assert (public_id_start(term) is not None) == public_id


# The change page ---------------------------------------------------------------------------


def related_widgets(form, parent_link=None):
    for name, field in form.base_fields.items():
        if hasattr(field, "queryset") and name != parent_link:
            widget = field.widget
            if isinstance(widget, RelatedFieldWidgetWrapper):
                widget = widget.widget
            yield name, widget


def test_every_related_field_on_the_event_page_is_an_autocomplete_or_a_raw_id(curator):
    request = RequestFactory().get("/")
    request.user = curator
    event_admin = admin.site.get_model_admin(Event)
    forms = [("event", event_admin.get_form(request), None)]
    for inline in event_admin.get_inline_instances(request):
        formset = inline.get_formset(request)
        forms.append((inline.model._meta.model_name, formset.form, formset.fk.name))
    lazy = (AutocompleteSelect, AutocompleteSelectMultiple, ForeignKeyRawIdWidget)

    listed_in_full = [
        f"{form_name}.{name}"
        for form_name, form, parent_link in forms
        for name, widget in related_widgets(form, parent_link)
        if not isinstance(widget, lazy)
    ]

    assert listed_in_full == []
    assert len(forms) == 5


def test_the_event_page_renders_only_the_actors_and_sources_it_uses(curator_client, db):
    for number in range(30):
        ActorFactory(name=f"Bystander actor {number:02}")
        SourceFactory(title=f"Uncited report {number:02}")
    event = EventFactory()
    EventActorFactory(event=event, actor=ActorFactory(name="Cyberspace Administration"))
    CitationFactory(event=event, source=SourceFactory(title="Reuters report on WeChat"))

    page = curator_client.get(reverse("admin:events_event_change", args=[event.pk]))

    content = page.content.decode()
    assert page.status_code == 200
    assert "Cyberspace Administration" in content
    assert "Reuters report on WeChat" in content
    assert "Bystander actor" not in content
    assert "Uncited report" not in content


def count_change_page_queries(client, event):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("admin:events_event_change", args=[event.pk]))
    assert response.status_code == 200
    return len(queries)


def test_each_cited_source_or_actor_costs_the_change_page_one_query_at_most(curator_client, db):
    event = EventFactory()
    CitationFactory(event=event)
    EventActorFactory(event=event)
    count_change_page_queries(curator_client, event)  # warm per-process caches
    before = count_change_page_queries(curator_client, event)

    for _ in range(5):
        CitationFactory(event=event)
        EventActorFactory(event=event)

    # The autocomplete widget looks up its one selected row; the row's heading needs nothing.
    assert count_change_page_queries(curator_client, event) - before <= 10
