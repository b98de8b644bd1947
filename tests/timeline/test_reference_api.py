"""Reference endpoints, the OpenAPI schema and docs, and what every endpoint shares over HTTP."""

import json
import re
from html.parser import HTMLParser

import pytest
import yaml
from django.conf import settings as django_settings
from django.contrib.staticfiles import finders
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from drf_spectacular.validation import validate_schema
from rest_framework.throttling import AnonRateThrottle

from events import choices
from events.models import ActorAlias, EventActor, PlatformAlias
from events.services import event_save
from tests.factories import (
    ActorFactory,
    CitationFactory,
    EventFactory,
    EventTypeFactory,
    PlatformFactory,
    SourceFactory,
    TagFactory,
)
from timeline.filters import EventFilterSet

pytestmark = pytest.mark.django_db

API = "/api/v1/"
PRIVATE_TEXT = "FULL-TEXT-MARKER"
Role = choices.Role
# Reference lists page with KeysetPagination, which sorts by SORT_KEYS[view.get_ordering()];
# ReferenceViewSet orders by "slug" (SourceViewSet by "key"), neither of which is a key.


@pytest.fixture(autouse=True)
def fresh_throttle():
    cache.clear()
    yield
    cache.clear()


def play(event, actor, *roles):
    for role in roles:
        EventActor.objects.create(event=event, actor=actor, role=role)


@pytest.fixture
def refs():
    """Rows referenced by published events, and rows referenced only by hidden ones."""
    public_type = EventTypeFactory(name="Account removal", slug="account-removal")
    hidden_type = EventTypeFactory(name="Hidden type", slug="hidden-type")
    party = ActorFactory(name="Hidden party", slug="hidden-party")
    holding = ActorFactory(name="Tencent Holdings", slug="tencent-holdings")
    rows = {
        "holding": holding,
        "party": party,
        "tencent": ActorFactory(name="Tencent", slug="tencent", parent=holding),
        "cac": ActorFactory(name="CAC", slug="cac", parent=party),
        "retracted_actor": ActorFactory(name="Retracted actor", slug="retracted-actor"),
        "sina": ActorFactory(name="Sina", slug="sina"),
        "public_type": public_type,
        "hidden_type": hidden_type,
        "public_tag": TagFactory(name="censorship", slug="censorship"),
        "hidden_tag": TagFactory(name="hidden tag", slug="hidden-tag"),
        "cited": SourceFactory(key="cited", title="Cited", full_text=PRIVATE_TEXT),
        "also_cited": SourceFactory(key="also-cited", title="Also cited"),
        "draft_source": SourceFactory(key="draft-source", full_text=PRIVATE_TEXT),
    }
    rows["wechat"] = PlatformFactory(
        name="WeChat", slug="wechat", operator=rows["tencent"], country="CN"
    )
    rows["weibo"] = PlatformFactory(name="Weibo", slug="weibo", operator=rows["sina"], country="CN")
    rows["hidden_platform"] = PlatformFactory(name="Hidden", slug="hidden-platform")
    ActorAlias.objects.create(actor=rows["tencent"], name="腾讯", language="zh-hans")
    PlatformAlias.objects.create(platform=rows["wechat"], name="微信", language="zh-hans")

    first = EventFactory(published=True, event_type=public_type, title="First")
    play(first, rows["tencent"], Role.OPERATED_PLATFORM, Role.RESPONDED)
    play(first, holding, Role.ORDERED)
    play(first, rows["cac"], Role.ORDERED)
    first.platforms.add(rows["wechat"], rows["weibo"])
    first.tags.add(rows["public_tag"])
    CitationFactory(event=first, source=rows["cited"])
    CitationFactory(event=first, source=rows["cited"], quote="a second passage")

    second = EventFactory(published=True, event_type=public_type, title="Second")
    play(second, rows["tencent"], Role.TARGETED)
    second.platforms.add(rows["wechat"])
    second.tags.add(rows["public_tag"])
    CitationFactory(event=second, source=rows["cited"])
    CitationFactory(event=second, source=rows["also_cited"])

    for status in (choices.EventStatus.DRAFT, choices.EventStatus.IN_REVIEW):
        hidden = EventFactory(status=status, event_type=hidden_type)
        play(hidden, party, Role.ORDERED)
        play(hidden, rows["tencent"], Role.ENFORCED)
        hidden.platforms.add(rows["hidden_platform"], rows["wechat"])
        hidden.tags.add(rows["hidden_tag"], rows["public_tag"])
        CitationFactory(event=hidden, source=rows["draft_source"])
        CitationFactory(event=hidden, source=rows["cited"])
    retracted = EventFactory(status=choices.EventStatus.RETRACTED, event_type=hidden_type)
    play(retracted, rows["retracted_actor"], Role.TARGETED)
    CitationFactory(event=retracted, source=rows["draft_source"])
    rows["events"] = (first, second)
    return rows


