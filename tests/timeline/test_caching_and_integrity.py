"""Public caching (JSON API and reader pages), X-Row-Count on exports, the fast serializer.

Cache hits are recognised the way a reader would notice them: a change made behind the
cache's back (a queryset update() leaves updated_at, and so the data version, alone) shows
only in a response built afresh. Query counts confirm it: a hit reads the data version and
nothing else.
"""

import csv
import datetime
import io
import json
from decimal import Decimal

import pytest
from django.db import connection
from django.http import HttpResponse
from django.test import Client, RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import path
from django.utils import timezone
from django.utils.http import http_date
from rest_framework.throttling import AnonRateThrottle

from events import choices
from events.models import (
    Actor,
    Event,
    EventCategory,
    EventRelation,
    EventType,
    Platform,
    Source,
    Tag,
)
from events.public.documents import Bases
from events.services import event_publish, event_retract, event_save, events_referencing_changed
from tests.factories import (
    ActorFactory,
    CitationFactory,
    EventActorFactory,
    EventCategoryFactory,
    EventFactory,
    EventTypeFactory,
    PlatformFactory,
    SourceFactory,
    TagFactory,
)
from tests.timeline.reference import reference_events
from tests.timeline.test_exports import build_rich_timeline, role, streamed_text
from timeline import exports, pages
from timeline.caching import cache_public_page
from timeline.filters import EventFilterSet

pytestmark = pytest.mark.django_db

API = "/api/v1/"
EVENTS = f"{API}events/"
UTC = datetime.UTC
THIS_MODULE = __name__
FORMATS = ["csv", "ndjson", "timelinejs"]


@pytest.fixture
def rich_timeline():
    category = EventCategoryFactory(name="Content control", slug="content-control")
    taxonomy = EventTypeFactory(category=category, name="Account removal", slug="account-removal")
    wechat = PlatformFactory(name="微信", slug="wechat")
    return build_rich_timeline(taxonomy, wechat)


# Helpers ---------------------------------------------------------------------------------


def fetch(client, url, **extra):
    """GET url; return the response and the SQL it ran (a streamed body is read first)."""
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, **extra)
        if response.streaming:
            response.downloaded = streamed_text(response)
    return response, [query["sql"] for query in queries.captured_queries]


def is_version_query(sql):
    return sql.startswith("SELECT seq FROM events_publicversion")


def from_cache(client, url, **extra):
    """GET url and check it was answered from the cache: only the data version was read."""
    response, queries = fetch(client, url, **extra)
    assert response.status_code == 200, response.content
    assert not response.streaming
    assert len(queries) == 1 and is_version_query(queries[0]), queries
    return response


def built_afresh(client, url, **extra):
    """GET url and check the answer was built: it read more than the data version."""
    response, queries = fetch(client, url, **extra)
    assert len(queries) > 1, f"{url} was answered from the cache"
    return response


def quietly_retitle(event, title):
    """Change a title behind the cache's back: update() leaves updated_at where it was."""
    Event.objects.filter(pk=event.pk).update(title=title)


def titles(response):
    return [item["title"] for item in response.json()["results"]]


def headers_of(response):
    """Every header: Content-Type, Link, ETag, Vary, Allow, Content-Length..."""
    return dict(response.headers)


def cited_draft(**fields):
    """A draft with what publication needs, for event_publish."""
    event = EventFactory(**fields)
    CitationFactory(event=event)
    return event


