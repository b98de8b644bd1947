"""Citable data releases: what a release holds, table by table (events.services.releases
writes and loads them).

A release is the public timeline as a numbered, dated Frictionless Data Package, lossless
where the one-row-per-event CSV is not: one table per kind of row (events, actors and their
aliases, each event's actors in their roles, platforms, tags, sources, citations with each
quote tied to its own source, counts, relations), with Table Schema types, descriptions (an
event's from the registry of public fields), primary and foreign keys. It holds only public
data, as the API shows it: rows no published event refers to are left out, and a link to
something not public (a platform's operator, an actor's parent, a source's publisher) is left
empty.

TABLES declares every table once; writing a release and loading one both read it. A text
cell that a spreadsheet would run as a formula is written with a leading apostrophe,
reversibly: a cell that already began with apostrophes before a formula start gets one more,
and a reader takes exactly one away.
"""

import datetime
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Case, F, Value, When, Window
from django.db.models.functions import RowNumber

from . import choices
from .formats import FORMULA_STARTS
from .models import (
    Actor,
    ActorAlias,
    Citation,
    Event,
    EventActor,
    EventCategory,
    EventCount,
    EventRelation,
    EventType,
    Platform,
    PlatformAlias,
    Source,
    Tag,
)
from .public.fields import EVENT_FIELDS, Kind, Origin

PACKAGE_NAME = "censorship-timeline"
TITLE = "Censorship Timeline"
LICENCE = {
    "name": "CC-BY-4.0",
    "title": "Creative Commons Attribution 4.0",
    "path": "https://creativecommons.org/licenses/by/4.0/",
}
RETRACTIONS = "retractions"


# How a table is declared ---------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    name: str
    type: str  # a Table Schema type: string, integer, number, boolean, date, datetime
    description: str
    lookup: str  # what the table's rows give for it (an ORM path or an annotation)
    required: bool = False
    enum: tuple = ()

    def schema(self):
        field = {"name": self.name, "type": self.type, "description": self.description}
        constraints = {}
        if self.required:
            constraints["required"] = True
        if self.enum:
            constraints["enum"] = list(self.enum)
        if constraints:
            field["constraints"] = constraints
        return field


@dataclass(frozen=True)
class Table:
    name: str
    description: str
    columns: tuple
    rows: Callable  # () -> QuerySet of public rows, in primary-key order
    primary_key: tuple
    foreign_keys: tuple = ()  # ((columns), table, (columns))

    @property
    def path(self):
        return f"{self.name}.csv"

    def records(self):
        """Yield each public row as a tuple of Python values, in the columns' order."""
        yield from (
            self.rows()
            .values_list(*(column.lookup for column in self.columns))
            .iterator(chunk_size=2000)
        )

    def schema(self):
        schema = {
            "fields": [column.schema() for column in self.columns],
            "primaryKey": list(self.primary_key),
            "missingValues": [""],
        }
        if self.foreign_keys:
            schema["foreignKeys"] = [
                {"fields": list(mine), "reference": {"resource": table, "fields": list(theirs)}}
                for mine, table, theirs in self.foreign_keys
            ]
        return schema


def column(name, type, description, lookup=None, **options):
    return Column(name, type, description, lookup or name, **options)


def choice(name, description, choices_class, lookup=None, **options):
    values = tuple(choices_class.values)
    text = f"{description} One of: {', '.join(values)}."
    return Column(name, "string", text, lookup or name, enum=values, **options)


def public_slug(field, model):
    """A link's slug when the row it points to is public, else empty (as the API does)."""
    public = model.objects.public().values("pk")
    return Case(When(**{f"{field}__in": public}, then=F(f"{field}__slug")), default=Value(""))


def published_events():
    return Event.objects.published()


def position(event_field="event", order="id"):
    """The row's place among its event's rows, 1, 2, ..., in the API's order.

    The API lists an event's roles, citations, counts and links in the order they were
    added (their ids), its platforms and tags in the order those were created.
    """
    return Window(RowNumber(), partition_by=[F(event_field)], order_by=[F(order).asc()])


