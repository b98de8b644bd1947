"""What an event looks like to the outside world: each public field, declared once.

EVENT_FIELDS is the registry. Each entry says what the field is called and means, where its
value comes from (a column of the event, its related rows, or a value derived from them), which
formats carry it (the JSON object, which NDJSON and TimelineJS read too; the CSV), how the
database writes it as JSON and as a CSV cell (the same SQL serves PostgreSQL's COPY and the
Python CSV writer), whether the cell is neutralised against spreadsheet formulas, how an import
reads the cell back (or that it is read-only), and its OpenAPI schema. Everything else is
built from it: the API's list, detail and change feed, the exports, the import resource, the
OpenAPI schema and the CSV column table of the researchers' guide. Nothing else lists an
event's public fields.

SQL here reads three aliases: e (the event), et (its type) and ec (the type's category); a
related field reads its rows as r. Dialect-specific spellings come from events.public.sql;
DAY(x) in a cell stands for the database's way of writing a date as YYYY-MM-DD.
"""

import re
from dataclasses import dataclass, field
from enum import StrEnum

from .. import formats
from ..choices import (
    LANGUAGES,
    CountQualifier,
    CountUnit,
    DatePrecision,
    EventStatus,
    RelationType,
    Role,
    SourceKind,
    Verification,
    english_labels,
)
from ..models import (
    Actor,
    Citation,
    Event,
    EventActor,
    EventCount,
    EventRelation,
    Platform,
    Source,
    Tag,
)
from .sql import literal


class Kind(StrEnum):
    """How a value is typed, which decides how it is written in JSON and in a CSV cell."""

    TEXT = "text"  # a JSON string; a neutralised CSV cell
    CODE = "code"  # text that is an id, a slug or a fixed code: never escaped in JSON
    DAY = "day"  # YYYY-MM-DD
    MOMENT = "moment"  # UTC: 2014-05-28T09:00:00Z in JSON, with microseconds in CSV
    BOOLEAN = "boolean"  # true or false
    DECIMAL = "decimal"  # a JSON string, 31.23000, as the model's five decimals
    INTEGER = "integer"
    LIST = "list"  # related rows: a JSON list of objects; a CSV cell of items joined by '; '


class Origin(StrEnum):
    COLUMN = "column"  # a column of the event or of its type or category
    RELATED = "related"  # rows linked to the event (actors, citations, ...)
    DERIVED = "derived"  # computed from columns (is_ongoing, url, labels)


TEXT_KINDS = {Kind.TEXT, Kind.CODE, Kind.LIST}  # cells that may begin like a formula (-slug)


@dataclass(frozen=True)
class Rows:
    """One kind of row related to an event, as a SELECT with event_id and the order columns."""

    name: str
    select: str
    order: str  # columns of select ordering an event's rows (the API's order)


@dataclass(frozen=True)
class Value:
    """One value inside a related row's JSON object: SQL over the row r, and its type."""

    sql: str
    kind: Kind = Kind.TEXT
    description: str = ""
    nullable: bool = False
    enum: tuple = ()
    required: bool = True


@dataclass(frozen=True)
class Importer:
    """How an import reads a CSV cell back: into an event attribute or a related kind.

    parse turns the cell (already stripped and un-neutralised) into a value, or raises
    ValueError with a message for the curator. on_publish: part of the record of
    publication (when an event was first published and last changed), read only for events
    the import creates as published; a draft or an event in review has no such record.
    example is the cell of the import page's example row and template (a made-up event);
    accepts says what else the import takes besides what the export writes.
    """

    into: str
    parse: object = None
    required: str = ""  # the message when the cell is empty; "" when it may be
    scalar: bool = True  # an attribute of Event, rather than something the import builds
    on_publish: bool = False
    example: str = ""
    accepts: str = ""


# Import readers that take a name as well as a code, in any case --------------------------

_ACTOR_ITEM = re.compile(r"^(?P<name>.+) \((?P<role>[^()]+)\)$")


