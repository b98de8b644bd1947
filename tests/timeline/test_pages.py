"""Readers' pages: what they show, what they never show, and what they cost."""

import datetime
import gzip
import re
from html import unescape
from html.parser import HTMLParser
from urllib.parse import parse_qs, urlsplit
from xml.etree import ElementTree

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from events.choices import EventStatus, Role
from events.models import Event, EventRelation
from tests.factories import (
    ActorFactory,
    CitationFactory,
    EventActorFactory,
    EventFactory,
    EventTypeFactory,
    PlatformFactory,
    SourceFactory,
    TagFactory,
)

pytestmark = pytest.mark.django_db


def text(response):
    return response.content.decode()


def listed_ids(response):
    return re.findall(r'<p class="id">([A-Z]{2}-\d{4}-\d{4,})</p>', text(response))


def test_timeline_lists_published_events_newest_first_with_their_true_precision(client):
    late = EventFactory(published=True, title="Ban announced", date_text="2014-05-27")
    early = EventFactory(published=True, title="Accounts removed", date_text="2014-03")
    rough = EventFactory(published=True, title="Group announced", date_text="2014-04~")
    EventFactory(title="A draft nobody may see", date_text="2014-04")
    EventFactory(title="A retracted one", date_text="2014-04", status=EventStatus.RETRACTED)

    response = client.get("/")

    assert response.status_code == 200
    assert listed_ids(response) == [late.public_id, rough.public_id, early.public_id]
    page = text(response)
    assert "3 events" in page
    assert headings(page) == ["2014"]
    assert "c. April 2014" in page
    assert "27 May 2014" in page
    assert "A draft nobody may see" not in page
    assert "A retracted one" not in page


def headings(page):
    return re.findall(r'<h3 id="m\d+">([^<]+)</h3>', page)


def chart_years(page):
    """Events per year as the chart's bars count them (a short span is drawn by month)."""
    years = {}
    for year, count in re.findall(r"<title>(?:[A-Z][a-z]{2} )?(\d{4}): (\d+)</title>", page):
        if int(count):
            years[year] = years.get(year, 0) + int(count)
    return years


@pytest.mark.parametrize(
    ("ordering", "first"), [("", "newest"), ("-date", "newest"), ("date", "oldest")]
)
def test_one_date_key_orders_heads_and_charts_the_timeline(client, ordering, first):
    # Precisions that once headed the same year twice and charted it under another.
    dates = ["2000?", "2000", "2000-06", "2001-01-05", "2000-01~", "1999-12", "2001", "2000-12-31"]
    events = {
        date: EventFactory(published=True, title=f"Dated {date}", date_text=date) for date in dates
    }

    page = text(client.get("/", {"ordering": ordering} if ordering else {}))

    listed = listed_ids_in(page)
    by_earliest = sorted(events.values(), key=lambda event: (event.date_earliest, event.pk))
    if first == "newest":
        by_earliest.reverse()
    assert listed == [event.public_id for event in by_earliest]
    years = headings(page)
    assert len(years) == len(set(years))  # a heading never repeats
    expected = {}
    for event in events.values():
        year = str(event.date_earliest.year)
        expected[year] = expected.get(year, 0) + 1
    assert chart_years(page) == expected  # the chart counts what the headings hold
    assert set(years) == set(expected)
    assert events["2000?"].date_earliest.year == 1999  # and it is under 1999 in both


def listed_ids_in(page):
    return re.findall(r'<p class="id">([A-Z]{2}-\d{4}-\d{4,})</p>', page)


def test_the_sort_choice_is_visible_and_recently_updated_puts_the_last_change_first(client):
    old = EventFactory(published=True, title="Old, edited today", date_text="2010")
    new = EventFactory(published=True, title="New, untouched", date_text="2014")
    Event.objects.filter(pk=new.pk).update(updated_at=timezone.now() - datetime.timedelta(days=3))
    Event.objects.filter(pk=old.pk).update(updated_at=timezone.now())

    first = text(client.get("/"))
    updated = text(client.get("/", {"ordering": "-updated"}))

    assert re.search(
        r'<select name="ordering" id="id_ordering">\s*<option value="-date" selected>', first
    )
    assert "Oldest first" in first and "Recently updated" in first
    assert listed_ids_in(first) == [new.public_id, old.public_id]
    assert listed_ids_in(updated) == [old.public_id, new.public_id]
    assert headings(updated) == ["Most recently updated first"]
    assert "ordering=-updated&amp;format=csv" in updated  # the download keeps the order


