"""Whole-timeline exports: CSV (COPY and Python), NDJSON, TimelineJS and the export command."""

import csv
import datetime
import io
import json
import re
from decimal import Decimal

import pandas as pd
import pytest
from django.core.cache import cache
from django.core.management import CommandError, call_command
from django.db import connection
from django.http import QueryDict
from django.test.utils import CaptureQueriesContext

from events import choices
from events.models import Event, EventActor, EventCount, EventRelation
from events.public.documents import Bases
from events.services import event_search_refresh
from tests.factories import (
    ActorFactory,
    CitationFactory,
    EventCategoryFactory,
    EventFactory,
    EventTypeFactory,
    PlatformFactory,
    SourceFactory,
    TagFactory,
)
from timeline import exports
from timeline.filters import EventFilterSet

pytestmark = pytest.mark.django_db

EVENTS = "/api/v1/events/"
UTC = datetime.UTC
PAGE_BASE = "http://testserver/events/"
ON_POSTGRESQL = connection.vendor == "postgresql"
DANGEROUS_STARTS = ["=", "+", "-", "@", "\t", "\r", "\n"]
# Python's csv.writer quotes a cell with "\n" but not one with a lone "\r" when the line
# terminator is "\n": the Python writer then emits a raw carriage return that breaks the row.


@pytest.fixture(autouse=True)
def fresh_throttle():
    cache.clear()
    yield
    cache.clear()


# Helpers ---------------------------------------------------------------------------------


def streamed_text(response):
    assert response.streaming, "expected a streamed export"
    return b"".join(response.streaming_content).decode("utf-8")


def parse_csv(text):
    return list(csv.reader(io.StringIO(text, newline="")))


def csv_records(text):
    header, *rows = parse_csv(text)
    assert header == exports.COLUMN_NAMES
    return [dict(zip(header, row, strict=True)) for row in rows]


def get_csv(client, query="", **extra):
    response = client.get(f"{EVENTS}?format=csv{'&' + query if query else ''}", **extra)
    assert response.status_code == 200
    return csv_records(streamed_text(response))


def walk_json(client, query=""):
    """Return every item of the JSON list, following next links."""
    url, items, seen_urls = f"{EVENTS}?{query}", [], set()
    while url:
        assert url not in seen_urls
        seen_urls.add(url)
        response = client.get(url)
        assert response.status_code == 200, response.content
        body = response.json()
        items += body["results"]
        url = body["next"]
    return items


def set_times(event, *, published=None, updated=None):
    """Pin timestamps (update() leaves auto_now alone)."""
    values = {}
    if published is not None:
        values["first_published_at"] = published
    if updated is not None:
        values["updated_at"] = updated
    Event.objects.filter(pk=event.pk).update(**values)
    event.refresh_from_db()
    return event


def add_platforms(event, *platforms):
    for platform in platforms:  # one at a time: the through rows' ids give the order
        event.platforms.add(platform)


def add_tags(event, *tags):
    for tag in tags:
        event.tags.add(tag)


def role(event, actor, role_code=choices.Role.ORDERED, note=""):
    return EventActor.objects.create(event=event, actor=actor, role=role_code, note=note)


def count(event, qualifier, quantity, unit, note=""):
    return EventCount.objects.create(
        event=event, qualifier=qualifier, quantity=quantity, unit=unit, note=note
    )


@pytest.fixture
def taxonomy():
    category = EventCategoryFactory(name="Content control", slug="content-control")
    return EventTypeFactory(category=category, name="Account removal", slug="account-removal")


@pytest.fixture
def wechat():
    return PlatformFactory(name="微信", slug="wechat")


@pytest.fixture
def rich_event(taxonomy, wechat):
    """One published event with every kind of cell filled, timestamps pinned."""
    event = EventFactory(
        published=True,
        title="WeChat removes public accounts",
        summary='Tencent said "rumours", then, removed them.\nA second line.',
        event_type=taxonomy,
        date_text="2014-03",
        country="CN",
        locality="Beijing",
        latitude=Decimal("39.90420"),
        longitude=Decimal("116.40740"),
        verification=choices.Verification.CORROBORATED,
    )
    role(event, ActorFactory(name="习近平", slug="xi-jinping", kind=choices.ActorKind.PERSON))
    role(
        event,
        ActorFactory(name="Tencent", slug="tencent", kind=choices.ActorKind.COMPANY),
        choices.Role.OPERATED_PLATFORM,
    )
    add_platforms(event, wechat, PlatformFactory(name="Weibo", slug="weibo"))
    add_tags(event, TagFactory(name="instant messaging", slug="instant-messaging"))
    count(event, choices.CountQualifier.MORE_THAN, 40, choices.CountUnit.ACCOUNTS, "public ones")
    count(event, choices.CountQualifier.ABOUT, 3, choices.CountUnit.PEOPLE)
    reported = SourceFactory(
        title="Tencent cracks down",
        publisher="ChinaTopix",
        published_on=datetime.date(2014, 5, 28),
        url="https://example.org/a",
    )
    notice = SourceFactory(title="Notice", publisher="", published_on=None, url="")
    CitationFactory(event=event, source=reported, quote="over 40 accounts, removed")
    CitationFactory(event=event, source=notice, quote="")
    CitationFactory(event=event, source=reported, quote='he said "stop"')
    return set_times(
        event,
        published=datetime.datetime(2026, 11, 28, 9, 0, tzinfo=UTC),
        updated=datetime.datetime(2026, 11, 28, 10, 30, 0, 123456, tzinfo=UTC),
    )


