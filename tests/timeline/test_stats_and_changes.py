"""Counts by dimension (/api/v1/stats/) and the change feed (/api/v1/changes/)."""

import datetime
import time
from urllib.parse import quote

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.utils import timezone

from events import choices
from events.models import Event, EventActor, EventRelation, PublicChange, PublicVersion
from tests.factories import (
    ActorFactory,
    CitationFactory,
    EventCategoryFactory,
    EventFactory,
    EventTypeFactory,
    PlatformFactory,
)
from timeline.stats import GROUPS

pytestmark = pytest.mark.django_db

STATS = "/api/v1/stats/"
CHANGES = "/api/v1/changes/"
UTC = datetime.UTC
Role = choices.Role
Verification = choices.Verification


@pytest.fixture(autouse=True)
def fresh_throttle():
    cache.clear()
    yield
    cache.clear()


def moment(month, day=1, hour=0):
    return datetime.datetime(2026, month, day, hour, tzinfo=UTC)


def set_times(event, **values):
    """Pin timestamps with update(), which leaves auto_now alone."""
    Event.objects.filter(pk=event.pk).update(**values)
    event.refresh_from_db()
    return event


# Stats -----------------------------------------------------------------------------------


@pytest.fixture
def world():
    """Five published events and two hidden ones that share every dimension with them."""
    control = EventCategoryFactory(name="Content control", slug="content-control")
    arrests = EventCategoryFactory(name="Arrests", slug="arrests")
    removal = EventTypeFactory(category=control, name="Account removal", slug="account-removal")
    keywords = EventTypeFactory(category=control, name="Keyword filtering", slug="keywords")
    arrest = EventTypeFactory(category=arrests, name="Arrest", slug="arrest")
    wechat = PlatformFactory(name="WeChat", slug="wechat")
    weibo = PlatformFactory(name="Weibo", slug="weibo")
    tencent = ActorFactory(name="Tencent", slug="tencent")
    cac = ActorFactory(name="Cyberspace Administration", slug="cac")

    def event(date_text, event_type, platforms=(), roles=(), status="published", **kwargs):
        created = EventFactory(status=status, date_text=date_text, event_type=event_type, **kwargs)
        for platform in platforms:
            created.platforms.add(platform)
        for actor, role in roles:
            EventActor.objects.create(event=created, actor=actor, role=role)
        return created

    events = {
        "e1": event(
            "2014-03-10",
            removal,
            [wechat, weibo],
            [(tencent, Role.OPERATED_PLATFORM), (tencent, Role.RESPONDED), (cac, Role.ORDERED)],
            verification=Verification.CORROBORATED,
        ),
        "e2": event("2014-03", removal, [wechat], [(cac, Role.ORDERED)]),
        "e3": event(
            "2014-07-01",
            keywords,
            [weibo],
            [(tencent, Role.TARGETED)],
            country="IR",
            verification=Verification.CONFIRMED,
        ),
        "e4": event("2015-02-01", arrest, country="", is_global=True),
        "e5": event("2013-12-31", arrest, [wechat]),
    }
    for status in (choices.EventStatus.DRAFT, choices.EventStatus.RETRACTED):
        event(
            "2014-03-01",
            removal,
            [wechat, weibo],
            [(cac, Role.ORDERED), (tencent, Role.TARGETED)],
            status=status,
            verification=Verification.DISPUTED,
            country="IR",
        )
    return events


def stats(client, query):
    response = client.get(f"{STATS}?{query}")
    assert response.status_code == 200, response.content
    body = response.json()
    assert set(body) == {"group_by", "total", "results"}
    return body


def rows(body):
    return [(row["key"], row["label"], row["count"]) for row in body["results"]]


def assert_by_count(body):
    counts = [row["count"] for row in body["results"]]
    assert counts == sorted(counts, reverse=True)


