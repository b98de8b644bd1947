"""The journeys people take through the product, in a real browser against a live server."""

import csv
import io
import json
import re
from pathlib import Path

import pytest
from django.contrib.auth.models import Group

from events import choices
from events.models import Event
from events.services import groups_ensure
from tests.factories import (
    ActorFactory,
    CitationFactory,
    EventFactory,
    EventTypeFactory,
    PlatformFactory,
    SourceFactory,
    UserFactory,
)

PASSWORD = "correct horse battery"
# Every database: with read replicas configured, a reader's pages are read from them.
pytestmark = pytest.mark.django_db(transaction=True, databases="__all__")


def person(username, group):
    groups_ensure()
    user = UserFactory(username=username, is_superuser=False)
    user.groups.add(Group.objects.get(name=group))
    return user


def log_in(page, live_server, username):
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_selector("#user-tools")


def choose(page, select_id, text):
    """Pick an option in one of the admin's autocomplete (select2) widgets."""
    page.click(f"#{select_id} + .select2 .select2-selection")
    page.fill(".select2-container--open .select2-search__field", text)
    page.click(f".select2-results__option:has-text('{text}')")


def test_a_curator_records_and_submits_an_event_and_an_editor_publishes_it(new_page, live_server):
    person("mei", "Curator")
    person("ana", "Editor")
    EventTypeFactory(name="Account removal or suspension")
    ActorFactory(name="Cyberspace Administration of China")
    ActorFactory(name="Tencent", kind=choices.ActorKind.COMPANY)
    PlatformFactory(name="WeChat")
    SourceFactory(title="China cracks down on instant messaging")

    curator = new_page()
    log_in(curator, live_server, "mei")
    curator.goto(f"{live_server.url}/admin/events/event/add/")
    curator.fill("#id_title", "Over 40 WeChat accounts removed")
    curator.fill("#id_summary", "More than forty public accounts were removed in March 2014.")
    choose(curator, "id_event_type", "Account removal")
    curator.fill("#id_date_text", "2014-03")
    curator.select_option("#id_country", "CN")
    choose(curator, "id_platforms", "WeChat")
    choose(curator, "id_actor_roles-0-actor", "Cyberspace Administration")
    curator.select_option("#id_actor_roles-0-role", "ordered")
    curator.click("#actor_roles-group .add-row a")
    choose(curator, "id_actor_roles-1-actor", "Tencent")
    curator.select_option("#id_actor_roles-1-role", "operated_platform")
    choose(curator, "id_citations-0-source", "China cracks down")
    curator.fill("#id_citations-0-quote", "over 40 accounts being removed from WeChat")
    curator.fill("#id_citations-0-locator", "para. 5")
    curator.click("input[name=_continue]")
    curator.wait_for_selector(".messagelist .success")

    event = Event.objects.get()
    assert (event.public_id, event.date_precision) == ("CN-2014-0001", "month")
    assert curator.locator(".field-date_bounds").inner_text().count("March 2014") == 1
    curator.click("a.button:has-text('Submit for review')")
    curator.click("input[type=submit][value='Submit for review']")
    assert "is now in review" in curator.locator(".messagelist").inner_text()
    assert curator.locator("a.button:has-text('Publish')").count() == 0

    editor = new_page()
    log_in(editor, live_server, "ana")
    editor.goto(f"{live_server.url}/admin/events/eventinreview/")
    assert "nothing: ready to publish" in editor.locator("#result_list").inner_text()
    editor.click("#result_list a:has-text('CN-2014-0001')")
    editor.click("a.button:has-text('Publish')")
    editor.click("input[type=submit][value='Publish']")
    assert "is now published" in editor.locator(".messagelist").inner_text()

    reader = new_page()
    reader.goto(live_server.url)
    assert "Over 40 WeChat accounts removed" in reader.locator("main").inner_text()
    reader.goto(f"{live_server.url}/api/v1/events/?platform={event.platforms.get().slug}")
    listed = json.loads(reader.locator("body").inner_text())["results"]
    assert [item["id"] for item in listed] == ["CN-2014-0001"]
    assert {(actor["name"], actor["role"]) for item in listed for actor in item["actors"]} == {
        ("Cyberspace Administration of China", "ordered"),
        ("Tencent", "operated_platform"),
    }


