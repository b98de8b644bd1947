"""The public pages in Chromium, at a desktop's width and a phone's.

Every page is saved as a screenshot in tests/artifacts/ and checked with axe-core, which must
find no serious or critical accessibility violation. Nothing scrolls sideways; on a phone the
filters stay folded and the first event shows on the first screen, on a desktop the filters
are open.
"""
# ruff: noqa: RUF001 (Chinese text is written with full-width punctuation)

import re

import pytest

from events import choices
from tests.browser.conftest import local_only
from tests.factories import (
    ActorFactory,
    CitationFactory,
    EventActorFactory,
    EventFactory,
    EventTypeFactory,
    PlatformFactory,
    SourceFactory,
)

pytestmark = pytest.mark.django_db(transaction=True, databases="__all__")

DESKTOP, PHONE = 1280, 390
SCREEN_HEIGHT = {DESKTOP: 900, PHONE: 844}  # a phone's screen is 390 by 844 CSS pixels
EVERY_WIDTH = pytest.mark.parametrize("width", [DESKTOP, PHONE])
SEVERE = ("serious", "critical")
PLACES = ("CN", "HK", "TW", "IR", "RU", "TR")


@pytest.fixture
def timeline(db):
    """120 published events (more than two pages) from 2010 to 2024 in six places, each on a
    platform with an actor; a quarter have a source, another quarter a Chinese title."""
    types = [EventTypeFactory(name=name) for name in ("Account removal", "Arrest", "New law")]
    platforms = [PlatformFactory(name=name) for name in ("WeChat", "Weibo", "Douyin")]
    actors = [ActorFactory(name=name) for name in ("Cyberspace Administration", "Tencent")]
    source = SourceFactory(title="China cracks down on instant messaging")
    for n in range(120):
        chinese = {}
        if n % 4 == 1:
            chinese = {
                "title_original": f"第{n}个微信公众号被删除",
                "summary_original": "四十多个微信公众号被删除。",
                "original_language": "zh-hans",
            }
        event = EventFactory(
            published=True,
            title=f"Public accounts removed, number {n}",
            summary="More than forty public accounts were removed. They had written about news.",
            event_type=types[n % 3],
            date_text=f"{2010 + n % 15}-{n % 12 + 1:02d}",
            country=PLACES[n % len(PLACES)],
            **chinese,
        )
        event.platforms.add(platforms[n % 3])
        EventActorFactory(event=event, actor=actors[n % 2])
        if n % 4 == 0:
            CitationFactory(event=event, source=source)


@pytest.fixture
def event_with_a_chinese_title(db):
    event = EventFactory(
        published=True,
        title="Over 40 WeChat public accounts removed",
        summary="More than forty WeChat public accounts that wrote about current affairs were "
        "removed in March 2014, most of them run by journalists and lawyers.",
        title_original="四十多个微信公众号被删除",
        summary_original="二〇一四年三月，四十多个谈论时事的微信公众号被删除。",
        original_language="zh-hans",
        event_type=EventTypeFactory(name="Account removal or suspension"),
        date_text="2014-03",
        country="CN",
    )
    event.platforms.add(PlatformFactory(name="WeChat"))
    for actor, role in (
        (ActorFactory(name="Cyberspace Administration of China"), choices.Role.ORDERED),
        (ActorFactory(name="Tencent", kind=choices.ActorKind.COMPANY), choices.Role.ENFORCED),
    ):
        EventActorFactory(event=event, actor=actor, role=role)
    english = SourceFactory(title="China cracks down on instant messaging", language="en")
    chinese = SourceFactory(title="微信公众号被封", publisher="端传媒", language="zh-hans")
    CitationFactory(event=event, source=english, quote="over 40 accounts being removed")
    CitationFactory(event=event, source=english, quote="run by journalists", locator="para. 9")
    CitationFactory(event=event, source=chinese, quote="四十多个公众号", locator="第二段")
    return event


@pytest.fixture
def events_in_many_places(db):
    for n, country in enumerate(("CN", "CN", "CN", "HK", "TW", "IR", "RU", "TR", "VN", "US")):
        EventFactory(published=True, title=f"Blocked in {country}, number {n}", country=country)
    EventFactory(published=True, title="Everywhere", country="", is_global=True)


@pytest.fixture
def open_page(new_page, live_server):
    """Open a path of the live server at a width, with nothing loaded from elsewhere."""
    refused = []  # per page, the requests that would have left the machine

    def open_at(path, width):
        page = new_page(width=width, height=SCREEN_HEIGHT[width])
        refused.append(local_only(page))
        page.goto(f"{live_server.url}{path}")
        return page

    yield open_at
    assert not [url for urls in refused for url in urls]