# (endpoint, lookup field, {public key: event_count}, hidden keys)
REFERENCES = {
    "actors": (
        "slug",
        {"cac": 1, "tencent": 2, "tencent-holdings": 1},
        ["hidden-party", "retracted-actor", "sina"],
    ),
    "platforms": ("slug", {"wechat": 2, "weibo": 1}, ["hidden-platform"]),
    "sources": ("key", {"also-cited": 1, "cited": 2}, ["draft-source"]),
    "event-types": ("slug", {"account-removal": 2}, ["hidden-type"]),
    "tags": ("slug", {"censorship": 2}, ["hidden-tag"]),
}
FILTER_NAMES = {"actors": "actor", "platforms": "platform", "event-types": "type", "tags": "tag"}


def get_json(client, url, status=200):
    response = client.get(url)
    assert response.status_code == status, response.content[:300]
    return response.json()


# Lists -------------------------------------------------------------------------------------


@pytest.mark.parametrize("endpoint", list(REFERENCES))
def test_reference_list_shows_only_rows_of_published_events(client, refs, endpoint):
    field, counts, _hidden = REFERENCES[endpoint]

    body = get_json(client, f"{API}{endpoint}/")

    assert [row[field] for row in body["results"]] == sorted(counts)
    assert {row[field]: row["event_count"] for row in body["results"]} == counts


@pytest.mark.parametrize("endpoint", list(REFERENCES))
def test_reference_list_pages_through_every_row_once(client, refs, endpoint):
    field, counts, _hidden = REFERENCES[endpoint]
    url, seen = f"{API}{endpoint}/?page_size=1", []
    while url:
        body = get_json(client, url)
        seen += [row[field] for row in body["results"]]
        url = body["next"]

    assert seen == sorted(counts)


def test_source_list_never_shows_private_text(client, refs):
    response = client.get(f"{API}sources/")

    assert response.status_code == 200
    assert PRIVATE_TEXT not in response.content.decode()
    assert all("full_text" not in row for row in response.json()["results"])


# Details ----------------------------------------------------------------------------------


@pytest.mark.parametrize("endpoint", list(REFERENCES))
def test_reference_detail_of_a_public_row(client, refs, endpoint):
    field, counts, _hidden = REFERENCES[endpoint]

    for key, event_count in counts.items():
        row = get_json(client, f"{API}{endpoint}/{key}/")
        assert row[field] == key
        assert row["event_count"] == event_count


@pytest.mark.parametrize("endpoint", list(REFERENCES))
def test_reference_detail_of_a_row_no_published_event_uses_is_not_found(client, refs, endpoint):
    _field, _counts, hidden = REFERENCES[endpoint]

    for key in hidden:
        response = client.get(f"{API}{endpoint}/{key}/")
        assert response.status_code == 404
        assert response["Content-Type"].startswith("application/json")