def test_an_order_the_page_does_not_offer_is_a_400_naming_the_choices(client):
    EventFactory(published=True)

    response = client.get("/", {"ordering": "sideways"})

    assert response.status_code == 400
    assert "use date, -date, updated or -updated" in text(response)


def test_timeline_filters_share_the_api_filters_and_links(client):
    wechat = PlatformFactory(name="WeChat", slug="wechat")
    hit = EventFactory(published=True, title="WeChat accounts removed", date_text="2014-03")
    hit.platforms.add(wechat)
    EventFactory(published=True, title="Other platform", date_text="2014-03").platforms.add(
        PlatformFactory()
    )
    EventFactory(published=True, title="WeChat in 2013", date_text="2013-03").platforms.add(wechat)

    response = client.get("/?platform=wechat&date_from=2014&date_to=2014")

    assert listed_ids(response) == [hit.public_id]
    page = text(response)
    # The downloads and the API link keep the page's order (newest first: not the API's default).
    query = "date_from=2014&amp;date_to=2014&amp;platform=wechat&amp;ordering=-date"
    assert f"/api/v1/events/?{query}&amp;format=csv" in page
    assert f'/api/v1/events/?{query}"' in page
    csv_rows = client.get("/api/v1/events/?date_from=2014&date_to=2014&platform=wechat&format=csv")
    assert hit.public_id in b"".join(csv_rows.streaming_content).decode()


def test_timeline_chart_counts_events_per_year_with_empty_years_shown(client):
    for date in ("2009-07", "2013-09", "2014-03", "2014-05"):
        EventFactory(published=True, date_text=date)

    page = text(client.get("/"))

    assert "<svg" in page and "Events per year: 4 in all" in page
    assert "<title>2011: 0</title>" in page
    assert "<title>2014: 2</title>" in page


def test_timeline_chart_goes_month_by_month_over_a_short_span(client):
    EventFactory(published=True, date_text="2014-03")
    EventFactory(published=True, date_text="2014-05-27")

    page = text(client.get("/"))

    assert "<title>Mar 2014: 1</title>" in page
    assert "<title>Apr 2014: 0</title>" in page


def test_bad_filters_answer_400_with_the_reason_and_never_echo_markup(client):
    response = client.get("/?date_from=2014-13&q=<script>alert(1)</script>")

    assert response.status_code == 400
    page = text(response)
    assert "month 13" in page
    assert "<script>alert(1)</script>" not in page


def test_timeline_page_runs_a_fixed_number_of_queries(client):
    def queries_for(count):
        for _ in range(count):
            event = EventFactory(published=True)
            event.platforms.add(PlatformFactory())
            EventActorFactory(event=event)
        with CaptureQueriesContext(connection) as captured:
            assert client.get("/").status_code == 200
        return len(captured)

    assert queries_for(3) == queries_for(30)


def test_event_page_shows_everything_a_reader_needs(client):
    event = EventFactory(
        published=True, title="Ban on public accounts", date_text="2014-05-27", locality="Beijing"
    )
    EventActorFactory(event=event, actor=ActorFactory(name="Tencent"), role=Role.OPERATED_PLATFORM)
    EventActorFactory(event=event, actor=ActorFactory(name="Chinese authorities"))
    event.platforms.add(PlatformFactory(name="WeChat"))
    source = SourceFactory(
        title="China cracks down",
        url="https://news.example.org/a",
        archive_url="https://web.archive.org/web/2014/https://news.example.org/a",
    )
    CitationFactory(event=event, source=source, quote="banning public chat accounts")
    other = EventFactory(published=True, title="Accounts removed in March", date_text="2014-03")
    hidden = EventFactory(title="A draft link")
    EventRelation.objects.create(from_event=other, to_event=event, relation_type="precedes")
    EventRelation.objects.create(from_event=event, to_event=hidden, relation_type="related")

    response = client.get(f"/events/{event.public_id}/")

    page = text(response)
    assert response.status_code == 200
    assert (
        f"<title>Ban on public accounts ({event.public_id}) · Censorship Timeline</title>" in page
    )
    assert '<meta name="description" content="27 May 2014:' in page
    for shown in (
        "27 May 2014",
        "Beijing, China",
        "Operated the affected platform",
        "Tencent",
        "WeChat",
        "banning public chat accounts",
        "https://news.example.org/a",
        "archived copy",
        "Accounts removed in March",
        "First published",
    ):
        assert shown in page, shown
    assert "A draft link" not in page