@pytest.fixture
def check(artifacts, axe):
    """Save a page's screenshot, and assert axe-core finds nothing serious or critical on it
    and nothing scrolls sideways."""

    def check_page(page, name):
        width = page.viewport_size["width"]
        page.screenshot(path=artifacts / f"pages-{name}-{width}.png", full_page=True)
        violations = axe.run(page).response["violations"]
        severe = [violation for violation in violations if violation["impact"] in SEVERE]
        assert not severe, described(severe)
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")

    return check_page


def described(violations):
    lines = ["axe-core found serious or critical accessibility violations:"]
    for violation in violations:
        targets = [" ".join(node["target"]) for node in violation["nodes"][:3]]
        lines.append(
            f"{violation['id']} ({violation['impact']}): {violation['help']}; "
            f"{len(violation['nodes'])} elements, such as {targets}"
        )
    return "\n".join(lines)


def check_timeline_layout(page):
    """On a phone the filters are folded and the events come first, on the first screen; on
    a desktop the filters are open."""
    if page.viewport_size["width"] == PHONE:
        assert not page.locator("details.filter-panel").evaluate("details => details.open")
        assert not page.locator("#id_q").is_visible()
        first = page.locator("li.event").first.bounding_box()
        assert first["y"] < SCREEN_HEIGHT[PHONE], f"The first event starts at {first['y']} px"
    else:
        assert page.locator("#id_q").is_visible()


@EVERY_WIDTH
def test_the_timeline_is_accessible_and_fits_the_screen(open_page, check, timeline, width):
    page = open_page("/", width)

    assert page.locator("#result-count").inner_text() == "120 events"
    check_timeline_layout(page)
    check(page, "home")


@EVERY_WIDTH
def test_a_filtered_timeline_is_accessible_and_fits_the_screen(open_page, check, timeline, width):
    page = open_page("/?platform=wechat&date_from=2012&date_to=2016", width)

    assert page.locator("h1").inner_text() == "Events on WeChat from 2012 to 2016"
    assert page.locator(".chips a").count() == 4  # from, to, the platform, and clear all
    check_timeline_layout(page)
    check(page, "filtered")


@EVERY_WIDTH
def test_a_deep_page_of_the_timeline_is_accessible_and_fits_the_screen(
    open_page, check, timeline, width
):
    page = open_page("/", width)
    page.click("a[rel=next]")
    page.wait_for_url(re.compile(r"cursor="))

    assert page.locator("li.event").count() == 50
    assert page.locator("a[rel=prev]").count() == 1
    check_timeline_layout(page)
    check(page, "deep")


@EVERY_WIDTH
def test_the_timeline_in_chinese_is_accessible_and_fits_the_screen(
    open_page, check, timeline, width
):
    page = open_page("/zh-hans/", width)

    assert page.locator("html").get_attribute("lang") == "zh-Hans"
    assert page.locator("li.event h4[lang=zh-hans]").count() > 0  # Chinese titles first
    check_timeline_layout(page)
    check(page, "zh")


@EVERY_WIDTH
def test_an_event_page_is_accessible_and_fits_the_screen(
    open_page, check, event_with_a_chinese_title, width
):
    page = open_page(f"/events/{event_with_a_chinese_title.public_id}/", width)

    assert page.locator("h1").inner_text() == "Over 40 WeChat public accounts removed"
    assert page.locator(".title-original").inner_text() == "四十多个微信公众号被删除"
    assert page.locator(".sources blockquote").count() == 3
    check(page, "event")


@EVERY_WIDTH
def test_an_event_page_in_chinese_is_accessible_and_fits_the_screen(
    open_page, check, event_with_a_chinese_title, width
):
    page = open_page(f"/zh-hans/events/{event_with_a_chinese_title.public_id}/", width)

    assert page.locator("h1").inner_text() == "四十多个微信公众号被删除"
    check(page, "event-zh")


@EVERY_WIDTH
def test_the_map_is_accessible_and_fits_the_screen(open_page, check, events_in_many_places, width):
    page = open_page("/", width)

    assert page.locator(".worldmap a[href^='/?country=']").count() == 8  # the shaded countries
    assert page.locator(".worldmap").bounding_box()["width"] <= width
    check_timeline_layout(page)
    check(page, "map")
