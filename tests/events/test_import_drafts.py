"""A draft imported is a draft: the file's record of publication is not copied into it.

An exported CSV carries first_published_at and updated_at. Read into an event the import
creates as published, they keep its history from the database it came from; read into a
draft, a publication time would make the draft look public (the admin refuses to delete an
event that has been public), so a draft or an event in review takes neither.
"""

import datetime

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from events import choices, services
from events.models import Event, PublicChange
from tests.events.test_import import confirm, csv_bytes, event_row, preview
from tests.factories import EventFactory, member_of

CHANGES = "/api/v1/changes/"
PUBLISHED_ELSEWHERE = "2024-01-02T09:00:00.123456Z"
CHANGED_ELSEWHERE = "2024-02-02T10:30:00.654321Z"
UTC = datetime.UTC


@pytest.fixture
def editor_client(client, db):
    """An editor (the Editor group), the persona who imports and deletes drafts."""
    client.force_login(member_of(services.EDITOR_GROUP, "import-editor"))
    return client


def import_rows(client, rows, status):
    """Import rows through the admin's upload, preview and confirm, as an editor does."""
    return confirm(client, preview(client, "event", csv_bytes(rows), status=status))


def exported_row(**cells):
    """A row as another database's export writes it: with its record of publication."""
    return event_row(
        id="CN-2014-0042",
        first_published_at=PUBLISHED_ELSEWHERE,
        updated_at=CHANGED_ELSEWHERE,
        **cells,
    )


@pytest.fixture
def imported_draft(editor_client):
    started = timezone.now()
    import_rows(editor_client, [exported_row()], choices.EventStatus.DRAFT)
    event = Event.objects.get(public_id="CN-2014-0042")
    event.import_started = started
    return event


def test_a_draft_imported_from_an_export_has_no_publication_time(imported_draft):
    assert imported_draft.status == choices.EventStatus.DRAFT
    assert imported_draft.first_published_at is None


def test_a_draft_imported_from_an_export_was_changed_when_it_was_imported(imported_draft):
    assert imported_draft.updated_at >= imported_draft.import_started


def test_the_public_change_feed_does_not_list_an_imported_draft(imported_draft):
    published = EventFactory(status=choices.EventStatus.PUBLISHED)

    response = Client().get(CHANGES)

    assert response.status_code == 200
    listed = [change["event"] for change in response.json()["results"]]
    assert listed == [published.public_id]
    assert not PublicChange.objects.filter(public_id=imported_draft.public_id).exists()


def test_an_editor_can_delete_an_imported_draft(editor_client, imported_draft):
    url = reverse("admin:events_event_delete", args=[imported_draft.pk])

    asked = editor_client.get(url)
    deleted = editor_client.post(url, {"post": "yes"})

    assert asked.status_code == 200
    assert deleted.status_code == 302
    assert not Event.objects.filter(pk=imported_draft.pk).exists()


def test_an_event_imported_for_review_has_no_publication_time_either(editor_client):
    started = timezone.now()

    import_rows(editor_client, [exported_row()], choices.EventStatus.IN_REVIEW)

    event = Event.objects.get()
    assert (event.status, event.first_published_at) == (choices.EventStatus.IN_REVIEW, None)
    assert event.updated_at >= started


def test_a_file_cannot_set_what_only_the_workflow_sets_on_a_draft(editor_client):
    started = timezone.now()
    smuggled = {
        "status": "published",
        "published_at": PUBLISHED_ELSEWHERE,
        "submitted_at": PUBLISHED_ELSEWHERE,
        "retracted_at": PUBLISHED_ELSEWHERE,
        "retraction_reason": "Never retracted here.",
        "created_at": PUBLISHED_ELSEWHERE,
        "version": "7",
    }

    import_rows(editor_client, [exported_row(**smuggled)], choices.EventStatus.DRAFT)

    event = Event.objects.get()
    assert (event.status, event.version) == (choices.EventStatus.DRAFT, 1)
    assert (event.first_published_at, event.submitted_at, event.retracted_at) == (None,) * 3
    assert event.retraction_reason == ""
    assert event.created_at >= started
    assert not event.transitions.exists()


def test_an_event_imported_as_published_keeps_its_record_of_publication(editor_client):
    import_rows(editor_client, [exported_row()], choices.EventStatus.PUBLISHED)

    event = Event.objects.get()
    assert event.status == choices.EventStatus.PUBLISHED
    assert event.first_published_at == datetime.datetime(2024, 1, 2, 9, 0, 0, 123456, tzinfo=UTC)
    assert event.updated_at == datetime.datetime(2024, 2, 2, 10, 30, 0, 654321, tzinfo=UTC)
