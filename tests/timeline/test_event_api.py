"""The public reader API for events: filters, errors, detail, keyset pagination, query counts."""

import base64
import datetime
import json
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils.dateparse import parse_datetime

from events.choices import (
    ActorKind,
    CountQualifier,
    CountUnit,
    EventStatus,
    RelationType,
    Role,
    Verification,
)
from events.models import ActorAlias, Event, EventCount, EventRelation, PlatformAlias
from events.services import event_save, event_search_refresh
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
from tests.timeline.reference import ReferenceEvent
from timeline.filters import EventFilterSet

pytestmark = pytest.mark.django_db

API = "/api/v1/events/"
UTC = datetime.UTC


@pytest.fixture(autouse=True)
def empty_throttle_history():
    """Start every test with no recorded requests: page walks make many of them."""
    cache.clear()
    yield
    cache.clear()


def listed(client, params=None):
    """Return the public ids on the first page of the list for these query parameters."""
    response = client.get(API, params or {})
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["results"]]


def listed_raw(client, query_string):
    """Like listed, with the query string sent exactly as written (no escaping)."""
    response = client.get(f"{API}?{query_string}")
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["results"]]


def ids(*events):
    return {event.public_id for event in events}


def errors_of(response):
    """Return the errors of a 400 answer, checking it has the documented JSON shape."""
    assert response.status_code == 400, (response.status_code, response.content)
    body = response.json()
    assert isinstance(body["detail"], str)
    assert body["detail"]
    for messages in body["errors"].values():
        assert messages
        assert all(isinstance(message, str) and message for message in messages)
    return body["errors"]


def set_updated_at(event, moment):
    Event.objects.filter(pk=event.pk).update(updated_at=moment)


def play(event, actor, role):
    EventActorFactory(event=event, actor=actor, role=role)


# Only published events are public.


def test_list_shows_published_events_only(client):
    shown = EventFactory(published=True)
    for status in (EventStatus.DRAFT, EventStatus.IN_REVIEW, EventStatus.RETRACTED):
        EventFactory(status=status)

    assert listed(client) == [shown.public_id]


def test_list_without_filters_answers_with_next_previous_and_results(client):
    EventFactory(published=True)

    body = client.get(API).json()

    assert list(body) == ["next", "previous", "results"]
    assert body["next"] is None
    assert body["previous"] is None


# Dates: partial dates, overlaps (default) and within.

DATED = {
    "day": "2014-05-27",
    "april_first": "2014-04-01",
    "month": "2014-03",
    "year": "2014",
    "approximate": "2014-04~",  # c. April 2014: 1 March to 31 May
    "span": "2014-05-20/2014-06-10",
    "ongoing": "2009-07-07/..",
    "earlier_year": "2013",
}
ALL_DATED = set(DATED)


@pytest.fixture
def dated():
    return {
        name: EventFactory(published=True, date_text=text).public_id for name, text in DATED.items()
    }


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        pytest.param(
            "date_from=2014-03-15&date_to=2014-04-15",
            {"month", "april_first", "year", "approximate", "ongoing"},
            id="mid-march-to-mid-april-overlaps-by-default",
        ),
        pytest.param(
            "date_from=2014-03-15&date_to=2014-04-15&date_match=overlaps",
            {"month", "april_first", "year", "approximate", "ongoing"},
            id="mid-march-to-mid-april-overlaps",
        ),
        pytest.param(
            "date_from=2014-03-15&date_to=2014-04-15&date_match=within",
            {"april_first"},
            id="mid-march-to-mid-april-within",
        ),
        pytest.param(
            "date_from=2014&date_to=2014",
            ALL_DATED - {"earlier_year"},
            id="year-overlaps",
        ),
        pytest.param(
            "date_from=2014&date_to=2014&date_match=within",
            {"day", "april_first", "month", "year", "approximate", "span"},
            id="year-within",
        ),
        pytest.param(
            "date_from=2014-03&date_to=2014-03&date_match=within",
            {"month"},
            id="month-within-itself",
        ),
        pytest.param(
            "date_from=2014-03&date_to=2014-03&date_match=begins",
            {"month", "approximate"},  # c. April 2014 may begin on 1 March
            id="month-begins-with-its-earliest-day",
        ),
        pytest.param(
            "date_from=2014&date_to=2014&date_match=begins",
            ALL_DATED - {"earlier_year", "ongoing"},
            id="year-begins",
        ),
        pytest.param(
            "date_from=2014-05",
            {"day", "span", "year", "approximate", "ongoing"},
            id="from-a-month-onwards",
        ),
        pytest.param(
            "date_to=2014-03",
            {"month", "year", "approximate", "ongoing", "earlier_year"},
            id="up-to-the-end-of-a-month",
        ),
        pytest.param(
            "date_from=2014-05-27&date_to=2014-05-27",
            {"day", "span", "year", "approximate", "ongoing"},
            id="a-single-day-overlaps",
        ),
        pytest.param(
            "date_from=2014-05-27&date_to=2014-05-27&date_match=within",
            {"day"},
            id="a-single-day-within",
        ),
        pytest.param("date_from=2015", {"ongoing"}, id="ongoing-overlaps-every-later-range"),
        pytest.param(
            "date_from=2009&date_match=within", ALL_DATED, id="within-a-range-with-no-end"
        ),
        pytest.param(
            "date_from=2009&date_to=2030&date_match=within",
            ALL_DATED - {"ongoing"},
            id="ongoing-is-within-no-range-that-has-an-end",
        ),
        pytest.param("date_to=2013&date_match=within", {"earlier_year"}, id="within-up-to-a-year"),
        pytest.param("date_match=within", ALL_DATED, id="date-match-alone-changes-nothing"),
    ],
)
def test_date_filters_select_events_by_the_days_they_may_have_touched(
    client, dated, query, expected
):
    found = listed_raw(client, query)

    assert sorted(found) == sorted(dated[name] for name in expected)


def test_month_event_overlaps_mid_march_to_mid_april_but_is_not_within_it(client):
    march = EventFactory(published=True, date_text="2014-03")
    query = {"date_from": "2014-03-15", "date_to": "2014-04-15"}

    assert listed(client, query) == [march.public_id]
    assert listed(client, {**query, "date_match": "within"}) == []


