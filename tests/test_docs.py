"""The README is the front door and docs/ the guides: they must follow the code and each other."""

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.utils.text import slugify

from events.public import fields
from timeline.exports import FORMATS
from timeline.filters import EventFilterSet

ROOT = Path(settings.BASE_DIR)
README = ROOT / "README.md"
GUIDES = sorted((ROOT / "docs").glob("*.md"))
PAGES = [README, *GUIDES]
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")


def text(path):
    return path.read_text(encoding="utf-8")


def anchors(path):
    """Return the heading anchors GitHub gives a Markdown file."""
    headings = re.findall(r"^#{1,6} (.+)$", text(path), re.M)
    return {slugify(re.sub(r"[`*]", "", heading)) for heading in headings}


def section(path, heading):
    """Return the text under a ## heading, up to the next one."""
    return text(path).split(f"\n## {heading}\n", 1)[1].split("\n## ", 1)[0]


def relative_links(path):
    for target in LINK.findall(text(path)):
        if not re.match(r"[a-z]+:", target):
            yield target


def test_readme_gives_the_two_commands():
    assert "make run" in text(README)
    assert "make test" in text(README)


def test_readme_links_every_guide():
    linked = {(README.parent / target).resolve() for target in relative_links(README)}

    assert GUIDES, "docs/ holds the guides"
    assert set(GUIDES) <= linked


@pytest.mark.parametrize("page", PAGES, ids=lambda path: path.name)
def test_every_relative_link_resolves(page):
    broken = []
    for target in relative_links(page):
        file_part, _, anchor = target.partition("#")
        linked = (page.parent / file_part).resolve() if file_part else page
        missing_anchor = (
            linked.exists() and anchor and linked.suffix == ".md" and anchor not in anchors(linked)
        )
        if not linked.exists() or missing_anchor:
            broken.append(target)
    assert broken == []


def test_researchers_guide_names_every_events_filter_and_format():
    guide = text(ROOT / "docs" / "researchers.md")

    for name in EventFilterSet.base_filters:
        assert f"`{name}`" in guide, name
    for name in FORMATS:
        assert f"`{name}`" in guide or f"format={name}" in guide, name


def test_development_guide_says_how_to_add_a_field_and_a_format():
    guide = text(ROOT / "docs" / "development.md")

    assert "## Adding a field" in guide
    assert "## Adding an export format" in guide


def test_development_guide_adds_a_field_with_the_registrys_own_entries():
    adding_a_field = section(ROOT / "docs" / "development.md", "Adding a field")
    named = re.findall(r"`(\w+)\(\.\.\.\)`", adding_a_field)

    assert "event_column" in named
    assert [name for name in named if not callable(getattr(fields, name, None))] == []