def test_actor_with_two_roles_in_one_event_counts_that_event_once(client, refs):
    assert get_json(client, f"{API}actors/tencent/")["event_count"] == 2


def test_source_cited_twice_by_one_event_counts_it_once(client, refs):
    assert get_json(client, f"{API}sources/cited/")["event_count"] == 2


def test_source_detail_never_shows_private_text(client, refs):
    response = client.get(f"{API}sources/cited/")

    assert PRIVATE_TEXT not in response.content.decode()
    assert "full_text" not in response.json()
    assert response.json()["title"] == "Cited"


def test_actor_parent_is_shown_only_when_public(client, refs):
    tencent = get_json(client, f"{API}actors/tencent/")
    cac = get_json(client, f"{API}actors/cac/")

    assert tencent["parent"] == {"slug": "tencent-holdings", "name": "Tencent Holdings"}
    assert cac["parent"] is None
    assert tencent["aliases"] == [{"name": "腾讯", "kind": "name", "language": "zh-hans"}]


def test_platform_operator_is_shown_only_when_public(client, refs):
    wechat = get_json(client, f"{API}platforms/wechat/")
    weibo = get_json(client, f"{API}platforms/weibo/")

    assert wechat["operator"] == {"slug": "tencent", "name": "Tencent"}
    assert weibo["operator"] is None
    assert wechat["aliases"] == [{"name": "微信", "kind": "name", "language": "zh-hans"}]


def test_hidden_rows_do_not_leak_through_public_ones(client, refs):
    for url in (f"{API}actors/cac/", f"{API}platforms/weibo/"):
        text = client.get(url).content.decode()
        assert "Hidden party" not in text
        assert "Sina" not in text


def test_actor_without_a_country_is_served(client):
    event = EventFactory(published=True, event_type=EventTypeFactory())
    play(event, ActorFactory(slug="stateless", country=""), Role.TARGETED)

    row = get_json(client, f"{API}actors/stateless/")

    assert (row["country"], row["country_name"]) == ("", "")


def test_platform_without_a_country_is_served(client):
    EventFactory(published=True, event_type=EventTypeFactory()).platforms.add(
        PlatformFactory(slug="nowhere")
    )

    row = get_json(client, f"{API}platforms/nowhere/")

    assert row["country"] == ""


def test_platform_country_is_its_code(client, refs):
    assert get_json(client, f"{API}platforms/wechat/")["country"] == "CN"


@pytest.mark.parametrize("endpoint", list(FILTER_NAMES))
def test_events_url_lists_the_rows_published_events(client, refs, endpoint):
    _field, counts, _hidden = REFERENCES[endpoint]

    for key, event_count in counts.items():
        row = get_json(client, f"{API}{endpoint}/{key}/")
        assert row["events_url"] == f"http://testserver{API}events/?{FILTER_NAMES[endpoint]}={key}"
        events = get_json(client, row["events_url"])["results"]
        assert len(events) == event_count
        assert {event["title"] for event in events} <= {"First", "Second"}


def test_events_url_of_actor_reaches_exactly_its_events(client, refs):
    events = get_json(client, get_json(client, f"{API}actors/cac/")["events_url"])["results"]

    assert [event["id"] for event in events] == [refs["events"][0].public_id]


# Query counts -------------------------------------------------------------------------------


@pytest.fixture
def twelve_of_each():
    holding = ActorFactory()
    EventFactory(published=True, event_type=EventTypeFactory()).actor_roles.create(
        actor=holding, role=Role.ORDERED
    )
    for _ in range(12):
        actor = ActorFactory(parent=holding)
        ActorAlias.objects.create(actor=actor, name=f"{actor.name} alias")
        platform = PlatformFactory(operator=actor, country="CN")
        PlatformAlias.objects.create(platform=platform, name=f"{platform.name} alias")
        event = EventFactory(published=True, event_type=EventTypeFactory())
        play(event, actor, Role.ORDERED, Role.TARGETED)
        event.platforms.add(platform)
        event.tags.add(TagFactory())
        CitationFactory(event=event, source=SourceFactory(full_text=PRIVATE_TEXT))