def build_rich_timeline(taxonomy, wechat):
    """Published events that stress every cell: scripts, quoting, formulas, nulls, spans."""
    other_type = EventTypeFactory(name="Arrest", slug="arrest")
    xi = ActorFactory(name="习近平", slug="xi-jinping", kind=choices.ActorKind.PERSON)
    cac = ActorFactory(name="Cyberspace Administration, CAC", slug="cac")
    formula_actor = ActorFactory(name="@SUM(A1)", slug="formula-actor")
    weibo = PlatformFactory(name='Weibo "microblog"', slug="weibo")
    tag = TagFactory(name="instant messaging", slug="instant-messaging")
    formula_tag = TagFactory(name="+cmd|' /C calc'!A0", slug="formula-tag")
    cited = SourceFactory(
        title="习近平 speaks, again",
        publisher="Xinhua",
        published_on=datetime.date(2014, 8, 7),
        url="https://example.org/xinhua",
    )
    undated = SourceFactory(title="-Anonymous post", publisher="Forum", url="")
    unpublished = SourceFactory(title="Dated only", publisher="", published_on=None)

    first = EventFactory(
        published=True,
        title='=HYPERLINK("http://x")',
        summary='Quote, "quoted", and\nnew lines\nagain.',
        event_type=taxonomy,
        date_text="2014-03",
        locality="北京, Haidian",
        latitude=Decimal("0"),
        longitude=Decimal("-122.4194"),
        verification=choices.Verification.CONFIRMED,
    )
    role(first, xi)
    role(first, cac, choices.Role.ENFORCED, note="the regulator")
    role(first, formula_actor, choices.Role.TARGETED)
    add_platforms(first, wechat, weibo)
    add_tags(first, tag, formula_tag)
    count(first, choices.CountQualifier.MORE_THAN, 40, choices.CountUnit.ACCOUNTS, "public")
    count(first, choices.CountQualifier.EXACTLY, 7, choices.CountUnit.PEOPLE)
    CitationFactory(event=first, source=cited, quote='-2+3, "really"\nsecond line')
    CitationFactory(event=first, source=undated, quote="")
    CitationFactory(event=first, source=cited, quote="@again")

    ongoing_global = EventFactory(
        published=True,
        title="Global VPN crackdown",
        summary="+1+1",
        event_type=other_type,
        date_text="2009-07-07/..",
        country="",
        is_global=True,
    )
    add_platforms(ongoing_global, wechat)
    CitationFactory(event=ongoing_global, source=unpublished, quote="")

    approximate = EventFactory(
        published=True,
        title="微信 group chats closed",
        summary="\tindented summary",
        event_type=taxonomy,
        date_text="2014-04~",
        country="IR",
        locality="-Tehran",
        latitude=Decimal("35.68920"),
        longitude=Decimal("51.38900"),
    )
    role(approximate, xi, choices.Role.ANNOUNCED)
    add_platforms(approximate, weibo, wechat)
    count(approximate, choices.CountQualifier.AT_LEAST, 1000000, choices.CountUnit.POSTS)
    CitationFactory(event=approximate, source=cited, quote="")

    span = EventFactory(
        published=True,
        title="Plain span",
        summary="Nothing odd here.",
        event_type=other_type,
        date_text="2014-05-27/2014-06-27",
        country="US",
    )
    CitationFactory(event=span, source=undated, quote="a quote; with a separator")

    set_times(first, published=datetime.datetime(2026, 1, 2, 3, 4, 5, 6, tzinfo=UTC))
    event_search_refresh(event_ids=[first.pk, ongoing_global.pk, approximate.pk, span.pk])
    return [first, ongoing_global, approximate, span]


@pytest.fixture
def rich_timeline(taxonomy, wechat):
    return build_rich_timeline(taxonomy, wechat)


def many_events(count_, *, event_type, platform=None, dates=("2014-05-27", "2014-03", "2013")):
    events = []
    for index in range(count_):
        event = EventFactory(
            published=True, event_type=event_type, date_text=dates[index % len(dates)]
        )
        if platform is not None:
            event.platforms.add(platform)
        events.append(event)
    return events


# CSV over HTTP ---------------------------------------------------------------------------

FILENAME = re.compile(
    r'^attachment; filename="censorship-timeline_platform-wechat_'
    r'\d{4}-\d{2}-\d{2}T\d{4}Z\.csv"$'
)


