"""The API keeps to its OpenAPI schema: documented errors, formats and bounds (see bin/fuzz).

One regression test per thing schemathesis found, through the test client, then the schema's
own promises: every operation documents its JSON errors and streamed formats, and every bound
the code enforces is in the schema with the same value.
"""

import base64
import json
import re

import pytest
import schemathesis
from django.core.cache import cache
from django.core.signals import request_finished, request_started
from django.db import close_old_connections, connection
from django.test.utils import CaptureQueriesContext
from rest_framework.throttling import AnonRateThrottle
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from config.wsgi import application
from events.models import Event
from tests.factories import ActorFactory, EventFactory, PlatformFactory
from timeline.filters import MAX_QUERY_LENGTH, MAX_VALUES, EventFilterSet
from timeline.pagination import MAX_CURSOR_LENGTH, MAX_PAGE_SIZE

pytestmark = pytest.mark.django_db

API = "/api/v1/"
EVENTS = f"{API}events/"
CHANGES = f"{API}changes/"
STREAMED = {
    "text/csv",
    "application/x-ndjson",
    "application/vnd.timelinejs+json",
    "application/geo+json",
}


@pytest.fixture(autouse=True)
def fresh_throttle():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def schema(client):
    response = client.get("/api/schema/?format=json")
    assert response.status_code == 200
    return json.loads(response.content)


def cursor(**token):
    text = json.dumps(token, separators=(",", ":"))
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def error(response, status):
    """Return the detail and errors of an error answer, checking its documented JSON shape."""
    assert response.status_code == status, (response.status_code, response.content)
    assert response["Content-Type"].startswith("application/json")
    body = json.loads(response.content)
    assert isinstance(body["detail"], str) and body["detail"]
    return body["detail"], body.get("errors", {})


# Cursors: forged ones are a 400, never a 500 ------------------------------------------------


@pytest.mark.parametrize(
    ("path", "token", "ordering"),
    [
        pytest.param(EVENTS, {"d": "next", "v": "2014-05-27", "k": 1e400}, "date", id="inf-id"),
        pytest.param(EVENTS, {"d": "next", "v": "2014-05-27", "k": 10**30}, "date", id="huge-id"),
        pytest.param(EVENTS, {"d": "next", "v": "2014-05-27", "k": True}, "date", id="bool-id"),
        pytest.param(f"{API}tags/", {"d": "next", "v": "a\x00", "k": 1}, "slug", id="nul-slug"),
        pytest.param(
            CHANGES, {"d": "next", "v": "2014-01-01T00:00:00", "k": 1}, "updated", id="naive"
        ),
    ],
)
def test_forged_cursor_values_are_refused_not_a_server_error(client, path, token, ordering):
    EventFactory(published=True)

    _detail, errors = error(client.get(path, {"cursor": cursor(o=ordering, **token)}), 400)

    assert list(errors) == ["cursor"]


def test_cursor_longer_than_documented_is_refused_with_the_limit(client):
    _detail, errors = error(client.get(EVENTS, {"cursor": "A" * (MAX_CURSOR_LENGTH + 1)}), 400)

    assert str(MAX_CURSOR_LENGTH) in errors["cursor"][0]


def test_cursor_of_characters_a_cursor_never_holds_is_refused(client):
    _detail, errors = error(client.get(EVENTS, {"cursor": "eyJv.Ijoi=ZGF0ZS"}), 400)

    assert list(errors) == ["cursor"]


# Content negotiation: JSON errors that name the formats -------------------------------------


def test_unknown_format_is_a_400_naming_the_formats_not_a_404(client):
    _detail, errors = error(client.get(EVENTS, {"format": "xml"}), 400)
    _detail, tag_errors = error(client.get(f"{API}tags/", {"format": "csv"}), 400)

    assert "csv" in errors["format"][0] and "timelinejs" in errors["format"][0]
    assert "json" in tag_errors["format"][0]


def test_accept_header_no_format_satisfies_is_a_406_listing_them(client):
    detail, _errors = error(client.get(EVENTS, HTTP_ACCEPT="image/png"), 406)

    assert "text/csv" in detail


def test_unsupported_method_is_a_json_405_with_allow(client):
    response = client.post(EVENTS)

    error(response, 405)
    assert "GET" in response["Allow"]


