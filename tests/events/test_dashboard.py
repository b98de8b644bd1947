"""The admin opens on the curator's work: their drafts, what an editor returned to them, the
review queue with what each event still needs, what was published lately, and the sources
at risk; each panel's count links to a list that holds exactly those rows."""

import html
import re

import pytest
from django.test import Client
from django.utils import timezone

from events.models import Event, EventRevision, Source
from events.services import (
    CURATOR_GROUP,
    EDITOR_GROUP,
    event_publish,
    event_return_to_draft,
    event_save,
    event_submit,
    revision_proposal_of,
    revision_propose,
)
from tests.factories import CitationFactory, EventTypeFactory, SourceFactory, member_of

pytestmark = pytest.mark.django_db

INDEX = "/admin/"


@pytest.fixture
def cora():
    return member_of(CURATOR_GROUP, "cora")


@pytest.fixture
def eda():
    return member_of(EDITOR_GROUP, "eda")


def signed_in(user):
    client = Client()
    client.force_login(user)
    return client


def draft(user, title, cited=True):
    event = event_save(
        event=Event(
            title=title,
            summary="Something happened.",
            event_type=EventTypeFactory(),
            date_text="2014-03",
            country="CN",
        ),
        user=user,
    )
    if cited:
        CitationFactory(event=event, quote="accounts removed")
    return event


def panel(page, title):
    """Return (count, link, text) of the dashboard's panel with this title."""
    found = re.search(
        r'<h2 id="panel-\d+"><a href="([^"]+)">' + re.escape(title) + r"</a> "
        r'<span class="dashboard-count">(\d+)</span></h2>(.*?)</section>',
        page,
        re.S,
    )
    assert found, f"no panel {title!r}"
    link, count, text = found.groups()
    return int(count), html.unescape(link), html.unescape(re.sub(r"<[^>]+>", " ", text))


def listed(client, link):
    """Return the public ids the admin list behind a panel's link shows."""
    response = client.get(link)
    assert response.status_code == 200, link
    assert "?e=1" not in response.get("Location", "")
    return set(re.findall(r"\b[A-Z]{2}-\d{4}-\d{4}\b", response.content.decode()))


@pytest.fixture
def work(cora, eda):
    mine = [draft(cora, "Cora's first draft"), draft(cora, "Cora's second draft")]
    returned = draft(cora, "Sent back for a source")
    event_submit(event=returned, user=cora)
    event_return_to_draft(event=returned, user=eda, comment="Please cite the court ruling.")
    waiting = draft(cora, "Waiting without a source", cited=False)
    event_submit(event=waiting, user=cora)
    ready = draft(cora, "Waiting and ready")
    event_submit(event=ready, user=cora)
    published = draft(cora, "Out in the world")
    event_submit(event=published, user=cora)
    event_publish(event=published, user=eda)
    draft(eda, "The editor's own draft")
    return {"mine": mine, "returned": returned, "waiting": waiting, "published": published}


def test_a_curator_opens_the_admin_on_their_own_work(cora, work):
    page = signed_in(cora).get(INDEX).content.decode()

    count, _link, text = panel(page, "My drafts")
    assert count == 3  # two drafts and the one returned: the editor's draft is not hers
    assert "Cora's first draft" in text and "The editor's own draft" not in text

    count, _link, text = panel(page, "Returned to me by an editor")
    assert count == 1
    assert "Sent back for a source" in text
    assert "Please cite the court ruling." in text


def test_the_review_queue_oldest_first_says_what_each_event_still_needs(cora, work):
    page = signed_in(cora).get(INDEX).content.decode()

    count, link, text = panel(page, "In review, oldest first")
    assert count == 2
    assert text.index("Waiting without a source") < text.index("Waiting and ready")
    assert "needs a source" in text or "needs at least one" in text or "citation" in text
    assert "nothing: ready to publish" in text
    assert link == "/admin/events/eventinreview/"