def test_month_event_is_within_its_year(client):
    march = EventFactory(published=True, date_text="2014-03")

    found = listed(client, {"date_from": "2014", "date_to": "2014", "date_match": "within"})

    assert found == [march.public_id]


def test_approximate_month_reaches_the_neighbouring_months(client):
    about_april = EventFactory(published=True, date_text="2014-04~")

    assert listed(client, {"date_from": "2014-05-31", "date_to": "2014-06"}) == [
        about_april.public_id
    ]
    assert listed(client, {"date_from": "2014-06"}) == []


# Type, category, country.


def test_type_filter_lists_events_of_those_types(client):
    removal, blocking = EventTypeFactory(), EventTypeFactory()
    removed = EventFactory(published=True, event_type=removal)
    blocked = EventFactory(published=True, event_type=blocking)
    EventFactory(published=True)

    assert listed(client, {"type": removal.slug}) == [removed.public_id]
    assert set(listed(client, {"type": [removal.slug, blocking.slug]})) == ids(removed, blocked)


def test_category_filter_includes_every_type_of_the_category(client):
    content_control = EventCategoryFactory()
    removal = EventTypeFactory(category=content_control)
    deletion = EventTypeFactory(category=content_control)
    removed = EventFactory(published=True, event_type=removal)
    deleted = EventFactory(published=True, event_type=deletion)
    EventFactory(published=True, event_type=EventTypeFactory())

    found = listed(client, {"category": content_control.slug})

    assert sorted(found) == sorted(ids(removed, deleted))


def test_country_filter_accepts_lower_case_codes(client):
    china = EventFactory(published=True, country="CN")
    EventFactory(published=True, country="IR")

    assert listed(client, {"country": "cn"}) == [china.public_id]
    assert listed(client, {"country": "CN"}) == [china.public_id]


def test_country_global_lists_events_that_span_the_world(client):
    EventFactory(published=True, country="CN")
    iran = EventFactory(published=True, country="IR")
    world = EventFactory(published=True, country="", is_global=True)

    assert listed(client, {"country": "global"}) == [world.public_id]
    assert set(listed(client, {"country": ["IR", "global"]})) == ids(iran, world)


def test_country_filter_takes_a_comma_separated_list(client):
    china = EventFactory(published=True, country="CN")
    iran = EventFactory(published=True, country="IR")
    EventFactory(published=True, country="RU")

    assert set(listed_raw(client, "country=cn,ir")) == ids(china, iran)


# Actors and roles.


@pytest.fixture
def roles():
    tencent = ActorFactory(slug="tencent", name="Tencent", kind=ActorKind.COMPANY)
    regulator = ActorFactory(slug="cac", name="Cyberspace Administration of China")
    tencent_targeted = EventFactory(published=True, title="Tencent targeted")
    play(tencent_targeted, tencent, Role.TARGETED)
    play(tencent_targeted, regulator, Role.OPERATED_PLATFORM)
    tencent_operated = EventFactory(published=True, title="Tencent operated")
    play(tencent_operated, tencent, Role.OPERATED_PLATFORM)
    regulator_ordered = EventFactory(published=True, title="Regulator ordered")
    play(regulator_ordered, regulator, Role.ORDERED)
    EventFactory(published=True, title="Nobody named")
    return {
        "targeted": tencent_targeted.public_id,
        "operated": tencent_operated.public_id,
        "ordered": regulator_ordered.public_id,
    }


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        pytest.param({"actor": "tencent"}, {"targeted", "operated"}, id="actor-in-any-role"),
        pytest.param(
            {"actor": ["tencent", "cac"]},
            {"targeted", "operated", "ordered"},
            id="actors-repeated-mean-or",
        ),
        pytest.param(
            {"role": "operated_platform"}, {"targeted", "operated"}, id="role-of-any-actor"
        ),
        pytest.param(
            {"role": ["ordered", "targeted"]}, {"targeted", "ordered"}, id="roles-repeated"
        ),
        pytest.param(
            {"actor": "tencent", "role": "operated_platform"},
            {"operated"},
            id="actor-and-role-on-the-same-row",
        ),
        pytest.param({"actor": "tencent", "role": "targeted"}, {"targeted"}, id="actor-as-target"),
        pytest.param({"actor": "cac", "role": "targeted"}, set(), id="actor-never-in-role"),
    ],
)
def test_actor_and_role_filters(client, roles, query, expected):
    found = listed(client, query)

    assert sorted(found) == sorted(roles[name] for name in expected)


def test_actor_and_role_together_mean_that_actor_in_that_role(client, roles):
    """Tencent targeted while someone else operated the platform is not a match."""
    found = listed(client, {"actor": "tencent", "role": "operated_platform"})

    assert roles["targeted"] not in found
    assert found == [roles["operated"]]


# Platforms and tags: repeatable, OR, each event once.


@pytest.fixture
def on_platforms():
    wechat = PlatformFactory(slug="wechat", name="WeChat")
    weibo = PlatformFactory(slug="weibo", name="Weibo")
    only_wechat, only_weibo, both = (
        EventFactory(published=True),
        EventFactory(published=True),
        EventFactory(published=True),
    )
    only_wechat.platforms.add(wechat)
    only_weibo.platforms.add(weibo)
    both.platforms.add(wechat, weibo)
    EventFactory(published=True).platforms.add(PlatformFactory())
    return {"wechat": only_wechat, "weibo": only_weibo, "both": both}


def test_platform_filter_lists_events_on_that_platform(client, on_platforms):
    found = listed(client, {"platform": "wechat"})

    assert sorted(found) == sorted(ids(on_platforms["wechat"], on_platforms["both"]))


def test_repeated_platforms_mean_or_and_list_an_event_on_both_once(client, on_platforms):
    found = listed(client, {"platform": ["wechat", "weibo"]})

    assert len(found) == 3
    assert set(found) == ids(*on_platforms.values())


def test_comma_separated_platforms_mean_the_same_as_repeated_ones(client, on_platforms):
    repeated = listed_raw(client, "platform=wechat&platform=weibo")

    assert listed_raw(client, "platform=wechat,weibo") == repeated
    assert len(repeated) == 3


def test_platform_filter_counts_an_event_on_both_platforms_once(client, on_platforms):
    body = client.get(API, {"platform": ["wechat", "weibo"], "count": "true"}).json()

    assert body["count"] == 3


