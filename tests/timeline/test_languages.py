"""The public site in English and Simplified Chinese: the URL picks the language."""

import re

import pytest

from events.choices import EventStatus
from tests.factories import EventFactory

pytestmark = pytest.mark.django_db


def text(response):
    return response.content.decode()


@pytest.fixture
def event(db):
    return EventFactory(status=EventStatus.PUBLISHED, title="Accounts removed", date_text="2014-03")


def test_a_page_is_in_the_language_its_url_names(client, event):
    english, chinese = client.get("/"), client.get("/zh-hans/")

    assert english.status_code == chinese.status_code == 200
    assert '<html lang="en-GB">' in text(english)
    assert '<html lang="zh-Hans">' in text(chinese)
    assert english["Content-Language"] == "en-gb"
    assert chinese["Content-Language"] == "zh-hans"
    assert "审查时间线" in text(chinese)
    assert "审查时间线" not in text(english)


@pytest.mark.parametrize("path", ["/", "/about/", "/events/{id}/", "/data/"])
def test_each_page_links_to_itself_in_each_language(client, event, path):
    path = path.format(id=event.public_id)
    chinese_path = f"/zh-hans{path}"
    for here, other in ((path, chinese_path), (chinese_path, path)):
        page = text(client.get(here))
        alternates = dict(
            re.findall(r'<link rel="alternate" hreflang="([^"]+)" href="([^"]+)">', page)
        )
        assert alternates == {
            "en-GB": f"http://testserver{path}",
            "zh-Hans": f"http://testserver{chinese_path}",
            "x-default": f"http://testserver{path}",
        }
        switcher = re.search(r'<nav class="languages"[^>]*>(.*?)</nav>', page, re.S)[1]
        assert f'href="{other}"' in switcher


def test_the_switcher_keeps_the_filters(client, event):
    page = text(client.get("/", {"date_from": "2014", "ordering": "date"}))

    assert 'href="/zh-hans/?date_from=2014&amp;ordering=date"' in page


def test_the_api_feeds_and_downloads_stay_english_whatever_the_client_prefers(client, event):
    wanted = {"HTTP_ACCEPT_LANGUAGE": "zh-Hans,zh;q=0.9"}
    refused = client.get("/api/v1/events/", {"date_from": "soon"}, **wanted)
    english = client.get("/", **wanted)

    assert refused.status_code == 400
    assert "is not a date" in refused.json()["errors"]["date_from"][0]
    assert refused["Content-Language"] == "en-gb"
    assert '<html lang="en-GB">' in text(english)  # the URL, not the header, decides


def test_a_cached_page_never_answers_in_the_other_language(client, event, settings):
    settings.PUBLIC_CACHE_SECONDS = 300
    first = text(client.get("/"))
    chinese = text(client.get("/zh-hans/"))
    again = text(client.get("/"))

    assert '<html lang="zh-Hans">' in chinese
    assert '<html lang="en-GB">' in first and '<html lang="en-GB">' in again
