"""Confirming an import writes its new events a batch at a time: their history, their public
ids, and what a bad row or a refused batch does to the rest."""

import threading

import pytest
from django.contrib.admin.models import ADDITION, LogEntry
from django.db import IntegrityError, connection, connections, transaction
from django.test.utils import CaptureQueriesContext

from events import choices, services
from events.models import (
    Actor,
    Citation,
    Event,
    EventActor,
    EventCount,
    Platform,
    PublicIdSequence,
    Source,
)
from tests.events.test_import import (
    confirm,
    confirm_form_of,
    csv_bytes,
    event_row,
    import_file,
    invalid_rows,
    preview,
    shown_messages,
)
from tests.factories import (
    ActorFactory,
    EventFactory,
    EventTypeFactory,
    PlatformFactory,
    SourceFactory,
    TagFactory,
)


@pytest.fixture
def known(db):
    EventTypeFactory(slug="account-removal", name="Account removal")
    ActorFactory(name="Tencent")
    PlatformFactory(name="WeChat")
    TagFactory(name="rumours")


def rows_of(count, **cells):
    return [event_row(title=f"Accounts removed, part {n}", **cells) for n in range(1, count + 1)]


def public_ids():
    return list(Event.objects.order_by("pk").values_list("public_id", flat=True))


# History -----------------------------------------------------------------------------------


def test_each_imported_event_has_one_creation_record_with_its_platforms_and_tags(
    editor_client, editor, known
):
    row = event_row(platforms="WeChat; Kanal", tags="rumours; instant messaging")

    import_file(editor_client, "event", csv_bytes([row]))

    event = Event.objects.get()
    (record,) = event.history.all()
    assert (record.history_type, record.history_user, record.history_change_reason) == (
        "+",
        editor,
        None,
    )
    assert (record.public_id, record.title, record.status) == (
        event.public_id,
        event.title,
        choices.EventStatus.DRAFT,
    )
    assert {link.platform.name for link in record.platforms.all()} == {"WeChat", "Kanal"}
    assert {link.tag.name for link in record.tags.all()} == {"rumours", "instant messaging"}


def test_each_imported_link_has_its_creation_record_naming_the_importing_user(
    editor_client, editor, known
):
    row = event_row(
        actors="Tencent (implemented or enforced); Northwind (targeted)",
        counts="about 5 accounts; exactly 3 people",
        sources="A (B, 2014-01-01) <https://x.example/1>; C (D) <https://x.example/2>",
        quotes="one; two",
    )

    import_file(editor_client, "event", csv_bytes([row]))

    for model, count in ((EventActor, 2), (EventCount, 2), (Citation, 3)):
        records = model.history.all()
        assert records.count() == count == model.objects.count()
        assert {(r.history_type, r.history_user, r.history_change_reason) for r in records} == {
            ("+", editor, None)
        }
    # New names and sources are saved one by one, as curators' saves are.
    for model, name in ((Actor, "Northwind"), (Source, "A"), (Source, "C")):
        found = model.history.get(**({"name": name} if model is Actor else {"title": name}))
        assert (found.history_type, found.history_user) == ("+", editor)


def test_an_event_imported_as_published_records_its_creation_then_its_publication(
    editor_client, editor, known
):
    import_file(editor_client, "event", csv_bytes([event_row()]), status="published")

    records = Event.objects.get().history.order_by("history_date", "history_id")
    assert [(r.history_type, r.status, r.history_user) for r in records] == [
        ("+", choices.EventStatus.DRAFT, editor),
        ("~", choices.EventStatus.PUBLISHED, editor),
    ]


def test_a_row_that_updates_an_event_is_recorded_as_a_change_by_the_importing_user(
    editor_client, editor, known
):
    stored = EventFactory(title="Old title")
    row = event_row(id=stored.public_id, title="New title", platforms="WeChat", quotes="new")

    response = import_file(editor_client, "event", csv_bytes([row]))

    assert shown_messages(response)[0].startswith("Import finished: 0 new, 1 updated")
    stored.refresh_from_db()
    assert stored.title == "New title"
    assert list(stored.platforms.values_list("name", flat=True)) == ["WeChat"]
    assert list(stored.citations.values_list("quote", flat=True)) == ["new"]
    latest = stored.history.order_by("-history_date", "-history_id").first()
    assert (latest.history_type, latest.history_user, latest.title) == ("~", editor, "New title")


def test_new_sources_of_a_batch_get_free_keys_as_saving_them_one_by_one_did(editor_client, known):
    SourceFactory(key="bulletin-2014-01-15", url="https://stored.example/1")
    rows = [
        event_row(title=f"Part {n}", sources=f"Bulletin (M, 2014-01-15) <https://x.example/{n}>")
        for n in (1, 2)
    ]

    import_file(editor_client, "event", csv_bytes(rows))

    assert list(
        Source.objects.filter(url__startswith="https://x.example/")
        .order_by("url")
        .values_list("url", "key")
    ) == [
        ("https://x.example/1", "bulletin-2014-01-15-2"),
        ("https://x.example/2", "bulletin-2014-01-15-3"),
    ]
    assert Source.history.filter(history_type="+").count() == 3


def test_the_admin_log_names_each_imported_event_by_its_id(editor_client, editor, known):
    import_file(editor_client, "event", csv_bytes(rows_of(2)))

    logged = LogEntry.objects.order_by("object_id")
    assert [(e.user, e.action_flag, e.object_id, e.object_repr) for e in logged] == [
        (editor, ADDITION, str(event.pk), str(event)) for event in Event.objects.order_by("pk")
    ]
    assert str(Event.objects.first()).startswith("CN-2014-0001: ")