def _by_code_or_name(choices_class):
    """Return {casefolded code, code with spaces, or English label: code}."""
    words = {}
    for code, label in english_labels(choices_class):
        for word in (code, code.replace("_", " "), label):
            words[word.casefold()] = code
    return words


ROLE_NAMES = _by_code_or_name(Role) | {w.casefold(): c for c, w in formats.ROLE_WORDS.items()}
VERIFICATION_NAMES = _by_code_or_name(Verification)


def read_actor(item):
    """Return (name, role code) from 'Tencent (implemented or enforced)', 'Tencent (ENFORCED)'."""
    match = _ACTOR_ITEM.match(item.strip())
    role = ROLE_NAMES.get(match["role"].strip().casefold()) if match else None
    if role is None:
        raise ValueError(
            f"'{item}' is not 'name (role)' with a role among: "
            f"{', '.join(formats.ROLE_WORDS.values())} (or their codes: {', '.join(Role.values)})."
        )
    return match["name"].strip(), role


def read_verification(cell):
    """Return the verification code for its code or its name, in any case."""
    code = VERIFICATION_NAMES.get(cell.strip().casefold())
    if code is None:
        return formats.read_verification(cell)  # raises with the list of codes
    return code


@dataclass(frozen=True)
class PublicField:
    name: str  # the CSV column, and the JSON key unless json says otherwise
    description: str
    origin: Origin
    kind: Kind
    sql: str = ""  # the value, for column and derived fields
    rows: Rows | None = None  # the related rows, for related fields
    item: dict | None = None  # the JSON object of one related row: key -> Value or dict
    cell: str = ""  # SQL for one related row's text in the CSV cell (NULL: left out)
    json: tuple | None = ()  # the path in the JSON object; () means (name,); None: not in JSON
    csv: bool = True
    nullable: bool = False
    importer: Importer | None = None
    schema: dict = field(default_factory=dict)  # OpenAPI beyond what the kind says
    model_field: str = ""  # the Event field it shows, where there is one
    searchable: bool = False  # its words are found by q

    @property
    def json_path(self):
        return None if self.json is None else (self.json or (self.name,))

    @property
    def in_json(self):
        return self.json is not None

    @property
    def neutralised(self):
        return self.csv and self.kind in TEXT_KINDS

    @property
    def read_only(self):
        return self.importer is None


def _table(model):
    return model._meta.db_table


def _case(expression, labels):
    """Return SQL that maps codes to fixed labels (choices), for text both formats show."""
    whens = " ".join(f"WHEN {literal(code)} THEN {literal(label)}" for code, label in labels)
    return f"CASE {expression} {whens} END"


def _labels(choices):
    return english_labels(choices)


def _lower_labels(choices):
    return [(code, label.lower()) for code, label in english_labels(choices)]


PUBLISHED = literal(EventStatus.PUBLISHED)

# Related rows ------------------------------------------------------------------------------
# Lookups are LEFT JOINs (every link names its row, so nothing changes): a join whose columns
# a field does not read is dropped by PostgreSQL's planner, as quotes do not read sources.