def test_event_page_shows_the_original_title_and_summary_in_their_language(client):
    event = EventFactory(
        published=True,
        title="Public accounts removed",
        title_original="微信公众号被删除",
        summary_original="许多账号被删除。",
        original_language="zh-hans",
    )

    page = text(client.get(f"/events/{event.public_id}/"))

    assert '<p class="title-original" lang="zh-hans">微信公众号被删除</p>' in page
    assert 'lang="zh-hans">许多账号被删除。</p>' in page


def test_event_page_without_originals_shows_no_empty_original(client):
    event = EventFactory(published=True, title="Public accounts removed")

    page = text(client.get(f"/events/{event.public_id}/"))

    assert "title-original" not in page and "summary-original" not in page


@pytest.mark.parametrize("status", [EventStatus.DRAFT, EventStatus.IN_REVIEW])
def test_unpublished_event_pages_are_not_found(client, status):
    event = EventFactory(status=status, title="Secret draft title")

    response = client.get(f"/events/{event.public_id}/")

    assert response.status_code == 404
    assert "Secret draft title" not in text(response)


def test_retracted_event_page_answers_410_with_its_reason(client):
    event = EventFactory(
        status=EventStatus.RETRACTED,
        title="Wrong event",
        retraction_reason="The report was mistaken about the date.",
    )

    response = client.get(f"/events/{event.public_id}/")

    assert response.status_code == 410
    assert "The report was mistaken about the date." in text(response)
    assert "Wrong event" not in text(response)


def test_actor_and_platform_pages_list_their_published_events(client):
    actor, platform = (
        ActorFactory(name="Tencent", slug="tencent"),
        PlatformFactory(name="WeChat", slug="wechat"),
    )
    shown = EventFactory(published=True, title="Shown event")
    EventActorFactory(event=shown, actor=actor)
    shown.platforms.add(platform)
    draft = EventFactory(title="Draft event")
    EventActorFactory(event=draft, actor=actor)
    draft.platforms.add(platform)

    for url in ("/actors/tencent/", "/platforms/wechat/"):
        response = client.get(url)
        assert response.status_code == 200
        assert listed_ids(response) == [shown.public_id]
        assert "Draft event" not in text(response)


def test_actor_known_only_from_drafts_has_no_page(client):
    actor = ActorFactory(slug="hidden-actor")
    EventActorFactory(event=EventFactory(), actor=actor)

    assert client.get("/actors/hidden-actor/").status_code == 404


def test_about_page_explains_coverage_verification_dates_citing_and_licence(client):
    page = text(client.get("/about/"))

    for heading in (
        "What it covers",
        "How events are verified",
        "How to read dates",
        "How to cite",
        "Licence and reuse",
    ):
        assert f"<h2>{heading}</h2>" in page
    assert "/api/docs/" in page


def test_pages_use_no_external_assets(client):
    EventFactory(published=True)
    page = text(client.get("/"))

    assets = re.findall(r"<(?:script|link)\b[^>]*>", page)
    loaded = [tag for tag in assets if 'rel="alternate"' not in tag]  # links, not assets
    assert loaded and not [tag for tag in loaded if re.search(r'(src|href)="https?://', tag)]


def test_timeline_offers_a_timelinejs_embed_of_its_current_filters(client, settings):
    settings.SITE_URL = "https://timeline.example.org"
    EventFactory(published=True, title="WeChat event").platforms.add(
        PlatformFactory(name="WeChat", slug="wechat")
    )

    response = client.get("/", {"platform": "wechat", "date_from": "2014"})

    snippet = unescape(
        re.search(r'<textarea id="timelinejs-embed"[^>]*>([^<]*)<', text(response))[1]
    )
    src = unescape(re.search(r'<iframe src="([^"]+)"', snippet)[1])
    assert src.startswith("https://cdn.knightlab.com/libs/timeline3/latest/embed/index.html?")
    (source,) = parse_qs(urlsplit(src).query)["source"]
    assert urlsplit(source)[:3] == ("https", "timeline.example.org", "/api/v1/events/")
    assert parse_qs(urlsplit(source).query) == {
        "platform": ["wechat"],
        "date_from": ["2014"],
        "ordering": ["-date"],
        "format": ["timelinejs"],
    }
    local = urlsplit(source)._replace(scheme="", netloc="").geturl()
    assert client.get(local, HTTP_ACCEPT="application/json").status_code == 200