ROLE_LABELS = dict(Role.choices)
EXPECTED = {
    "month": [
        ("2013-12", "December 2013", 1),
        ("2014-03", "March 2014", 2),
        ("2014-07", "July 2014", 1),
        ("2015-02", "February 2015", 1),
    ],
    "year": [("2013", "2013", 1), ("2014", "2014", 3), ("2015", "2015", 1)],
    "type": [
        ("account-removal", "Account removal", 2),
        ("arrest", "Arrest", 2),
        ("keywords", "Keyword filtering", 1),
    ],
    "category": [("content-control", "Content control", 3), ("arrests", "Arrests", 2)],
    "country": {("CN", "China", 3), ("IR", "Iran", 1), ("global", "Global", 1)},
    "platform": [("wechat", "WeChat", 3), ("weibo", "Weibo", 2), (None, "None", 1)],
    "actor": {
        ("tencent", "Tencent", 2),
        ("cac", "Cyberspace Administration", 2),
        (None, "None", 2),
    },
    "role": {
        ("ordered", ROLE_LABELS["ordered"], 2),
        (None, "None", 2),
        ("operated_platform", ROLE_LABELS["operated_platform"], 1),
        ("responded", ROLE_LABELS["responded"], 1),
        ("targeted", ROLE_LABELS["targeted"], 1),
    },
    "verification": [
        ("single_source", "Reported by one source", 3),
        ("confirmed", dict(Verification.choices)["confirmed"], 1),
        ("corroborated", dict(Verification.choices)["corroborated"], 1),
    ],
}


def test_every_group_is_covered():
    assert set(EXPECTED) == set(GROUPS)


@pytest.mark.parametrize("group_by", list(EXPECTED))
def test_stats_count_published_events_by_group(client, world, group_by):
    body = stats(client, f"group_by={group_by}")

    assert body["group_by"] == group_by
    assert body["total"] == 5
    expected = EXPECTED[group_by]
    if isinstance(expected, set):
        assert set(rows(body)) == expected
        assert len(body["results"]) == len(expected)
    else:
        assert rows(body) == expected
    if group_by not in ("month", "year"):
        assert_by_count(body)


def test_month_and_year_groups_run_in_date_order(client, world):
    for group_by in ("month", "year"):
        keys = [row["key"] for row in stats(client, f"group_by={group_by}")["results"]]
        assert keys == sorted(keys)


def test_event_with_two_roles_of_one_actor_counts_once_for_that_actor(client, world):
    counts = {row["key"]: row["count"] for row in stats(client, "group_by=actor")["results"]}

    assert counts["tencent"] == 2  # e1 (two roles) and e3


def test_event_on_two_platforms_counts_once_per_platform(client, world):
    body = stats(client, "group_by=platform&platform=weibo")

    assert body["total"] == 2
    assert rows(body) == [("weibo", "Weibo", 2), ("wechat", "WeChat", 1)]


@pytest.mark.parametrize(
    ("query", "total", "expected"),
    [
        (
            "group_by=type&platform=wechat",
            3,
            [("account-removal", "Account removal", 2), ("arrest", "Arrest", 1)],
        ),
        ("group_by=year&date_from=2014", 4, [("2014", "2014", 3), ("2015", "2015", 1)]),
        ("group_by=country&country=global", 1, [("global", "Global", 1)]),
        (
            "group_by=verification&actor=tencent",
            2,
            [("confirmed", "Confirmed", 1), ("corroborated", "Corroborated", 1)],
        ),
        ("group_by=month&date_from=2014-03&date_to=2014-03", 2, [("2014-03", "March 2014", 2)]),
        # Groups count the selected events by every role in them, not only the filtered one.
        (
            "group_by=role&actor=cac&role=ordered",
            2,
            [
                ("ordered", ROLE_LABELS["ordered"], 2),
                ("operated_platform", ROLE_LABELS["operated_platform"], 1),
                ("responded", ROLE_LABELS["responded"], 1),
            ],
        ),
    ],
)
def test_stats_honour_the_events_filters(client, world, query, total, expected):
    body = stats(client, query)

    if "verification" in query:
        labels = dict(Verification.choices)
        expected = [(key, labels[key], count) for key, _label, count in expected]
    assert body["total"] == total
    assert rows(body) == expected


