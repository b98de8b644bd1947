"""How events are written as text cells in CSV, and read back: one vocabulary both ways.

The API's exports (timeline.exports) write these cells; the admin's import (events.resources)
reads them, so an exported CSV imports back into the same events.
"""

import datetime
import re

from .choices import CountQualifier, CountUnit, Role

LIST_SEPARATOR = "; "
# OWASP: a cell starting with one of these may run as a formula in a spreadsheet.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n")
ROLE_WORDS = {code: label.lower() for code, label in Role.choices}
QUALIFIER_WORDS = {code: label.lower() for code, label in CountQualifier.choices}

_ACTOR_ITEM = re.compile(r"^(?P<name>.+) \((?P<role>[^()]+)\)$")
_QUALIFIERS = "|".join(map(re.escape, QUALIFIER_WORDS.values()))
_UNITS = "|".join(map(re.escape, CountUnit.values))
_COUNT_ITEM = re.compile(
    rf"^(?P<qualifier>{_QUALIFIERS}) (?P<quantity>\d+) (?P<unit>{_UNITS})(?: \((?P<note>.*)\))?$"
)
_SOURCE_ITEM = re.compile(r"^(?P<title>.+?)(?: \((?P<details>[^()]*)\))?(?: <(?P<url>[^<>\s]+)>)?$")
_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def neutralise(cell):
    """Prefix a text cell that a spreadsheet would run as a formula with an apostrophe."""
    return f"'{cell}" if cell.startswith(FORMULA_STARTS) else cell


def unneutralise(cell):
    """Undo neutralise: the apostrophe we added before a formula start."""
    if len(cell) > 1 and cell[0] == "'" and cell[1:].startswith(FORMULA_STARTS):
        return cell[1:]
    return cell


def split_list(cell):
    return [item for item in (cell or "").split(LIST_SEPARATOR) if item.strip()]


def actor_text(name, role):
    return f"{name} ({ROLE_WORDS[role]})"


def count_text(qualifier, quantity, unit, note):
    text = f"{QUALIFIER_WORDS[qualifier]} {quantity} {unit}"
    return f"{text} ({note})" if note else text


def source_text(title, publisher, published_on, url):
    """Return 'title (publisher, 2014-05-28) <https://...>', leaving out what is unknown."""
    day = published_on.isoformat() if published_on else ""
    details = ", ".join(part for part in (publisher, day) if part)
    text = f"{title} ({details})" if details else title
    return f"{text} <{url}>" if url else text


def parse_actor(item):
    """Return (name, role code) from 'Tencent (operated the affected platform)'."""
    match = _ACTOR_ITEM.match(item.strip())
    roles = {words: code for code, words in ROLE_WORDS.items()}
    if not match or match["role"] not in roles:
        raise ValueError(f"'{item}' is not 'name (role)' with a role among: {', '.join(roles)}.")
    return match["name"], roles[match["role"]]


def parse_count(item):
    """Return (qualifier, quantity, unit, note) from 'more than 40 accounts (note)'."""
    match = _COUNT_ITEM.match(item.strip())
    if not match:
        raise ValueError(
            f"'{item}' is not a count such as 'more than 40 accounts'; qualifiers: "
            f"{', '.join(QUALIFIER_WORDS.values())}; units: {', '.join(CountUnit.values)}."
        )
    qualifiers = {words: code for code, words in QUALIFIER_WORDS.items()}
    return (
        qualifiers[match["qualifier"]],
        int(match["quantity"]),
        match["unit"],
        match["note"] or "",
    )


def parse_source(item):
    """Return (title, publisher, published_on, url) from a source_text cell item."""
    match = _SOURCE_ITEM.match(item.strip())
    title, details, url = match["title"], match["details"] or "", match["url"] or ""
    parts = [part.strip() for part in details.split(", ")] if details else []
    published_on = None
    if parts and _DAY.match(parts[-1]):
        published_on = datetime.date.fromisoformat(parts.pop())
    return title, ", ".join(parts), published_on, url
