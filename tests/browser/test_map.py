"""The map on the timeline, in Chromium: a reader narrows the timeline by country."""

import pytest

from tests.factories import EventFactory

pytestmark = pytest.mark.django_db(transaction=True, databases="__all__")


@pytest.fixture
def events_in_three_places(db):
    for _ in range(3):
        EventFactory(published=True, title="In China", country="CN")
    EventFactory(published=True, title="In Hong Kong", country="HK")
    EventFactory(published=True, title="Everywhere", country="", is_global=True)


def test_a_reader_clicks_a_country_on_the_map(
    new_page, live_server, events_in_three_places, artifacts
):
    page = new_page(width=1280)
    page.goto(f"{live_server.url}/")
    page.screenshot(path=artifacts / "map-1280.png", full_page=True)

    china = page.locator(".worldmap a[href='/?country=CN'] g")
    assert china.locator("title").text_content() == "China: 3 events"
    box = china.bounding_box()
    assert box["width"] > 60 and box["height"] > 40  # big enough to aim at
    china.click(position={"x": box["width"] * 0.6, "y": box["height"] * 0.5})
    page.wait_for_url("**/?country=CN")

    assert page.locator("#result-count").text_content() == "3 events"
    assert page.locator(".country-counts li").all_text_contents() == ["China 3"]


def test_on_a_phone_the_country_list_comes_before_the_map(
    new_page, live_server, events_in_three_places, artifacts
):
    page = new_page(width=390, height=844)
    page.goto(f"{live_server.url}/")
    page.screenshot(path=artifacts / "map-390.png", full_page=True)

    listed = page.locator(".country-counts")
    drawn = page.locator(".worldmap")
    assert listed.bounding_box()["y"] < drawn.bounding_box()["y"]
    assert drawn.bounding_box()["width"] <= 390
    assert listed.locator("li").all_text_contents() == ["China 3", "Global 1", "Hong Kong 1"]
    listed.get_by_role("link", name="Hong Kong").click()
    page.wait_for_url("**/?country=HK")
    assert page.locator("#result-count").text_content() == "1 event"