def test_stats_total_matches_the_events_list(client, world):
    listed = client.get("/api/v1/events/?platform=wechat&count=true").json()["count"]

    assert stats(client, "group_by=platform&platform=wechat")["total"] == listed == 3


def test_stats_of_an_empty_selection(client, world):
    body = stats(client, "group_by=type&date_from=2020")

    assert body == {"group_by": "type", "total": 0, "results": []}


@pytest.mark.parametrize("query", ["", "group_by=", "group_by=colour", "group_by=Month"])
def test_stats_need_a_known_group_by(client, world, query):
    response = client.get(f"{STATS}?{query}")

    assert response.status_code == 400
    assert response["Content-Type"].startswith("application/json")
    errors = response.json()["errors"]
    assert "group_by" in errors
    assert "month" in " ".join(errors["group_by"])


@pytest.mark.parametrize(
    ("query", "named"),
    [
        ("group_by=type&colour=red", "colour"),
        ("group_by=type&date_from=yesterday", "date_from"),
        ("group_by=type&platform=no-such-platform", "platform"),
    ],
)
def test_stats_refuse_unknown_or_bad_parameters(client, world, query, named):
    response = client.get(f"{STATS}?{query}")

    assert response.status_code == 400
    assert named in response.json()["errors"]


# Change feed -----------------------------------------------------------------------------
#
# The feed lists the public change log (events.models.PublicChange), which the database's
# triggers write in commit order. A history is built here as it happens, one committed
# change after another.


def change(event, **values):
    """Commit one change to an event as any write path would: its updated_at moves on."""
    time.sleep(0.002)  # SQLite keeps the log's moments to the millisecond
    Event.objects.filter(pk=event.pk).update(updated_at=timezone.now(), **values)
    event.refresh_from_db()
    return event


@pytest.fixture
def history():
    """Events at every stage of a public life; `since` and `after` mark the middle of it."""
    event_type = EventTypeFactory()

    def event(title, status="published"):
        created = EventFactory(
            status=status, event_type=event_type, title=title, summary=f"{title} summary"
        )
        CitationFactory(event=created)
        return created

    events = {name: event(title) for name, title in EARLY.items()}
    events["never"] = event("NEVER-MARKER", "draft")
    events["never_review"] = event("NEVER-REVIEW-MARKER", "in_review")
    time.sleep(0.002)
    events["since"] = timezone.now()
    events["after"] = client_after()
    events["new"] = event("New news")
    change(events["updated"], title="Changed news")
    change(
        events["retracted"],
        status="retracted",
        retraction_reason="A hoax.",
        retracted_at=timezone.now(),
    )
    change(events["withdrawn"], status="draft")
    change(events["in_review"], status="in_review")
    change(events["never"], title="NEVER-MARKER still")  # a draft: not a public change
    # A public event linked to hidden ones must not carry their titles in its data.
    EventRelation.objects.create(
        from_event=events["new"], to_event=events["retracted"], relation_type="related"
    )
    EventRelation.objects.create(
        from_event=events["withdrawn"], to_event=events["updated"], relation_type="caused"
    )
    return events


EARLY = {
    "old": "Old news",
    "updated": "Old title",
    "retracted": "RETRACTED-MARKER",
    "withdrawn": "WITHDRAWN-MARKER",
    "in_review": "REVIEW-MARKER",
}


def client_after():
    """The position a reader who has read everything so far holds."""
    return Client().get(CHANGES, {"page_size": 1000}).json()["after"]


def walk_changes(client, query):
    url, changes, pages = f"{CHANGES}?{query}", [], 0
    while url:
        response = client.get(url)
        assert response.status_code == 200, response.content
        body = response.json()
        changes += body["results"]
        url = body["next"]
        pages += 1
    return changes, pages


def parse_at(text):
    return datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))