def test_tag_filter_lists_tagged_events_once(client):
    messaging, arrests = TagFactory(), TagFactory()
    both, only_messaging = EventFactory(published=True), EventFactory(published=True)
    both.tags.add(messaging, arrests)
    only_messaging.tags.add(messaging)
    EventFactory(published=True).tags.add(TagFactory())

    assert sorted(listed(client, {"tag": arrests.slug})) == [both.public_id]
    found = listed(client, {"tag": [messaging.slug, arrests.slug]})
    assert sorted(found) == sorted(ids(both, only_messaging))


# Verification, ongoing, updated_since.


def test_verification_filter(client):
    corroborated = EventFactory(published=True, verification=Verification.CORROBORATED)
    disputed = EventFactory(published=True, verification=Verification.DISPUTED)
    EventFactory(published=True, verification=Verification.SINGLE_SOURCE)

    assert listed(client, {"verification": "corroborated"}) == [corroborated.public_id]
    found = listed(client, {"verification": ["corroborated", "disputed"]})
    assert set(found) == ids(corroborated, disputed)


def test_ongoing_true_lists_only_events_that_have_not_ended(client):
    ongoing = EventFactory(published=True, date_text="2009-07-07/..")
    ended = EventFactory(published=True, date_text="2014-05-20/2014-06-10")

    assert listed(client, {"ongoing": "true"}) == [ongoing.public_id]
    assert listed(client, {"ongoing": "false"}) == [ended.public_id]
    assert listed(client, {"ongoing": "1"}) == [ongoing.public_id]


@pytest.fixture
def updated_at_different_times():
    """Three events changed at 00:30, 07:00 and 09:00 UTC on 1 January 2026, one the day before."""
    moments = {
        "day_before": datetime.datetime(2025, 12, 31, 23, 59, 59, tzinfo=UTC),
        "half_past_midnight": datetime.datetime(2026, 1, 1, 0, 30, tzinfo=UTC),
        "seven": datetime.datetime(2026, 1, 1, 7, 0, tzinfo=UTC),
        "nine": datetime.datetime(2026, 1, 1, 9, 0, tzinfo=UTC),
    }
    events = {}
    for name, moment in moments.items():
        events[name] = EventFactory(published=True)
        set_updated_at(events[name], moment)
    return {name: event.public_id for name, event in events.items()}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        pytest.param("updated_since=2026-01-01T06:00:00Z", {"seven", "nine"}, id="utc-with-z"),
        pytest.param(
            "updated_since=2026-01-01T07:00:00Z", {"seven", "nine"}, id="the-moment-itself"
        ),
        pytest.param(
            "updated_since=2026-01-01T08:00:00%2B08:00",
            {"half_past_midnight", "seven", "nine"},
            id="offset-escaped",
        ),
        pytest.param(
            "updated_since=2026-01-01T08:00:00+08:00",
            {"half_past_midnight", "seven", "nine"},
            id="offset-with-unescaped-plus",
        ),
        pytest.param("updated_since=2026-01-01T03:00:00-05:00", {"nine"}, id="negative-offset"),
    ],
)
def test_updated_since_reads_the_time_zone(client, updated_at_different_times, query, expected):
    found = listed_raw(client, query)

    assert sorted(found) == sorted(updated_at_different_times[name] for name in expected)


# Full-text search.


@pytest.fixture
def searchable():
    xi = ActorFactory(slug="xi-jinping", name="Xi Jinping", kind=ActorKind.PERSON)
    ActorAlias.objects.create(actor=xi, name="习近平", language="zh-hans")
    wechat = PlatformFactory(slug="wechat", name="WeChat")
    PlatformAlias.objects.create(platform=wechat, name="微信", language="zh-hans")
    events = {
        "title": EventFactory(published=True, title="Bloggers detained in Shanghai"),
        "summary": EventFactory(published=True, summary="Officials arrested three journalists."),
        "actor": EventFactory(published=True, title="A speech"),
        "platform": EventFactory(published=True, title="Accounts closed"),
        "quote": EventFactory(published=True, title="A notice"),
        "unicode": EventFactory(published=True, title="Protest in Ürümqi"),
    }
    play(events["actor"], xi, Role.ANNOUNCED)
    events["platform"].platforms.add(wechat)
    CitationFactory(event=events["quote"], quote="public accounts being removed")
    draft = EventFactory(title="Bloggers detained in Shanghai again", summary="Officials arrested")
    event_search_refresh(event_ids=[event.pk for event in [*events.values(), draft]])
    return {name: event.public_id for name, event in events.items()}


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        pytest.param("detained", {"title"}, id="title-word"),
        pytest.param("journalists", {"summary"}, id="summary-word"),
        pytest.param("arrest", {"summary"}, id="prefix-finds-longer-word"),
        pytest.param("rrested", set(), id="not-the-middle-of-a-word"),
        pytest.param("习近平", {"actor"}, id="actor-alias"),
        pytest.param("jinping", {"actor"}, id="actor-name"),
        pytest.param("微信", {"platform"}, id="platform-alias"),
        pytest.param("wechat", {"platform"}, id="platform-name"),
        pytest.param("removed", {"quote"}, id="quoted-passage"),
        pytest.param("officials journalists", {"summary"}, id="all-words-match"),
        pytest.param("officials bloggers", set(), id="every-word-must-match"),
        pytest.param("ÜRÜMQI", {"unicode"}, id="upper-case-non-ascii"),
        pytest.param("ürümqi", {"unicode"}, id="lower-case-non-ascii"),
        pytest.param("DETAINED Shanghai", {"title"}, id="ascii-case"),
        pytest.param("accounts", {"platform", "quote"}, id="several-events"),
    ],
)
def test_search_finds_every_word_at_the_start_of_a_word(client, searchable, q, expected):
    found = listed(client, {"q": q})

    assert sorted(found) == sorted(searchable[name] for name in expected)


def test_search_combines_with_other_filters(client, searchable):
    found = listed(client, {"q": "accounts", "platform": "wechat"})

    assert found == [searchable["platform"]]


# Ordering.