def reader():
    """Another browser: anonymous, with its own cookies."""
    return Client()


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """Create the personas' users without the deliberately slow hasher."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def three_per_minute(settings, monkeypatch):
    # DRF copies the rates into the throttle class when it is imported: patch both.
    rates = {"anon": "3/minute"}
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": rates}
    monkeypatch.setattr(AnonRateThrottle, "THROTTLE_RATES", rates)


# A. The JSON API's cache -------------------------------------------------------------------

CACHED_URLS = [
    f"{EVENTS}?page_size=2",
    f"{EVENTS}?country=CN",
    f"{API}actors/",
    f"{API}actors/xi-jinping/",
    f"{API}platforms/",
    f"{API}sources/",
    f"{API}event-types/",
    f"{API}tags/",
    f"{API}stats/?group_by=country",
    f"{API}changes/",
]


def test_second_identical_get_is_the_same_bytes_from_the_cache(client, rich_timeline):
    for url in CACHED_URLS:  # one timeline for them all: building it is the slow part
        first = built_afresh(client, url)
        second = from_cache(client, url)

        assert first.status_code == 200, url
        assert second.content == first.content, url
        assert headers_of(second) == headers_of(first), url


def test_event_detail_is_cached_with_its_headers(client, rich_timeline):
    url = f"{EVENTS}{rich_timeline[0].public_id}/"
    first = built_afresh(client, url)

    second = from_cache(client, url)

    assert second.content == first.content
    assert headers_of(second) == headers_of(first)
    assert second["ETag"] == first["ETag"]


def test_cached_list_keeps_its_link_header_for_the_next_page(client, rich_timeline):
    first = built_afresh(client, f"{EVENTS}?page_size=2")
    second = from_cache(client, f"{EVENTS}?page_size=2")

    assert 'rel="next"' in first["Link"]
    assert second["Link"] == first["Link"]
    assert second["Content-Type"] == "application/json"
    assert "Accept" in second["Vary"]


def test_cached_list_still_answers_a_conditional_get_with_304(client, rich_timeline):
    client.get(EVENTS)
    cached = from_cache(client, EVENTS)

    revalidated = client.get(EVENTS, HTTP_IF_NONE_MATCH=cached["ETag"])

    assert revalidated.status_code == 304


def test_a_hit_is_served_while_the_data_version_stays_put(client, rich_timeline):
    client.get(EVENTS)
    quietly_retitle(rich_timeline[0], "Changed behind the cache's back")

    assert "Changed behind the cache's back" not in titles(from_cache(client, EVENTS))


def test_publishing_an_event_reaches_the_next_get(client, rich_timeline):
    client.get(EVENTS)
    client.get(EVENTS)
    draft = cited_draft(title="Newly published", event_type=rich_timeline[0].event_type)

    event_publish(event=draft)

    assert "Newly published" in titles(built_afresh(client, EVENTS))
    assert "Newly published" in titles(from_cache(client, EVENTS))


def test_a_published_factory_event_reaches_the_next_get(client, rich_timeline):
    client.get(EVENTS)

    EventFactory(published=True, title="Saved as published")

    assert "Saved as published" in titles(client.get(EVENTS))


def test_editing_a_title_reaches_the_next_get(client, rich_timeline):
    detail = f"{EVENTS}{rich_timeline[3].public_id}/"
    client.get(EVENTS)
    client.get(detail)
    event = Event.objects.get(pk=rich_timeline[3].pk)
    event.title = "Plain span, corrected"

    event_save(event=event)

    assert "Plain span, corrected" in titles(client.get(EVENTS))
    assert client.get(detail).json()["title"] == "Plain span, corrected"


def test_retracting_an_event_reaches_the_list_the_detail_and_the_stats(client, rich_timeline):
    gone = rich_timeline[2]
    detail = f"{EVENTS}{gone.public_id}/"
    stats_url = f"{API}stats/?group_by=country"
    client.get(EVENTS)
    assert client.get(detail).status_code == 200
    before = client.get(stats_url).json()["total"]

    event_retract(event=Event.objects.get(pk=gone.pk), reason="Two reports were one.")

    assert gone.public_id not in [item["id"] for item in client.get(EVENTS).json()["results"]]
    assert client.get(detail).status_code == 404
    assert client.get(stats_url).json()["total"] == before - 1


def test_renaming_an_actor_as_the_admin_does_reaches_events_and_the_actor(client, rich_timeline):
    actor_url = f"{API}actors/xi-jinping/"
    client.get(EVENTS)
    client.get(actor_url)
    actor = Actor.objects.get(slug="xi-jinping")
    actor.name = "Xi Jinping"

    actor.save()
    events_referencing_changed(events=Actor.objects.filter(pk=actor.pk).referencing_events())

    names = {
        role["name"]
        for item in client.get(EVENTS).json()["results"]
        for role in item["actors"]
        if role["slug"] == "xi-jinping"
    }
    assert names == {"Xi Jinping"}
    assert client.get(actor_url).json()["name"] == "Xi Jinping"


def test_an_edit_read_before_an_actor_was_renamed_keeps_the_new_name_searchable(
    client, editor, rich_timeline
):
    actors = Actor.objects.filter(slug="xi-jinping")
    published = actors.referencing_events().filter(status=choices.EventStatus.PUBLISHED)
    shown = published.first()
    opened = Event.objects.get(pk=shown.pk)  # an editor opens the event
    actor = actors.get()
    actor.name = "Zhongnanhai Chairman"  # meanwhile a curator renames the actor
    actor.save()
    events_referencing_changed(events=actors.referencing_events())
    opened.title = f"{opened.title}, corrected"

    event_save(event=opened, user=editor)

    found = client.get(EVENTS, {"q": "Zhongnanhai"}).json()["results"]
    assert {item["id"] for item in found} == {event.public_id for event in published}
    assert shown.public_id in {item["id"] for item in found}
    assert client.get(f"{EVENTS}{shown.public_id}/").json()["title"] == opened.title


def test_deleting_a_tag_in_the_admin_reaches_the_next_get(editor_client, rich_timeline):
    anonymous = reader()
    anonymous.get(EVENTS)
    tag = Tag.objects.get(slug="formula-tag")

    deleted = editor_client.post(f"/admin/events/tag/{tag.pk}/delete/", {"post": "yes"})

    assert deleted.status_code == 302
    assert not Tag.objects.filter(slug="formula-tag").exists()
    shown = {t["slug"] for item in anonymous.get(EVENTS).json()["results"] for t in item["tags"]}
    assert "formula-tag" not in shown


def test_stats_change_after_a_publish(client, rich_timeline):
    url = f"{API}stats/?group_by=country"
    before = client.get(url).json()
    from_cache(client, url)
    draft = cited_draft(country="FR", event_type=rich_timeline[0].event_type)

    event_publish(event=draft)

    after = client.get(url).json()
    assert after["total"] == before["total"] + 1
    assert {row["key"]: row["count"] for row in after["results"]}.get("FR") == 1


def test_different_query_strings_do_not_share_an_entry(client, rich_timeline):
    chinese = client.get(f"{EVENTS}?country=CN").json()["results"]
    iranian = client.get(f"{EVENTS}?country=IR").json()["results"]
    first_page = client.get(f"{EVENTS}?page_size=1").json()["results"]

    assert [item["country"] for item in chinese] == ["CN"]
    assert [item["country"] for item in iranian] == ["IR"]
    assert len(first_page) == 1
    assert from_cache(client, f"{EVENTS}?country=CN").json()["results"] == chinese


def test_json_and_csv_accept_headers_do_not_share_an_entry(client, rich_timeline):
    as_json = client.get(EVENTS, HTTP_ACCEPT="application/json")
    as_csv, _ = fetch(client, EVENTS, HTTP_ACCEPT="text/csv")
    json_again = from_cache(client, EVENTS, HTTP_ACCEPT="application/json")

    assert as_json["Content-Type"] == "application/json"
    assert as_csv.streaming
    assert as_csv["Content-Type"].startswith("text/csv")
    assert next(csv.reader(io.StringIO(as_csv.downloaded))) == exports.COLUMN_NAMES
    assert json_again.content == as_json.content


def test_csv_asked_first_does_not_answer_a_later_json_request(client, rich_timeline):
    as_csv, _ = fetch(client, EVENTS, HTTP_ACCEPT="text/csv")
    as_json = client.get(EVENTS, HTTP_ACCEPT="application/json")

    assert as_csv["Content-Type"].startswith("text/csv")
    assert as_json["Content-Type"] == "application/json"
    assert len(as_json.json()["results"]) == len(rich_timeline)


def test_another_host_gets_its_own_absolute_urls(client, rich_timeline, settings):
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "example.org"]
    url = f"{EVENTS}?page_size=2"
    here = client.get(url)
    from_cache(client, url)

    there = built_afresh(client, url, HTTP_HOST="example.org")
    there_again = from_cache(client, url, HTTP_HOST="example.org")

    assert "http://testserver/" in here.content.decode()
    assert "testserver" not in there.content.decode()
    assert there.json()["results"][0]["url"].startswith("http://example.org/events/")
    assert there["Link"].startswith("<http://example.org/api/v1/events/")
    assert there_again.content == there.content
    assert there_again["Link"] == there["Link"]


def test_https_and_http_do_not_share_an_entry(client, rich_timeline):
    plain = client.get(EVENTS)
    secure = client.get(EVENTS, secure=True)

    assert plain.json()["results"][0]["url"].startswith("http://testserver/")
    assert secure.json()["results"][0]["url"].startswith("https://testserver/")


def test_a_bad_filter_is_not_cached_and_a_good_one_then_answers(client, rich_timeline):
    bad = f"{EVENTS}?platform=no-such-platform"
    refused, first_queries = fetch(client, bad)
    refused_again, second_queries = fetch(client, bad)
    good = client.get(f"{EVENTS}?platform=wechat")

    assert refused.status_code == refused_again.status_code == 400
    assert "platform" in refused.json()["errors"]
    assert refused_again.content == refused.content
    assert len(second_queries) == len(first_queries) > 1  # checked again, not replayed
    assert good.status_code == 200
    assert len(good.json()["results"]) == 3


def test_streamed_exports_are_never_cached(client, rich_timeline):
    for number, fmt in enumerate(FORMATS):
        url = f"{EVENTS}?format={fmt}"
        first, first_queries = fetch(client, url)
        quietly_retitle(rich_timeline[3], f"Retitled between two downloads {number}")
        second, second_queries = fetch(client, url)

        assert first.streaming and second.streaming, fmt
        assert f"Retitled between two downloads {number}" not in first.downloaded, fmt
        assert f"Retitled between two downloads {number}" in second.downloaded, fmt
        assert len(second_queries) == len(first_queries), fmt
        assert second[exports.ROW_COUNT_HEADER] == first[exports.ROW_COUNT_HEADER], fmt


def test_csv_by_accept_header_is_never_cached(client, rich_timeline):
    fetch(client, EVENTS, HTTP_ACCEPT="text/csv")
    quietly_retitle(rich_timeline[3], "Retitled between two downloads")

    second, _ = fetch(client, EVENTS, HTTP_ACCEPT="text/csv")

    assert second.streaming
    assert "Retitled between two downloads" in second.downloaded


def test_throttling_still_refuses_requests_answered_from_the_cache(
    client, rich_timeline, three_per_minute
):
    built_afresh(client, EVENTS)
    from_cache(client, EVENTS)
    from_cache(client, EVENTS)

    refused = client.get(EVENTS)

    assert refused.status_code == 429
    assert "Too many requests" in refused.json()["detail"]
    # Another address is not refused, and the entry the first one filled serves it.
    assert from_cache(client, EVENTS, REMOTE_ADDR="10.0.0.2").json()["results"]


def test_zero_cache_seconds_turns_the_cache_off(client, rich_timeline, settings):
    settings.PUBLIC_CACHE_SECONDS = 0
    built_afresh(client, EVENTS)
    quietly_retitle(rich_timeline[3], "Seen at once")

    assert "Seen at once" in titles(built_afresh(client, EVENTS))


def test_head_then_get_serves_the_whole_body(client, rich_timeline):
    client.head(EVENTS)

    cached = from_cache(client, EVENTS)

    assert len(cached.json()["results"]) == len(rich_timeline)


def _older_than(moment):
    """Move every other table's updated_at before moment, so events alone set the version."""
    earlier = moment - datetime.timedelta(days=1)
    for model in (Actor, Tag, Platform, Source, EventType, EventCategory):
        model.objects.update(updated_at=earlier)