# Public ids --------------------------------------------------------------------------------


def test_a_batch_numbers_its_events_in_row_order_within_each_prefix(editor_client, known):
    rows = [
        event_row(title="First", date="2014-03"),
        event_row(title="Russian", date="2014-04", country="RU"),
        event_row(title="Second", date="2014-05"),
        event_row(title="Other year", date="2015"),
        event_row(title="Third", date="2014"),
    ]

    import_file(editor_client, "event", csv_bytes(rows))

    assert public_ids() == [
        "CN-2014-0001",
        "RU-2014-0001",
        "CN-2014-0002",
        "CN-2015-0001",
        "CN-2014-0003",
    ]
    assert PublicIdSequence.objects.get(prefix="CN-2014").last_number == 3


def test_ids_go_on_after_stored_deleted_and_previously_imported_events(editor_client, known):
    EventFactory(public_id="CN-2014-0005")
    EventFactory(public_id="CN-2014-0009").delete()  # its id stays in history, never reused
    import_file(editor_client, "event", csv_bytes(rows_of(2)))

    import_file(editor_client, "event", csv_bytes(rows_of(2)))

    assert public_ids() == [
        "CN-2014-0005",
        "CN-2014-0010",
        "CN-2014-0011",
        "CN-2014-0012",
        "CN-2014-0013",
    ]


def test_an_id_the_file_brings_is_never_given_to_another_row(editor_client, known):
    rows = [event_row(title="No id"), event_row(id="CN-2014-0002"), event_row(title="Nor this")]

    import_file(editor_client, "event", csv_bytes(rows))

    assert public_ids() == ["CN-2014-0003", "CN-2014-0002", "CN-2014-0004"]


def test_a_single_save_after_an_import_takes_the_next_id(editor_client, known):
    import_file(editor_client, "event", csv_bytes(rows_of(3)))

    assert EventFactory(date_text="2014-07").public_id == "CN-2014-0004"


def allocate_in_transaction(dates, allocated, hold=None, release=None):
    """Allocate ids for unsaved events in a transaction of this thread's own connection."""
    try:
        with transaction.atomic():
            events = [Event(date_text=date, country="CN") for date in dates]
            services.events_allocate_public_ids(events=events)
            allocated.extend(event.public_id for event in events)
            if hold is not None:
                hold.set()  # the sequence rows are locked until this transaction ends
                release.wait(timeout=10)
    finally:
        connections.close_all()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_imports_at_once_take_turns_and_never_share_an_id():
    first, second = [], []
    hold, release = threading.Event(), threading.Event()
    holding = threading.Thread(
        target=allocate_in_transaction, args=(["2014-01", "2014-02"], first, hold, release)
    )
    holding.start()
    assert hold.wait(timeout=10)
    waiting = threading.Thread(target=allocate_in_transaction, args=(["2014-03"] * 2, second))
    waiting.start()
    waiting.join(timeout=1)
    assert waiting.is_alive()  # it waits for the lock on CN-2014
    release.set()
    holding.join(timeout=10)
    waiting.join(timeout=10)

    assert first == ["CN-2014-0001", "CN-2014-0002"]
    assert second == ["CN-2014-0003", "CN-2014-0004"]


# Errors ------------------------------------------------------------------------------------


def test_a_bad_row_in_the_middle_of_a_batch_is_reported_alone_and_nothing_is_written(
    editor_client, known
):
    rows = rows_of(5)
    rows[2] = rows[2] | {"date": "2014-13"}
    previewed = preview(editor_client, "event", csv_bytes(rows))

    assert list(invalid_rows(previewed)) == [3]
    assert confirm_form_of(previewed)[0] is None
    assert Event.objects.count() == 0


def test_a_row_refused_on_confirm_in_the_middle_of_a_batch_writes_nothing(editor_client, known):
    rows = rows_of(5)
    rows[2] = rows[2] | {"actors": "Northwind (targeted)"}  # new: left unticked below
    previewed = preview(editor_client, "event", csv_bytes(rows))
    action, data = confirm_form_of(previewed)

    response = editor_client.post(action, data, follow=True)

    (message,) = shown_messages(response)
    assert message.startswith("Nothing was imported: 1 row(s) have errors. row 3: actors: ")
    assert (Event.objects.count(), Event.history.count(), EventActor.objects.count()) == (0, 0, 0)


def test_a_batch_the_database_refuses_is_reported_with_its_rows_and_nothing_is_written(
    editor_client, known, monkeypatch
):
    rows = rows_of(3, actors="Northwind (targeted)")
    previewed = preview(editor_client, "event", csv_bytes(rows))

    def refuse(**kwargs):
        raise IntegrityError("UNIQUE constraint failed: events_event.public_id")

    monkeypatch.setattr(services, "events_create", refuse)
    response = confirm(editor_client, previewed)

    (message,) = shown_messages(response)
    assert message == (
        "Nothing was imported: 1 row(s) have errors. rows 1 to 3 could not be written: "
        "UNIQUE constraint failed: events_event.public_id"
    )
    assert Event.objects.count() == 0
    assert not Actor.objects.filter(name="Northwind").exists()


# Queries -----------------------------------------------------------------------------------


def confirm_queries(client, count):
    previewed = preview(client, "event", csv_bytes(rows_of(count)))
    with CaptureQueriesContext(connection) as queries:
        confirm(client, previewed)
    return len(queries)


def test_confirming_more_rows_costs_no_query_per_row(editor_client, known):
    # The same names and source in every row: what remains is what a batch costs.
    fewer = confirm_queries(editor_client, 10)
    more = confirm_queries(editor_client, 40)

    assert more - fewer < 10
    assert Platform.objects.count() == 1