@pytest.fixture
def ordered():
    """Four events whose date order and update order differ; two share a date."""
    events = {
        "may": EventFactory(published=True, date_text="2014-05-27"),
        "ongoing": EventFactory(published=True, date_text="2009-07-07/.."),
        "march": EventFactory(published=True, date_text="2014-03"),
        "also_may": EventFactory(published=True, date_text="2014-05-27"),
    }
    for hour, name in enumerate(["march", "also_may", "ongoing", "may"]):
        set_updated_at(events[name], datetime.datetime(2026, 1, 1, hour, tzinfo=UTC))
    return {name: event.public_id for name, event in events.items()}


@pytest.mark.parametrize(
    ("ordering", "expected"),
    [
        (None, ["ongoing", "march", "may", "also_may"]),
        ("date", ["ongoing", "march", "may", "also_may"]),
        ("-date", ["also_may", "may", "march", "ongoing"]),
        ("updated", ["march", "also_may", "ongoing", "may"]),
    ],
)
def test_ordering(client, ordered, ordering, expected):
    params = {"ordering": ordering} if ordering else {}

    assert listed(client, params) == [ordered[name] for name in expected]


# Filters combined: an event must pass every one.


def test_every_filter_at_once_leaves_only_the_event_passing_all_of_them(client):
    removal = EventTypeFactory()
    tencent = ActorFactory(slug="tencent")
    wechat, weibo = PlatformFactory(slug="wechat"), PlatformFactory(slug="weibo")
    messaging = TagFactory()

    def event(platform=wechat, role=Role.OPERATED_PLATFORM, tag=messaging, **overrides):
        fields = {
            "title": "WeChat accounts removed",
            "date_text": "2014-05-27",
            "country": "CN",
            "event_type": removal,
            "verification": Verification.CORROBORATED,
            "status": EventStatus.PUBLISHED,
            **overrides,
        }
        created = EventFactory(**fields)
        created.platforms.add(platform)
        created.tags.add(tag)
        play(created, tencent, role)
        return created

    match = event()
    decoys = [
        event(date_text="2015-05-27"),
        event(date_text="2014-12-20/.."),
        event(country="IR"),
        event(event_type=EventTypeFactory()),
        event(verification=Verification.DISPUTED),
        event(platform=weibo),
        event(role=Role.TARGETED),
        event(tag=TagFactory()),
        event(title="WeChat posts deleted"),
        event(status=EventStatus.DRAFT),
    ]
    event_search_refresh(event_ids=[match.pk, *(decoy.pk for decoy in decoys)])
    query = {
        "date_from": "2014",
        "date_to": "2014",
        "date_match": "within",
        "type": removal.slug,
        "category": removal.category.slug,
        "country": "cn",
        "actor": "tencent",
        "role": "operated_platform",
        "platform": "wechat",
        "tag": messaging.slug,
        "verification": "corroborated",
        "ongoing": "false",
        "updated_since": "2000-01-01T00:00:00Z",
        "q": "accounts",
        "ordering": "-date",
    }

    assert listed(client, query) == [match.public_id]
    # Each published decoy on WeChat is listed when only the platform is asked for.
    assert len(listed(client, {"platform": "wechat"})) == 9


# Errors: 400 with JSON naming the parameter; never a 500.


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ("plattform=wechat", "plattform"),
        ("date_from=2014-13", "date_from"),
        ("date_from=May", "date_from"),
        ("date_from=2014-02-30", "date_from"),
        ("date_to=14", "date_to"),
        ("date_from=2014-05&date_to=2014-04", "date_to"),
        ("date_match=sometimes", "date_match"),
        ("ordering=title", "ordering"),
        ("role=boss", "role"),
        ("verification=true", "verification"),
        ("ongoing=maybe", "ongoing"),
        ("updated_since=2026-11-28T09:00:00", "updated_since"),
        ("updated_since=yesterday", "updated_since"),
        ("q=!!!", "q"),
        ("q=" + "a" * 201, "q"),
        ("country=ZZ", "country"),
        ("country=china", "country"),
        ("type=not%20a%20slug", "type"),
        ("page_size=0", "page_size"),
        ("page_size=1001", "page_size"),
        ("page_size=abc", "page_size"),
        ("page_size=-5", "page_size"),
        ("cursor=garbage", "cursor"),
        ("cursor=%25%25%25", "cursor"),
        ("count=maybe", "count"),
    ],
)
def test_bad_parameters_are_refused_with_json_naming_the_parameter(client, query, parameter):
    EventFactory(published=True)

    errors = errors_of(client.get(f"{API}?{query}"))

    assert list(errors) == [parameter]


def test_unknown_parameter_message_lists_the_accepted_ones(client):
    errors = errors_of(client.get(API, {"plattform": "wechat"}))

    assert "platform" in errors["plattform"][0]


def test_date_to_before_date_from_says_so(client):
    errors = errors_of(client.get(API, {"date_from": "2014-05", "date_to": "2014-04"}))

    assert "before date_from" in errors["date_to"][0]


def test_a_year_and_a_day_inside_it_are_not_a_reversed_range(client):
    day = EventFactory(published=True, date_text="2014-05-27")

    assert listed(client, {"date_from": "2014-05-27", "date_to": "2014-05"}) == [day.public_id]


def test_q_over_200_characters_is_refused_even_when_made_of_words(client):
    errors = errors_of(client.get(API, {"q": "word " * 41}))

    assert list(errors) == ["q"]


@pytest.mark.parametrize(
    ("parameter", "listing"),
    [
        ("platform", "/api/v1/platforms/"),
        ("actor", "/api/v1/actors/"),
        ("tag", "/api/v1/tags/"),
        ("type", "/api/v1/event-types/"),
        ("category", "/api/v1/event-types/"),
    ],
)
def test_unknown_slug_is_refused_with_where_to_find_valid_ones(client, parameter, listing):
    EventFactory(published=True)

    errors = errors_of(client.get(API, {parameter: "nope"}))

    assert list(errors) == [parameter]
    assert "nope" in errors[parameter][0]
    assert listing in errors[parameter][0]


def test_one_unknown_slug_among_known_ones_is_refused(client, on_platforms):
    errors = errors_of(client.get(API, {"platform": ["wechat", "nope"]}))

    assert "nope" in errors["platform"][0]
    assert "wechat" not in errors["platform"][0]