def _position(things, lookup="position"):
    return column(
        lookup,
        "integer",
        f"Its place among {things}, 1, 2, ...: sort by it to list them as the API does.",
        required=True,
    )


# The events table: its columns are the registry's event columns --------------------------------

KIND_TYPES = {
    Kind.TEXT: "string",
    Kind.CODE: "string",
    Kind.DAY: "date",
    Kind.MOMENT: "datetime",
    Kind.BOOLEAN: "boolean",
    Kind.DECIMAL: "number",
    Kind.INTEGER: "integer",
}


def _event_columns():
    columns = []
    for public_field in EVENT_FIELDS:
        if public_field.origin != Origin.COLUMN or not public_field.csv:
            continue
        if public_field.name == "type":
            lookup = "event_type__slug"
        elif public_field.model_field:
            lookup = public_field.model_field
        else:
            continue  # the type's name, the category: in event_types and event_categories
        columns.append(
            Column(
                public_field.name,
                KIND_TYPES[public_field.kind],
                public_field.description,
                lookup,
                required=public_field.name in ("id", "title", "summary", "date", "type"),
            )
        )
    return tuple(columns)


EVENT_COLUMNS = _event_columns()


def _event_key(field="event"):
    return column(field, "string", "The event's public id.", f"{field}__public_id", required=True)


EVENT_KEY = ((("event",), "events", ("id",)),)