def test_csv_by_format_parameter_is_an_attachment_named_for_its_filters(client, rich_event):
    response = client.get(f"{EVENTS}?format=csv&platform=wechat")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert FILENAME.match(response["Content-Disposition"]), response["Content-Disposition"]
    streamed_text(response)


def test_csv_by_accept_header_is_the_same_file(client, rich_event):
    response = client.get(f"{EVENTS}?platform=wechat", HTTP_ACCEPT="text/csv")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert FILENAME.match(response["Content-Disposition"]), response["Content-Disposition"]
    assert csv_records(streamed_text(response)) == get_csv(client, "platform=wechat")


def test_csv_filename_includes_a_timestamp_of_now(client, rich_event):
    before = datetime.datetime.now(UTC).replace(second=0, microsecond=0)
    response = client.get(f"{EVENTS}?format=csv&country=CN")
    after = datetime.datetime.now(UTC)

    stamp = re.search(r"_(\d{4}-\d{2}-\d{2}T\d{4})Z\.csv", response["Content-Disposition"])
    moment = datetime.datetime.strptime(stamp.group(1), "%Y-%m-%dT%H%M").replace(tzinfo=UTC)
    assert before <= moment <= after
    assert "country-CN" in response["Content-Disposition"]


def test_csv_header_row_is_the_documented_column_names(client, rich_event):
    text = streamed_text(client.get(f"{EVENTS}?format=csv"))

    assert parse_csv(text)[0] == exports.COLUMN_NAMES
    assert text.splitlines()[0] == ",".join(exports.COLUMN_NAMES)


@pytest.mark.parametrize("ordering", ["", "date", "-date", "updated", "-updated"])
def test_csv_holds_the_whole_filtered_set_in_the_json_lists_order(client, taxonomy, ordering):
    wechat = PlatformFactory(slug="wechat")
    other = PlatformFactory(slug="other")
    on_wechat = many_events(130, event_type=taxonomy, platform=wechat)
    many_events(5, event_type=taxonomy, platform=other)
    EventFactory(event_type=taxonomy).platforms.add(wechat)  # a draft on the platform
    query = "platform=wechat" + (f"&ordering={ordering}" if ordering else "")

    rows = get_csv(client, query)
    listed = walk_json(client, query)

    assert len(rows) == 130
    assert [row["id"] for row in rows] == [item["id"] for item in listed]
    assert {row["id"] for row in rows} == {event.public_id for event in on_wechat}


def test_csv_rows_follow_the_json_list_across_export_chunks(client, taxonomy, monkeypatch):
    """Keyset chunks with ties on the sort key neither skip nor repeat a row."""
    chunked = exports.keyset_chunks
    monkeypatch.setattr(
        exports, "keyset_chunks", lambda export, fetch, size=None: chunked(export, fetch, size=4)
    )
    events = many_events(17, event_type=taxonomy, dates=("2014-05-27", "2014-05-27", "2013"))
    tie = datetime.datetime(2026, 3, 1, tzinfo=UTC)
    for event in events[:9]:
        set_times(event, updated=tie)

    for ordering in ("date", "-date", "updated", "-updated"):
        listed = [item["id"] for item in walk_json(client, f"ordering={ordering}&page_size=5")]
        exported = [row["id"] for row in get_csv(client, f"ordering={ordering}")]
        ndjson = client.get(f"{EVENTS}?format=ndjson&ordering={ordering}")
        lines = [json.loads(line)["id"] for line in streamed_text(ndjson).splitlines()]
        timeline = json.loads(
            streamed_text(client.get(f"{EVENTS}?format=timelinejs&ordering={ordering}"))
        )
        slides = [slide["unique_id"] for slide in timeline["events"]]
        assert len(listed) == 17
        assert exported == listed, ordering
        assert lines == listed, ordering
        assert slides == listed, ordering


def test_csv_reads_back_with_pandas(client, rich_timeline):
    text = streamed_text(client.get(f"{EVENTS}?format=csv"))

    frame = pd.read_csv(io.StringIO(text))

    assert frame.shape == (len(rich_timeline), len(exports.COLUMN_NAMES))
    assert list(frame.columns) == exports.COLUMN_NAMES
    assert list(frame["id"]) == [row["id"] for row in csv_records(text)]
    assert set(frame["id"]) == {event.public_id for event in rich_timeline}
    summaries = dict(zip(frame["id"], frame["summary"], strict=True))
    assert summaries[rich_timeline[0].public_id] == 'Quote, "quoted", and\nnew lines\nagain.'


