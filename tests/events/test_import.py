"""Bulk imports in the admin: a preview first, then one all-or-nothing transaction."""

import csv
import datetime
import io
import time
from decimal import Decimal
from html.parser import HTMLParser

import openpyxl
import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.urls import reverse
from django.utils.html import escape
from import_export.tmp_storages import TempFolderStorage

from events import choices, services
from events.models import (
    Actor,
    ActorAlias,
    Citation,
    Event,
    EventActor,
    EventCategory,
    EventCount,
    EventTransition,
    EventType,
    Platform,
    PlatformAlias,
    Source,
    Tag,
)
from events.resources import EventResource
from tests.factories import (
    ActorFactory,
    CitationFactory,
    EventCategoryFactory,
    EventFactory,
    EventTypeFactory,
    PlatformFactory,
    SourceFactory,
    TagFactory,
    member_of,
)
from timeline import exports

EVENTS_API = "/api/v1/events/"
CSV_FORMAT, XLSX_FORMAT = 0, 1
UTC = datetime.UTC
ROW_DEFAULTS = {
    "title": "WeChat public accounts removed",
    "summary": "Tencent removed public accounts that spread political news.",
    "date": "2014-03",
    "type": "account-removal",
    "type_name": "Account removal",
    "category": "content-control",
    "category_name": "Content control",
    "country": "CN",
    "is_global": "false",
    "verification": "single_source",
    "actors": "Tencent (implemented or enforced)",
    "platforms": "WeChat",
    "sources": "Tencent cracks down (ChinaTopix, 2014-05-28) <https://example.org/a>",
    "quotes": "over 40 accounts being removed",
}


def import_url(model):
    return reverse(f"admin:events_{model}_import")


# Users -----------------------------------------------------------------------------------


@pytest.fixture
def group_curator_client(client, db):
    client.force_login(member_of(services.CURATOR_GROUP, "group-curator"))
    return client


@pytest.fixture(autouse=True)
def fresh_throttle():
    """The export API throttles anonymous clients through the cache."""
    cache.clear()
    yield
    cache.clear()


# Files -----------------------------------------------------------------------------------


def event_row(**cells):
    """Return one row in the columns of the API's CSV export."""
    return dict.fromkeys(exports.COLUMN_NAMES, "") | ROW_DEFAULTS | cells


