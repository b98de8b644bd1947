"""How events are written as text cells in CSV, and read back: one vocabulary both ways.

The API's exports (timeline.exports) write these cells; the admin's import (events.resources)
reads them, so an exported CSV imports back into the same events.
"""

import datetime
import decimal
import re

from django.utils.dateparse import parse_datetime

from .choices import LANGUAGES, CountQualifier, CountUnit, Role, Verification, english_labels

LIST_SEPARATOR = "; "
# OWASP: a cell starting with one of these may run as a formula in a spreadsheet.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n")
ROLE_WORDS = {code: label.lower() for code, label in english_labels(Role)}
QUALIFIER_WORDS = {code: label.lower() for code, label in english_labels(CountQualifier)}

_ACTOR_ITEM = re.compile(r"^(?P<name>.+) \((?P<role>[^()]+)\)$")
_QUALIFIERS = "|".join(map(re.escape, QUALIFIER_WORDS.values()))
_UNITS = "|".join(map(re.escape, CountUnit.values))
_COUNT_ITEM = re.compile(
    rf"^(?P<qualifier>{_QUALIFIERS}) (?P<quantity>\d+) (?P<unit>{_UNITS})(?: \((?P<note>.*)\))?$"
)
_SOURCE_ITEM = re.compile(r"^(?P<title>.+?)(?: \((?P<details>[^()]*)\))?(?: <(?P<url>[^<>\s]+)>)?$")
_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
PUBLIC_ID = re.compile(r"[A-Z]{2}-[0-9]{4}-[0-9]{4,}\Z")  # as Event's event_public_id_format
PUBLIC_ID_LENGTH = 24  # Event.public_id's max_length
LANGUAGE_CODES = {code for code, _name in LANGUAGES}


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


# Reading cells back (the import): each takes a stripped cell and raises ValueError ----------


def read_text(cell):
    return cell


def read_public_id(cell):
    if cell and (len(cell) > PUBLIC_ID_LENGTH or not PUBLIC_ID.match(cell)):
        raise ValueError(f"'{cell[:40]}' is not a public id such as CN-2014-0003.")
    return cell


def read_language(cell):
    if cell and cell.lower() not in LANGUAGE_CODES:
        raise ValueError(f"'{cell[:40]}' is not a language code such as zh-hans or en.")
    return cell.lower()


def read_country(cell):
    return cell.upper()


def read_boolean(cell):
    if cell.lower() in ("", "false", "0", "no"):
        return False
    if cell.lower() in ("true", "1", "yes"):
        return True
    raise ValueError(f"'{cell}' is not true or false.")


def read_decimal(cell):
    try:
        return decimal.Decimal(cell) if cell else None
    except decimal.InvalidOperation:
        raise ValueError(f"'{cell[:40]}' is not a number such as 31.23.") from None


def read_verification(cell):
    if cell not in Verification.values:
        raise ValueError(f"'{cell}' is not one of {', '.join(Verification.values)}.")
    return cell


def read_moment(cell):
    if not cell:
        return None
    moment = parse_datetime(cell)
    if moment is None:
        raise ValueError(f"'{cell}' is not an ISO 8601 moment such as 2014-05-28T09:00:00Z.")
    return moment


def read_many(parse):
    """Return a reader of a cell of items separated by '; ', each read by parse."""

    def read(cell):
        return [parse(item) for item in split_list(cell)]

    return read