def test_if_modified_since_sees_a_change_made_in_the_same_second(client, rich_timeline):
    moment = datetime.datetime(2026, 11, 28, 12, 0, 0, 100000, tzinfo=UTC)
    Event.objects.update(updated_at=moment)
    _older_than(moment)
    seen = client.get(EVENTS)
    Event.objects.filter(pk=rich_timeline[3].pk).update(
        title="Fixed a typo", updated_at=moment + datetime.timedelta(microseconds=800000)
    )

    assert not seen.has_header("Last-Modified")
    revalidated = client.get(EVENTS, HTTP_IF_MODIFIED_SINCE=http_date(moment.timestamp()))

    assert revalidated.status_code == 200
    assert "Fixed a typo" in titles(revalidated)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, databases="__all__")  # readers may read a replica
def test_an_edit_that_commits_after_a_later_one_still_reaches_readers(client):
    slow = EventFactory(published=True, title="Before the import", date_text="2014-01")
    CitationFactory(event=slow)
    importer = connection.copy()  # a second connection: a long import, say
    importer.ensure_connection()
    importer.set_autocommit(False)
    try:
        with importer.cursor() as cursor:
            cursor.execute(
                "UPDATE events_event SET title = %s, updated_at = %s WHERE id = %s",
                ["Changed by the import", timezone.now(), slow.pk],
            )
        EventFactory(published=True, title="Published meanwhile", date_text="2014-02")
        assert "Published meanwhile" in titles(client.get(EVENTS))
        importer.commit()
    finally:
        importer.close()

    assert "Changed by the import" in titles(client.get(EVENTS))