def referenced_only_by(event, parameter):
    """Attach a fresh actor, platform or tag to an event; return the slug the filter takes."""
    if parameter == "actor":
        actor = ActorFactory()
        play(event, actor, Role.TARGETED)
        return actor.slug
    if parameter == "platform":
        platform = PlatformFactory()
        event.platforms.add(platform)
        return platform.slug
    if parameter == "tag":
        tag = TagFactory()
        event.tags.add(tag)
        return tag.slug
    if parameter == "type":
        return event.event_type.slug
    return event.event_type.category.slug


@pytest.mark.parametrize(
    "status", [EventStatus.DRAFT, EventStatus.IN_REVIEW, EventStatus.RETRACTED]
)
@pytest.mark.parametrize("parameter", ["actor", "platform", "tag", "type", "category"])
def test_slug_referenced_only_by_an_unpublished_event_is_refused_like_an_unknown_one(
    client, parameter, status
):
    EventFactory(published=True)
    slug = referenced_only_by(EventFactory(status=status), parameter)

    errors = errors_of(client.get(API, {parameter: slug}))

    assert list(errors) == [parameter]
    assert "no published event" in errors[parameter][0]


def test_slug_of_a_published_event_is_accepted_even_if_drafts_share_it(client):
    wechat = PlatformFactory(slug="wechat")
    shown = EventFactory(published=True)
    shown.platforms.add(wechat)
    EventFactory().platforms.add(wechat)

    assert listed(client, {"platform": "wechat"}) == [shown.public_id]


def cursor(**token):
    text = json.dumps(token, separators=(",", ":"))
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    "token",
    [
        pytest.param({"o": "date", "d": "next", "v": "2014-01-01"}, id="no-id"),
        pytest.param({"o": "date", "d": "sideways", "v": "2014-01-01", "k": 1}, id="direction"),
        pytest.param({"o": "date", "d": "next", "v": "someday", "k": 1}, id="date"),
        pytest.param({"o": "date", "d": "next", "v": 20140101, "k": 1}, id="date-as-number"),
        pytest.param({"o": "date", "d": "next", "v": "2014-01-01", "k": "one"}, id="id"),
        pytest.param({"o": "-date", "d": "next", "v": "2014-01-01", "k": 1}, id="other-order"),
        pytest.param({"o": "title", "d": "next", "v": "x", "k": 1}, id="unknown-order"),
    ],
)
def test_forged_cursors_are_refused(client, token):
    EventFactory(published=True)

    errors = errors_of(client.get(API, {"cursor": cursor(**token)}))

    assert list(errors) == ["cursor"]


def test_a_list_as_cursor_is_refused(client):
    raw = base64.urlsafe_b64encode(b"[1,2]").decode()

    assert list(errors_of(client.get(API, {"cursor": raw}))) == ["cursor"]


def test_cursor_from_another_ordering_says_to_start_again(client):
    EventFactory(published=True)
    EventFactory(published=True)
    first = client.get(API, {"page_size": 1, "ordering": "date"}).json()
    token = parse_qs(urlsplit(first["next"]).query)["cursor"][0]

    errors = errors_of(client.get(API, {"page_size": 1, "ordering": "-date", "cursor": token}))

    assert "another ordering" in errors["cursor"][0]


def test_page_size_in_superscript_digits_is_refused_not_a_server_error(client):
    EventFactory(published=True)

    errors = errors_of(client.get(API, {"page_size": "²"}))

    assert list(errors) == ["page_size"]


def test_page_size_at_the_limits_is_accepted(client):
    EventFactory(published=True)

    assert client.get(API, {"page_size": 1}).status_code == 200
    assert client.get(API, {"page_size": 1000}).status_code == 200


def test_cursor_with_an_id_beyond_any_integer_is_refused_not_a_server_error(client):
    EventFactory(published=True)
    # On the event's own day, so the id decides.
    token = cursor(o="date", d="next", v="2014-05-27", k=10**30)

    response = client.get(API, {"cursor": token})

    assert response.status_code == 400 or response.json()["results"] == []


def test_updated_since_at_the_edge_of_the_calendar_is_not_a_server_error(client):
    EventFactory(published=True)

    response = client.get(API, {"updated_since": "0001-01-01T00:00:00+08:00"})

    assert response.status_code in (200, 400)


# Detail: 404 unless published, every documented field when it is.

DETAIL_FIELDS = set(ReferenceEvent.Meta.fields)  # the API's object (tests.timeline.reference)


@pytest.mark.parametrize(
    "status", [EventStatus.DRAFT, EventStatus.IN_REVIEW, EventStatus.RETRACTED]
)
def test_unpublished_event_is_not_found_by_its_public_id(client, status):
    hidden = EventFactory(status=status, title="Unpublished title")

    response = client.get(f"{API}{hidden.public_id}/")

    assert response.status_code == 404
    assert "detail" in response.json()
    assert b"Unpublished title" not in response.content


def test_unknown_public_id_is_not_found(client):
    assert client.get(f"{API}CN-2014-9999/").status_code == 404


@pytest.fixture
def full_event():
    """A published event with something in every field, linked to published and hidden events."""
    content_control = EventCategoryFactory(slug="content-control", name="Content control")
    removal = EventTypeFactory(
        category=content_control, slug="account-removal", name="Account removal"
    )
    event = EventFactory(
        published=True,
        title="WeChat public accounts removed",
        summary="Tencent removed over 40 accounts.",
        event_type=removal,
        date_text="2014-04~",
        country="CN",
        locality="Beijing",
        latitude="39.90420",
        longitude="116.40740",
        verification=Verification.CORROBORATED,
        internal_notes="CURATOR-NOTE-7f3a: check with the second source",
    )
    tencent = ActorFactory(slug="tencent", name="Tencent", kind=ActorKind.COMPANY)
    EventActorFactory(event=event, actor=tencent, role=Role.OPERATED_PLATFORM, note="runs WeChat")
    event.platforms.add(PlatformFactory(slug="wechat", name="WeChat", operator=tencent))
    event.tags.add(TagFactory(slug="instant-messaging", name="instant messaging"))
    source = SourceFactory(
        key="chinatopix-2014-05-28",
        title="China cracks down on instant messaging",
        publisher="ChinaTopix",
        url="https://www.example.org/report",
        archive_url="https://web.archive.org/web/2014/https://www.example.org/report",
        published_on=datetime.date(2014, 5, 28),
        full_text="FULL-TEXT-MARKER-91c2 the copyrighted article",
    )
    CitationFactory(
        event=event, source=source, quote="over 40 accounts being removed", locator="para. 6"
    )
    EventCount.objects.create(
        event=event,
        qualifier=CountQualifier.MORE_THAN,
        quantity=40,
        unit=CountUnit.ACCOUNTS,
        note="public accounts",
    )
    follow_up = EventFactory(published=True, title="Follow-up rules")
    campaign = EventFactory(published=True, title="Clean-up campaign")
    EventRelation.objects.create(
        from_event=event, to_event=follow_up, relation_type=RelationType.PRECEDES
    )
    EventRelation.objects.create(
        from_event=campaign, to_event=event, relation_type=RelationType.PART_OF, note="one wave"
    )
    for status in (EventStatus.DRAFT, EventStatus.RETRACTED):
        hidden = EventFactory(status=status, title=f"Hidden {status}")
        EventRelation.objects.create(
            from_event=event, to_event=hidden, relation_type=RelationType.RELATED
        )
        EventRelation.objects.create(
            from_event=hidden, to_event=event, relation_type=RelationType.CAUSED
        )
    event_search_refresh(event_ids=[event.pk])
    event.refresh_from_db()
    return {"event": event, "follow_up": follow_up, "campaign": campaign}