TABLES = (
    Table(
        "event_categories",
        "The broad categories of event types.",
        (
            column("slug", "string", "Stable short name.", required=True),
            column("name", "string", "Its name.", required=True),
        ),
        lambda: (
            EventCategory.objects.filter(types__in=EventType.objects.public().values("pk"))
            .distinct()
            .order_by("slug")
        ),
        ("slug",),
    ),
    Table(
        "event_types",
        "What kind of event: an account removal, an arrest, a block, a new law.",
        (
            column("slug", "string", "Stable short name.", required=True),
            column("name", "string", "Its name.", required=True),
            column("description", "string", "When curators use this type."),
            column("category", "string", "Its category's slug.", "category__slug", required=True),
        ),
        lambda: EventType.objects.public().order_by("slug"),
        ("slug",),
        ((("category",), "event_categories", ("slug",)),),
    ),
    Table(
        "events",
        "Published events, one row each.",
        EVENT_COLUMNS,
        lambda: published_events().order_by("public_id"),
        ("id",),
        ((("type",), "event_types", ("slug",)),),
    ),
    Table(
        "actors",
        "Governments, agencies, companies, people and groups that events name.",
        (
            column("slug", "string", "Stable short name.", required=True),
            column("name", "string", "The usual English name.", required=True),
            choice("kind", "What sort of actor.", choices.ActorKind, required=True),
            column("country", "string", "ISO 3166 code of where it is based, or empty."),
            column("parent", "string", "The body it belongs to, if public.", "parent_public"),
            column("description", "string", "Who they are."),
            column("wikidata_id", "string", "Its Wikidata item, such as Q16969."),
            column("url", "string", "Official website."),
        ),
        lambda: (
            Actor.objects.public()
            .annotate(parent_public=public_slug("parent", Actor))
            .order_by("slug")
        ),
        ("slug",),
    ),
    Table(
        "actor_aliases",
        "Other names of actors: 习近平 for Xi Jinping.",
        (
            column("actor", "string", "The actor's slug.", "actor__slug", required=True),
            column("name", "string", "The name as written, in any script.", required=True),
            choice("kind", "What sort of name.", choices.AliasKind, required=True),
            column("language", "string", "BCP 47 language tag, or empty."),
        ),
        lambda: ActorAlias.objects.filter(actor__in=Actor.objects.public().values("pk")).order_by(
            "actor__slug", "name"
        ),
        ("actor", "name"),
        ((("actor",), "actors", ("slug",)),),
    ),
    Table(
        "event_actors",
        "Who did what in each event: ordered, enforced, was targeted, operated the platform.",
        (
            _event_key(),
            _position("the event's actor roles"),
            column("actor", "string", "The actor's slug.", "actor__slug", required=True),
            choice("role", "Their role in the event.", choices.Role, required=True),
            column("note", "string", "Optional detail, such as 'heads the group'."),
        ),
        lambda: (
            EventActor.objects.filter(event__in=published_events().values("pk"))
            .annotate(position=position())
            .order_by("event__public_id", "position")
        ),
        ("event", "actor", "role"),
        (*EVENT_KEY, (("actor",), "actors", ("slug",))),
    ),
    Table(
        "platforms",
        "Services and networks that events hit: WeChat, Weibo.",
        (
            column("slug", "string", "Stable short name.", required=True),
            column("name", "string", "The usual English name.", required=True),
            choice("kind", "What sort of platform.", choices.PlatformKind, required=True),
            column("operator", "string", "The actor that runs it, if public.", "operator_public"),
            column("country", "string", "ISO 3166 code of where it is based, or empty."),
            column("description", "string", "What it is."),
            column("wikidata_id", "string", "Its Wikidata item."),
            column("url", "string", "Its website."),
        ),
        lambda: (
            Platform.objects.public()
            .annotate(operator_public=public_slug("operator", Actor))
            .order_by("slug")
        ),
        ("slug",),
    ),
    Table(
        "platform_aliases",
        "Other names of platforms: 微信 for WeChat.",
        (
            column("platform", "string", "The platform's slug.", "platform__slug", required=True),
            column("name", "string", "The name as written, in any script.", required=True),
            choice("kind", "What sort of name.", choices.AliasKind, required=True),
            column("language", "string", "BCP 47 language tag, or empty."),
        ),
        lambda: PlatformAlias.objects.filter(
            platform__in=Platform.objects.public().values("pk")
        ).order_by("platform__slug", "name"),
        ("platform", "name"),
        ((("platform",), "platforms", ("slug",)),),
    ),
    Table(
        "event_platforms",
        "The platforms each event hit.",
        (
            _event_key(),
            _position("the event's platforms"),
            column("platform", "string", "The platform's slug.", "platform__slug", required=True),
        ),
        lambda: (
            Event.platforms.through.objects.filter(event__in=published_events().values("pk"))
            .annotate(position=position(order="platform"))
            .order_by("event__public_id", "position")
        ),
        ("event", "platform"),
        (*EVENT_KEY, (("platform",), "platforms", ("slug",))),
    ),
    Table(
        "tags",
        "Free tags curators give events.",
        (
            column("slug", "string", "Stable short name.", required=True),
            column("name", "string", "The tag.", required=True),
        ),
        lambda: Tag.objects.public().order_by("slug"),
        ("slug",),
    ),
    Table(
        "event_tags",
        "The tags of each event.",
        (
            _event_key(),
            _position("the event's tags"),
            column("tag", "string", "The tag's slug.", "tag__slug", required=True),
        ),
        lambda: (
            Event.tags.through.objects.filter(event__in=published_events().values("pk"))
            .annotate(position=position(order="tag"))
            .order_by("event__public_id", "position")
        ),
        ("event", "tag"),
        (*EVENT_KEY, (("tag",), "tags", ("slug",))),
    ),
    Table(
        "sources",
        "The reports, documents and posts that published events cite.",
        (
            column("key", "string", "Stable short name.", required=True),
            column("title", "string", "Headline or document title.", required=True),
            column("summary", "string", "What it says, in our words."),
            choice("kind", "What sort of source.", choices.SourceKind, required=True),
            column("url", "string", "Where it was published."),
            column("archive_url", "string", "An archived copy."),
            column("publisher", "string", "Outlet or body."),
            column(
                "publisher_actor",
                "string",
                "The publisher as an actor, if public.",
                "publisher_actor_public",
            ),
            column("authors", "string", "Authors, separated by '; '."),
            column("published_on", "date", "Publication date."),
            column("language", "string", "BCP 47 language tag, or empty."),
            column("accessed_on", "date", "When curators last read it."),
            choice("reliability", "How far to trust it.", choices.Reliability),
        ),
        lambda: (
            Source.objects.public()
            .annotate(publisher_actor_public=public_slug("publisher_actor", Actor))
            .order_by("key")
        ),
        ("key",),
    ),
    Table(
        "citations",
        "The passages that document each event, each tied to its own source.",
        (
            _event_key(),
            _position("the event's citations"),
            column("source", "string", "The source's key.", "source__key", required=True),
            column("quote", "string", "The quoted passage, as the source words it."),
            column("locator", "string", "Where in the source: a paragraph, a page."),
        ),
        lambda: (
            Citation.objects.filter(event__in=published_events().values("pk"))
            .annotate(position=position())
            .order_by("event__public_id", "position")
        ),
        ("event", "position"),
        (*EVENT_KEY, (("source",), "sources", ("key",))),
    ),
    Table(
        "counts",
        "How many accounts, posts or people an event touched.",
        (
            _event_key(),
            _position("the event's counts"),
            choice("qualifier", "exactly, about, more than, ...", choices.CountQualifier),
            column("quantity", "integer", "The number.", required=True),
            choice("unit", "Of what.", choices.CountUnit, required=True),
            column("note", "string", "What was counted, if the unit does not say."),
        ),
        lambda: (
            EventCount.objects.filter(event__in=published_events().values("pk"))
            .annotate(position=position())
            .order_by("event__public_id", "position")
        ),
        ("event", "position"),
        EVENT_KEY,
    ),
    Table(
        "relations",
        "Links between published events: one is part of, or a response to, another.",
        (
            _event_key("from_event"),
            _position("from_event's links to other events", "from_position"),
            choice("relation", "How they are linked.", choices.RelationType, "relation_type"),
            _event_key("to_event"),
            _position("to_event's links from other events", "to_position"),
            column("note", "string", "Why they are linked."),
        ),
        lambda: (
            EventRelation.objects.filter(
                from_event__in=published_events().values("pk"),
                to_event__in=published_events().values("pk"),
            )
            .annotate(from_position=position("from_event"), to_position=position("to_event"))
            .order_by("from_event__public_id", "from_position")
        ),
        ("from_event", "relation", "to_event"),
        (
            (("from_event",), "events", ("id",)),
            (("to_event",), "events", ("id",)),
        ),
    ),
)
TABLES_BY_NAME = {table.name: table for table in TABLES}

