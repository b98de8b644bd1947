"""The review queue acts: an editor previews an event, sees what changed since the public
last saw it, field by field and row by row, and publishes or returns it from the queue."""

import html
import re

import pytest
from django.test import Client

from events.choices import EventStatus, Role
from events.models import Citation, Event
from events.services import (
    CURATOR_GROUP,
    EDITOR_GROUP,
    event_publish,
    event_return_to_draft,
    event_save,
    event_submit,
)
from tests.factories import (
    ActorFactory,
    CitationFactory,
    EventActorFactory,
    EventTypeFactory,
    member_of,
)

pytestmark = pytest.mark.django_db

QUEUE = "/admin/events/eventinreview/"


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


def fresh(event):
    return Event.objects.get(pk=event.pk)


def submitted(user, title):
    event = event_save(
        event=Event(
            title=title,
            summary="Accounts removed.",
            event_type=EventTypeFactory(),
            date_text="2014-03",
            country="CN",
        ),
        user=user,
    )
    CitationFactory(event=event, quote="over 40 accounts", source__title="The report")
    return event_submit(event=fresh(event), user=user)


@pytest.fixture
def republished_with_changes(cora, eda):
    """Published once; returned; the curator changed its title, an actor and a citation."""
    event = submitted(cora, "WeChat accounts removed")
    event_publish(event=fresh(event), user=eda)
    event_return_to_draft(event=fresh(event), user=eda, comment="Add who ordered it.")
    event = fresh(event)
    event.title = "WeChat public accounts removed"
    event_save(event=event, user=cora)
    EventActorFactory(event=event, actor=ActorFactory(name="CAC"), role=Role.ORDERED)
    Citation.objects.filter(event=event).delete()
    CitationFactory(event=event, quote="dozens of accounts", source__title="A later report")
    return event_submit(event=fresh(event), user=cora)


def cells(page):
    """Return the rows of the changes table as (what, before, after) texts."""
    table = re.search(r'<table class="changes">(.*?)</table>', page, re.S)
    assert table, "no table of changes"
    rows = re.findall(
        r"<tr><th scope=\"row\">(.*?)</th><td>(.*?)</td><td>(.*?)</td></tr>", table[1]
    )
    return [tuple(html.unescape(cell.replace("<br>", "\n")) for cell in row) for row in rows]


def test_an_editor_decides_from_the_queue(eda, republished_with_changes):
    event = republished_with_changes
    page = signed_in(eda).get(QUEUE).content.decode()

    assert f'href="/events/{event.public_id}/preview/"' in page
    assert f'href="/admin/events/event/{event.pk}/workflow/publish/?from=queue"' in page
    assert f'href="/admin/events/event/{event.pk}/workflow/return/?from=queue"' in page


def test_a_curator_sees_the_queue_without_the_editor_s_moves(cora, republished_with_changes):
    page = signed_in(cora).get(QUEUE).content.decode()

    assert "/preview/" in page
    assert "/workflow/publish/" not in page


def test_publishing_shows_each_change_since_the_public_last_saw_it(eda, republished_with_changes):
    event = republished_with_changes
    url = f"/admin/events/event/{event.pk}/workflow/publish/?from=queue"

    page = signed_in(eda).get(url).content.decode()

    changes = {what: (before, after) for what, before, after in cells(page)}
    assert changes["Title"] == ("WeChat accounts removed", "WeChat public accounts removed")
    assert changes["Actors"] == ("", "Ordered or decided: CAC")
    before, after = changes["Citations"]
    assert "The report" in before and "over 40 accounts" in before
    assert "A later report" in after and "dozens of accounts" in after
    assert "Summary" not in changes  # unchanged fields are not listed
    assert f'href="/events/{event.public_id}/preview/"' in page


def test_publishing_from_the_queue_comes_back_to_it(eda, republished_with_changes):
    event = republished_with_changes
    client = signed_in(eda)
    url = f"/admin/events/event/{event.pk}/workflow/publish/?from=queue"

    response = client.post(url, {"comment": "Checked against the ruling."})

    assert response.status_code == 302
    assert response["Location"] == QUEUE
    assert fresh(event).status == EventStatus.PUBLISHED
    assert fresh(event).title == "WeChat public accounts removed"


def test_returning_from_the_queue_keeps_the_comment(eda, republished_with_changes):
    event = republished_with_changes
    url = f"/admin/events/event/{event.pk}/workflow/return/?from=queue"

    response = signed_in(eda).post(url, {"comment": "Which ministry?"})

    assert response["Location"] == QUEUE
    assert fresh(event).status == EventStatus.DRAFT
    assert fresh(event).transitions.first().comment == "Which ministry?"


def test_an_event_never_published_is_all_new(cora, eda):
    event = submitted(cora, "First time in review")

    page = signed_in(eda).get(f"/admin/events/event/{event.pk}/workflow/publish/").content.decode()

    assert "It has never been published" in page


def test_a_curator_cannot_publish_from_the_queue(cora, republished_with_changes):
    event = republished_with_changes
    url = f"/admin/events/event/{event.pk}/workflow/publish/?from=queue"

    assert signed_in(cora).post(url, {"comment": ""}).status_code == 403
    assert fresh(event).status == EventStatus.IN_REVIEW


def test_the_from_parameter_never_sends_anywhere_else(eda, republished_with_changes):
    event = republished_with_changes
    url = f"/admin/events/event/{event.pk}/workflow/return/?from=https://evil.example/"

    response = signed_in(eda).post(url, {"comment": "x"})

    assert response["Location"] == f"/admin/events/event/{event.pk}/change/"
