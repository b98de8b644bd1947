"""The import page says what it reads: every column, from the registry, with templates."""

import csv
import io

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from events import services
from events.public.fields import IMPORTED_FIELDS
from tests.events.test_import import csv_bytes, import_url, preview
from tests.factories import EventTypeFactory, member_of

COLUMNS = [f.name for f in IMPORTED_FIELDS]


@pytest.fixture
def editor_of_imports(client, db):
    client.force_login(member_of(services.EDITOR_GROUP, "import-editor"))
    return client


@pytest.fixture
def curator_of_events(client, db):
    client.force_login(member_of(services.CURATOR_GROUP, "events-curator"))
    return client


def template_url(extension):
    return reverse("admin:events_event_import_template", args=[extension])


def test_the_import_page_lists_every_column_the_import_reads(editor_of_imports):
    page = editor_of_imports.get(import_url("event")).content.decode()

    for column in IMPORTED_FIELDS:
        assert f"<code>{column.name}</code>" in page
    assert page.count("(required)") == sum(1 for f in IMPORTED_FIELDS if f.importer.required)
    assert "Messaging app blocks a channel that posted flood videos" in page


@pytest.mark.parametrize("extension", ["csv", "xlsx"])
def test_the_import_page_links_its_templates(editor_of_imports, extension):
    page = editor_of_imports.get(import_url("event")).content.decode()

    assert f'href="{template_url(extension)}"' in page


def test_the_csv_template_has_every_column_and_one_example_row(editor_of_imports):
    response = editor_of_imports.get(template_url("csv"))

    assert response.status_code == 200
    assert "event-import-template.csv" in response["Content-Disposition"]
    header, *rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert header == COLUMNS
    assert len(rows) == 1
    assert dict(zip(header, rows[0], strict=True))["type"] == "account-removal"


def test_the_xlsx_template_has_every_column_and_one_example_row(editor_of_imports):
    response = editor_of_imports.get(template_url("xlsx"))

    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    header, *rows = [[cell or "" for cell in row] for row in sheet.iter_rows(values_only=True)]
    assert header == COLUMNS
    assert len(rows) == 1


def test_the_example_row_previews_without_an_error(editor_of_imports):
    EventTypeFactory(slug="account-removal")
    response = editor_of_imports.get(template_url("csv"))

    previewed = preview(editor_of_imports, "event", response.content, status="draft")

    result = previewed.context["result"]
    assert not result.has_errors() and not result.has_validation_errors()
    assert [row.import_type for row in result.rows] == ["new"]


def test_an_unknown_template_format_is_not_found(editor_of_imports):
    assert editor_of_imports.get(template_url("ods")).status_code == 404


def test_a_curator_cannot_download_the_template(curator_of_events):
    assert curator_of_events.get(template_url("csv")).status_code == 403


@pytest.mark.parametrize(
    ("content", "name"),
    [
        (b"", "empty.csv"),
        (b"\x00\x01\x02 not a spreadsheet", "broken.xlsx"),
        (b"title,summary\r\n", "header-only.csv"),
    ],
)
def test_a_bad_file_gets_a_message_and_imports_nothing(editor_of_imports, content, name):
    file_format = "1" if name.endswith("xlsx") else "0"

    response = editor_of_imports.post(
        import_url("event"),
        {
            "resource": "0",
            "format": file_format,
            "status": "draft",
            "import_file": SimpleUploadedFile(name, content),
        },
    )

    assert response.status_code == 200
    assert response.context["form"].errors["import_file"]
    assert "confirm_form" not in response.context


def test_a_file_without_required_columns_lists_them_per_row(editor_of_imports):
    response = preview(editor_of_imports, "event", csv_bytes([{"locality": "Izmir"}]))

    (row,) = response.context["result"].invalid_rows
    assert set(row.error_dict) >= {"title", "summary", "date", "type"}
    assert "confirm_form" not in response.context
