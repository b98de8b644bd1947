"""Likely duplicates are shown in the preview as warnings; they never stop an import."""

import pytest

from events import choices, services
from events.models import Event
from tests.events.test_import import confirm_form_of, csv_bytes, event_row, preview
from tests.factories import (
    ActorFactory,
    EventFactory,
    EventTypeFactory,
    PlatformFactory,
    member_of,
)


@pytest.fixture
def editor_of_imports(client, db):
    client.force_login(member_of(services.EDITOR_GROUP, "duplicates-editor"))
    return client


@pytest.fixture
def removal(db):
    ActorFactory(name="Tencent")
    PlatformFactory(name="WeChat")
    return EventTypeFactory(slug="account-removal")


def warnings_by_row(response):
    return {row.row_number: row.notes for row in response.context["result"].valid_rows()}


def test_an_event_of_the_same_type_country_and_dates_is_a_likely_duplicate(
    editor_of_imports, removal
):
    stored = EventFactory(
        title="Accounts closed", event_type=removal, date_text="2014-03-10", country="CN"
    )
    row = event_row(title="Something else entirely", date="2014-03")

    notes = warnings_by_row(preview(editor_of_imports, "event", csv_bytes([row])))[1]

    assert notes == [
        f"likely duplicate of {stored.public_id} 'Accounts closed': "
        "same type, country and overlapping dates"
    ]


def test_a_very_similar_title_is_a_likely_duplicate_whatever_its_type(editor_of_imports, removal):
    stored = EventFactory(title="WeChat public accounts removed", date_text="2001", country="RU")
    row = event_row(title="Wechat public accounts removed.", date="2014-03")

    (note,) = warnings_by_row(preview(editor_of_imports, "event", csv_bytes([row])))[1]

    assert note.startswith(f"likely duplicate of {stored.public_id} ")
    assert "very similar title (9" in note


def test_rows_of_the_same_file_are_checked_against_each_other(editor_of_imports, removal):
    rows = [
        event_row(title="Channel blocked", date="2014-03"),
        event_row(title="Other", date="2014"),
    ]

    notes = warnings_by_row(preview(editor_of_imports, "event", csv_bytes(rows)))

    assert notes[1] == [
        "likely duplicate of row 2 'Other': same type, country and overlapping dates"
    ]
    assert notes[2] == [
        "likely duplicate of row 1 'Channel blocked': same type, country and overlapping dates"
    ]


def test_another_country_or_other_dates_are_no_duplicate(editor_of_imports, removal):
    EventFactory(title="Accounts closed", event_type=removal, date_text="2014-03", country="RU")
    EventFactory(title="Accounts closed", event_type=removal, date_text="2019", country="CN")
    row = event_row(title="WeChat public accounts removed", date="2014-03")

    assert warnings_by_row(preview(editor_of_imports, "event", csv_bytes([row]))) == {1: []}


def test_an_event_does_not_duplicate_itself_when_its_row_updates_it(editor_of_imports, removal):
    stored = EventFactory(title="Accounts closed", event_type=removal, date_text="2014-03")
    row = event_row(id=stored.public_id, title="Accounts closed, renamed", date="2014-03")

    assert warnings_by_row(preview(editor_of_imports, "event", csv_bytes([row]))) == {1: []}


def test_a_retracted_event_is_no_duplicate(editor_of_imports, removal):
    EventFactory(
        title="WeChat public accounts removed",
        event_type=removal,
        date_text="2014-03",
        country="CN",
        status=choices.EventStatus.RETRACTED,
        retraction_reason="wrong",
        first_published_at="2014-04-01T00:00:00Z",
        retracted_at="2014-05-01T00:00:00Z",
    )

    response = preview(editor_of_imports, "event", csv_bytes([event_row()]))

    assert warnings_by_row(response) == {1: []}


def test_a_likely_duplicate_is_a_warning_and_imports_all_the_same(editor_of_imports, removal):
    EventFactory(title="WeChat public accounts removed", event_type=removal, date_text="2014-03")
    previewed = preview(editor_of_imports, "event", csv_bytes([event_row()]))
    assert "likely duplicate of" in previewed.content.decode()

    action, data = confirm_form_of(previewed)
    editor_of_imports.post(action, data)

    assert Event.objects.count() == 2