RETRACTION_TABLE = Table(
    RETRACTIONS,
    "Events retracted since the previous release: drop them from your copy.",
    (
        column("id", "string", "The event's public id.", "public_id", required=True),
        column("retracted_at", "datetime", "When it was retracted (UTC).", required=True),
        column("reason", "string", "Why.", "retraction_reason", required=True),
    ),
    lambda: Event.objects.none(),  # chosen per release: see release_make
    ("id",),
)


# Cells ----------------------------------------------------------------------------------------


def write_cell(value, kind):
    if value is None:
        return ""
    if kind == "string":
        return protect(str(value))
    if kind == "boolean":
        return "true" if value else "false"
    if kind == "datetime":
        moment = value.astimezone(datetime.UTC).isoformat(timespec="microseconds")
        return moment.replace("+00:00", "Z")
    if kind == "date":
        return value.isoformat()
    return str(value)  # integers, and numbers as the model's decimals


def read_cell(text, kind):
    if text == "":
        return None if kind != "string" else ""
    if kind == "string":
        return unprotect(text)
    if kind == "boolean":
        return text == "true"
    if kind == "datetime":
        return datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
    if kind == "date":
        return datetime.date.fromisoformat(text)
    if kind == "integer":
        return int(text)
    return Decimal(text)


def protect(text):
    """Put an apostrophe before a cell a spreadsheet would run as a formula, reversibly."""
    return f"'{text}" if text.lstrip("'").startswith(FORMULA_STARTS) else text


def unprotect(text):
    return (
        text[1:] if text.startswith("'") and text.lstrip("'").startswith(FORMULA_STARTS) else text
    )


class ReleaseError(Exception):
    """A release that cannot be made, with why."""