def test_each_count_links_to_a_list_of_exactly_those_events(cora, eda, work):
    client = signed_in(cora)
    page = client.get(INDEX).content.decode()

    for title, expected in (
        ("My drafts", {e.public_id for e in [*work["mine"], work["returned"]]}),
        ("Returned to me by an editor", {work["returned"].public_id}),
        ("Recently published", {work["published"].public_id}),
    ):
        count, link, _text = panel(page, title)
        assert listed(client, link) == expected, title
        assert count == len(expected), title


def test_an_editor_sees_their_own_drafts_and_the_same_queue(eda, work):
    page = signed_in(eda).get(INDEX).content.decode()

    count, _link, text = panel(page, "My drafts")
    assert count == 1 and "The editor's own draft" in text
    assert panel(page, "In review, oldest first")[0] == 2
    assert "Out in the world" in panel(page, "Recently published")[2]


def test_sources_at_risk_link_to_their_filtered_lists(cora):
    dead = SourceFactory(title="Gone page", url="https://example.org/gone")
    Source.objects.filter(pk=dead.pk).update(
        is_link_dead=True, link_status="404 Not Found", link_checked_at=timezone.now()
    )
    SourceFactory(title="Never archived", url="https://example.org/bare", archive_url="")
    SourceFactory(
        title="Safe", url="https://example.org/safe", archive_url="https://web.archive.org/x"
    )
    client = signed_in(cora)
    page = client.get(INDEX).content.decode()

    count, link, text = panel(page, "Sources whose link is dead")
    assert count == 1 and "Gone page" in text and "404 Not Found" in text
    assert "Gone page" in client.get(link).content.decode()

    count, link, text = panel(page, "Sources with no archived copy")
    assert "Never archived" in text and "Safe" not in text
    shown = client.get(link).content.decode()
    assert "Never archived" in shown and ">Safe<" not in shown


def test_an_empty_dashboard_says_so(cora):
    page = signed_in(cora).get(INDEX).content.decode()

    assert panel(page, "My drafts")[0] == 0
    assert "No drafts of yours." in page
    assert "Nothing waits for review." in page


def test_a_reader_is_sent_to_sign_in(client, work):
    response = client.get(INDEX)

    assert response.status_code == 302
    assert "Cora" not in response.content.decode()


def test_the_dashboard_in_chinese(cora, work):
    page = signed_in(cora).get("/zh-hans/admin/").content.decode()

    assert "我的草稿" in page


def test_the_events_list_says_each_date_as_a_reader_would_beside_its_edtf(cora, work):
    page = signed_in(cora).get("/admin/events/event/").content.decode()

    assert 'March 2014<br><code class="edtf">2014-03</code>' in page


def test_edits_waiting_for_an_editor_each_see_theirs(cora, eda, work):
    other = member_of(CURATOR_GROUP, "otto")
    published = work["published"]
    revision_propose(
        event=published,
        user=other,
        proposal=revision_proposal_of(published),
        base_version=published.version,
    )
    second = draft(cora, "Also out")
    event_submit(event=second, user=cora)
    event_publish(event=second, user=eda)
    mine = revision_propose(
        event=second, user=cora, proposal=revision_proposal_of(second), base_version=second.version
    )
    title = "Edits of published events waiting for an editor"

    editor = signed_in(eda)
    count, link, text = panel(editor.get(INDEX).content.decode(), title)
    assert count == 2
    assert text.index("otto") < text.index("cora")  # oldest first
    assert listed(editor, link) == {published.public_id, second.public_id}

    curator = signed_in(cora)
    count, link, text = panel(curator.get(INDEX).content.decode(), title)
    assert count == 1 and "Also out" in text and "otto" not in text
    assert listed(curator, link) == {second.public_id}
    mine.status = EventRevision.Status.APPROVED
    mine.save()
    assert panel(curator.get(INDEX).content.decode(), title)[0] == 0