# B. Reader pages' cache --------------------------------------------------------------------


def page_text(response):
    assert response.status_code == 200
    return response.content.decode()


def test_anonymous_second_visit_to_the_timeline_comes_from_the_cache(client, rich_timeline):
    first = built_afresh(client, "/")
    quietly_retitle(rich_timeline[3], "Changed behind the cache's back")

    second = from_cache(client, "/")

    assert second.content == first.content
    assert second["Content-Type"] == first["Content-Type"]
    assert "Cookie" in second["Vary"] and "Cookie" in first["Vary"]


def test_anonymous_second_visit_to_an_event_page_comes_from_the_cache(client, rich_timeline):
    url = f"/events/{rich_timeline[0].public_id}/"
    first = built_afresh(client, url)

    second = from_cache(client, url)

    assert second.content == first.content
    assert "Cookie" in second["Vary"]


def test_a_curator_is_never_served_the_cached_anonymous_page(curator_client, rich_timeline):
    anonymous = reader()
    anonymous.get("/")
    quietly_retitle(rich_timeline[3], "Only a fresh page shows this")

    curated = built_afresh(curator_client, "/")

    assert "Only a fresh page shows this" in page_text(curated)
    assert "Only a fresh page shows this" not in page_text(from_cache(anonymous, "/"))