ROLES = Rows(
    "roles",
    f"""SELECT x.event_id, x.id AS position, a.slug, a.name, x.role, x.note
    FROM {_table(EventActor)} x LEFT JOIN {_table(Actor)} a ON a.id = x.actor_id""",
    "position",
)
PLATFORMS = Rows(
    "platforms",
    f"""SELECT x.event_id, x.platform_id AS position, p.slug, p.name
    FROM {_table(Event.platforms.through)} x
    LEFT JOIN {_table(Platform)} p ON p.id = x.platform_id""",
    "position",
)
TAGS = Rows(
    "tags",
    f"""SELECT x.event_id, x.tag_id AS position, t.slug, t.name
    FROM {_table(Event.tags.through)} x LEFT JOIN {_table(Tag)} t ON t.id = x.tag_id""",
    "position",
)
CITATIONS = Rows(
    "citations",
    f"""SELECT x.event_id, x.id AS position, x.quote, x.locator, s.key, s.title, s.publisher,
        s.published_on, s.url, s.archive_url, s.kind
    FROM {_table(Citation)} x LEFT JOIN {_table(Source)} s ON s.id = x.source_id""",
    "position",
)
# Each source once, where the event first cites it: the citations no earlier one of the same
# event and source precedes (an anti-join along the (event, id) index; no GROUP BY, no sort).
CITED_SOURCES = Rows(
    "cited_sources",
    f"""SELECT x.event_id, x.id AS position, s.title, s.publisher, s.published_on, s.url
    FROM {_table(Citation)} x LEFT JOIN {_table(Source)} s ON s.id = x.source_id
    WHERE NOT EXISTS (SELECT 1 FROM {_table(Citation)} y
        WHERE y.event_id = x.event_id AND y.source_id = x.source_id AND y.id < x.id)""",
    "position",
)
COUNTS = Rows(
    "counts",
    f"""SELECT x.event_id, x.id AS position, x.qualifier, x.quantity, x.unit, x.note
    FROM {_table(EventCount)} x""",
    "position",
)
# Links to published events only: outgoing (this event first) then incoming, each as made.
RELATIONS = Rows(
    "relations",
    f"""SELECT x.from_event_id AS event_id, 0 AS direction_order, x.id AS position,
        x.relation_type, 'outgoing' AS direction, o.public_id, o.title, x.note
    FROM {_table(EventRelation)} x JOIN {_table(Event)} o ON o.id = x.to_event_id
    WHERE o.status = {PUBLISHED}
    UNION ALL
    SELECT x.to_event_id AS event_id, 1 AS direction_order, x.id AS position,
        x.relation_type, 'incoming' AS direction, o.public_id, o.title, x.note
    FROM {_table(EventRelation)} x JOIN {_table(Event)} o ON o.id = x.from_event_id
    WHERE o.status = {PUBLISHED}""",
    "direction_order, position",
)

NAMED = {
    "slug": Value("r.slug", description="Stable short name, used in filters.", kind=Kind.CODE),
    "name": Value("r.name"),
}
ROLE_WORDS = _case("r.role", formats.ROLE_WORDS.items())
SOURCE_DETAILS = """CASE
    WHEN r.publisher <> '' AND r.published_on IS NOT NULL
        THEN ' (' || r.publisher || ', ' || DAY(r.published_on) || ')'
    WHEN r.publisher <> '' THEN ' (' || r.publisher || ')'
    WHEN r.published_on IS NOT NULL THEN ' (' || DAY(r.published_on) || ')'
    ELSE '' END || CASE WHEN r.url <> '' THEN ' <' || r.url || '>' ELSE '' END"""


def _field(name, description, origin, kind, **options):
    return PublicField(name, description, origin, kind, **options)


def column(name, sql, description, kind=Kind.TEXT, **options):
    """A column of the event's type or category (or any SQL over e, et, ec)."""
    return _field(name, description, Origin.COLUMN, kind, sql=sql, **options)


def event_column(
    name, description, kind=Kind.TEXT, *, field="", read=None, required="", example="", **options
):
    """A column of the event itself: its SQL, model field and import target follow from its
    Event field (the name, unless field says otherwise); read parses it on import."""
    field = field or name
    importer = options.pop("importer", None)
    if read:
        accepts = options.pop("accepts", "")
        importer = Importer(field, read, required=required, example=example, accepts=accepts)
    sql = f"e.{Event._meta.get_field(field).column}"
    return column(name, sql, description, kind, model_field=field, importer=importer, **options)


def derived(name, sql, description, kind=Kind.TEXT, **options):
    return _field(name, description, Origin.DERIVED, kind, sql=sql, **options)


def related(name, rows, description, **options):
    return _field(name, description, Origin.RELATED, Kind.LIST, rows=rows, **options)