def kinds(changes):
    return [(change["event"], change["change"]) for change in changes]


def later_kinds(history):
    return [
        (history["new"].public_id, "published"),
        (history["updated"].public_id, "updated"),
        (history["retracted"].public_id, "retracted"),
        (history["withdrawn"].public_id, "withdrawn"),
        (history["in_review"].public_id, "withdrawn"),
    ]


def test_changes_after_a_position_name_each_kind_of_change(client, history):
    changes, _pages = walk_changes(client, f"after={history['after']}")

    assert kinds(changes) == later_kinds(history)
    moments = [parse_at(change["at"]) for change in changes]
    assert moments == sorted(moments)
    assert moments[0] >= history["since"] - datetime.timedelta(milliseconds=1)


def test_changes_since_a_moment_name_each_kind_of_change(client, history):
    changes, _pages = walk_changes(client, f"since={quote(history['since'].isoformat())}")

    assert kinds(changes) == later_kinds(history)


def test_changes_carry_the_public_event_or_null(client, history):
    changes, _pages = walk_changes(client, f"after={history['after']}")

    by_event = {change["event"]: change["data"] for change in changes}
    for name in ("new", "updated"):
        public_id = history[name].public_id
        assert by_event[public_id] == client.get(f"/api/v1/events/{public_id}/").json()
    for name in ("retracted", "withdrawn", "in_review"):
        assert by_event[history[name].public_id] is None
    (retracted,) = [c for c in changes if c["event"] == history["retracted"].public_id]
    assert retracted["retraction_reason"] == "A hoax."


def test_changes_show_nothing_of_events_that_are_not_public(client, history):
    for query in ("", f"after={history['after']}", "since=2000-01-01T00:00:00Z"):
        text = client.get(f"{CHANGES}?{query}&page_size=1000").content.decode()
        assert "MARKER" not in text
        assert history["never"].public_id not in text
        assert history["never_review"].public_id not in text


def test_changes_list_each_event_once_at_its_latest_change(client, history):
    changes, _pages = walk_changes(client, "")

    # From the beginning, every public event is new to the reader.
    assert kinds(changes) == [
        (history["old"].public_id, "published"),
        *[
            (event, "published" if kind == "updated" else kind)
            for event, kind in later_kinds(history)
        ],
    ]


def test_a_reader_who_applies_each_page_misses_nothing_and_repeats_nothing(client, history):
    first, _pages = walk_changes(client, "page_size=2")
    position = client.get(CHANGES, {"after": history["after"]}).json()["after"]
    change(history["old"], title="Old news, corrected")

    again = client.get(CHANGES, {"after": position}).json()

    assert len(first) == 6
    assert kinds(again["results"]) == [(history["old"].public_id, "updated")]
    assert again["results"][0]["data"]["title"] == "Old news, corrected"
    assert client.get(CHANGES, {"after": again["after"]}).json()["results"] == []


def test_since_is_inclusive_and_any_time_zone_will_do(client, history):
    since = history["since"].astimezone(datetime.timezone(datetime.timedelta(hours=2)))
    shifted = client.get(CHANGES, {"since": since.isoformat()}).json()["results"]
    exact = client.get(CHANGES, {"since": history["since"].isoformat()}).json()["results"]

    assert shifted == exact
    assert len(exact) == 5


def test_changes_after_the_last_change_are_empty_and_keep_the_position(client, history):
    body = client.get(CHANGES, {"page_size": 1000}).json()
    last = client.get(CHANGES, {"after": body["after"]}).json()

    assert last["results"] == []
    assert last["next"] is None
    assert last["after"] == body["after"]


@pytest.mark.parametrize(
    "since",
    ["yesterday", "2026-06-01T00:00:00", "2026-13-01T00:00:00Z", "2026-06-01"],
)
def test_a_bad_since_is_refused(client, history, since):
    response = client.get(f"{CHANGES}?since={quote(since)}")

    assert response.status_code == 400
    assert response["Content-Type"].startswith("application/json")
    assert "since" in response.json()["errors"]