def test_a_curators_page_is_never_stored_for_anonymous_readers(curator_client, rich_timeline):
    url = f"/events/{rich_timeline[3].public_id}/"
    assert "Plain span" in page_text(curator_client.get(url))
    quietly_retitle(rich_timeline[3], "Renamed after the curator looked")

    anonymous = built_afresh(reader(), url)

    assert "Renamed after the curator looked" in page_text(anonymous)


def test_the_timeline_page_shows_an_event_published_after_it_was_cached(client, rich_timeline):
    client.get("/")
    from_cache(client, "/")
    draft = cited_draft(title="Published after the visit", event_type=rich_timeline[0].event_type)

    event_publish(event=draft)

    assert "Published after the visit" in page_text(built_afresh(client, "/"))


def test_an_event_page_answers_410_after_a_retraction(client, rich_timeline):
    url = f"/events/{rich_timeline[2].public_id}/"
    client.get(url)
    from_cache(client, url)

    event_retract(event=Event.objects.get(pk=rich_timeline[2].pk), reason="Not what happened.")

    assert client.get(url).status_code == 410
    assert client.get(url).status_code == 410


def test_an_actor_page_shows_the_new_name_after_a_rename(client, rich_timeline):
    client.get("/actors/cac/")
    actor = Actor.objects.get(slug="cac")
    actor.name = "Cyberspace Administration of China"
    actor.save()
    events_referencing_changed(events=Actor.objects.filter(pk=actor.pk).referencing_events())

    assert "Cyberspace Administration of China" in page_text(client.get("/actors/cac/"))


def test_a_bad_filter_on_the_timeline_page_is_not_cached(client, rich_timeline, monkeypatch):
    first = client.get("/?date_from=not-a-date")
    filtered = []
    monkeypatch.setattr(
        pages, "EventFilterSet", lambda *a, **k: filtered.append(1) or EventFilterSet(*a, **k)
    )

    second = client.get("/?date_from=not-a-date")

    assert first.status_code == second.status_code == 400
    assert filtered, "the second bad request was answered from the cache"


@cache_public_page
def _titles_setting_a_cookie(request):
    response = HttpResponse(
        " | ".join(Event.objects.order_by("id").values_list("title", flat=True))
    )
    response.set_cookie("seen", "yes")
    return response


@cache_public_page
def _titles(request):
    return HttpResponse(" | ".join(Event.objects.order_by("id").values_list("title", flat=True)))


urlpatterns = [
    path("with-cookie/", _titles_setting_a_cookie),
    path("plain/", _titles),
]


@pytest.mark.urls(THIS_MODULE)
def test_a_page_that_sets_a_cookie_is_not_cached(client, rich_timeline):
    first = client.get("/with-cookie/")
    quietly_retitle(rich_timeline[3], "Only a fresh page shows this")

    second = client.get("/with-cookie/")

    assert first.cookies["seen"].value == "yes"
    assert "Only a fresh page shows this" in page_text(second)
    assert second.cookies["seen"].value == "yes"