def test_published_event_detail_shows_every_documented_field(client, full_event):
    event = full_event["event"]

    response = client.get(f"{API}{event.public_id}/")

    assert response.status_code == 200
    body = response.json()
    assert set(body) == DETAIL_FIELDS
    assert body["id"] == event.public_id
    assert body["title"] == "WeChat public accounts removed"
    assert body["summary"] == "Tencent removed over 40 accounts."
    assert body["type"] == {"slug": "account-removal", "name": "Account removal"}
    assert body["category"] == {"slug": "content-control", "name": "Content control"}
    assert body["country"] == "CN"
    assert body["country_name"] == "China"
    assert body["is_global"] is False
    assert body["locality"] == "Beijing"
    assert (body["latitude"], body["longitude"]) == ("39.90420", "116.40740")
    assert body["verification"] == "corroborated"
    assert body["verification_label"] == "Corroborated by independent sources"
    assert body["url"] == f"http://testserver/events/{event.public_id}/"
    assert body["api_url"] == f"http://testserver/api/v1/events/{event.public_id}/"


def test_detail_date_gives_text_bounds_precision_qualifiers_and_display(client, full_event):
    event = full_event["event"]

    body = client.get(f"{API}{event.public_id}/").json()

    assert body["date"] == {
        "text": "2014-04~",
        "earliest": "2014-03-01",
        "latest": "2014-05-31",
        "precision": "month",
        "is_approximate": True,
        "is_uncertain": False,
        "is_ongoing": False,
        "display": "c. April 2014",
    }


def test_detail_of_an_ongoing_event_has_no_latest_day(client):
    event = EventFactory(published=True, date_text="2009-07-07/..")

    date = client.get(f"{API}{event.public_id}/").json()["date"]

    assert date["latest"] is None
    assert date["is_ongoing"] is True
    assert date["display"] == "since 7 July 2009"


def test_detail_lists_actors_with_roles_platforms_tags_citations_and_counts(client, full_event):
    event = full_event["event"]

    body = client.get(f"{API}{event.public_id}/").json()

    assert body["actors"] == [
        {
            "slug": "tencent",
            "name": "Tencent",
            "role": "operated_platform",
            "role_label": "Operated the affected platform",
            "note": "runs WeChat",
        }
    ]
    assert body["platforms"] == [{"slug": "wechat", "name": "WeChat"}]
    assert body["tags"] == [{"slug": "instant-messaging", "name": "instant messaging"}]
    assert body["citations"] == [
        {
            "source": {
                "key": "chinatopix-2014-05-28",
                "title": "China cracks down on instant messaging",
                "publisher": "ChinaTopix",
                "published_on": "2014-05-28",
                "url": "https://www.example.org/report",
                "archive_url": "https://web.archive.org/web/2014/https://www.example.org/report",
                "kind": "news",
            },
            "quote": "over 40 accounts being removed",
            "locator": "para. 6",
        }
    ]
    assert body["counts"] == [
        {
            "qualifier": "more_than",
            "quantity": 40,
            "unit": "accounts",
            "note": "public accounts",
            "text": "More than 40 accounts",
        }
    ]


def test_detail_relations_link_only_to_published_events(client, full_event):
    event = full_event["event"]

    relations = client.get(f"{API}{event.public_id}/").json()["relations"]

    assert relations == [
        {
            "type": "precedes",
            "label": "precedes",
            "direction": "outgoing",
            "event": full_event["follow_up"].public_id,
            "title": "Follow-up rules",
            "note": "",
        },
        {
            "type": "part_of",
            "label": "is part of",
            "direction": "incoming",
            "event": full_event["campaign"].public_id,
            "title": "Clean-up campaign",
            "note": "one wave",
        },
    ]


def test_detail_timestamps_are_the_events_own(client, full_event):
    event = full_event["event"]

    body = client.get(f"{API}{event.public_id}/").json()

    assert parse_datetime(body["first_published_at"]) == event.first_published_at
    assert parse_datetime(body["updated_at"]) == event.updated_at


def test_list_rows_are_the_same_as_the_detail(client, full_event):
    event = full_event["event"]

    detail = client.get(f"{API}{event.public_id}/").json()
    rows = client.get(API).json()["results"]

    assert [row for row in rows if row["id"] == event.public_id] == [detail]


@pytest.mark.parametrize("marker", [b"CURATOR-NOTE-7f3a", b"FULL-TEXT-MARKER-91c2"])
@pytest.mark.parametrize(
    "path",
    [
        pytest.param("list", id="list"),
        pytest.param("detail", id="detail"),
        pytest.param("search", id="search"),
    ],
)
def test_internal_notes_and_source_full_text_never_appear(client, full_event, marker, path):
    event = full_event["event"]
    url = {
        "list": API,
        "detail": f"{API}{event.public_id}/",
        "search": f"{API}?q=accounts&platform=wechat",
    }[path]

    response = client.get(url)

    assert response.status_code == 200
    assert event.public_id.encode() in response.content
    assert marker not in response.content


