"""Atom feeds of new events, read by feedparser as a feed reader would read them."""

import datetime
import re
from datetime import UTC

import feedparser
import pytest

from events import choices
from events.services import event_retract
from tests.factories import (
    CitationFactory,
    EventFactory,
    PlatformFactory,
    SourceFactory,
    member_of,
)
from timeline.feeds import ENTRIES

pytestmark = pytest.mark.django_db

FEED = "/feeds/events.atom"
SITE = "https://timeline.example.org"  # links come from SITE_URL, not from the request


@pytest.fixture(autouse=True)
def site_url(settings):
    settings.SITE_URL = SITE


def day(n):
    return datetime.datetime(2026, 11, n, 9, 0, tzinfo=UTC)


def read(client, **params):
    response = client.get(FEED, params)
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "application/atom+xml; charset=utf-8"
    feed = feedparser.parse(response.content)
    assert not feed.bozo, feed.bozo_exception  # well-formed Atom
    return feed, response


def entry_ids(feed):
    return [entry.id.rstrip("/").rsplit("/", 1)[-1] for entry in feed.entries]


def test_new_events_newest_first_with_summary_date_place_and_sources(client):
    older = EventFactory(published=True, title="Older", date_text="2013", first_published_at=day(1))
    newer = EventFactory(
        published=True,
        title="WeChat removes accounts",
        summary="Over forty accounts were removed.",
        date_text="2014-03",
        country="CN",
        locality="Beijing",
        first_published_at=day(2),
    )
    CitationFactory(
        event=newer,
        source=SourceFactory(title="Tencent cracks down", url="https://example.org/a"),
    )

    feed, _ = read(client)

    assert feed.version == "atom10"
    assert entry_ids(feed) == [newer.public_id, older.public_id]
    entry = feed.entries[0]
    assert entry.title == "WeChat removes accounts"
    assert entry.link == f"{SITE}/events/{newer.public_id}/"
    assert entry.published_parsed[:3] == (2026, 11, 2)
    assert "March 2014 · Beijing, China" in entry.summary
    assert "Over forty accounts were removed." in entry.summary
    assert '<a href="https://example.org/a"' in entry.summary
    assert "Tencent cracks down" in entry.summary
    assert [tag.term for tag in entry.tags] == [
        newer.event_type.name,
        newer.event_type.category.name,
    ]
    assert feed.feed.links[0].href == f"{SITE}/"


def test_drafts_and_events_in_review_never_appear(client):
    EventFactory(published=True, title="Public")
    EventFactory(title="Secret draft")
    EventFactory(title="Secret in review", status=choices.EventStatus.IN_REVIEW)

    feed, response = read(client)

    assert [entry.title for entry in feed.entries] == ["Public"]
    assert b"Secret" not in response.content


def test_the_timeline_filters_choose_the_events(client):
    wechat = PlatformFactory(name="WeChat", slug="wechat")
    chosen = EventFactory(published=True, title="WeChat in China", country="CN")
    chosen.platforms.add(wechat)
    elsewhere = EventFactory(published=True, title="WeChat elsewhere", country="RU")
    elsewhere.platforms.add(wechat)
    EventFactory(published=True, title="No platform", country="CN")

    feed, _ = read(client, platform="wechat", country="CN")

    assert entry_ids(feed) == [chosen.public_id]
    assert feed.feed.title == "Censorship Timeline: platform wechat, country CN"
    assert feed.feed.links[0].href == f"{SITE}/?platform=wechat&country=CN"


def test_a_retraction_is_an_entry_with_only_its_id_date_and_reason(client):
    editor = member_of("Editor", "ana")
    event = EventFactory(
        published=True,
        title="Mistaken raid",
        summary="Words that were wrong.",
        first_published_at=day(1),
    )
    EventFactory(published=True, title="Another", first_published_at=day(2))
    event_retract(event=event, user=editor, reason="The source was a hoax.")

    feed, response = read(client, country="RU")  # matches neither event

    (entry,) = feed.entries
    assert entry.title == f"Retracted: {event.public_id}"
    assert entry.id == f"{SITE}/events/{event.public_id}/"  # the same id as before
    assert "The source was a hoax." in entry.summary
    assert [tag.term for tag in entry.tags] == ["retracted"]
    assert b"Mistaken" not in response.content and b"wrong" not in response.content


def test_curators_text_is_escaped_html(client):
    EventFactory(
        published=True,
        title="Raid <script>alert(1)</script>",
        summary='<img src=x onerror="alert(2)">',
    )

    feed, response = read(client)

    assert b"<script" not in response.content and b"<img" not in response.content
    assert feed.entries[0].title == "Raid <script>alert(1)</script>"  # as text, as written
    assert "&lt;img src=x" in feed.entries[0].summary


def test_only_the_newest_entries(client):
    for n in range(ENTRIES + 3):
        EventFactory(
            published=True,
            title=f"Event {n}",
            first_published_at=day(1) + datetime.timedelta(minutes=n),
        )

    feed, _ = read(client)

    assert len(feed.entries) == ENTRIES
    assert feed.entries[0].title == f"Event {ENTRIES + 2}"


def test_an_unchanged_feed_is_a_304_and_a_publication_changes_it(client):
    EventFactory(published=True, title="First")
    _, response = read(client)

    again = client.get(FEED, HTTP_IF_NONE_MATCH=response["ETag"])
    EventFactory(published=True, title="Second")
    after = client.get(FEED, HTTP_IF_NONE_MATCH=response["ETag"])

    assert again.status_code == 304 and again.content == b""
    assert after.status_code == 200 and b"Second" in after.content


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"platfrm": "wechat"}, "platfrm: unknown parameter"),
        ({"ordering": "-date"}, "ordering: unknown parameter"),
        ({"platform": "never-heard-of"}, "platform: never-heard-of"),
        ({"date_from": "May 2014"}, "date_from:"),
    ],
)
def test_a_filter_not_understood_is_a_400_saying_which(client, params, message):
    EventFactory(published=True)

    response = client.get(FEED, params)

    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/plain")
    assert message in response.content.decode()


@pytest.mark.parametrize(
    ("path", "feed"),
    [
        ("/", FEED),
        ("/?platform=wechat&country=CN", f"{FEED}?country=CN&platform=wechat"),
        ("/platforms/wechat/", f"{FEED}?platform=wechat"),
        ("/about/", FEED),
    ],
)
def test_every_timeline_page_links_its_feed(client, path, feed):
    EventFactory(published=True).platforms.add(PlatformFactory(name="WeChat", slug="wechat"))

    page = client.get(path).content.decode()

    (alternate,) = re.findall(r'<link rel="alternate" type="application/atom\+xml"[^>]*>', page)
    linked = re.search(r'href="([^"]+)"', alternate)[1].replace("&amp;", "&")
    assert sorted(linked.partition("?")[2].split("&")) == sorted(feed.partition("?")[2].split("&"))
    assert linked.partition("?")[0] == FEED
    assert f'<a href="{linked.replace("&", "&amp;")}"' in page  # and a visible link
    assert client.get(linked).status_code == 200