@pytest.mark.urls(THIS_MODULE)
def test_the_same_page_without_a_cookie_is_cached(client, rich_timeline):
    client.get("/plain/")
    quietly_retitle(rich_timeline[3], "Only a fresh page shows this")

    assert "Only a fresh page shows this" not in page_text(from_cache(client, "/plain/"))


# C. X-Row-Count ----------------------------------------------------------------------------

QUERIES = [
    "",
    "country=CN",
    "country=global",
    "platform=wechat",
    "date_from=2014-04&date_to=2014-12",
    "ordering=-date",
    "actor=xi-jinping&role=announced",
    "q=crackdown",
    "country=FR",  # no event matches
]


def rows_in(fmt, text):
    if fmt == "csv":
        header, *rows = list(csv.reader(io.StringIO(text, newline="")))
        assert header == exports.COLUMN_NAMES
        return len(rows)
    if fmt == "ndjson":
        assert text == "" or text.endswith("\n")
        return len([json.loads(line) for line in text.splitlines()])
    return len(json.loads(text)["events"])


def test_row_count_header_is_the_rows_in_the_body(client, rich_timeline):
    EventFactory(title="A draft", country="CN")  # never exported, never counted
    for fmt in FORMATS:
        counted = {}
        for query in QUERIES:
            response, _ = fetch(client, f"{EVENTS}?format={fmt}{'&' + query if query else ''}")
            assert response.status_code == 200, (fmt, query, response.content)
            header = int(response[exports.ROW_COUNT_HEADER])
            assert header == rows_in(fmt, response.downloaded), (fmt, query)
            counted[query] = header

        assert counted[""] == len(rich_timeline), fmt
        assert counted["country=FR"] == 0, fmt
        assert counted["country=CN"] == 1, fmt
        assert counted["platform=wechat"] == 3, fmt


@pytest.mark.parametrize("fmt", FORMATS)
def test_row_count_header_with_no_published_events_at_all(client, fmt):
    EventFactory(title="A draft")

    response, _ = fetch(client, f"{EVENTS}?format={fmt}")

    assert response[exports.ROW_COUNT_HEADER] == "0"
    assert rows_in(fmt, response.downloaded) == 0


def test_row_count_header_of_one_events_export_is_one(client, rich_timeline):
    for fmt in FORMATS:
        response, _ = fetch(client, f"{EVENTS}{rich_timeline[0].public_id}/?format={fmt}")

        assert response[exports.ROW_COUNT_HEADER] == "1", fmt
        assert rows_in(fmt, response.downloaded) == 1, fmt


def test_row_count_header_by_accept_header(client, rich_timeline):
    response, _ = fetch(client, f"{EVENTS}?country=global", HTTP_ACCEPT="application/x-ndjson")

    assert response[exports.ROW_COUNT_HEADER] == "1"
    assert rows_in("ndjson", response.downloaded) == 1


BASES = Bases("http://testserver/events/", "http://testserver/api/v1/events/")


def copy_stream(queryset, ordering="date"):
    return exports.copy_stream(exports.Export(queryset, ordering, BASES), "cell")


def csv_rows(chunks):
    # COPY hands over bytes; the Python writer (an empty QuerySet, SQLite) hands over text.
    text = "".join(chunk.decode() if isinstance(chunk, bytes) else chunk for chunk in chunks)
    header, *rows = list(csv.reader(io.StringIO(text, newline="")))
    assert header == exports.COLUMN_NAMES
    return rows


@pytest.mark.postgres
def test_copy_stream_count_is_the_rows_it_writes(rich_timeline):
    published = Event.objects.published()
    for ordering in ("date", "-date", "updated", "-updated"):
        for queryset in (published, published.filter(country="CN"), published.filter(country="FR")):
            stream = copy_stream(queryset, ordering)

            counted = stream.row_count()

            assert counted == len(csv_rows(stream)) == queryset.count(), ordering
            assert not stream.thread.is_alive()


@pytest.mark.postgres
def test_csv_of_an_empty_queryset_is_the_header_on_postgresql_too():
    stream = exports.csv_stream(exports.Export(Event.objects.none(), "date", BASES))

    assert exports.export_row_count(Event.objects.none(), stream) == 0
    assert csv_rows(stream) == []


