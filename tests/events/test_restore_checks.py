"""Restoring an old version of a published event runs the checks publishing runs: a version
from its draft days, with no type or no country, is not restored over the published event."""

import pytest
from django.test import Client

from events.choices import EventStatus
from events.models import Event
from events.services import CURATOR_GROUP, EDITOR_GROUP, event_publish, event_save, event_submit
from tests.admin_forms import form_data
from tests.factories import CitationFactory, EventTypeFactory, member_of

pytestmark = pytest.mark.django_db


def signed_in(user):
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def published_after_a_bare_draft():
    """An event drafted with no type and no country, then completed and published."""
    cora, eda = member_of(CURATOR_GROUP, "cora"), member_of(EDITOR_GROUP, "eda")
    event = event_save(
        event=Event(title="Bare draft", summary="Something happened.", date_text="2014-03"),
        user=cora,
    )
    bare = event.history.latest().history_id
    event.event_type, event.country = EventTypeFactory(), "CN"
    event_save(event=event, user=cora)
    CitationFactory(event=event)
    event_submit(event=Event.objects.get(pk=event.pk), user=cora)
    event_publish(event=Event.objects.get(pk=event.pk), user=eda)
    return Event.objects.get(pk=event.pk), bare, cora, eda


def restore(client, event, history_id):
    url = f"/admin/events/event/{event.pk}/history/{history_id}/"
    page = client.get(url)
    assert page.status_code == 200
    return client.post(url, form_data(page))


@pytest.mark.parametrize("persona", ["curator", "editor"])
def test_a_version_with_no_type_or_country_is_not_restored_over_a_published_event(
    published_after_a_bare_draft, persona
):
    event, bare, cora, eda = published_after_a_bare_draft
    client = signed_in(cora if persona == "curator" else eda)

    response = restore(client, event, bare)

    assert response.status_code == 200  # the form again, with the reason
    page = response.content.decode()
    assert "A published event needs an event type, a country, or &#x27;global&#x27;." in page
    kept = Event.objects.get(pk=event.pk)
    assert kept.status == EventStatus.PUBLISHED
    assert kept.event_type_id == event.event_type_id and kept.country == "CN"
    assert kept.version == event.version


def test_a_complete_version_is_restored_over_a_published_event(published_after_a_bare_draft):
    # By an editor, whose edits go live (a curator's restore waits for one: moderated edits).
    event, _bare, _cora, eda = published_after_a_bare_draft
    complete = event.history.filter(event_type__isnull=False).earliest().history_id
    Event.objects.filter(pk=event.pk).update(title="Edited since")

    response = restore(signed_in(eda), event, complete)

    assert response.status_code == 302
    assert Event.objects.get(pk=event.pk).title == "Bare draft"


def test_an_edit_cannot_take_the_type_from_a_published_event(published_after_a_bare_draft):
    event, _bare, cora, _eda = published_after_a_bare_draft
    client = signed_in(cora)
    url = f"/admin/events/event/{event.pk}/change/"
    data = form_data(client.get(url)) | {"event_type": ""}

    response = client.post(url, data)

    assert response.status_code == 200
    assert "A published event needs an event type" in response.content.decode()
    assert Event.objects.get(pk=event.pk).event_type_id == event.event_type_id