@pytest.mark.parametrize("words", ["curator note 7f3a", "copyrighted article"])
def test_search_does_not_read_internal_notes_or_source_full_text(client, full_event, words):
    assert listed(client, {"q": words}) == []


# Keyset pagination.


def walk(client, url, link="next"):
    """Follow next (or previous) links from url; return each page's body."""
    pages = []
    while url:
        assert len(pages) < 50, "the links go round in circles"
        response = client.get(url)
        assert response.status_code == 200, response.content
        pages.append(response.json())
        url = pages[-1][link]
    return pages


def page_ids(pages):
    return [[row["id"] for row in page["results"]] for page in pages]


def walked_ids(pages):
    return [row["id"] for page in pages for row in page["results"]]


def in_api_order(events, ordering):
    """Return public ids as the API documents its orders: the key, then the id breaks ties."""
    fresh = Event.objects.filter(pk__in=[event.pk for event in events])
    if ordering in ("updated", "-updated"):
        ordered = sorted(fresh, key=lambda event: (event.updated_at, event.pk))
        if ordering == "-updated":
            ordered.reverse()
    else:
        ordered = sorted(fresh, key=lambda event: (event.date_earliest, event.pk))
        if ordering == "-date":
            ordered.reverse()
    return [event.public_id for event in ordered]


@pytest.fixture
def paged_events():
    """Seven Chinese events with tied dates and tied update times, among ones that do not match."""
    base = datetime.datetime(2026, 1, 1, tzinfo=UTC)
    rows = [
        ("2014-05-27", 2),
        ("2014-03", 0),
        ("2014-05-27", 1),
        ("2013", 0),
        ("2009-07-07/..", 2),
        ("2014-03-01", 3),
        ("2014-05-27", 0),
    ]
    matching = []
    for date_text, hours in rows:
        event = EventFactory(published=True, date_text=date_text)
        set_updated_at(event, base + datetime.timedelta(hours=hours))
        matching.append(event)
        EventFactory(published=True, date_text=date_text, country="IR")
    EventFactory(date_text="2014-05-27")
    return matching


@pytest.mark.parametrize("ordering", ["date", "-date", "updated", "-updated"])
def test_next_links_walk_every_matching_event_once_in_order(client, paged_events, ordering):
    pages = walk(client, f"{API}?country=CN&page_size=2&ordering={ordering}")

    assert [len(page) for page in page_ids(pages)] == [2, 2, 2, 1]
    assert walked_ids(pages) == in_api_order(paged_events, ordering)
    assert pages[0]["previous"] is None
    assert pages[-1]["next"] is None


@pytest.mark.parametrize("ordering", ["date", "-date", "updated", "-updated"])
def test_previous_links_walk_back_through_the_same_pages(client, paged_events, ordering):
    forward = walk(client, f"{API}?country=CN&page_size=2&ordering={ordering}")

    backward = walk(client, forward[-1]["previous"], link="previous")

    assert page_ids(backward[::-1]) == page_ids(forward[:-1])
    assert backward[-1]["next"] is not None


def test_next_link_keeps_the_filters_and_page_size(client, paged_events):
    body = client.get(API, {"country": "CN", "page_size": 2, "ordering": "-date"}).json()

    assert body["next"].startswith("http://testserver/api/v1/events/?")
    for part in ("country=CN", "page_size=2", "ordering=-date", "cursor="):
        assert part in body["next"]


def test_link_header_carries_next_and_prev(client, paged_events):
    first = client.get(API, {"country": "CN", "page_size": 2})
    second = client.get(first.json()["next"])

    assert first["Link"] == f'<{first.json()["next"]}>; rel="next"'
    body = second.json()
    assert second["Link"] == f'<{body["next"]}>; rel="next", <{body["previous"]}>; rel="prev"'


def test_last_page_link_header_carries_only_prev(client, paged_events):
    last = walk(client, f"{API}?country=CN&page_size=2")[-1]
    response = client.get(last["previous"])
    response = client.get(response.json()["next"])

    assert response["Link"] == f'<{response.json()["previous"]}>; rel="prev"'


def test_single_page_has_no_link_header(client, paged_events):
    response = client.get(API, {"country": "CN"})

    assert "Link" not in response


def test_count_true_adds_the_total_on_every_page(client, paged_events):
    pages = walk(client, f"{API}?country=CN&page_size=2&count=true")

    assert [page["count"] for page in pages] == [7, 7, 7, 7]


def test_count_is_left_out_unless_asked_for(client, paged_events):
    assert "count" not in client.get(API, {"country": "CN"}).json()
    assert "count" not in client.get(API, {"country": "CN", "count": "false"}).json()


@pytest.mark.parametrize("ordering", ["date", "-date"])
def test_events_published_between_pages_cause_no_duplicates_and_no_gaps(client, ordering):
    originals = [
        EventFactory(published=True, date_text=f"2014-{month:02d}-10") for month in range(1, 9)
    ]
    first = client.get(API, {"ordering": ordering, "page_size": 3}).json()
    cursor_row = Event.objects.get(public_id=first["results"][-1]["id"])
    # Earlier and later than the cursor, and on the cursor's own day (a later id).
    newcomers = [
        EventFactory(published=True, date_text=text)
        for text in ("2013-06-01", "2014-02-10", "2014-03-10", "2014-06-01", "2015-01-01")
    ]
    # And a draft that was there all along, published now.
    draft = EventFactory(date_text="2014-04-01")
    draft.status = EventStatus.PUBLISHED
    newcomers.append(event_save(event=draft))

    rest = walk(client, first["next"])

    seen = walked_ids([first, *rest])
    everything = in_api_order([*originals, *newcomers], ordering)
    after_cursor = everything[everything.index(cursor_row.public_id) + 1 :]
    assert seen == [row["id"] for row in first["results"]] + after_cursor
    assert len(seen) == len(set(seen))
    assert set(seen) >= ids(*originals)


def test_events_published_between_pages_of_the_update_order_come_at_the_end(client):
    originals = [EventFactory(published=True) for _ in range(5)]
    for day, event in enumerate(originals, start=1):
        set_updated_at(event, datetime.datetime(2020, 1, day, tzinfo=UTC))
    first = client.get(API, {"ordering": "updated", "page_size": 2}).json()
    backdated, fresh = EventFactory(published=True), EventFactory(published=True)
    set_updated_at(backdated, datetime.datetime(2019, 12, 1, tzinfo=UTC))

    rest = walk(client, first["next"])

    seen = walked_ids([first, *rest])
    assert seen == [event.public_id for event in originals] + [fresh.public_id]