@pytest.mark.parametrize(
    "path",
    [
        f"{EVENTS}XX-1999-9999/",
        f"{API}actors/never-existed/",
        f"{API}platforms/never-existed/",
        f"{API}sources/never-existed/",
        f"{API}event-types/never-existed/",
        f"{API}tags/never-existed/",
        f"{API}tags/a%00b/",
    ],
)
def test_unknown_id_is_a_json_404(client, path):
    error(client.get(path), 404)


def test_timelinejs_is_sent_as_its_own_media_type_when_accept_names_it(client):
    EventFactory(published=True)

    by_accept = client.get(EVENTS, HTTP_ACCEPT="application/vnd.timelinejs+json")
    by_format = client.get(EVENTS, {"format": "timelinejs"})

    assert by_accept["Content-Type"].startswith("application/vnd.timelinejs+json")
    assert by_format["Content-Type"].startswith("application/json")
    assert b"".join(by_accept.streaming_content) == b"".join(by_format.streaming_content)


# What TimelineJS, a browser and curl send; the first two also name JSON.
CLIENT_ACCEPTS = [
    "application/json, text/javascript, */*; q=0.01",
    "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
    "application/json",
    "image/png",
    "text/csv",
]


@pytest.mark.parametrize("accept", CLIENT_ACCEPTS)
@pytest.mark.parametrize(
    ("fmt", "sent_as"),
    [
        ("json", "application/json"),
        ("csv", "text/csv"),
        ("ndjson", "application/x-ndjson"),
        ("timelinejs", "application/json"),
        ("geojson", "application/geo+json"),
    ],
)
def test_format_in_the_url_wins_over_any_accept_header(client, fmt, sent_as, accept):
    event = EventFactory(published=True)

    response = client.get(EVENTS, {"format": fmt}, HTTP_ACCEPT=accept)

    assert response.status_code == 200, response.content
    assert response["Content-Type"].split(";")[0] == sent_as
    body = b"".join(response.streaming_content) if response.streaming else response.content
    assert event.public_id.encode() in body


def test_format_in_the_url_wins_for_one_event_and_reference_lists(client):
    event = EventFactory(published=True)

    one = client.get(f"{EVENTS}{event.public_id}/", {"format": "csv"}, HTTP_ACCEPT="image/png")
    tags = client.get(f"{API}tags/", {"format": "json"}, HTTP_ACCEPT="text/csv")

    assert one.status_code == 200 and one["Content-Type"].startswith("text/csv")
    assert tags.status_code == 200 and tags["Content-Type"].startswith("application/json")


def test_accept_still_chooses_when_the_url_names_no_format(client):
    EventFactory(published=True)

    assert client.get(EVENTS, HTTP_ACCEPT="text/csv")["Content-Type"].startswith("text/csv")
    assert client.get(EVENTS, HTTP_ACCEPT="text/html").status_code == 406


# Filters accept what the schema documents, no more ------------------------------------------


@pytest.mark.parametrize(
    "query",
    [
        pytest.param({"date_from": "2014\n"}, id="date-with-line-feed"),
        pytest.param({"date_from": "\u0662\u0660\u0661\u0664"}, id="date-in-arabic-digits"),
        pytest.param({"country": "CN\n"}, id="country-with-line-feed"),
        pytest.param({"role": "targeted\n"}, id="role-with-line-feed"),
        pytest.param({"platform": "wechat\n"}, id="slug-with-line-feed"),
        pytest.param({"updated_since": "2014-01-01T00:00Z"}, id="moment-without-seconds"),
        pytest.param({"updated_since": "20140101T000000Z"}, id="moment-in-basic-format"),
        pytest.param({"updated_since": "2014-01-01T00:00:00Z\n"}, id="moment-with-line-feed"),
    ],
)
def test_values_outside_the_documented_patterns_are_refused(client, query):
    EventFactory(published=True, country="CN").platforms.add(PlatformFactory(slug="wechat"))

    _detail, errors = error(client.get(EVENTS, query), 400)

    assert list(errors) == list(query)


@pytest.mark.parametrize("value", ["%s", "100%", "%(value)s {0}"])
def test_a_refused_value_with_a_percent_sign_is_quoted_in_a_400_not_a_500(client, value):
    for name in ("date_from", "platform", "ongoing", "updated_since"):
        _detail, errors = error(client.get(EVENTS, {name: value}), 400)

        assert value in errors[name][0]