def test_csv_cells_are_written_as_documented(client, rich_event):
    (row,) = get_csv(client)

    assert row == {
        "id": rich_event.public_id,
        "title": "WeChat removes public accounts",
        "summary": 'Tencent said "rumours", then, removed them.\nA second line.',
        "title_original": "",
        "summary_original": "",
        "original_language": "",
        "date": "2014-03",
        "date_display": "March 2014",
        "date_earliest": "2014-03-01",
        "date_latest": "2014-03-31",
        "date_precision": "month",
        "date_is_approximate": "false",
        "date_is_uncertain": "false",
        "is_ongoing": "false",
        "type": "account-removal",
        "type_name": "Account removal",
        "category": "content-control",
        "category_name": "Content control",
        "country": "CN",
        "is_global": "false",
        "locality": "Beijing",
        "latitude": "39.90420",
        "longitude": "116.40740",
        "actors": "习近平 (ordered or decided); Tencent (operated the affected platform)",
        "platforms": "微信; Weibo",
        "tags": "instant messaging",
        "counts": "more than 40 accounts (public ones); about 3 people",
        "verification": "corroborated",
        "sources": "Tencent cracks down (ChinaTopix, 2014-05-28) <https://example.org/a>; Notice",
        "source_urls": "https://example.org/a",
        "quotes": 'over 40 accounts, removed; he said "stop"',
        "first_published_at": "2026-11-28T09:00:00.000000Z",
        "updated_at": "2026-11-28T10:30:00.123456Z",
        "url": f"{PAGE_BASE}{rich_event.public_id}/",
    }


def test_ongoing_global_event_cells(client, taxonomy):
    event = EventFactory(
        published=True, event_type=taxonomy, date_text="2009-07-07/..", country="", is_global=True
    )

    (row,) = get_csv(client)

    assert row["id"] == event.public_id
    assert (row["date_earliest"], row["date_latest"]) == ("2009-07-07", "")
    assert (row["is_ongoing"], row["is_global"], row["country"]) == ("true", "true", "")
    assert (row["actors"], row["platforms"], row["sources"], row["quotes"]) == ("", "", "", "")


def test_empty_coordinates_are_empty_cells(client, taxonomy):
    EventFactory(published=True, event_type=taxonomy, latitude=None, longitude=None)

    (row,) = get_csv(client)

    assert (row["latitude"], row["longitude"]) == ("", "")


def test_zero_latitude_and_negative_longitude_are_plain_numbers(client, taxonomy):
    EventFactory(
        published=True, event_type=taxonomy, latitude=Decimal("0"), longitude=Decimal("-122.4194")
    )

    (row,) = get_csv(client)

    assert row["latitude"] == "0.00000"
    assert row["longitude"] == "-122.41940"


# Formula neutralisation ------------------------------------------------------------------

NEUTRALISED_COLUMNS = (
    "title",
    "summary",
    "locality",
    "actors",
    "platforms",
    "tags",
    "sources",
    "quotes",
)


def formula_event(start, event_type):
    event = EventFactory(
        published=True,
        title=f'{start}HYPERLINK("http://x")',
        summary=f"{start}1+1",
        locality=f"{start}cmd",
        event_type=event_type,
        latitude=Decimal("-33.86880"),
        longitude=Decimal("-151.20930"),
    )
    role(event, ActorFactory(name=f"{start}SUM(A1)"))
    add_platforms(event, PlatformFactory(name=f"{start}Platform"))
    add_tags(event, TagFactory(name=f"{start}tag"))
    CitationFactory(event=event, source=SourceFactory(title=f"{start}Source"), quote=f"{start}2+3")
    return event


def expected_formula_cells(start, event):
    source = event.citations.get().source
    return {
        "title": f'\'{start}HYPERLINK("http://x")',
        "summary": f"'{start}1+1",
        "locality": f"'{start}cmd",
        "actors": f"'{start}SUM(A1) (ordered or decided)",
        "platforms": f"'{start}Platform",
        "tags": f"'{start}tag",
        "sources": f"'{start}Source ({source.publisher}) <{source.url}>",
        "quotes": f"'{start}2+3",
    }


@pytest.mark.parametrize(
    "start",
    [pytest.param(start, id=repr(start)) for start in DANGEROUS_STARTS],
)
def test_text_cells_starting_like_a_formula_get_an_apostrophe(client, taxonomy, start):
    event = formula_event(start, taxonomy)

    (row,) = get_csv(client)

    assert {name: row[name] for name in NEUTRALISED_COLUMNS} == expected_formula_cells(start, event)
    untouched = [name for name in exports.COLUMN_NAMES if name not in NEUTRALISED_COLUMNS]
    assert not [name for name in untouched if row[name].startswith("'")]
    assert row["latitude"] == "-33.86880"
    assert row["longitude"] == "-151.20930"
    assert row["id"] == event.public_id


@pytest.mark.parametrize("start", DANGEROUS_STARTS[:5], ids=repr)
def test_formula_characters_inside_a_cell_are_left_alone(client, taxonomy, start):
    EventFactory(
        published=True,
        title=f"Anti{start}censorship",
        summary=f"1{start}1",
        event_type=taxonomy,
        longitude=Decimal("-1.5"),
        latitude=Decimal("-0.5"),
    )

    (row,) = get_csv(client)

    assert row["title"] == f"Anti{start}censorship"
    assert row["summary"] == f"1{start}1"
    assert (row["latitude"], row["longitude"]) == ("-0.50000", "-1.50000")
    assert not [name for name, cell in row.items() if cell.startswith("'")]