@pytest.mark.postgres
def test_copy_stream_closed_unread_ends_its_thread_and_frees_the_connection(rich_timeline):
    stream = copy_stream(Event.objects.published())

    assert stream.row_count() == len(rich_timeline)
    stream.close()

    assert not stream.thread.is_alive()
    assert Event.objects.published().count() == len(rich_timeline)


@pytest.mark.postgres
def test_copy_stream_closed_before_counting_starts_no_thread(rich_timeline):
    stream = copy_stream(Event.objects.published())

    stream.close()

    assert stream.thread.ident is None
    assert Event.objects.count() == len(rich_timeline)


def long_events(number=12, words=20000):
    """Events whose CSV is well over the chunks the COPY queue holds (8 x 64 KB)."""
    for index in range(number):
        EventFactory(status=choices.EventStatus.PUBLISHED, summary=f"{'word ' * words}{index}")
    return Event.objects.published()


@pytest.mark.postgres
def test_copy_stream_abandoned_mid_way_ends_cleanly(client):
    published = long_events()
    stream = copy_stream(published)
    total = stream.row_count()
    chunks = iter(stream)

    first = next(chunks)
    stream.close()

    assert len(first) >= exports.STREAM_CHUNK_BYTES
    assert not stream.thread.is_alive()
    assert total == 12
    assert published.count() == 12  # the connection still answers
    assert client.get(f"{EVENTS}?page_size=1").status_code == 200


@pytest.mark.postgres
def test_csv_download_cut_off_by_the_client_frees_the_connection(client, monkeypatch):
    streams = []
    opened = exports.copy_stream

    def kept_copy_stream(*args, **kwargs):
        streams.append(opened(*args, **kwargs))
        return streams[-1]

    monkeypatch.setattr(exports, "copy_stream", kept_copy_stream)
    long_events()
    response = client.get(f"{EVENTS}?format=csv")
    assert response[exports.ROW_COUNT_HEADER] == "12"

    next(response.streaming_content)
    hang_up(response)

    (stream,) = streams
    assert not stream.thread.is_alive()
    assert client.get(f"{EVENTS}?page_size=1").status_code == 200


def hang_up(response):
    """Close a half-read response, as a WSGI server does when its client goes away.

    The test client wraps the body in a generator whose close() closes the response without
    letting request_finished close the test's connection: close that generator.
    """
    response._iterator.close()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_copy_outside_a_transaction_counts_and_writes_one_snapshot():
    events = [
        EventFactory(published=True, title=f"Event {index}", date_text="2014-03")
        for index in range(3)
    ]
    stream = copy_stream(Event.objects.published())
    assert stream.row_count() == 3

    withdrawer = connection.copy()  # another request, withdrawing an event meanwhile
    try:
        with withdrawer.cursor() as cursor:
            cursor.execute("UPDATE events_event SET status = 'draft' WHERE id = %s", [events[0].pk])
    finally:
        withdrawer.close()

    assert len(csv_rows(stream)) == 3
    assert not stream.thread.is_alive()
    assert Event.objects.published().count() == 2  # the connection is back in autocommit
    assert connection.get_autocommit()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_copy_outside_a_transaction_abandoned_mid_way_leaves_the_connection_usable():
    published = long_events()
    stream = copy_stream(published)
    assert stream.row_count() == 12

    next(iter(stream))
    stream.close()

    assert not stream.thread.is_alive()
    assert published.count() == 12
    EventFactory(
        published=True, title="Written after the abandoned copy"
    )  # not stuck in a read-only transaction
    assert published.count() == 13


# D. The registry's output is the API's contract (tests.timeline.reference) ------------------


def related_world(events):
    """Add what build_rich_timeline leaves out: relations both ways, no type, archive URLs."""
    first, _ongoing, approximate, span = events
    EventRelation.objects.create(
        from_event=first, to_event=span, relation_type=choices.RelationType.PRECEDES, note="n"
    )
    EventRelation.objects.create(
        from_event=approximate, to_event=first, relation_type=choices.RelationType.PART_OF
    )
    draft = EventFactory(title="A draft relation nobody may see")
    EventRelation.objects.create(
        from_event=span, to_event=draft, relation_type=choices.RelationType.PRECEDES
    )
    untyped = EventFactory(
        published=True, title="No type", event_type=None, country="DE", date_text="2015"
    )
    archived = SourceFactory(
        published_on=datetime.date(2015, 1, 2),
        archive_url="https://web.archive.org/web/2015/https://example.org/x",
    )
    CitationFactory(event=untyped, source=archived, quote="", locator="")
    EventActorFactory(
        event=untyped, actor=ActorFactory(slug="acme", name="Acme"), note="a note, here"
    )
    untyped.tags.add(TagFactory())
    Event.objects.filter(pk=untyped.pk).update(
        latitude=Decimal("-33.86880"), longitude=Decimal("151.20930")
    )
    return [*events, untyped]