def csv_bytes(rows, columns=None):
    columns = columns or list(rows[0])
    output = io.StringIO()
    writer = csv.DictWriter(output, fieldnames=columns, lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    return output.getvalue().encode("utf-8")


def xlsx_bytes(rows, columns):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(columns)
    for row in rows:
        sheet.append([row[column] for column in columns])
    output = io.BytesIO()
    workbook.save(output)
    return output.getvalue()


def parse_csv(text):
    return list(csv.reader(io.StringIO(text, newline="")))


def csv_dicts(text):
    header, *rows = parse_csv(text)
    return [dict(zip(header, row, strict=True)) for row in rows]


def export_csv(client):
    cache.clear()
    response = client.get(EVENTS_API, {"format": "csv"})
    assert response.status_code == 200
    return b"".join(response.streaming_content).decode("utf-8")


# The admin's two steps -------------------------------------------------------------------


class ConfirmFormReader(HTMLParser):
    """Collect the action and hidden inputs of the page's confirm-import form."""

    def __init__(self):
        super().__init__()
        self.action, self.data, self._inside = None, {}, False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form" and attrs.get("action", "").endswith("/process_import/"):
            self.action, self._inside = attrs["action"], True
        elif tag == "input" and self._inside and attrs.get("type") == "hidden":
            self.data[attrs["name"]] = attrs.get("value", "")

    def handle_endtag(self, tag):
        if tag == "form":
            self._inside = False


def confirm_form_of(response):
    reader = ConfirmFormReader()
    reader.feed(response.content.decode())
    return reader.action, reader.data


def preview(client, model, content, *, file_format=CSV_FORMAT, name=None, **fields):
    """Upload a file to the import page, as the form's Submit does (events: drafts by default)."""
    if model == "event":
        fields.setdefault("status", choices.EventStatus.DRAFT)
    name = name or ("import.xlsx" if file_format == XLSX_FORMAT else "import.csv")
    data = {
        "resource": "0",
        "format": str(file_format),
        "import_file": SimpleUploadedFile(name, content),
        **fields,
    }
    response = client.post(import_url(model), data)
    assert response.status_code == 200
    assert "result" in response.context, response.context["form"].errors
    return response


def confirm(client, preview_response, tick_new_names=True):
    """Post the preview page's confirm form, hidden fields as rendered, with every name the
    preview calls new ticked as new (these tests copy data whose names an empty database
    lacks; test_import_names is about leaving them unticked)."""
    action, data = confirm_form_of(preview_response)
    assert action is not None, "the preview offers no confirm button"
    result = preview_response.context["result"]
    if tick_new_names and getattr(result, "new_names", None):
        data = {**data, "new_names": [key for key, _described, _rows in result.new_names]}
    response = client.post(action, data, follow=True)
    assert response.status_code == 200
    return response


def import_file(client, model, content, **fields):
    return confirm(client, preview(client, model, content, **fields))


def row_kinds(response):
    return [row.import_type for row in response.context["result"].rows]


def invalid_rows(response):
    """Return {row number: {column: messages}} of the rows the preview refused."""
    return {row.number: row.error_dict for row in response.context["result"].invalid_rows}


def shown_messages(response):
    return [str(message) for message in response.context["messages"]]


def database_counts():
    models = (Event, Actor, Platform, Source, Tag, EventType, EventCategory, Citation)
    return {model.__name__: model.objects.count() for model in models}


def empty_the_database():
    """Delete every event and what events refer to, in an order PROTECT allows."""
    Event.objects.all().delete()  # with their roles, citations, counts and relations
    Platform.objects.all().delete()  # before actors: a platform protects its operator
    Actor.objects.all().delete()
    Source.objects.all().delete()
    Tag.objects.all().delete()
    EventType.objects.all().delete()
    EventCategory.objects.all().delete()
    assert set(database_counts().values()) == {0}


# A published timeline that uses every column ----------------------------------------------


def pin_times(event, *, published, updated):
    Event.objects.filter(pk=event.pk).update(first_published_at=published, updated_at=updated)


def build_rich_timeline():
    category = EventCategoryFactory(name="Content control", slug="content-control")
    removal = EventTypeFactory(category=category, name="Account removal", slug="account-removal")
    arrest = EventTypeFactory(name="Arrest or detention", slug="arrest")
    cac = ActorFactory(name="Cyberspace Administration of China", slug="cac")
    tencent = ActorFactory(name="Tencent", slug="tencent", kind=choices.ActorKind.COMPANY)
    xi = ActorFactory(name="习近平", slug="xi-jinping", kind=choices.ActorKind.PERSON)
    wechat = PlatformFactory(name="WeChat", slug="wechat", operator=tencent)
    weibo = PlatformFactory(name="Sina Weibo", slug="weibo")
    messaging = TagFactory(name="instant messaging", slug="instant-messaging")
    rumours = TagFactory(name="rumours", slug="rumours")
    report = SourceFactory(
        title="Tencent cracks down on WeChat accounts",
        publisher="ChinaTopix",
        published_on=datetime.date(2014, 5, 28),
        url="https://www.chinatopix.com/articles/8413",
    )
    notice = SourceFactory(
        title="Notice on instant messaging services",
        publisher="State Internet Information Office",
        published_on=datetime.date(2014, 8, 7),
        url="",
    )

    purge = EventFactory(
        published=True,
        title="WeChat public accounts removed",
        summary='Tencent said "rumours", then, removed them.\nA second line.',
        event_type=removal,
        date_text="2014-03",
        country="CN",
        locality="Beijing, Haidian",
        latitude=Decimal("39.90420"),
        longitude=Decimal("116.40740"),
        verification=choices.Verification.CORROBORATED,
    )
    EventActor.objects.create(event=purge, actor=cac, role=choices.Role.ORDERED)
    EventActor.objects.create(event=purge, actor=tencent, role=choices.Role.ENFORCED)
    EventActor.objects.create(event=purge, actor=tencent, role=choices.Role.OPERATED_PLATFORM)
    purge.platforms.add(wechat)
    purge.platforms.add(weibo)
    purge.tags.add(messaging)
    purge.tags.add(rumours)
    EventCount.objects.create(
        event=purge,
        qualifier=choices.CountQualifier.MORE_THAN,
        quantity=40,
        unit=choices.CountUnit.ACCOUNTS,
        note="public accounts",
    )
    EventCount.objects.create(
        event=purge, qualifier=choices.CountQualifier.ABOUT, quantity=3, unit="people"
    )
    CitationFactory(event=purge, source=report, quote='over 40 accounts, "rumours", 微信公众号')
    CitationFactory(event=purge, source=notice, quote="")

    rules = EventFactory(
        published=True,
        title="=Global rules for VPN providers",
        summary="Providers everywhere were told to register.",
        event_type=removal,
        date_text="2013",
        country="",
        is_global=True,
        verification=choices.Verification.CONFIRMED,
    )
    EventActor.objects.create(event=rules, actor=xi, role=choices.Role.ANNOUNCED)
    CitationFactory(event=rules, source=notice, quote="")

    ongoing = EventFactory(
        published=True,
        title="Lawyers detained, an ongoing campaign",
        summary="Detentions continue.",
        event_type=arrest,
        date_text="2015-07-09/..",
        country="CN",
        verification=choices.Verification.DISPUTED,
    )
    EventActor.objects.create(event=ongoing, actor=xi, role=choices.Role.ORDERED)
    EventActor.objects.create(event=ongoing, actor=cac, role=choices.Role.TARGETED)
    CitationFactory(event=ongoing, source=report, quote="he said “stop” — then, nothing")

    for number, event in enumerate((purge, rules, ongoing)):
        pin_times(
            event,
            published=datetime.datetime(2024, 1, 2 + number, 9, 0, 0, 123456, tzinfo=UTC),
            updated=datetime.datetime(2024, 2, 2 + number, 10, 30, 0, 654321, tzinfo=UTC),
        )
    services.event_search_refresh(event_ids=[purge.pk, rules.pk, ongoing.pk])
    return purge, rules, ongoing


@pytest.fixture
def rich_timeline(db):
    return build_rich_timeline()


# Preview ---------------------------------------------------------------------------------


def test_import_page_offers_csv_and_xlsx_and_drafts_by_default(editor_client):
    response = editor_client.get(import_url("event"))

    assert response.status_code == 200
    form = response.context["form"]
    assert [label for _, label in form.fields["format"].choices] == ["---", "csv", "xlsx"]
    assert form["status"].value() == choices.EventStatus.DRAFT


def test_preview_marks_each_row_new_changed_or_unchanged_and_writes_nothing(
    editor_client, rich_timeline
):
    purge, rules, _ongoing = rich_timeline
    by_id = {row["id"]: row for row in csv_dicts(export_csv(editor_client))}
    unchanged = by_id[purge.public_id]
    changed = by_id[rules.public_id] | {"title": "Global rules for VPN providers, renamed"}
    new = event_row(id="", title="Weibo accounts closed")
    before = database_counts()

    response = preview(editor_client, "event", csv_bytes([unchanged, changed, new]))

    assert row_kinds(response) == ["skip", "update", "new"]
    page = response.content.decode()
    assert [page.count(f'<tr class="{kind}">') for kind in ("skip", "update", "new")] == [1, 1, 1]
    assert "Skipped" in page and "Update" in page and "New" in page
    assert database_counts() == before
    rules.refresh_from_db()
    assert rules.title == "=Global rules for VPN providers"
    assert not Event.objects.filter(title="Weibo accounts closed").exists()
    assert confirm_form_of(response)[0] == reverse("admin:events_event_process_import")


def test_preview_lists_every_bad_row_with_its_number_and_reason_and_writes_nothing(editor_client):
    rows = [
        event_row(title="A good row"),
        event_row(date="2014-13"),
        event_row(actors="Tencent (boss)"),
        event_row(counts="many accounts"),
        event_row(verification="probably"),
        event_row(title="Another good row"),
        event_row(country="zz"),
    ]

    response = preview(editor_client, "event", csv_bytes(rows))

    refused = invalid_rows(response)
    assert sorted(refused) == [2, 3, 4, 5, 7]
    assert list(refused[2]) == ["date"]
    assert refused[2]["date"][0].startswith("'2014-13' has month 13; months run from 01 to 12")
    assert list(refused[3]) == ["actors"]
    assert "'Tencent (boss)' is not 'name (role)'" in refused[3]["actors"][0]
    assert list(refused[4]) == ["counts"]
    assert (
        "'many accounts' is not a count such as 'more than 40 accounts'" in refused[4]["counts"][0]
    )
    assert refused[5] == {
        "verification": [
            "'probably' is not one of single_source, corroborated, confirmed, disputed."
        ]
    }
    assert refused[7] == {"country": ["Value 'ZZ' is not a valid choice."]}
    page = response.content.decode()
    for messages in refused.values():
        for column_messages in messages.values():
            assert all(escape(message) in page for message in column_messages)
    assert confirm_form_of(response)[0] is None
    assert Event.objects.count() == 0
    assert Actor.objects.count() == Source.objects.count() == EventType.objects.count() == 0


def stored_for_confirm(content):
    """Put a file where the admin keeps uploads between preview and confirm; return its name."""
    storage = TempFolderStorage(encoding="utf-8-sig", read_mode="r")
    storage.save(content)
    return storage.name


def test_confirming_a_file_with_a_bad_row_anyway_writes_nothing(editor_client):
    rows = [event_row(title="A good row"), event_row(date="2014-13")]
    refused = preview(editor_client, "event", csv_bytes(rows))
    assert confirm_form_of(refused)[0] is None
    forced = {
        "import_file_name": stored_for_confirm(csv_bytes(rows)),
        "original_file_name": "import.csv",
        "format": str(CSV_FORMAT),
        "resource": "0",
        "status": choices.EventStatus.DRAFT,
    }

    editor_client.post(reverse("admin:events_event_process_import"), forced, follow=True)

    assert Event.objects.count() == 0


def test_a_row_that_went_bad_between_preview_and_confirm_stops_the_whole_import(editor_client):
    """Someone deletes the event type a row relies on while the editor reads the preview."""
    EventTypeFactory(slug="account-removal")
    rows = [
        event_row(title="A good row", type="arrest", category="content-control"),
        event_row(title="Relies on an existing type", category="", category_name=""),
    ]
    previewed = preview(editor_client, "event", csv_bytes(rows))
    assert row_kinds(previewed) == ["new", "new"]
    EventType.objects.filter(slug="account-removal").delete()

    confirm(editor_client, previewed)

    assert Event.objects.count() == 0


# Status and permission -------------------------------------------------------------------


def test_imported_events_start_as_drafts_by_default(editor_client):
    default_status = editor_client.get(import_url("event")).context["form"]["status"].value()
    rows = [event_row(title="First"), event_row(title="Second", date="2014-05-27")]

    response = import_file(editor_client, "event", csv_bytes(rows), status=default_status)

    assert shown_messages(response) == [
        "Import finished: 2 new, 0 updated, 0 deleted and 0 skipped events."
    ]
    events = Event.objects.order_by("title")
    assert [(e.title, e.status, e.first_published_at) for e in events] == [
        ("First", choices.EventStatus.DRAFT, None),
        ("Second", choices.EventStatus.DRAFT, None),
    ]
    assert not EventTransition.objects.exists()


def test_an_editor_can_import_events_as_published(editor_client, editor):
    rows = [event_row(title="First"), event_row(title="Global", country="", is_global="true")]

    import_file(editor_client, "event", csv_bytes(rows), status=choices.EventStatus.PUBLISHED)

    events = Event.objects.order_by("title")
    assert [(e.title, e.status) for e in events] == [
        ("First", choices.EventStatus.PUBLISHED),
        ("Global", choices.EventStatus.PUBLISHED),
    ]
    assert all(event.first_published_at is not None for event in events)
    assert [event.public_id for event in events] == ["CN-2014-0001", "WW-2014-0001"]
    transitions = EventTransition.objects.order_by("public_id")
    assert [(t.to_status, t.user, t.comment) for t in transitions] == [
        (choices.EventStatus.PUBLISHED, editor, "Imported"),
        (choices.EventStatus.PUBLISHED, editor, "Imported"),
    ]


def test_an_editor_can_import_events_for_review(editor_client):
    import_file(editor_client, "event", csv_bytes([event_row()]), status="in_review")

    event = Event.objects.get()
    assert (event.status, event.submitted_at is not None) == (choices.EventStatus.IN_REVIEW, True)


def test_importing_as_published_refuses_rows_without_what_publication_needs(editor_client):
    rows = [
        event_row(title="Ready"),
        event_row(title="Uncited", sources="", quotes=""),
        event_row(title="Nowhere", country=""),
    ]

    response = preview(editor_client, "event", csv_bytes(rows), status="published")

    refused = invalid_rows(response)
    assert sorted(refused) == [2, 3]
    assert "cannot be published yet: it needs at least one citation." in str(refused[2])
    assert "cannot be published yet: it needs a country, or 'global'." in str(refused[3])
    assert confirm_form_of(response)[0] is None
    assert Event.objects.count() == 0


def test_the_same_rows_import_as_drafts_without_citation_or_country(editor_client):
    rows = [event_row(title="Uncited", sources="", quotes=""), event_row(country="")]

    import_file(editor_client, "event", csv_bytes(rows))

    assert Event.objects.filter(status=choices.EventStatus.DRAFT).count() == 2


def test_a_curator_has_no_import_page(group_curator_client):
    page = group_curator_client.get(import_url("event"))
    upload = group_curator_client.post(
        import_url("event"),
        {
            "resource": "0",
            "format": "0",
            "status": "draft",
            "import_file": SimpleUploadedFile("import.csv", csv_bytes([event_row()])),
        },
    )
    changelist = group_curator_client.get(reverse("admin:events_event_changelist"))

    assert (page.status_code, upload.status_code) == (403, 403)
    assert changelist.status_code == 200
    assert import_url("event") not in changelist.content.decode()
    assert Event.objects.count() == 0


@pytest.mark.parametrize("model", ["actor", "platform", "source"])
def test_a_curator_cannot_import_references_either(group_curator_client, model):
    assert group_curator_client.get(import_url(model)).status_code == 403


def test_an_editor_sees_the_import_link(editor_client):
    changelist = editor_client.get(reverse("admin:events_event_changelist"))

    assert import_url("event") in changelist.content.decode()


# Round trip ------------------------------------------------------------------------------

UNORDERED_CELLS = ("platforms", "tags")  # see test_imported_platforms_and_tags_keep_...


def comparable(row):
    """Return a CSV row without the cells the two bugs above change."""
    cells = {name: value for name, value in row.items() if name not in ("id", "url")}
    for name in UNORDERED_CELLS:
        cells[name] = sorted(cells[name].split("; "))
    return cells


def reimport_into_an_empty_database(client, exported):
    empty_the_database()
    response = import_file(
        client, "event", exported.encode("utf-8"), status=choices.EventStatus.PUBLISHED
    )
    assert shown_messages(response) == [
        "Import finished: 3 new, 0 updated, 0 deleted and 0 skipped events."
    ]
    return export_csv(client)


def test_an_exported_csv_imports_into_an_empty_database_and_exports_identically(
    editor_client, rich_timeline
):
    exported = export_csv(editor_client)

    exported_again = reimport_into_an_empty_database(editor_client, exported)

    before, after = parse_csv(exported), parse_csv(exported_again)
    assert len(after) == len(before) == 4
    for row_before, row_after in zip(before, after, strict=True):
        assert row_after == row_before


def test_an_exported_csv_imported_into_an_empty_database_keeps_every_other_cell(
    editor_client, rich_timeline
):
    exported = export_csv(editor_client)

    exported_again = reimport_into_an_empty_database(editor_client, exported)

    before, after = csv_dicts(exported), csv_dicts(exported_again)
    assert len(after) == len(before) == 3
    for row_before, row_after in zip(before, after, strict=True):
        assert comparable(row_after) == comparable(row_before)
    assert [row["updated_at"] for row in after] == [
        "2024-02-03T10:30:00.654321Z",  # the global event of 2013 comes first
        "2024-02-02T10:30:00.654321Z",
        "2024-02-04T10:30:00.654321Z",
    ]
    assert after[1]["quotes"] == 'over 40 accounts, "rumours", 微信公众号'
    assert after[1]["sources"] == (
        "Tencent cracks down on WeChat accounts (ChinaTopix, 2014-05-28) "
        "<https://www.chinatopix.com/articles/8413>; "
        "Notice on instant messaging services (State Internet Information Office, 2014-08-07)"
    )


def test_an_imported_event_keeps_the_public_id_of_its_row(editor_client):
    import_file(editor_client, "event", csv_bytes([event_row(id="CN-2014-0042")]))

    assert list(Event.objects.values_list("public_id", flat=True)) == ["CN-2014-0042"]


def test_imported_platforms_and_tags_keep_the_order_of_their_cells(editor_client):
    # Ids whose set iterates in the other order: {1007, 1008} gives 1008 first.
    PlatformFactory(id=1007, name="WeChat")
    PlatformFactory(id=1008, name="Sina Weibo")
    TagFactory(id=1007, name="rumours")
    TagFactory(id=1008, name="instant messaging")
    row = event_row(platforms="WeChat; Sina Weibo", tags="rumours; instant messaging")

    import_file(editor_client, "event", csv_bytes([row]), status=choices.EventStatus.PUBLISHED)

    (exported,) = csv_dicts(export_csv(editor_client))
    assert (exported["platforms"], exported["tags"]) == (
        "WeChat; Sina Weibo",
        "rumours; instant messaging",
    )
    again = preview(editor_client, "event", csv_bytes([row | {"id": exported["id"]}]))
    assert row_kinds(again) == ["skip"]


def test_reimporting_an_export_into_the_same_database_skips_every_row(editor_client, rich_timeline):
    exported = export_csv(editor_client)
    history_before = Event.history.count()

    previewed = preview(editor_client, "event", exported.encode("utf-8"), status="published")
    response = confirm(editor_client, previewed)

    assert row_kinds(previewed) == ["skip", "skip", "skip"]
    assert shown_messages(response) == [
        "Import finished: 0 new, 0 updated, 0 deleted and 3 skipped events."
    ]
    assert Event.history.count() == history_before
    assert export_csv(editor_client) == exported


# Size and formats ------------------------------------------------------------------------


def thousand_rows():
    return [
        event_row(
            title=f"Accounts removed, batch {number}",
            date=f"{2010 + number % 10}-{1 + number % 12:02d}",
            actors=f"Company {number % 20} (implemented or enforced); Bureau {number % 7} "
            "(ordered or decided)",
            platforms=f"Platform {number % 5}",
            tags="instant messaging",
            counts=f"more than {number} accounts",
            sources=f"Report {number % 50} (Example News) <https://news.example.org/{number % 50}>",
            quotes=f"over {number} accounts",
        )
        for number in range(1000)
    ]


def record_transactions(monkeypatch):
    """Return the outermost transaction each imported row is saved in, as rows are saved."""
    seen = []
    save_instance = EventResource.save_instance

    def recording(self, *args, **kwargs):
        seen.append(connection.atomic_blocks[0] if connection.in_atomic_block else None)
        return save_instance(self, *args, **kwargs)

    monkeypatch.setattr(EventResource, "save_instance", recording)
    return seen


@pytest.mark.django_db(transaction=True)  # so the import's own transaction is the outermost
def test_a_thousand_events_import_in_one_transaction_after_a_preview(editor_client, monkeypatch):
    content = csv_bytes(thousand_rows())
    transactions = record_transactions(monkeypatch)

    started = time.perf_counter()
    previewed = preview(editor_client, "event", content)
    previewed_at = time.perf_counter()
    assert Event.objects.count() == 0
    response = confirm(editor_client, previewed)
    finished = time.perf_counter()

    print(
        f"\n1,000 events: preview {previewed_at - started:.1f} s, "
        f"confirm {finished - previewed_at:.1f} s, together {finished - started:.1f} s"
    )
    assert row_kinds(previewed) == ["new"] * 1000
    assert shown_messages(response) == [
        "Import finished: 1000 new, 0 updated, 0 deleted and 0 skipped events."
    ]
    in_preview, in_confirm = transactions[:1000], transactions[1000:]
    assert len(in_confirm) == 1000
    assert None not in transactions
    assert len({id(block) for block in in_preview}) == 1
    assert len({id(block) for block in in_confirm}) == 1
    assert not connection.in_atomic_block  # and it was committed
    assert Event.objects.filter(status=choices.EventStatus.DRAFT).count() == 1000
    assert (Actor.objects.count(), Platform.objects.count(), Source.objects.count()) == (27, 5, 50)
    assert EventActor.objects.count() == 2000
    assert Citation.objects.count() == 1000


def as_spreadsheet_cell(column, text):
    """Return a cell as a spreadsheet holds it: numbers and booleans typed, the rest text."""
    if column in ("latitude", "longitude") and text:
        return float(text)
    if text in ("true", "false"):
        return text == "true"
    return text or None


def test_the_same_rows_as_an_xlsx_file_import_the_same_way(editor_client, rich_timeline):
    exported = export_csv(editor_client)
    header, *rows = parse_csv(exported)
    cells = [dict(zip(header, row, strict=True)) for row in rows]
    typed = [{c: as_spreadsheet_cell(c, v) for c, v in row.items()} for row in cells]
    empty_the_database()

    previewed = preview(
        editor_client,
        "event",
        xlsx_bytes(typed, header),
        file_format=XLSX_FORMAT,
        status=choices.EventStatus.PUBLISHED,
    )
    response = confirm(editor_client, previewed)

    assert row_kinds(previewed) == ["new", "new", "new"]
    assert shown_messages(response) == [
        "Import finished: 3 new, 0 updated, 0 deleted and 0 skipped events."
    ]
    after = csv_dicts(export_csv(editor_client))
    assert [comparable(row) for row in after] == [comparable(row) for row in cells]


def test_a_bad_row_in_an_xlsx_file_is_reported_with_its_row_number(editor_client):
    columns = list(event_row())
    rows = [event_row(), event_row(date="2014-13"), event_row(counts="many accounts")]

    response = preview(editor_client, "event", xlsx_bytes(rows, columns), file_format=XLSX_FORMAT)

    assert {number: list(errors) for number, errors in invalid_rows(response).items()} == {
        2: ["date"],
        3: ["counts"],
    }
    assert Event.objects.count() == 0


# Actors, platforms and sources -----------------------------------------------------------

ACTOR_COLUMNS = [
    "slug",
    "name",
    "kind",
    "country",
    "parent",
    "description",
    "wikidata_id",
    "url",
    "aliases",
]


def actor_row(slug, name, **cells):
    defaults = {"kind": "company", "country": "CN", "parent": "", "description": ""}
    defaults |= {"wikidata_id": "", "url": "", "aliases": ""}
    return {"slug": slug, "name": name} | defaults | cells


@pytest.fixture
def tencent(db):
    actor = ActorFactory(slug="tencent", name="Tencent", kind=choices.ActorKind.COMPANY)
    ActorAlias.objects.create(actor=actor, name="腾讯")
    return actor


def test_actors_import_with_parents_by_slug_and_aliases_added(editor_client, tencent):
    rows = [
        actor_row(
            "tencent", "Tencent", description="Runs WeChat.", aliases="腾讯; Tencent Holdings"
        ),
        actor_row("wechat-team", "WeChat team", parent="tencent", aliases="微信团队; WeChat group"),
        actor_row("cac", "Cyberspace Administration of China", kind="agency", wikidata_id="Q5198"),
    ]

    previewed = preview(editor_client, "actor", csv_bytes(rows, ACTOR_COLUMNS))
    assert Actor.objects.count() == 1
    response = confirm(editor_client, previewed)

    assert row_kinds(previewed) == ["update", "new", "new"]
    assert shown_messages(response) == [
        "Import finished: 2 new, 1 updated, 0 deleted and 0 skipped actors."
    ]
    tencent.refresh_from_db()
    assert tencent.description == "Runs WeChat."
    assert sorted(tencent.aliases.values_list("name", flat=True)) == ["Tencent Holdings", "腾讯"]
    team = Actor.objects.get(slug="wechat-team")
    assert team.parent == tencent
    assert sorted(team.aliases.values_list("name", flat=True)) == ["WeChat group", "微信团队"]
    assert Actor.objects.get(slug="cac").wikidata_id == "Q5198"


def test_new_aliases_of_an_otherwise_unchanged_actor_are_added(editor_client, tencent):
    rows = [actor_row("tencent", "Tencent", aliases="腾讯; Tencent Holdings")]

    import_file(editor_client, "actor", csv_bytes(rows, ACTOR_COLUMNS))

    assert sorted(tencent.aliases.values_list("name", flat=True)) == ["Tencent Holdings", "腾讯"]


def test_an_actor_with_a_bad_wikidata_id_is_reported_with_its_row_number(editor_client, tencent):
    rows = [
        actor_row("cac", "Cyberspace Administration of China", kind="agency"),
        actor_row("xinhua", "Xinhua", kind="media", wikidata_id="15031"),
        actor_row("weibo-corp", "Weibo Corporation", kind="company"),
    ]

    response = preview(editor_client, "actor", csv_bytes(rows, ACTOR_COLUMNS))

    assert invalid_rows(response) == {
        2: {"wikidata_id": ["A Wikidata id is Q followed by digits, such as Q15031."]}
    }
    page = response.content.decode()
    assert "A Wikidata id is Q followed by digits, such as Q15031." in page
    assert confirm_form_of(response)[0] is None
    assert list(Actor.objects.values_list("slug", flat=True)) == ["tencent"]


PLATFORM_COLUMNS = [
    "slug",
    "name",
    "kind",
    "operator",
    "country",
    "description",
    "wikidata_id",
    "url",
    "aliases",
]


def platform_row(slug, name, **cells):
    defaults = {"kind": "messaging", "operator": "", "country": "CN", "description": ""}
    defaults |= {"wikidata_id": "", "url": "", "aliases": ""}
    return {"slug": slug, "name": name} | defaults | cells


def test_platforms_import_with_operators_by_slug_and_aliases_added(editor_client, tencent):
    existing = PlatformFactory(slug="weibo", name="Weibo", kind=choices.PlatformKind.MICROBLOG)
    rows = [
        platform_row("wechat", "WeChat", operator="tencent", aliases="微信; Weixin"),
        platform_row("weibo", "Sina Weibo", kind="microblog", aliases="新浪微博"),
        platform_row("qq", "QQ", operator="tencent", wikidata_id="Q1"),
    ]

    previewed = preview(editor_client, "platform", csv_bytes(rows, PLATFORM_COLUMNS))
    assert Platform.objects.count() == 1
    confirm(editor_client, previewed)

    assert row_kinds(previewed) == ["new", "update", "new"]
    wechat = Platform.objects.get(slug="wechat")
    assert wechat.operator == tencent
    assert sorted(wechat.aliases.values_list("name", flat=True)) == ["Weixin", "微信"]
    existing.refresh_from_db()
    assert existing.name == "Sina Weibo"
    assert list(PlatformAlias.objects.filter(platform=existing).values_list("name", flat=True)) == [
        "新浪微博"
    ]
    assert Platform.objects.get(slug="qq").operator == tencent


def test_a_platform_with_an_unknown_operator_or_bad_wikidata_id_is_reported(editor_client, db):
    rows = [
        platform_row("wechat", "WeChat"),
        platform_row("qq", "QQ", wikidata_id="QQ"),
        platform_row("weibo", "Weibo", operator="no-such-actor"),
    ]

    response = preview(editor_client, "platform", csv_bytes(rows, PLATFORM_COLUMNS))

    result = response.context["result"]
    reported = {row.number: row.error_dict for row in result.invalid_rows}
    reported |= {number: [str(e.error) for e in errors] for number, errors in result.row_errors()}
    assert sorted(reported) == [2, 3]
    assert reported[2] == {
        "wikidata_id": ["A Wikidata id is Q followed by digits, such as Q15031."]
    }
    assert "does not exist" in str(reported[3])
    assert confirm_form_of(response)[0] is None
    assert Platform.objects.count() == 0


SOURCE_COLUMNS = [
    "key",
    "title",
    "summary",
    "kind",
    "url",
    "archive_url",
    "publisher",
    "publisher_actor",
    "authors",
    "published_on",
    "language",
    "accessed_on",
    "reliability",
]


def source_row(key, title, **cells):
    defaults = dict.fromkeys(SOURCE_COLUMNS, "") | {"kind": "news", "reliability": "unknown"}
    return defaults | {"key": key, "title": title} | cells


@pytest.fixture
def chinatopix(db):
    return SourceFactory(
        key="chinatopix-2014-05-28",
        title="Tencent cracks down",
        publisher="ChinaTopix",
        url="https://www.chinatopix.com/articles/8413",
    )


def test_sources_import_with_urls_normalised_and_publishers_by_slug(editor_client, chinatopix):
    xinhua = ActorFactory(slug="xinhua", name="Xinhua", kind=choices.ActorKind.MEDIA)
    rows = [
        source_row(
            "chinatopix-2014-05-28",
            "Tencent cracks down",
            publisher="ChinaTopix",
            url="https://WWW.ChinaTopix.com:443/articles/8413/?utm_source=twitter&fbclid=x#top",
        ),
        source_row(
            "xinhua-notice",
            "Notice on instant messaging",
            kind="official",
            url="https://www.news.cn/notice?id=7&utm_campaign=weekly",
            publisher="Xinhua",
            publisher_actor="xinhua",
            published_on="2014-08-07",
        ),
    ]

    previewed = preview(editor_client, "source", csv_bytes(rows, SOURCE_COLUMNS))
    assert Source.objects.count() == 1
    confirm(editor_client, previewed)

    assert row_kinds(previewed) == ["skip", "new"]
    chinatopix.refresh_from_db()
    assert chinatopix.url == "https://www.chinatopix.com/articles/8413"
    notice = Source.objects.get(key="xinhua-notice")
    assert notice.url == "https://www.news.cn/notice?id=7"
    assert notice.publisher_actor == xinhua
    assert notice.published_on == datetime.date(2014, 8, 7)


def test_a_source_with_the_url_of_another_under_a_different_spelling_is_refused(
    editor_client, chinatopix
):
    rows = [
        source_row("new-report", "A new report", url="https://example.org/new"),
        source_row(
            "chinatopix-copy",
            "Tencent cracks down (copy)",
            url="https://www.chinatopix.com/articles/8413?utm_medium=social",
        ),
    ]

    response = preview(editor_client, "source", csv_bytes(rows, SOURCE_COLUMNS))

    assert {n: str(errors) for n, errors in invalid_rows(response).items()} == {
        2: str({"__all__": ["Another source already has this URL."]})
    }
    assert "Another source already has this URL." in response.content.decode()
    assert list(Source.objects.values_list("key", flat=True)) == ["chinatopix-2014-05-28"]


# Fields added after a file was written (the registry's title_original and its kin) --------


OLD_COLUMNS = [
    name
    for name in exports.COLUMN_NAMES
    if name not in ("title_original", "summary_original", "original_language")
]


def test_the_original_title_summary_and_language_are_read_and_exported(editor_client):
    row = event_row(
        title_original="微信公众号被删除",
        summary_original="=许多账号被删除",
        original_language="ZH-HANS",
    )
    row["summary_original"] = "'" + row["summary_original"]  # as the export neutralises it

    import_file(editor_client, "event", csv_bytes([row]), status=choices.EventStatus.PUBLISHED)

    event = Event.objects.get()
    assert (event.title_original, event.summary_original, event.original_language) == (
        "微信公众号被删除",
        "=许多账号被删除",
        "zh-hans",
    )
    (exported,) = csv_dicts(export_csv(editor_client))
    assert exported["summary_original"] == "'=许多账号被删除"
    assert exported["original_language"] == "zh-hans"


def test_an_unknown_original_language_is_refused_with_its_row(editor_client):
    row = event_row(title_original="微信", original_language="klingon")

    response = preview(editor_client, "event", csv_bytes([row]))

    (errors,) = invalid_rows(response).values()
    assert "not a language code" in " ".join(errors["original_language"])
    assert Event.objects.count() == 0


def test_a_file_written_before_the_original_fields_existed_still_imports(editor_client):
    row = {name: value for name, value in event_row().items() if name in OLD_COLUMNS}

    response = import_file(editor_client, "event", csv_bytes([row], columns=OLD_COLUMNS))

    assert "1 new" in shown_messages(response)[0]
    event = Event.objects.get()
    assert (event.title_original, event.summary_original, event.original_language) == ("", "", "")


def test_a_file_without_the_original_fields_leaves_an_events_originals_alone(
    editor_client, rich_timeline
):
    purge = rich_timeline[0]
    Event.objects.filter(pk=purge.pk).update(
        title_original="微信公众号被删除", original_language="zh-hans"
    )
    rows = [
        {name: value for name, value in row.items() if name in OLD_COLUMNS}
        | ({"title": "Renamed"} if row["id"] == purge.public_id else {})
        for row in csv_dicts(export_csv(editor_client))
    ]

    previewed = preview(editor_client, "event", csv_bytes(rows, columns=OLD_COLUMNS))
    confirm(editor_client, previewed)

    assert sorted(row_kinds(previewed)) == ["skip", "skip", "update"]
    purge.refresh_from_db()
    assert (purge.title, purge.title_original, purge.original_language) == (
        "Renamed",
        "微信公众号被删除",
        "zh-hans",
    )
