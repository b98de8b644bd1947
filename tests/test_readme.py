"""The README documents what the code does: its tables must follow the code."""

from django.conf import settings

from timeline.exports import CSV_COLUMNS
from timeline.filters import EventFilterSet

README = (settings.BASE_DIR / "README.md").read_text(encoding="utf-8")


def test_readme_documents_every_csv_column_in_order():
    rows = [line for line in README.splitlines() if line.startswith("| `")]
    documented = [row.split("`")[1] for row in rows]
    names = [column.name for column in CSV_COLUMNS]

    assert [name for name in documented if name in names] == names
    for column in CSV_COLUMNS:
        assert f"| `{column.name}` | {column.description} |" in README


def test_readme_names_every_events_filter():
    for name in EventFilterSet.base_filters:
        assert f"`{name}`" in README, name


def test_readme_gives_the_two_commands():
    assert "make run" in README
    assert "make test" in README