# Where: the map and the list of countries ---------------------------------------------------


def test_the_map_shades_each_country_with_events_as_a_link_keeping_the_filters(client):
    wechat = PlatformFactory(name="WeChat", slug="wechat")
    for country in ("CN", "CN", "CN", "HK", "RU"):
        EventFactory(published=True, country=country).platforms.add(wechat)
    EventFactory(published=True, country="", is_global=True).platforms.add(wechat)
    EventFactory(published=True, country="IR")  # not on WeChat: not counted

    page = text(client.get("/", {"platform": "wechat"}))

    svg = re.search(r"<svg class=\"worldmap\".*?</svg>", page, re.S)[0]
    root = ElementTree.fromstring(
        svg.replace("<svg ", '<svg xmlns="http://www.w3.org/2000/svg" ', 1)
    )
    links = {
        link.get("href"): link.find("{*}g") for link in root.iter("{http://www.w3.org/2000/svg}a")
    }
    assert set(links) == {
        "/?platform=wechat&country=CN",
        "/?platform=wechat&country=HK",
        "/?platform=wechat&country=RU",
    }
    china = links["/?platform=wechat&country=CN"]
    assert china.find("{*}title").text == "China: 3 events"
    assert china.get("class") == "country shade-5"
    assert links["/?platform=wechat&country=HK"].get("class") == "country shade-1"
    assert len(list(root.iter("{http://www.w3.org/2000/svg}g"))) > 200  # every country drawn
    assert "<script" not in page


def test_the_country_list_gives_the_same_counts_as_links_with_global_events(client):
    for country in ("CN", "CN", "TW"):
        EventFactory(published=True, country=country)
    EventFactory(published=True, country="", is_global=True)

    page = text(client.get("/"))

    listed = re.findall(
        r'<li><a href="([^"]+)">([^<]+)</a> <span class="n">(\d+)</span></li>', page
    )
    assert [(url.replace("&amp;", "&"), name, int(n)) for url, name, n in listed] == [
        ("/?country=CN", "China", 2),
        ("/?country=global", "Global", 1),
        ("/?country=TW", "Taiwan", 1),
    ]
    for url, _name, n in listed:
        assert page_count_of(client, url.replace("&amp;", "&")) == int(n)


def page_count_of(client, url):
    return int(re.search(r'id="result-count">(\d+) event', text(client.get(url)))[1])


def test_no_map_when_no_event_matches(client):
    EventFactory(published=True, country="CN")

    page = text(client.get("/", {"country": "RU"}))

    assert "worldmap" not in page


def test_the_timeline_page_is_sent_compressed_to_clients_that_accept_it(client):
    EventFactory(published=True, country="CN")

    plain = client.get("/")
    compressed = client.get("/", HTTP_ACCEPT_ENCODING="gzip")

    assert compressed["Content-Encoding"] == "gzip"
    assert gzip.decompress(compressed.content) == plain.content
    assert len(compressed.content) < len(plain.content) / 3
    assert "Accept-Encoding" in compressed["Vary"]


# Event pages: sources once, and the way back to the timeline -------------------------------