def api_request():
    return RequestFactory().get(EVENTS)


def streamed_lines(client, url):
    return [json.loads(line) for line in streamed_text(client.get(url)).splitlines()]


def test_api_list_items_are_the_reference_objects(client, rich_timeline):
    related_world(rich_timeline)
    listed = client.get(f"{EVENTS}?page_size=100").json()["results"]
    expected = reference_events(api_request())

    assert len(listed) == 5
    assert {item["id"]: item for item in listed} == expected
    # The same keys in the same order as the registry declares them.
    assert list(listed[0]) == list(next(iter(expected.values())))


def test_detail_ndjson_and_change_feed_carry_the_reference_objects(client, rich_timeline):
    related_world(rich_timeline)
    expected = reference_events(api_request())

    for public_id, item in expected.items():
        assert client.get(f"{EVENTS}{public_id}/").json() == item
    assert {item["id"]: item for item in streamed_lines(client, f"{EVENTS}?format=ndjson")} == (
        expected
    )
    changes = client.get(f"{API}changes/?page_size=100").json()["results"]
    assert {change["event"]: change["data"] for change in changes} == expected


def test_registry_output_covers_nulls_and_both_directions(client, rich_timeline):
    related_world(rich_timeline)
    output = {item["id"]: item for item in client.get(f"{EVENTS}?page_size=100").json()["results"]}

    untyped = next(item for item in output.values() if item["title"] == "No type")
    assert untyped["type"] is None and untyped["category"] is None
    assert untyped["latitude"] == "-33.86880"
    ongoing = output[rich_timeline[1].public_id]
    assert ongoing["date"]["latest"] is None and ongoing["country"] == ""
    directions = {r["direction"] for item in output.values() for r in item["relations"]}
    assert directions == {"outgoing", "incoming"}
    related = {r["event"] for item in output.values() for r in item["relations"]}
    assert related <= set(output)  # never the draft
    assert "A draft relation nobody may see" not in json.dumps(output)
    dates = {c["source"]["published_on"] for item in output.values() for c in item["citations"]}
    assert None in dates and "2015-01-02" in dates
    assert any(role["note"] for item in output.values() for role in item["actors"])


@pytest.mark.parametrize("zone", ["Asia/Shanghai", "America/Los_Angeles"])
def test_moments_are_utc_whatever_the_time_zone(client, rich_timeline, settings, zone):
    settings.TIME_ZONE = zone
    related_world(rich_timeline)
    expected = reference_events(api_request())
    listed = client.get(f"{EVENTS}?page_size=100").json()["results"]

    assert {item["id"]: item for item in listed} == expected
    for event in Event.objects.published():
        item = next(entry for entry in listed if entry["id"] == event.public_id)
        assert item["updated_at"] == event.updated_at.astimezone(UTC).isoformat().replace(
            "+00:00", "Z"
        )
        assert item["updated_at"].endswith("Z")


# The data version moves only when something public changes ----------------------------------


def test_work_on_drafts_leaves_every_public_etag_as_it_was(client):
    shown = ActorFactory(name="Shown actor")
    unseen = ActorFactory(name="Actor only drafts use")
    public = EventFactory(published=True, title="Public")
    role(public, shown)
    draft = EventFactory(title="A draft")
    role(draft, unseen)
    before = client.get(EVENTS)["ETag"]

    draft.title = "A draft, edited"
    event_save(event=draft)
    unseen.name = "Actor only drafts use, renamed"
    unseen.save()
    events_referencing_changed(events=Actor.objects.filter(pk=unseen.pk).referencing_events())
    after_drafts = client.get(EVENTS)["ETag"]
    shown.name = "Shown actor, renamed"
    shown.save()
    events_referencing_changed(events=Actor.objects.filter(pk=shown.pk).referencing_events())
    after_public = client.get(EVENTS)

    assert after_drafts == before
    assert after_public["ETag"] != before
    assert "Shown actor, renamed" in after_public.content.decode()
