"""Cite this event: a reference, BibTeX read by bibtexparser, CSL-JSON rendered by citeproc-py."""

import datetime
import html
import json
import re
from pathlib import Path
from unittest import mock

import bibtexparser
import citeproc
import pytest
from citeproc import (
    Citation,
    CitationItem,
    CitationStylesBibliography,
    CitationStylesStyle,
    formatter,
)
from citeproc.source.json import CiteProcJSON
from django.utils import timezone

from events.models import Event
from events.services.releases import release_make
from tests.factories import EventFactory

pytestmark = pytest.mark.django_db

SITE = "https://timeline.example.org"
HARVARD = Path(citeproc.__file__).parent / "data" / "styles" / "harvard-cite-them-right.csl"


@pytest.fixture(autouse=True)
def site_url(settings):
    settings.SITE_URL = SITE


def cite(client, event):
    page = client.get(f"/events/{event.public_id}/").content.decode()
    section = page[page.index('<section class="cite"') :]
    section = section[: section.index("</section>")]
    text = html.unescape(re.search(r'<p class="citation">(.*?)</p>', section, re.S)[1])
    bibtex, csl = (
        html.unescape(pre) for pre in re.findall(r"<pre[^>]*>(.*?)</pre>", section, re.S)
    )
    return text, bibtex, json.loads(csl)


def test_the_reference_names_the_event_its_address_and_the_access_date(client):
    event = EventFactory(published=True, title="WeChat removes 40 accounts")
    today = timezone.now().date()

    text, _bibtex, _csl = cite(client, event)

    assert text == (
        f"Censorship Timeline. “WeChat removes 40 accounts.” Event {event.public_id}, first "
        f"published {event.first_published_at:%-d %B %Y}. {SITE}/events/{event.public_id}/. "
        f"Accessed {today:%-d %B %Y}."
    )


def test_a_release_made_since_the_last_change_is_cited(client):
    event = EventFactory(published=True, title="In a release")
    release = release_make()

    text, bibtex, csl = cite(client, event)
    Event.objects.filter(pk=event.pk).update(updated_at=timezone.now())  # changed since
    changed_text, _bibtex, changed_csl = cite(client, event)

    assert f"Release {release.number} ({release.released_at:%-d %B %Y})." in text
    assert "release 1" in bibtex and csl[0]["version"] == "1"
    assert "Release" not in changed_text and "version" not in changed_csl[0]


def test_bibtexparser_reads_the_bibtex_with_special_characters(client):
    event = EventFactory(published=True, title="50% of {accounts} & #tags_removed ~ C:\\path")

    _text, bibtex, _csl = cite(client, event)

    (entry,) = bibtexparser.loads(bibtex).entries
    assert entry["ENTRYTYPE"] == "misc"
    assert entry["ID"] == f"censorship-timeline-{event.public_id.lower()}"
    assert entry["title"] == r"50\% of \{accounts\} \& \#tags\_removed \~{} C:\textbackslash{}path"
    assert entry["howpublished"] == f"\\url{{{SITE}/events/{event.public_id}/}}"


def test_citeproc_renders_the_csl_json_in_a_citation_style(client):
    event = EventFactory(published=True, title="Weibo closes accounts")

    _text, _bibtex, csl = cite(client, event)

    style = CitationStylesStyle(str(HARVARD), validate=False)
    bibliography = CitationStylesBibliography(style, CiteProcJSON(csl), formatter.plain)
    bibliography.register(Citation([CitationItem(event.public_id)]))
    (rendered,) = [str(item) for item in bibliography.bibliography()]
    assert "Censorship Timeline" in rendered and "Weibo closes accounts" in rendered
    assert f"{SITE}/events/{event.public_id}/" in rendered
    assert str(datetime.date.today().year) in rendered


def test_the_access_date_follows_the_day_even_from_the_cache(client):
    event = EventFactory(published=True)
    first = client.get(f"/events/{event.public_id}/")

    later = timezone.now() + datetime.timedelta(days=1)
    with mock.patch("django.utils.timezone.now", return_value=later):
        second = client.get(f"/events/{event.public_id}/").content.decode()

    assert f"Accessed {later:%-d %B %Y}." in html.unescape(second)
    assert first.content.decode() != second