def count_queries(client, url):
    cache.clear()
    with CaptureQueriesContext(connection) as context:
        response = client.get(url)
    assert response.status_code == 200
    return len(response.json()["results"]), len(context.captured_queries)


@pytest.mark.parametrize("endpoint", list(REFERENCES))
def test_reference_list_queries_do_not_grow_with_page_size(client, twelve_of_each, endpoint):
    rows_3, queries_3 = count_queries(client, f"{API}{endpoint}/?page_size=3")
    rows_12, queries_12 = count_queries(client, f"{API}{endpoint}/?page_size=12")

    assert (rows_3, rows_12) == (3, 12)
    assert queries_12 == queries_3


def test_event_list_queries_do_not_grow_with_page_size(client, twelve_of_each):
    rows_3, queries_3 = count_queries(client, f"{API}events/?page_size=3")
    rows_12, queries_12 = count_queries(client, f"{API}events/?page_size=12")

    assert (rows_3, rows_12) == (3, 12)
    assert queries_12 == queries_3


# Schema and docs -------------------------------------------------------------------------


@pytest.fixture
def schema(client):
    response = client.get("/api/schema/?format=json")
    assert response.status_code == 200
    return json.loads(response.content)


def test_schema_is_valid_openapi_3(schema):
    assert schema["openapi"].startswith("3.")
    validate_schema(schema)  # drf-spectacular's JSON Schema of OpenAPI 3.0; raises if invalid


def test_schema_as_yaml_is_the_same_document(client, schema):
    response = client.get("/api/schema/")

    assert response.status_code == 200
    assert yaml.safe_load(response.content) == schema


def test_schema_documents_every_endpoint(schema):
    paths = set(schema["paths"])
    for endpoint in ("events", *REFERENCES):
        assert f"{API}{endpoint}/" in paths
    assert f"{API}events/{{public_id}}/" in paths
    assert f"{API}sources/{{key}}/" in paths
    assert {f"{API}stats/", f"{API}changes/"} <= paths


def test_schema_documents_every_events_filter_with_a_description(schema):
    parameters = {
        parameter["name"]: parameter
        for parameter in schema["paths"][f"{API}events/"]["get"]["parameters"]
        if parameter["in"] == "query"
    }

    for name in EventFilterSet.base_filters:
        assert name in parameters, name
        assert len(parameters[name].get("description", "")) > 10, name
    for name in ("cursor", "page_size", "count"):
        assert parameters[name]["description"]


def test_schema_documents_stats_group_by_and_changes_since(schema):
    group_by = schema["paths"][f"{API}stats/"]["get"]["parameters"][0]
    since = {
        parameter["name"]: parameter
        for parameter in schema["paths"][f"{API}changes/"]["get"]["parameters"]
    }["since"]

    assert group_by["name"] == "group_by"
    assert group_by["required"] is True
    assert set(group_by["schema"]["enum"]) >= {"month", "country", "platform", "verification"}
    assert since["description"]


class _Assets(HTMLParser):
    def __init__(self):
        super().__init__()
        self.urls = []

    def handle_starttag(self, tag, attrs):
        self.urls += [value for name, value in attrs if name in ("src", "href") and value]


def test_docs_page_loads_only_local_assets(client):
    response = client.get("/api/docs/")

    assert response.status_code == 200
    html = response.content.decode()
    parser = _Assets()
    parser.feed(html)
    assert parser.urls, "expected the page to load Swagger UI's scripts and styles"
    assert not re.search(r"https?://|cdn|unpkg|jsdelivr", html, re.IGNORECASE)
    settings_script = "/api/docs/?script="  # Swagger UI's settings: the page's own script
    assert settings_script in parser.urls
    for url in parser.urls:
        if url == settings_script:
            continue
        assert url.startswith(django_settings.STATIC_URL), url
        assert finders.find(url.removeprefix(django_settings.STATIC_URL)), url
    script = client.get(settings_script)
    assert script["Content-Type"].startswith("application/javascript")
    assert "/api/schema/" in script.content.decode()


