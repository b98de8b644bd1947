"""TimelineJS itself, from the npm registry, reading the API's URL in Chromium.

The timeline is shown the way a reader's site shows it: TimelineJS's own embed page, served
from another origin than the API, given the URL our timeline page offers as `source`.
Nothing leaves the machine (the embed page also asks a CDN for icons and an analytics
script; those requests are refused).
"""

from urllib.parse import quote

import pytest

from tests.factories import CitationFactory, EventFactory, SourceFactory

pytestmark = pytest.mark.django_db(transaction=True, databases="__all__")

HOSTILE = (
    "<script>window.ranFromEventText = 'script'</script>"
    "<img src=x onerror=\"window.ranFromEventText = 'img'\">"
)


@pytest.fixture
def timelinejs_site(node_modules, static_site):
    return static_site(node_modules / "@knight-lab" / "timelinejs" / "dist")


def open_embed(new_page, site, source):
    from tests.browser.conftest import local_only

    page = new_page()
    left = local_only(page)
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    failures = []
    page.on("pageerror", lambda error: failures.append(str(error)))
    page.goto(f"{site}/embed/index.html?source={quote(source, safe='')}")
    page.wait_for_selector(".tl-slide .tl-headline", state="attached")
    return page, left, dialogs, failures


def test_timelinejs_shows_the_filtered_events_from_our_url(new_page, live_server, timelinejs_site):
    wechat = EventFactory(
        published=True, title="WeChat removes public accounts", date_text="2014-03"
    )
    CitationFactory(
        event=wechat,
        source=SourceFactory(title="Tencent cracks down", url="https://example.org/article"),
    )
    EventFactory(published=True, title="Weibo closes accounts", date_text="2013-09-09")
    EventFactory(
        published=True, title="An event of another country", date_text="2012", country="RU"
    )
    source = f"{live_server.url}/api/v1/events/?country=CN&format=timelinejs"

    page, left, dialogs, failures = open_embed(new_page, timelinejs_site, source)

    headlines = page.locator(".tl-slide-content .tl-headline").all_text_contents()
    assert "WeChat removes public accounts" in headlines
    assert "Weibo closes accounts" in headlines
    assert "An event of another country" not in headlines
    dates = page.locator(".tl-slide-content .tl-headline-date").all_text_contents()
    assert "March 2014" in dates and "9 September 2013" in dates
    link = page.locator(".tl-slide-content a[href='https://example.org/article']")
    assert link.count() == 1 and "Tencent cracks down" in link.first.text_content()
    assert page.locator(".tl-media-image").count() == 0  # no article drawn as a picture
    assert not dialogs and not failures
    assert all("127.0.0.1" not in url and "localhost" not in url for url in left)


def test_no_script_from_event_text_runs_in_timelinejs(new_page, live_server, timelinejs_site):
    event = EventFactory(published=True, title=f"Raid {HOSTILE}", summary=f"Summary {HOSTILE}")
    CitationFactory(
        event=event,
        source=SourceFactory(title=f"Report {HOSTILE}", url="https://example.org/photo.png"),
    )
    EventFactory(published=True, title="A plain event", date_text="2013")
    source = f"{live_server.url}/api/v1/events/?format=timelinejs"

    page, _left, dialogs, failures = open_embed(new_page, timelinejs_site, source)
    page.wait_for_timeout(500)  # an onerror would fire once the broken image is tried

    assert page.evaluate("window.ranFromEventText") is None
    assert page.locator(".tl-slide script, .tl-slide img[onerror]").count() == 0
    headlines = page.locator(".tl-slide-content .tl-headline").all_text_contents()
    # TimelineJS 3.9 runs DOMPurify itself, which would cut the title to "Raid "; older
    # copies and other readers of the format do not. Escaped, it reads as it was written.
    assert f"Raid {HOSTILE}" in headlines
    assert not dialogs and not failures