def test_event_page_lists_each_source_once_with_its_quotes_beneath_it(client):
    event = EventFactory(published=True, title="Accounts removed")
    report = SourceFactory(
        title="China cracks down",
        url="https://news.example.org/a",
        archive_url="https://web.archive.org/web/2014/https://news.example.org/a",
    )
    notice = SourceFactory(title="Official notice", url="", archive_url="")
    CitationFactory(event=event, source=report, quote="first passage", locator="para. 2")
    CitationFactory(event=event, source=notice, quote="the notice says", locator="")
    CitationFactory(event=event, source=report, quote="second passage", locator="para. 7")

    page = text(client.get(f"/events/{event.public_id}/"))

    listed = page[page.index('<ol class="sources">') : page.index("</ol>", page.index("sources"))]
    items = re.findall(r"<li>(.*?)</li>", listed, re.S)
    assert len(items) == 2  # two sources, three citations
    assert page.count("China cracks down") == 1
    first, second = items
    assert '<a class="source-link" href="https://news.example.org/a">China cracks down</a>' in first
    assert (
        'href="https://web.archive.org/web/2014/https://news.example.org/a">archived copy' in first
    )
    assert re.findall(r"<blockquote[^>]*>([^<]+)", first) == ["first passage ", "second passage "]
    assert "(para. 7)" in first
    assert "Official notice" in second and "the notice says" in second
    assert "archived copy" not in second


def test_event_page_links_back_to_the_timeline_of_events_like_it(client):
    wechat = PlatformFactory(name="WeChat", slug="wechat")
    weibo = PlatformFactory(name="Weibo", slug="weibo")
    event = EventFactory(published=True, title="Both platforms", country="CN")
    event.platforms.add(wechat, weibo)
    EventFactory(published=True, title="Elsewhere", country="RU").platforms.add(wechat)

    page = text(client.get(f"/events/{event.public_id}/"))

    nav = page[page.index('<nav class="alike"') : page.index("</nav>", page.index("alike"))]
    links = dict(
        (unescape(label), unescape(url))
        for url, label in re.findall(r'<a href="([^"]+)">([^<]+)</a>', nav)
    )
    everything = f"Events on WeChat or Weibo, in China, of type {event.event_type.name}"
    assert list(links) == [
        everything,
        "Events on WeChat or Weibo",
        "Events in China",
        f"Events of type {event.event_type.name}",
    ]
    assert links[everything] == (
        f"/?platform=wechat%2Cweibo&country=CN&type={event.event_type.slug}"
    )
    for url in links.values():
        assert event.public_id in text(client.get(url))
    assert "Elsewhere" not in text(client.get(links[everything]))


def test_each_bar_of_the_chart_narrows_the_list_to_its_own_events(client):
    wechat = PlatformFactory(name="WeChat", slug="wechat")
    for date in ("2000?", "2000-06", "2001", "2003-02-01", "2003~"):
        EventFactory(published=True, date_text=date).platforms.add(wechat)
    EventFactory(published=True, date_text="2001")  # not on WeChat

    page = text(client.get("/", {"platform": "wechat"}))

    bars = re.findall(r'<a href="(\?[^"]+)"><g><title>(\d{4}): (\d+)</title>', page)
    assert bars  # a bar is a link only where it has events
    counted = {year: int(count) for _url, year, count in bars}
    for url, year, count in bars:
        narrowed = text(client.get("/" + unescape(url)))
        assert "platform=wechat" in unescape(url)
        assert int(re.search(r'id="result-count">(\d+) event', narrowed)[1]) == int(count), year
        assert headings(narrowed) == [year]
    assert sum(counted.values()) == 5


@pytest.mark.parametrize(
    "summary",
    [
        "Short.",
        "x" * 240,
        "x" * 241,
        "word " * 60,
        "e\u0301" * 240,  # 480 code points that NFC makes 240 characters
        "q\u0301" * 200,  # 400 code points NFC cannot compose, 200 characters shown
        "q\u0301" * 241,
    ],
)
def test_a_summary_is_cut_as_djangos_truncator_cuts_it(summary):
    from django.utils.text import Truncator

    from timeline.templatetags.timeline_text import first_sentence

    assert first_sentence(summary) == Truncator(summary.strip()).chars(240)


def test_each_listed_event_shows_its_first_sentence_verification_and_sources(client):
    event = EventFactory(
        published=True,
        title="Accounts removed",
        summary="Forty accounts were removed in March. Tencent did not comment.",
        verification="corroborated",
    )
    report = SourceFactory()
    CitationFactory(event=event, source=report, quote="one")
    CitationFactory(event=event, source=report, quote="two")
    CitationFactory(event=event, source=SourceFactory(), quote="three")
    EventFactory(published=True, title="Unsourced", summary="No sentence end")

    page = text(client.get("/"))

    assert '<p class="summary">Forty accounts were removed in March.</p>' in page
    assert "Tencent did not comment" not in page
    assert re.search(r'<p class="evidence">Corroborated[^<]* · 2 sources</p>', page)
    assert '<p class="summary">No sentence end</p>' in page
    assert re.search(r'<p class="evidence">[^<]* · 0 sources</p>', page)