def test_joined_cell_is_neutralised_when_its_first_item_is_dangerous(client, taxonomy):
    event = EventFactory(published=True, event_type=taxonomy)
    add_platforms(event, PlatformFactory(name="=Evil"), PlatformFactory(name="Plain"))
    add_tags(event, TagFactory(name="plain"), TagFactory(name="-dangerous later"))

    (row,) = get_csv(client)

    assert row["platforms"] == "'=Evil; Plain"
    assert row["tags"] == "plain; -dangerous later"


def test_cells_holding_a_carriage_return_still_parse(client, taxonomy):
    event = EventFactory(
        published=True, title="Line one\rline two", summary="\rstarts with CR", event_type=taxonomy
    )

    (row,) = get_csv(client)

    assert row["id"] == event.public_id
    assert row["title"] == "Line one\rline two"
    assert row["summary"] == "'\rstarts with CR"


# CSV writers: COPY on PostgreSQL, Python elsewhere ---------------------------------------


def writer_text(stream):
    return "".join(chunk.decode() if isinstance(chunk, bytes) else chunk for chunk in stream)


def export_of(queryset, ordering):
    return exports.Export(queryset, ordering, Bases(PAGE_BASE, "http://testserver/api/v1/events/"))


def both_writers(queryset, ordering):
    """Return the Python writer's rows and COPY's, checking COPY's two shapes agree."""
    export = export_of(queryset, ordering)
    python = writer_text(exports.python_csv_stream(export))
    copies = {}
    # Read as a few of the events (no share is that large), then as most of the table.
    for threshold in (2.0, 0.0):
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(exports, "MOST_OF_THE_TABLE", threshold)
            copies[threshold] = writer_text(exports.copy_stream(export, "cell"))
    assert copies[2.0] == copies[0.0]
    return parse_csv(python), parse_csv(copies[2.0])


@pytest.mark.postgres
@pytest.mark.parametrize("ordering", ["date", "-date", "updated", "-updated"])
def test_copy_and_python_writers_give_the_same_rows(rich_timeline, ordering):
    python_rows, copy_rows = both_writers(Event.objects.published(), ordering)

    assert len(copy_rows) == 1 + len(rich_timeline)
    assert copy_rows == python_rows


@pytest.mark.postgres
@pytest.mark.parametrize(
    "query",
    [
        "platform=wechat",
        "q=微信",
        "country=global&country=CN",
        "date_from=2014-04&actor=xi-jinping",
    ],
)
def test_copy_and_python_writers_agree_on_filtered_sets(rich_timeline, query):
    filterset = EventFilterSet(data=QueryDict(query), queryset=Event.objects.published())
    assert filterset.is_valid(), filterset.errors

    python_rows, copy_rows = both_writers(filterset.qs, filterset.sort_order)

    assert len(copy_rows) > 1
    assert copy_rows == python_rows


@pytest.mark.postgres
def test_copy_and_python_writers_agree_on_carriage_returns(taxonomy):
    EventFactory(
        published=True, title="Line one\rline two", summary="\r+starts with CR", event_type=taxonomy
    )

    python_rows, copy_rows = both_writers(Event.objects.published(), "date")

    assert copy_rows == python_rows