def test_what_the_documented_patterns_allow_is_accepted(client):
    wechat, weibo = PlatformFactory(slug="wechat"), PlatformFactory(slug="weibo")
    on_wechat, on_weibo = EventFactory(published=True), EventFactory(published=True)
    on_wechat.platforms.add(wechat)
    on_weibo.platforms.add(weibo)

    for query in (
        {"platform": "wechat, weibo"},
        {"platform": [" wechat\t", "weibo,"]},
        {"ongoing": "True"},
        {"updated_since": "2000-01-01t00:00:00z"},
        {"updated_since": "2000-01-01T08:00:00.123456789+08:00"},
    ):
        assert client.get(EVENTS, query).status_code == 200, query


def test_an_empty_value_means_the_parameter_was_not_given(client):
    EventFactory(published=True)

    everything = client.get(EVENTS).json()["results"]
    emptied = client.get(f"{EVENTS}?date_from=&updated_since=&q=&platform=&cursor=&format=")

    assert emptied.status_code == 200
    assert emptied.json()["results"] == everything
    assert client.get(f"{CHANGES}?since=").status_code == 200


# The change feed: one page costs the same few queries at any size ---------------------------


def queries_for(client, url):
    cache.clear()
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries), len(response.json()["results"])


def test_a_page_of_changes_costs_the_same_queries_for_two_changes_or_six(client):
    for _ in range(2):
        EventFactory(published=True)
    small, small_rows = queries_for(client, f"{CHANGES}?page_size=1000")
    for _ in range(4):
        EventFactory(published=True)
    large, large_rows = queries_for(client, f"{CHANGES}?page_size=1000")

    assert (small_rows, large_rows) == (2, 6)
    assert small == large


def test_changes_show_each_event_as_the_event_detail_does(client):
    events = [EventFactory(published=True), EventFactory(published=True)]

    changes = client.get(CHANGES).json()["results"]

    for event, change in zip(events, changes, strict=True):
        assert change["data"] == client.get(f"{EVENTS}{event.public_id}/").json()


def test_stats_list_the_group_of_events_without_one_last_among_equals_on_every_database(client):
    EventFactory(published=True).actor_roles.create(actor=ActorFactory(slug="aaa"), role="ordered")
    EventFactory(published=True)

    body = client.get(f"{API}stats/", {"group_by": "actor"}).json()

    assert [(row["key"], row["count"]) for row in body["results"]] == [("aaa", 1), (None, 1)]


# The schema ----------------------------------------------------------------------------------


def operations(schema):
    for path, methods in schema["paths"].items():
        for method, operation in methods.items():
            yield path, method, operation


def test_every_operation_documents_its_json_errors(schema):
    error_schema = {"$ref": "#/components/schemas/Error"}

    for path, _method, operation in operations(schema):
        expected = {"400", "406", "429", "503"} | ({"404"} if "{" in path else set())
        responses = operation["responses"]
        for status in expected:
            content = responses[status]["content"]
            assert content == {"application/json": {"schema": error_schema}}, (path, status)
            assert responses[status]["description"], (path, status)
        assert {"304", "414"} <= set(responses), path
        assert "Retry-After" in responses["429"]["headers"], path
    assert schema["components"]["schemas"]["Error"]["required"] == ["detail"]


def test_event_operations_document_each_streamed_format_with_its_media_type(schema):
    for path in (EVENTS, f"{EVENTS}{{public_id}}/"):
        ok = schema["paths"][path]["get"]["responses"]["200"]
        content = ok["content"]
        (format_parameter,) = [
            parameter
            for parameter in schema["paths"][path]["get"]["parameters"]
            if parameter["name"] == "format"
        ]

        assert set(content) >= STREAMED
        assert content["text/csv"]["schema"]["type"] == "string"
        assert content["application/x-ndjson"]["schema"]["type"] == "string"
        timelinejs = {"$ref": "#/components/schemas/TimelineJS"}
        assert content["application/vnd.timelinejs+json"]["schema"] == timelinejs
        assert timelinejs in content["application/json"]["schema"]["oneOf"]
        assert set(format_parameter["schema"]["enum"]) == {
            "json",
            "csv",
            "ndjson",
            "timelinejs",
            "geojson",
        }
        geojson = content["application/geo+json"]["schema"]
        assert geojson["properties"]["type"]["enum"] == ["FeatureCollection"]
        feature = geojson["properties"]["features"]["items"]
        event = feature["properties"]["properties"]["allOf"][0]
        assert event == {"$ref": "#/components/schemas/Event"}
        assert {"X-Row-Count", "Content-Disposition"} <= set(ok["headers"])


