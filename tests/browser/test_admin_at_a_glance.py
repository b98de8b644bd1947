"""The events admin at a glance, in Chromium at 1280 px (issue 15).

The list shows status, verification and country without scrolling sideways; the change form,
citations and all, fits too; the date reads back as the curator types it, from the server's
own parse; and the country list narrows as the curator types a name.
"""

import pytest

from events.services import CURATOR_GROUP
from tests.factories import (
    CitationFactory,
    EventFactory,
    EventTypeFactory,
    SourceFactory,
    member_of,
)

pytestmark = pytest.mark.django_db(transaction=True, databases="__all__")

PASSWORD = "correct horse battery"  # tests/factories.py UserFactory
FITS = "document.documentElement.scrollWidth <= document.documentElement.clientWidth"


@pytest.fixture
def curator_page(new_page, live_server):
    member_of(CURATOR_GROUP, "mei")
    page = new_page(width=1280, height=900)
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", "mei")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_selector("#user-tools")
    return page


@pytest.fixture
def busy_list(db):
    """Events with long titles and type names, in several places and states."""
    kind = EventTypeFactory(name="Account removal or suspension of a public account")
    source = SourceFactory(title="China cracks down on instant messaging, and " * 3)
    events = []
    for n, country in enumerate(("CN", "HK", "IR", "RU", "TR", "GB")):
        event = EventFactory(
            published=n % 2 == 0,
            cited=True,
            title=f"More than forty WeChat public accounts about current affairs removed {n}",
            event_type=kind,
            date_text="2014-05-27/2014-06-27" if n % 3 else "2014-04~",
            country=country,
        )
        CitationFactory(
            event=event,
            source=source,
            quote="over 40 accounts being removed, most of them run by journalists " * 4,
            locator="paragraph 9, after the second photograph",
            note="The figure is the newspaper's own count " * 3,
        )
        events.append(event)
    return events


def test_the_events_list_fits_1280_px_with_status_verification_and_country(
    curator_page, live_server, busy_list, artifacts
):
    page = curator_page
    page.goto(f"{live_server.url}/admin/events/event/")

    page.screenshot(path=artifacts / "admin-events-list-1280.png", full_page=True)
    assert page.evaluate(FITS), page.evaluate("document.documentElement.scrollWidth")
    # The admin scrolls a wide list inside its own box: that must not scroll either.
    results = page.locator("#changelist .results")
    assert results.evaluate("box => box.scrollWidth <= box.clientWidth")
    right = results.bounding_box()["x"] + results.bounding_box()["width"]
    for column in ("status", "verification", "country_name"):
        assert page.locator(f"#result_list th.column-{column}").is_visible()
        cell = page.locator(f"#result_list td.field-{column}").first.bounding_box()
        assert cell["x"] + cell["width"] <= right, column


def test_the_change_form_fits_1280_px_with_its_citations(
    curator_page, live_server, busy_list, artifacts
):
    page = curator_page
    page.goto(f"{live_server.url}/admin/events/event/{busy_list[0].pk}/change/")

    assert page.locator("#citations-group").is_visible()
    page.screenshot(path=artifacts / "admin-event-form-1280.png", full_page=True)
    assert page.evaluate(FITS), page.evaluate("document.documentElement.scrollWidth")


def test_the_date_reads_back_as_the_curator_types_without_saving(curator_page, live_server):
    page = curator_page
    page.goto(f"{live_server.url}/admin/events/event/add/")

    page.fill("#id_date_text", "2014-03")
    read_as = page.locator("#id_date_text_read_as")
    read_as.filter(has_text="March 2014").wait_for()
    assert read_as.inner_text() == "March 2014: 2014-03-01 to 2014-03-31 (month precision)"
    assert page.url.endswith("/admin/events/event/add/")  # nothing was saved

    page.fill("#id_date_text", "2014-13")
    read_as.filter(has_text="month 13").wait_for()
    assert "read-date-error" in read_as.get_attribute("class")


def test_the_country_field_finds_china_by_typing(curator_page, live_server, artifacts):
    page = curator_page
    page.goto(f"{live_server.url}/admin/events/event/add/")

    page.locator("#id_country_search").press_sequentially("Chin")

    assert page.locator("#id_country").input_value() == "CN"
    shown = page.locator("#id_country option:not([hidden])").all_inner_texts()
    assert "China" in shown
    assert "France" not in shown
    page.screenshot(path=artifacts / "admin-event-country-search-1280.png")