@pytest.mark.postgres
def test_api_csv_on_postgresql_is_written_by_copy(client, rich_timeline, monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("the Python writer must not run on PostgreSQL")

    monkeypatch.setattr(exports, "python_csv_stream", refuse)

    rows = get_csv(client, "platform=wechat")

    assert {row["id"] for row in rows} == {
        event.public_id for event in rich_timeline if event.platforms.filter(slug="wechat")
    }


@pytest.mark.skipif(ON_POSTGRESQL, reason="SQLite and other databases only")
def test_api_csv_elsewhere_is_written_in_python(client, rich_timeline, monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("COPY is PostgreSQL only")

    monkeypatch.setattr(exports, "copy_stream", refuse)

    rows = get_csv(client)

    assert [row["id"] for row in rows] == [item["id"] for item in walk_json(client)]


def test_csv_export_queries_do_not_grow_with_the_number_of_events(client, taxonomy, wechat):
    def add_events(number):
        for event in many_events(number, event_type=taxonomy, platform=wechat):
            role(event, ActorFactory())
            add_tags(event, TagFactory())
            count(event, choices.CountQualifier.ABOUT, 5, choices.CountUnit.POSTS)
            CitationFactory(event=event)

    def queries():
        cache.clear()
        with CaptureQueriesContext(connection) as context:
            rows = get_csv(client, "platform=wechat")
        return len(rows), len(context.captured_queries)

    add_events(30)
    rows_30, queries_30 = queries()
    add_events(30)
    rows_60, queries_60 = queries()

    assert (rows_30, rows_60) == (30, 60)
    assert queries_60 == queries_30
    assert queries_30 <= 12


# NDJSON ----------------------------------------------------------------------------------


def test_ndjson_lines_are_the_json_list_items(client, rich_timeline):
    related = EventFactory(
        published=True, title="Follow-up", event_type=rich_timeline[0].event_type
    )
    EventRelation.objects.create(
        from_event=rich_timeline[0], to_event=related, relation_type="precedes"
    )

    response = client.get(f"{EVENTS}?format=ndjson&ordering=-date")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/x-ndjson")
    assert re.search(
        r'filename="censorship-timeline_ordering--date_[^"]+\.ndjson"',
        response["Content-Disposition"],
    )
    text = streamed_text(response)
    assert text.endswith("\n")
    lines = [json.loads(line) for line in text.splitlines()]
    assert lines == walk_json(client, "ordering=-date&page_size=2")
    assert len(lines) == len(rich_timeline) + 1
    assert any(line["relations"] for line in lines)


def test_ndjson_follows_the_filters(client, rich_timeline):
    text = streamed_text(client.get(f"{EVENTS}?format=ndjson&country=global"))

    (line,) = [json.loads(line) for line in text.splitlines()]

    assert line["id"] == rich_timeline[1].public_id
    assert line == walk_json(client, "country=global")[0]


# TimelineJS ------------------------------------------------------------------------------


def timelinejs(client, query=""):
    response = client.get(f"{EVENTS}?format=timelinejs{'&' + query if query else ''}")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    return json.loads(streamed_text(response))


@pytest.mark.parametrize(
    ("date_text", "start", "end"),
    [
        ("2014-05-27", {"year": 2014, "month": 5, "day": 27}, None),
        ("2014-03", {"year": 2014, "month": 3}, None),
        ("2014", {"year": 2014}, None),
        ("2014-04~", {"year": 2014, "month": 4}, None),
        ("201X", {"year": 2010}, None),
        (
            "2014-05-27/2014-06-27",
            {"year": 2014, "month": 5, "day": 27},
            {"year": 2014, "month": 6, "day": 27},
        ),
        ("2014-05/2014-08", {"year": 2014, "month": 5}, {"year": 2014, "month": 8}),
        ("2009-07-07/..", {"year": 2009, "month": 7, "day": 7}, None),
    ],
)
def test_timelinejs_dates_are_as_precise_as_the_event(client, taxonomy, date_text, start, end):
    event = EventFactory(published=True, event_type=taxonomy, date_text=date_text)

    (slide,) = timelinejs(client)["events"]

    assert slide["unique_id"] == event.public_id
    assert slide["start_date"] == start
    assert slide.get("end_date") == end
    assert slide["display_date"] == event.date_display


def test_timelinejs_end_date_is_the_stated_end_of_an_approximate_span(client, taxonomy):
    EventFactory(published=True, event_type=taxonomy, date_text="2014-05/2014-06~")

    (slide,) = timelinejs(client)["events"]

    assert slide["start_date"] == {"year": 2014, "month": 5}
    assert slide["end_date"] == {"year": 2014, "month": 6}


def test_timelinejs_slide_cites_its_sources_as_links_in_its_text(client, rich_event):
    document = timelinejs(client)

    assert document["title"]["text"]["headline"] == "Censorship Timeline"
    (slide,) = document["events"]
    assert slide == {
        "unique_id": rich_event.public_id,
        "start_date": {"year": 2014, "month": 3},
        "display_date": "March 2014",
        "text": {
            "headline": rich_event.title,
            "text": (
                "<p>Tencent said &quot;rumours&quot;, then, removed them.<br>A second line.</p>"
                "<p>Sources: "
                '<a href="https://example.org/a" target="_blank" rel="noopener">'
                "Tencent cracks down (ChinaTopix, 2014-05-28)</a>; Notice</p>"
                f'<p><a href="http://testserver/events/{rich_event.public_id}/" '
                'target="_blank" rel="noopener">The event, its quotes and history</a></p>'
            ),
        },
        "group": "Content control",
    }


@pytest.mark.parametrize(
    "url",
    [
        "https://example.org/photos/raid.JPG",
        "https://example.org/clip.mp4",
        "https://www.youtube.com/watch?v=abc",
        "https://youtu.be/abc",
        "https://vimeo.com/123",
    ],
)
def test_timelinejs_media_only_for_what_timelinejs_can_show(client, taxonomy, url):
    event = EventFactory(published=True, event_type=taxonomy)
    CitationFactory(event=event, source=SourceFactory(url="https://example.org/article"))
    CitationFactory(event=event, source=SourceFactory(url=url, title="Footage", publisher=""))

    (slide,) = timelinejs(client)["events"]

    assert slide["media"] == {"url": url, "credit": "Footage"}
    assert 'href="https://example.org/article"' in slide["text"]["text"]


@pytest.mark.parametrize(
    "url",
    ["", "https://example.org/article", "https://example.org/a.jpg.html", "https://x.org/?f=a.png"],
)
def test_timelinejs_slide_has_no_media_for_an_article_or_no_url(client, taxonomy, url):
    event = EventFactory(published=True, event_type=taxonomy)
    CitationFactory(event=event, source=SourceFactory(url=url))

    (slide,) = timelinejs(client)["events"]

    assert "media" not in slide


HOSTILE = '<script>alert(1)</script><img src=x onerror="alert(2)">'


def test_timelinejs_writes_curators_text_as_escaped_html(client, taxonomy):
    event = EventFactory(
        published=True, event_type=taxonomy, title=f"Raid {HOSTILE}", summary=f"Summary {HOSTILE}"
    )
    CitationFactory(
        event=event,
        source=SourceFactory(
            title=f"Report {HOSTILE}",
            publisher="<b>Press</b>",
            url="https://example.org/photo.png",
        ),
    )

    document = timelinejs(client)

    (slide,) = document["events"]
    written = json.dumps(slide)
    assert "<script" not in written and "<img" not in written and "<b>" not in written
    assert slide["text"]["headline"] == (
        "Raid &lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=&quot;alert(2)&quot;&gt;"
    )
    assert "&lt;script&gt;" in slide["text"]["text"]
    assert slide["media"]["credit"].startswith("Report &lt;script&gt;")
    assert "(&lt;b&gt;Press&lt;/b&gt;" in slide["media"]["credit"]


def test_timelinejs_follows_filters_and_order(client, rich_timeline):
    slides = timelinejs(client, "platform=wechat&ordering=-date")["events"]

    listed = walk_json(client, "platform=wechat&ordering=-date")
    assert [slide["unique_id"] for slide in slides] == [item["id"] for item in listed]
    assert len(slides) == 3


# Detail exports --------------------------------------------------------------------------


def test_detail_csv_is_that_one_event(client, rich_timeline):
    event = rich_timeline[2]

    response = client.get(f"{EVENTS}{event.public_id}/?format=csv")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"] == (
        f'attachment; filename="censorship-timeline_{event.public_id}.csv"'
    )
    (row,) = csv_records(streamed_text(response))
    everything = {item["id"]: item for item in get_csv(client)}
    assert row == everything[event.public_id]


def test_detail_ndjson_is_that_one_event(client, rich_timeline):
    event = rich_timeline[0]

    response = client.get(f"{EVENTS}{event.public_id}/?format=ndjson")

    (line,) = streamed_text(response).splitlines()
    assert json.loads(line) == client.get(f"{EVENTS}{event.public_id}/").json()


# What never leaves the building ------------------------------------------------------------


@pytest.fixture
def hidden_world(taxonomy, wechat):
    """A published event next to drafts, reviews and retractions, with private text about."""
    public = EventFactory(
        published=True,
        title="Public event",
        event_type=taxonomy,
        internal_notes="INTERNAL-NOTE-MARKER",
    )
    add_platforms(public, wechat)
    source = SourceFactory(title="Public source", full_text="FULL-TEXT-MARKER")
    CitationFactory(event=public, source=source, quote="a public quote")
    hidden = []
    for status in (
        choices.EventStatus.DRAFT,
        choices.EventStatus.IN_REVIEW,
        choices.EventStatus.RETRACTED,
    ):
        event = EventFactory(
            status=status,
            title=f"HIDDEN-TITLE-{status}",
            summary=f"HIDDEN-SUMMARY-{status}",
            event_type=taxonomy,
            internal_notes="INTERNAL-NOTE-MARKER",
        )
        add_platforms(event, wechat)
        CitationFactory(event=event, source=source, quote=f"HIDDEN-QUOTE-{status}")
        EventRelation.objects.create(from_event=public, to_event=event, relation_type="related")
        hidden.append(event)
    Event.objects.filter(status=choices.EventStatus.RETRACTED).update(
        first_published_at=datetime.datetime(2026, 1, 1, tzinfo=UTC)
    )
    return public, hidden


@pytest.mark.parametrize("fmt", ["csv", "ndjson", "timelinejs"])
def test_exports_hold_only_published_events_and_no_private_text(client, hidden_world, fmt):
    public, hidden = hidden_world

    response = client.get(f"{EVENTS}?format={fmt}&platform=wechat")
    text = streamed_text(response)

    assert public.public_id in text
    assert "HIDDEN" not in text
    assert "INTERNAL-NOTE-MARKER" not in text
    assert "FULL-TEXT-MARKER" not in text
    for event in hidden:
        assert event.public_id not in text


@pytest.mark.parametrize("fmt", ["csv", "ndjson", "timelinejs"])
def test_detail_export_of_a_non_public_event_is_not_found(client, hidden_world, fmt):
    _public, hidden = hidden_world

    for event in hidden:
        response = client.get(f"{EVENTS}{event.public_id}/?format={fmt}")
        assert response.status_code == 404
        assert response["Content-Type"].startswith("application/json")
        assert "HIDDEN" not in response.content.decode()


def test_command_exports_hold_no_private_text(hidden_world, tmp_path):
    public, _hidden = hidden_world
    for fmt in ("csv", "ndjson", "timelinejs"):
        path = tmp_path / f"export.{fmt}"
        call_command("export_timeline", "--format", fmt, "--output", str(path))
        text = path.read_text(encoding="utf-8")
        assert public.public_id in text
        assert "HIDDEN" not in text
        assert "MARKER" not in text


# Errors ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "extra", "named"),
    [
        ("format=csv&date_from=yesterday", {}, "date_from"),
        ("format=csv&platfrom=wechat", {}, "platfrom"),
        ("format=csv&platform=no-such-platform", {}, "platform"),
        ("date_to=2014-13", {"HTTP_ACCEPT": "text/csv"}, "date_to"),
        ("format=ndjson&ongoing=maybe", {}, "ongoing"),
        ("format=timelinejs&ordering=sideways", {}, "ordering"),
    ],
)
def test_bad_filter_in_an_export_is_answered_in_json(client, rich_event, query, extra, named):
    response = client.get(f"{EVENTS}?{query}", **extra)

    assert response.status_code == 400
    assert response["Content-Type"].startswith("application/json")
    assert "Content-Disposition" not in response
    body = json.loads(response.content)
    assert named in body["errors"]
    assert body["detail"]