EVENT_FIELDS = (
    event_column(
        "id",
        "Stable public id, such as CN-2014-0003.",
        Kind.CODE,
        field="public_id",
        read=formats.read_public_id,
        accepts="Empty for a new event: it gets the next id. An existing id updates that event.",
    ),
    event_column(
        "title",
        "What happened, in one line.",
        searchable=True,
        schema={"maxLength": 300},
        read=formats.read_text,
        required="Required.",
        example="Messaging app blocks a channel that posted flood videos",
    ),
    event_column(
        "summary",
        "What happened, in the curators' words.",
        searchable=True,
        read=formats.read_text,
        required="Required.",
        example="The operator blocked a local news channel with about 12,000 subscribers two "
        "days after it posted videos of flooded streets, citing an order from the regulator.",
    ),
    event_column(
        "title_original",
        "The title in the source's own language (original_language), if it is not English.",
        searchable=True,
        schema={"maxLength": 300},
        read=formats.read_text,
    ),
    event_column(
        "summary_original",
        "The summary in the source's own language (original_language), if it is not English.",
        searchable=True,
        read=formats.read_text,
    ),
    event_column(
        "original_language",
        "Language of title_original and summary_original, as a code such as zh-hans; empty "
        "when there are none.",
        Kind.CODE,
        schema={"enum": ["", *(code for code, _name in LANGUAGES)]},
        read=formats.read_language,
    ),
    event_column(
        "date",
        "The date as curated, in EDTF: 2014-03, 2014-04~, 2009-07-07/..",
        json=("date", "text"),
        field="date_text",
        read=formats.read_text,
        required="Required.",
        example="2021-07-14",
    ),
    event_column(
        "date_display",
        "The date as a reader says it: March 2014, c. April 2014.",
        json=("date", "display"),
    ),
    event_column(
        "date_earliest",
        "Earliest day the event may have touched (YYYY-MM-DD).",
        Kind.DAY,
        json=("date", "earliest"),
    ),
    event_column(
        "date_latest",
        "Latest day it may have touched; empty (null) while ongoing.",
        Kind.DAY,
        json=("date", "latest"),
        nullable=True,
    ),
    event_column(
        "date_precision",
        "day, month, season, year, decade or century.",
        Kind.CODE,
        json=("date", "precision"),
        schema={"enum": DatePrecision.values},
    ),
    event_column(
        "date_is_approximate",
        "true when the date is approximate (c. April 2014).",
        Kind.BOOLEAN,
        json=("date", "is_approximate"),
    ),
    event_column(
        "date_is_uncertain",
        "true when the sources are unsure of the date (May 2014?).",
        Kind.BOOLEAN,
        json=("date", "is_uncertain"),
    ),
    derived(
        "is_ongoing",
        "e.date_latest IS NULL",
        "true when the event has no end yet.",
        Kind.BOOLEAN,
        json=("date", "is_ongoing"),
    ),
    column(
        "type",
        "et.slug",
        "Event type slug, such as account-removal.",
        Kind.CODE,
        json=("type", "slug"),
        importer=Importer(
            "type_slug",
            formats.read_text,
            required="Required: an event type slug such as account-removal.",
            scalar=False,
            example="account-removal",
            accepts="The type's slug or its name, in any case. A type not yet in the taxonomy "
            "is created, and then needs category.",
        ),
    ),
    column(
        "type_name",
        "et.name",
        "Event type name.",
        json=("type", "name"),
        importer=Importer(
            "type_name", formats.read_text, scalar=False, accepts="Read only for a new type."
        ),
    ),
    column(
        "category",
        "ec.slug",
        "Category slug, such as content-control.",
        Kind.CODE,
        json=("category", "slug"),
        importer=Importer(
            "category_slug", formats.read_text, scalar=False, accepts="Read only for a new type."
        ),
    ),
    column(
        "category_name",
        "ec.name",
        "Category name.",
        json=("category", "name"),
        importer=Importer(
            "category_name", formats.read_text, scalar=False, accepts="Read only for a new type."
        ),
    ),
    event_column(
        "country",
        "ISO 3166 code; empty for a global event.",
        Kind.CODE,
        read=formats.read_country,
        example="TR",
    ),
    derived(
        "country_name",
        "",  # looked up from django-countries, in events.public.documents
        "The country's name, in English.",
        csv=False,
    ),
    event_column(
        "is_global",
        "true when the event spans the world.",
        Kind.BOOLEAN,
        read=formats.read_boolean,
        example="false",
        accepts="true, false, yes, no, 1, 0; empty is false.",
    ),
    event_column(
        "locality",
        "Province, city or district.",
        searchable=True,
        schema={"maxLength": 200},
        read=formats.read_text,
        example="Izmir",
    ),
    event_column(
        "latitude",
        "Decimal degrees, with five decimals, or empty (null).",
        Kind.DECIMAL,
        nullable=True,
        read=formats.read_decimal,
        example="38.42370",
    ),
    event_column(
        "longitude",
        "Decimal degrees, with five decimals, or empty (null).",
        Kind.DECIMAL,
        nullable=True,
        read=formats.read_decimal,
        example="27.13840",
    ),
    related(
        "actors",
        ROLES,
        "Actors with their role; in CSV 'name (role)', separated by '; '.",
        item={
            **NAMED,
            "role": Value(
                "r.role", enum=tuple(Role.values), description="Their part in it.", kind=Kind.CODE
            ),
            "role_label": Value(_case("r.role", _labels(Role))),
            "note": Value("r.note", description="Optional detail, such as 'heads the group'."),
        },
        cell=f"r.name || ' (' || {ROLE_WORDS} || ')'",
        importer=Importer(
            "actors",
            formats.read_many(read_actor),
            scalar=False,
            example="Coastal Telecom Board (ordered or decided); "
            "Kanal Messenger (implemented or enforced)",
            accepts="A role by its words or its code (enforced), in any case. An actor is "
            "found by name or alias; a new name is created only if ticked on the preview.",
        ),
    ),
    related(
        "platforms",
        PLATFORMS,
        "Platforms it hit; in CSV their names, separated by '; '.",
        item=NAMED,
        cell="r.name",
        importer=Importer(
            "platforms",
            formats.split_list,
            scalar=False,
            example="Kanal Messenger",
            accepts="Found by name or alias, in any case; a new name is created only if "
            "ticked on the preview.",
        ),
    ),
    related(
        "tags",
        TAGS,
        "Tags; in CSV their names, separated by '; '.",
        item=NAMED,
        cell="r.name",
        importer=Importer("tags", formats.split_list, scalar=False, example="floods; local news"),
    ),
    related(
        "citations",
        CITATIONS,
        "The sources that document it, down to the quoted passage.",
        item={
            "source": {
                "key": Value(
                    "r.key", description="Stable short name of the source.", kind=Kind.CODE
                ),
                "title": Value("r.title"),
                "publisher": Value("r.publisher"),
                "published_on": Value("r.published_on", Kind.DAY, nullable=True),
                "url": Value("r.url", description="Where it was published; may be empty."),
                "archive_url": Value("r.archive_url", description="A saved copy; may be empty."),
                "kind": Value("r.kind", enum=tuple(SourceKind.values), kind=Kind.CODE),
            },
            "quote": Value("r.quote", description="The passage, copied exactly; may be empty."),
            "locator": Value("r.locator", description="Where in the source: paragraph, page."),
        },
        csv=False,
    ),
    related(
        "counts",
        COUNTS,
        "How many accounts, posts or people; in CSV 'more than 40 accounts (note)', "
        "separated by '; '.",
        item={
            "qualifier": Value("r.qualifier", enum=tuple(CountQualifier.values), kind=Kind.CODE),
            "quantity": Value("r.quantity", Kind.INTEGER),
            "unit": Value("r.unit", enum=tuple(CountUnit.values), kind=Kind.CODE),
            "note": Value("r.note"),
            "text": Value(
                f"{_case('r.qualifier', _labels(CountQualifier))} || ' ' || "
                f"CAST(r.quantity AS TEXT) || ' ' || {_case('r.unit', _lower_labels(CountUnit))}",
                description="Such as 'More than 40 accounts'.",
            ),
        },
        cell=f"{_case('r.qualifier', formats.QUALIFIER_WORDS.items())} || ' ' || "
        "CAST(r.quantity AS TEXT) || ' ' || r.unit || "
        "CASE WHEN r.note <> '' THEN ' (' || r.note || ')' ELSE '' END",
        importer=Importer(
            "counts",
            formats.read_many(formats.parse_count),
            scalar=False,
            example="about 12000 people (subscribers)",
        ),
    ),
    related(
        "relations",
        RELATIONS,
        "Links to other published events, both ways.",
        item={
            "type": Value("r.relation_type", enum=tuple(RelationType.values), kind=Kind.CODE),
            "label": Value(
                _case("r.relation_type", _labels(RelationType)),
                description="How to read it: '<this event> is part of <event>'.",
            ),
            "direction": Value(
                "r.direction",
                Kind.CODE,
                enum=("outgoing", "incoming"),
                description="outgoing: this event is the first of the pair; incoming: the second.",
            ),
            "event": Value(
                "r.public_id", description="Public id of the other event.", kind=Kind.CODE
            ),
            "title": Value("r.title", description="Title of the other event."),
            "note": Value("r.note"),
        },
        csv=False,
    ),
    event_column(
        "verification",
        "single_source, corroborated, confirmed or disputed.",
        Kind.CODE,
        schema={"enum": Verification.values},
        read=read_verification,
        example="single_source",
        accepts="The code or its name (Disputed), in any case.",
    ),
    derived(
        "verification_label",
        _case("e.verification", _labels(Verification)),
        "How well the sources establish the event, in words.",
        csv=False,
    ),
    related(
        "sources",
        CITED_SOURCES,
        "Sources cited, 'title (publisher, date) <url>', separated by '; '.",
        cell="r.title || " + SOURCE_DETAILS,
        json=None,
        importer=Importer(
            "sources",
            formats.read_many(formats.parse_source),
            scalar=False,
            example="Channel blocked after flood videos (Example Regional News, 2021-07-15) "
            "<https://news.example.org/2021/07/channel-blocked>",
        ),
    ),
    related(
        "source_urls",
        CITED_SOURCES,
        "URLs of the sources cited, separated by '; '.",
        cell="NULLIF(r.url, '')",
        json=None,
    ),
    related(
        "quotes",
        CITATIONS,
        "Quoted passages that support the event, separated by '; '.",
        cell="NULLIF(r.quote, '')",
        json=None,
        importer=Importer(
            "quotes",
            formats.split_list,
            scalar=False,
            example="the channel was closed on the regulator's order",
            accepts="Quotes go to the first source.",
        ),
    ),
    event_column(
        "first_published_at",
        "When it was first published (UTC, ISO 8601).",
        Kind.MOMENT,
        nullable=True,
        importer=Importer(
            "first_published_at",
            formats.read_moment,
            scalar=False,
            on_publish=True,
            accepts="Read only for new events imported as published.",
        ),
    ),
    event_column(
        "updated_at",
        "When it last changed (UTC, ISO 8601).",
        Kind.MOMENT,
        importer=Importer(
            "updated_at",
            formats.read_moment,
            scalar=False,
            on_publish=True,
            accepts="Read only for new events imported as published.",
        ),
    ),
    derived("url", "", "The event's public page."),  # the site's address + id, in documents
    derived("api_url", "", "The event in the API.", csv=False),
)

FIELDS = {public_field.name: public_field for public_field in EVENT_FIELDS}
CSV_FIELDS = tuple(public_field for public_field in EVENT_FIELDS if public_field.csv)
JSON_FIELDS = tuple(public_field for public_field in EVENT_FIELDS if public_field.in_json)
CSV_COLUMNS = tuple(public_field.name for public_field in CSV_FIELDS)
IMPORTED_FIELDS = tuple(f for f in EVENT_FIELDS if f.csv and f.importer is not None)
SEARCHABLE_FIELDS = tuple(f.model_field for f in EVENT_FIELDS if f.searchable)

# JSON objects the registry nests fields in, and when they are null.
GROUPS = {
    "date": {"null_when": None, "component": "EventDate"},
    "type": {"null_when": "et.id IS NULL", "component": "EventTypeRef"},
    "category": {"null_when": "ec.id IS NULL", "component": "CategoryRef"},
}