# Query counts: fixed, whatever the page size.


@pytest.fixture
def rich_events():
    """Fifty published events of one type, each with 2 actors, 2 platforms, a tag, 2 citations,
    a count, a link; return what they share, for filters that match them all."""
    actors = [ActorFactory(), ActorFactory()]
    platforms = [PlatformFactory(), PlatformFactory()]
    tag = TagFactory()
    event_type = EventTypeFactory()
    previous = None
    for _ in range(50):
        event = EventFactory(published=True, event_type=event_type)
        play(event, actors[0], Role.ORDERED)
        play(event, actors[1], Role.TARGETED)
        event.platforms.add(*platforms)
        event.tags.add(tag)
        CitationFactory(event=event)
        CitationFactory(event=event)
        EventCount.objects.create(
            event=event, quantity=40, unit=CountUnit.ACCOUNTS, qualifier=CountQualifier.ABOUT
        )
        if previous is not None:
            EventRelation.objects.create(
                from_event=event, to_event=previous, relation_type=RelationType.PRECEDES
            )
        previous = event
    event_search_refresh(event_ids=Event.objects.values_list("pk", flat=True))
    return {"actors": actors, "platforms": platforms, "tag": tag, "event_type": event_type}


def queries_for(client, params):
    with CaptureQueriesContext(connection) as context:
        response = client.get(API, params)
    assert response.status_code == 200
    return len(context.captured_queries), response.json()["results"]


def test_list_runs_the_same_queries_for_five_rows_as_for_fifty(client, rich_events):
    small, small_rows = queries_for(client, {"page_size": 5})
    large, large_rows = queries_for(client, {"page_size": 50})

    assert (len(small_rows), len(large_rows)) == (5, 50)
    assert all(len(row["actors"]) == 2 and len(row["citations"]) == 2 for row in large_rows)
    assert all(len(row["platforms"]) == 2 and len(row["counts"]) == 1 for row in large_rows)
    assert sum(len(row["relations"]) for row in large_rows) == 2 * 49
    assert small == large


@pytest.mark.parametrize("page_size", [1, 50, 1000])
def test_list_page_runs_two_queries_whatever_its_size(
    client, rich_events, django_assert_num_queries, page_size
):
    # The data version (ETag), the page's ids in order, then their JSON with related rows.
    with django_assert_num_queries(3):
        response = client.get(API, {"page_size": page_size})

    assert len(response.json()["results"]) == min(page_size, 50)


def test_a_later_page_and_a_count_add_only_the_count(
    client, rich_events, django_assert_num_queries
):
    next_page = client.get(API, {"page_size": 10})["Link"].split(">")[0][1:]

    with django_assert_num_queries(3):
        client.get(next_page)
    with django_assert_num_queries(4):
        client.get(next_page + "&count=true")


def test_filtered_list_page_runs_a_fixed_number_of_queries(
    client, rich_events, django_assert_num_queries
):
    platform_slugs = list(Event.objects.first().platforms.values_list("slug", flat=True))

    # One more query checks that the platform slugs are public: four in all.
    with django_assert_num_queries(4):
        response = client.get(API, {"page_size": 50, "platform": platform_slugs})

    assert len(response.json()["results"]) == 50


# Every filter the list accepts, alone, with a value that matches all fifty rich events (a
# function of what they share, for a slug), and the queries its page runs: the data version
# (ETag), the check that a filter's slugs are public, the page's ids in order, then their
# JSON with related rows. The bound is four, counting everything the request runs.
ONE_FILTER = {
    "date_from": ({"date_from": "2014"}, 3),
    "date_to": ({"date_to": "2014-05"}, 3),
    "date range": ({"date_from": "2014-05", "date_to": "2014-05"}, 3),
    "date_match within": ({"date_from": "2014", "date_to": "2014", "date_match": "within"}, 3),
    "date_match begins": ({"date_from": "2014-05", "date_match": "begins"}, 3),
    "type": ({"type": lambda shared: shared["event_type"].slug}, 4),
    "category": ({"category": lambda shared: shared["event_type"].category.slug}, 4),
    "country": ({"country": "CN"}, 3),
    "actor": ({"actor": lambda shared: shared["actors"][0].slug}, 4),
    "role": ({"role": Role.TARGETED}, 3),
    "actor with role": (
        {"actor": lambda shared: shared["actors"][0].slug, "role": Role.ORDERED},
        4,
    ),
    "platform": ({"platform": lambda shared: shared["platforms"][0].slug}, 4),
    "tag": ({"tag": lambda shared: shared["tag"].slug}, 4),
    "verification": ({"verification": Verification.SINGLE_SOURCE}, 3),
    "ongoing": ({"ongoing": "false"}, 3),
    "updated_since": ({"updated_since": "2020-01-01T00:00:00Z"}, 3),
    "q": ({"q": "event"}, 3),
    "ordering": ({"ordering": "-updated"}, 3),
}


def test_every_filter_has_a_query_count_case_within_the_bound():
    given = {name for params, _queries in ONE_FILTER.values() for name in params}

    assert given == set(EventFilterSet.base_filters)
    assert all(queries <= 4 for _params, queries in ONE_FILTER.values())


@pytest.mark.parametrize("page_size", [1, 100])
@pytest.mark.parametrize(("params", "queries"), ONE_FILTER.values(), ids=list(ONE_FILTER))
def test_a_page_with_any_one_filter_runs_at_most_four_queries(
    client, rich_events, django_assert_num_queries, params, queries, page_size
):
    query = {
        name: value(rich_events) if callable(value) else value for name, value in params.items()
    }

    with django_assert_num_queries(queries):
        response = client.get(API, {**query, "page_size": page_size})

    assert response.status_code == 200, response.content
    assert len(response.json()["results"]) == min(page_size, 50)


def test_detail_runs_a_fixed_number_of_queries(client, rich_events, django_assert_num_queries):
    event = Event.objects.order_by("pk")[10]

    with django_assert_num_queries(3):
        response = client.get(f"{API}{event.public_id}/")

    assert response.json()["id"] == event.public_id
    assert len(response.json()["relations"]) == 2