# The export_timeline command -------------------------------------------------------------


def export_command(tmp_path, fmt, *filters, base_url="http://testserver"):
    path = tmp_path / f"out.{fmt}"
    call_command(
        "export_timeline", "--format", fmt, "--output", str(path), "--base-url", base_url, *filters
    )
    return path.read_text(encoding="utf-8")


def test_command_csv_is_the_api_csv(client, rich_timeline, tmp_path):
    written = export_command(tmp_path, "csv", "platform=wechat")

    rows = csv_records(written)
    assert len(rows) == 3
    assert rows == get_csv(client, "platform=wechat")


def test_command_csv_links_pages_with_the_base_url(rich_event, tmp_path):
    written = export_command(tmp_path, "csv", base_url="https://timeline.example.org/")

    (row,) = csv_records(written)
    assert row["url"] == f"https://timeline.example.org/events/{rich_event.public_id}/"


def test_command_repeats_filters_as_the_api_does(client, rich_timeline, tmp_path):
    written = export_command(tmp_path, "csv", "country=IR", "country=US", "ordering=-date")

    rows = csv_records(written)
    assert [row["id"] for row in rows] == [rich_timeline[3].public_id, rich_timeline[2].public_id]
    assert rows == get_csv(client, "country=IR&country=US&ordering=-date")