class ListedText(HTMLParser):
    """The elements and the text of a page's list of events, as a browser reads them."""

    def __init__(self):
        super().__init__()
        self.depth = 0  # inside <ol class="events">
        self.tags, self.texts = [], []

    def handle_starttag(self, tag, attrs):
        if self.depth:
            self.depth += tag == "ol"
            self.tags.append(tag)
        elif tag == "ol" and ("class", "events") in attrs:
            self.depth = 1

    def handle_endtag(self, tag):
        if self.depth and tag == "ol":
            self.depth -= 1

    def handle_data(self, data):
        if self.depth:
            self.texts.append(data)


HOSTILE = """<b class="x">bold</b> & "quoted" 'single' <script>alert(1)</script>"""


@pytest.mark.parametrize("language", ["", "/zh-hans"])
def test_curated_text_in_the_list_is_shown_as_text_never_as_markup(client, language):
    event = EventFactory(
        published=True,
        title=f"Title {HOSTILE}",
        title_original=f"标题 {HOSTILE}",
        original_language="zh-hans",
        summary=f"Summary {HOSTILE}",
        locality=f"Locality {HOSTILE}",
        event_type=EventTypeFactory(name=f"Type {HOSTILE}"),
    )
    event.platforms.add(PlatformFactory(name=f"Platform {HOSTILE}"))
    EventActorFactory(event=event, actor=ActorFactory(name=f"Actor {HOSTILE}"))

    response = client.get(f"{language}/")

    assert response.status_code == 200
    listed = ListedText()
    listed.feed(text(response))
    assert set(listed.tags) <= {"li", "p", "time", "h4", "a", "span"}
    shown = "".join(listed.texts)
    for name in ("Title", "标题", "Summary", "Locality", "Type", "Platform", "Actor"):
        assert f"{name} {HOSTILE}" in shown


def page_links(page):
    """The list's links to the pages before and after it: {rel: (label, url)}."""
    return {
        rel: (label, unescape(url))
        for rel, url, label in re.findall(r'<a rel="(prev|next)" href="([^"]+)">([^<]+)</a>', page)
    }


def walk(client, url, rel):
    """Follow one kind of page link from url to its end: every page's listed ids, in order."""
    pages = []
    while url:
        response = client.get(url)
        assert response.status_code == 200
        page = text(response)
        pages.append(listed_ids_in(page))
        url = page_links(page).get(rel, (None, None))[1]
        url = url and ("/" + url if url.startswith("?") else url)
    return pages


@pytest.fixture
def a_hundred_and_twenty(db):
    """120 published events over 2011 to 2014, a fifth of them on one day (ties on the key)."""
    events = []
    for n in range(120):
        day = "2013-05-05" if n % 5 == 0 else f"{2011 + n % 4}-{1 + n % 12:02d}-{1 + n % 28:02d}"
        events.append(EventFactory(published=True, title=f"Event {n}", date_text=day))
    return sorted(events, key=lambda event: (event.date_earliest, event.pk), reverse=True)


def test_the_list_pages_by_position_with_newer_and_older_links(client, a_hundred_and_twenty):
    newest_first = [event.public_id for event in a_hundred_and_twenty]

    pages = walk(client, "/", "next")

    assert [len(ids) for ids in pages] == [50, 50, 20]
    assert [i for ids in pages for i in ids] == newest_first  # none twice, none missed
    first = text(client.get("/"))
    assert page_links(first)["next"][0] == "Older events"
    assert "prev" not in page_links(first)
    assert "120 events" in first  # the count, on every page
    last_url = None
    url = page_links(first)["next"][1]
    while url:
        last_url, url = url, page_links(text(client.get("/" + url))).get("next", (0, None))[1]
    last = text(client.get("/" + last_url))
    assert "120 events" in last
    assert page_links(last)["prev"][0] == "Newer events"
    back = walk(client, "/" + last_url, "prev")
    assert [i for ids in reversed(back) for i in ids] == newest_first