def test_a_reader_filters_opens_an_event_follows_its_source_and_downloads_the_csv(
    new_page, live_server, artifacts
):
    wechat, weibo = PlatformFactory(name="WeChat"), PlatformFactory(name="Weibo")
    about = SourceFactory(title="About the timeline", url=f"{live_server.url}/about/")
    wanted = []
    for month in ("03", "05", "11"):
        event = EventFactory(
            title=f"WeChat accounts removed 2014-{month}",
            date_text=f"2014-{month}",
            status="published",
        )
        event.platforms.add(wechat)
        CitationFactory(event=event, source=about, quote="the database covers")
        wanted.append(event.public_id)
    for title, platform, date in (
        ("Weibo posts deleted", weibo, "2014-04"),
        ("WeChat accounts removed in 2013", wechat, "2013-06"),
    ):
        other = EventFactory(title=title, date_text=date, status="published")
        other.platforms.add(platform)
    EventFactory(title="WeChat draft never shown", date_text="2014-07").platforms.add(wechat)

    page = new_page()
    page.goto(live_server.url)
    page.screenshot(path=str(artifacts / "timeline.png"), full_page=True)
    page.fill("#id_platform", "wechat ")  # by name, in any letter case
    page.fill("#id_date_from", "2014")
    page.fill("#id_date_to", "2014")
    page.click("button:has-text('Show events')")
    page.wait_for_url(re.compile(r"platform="))

    assert page.locator("#result-count").inner_text() == "3 events"
    assert page.locator("h1").inner_text() == "Events on WeChat in 2014"
    assert page.locator(".chips a").all_inner_texts()[:3] == [
        "From: 2014 \u00d7",  # the chip's remove sign
        "To: 2014 \u00d7",
        "Platform: WeChat \u00d7",
    ]
    assert page.locator("#id_platform").input_value() == "WeChat"
    shown = page.locator("li.event .id").all_inner_texts()
    assert shown == wanted[::-1]  # newest first
    assert "draft" not in page.locator("main").inner_text().lower()
    assert "platform=wechat" in page.url and "date_from=2014" in page.url

    with page.expect_download() as download:
        page.click("text=Download CSV")
    rows = list(csv.DictReader(io.StringIO(Path(download.value.path()).read_text())))
    assert [row["id"] for row in rows] == shown

    page.click("li.event h4 a >> nth=0")
    assert page.locator("h1").inner_text() == "WeChat accounts removed 2014-11"
    assert "November 2014" in page.locator(".when-where").inner_text()
    page.screenshot(path=str(artifacts / "event.png"), full_page=True)
    page.click("a.source-link")
    assert page.url == f"{live_server.url}/about/"
    assert page.locator("h1").inner_text() == "About the Censorship Timeline"


def test_a_second_curators_stale_edit_is_refused_with_the_first_ones_change_shown(
    new_page, live_server
):
    person("mei", "Curator")
    person("tom", "Curator")
    event = EventFactory(title="Accounts removed", date_text="2014-03")

    first, second = new_page(), new_page()
    log_in(first, live_server, "mei")
    log_in(second, live_server, "tom")
    change_url = f"{live_server.url}/admin/events/event/{event.pk}/change/"
    first.goto(change_url)
    second.goto(change_url)

    first.fill("#id_title", "Over 40 accounts removed")
    first.click("input[name=_continue]")
    first.wait_for_selector(".messagelist .success")
    second.fill("#id_summary", "Tom's summary that must not overwrite Mei's title.")
    second.click("input[name=_continue]")
    second.wait_for_selector(".errornote")

    error = second.locator(".errornote, .errorlist").all_inner_texts()
    assert any("mei saved this event" in text for text in error)
    assert any(re.search(r"Accounts removed.+→.+Over 40 accounts removed", text) for text in error)
    event.refresh_from_db()
    assert (event.title, event.summary) == ("Over 40 accounts removed", "Something happened.")