@pytest.mark.parametrize("after", ["nonsense!", "Yzk5OTk5OTk5OTk5OTk5OTk5OTk5", "eHl6", "%00"])
def test_a_position_the_feed_never_gave_out_is_refused(client, history, after):
    response = client.get(CHANGES, {"after": after})

    assert response.status_code == 400
    assert "after" in response.json()["errors"]


def test_after_and_since_together_are_refused(client, history):
    response = client.get(CHANGES, {"after": history["after"], "since": "2026-01-01T00:00:00Z"})

    assert response.status_code == 400
    assert "after" in response.json()["errors"]


def test_changes_refuse_unknown_parameters(client, history):
    response = client.get(f"{CHANGES}?since=2000-01-01T00:00:00Z&platform=wechat")

    assert response.status_code == 400
    assert "platform" in response.json()["errors"]


def test_next_links_visit_every_change_once(client):
    event_type = EventTypeFactory()
    events = [
        EventFactory(status="published", event_type=event_type, title=f"E{n}") for n in range(11)
    ]
    for event in events[3::4]:
        change(event, status="retracted", retraction_reason="Wrong.", retracted_at=timezone.now())
    EventFactory(event_type=event_type)  # never published
    expected = [e.public_id for e in events if e not in events[3::4]]
    expected += [e.public_id for e in events[3::4]]

    for page_size in (1, 2, 3, 5, 11):
        changes, pages = walk_changes(client, f"page_size={page_size}")
        assert [change["event"] for change in changes] == expected, page_size
        assert pages == -(-len(expected) // page_size)


def test_next_links_keep_to_the_position_and_drop_since(client, history):
    changes, pages = walk_changes(
        client, f"since={quote(history['since'].isoformat())}&page_size=2"
    )

    assert pages == 3
    assert kinds(changes) == later_kinds(history)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, databases="__all__")  # readers may read a replica
def test_a_change_that_commits_late_is_not_missed_by_a_reader_who_read_meanwhile(client):
    event_type = EventTypeFactory()
    slow = EventFactory(status="published", event_type=event_type, title="Before the import")
    position = client.get(CHANGES).json()["after"]
    importer = connection.copy()  # a second connection: a long import, say
    importer.ensure_connection()
    importer.set_autocommit(False)
    try:
        with importer.cursor() as cursor:  # begins first, and takes its time
            cursor.execute(
                "UPDATE events_event SET title = %s, updated_at = %s WHERE id = %s",
                ["Changed by the import", timezone.now(), slow.pk],
            )
        fast = EventFactory(status="published", event_type=event_type, title="Meanwhile")
        meanwhile = client.get(CHANGES, {"after": position}).json()
        importer.commit()  # the earlier change commits last
    finally:
        importer.close()

    later = client.get(CHANGES, {"after": meanwhile["after"]}).json()

    assert kinds(meanwhile["results"]) == [(fast.public_id, "published")]
    assert kinds(later["results"]) == [(slow.public_id, "updated")]
    assert later["results"][0]["data"]["title"] == "Changed by the import"


def test_the_log_counts_on_from_its_last_position_when_the_counter_row_is_gone(client):
    """Django's test flush empties tables in no fixed order: the counter row may go first."""
    event_type = EventTypeFactory()
    kept = EventFactory(status="published", event_type=event_type, title="Kept")
    gone = EventFactory(status="published", event_type=event_type, title="Gone")
    last = PublicChange.objects.order_by("seq").last().seq
    position = client.get(CHANGES).json()["after"]
    PublicVersion.objects.all().delete()

    gone.delete()
    change(kept, title="Kept, edited")

    assert list(PublicChange.objects.filter(seq__gt=last).values_list("status", flat=True)) == [
        "deleted",
        "published",
    ]
    later = client.get(CHANGES, {"after": position}).json()
    assert kinds(later["results"]) == [(gone.public_id, "withdrawn"), (kept.public_id, "updated")]