def test_the_pages_keep_the_filters_and_the_order(client, a_hundred_and_twenty):
    oldest_first = sorted(
        (e for e in a_hundred_and_twenty if e.date_earliest.year in (2012, 2013)),
        key=lambda event: (event.date_earliest, event.pk),
    )

    pages = walk(client, "/?date_from=2012&date_to=2013&ordering=date", "next")

    assert [i for ids in pages for i in ids] == [e.public_id for e in oldest_first]
    assert len(pages) == 2
    assert page_links(text(client.get("/?ordering=date")))["next"][0] == "Later events"


def test_jump_to_a_year_opens_the_list_at_its_first_event_in_the_order(
    client, a_hundred_and_twenty
):
    page = text(client.get("/"))
    jumps = dict(
        (year, unescape(url))
        for url, year in re.findall(
            r'<li><a href="([^"]+)"(?: aria-current="true")?>(\d{4})</a>', page
        )
    )
    assert list(jumps) == ["2014", "2013", "2012", "2011"]
    for year, url in jumps.items():
        opened = text(client.get(url))
        in_year = [e for e in a_hundred_and_twenty if e.date_earliest.year <= int(year)]
        assert listed_ids_in(opened) == [e.public_id for e in in_year[:50]], year
        assert headings(opened)[0] == year
        assert re.search(rf'aria-current="true">{year}</a>', opened)
    oldest_first = text(client.get("/?ordering=date"))
    years = re.findall(r'<li><a href="[^"]+"(?: aria-current="true")?>(\d{4})</a>', oldest_first)
    assert years == ["2011", "2012", "2013", "2014"]


def test_a_cursor_the_site_never_gave_out_is_a_400_with_the_reason(client, a_hundred_and_twenty):
    later = page_links(text(client.get("/")))["next"][1]
    cursor = parse_qs(urlsplit(later).query)["cursor"][0]

    for bad in ("nonsense!", "e30", "x" * 500):
        response = client.get("/", {"cursor": bad})
        assert response.status_code == 400
        assert "Not a cursor this site gave out" in text(response)
    response = client.get("/", {"cursor": cursor, "ordering": "date"})
    assert response.status_code == 400
    assert "another ordering" in text(response)
    response = client.get(f"/actors/{ActorFactory().slug}/", {"cursor": "nonsense!"})
    assert response.status_code in (400, 404)


def test_an_actor_page_pages_through_all_its_events(client):
    actor = ActorFactory(name="Cyberspace Administration")
    mine = [
        EventFactory(published=True, date_text=f"{2000 + n % 20}-0{1 + n % 9}") for n in range(60)
    ]
    for event in mine:
        EventActorFactory(event=event, actor=actor, role=Role.ORDERED)
    EventActorFactory(event=mine[0], actor=actor, role=Role.ANNOUNCED)  # two roles, listed once
    EventFactory(published=True, date_text="2010")

    pages = walk(client, f"/actors/{actor.slug}/", "next")

    newest_first = sorted(mine, key=lambda event: (event.date_earliest, event.pk), reverse=True)
    assert [i for ids in pages for i in ids] == [e.public_id for e in newest_first]
    assert "Events (60)" in text(client.get(f"/actors/{actor.slug}/"))


@pytest.fixture
def on_platforms(db):
    wechat = PlatformFactory(name="WeChat", slug="wechat")
    wechat.aliases.create(name="微信", language="zh-hans")
    weibo = PlatformFactory(name="Sina Weibo", slug="weibo")
    tencent = ActorFactory(name="Tencent", slug="tencent")
    events = {}
    for key, platform, date in (
        ("wechat-2014", wechat, "2014-03"),
        ("wechat-2013", wechat, "2013-06"),
        ("weibo-2014", weibo, "2014-05"),
    ):
        events[key] = EventFactory(published=True, title=key, date_text=date)
        events[key].platforms.add(platform)
    EventActorFactory(event=events["weibo-2014"], actor=tencent, role=Role.TARGETED)
    tagged = TagFactory(name="instant messaging", slug="instant-messaging")
    events["wechat-2014"].tags.add(tagged)
    return events