def test_bounds_the_code_enforces_are_documented_with_the_same_values(schema):
    for path, _method, operation in operations(schema):
        parameters = {p["name"]: p for p in operation.get("parameters", [])}
        if "page_size" in parameters:
            page_size = parameters["page_size"]["schema"]
            assert (page_size["minimum"], page_size["maximum"]) == (1, MAX_PAGE_SIZE), path
        if "after" in parameters:  # the change feed's position
            assert parameters["after"]["schema"]["pattern"] == "^[A-Za-z0-9_-]+$", path
        if "cursor" in parameters:
            assert parameters["cursor"]["schema"]["maxLength"] == MAX_CURSOR_LENGTH, path
            assert parameters["cursor"]["schema"]["pattern"] == "^[A-Za-z0-9_-]*$", path
        if "q" in parameters:
            assert parameters["q"]["schema"]["maxLength"] == MAX_QUERY_LENGTH, path
        for parameter in parameters.values():
            if parameter["schema"].get("type") == "array":
                assert parameter["schema"]["maxItems"] == MAX_VALUES, (path, parameter["name"])


def test_stats_document_every_events_filter(schema):
    names = {
        parameter["name"] for parameter in schema["paths"][f"{API}stats/"]["get"]["parameters"]
    }

    assert set(EventFilterSet.base_filters) <= names


def test_documented_patterns_mean_the_same_in_python_and_in_openapi(schema):
    """No \\d or \\w (any script's digits and letters in Python, ASCII in ECMA) and anchored."""
    for path, _method, operation in operations(schema):
        for parameter in operation.get("parameters", []):
            schema_ = parameter["schema"].get("items", parameter["schema"])
            pattern = schema_.get("pattern")
            if pattern is None:
                continue
            assert not re.search(r"\\[dwDW]", pattern), (path, parameter["name"])
            assert pattern.startswith("^") and pattern.endswith("$"), (path, parameter["name"])


# Responses, checked against the schema by schemathesis --------------------------------------


@pytest.fixture
def api(db):
    """The schema, for requests through the WSGI application itself.

    As Django's test client does, the database connection is kept across requests: closing
    it at the end of one would end the test's transaction (on PostgreSQL).
    """
    for signal in (request_started, request_finished):
        signal.disconnect(close_old_connections)
    try:
        yield schemathesis.openapi.from_wsgi("/api/schema/?format=json", application)
    finally:
        for signal in (request_started, request_finished):
            signal.connect(close_old_connections)


CHECKS = [status_code_conformance, content_type_conformance, response_schema_conformance]


@pytest.mark.parametrize(
    ("path", "query", "headers"),
    [
        pytest.param(EVENTS, {"format": "timelinejs"}, {}, id="timelinejs-by-format"),
        pytest.param(
            EVENTS, {}, {"Accept": "application/vnd.timelinejs+json"}, id="timelinejs-by-accept"
        ),
        pytest.param(EVENTS, {"format": "csv"}, {}, id="csv"),
        pytest.param(EVENTS, {"format": "ndjson"}, {}, id="ndjson"),
        pytest.param(EVENTS, {"page_size": 1, "count": "true"}, {}, id="page"),
        pytest.param(EVENTS, {"format": "xml"}, {}, id="unknown-format"),
        pytest.param(EVENTS, {"cursor": "A" * 401}, {}, id="long-cursor"),
        pytest.param(EVENTS, {}, {"Accept": "image/png"}, id="not-acceptable"),
        pytest.param(CHANGES, {}, {}, id="changes"),
        pytest.param(f"{API}stats/", {"group_by": "platform", "country": "CN"}, {}, id="stats"),
        pytest.param(f"{API}stats/", {}, {}, id="stats-without-group-by"),
    ],
)
def test_responses_conform_to_the_schema(api, path, query, headers):
    wechat = PlatformFactory(slug="wechat")
    EventFactory(published=True).platforms.add(wechat)
    Event.objects.update(first_published_at="2026-01-01T00:00:00Z")

    case = api[path]["GET"].Case(query=query, headers=headers)
    response = case.call()

    case.validate_response(response, checks=CHECKS)


def test_a_throttled_request_gets_the_documented_429(api, settings, monkeypatch):
    rates = {"anon": "1/minute"}
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": rates}
    monkeypatch.setattr(AnonRateThrottle, "THROTTLE_RATES", rates)
    case = api[f"{API}tags/"]["GET"].Case()

    case.call()
    refused = case.call()

    assert refused.status_code == 429
    assert int(refused.headers["retry-after"][0]) > 0
    case.validate_response(refused, checks=CHECKS)
