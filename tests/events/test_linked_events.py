"""A relation shows on both of its events: a change to it is a change to the other end too.

A researcher's mirror follows the change feed (/api/v1/changes/?after=): when a relation
from A to B is added, changed or removed, or A is published or retracted, B's JSON changes
(its relations), so the feed must list B, not only A.
"""

import json

import pytest
from django.test import Client
from django.urls import reverse

from events.models import EventRelation, EventRevision
from events.services import event_publish, event_retract, revision_proposal_of, revision_propose
from tests.admin_forms import add_inline_rows, form_data
from tests.factories import CitationFactory, EventFactory

pytestmark = pytest.mark.django_db
CHANGES = "/api/v1/changes/"


@pytest.fixture
def reader():
    return Client()


@pytest.fixture
def editor_at(editor):
    client = Client()
    client.force_login(editor)
    return client


@pytest.fixture
def a():
    return EventFactory(published=True, cited=True, title="Accounts removed")


@pytest.fixture
def b():
    return EventFactory(published=True, cited=True, title="Crackdown announced")


def position(reader):
    return reader.get(CHANGES).json()["after"]


def changed_since(reader, after):
    """Return {public id: its data} of the events the feed lists after a position."""
    page = reader.get(CHANGES, {"after": after, "page_size": 100}).json()
    return {change["event"]: change["data"] for change in page["results"]}


def shows_link_to(data, event):
    return event.public_id in json.dumps(data["relations"])


def change_url(event):
    return reverse("admin:events_event_change", args=[event.pk])


def relation_rows(response):
    (formset,) = [
        inline.formset
        for inline in response.context["inline_admin_formsets"]
        if inline.formset.model is EventRelation
    ]
    return formset


def test_a_relation_an_editor_adds_lists_the_other_event(reader, editor_at, a, b):
    after = position(reader)
    data = form_data(editor_at.get(change_url(a)))
    prefix = relation_rows(editor_at.get(change_url(a))).prefix
    add_inline_rows(data, prefix, {"to_event": str(b.pk), "relation_type": "caused"})

    assert editor_at.post(change_url(a), data).status_code == 302

    changed = changed_since(reader, after)
    assert set(changed) == {a.public_id, b.public_id}
    assert shows_link_to(changed[b.public_id], a)
    assert changed[b.public_id] == reader.get(f"/api/v1/events/{b.public_id}/").json()


def test_a_relation_changed_or_removed_lists_the_other_events(reader, editor_at, a, b):
    c = EventFactory(published=True, cited=True)
    EventRelation.objects.create(from_event=a, to_event=b, relation_type="caused")
    response = editor_at.get(change_url(a))
    formset = relation_rows(response)
    data = form_data(response)
    after = position(reader)
    data[f"{formset.prefix}-0-to_event"] = str(c.pk)  # B's link moves to C

    assert editor_at.post(change_url(a), data).status_code == 302
    changed = changed_since(reader, after)
    assert {b.public_id, c.public_id} <= set(changed)
    assert not shows_link_to(changed[b.public_id], a)
    assert shows_link_to(changed[c.public_id], a)

    after = position(reader)
    data = form_data(editor_at.get(change_url(a)))
    data[f"{formset.prefix}-0-DELETE"] = "on"
    assert editor_at.post(change_url(a), data).status_code == 302
    changed = changed_since(reader, after)
    assert c.public_id in changed and not shows_link_to(changed[c.public_id], a)


def test_publishing_or_retracting_an_event_lists_the_events_it_links(reader, editor, b):
    draft = EventFactory(title="Draft with a link")
    CitationFactory(event=draft)
    EventRelation.objects.create(from_event=draft, to_event=b, relation_type="precedes")
    after = position(reader)

    event_publish(event=draft, user=editor)
    changed = changed_since(reader, after)
    assert shows_link_to(changed[b.public_id], draft)

    after = position(reader)
    event_retract(event=draft, user=editor, reason="A hoax.")
    changed = changed_since(reader, after)
    assert b.public_id in changed and not shows_link_to(changed[b.public_id], draft)


def test_a_drafts_links_change_nothing_the_public_sees(reader, editor_at, b):
    draft = EventFactory(title="Still a draft")
    after = position(reader)
    response = editor_at.get(change_url(draft))
    data = form_data(response)
    add_inline_rows(
        data, relation_rows(response).prefix, {"to_event": str(b.pk), "relation_type": "related"}
    )

    assert editor_at.post(change_url(draft), data).status_code == 302
    assert b.public_id not in changed_since(reader, after)


def test_an_approved_edit_that_adds_a_relation_lists_the_other_event(
    reader, curator, editor_at, a, b
):
    proposal = revision_proposal_of(a)
    proposal["rows"]["relations_out"].append(
        {"id": None, "to_event": b.pk, "relation_type": "caused", "note": ""}
    )
    revision = revision_propose(event=a, user=curator, proposal=proposal, base_version=a.version)
    after = position(reader)
    assert b.public_id not in changed_since(reader, after)  # pending: nothing public yet

    url = reverse("admin:events_eventrevision_change", args=[revision.pk])
    editor_at.post(url, {"approve": "Approve"})

    assert EventRevision.objects.get().status == EventRevision.Status.APPROVED
    changed = changed_since(reader, after)
    assert shows_link_to(changed[b.public_id], a)