@pytest.mark.parametrize("typed", ["WeChat", "wechat", "WECHAT", "微信", " WeChat "])
def test_a_reader_types_a_platform_by_name_slug_or_alias(client, on_platforms, typed):
    response = client.get("/", {"platform": typed, "date_from": "2014", "date_to": "2014"})

    assert response.status_code == 200
    page = text(response)
    assert listed_ids(response) == [on_platforms["wechat-2014"].public_id]
    assert "<h1>Events on WeChat in 2014</h1>" in page
    assert "<title>Events on WeChat in 2014: Censorship Timeline</title>" in page
    assert 'value="WeChat"' in page  # the form shows the name
    assert "format=csv&amp;platform=wechat" in page or "platform=wechat&amp;" in page


def test_actor_and_tag_are_typed_by_name_and_several_names_mean_any(client, on_platforms):
    by_actor = client.get("/", {"actor": "tencent"})
    by_tag = client.get("/", {"tag": "Instant messaging"})
    either = client.get("/", {"platform": "WeChat, Sina Weibo"})

    assert listed_ids(by_actor) == [on_platforms["weibo-2014"].public_id]
    assert "<h1>Events involving Tencent</h1>" in text(by_actor)
    assert listed_ids(by_tag) == [on_platforms["wechat-2014"].public_id]
    assert "<h1>Events tagged instant messaging</h1>" in text(by_tag)
    assert len(listed_ids(either)) == 3
    assert "<h1>Events on WeChat or Sina Weibo</h1>" in text(either)


def test_a_name_that_matches_nothing_says_so_with_the_closest_names(client, on_platforms):
    response = client.get("/", {"platform": "Wechta", "date_from": "2014"})

    assert response.status_code == 400
    page = text(response)
    assert "No published event names a platform called \u201cWechta\u201d." in page
    closest = re.findall(r'<a href="(\?[^"]+)">([^<]+)</a> <span class="role">', page)
    assert [name for _url, name in closest] == ["WeChat"]
    followed = client.get("/" + unescape(closest[0][0]))
    assert followed.status_code == 200
    assert listed_ids(followed) == [on_platforms["wechat-2014"].public_id]


def test_a_hostile_name_is_refused_and_never_echoed_as_markup(client, on_platforms):
    response = client.get("/", {"actor": "<script>alert(1)</script>"})

    assert response.status_code == 400
    assert "<script>alert(1)" not in text(response)
    assert "&lt;script&gt;alert(1)" in text(response)


def test_each_active_filter_is_a_chip_that_removes_it(client, on_platforms):
    page = text(
        client.get(
            "/",
            {
                "platform": "wechat",
                "date_from": "2014",
                "verification": "corroborated",
                "date_match": "within",
                "ordering": "date",
            },
        )
    )

    chips = re.findall(r'<a href="([^"]+)" aria-label="Remove the filter ([^"]+)">', page)
    assert [label for _url, label in chips] == [
        "From: 2014",
        "Dates: certainly within the range",
        "Platform: WeChat",
        "Verification: Corroborated by independent sources",
    ]
    removed = dict((label, parse_qs(urlsplit(unescape(url)).query)) for url, label in chips)
    assert removed["Platform: WeChat"] == {
        "date_from": ["2014"],
        "date_match": ["within"],
        "verification": ["corroborated"],
        "ordering": ["date"],
    }
    assert (
        "<h1>Events on WeChat certainly since 2014 (corroborated by independent sources)</h1>"
        in page
    )


def test_the_form_offers_names_not_thousands_of_options(client, on_platforms):
    for n in range(40):
        event = EventFactory(published=True, date_text="2012")
        EventActorFactory(event=event, actor=ActorFactory(name=f"Bureau {n:02d}"))
    page = text(client.get("/"))

    assert '<input type="text" name="actor"' in page
    assert '<select name="actor"' not in page
    names = re.search(r'<datalist id="platform-names">(.*?)</datalist>', page)[1]
    assert re.findall(r'<option value="([^"]+)">', names) == ["Sina Weibo", "WeChat"]
    actors = re.search(r'<datalist id="actor-names">(.*?)</datalist>', page)[1]
    assert len(re.findall("<option", actors)) == 30  # the most used, not every actor
    for name in ("date_match", "verification", "tag", "ordering"):
        assert f'name="{name}"' in page
    assert '<details class="filter-panel">' in page