def test_command_ndjson_is_the_api_ndjson(client, rich_timeline, tmp_path):
    written = export_command(tmp_path, "ndjson", "platform=wechat")

    api = streamed_text(client.get(f"{EVENTS}?format=ndjson&platform=wechat"))
    assert [json.loads(line) for line in written.splitlines()] == [
        json.loads(line) for line in api.splitlines()
    ]
    assert len(written.splitlines()) == 3


def test_command_timelinejs_is_the_api_timelinejs(client, rich_timeline, tmp_path):
    written = export_command(tmp_path, "timelinejs", "date_from=2014")

    assert json.loads(written) == timelinejs(client, "date_from=2014")
    assert len(json.loads(written)["events"]) == 4


@pytest.mark.parametrize(
    ("filters", "message"),
    [
        (["nope=1"], "Unknown filter 'nope'"),
        (["platformwechat"], "'platformwechat' is not name=value"),
        (["date_from=yesterday"], "date_from"),
        (["platform=no-such-platform"], "no published event has this platform"),
        (["ongoing=maybe"], "ongoing"),
    ],
)
def test_command_refuses_bad_filters_with_a_clear_message(rich_event, tmp_path, filters, message):
    path = tmp_path / "never.csv"

    with pytest.raises(CommandError, match=re.escape(message)):
        call_command("export_timeline", "--output", str(path), *filters)
    assert not path.exists()


@pytest.mark.postgres
@pytest.mark.parametrize("threshold", [2.0, 0.0])
def test_ndjson_by_copy_is_the_json_list_in_either_shape(
    client, rich_timeline, threshold, monkeypatch
):
    related = EventFactory(
        published=True, title="Follow-up", event_type=rich_timeline[0].event_type
    )
    EventRelation.objects.create(
        from_event=rich_timeline[0], to_event=related, relation_type="precedes"
    )
    monkeypatch.setattr(exports, "MOST_OF_THE_TABLE", threshold)  # a few events, or most
    stream = exports.copy_stream(export_of(Event.objects.published(), "date"), "json")

    lines = [json.loads(line) for line in writer_text(stream).splitlines()]

    assert lines == walk_json(client)
    assert any(item["relations"] for item in lines)