# Conditional GET ---------------------------------------------------------------------------


@pytest.mark.parametrize("which", ["list", "detail"])
def test_conditional_get_answers_304_until_an_event_changes(client, refs, which):
    event = refs["events"][0]
    url = f"{API}events/" if which == "list" else f"{API}events/{event.public_id}/"

    first = client.get(url)
    assert first.status_code == 200
    etag = first["ETag"]
    assert re.fullmatch(r'"[0-9a-f]+"', etag)
    assert not first.has_header("Last-Modified")  # seconds would hide a same-second change

    again = client.get(url, HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 304
    assert again.content == b""

    event.title = "First, corrected"
    event_save(event=event)

    changed = client.get(url, HTTP_IF_NONE_MATCH=etag)
    assert changed.status_code == 200
    assert changed["ETag"] != etag
    assert "First, corrected" in changed.content.decode()
    assert client.get(url, HTTP_IF_NONE_MATCH=changed["ETag"]).status_code == 304


def test_etag_differs_between_formats_of_one_url(client, refs):
    as_json = client.get(f"{API}events/")
    as_csv = client.get(f"{API}events/", HTTP_ACCEPT="text/csv")

    assert as_json["ETag"] != as_csv["ETag"]
    assert "Accept" in as_json["Vary"]


def test_reference_detail_carries_etag_too(client, refs):
    first = client.get(f"{API}actors/tencent/")

    assert first["ETag"]
    assert client.get(f"{API}actors/tencent/", HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 304


# CORS ------------------------------------------------------------------------------------


def test_any_origin_may_read_the_api(client, refs):
    response = client.get(f"{API}events/", HTTP_ORIGIN="https://example.org")

    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == "*"
    exposed = response["Access-Control-Expose-Headers"]
    for header in ("ETag", "Link", "Content-Disposition", "Retry-After"):
        assert header.lower() in exposed.lower()


def test_preflight_allows_get(client, refs):
    response = client.options(
        f"{API}events/",
        HTTP_ORIGIN="https://example.org",
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="GET",
    )

    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == "*"
    methods = [method.strip() for method in response["Access-Control-Allow-Methods"].split(",")]
    assert "GET" in methods
    assert "POST" not in methods


# Throttling --------------------------------------------------------------------------------


@pytest.fixture
def three_per_minute(settings, monkeypatch):
    rates = {"anon": "3/minute"}
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": rates}
    monkeypatch.setattr(AnonRateThrottle, "THROTTLE_RATES", rates)
    cache.clear()


@pytest.mark.parametrize(
    "url", [f"{API}events/", f"{API}events/?format=csv", f"{API}stats/?group_by=year"]
)
def test_requests_beyond_the_rate_are_refused_with_retry_after(client, refs, three_per_minute, url):
    for _ in range(3):
        assert client.get(url).status_code == 200

    refused = client.get(url)

    assert refused.status_code == 429
    assert refused["Content-Type"].startswith("application/json")
    body = json.loads(refused.content)
    assert "Too many requests" in body["detail"]
    retry_after = int(refused["Retry-After"])
    assert 1 <= retry_after <= 60
    assert body["retry_after"] == retry_after


def test_every_endpoint_shares_one_rate(client, refs, three_per_minute):
    assert client.get(f"{API}events/").status_code == 200
    assert client.get(f"{API}actors/tencent/").status_code == 200
    assert client.get(f"{API}stats/?group_by=type").status_code == 200

    assert client.get(f"{API}platforms/wechat/").status_code == 429
