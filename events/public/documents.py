"""Events written by the database as the registry says: JSON text and CSV cells.

One builder turns events.public.fields into SQL for either database. Two shapes read related
rows (an event's actor roles, citations, ...):

- per event (correlated subqueries), for a page of the API or a chunk of an export: each of
  the page's events looks up its own rows through the event_id indexes;
- grouped, for a whole export by COPY on PostgreSQL: each kind of row is read once, in event
  order, and aggregated per event in a single pass (no subquery per event, no sort per group).

Python never touches a field: a page is the database's JSON texts joined with commas.
"""

import functools
import hashlib
import json
import re
import weakref
from collections import OrderedDict
from dataclasses import dataclass

from django.conf import settings
from django.db import DatabaseError, connections
from django.utils.translation import get_language
from django_countries import countries

from ..models import Event, EventCategory, EventType
from .fields import CSV_FIELDS, GROUPS, JSON_FIELDS, Kind, Origin, Value
from .sql import DIALECTS, dialect_for, literal

LIST_SEPARATOR = "; "  # events.formats.LIST_SEPARATOR: items of a CSV cell
DAY_MACRO = re.compile(r"DAY\(([^()]*)\)")
EVENTS = Event._meta.db_table


@dataclass(frozen=True)
class Bases:
    """The absolute URLs that an event's public id and a slash complete."""

    page: str
    api: str


@functools.lru_cache(maxsize=16)
def country_names(language):
    """Return {code: name} in a language as JSON: the database looks names up in it."""
    return json.dumps({code: str(name) for code, name in countries}, ensure_ascii=False)


def _quoted(sql):
    """Return SQL writing a text that needs no escaping as a JSON string, or null."""
    return f"""COALESCE('"' || {sql} || '"', 'null')"""


class SQLBuilder:
    """Writes the registry's fields as SQL for one database (events.public.sql dialects)."""

    def __init__(self, dialect):
        self.d = dialect

    # Scalars ---------------------------------------------------------------------------

    def json_value(self, sql, kind):
        """Return SQL for a value as JSON text (never NULL: null is written 'null')."""
        d = self.d
        if kind == Kind.BOOLEAN:
            return d.boolean(sql)
        if kind == Kind.INTEGER:
            return f"COALESCE({d.integer(sql)}, 'null')"
        # Codes, and what the database formats itself, hold nothing JSON escapes: quoted as
        # they are (a third of the values), which spares the database its JSON encoder.
        if kind == Kind.CODE:
            return _quoted(sql)
        if kind == Kind.DAY:
            return _quoted(d.day(sql))
        if kind == Kind.MOMENT:
            return _quoted(d.moment_json(sql))
        if kind == Kind.DECIMAL:
            return _quoted(d.decimal(sql))
        return d.json_string(sql)

    def cell_value(self, sql, kind):
        """Return SQL for a value as a CSV cell's text (NULL: an empty cell)."""
        d = self.d
        if kind == Kind.BOOLEAN:
            return d.boolean(sql)
        if kind == Kind.INTEGER:
            return d.integer(sql)
        if kind == Kind.DAY:
            return d.day(sql)
        if kind == Kind.MOMENT:
            return d.moment_cell(sql)
        if kind == Kind.DECIMAL:
            return d.decimal(sql)
        return d.neutral(sql)

    def json_object(self, pairs):
        """Return SQL concatenating '{"key":value,...}' from (key, JSON text SQL) pairs."""
        parts = []
        for index, (key, value) in enumerate(pairs):
            opening = "{" if index == 0 else ","
            parts.append(f"{literal(opening + json.dumps(key) + ':')} || {value}")
        return " || ".join(parts) + " || '}'" if parts else "'{}'"

    def item_json(self, item):
        """Return SQL for one related row's JSON object (Values over r, nested dicts)."""
        pairs = []
        for key, value in item.items():
            if isinstance(value, Value):
                pairs.append((key, self.json_value(value.sql, value.kind)))
            else:
                pairs.append((key, self.item_json(value)))
        return self.json_object(pairs)

    # A field's value, given where its related rows come from ----------------------------

    def field_json(self, public_field, related):
        if public_field.origin == Origin.RELATED:
            return f"COALESCE({related(public_field, 'json')}, '[]')"
        return self.json_value(self.scalar_sql(public_field), public_field.kind)

    def field_cell(self, public_field, related):
        if public_field.origin == Origin.RELATED:
            return self.d.neutral(related(public_field, "cell"))
        return self.cell_value(self.scalar_sql(public_field), public_field.kind)

    def scalar_sql(self, public_field):
        """Return SQL for a column or derived value; the site's address comes from k."""
        if public_field.name == "url":
            return "k.page_base || e.public_id || '/'"
        if public_field.name == "api_url":
            return "k.api_base || e.public_id || '/'"
        if public_field.name == "country_name":
            found = self.d.json_lookup("k.country_names", "e.country")
            return f"CASE WHEN e.country = '' THEN '' ELSE COALESCE({found}, e.country) END"
        return public_field.sql

    def aggregate(self, public_field, form):
        """Return SQL aggregating a related field over rows r in their order (join or json)."""
        if form == "json":
            return f"'[' || {self.d.join(self.item_json(public_field.item), ',')} || ']'"
        cell = DAY_MACRO.sub(lambda match: self.d.day(match[1]), public_field.cell)
        return self.d.join(cell, LIST_SEPARATOR)

    # Whole events ----------------------------------------------------------------------

    def document(self, related):
        """Return SQL for an event's JSON object, as the registry nests it."""
        pairs, groups = [], {}
        for public_field in JSON_FIELDS:
            path = public_field.json_path
            value = self.field_json(public_field, related)
            if len(path) == 1:
                pairs.append((path[0], value))
                continue
            if path[0] not in groups:
                groups[path[0]] = []
                pairs.append((path[0], groups[path[0]]))
            groups[path[0]].append((path[1], value))
        return self.json_object(
            [(key, self._group(key, value) if key in groups else value) for key, value in pairs]
        )

    def _group(self, key, pairs):
        obj = self.json_object(pairs)
        null_when = GROUPS[key]["null_when"]
        return f"CASE WHEN {null_when} THEN 'null' ELSE {obj} END" if null_when else obj

    def cells(self, related):
        """Return [(column, SQL)] for the CSV row of an event, in the registry's order."""
        return [(f.name, self.field_cell(f, related)) for f in CSV_FIELDS]

    # Related rows, per event ------------------------------------------------------------

    def correlated(self, public_field, form):
        """Return SQL for a related field read per event, by a subquery on its event_id."""
        rows = public_field.rows
        return (
            f"(SELECT {self.aggregate(public_field, form)} FROM (SELECT * FROM ({rows.select}) r0 "
            f"WHERE r0.event_id = e.id ORDER BY {rows.order}) r)"
        )

    def grouped(self, fields, form, events):
        """Return (CTEs, joins, related) reading each kind of row once for a set of events.

        events is SQL the rows' event_id must satisfy, or None for every row; the rows are
        read in (event, order) and joined per event by an aggregate that keeps that order: no
        sort per event.
        """
        where = f"WHERE r0.event_id {events}" if events else ""
        by_rows = {}
        for public_field in fields:
            if public_field.origin == Origin.RELATED:
                by_rows.setdefault(public_field.rows.name, []).append(public_field)
        ctes, joins = [], []
        for name, grouped_fields in by_rows.items():
            rows = grouped_fields[0].rows
            aggregates = ", ".join(f"{self.aggregate(f, form)} AS {f.name}" for f in grouped_fields)
            ctes.append(
                f"""{name}_agg AS (
  SELECT r.event_id, {aggregates}
  FROM (SELECT * FROM ({rows.select}) r0 {where}
        ORDER BY r0.event_id, {rows.order}) r
  GROUP BY r.event_id)"""
            )
            joins.append(f"LEFT JOIN {name}_agg ON {name}_agg.event_id = e.id")

        def related(public_field, _form):
            return f"{public_field.rows.name}_agg.{public_field.name}"

        return ctes, joins, related


@functools.cache
def page_statement(vendor, form, when, shape, json_fields=True):
    """Return the SQL writing a page of events given by their ids (the first parameter).

    It depends on nothing but its arguments, so it is built once per process: the same text
    for every page, which PostgreSQL prepares once per connection (run).
    """
    dialect = DIALECTS[vendor]
    b = SQLBuilder(dialect)
    fields = JSON_FIELDS if json_fields else CSV_FIELDS
    postgresql = vendor == "postgresql"
    if shape == "grouped":
        page_ids = "= ANY(ARRAY(SELECT pk FROM page))" if postgresql else "IN (SELECT pk FROM page)"
        ctes, joins, related = b.grouped(fields, form, page_ids)
    else:
        ctes, joins, related = [], [], b.correlated
    if form == "json":
        written = [b.document(related)]
        if when:
            written = [f"CASE WHEN {when} THEN {written[0]} END"]
    else:
        written = [sql for _name, sql in b.cells(related)]
    if postgresql:
        page = "SELECT pk, ord FROM unnest(CAST(%s AS bigint[])) WITH ORDINALITY AS t(pk, ord)"
    else:
        page = "SELECT CAST(value AS INTEGER) AS pk, key AS ord FROM json_each(%s)"
    return events_statement(
        dialect,
        [f"page AS MATERIALIZED ({page})", *ctes],
        written,
        f"page JOIN {EVENTS} e ON e.id = page.pk",
        joins,
        "page.ord",
    )


def events_statement(dialect, ctes, columns, source, joins, order):
    """Return WITH ctes SELECT columns FROM source, joined to the event's type and category,
    its related rows (joins) and the constants k, in an order."""
    return f"""WITH {",".join(ctes)}
SELECT {", ".join(columns)}
FROM {source}
{JOINS}
{" ".join(joins)}
{_constants(dialect)}
ORDER BY {order}"""


JOINS = f"""LEFT JOIN {EventType._meta.db_table} et ON et.id = e.event_type_id
LEFT JOIN {EventCategory._meta.db_table} ec ON ec.id = et.category_id"""


def _constants(dialect):
    """A one-row table k of what the query needs from outside: addresses, country names."""
    # Typed: a prepared statement cannot guess the type of a bare parameter.
    names = "CAST(%s AS jsonb)" if dialect.vendor == "postgresql" else "%s"
    return (
        "CROSS JOIN (SELECT CAST(%s AS TEXT) AS page_base, CAST(%s AS TEXT) AS api_base, "
        f"{names} AS country_names) k"
    )


def _constant_params(bases):
    return [bases.page, bases.api, country_names(get_language() or "en")]


@dataclass(frozen=True)
class Document:
    """One event as the API shows it: its id, its sort key, its JSON text and extra columns."""

    pk: int
    sort_value: object
    text: str | None
    extra: tuple = ()


class EventDocuments:
    """Read events through the registry, in a database's own SQL."""

    def __init__(self, using, bases):
        self.connection = connections[using]
        self.dialect = dialect_for(self.connection)
        self.builder = SQLBuilder(self.dialect)
        self.bases = bases

    def page(self, keys, *, when=None):
        """Return Documents for a page of events, in one query, in the order of their keys.

        keys are (pk, sort value, *more) tuples, as the page's own query selected them (the
        filters, the cursor and the order are that query's: this one only writes events, so
        its SQL is the same for every page and is prepared once). when is SQL that must hold
        for an event's JSON to be written (null otherwise: the change feed shows a retracted
        event without its data); more ends up in each Document's extra.
        """
        texts = self._select([key[0] for key in keys], JSON_FIELDS, "json", when=when)
        return [
            Document(key[0], key[1], text, tuple(key[2:]))
            for key, text in zip(keys, texts, strict=True)
        ]

    def cell_rows(self, keys):
        """Return (pk, sort value, *cells) rows for a page of events given by their keys."""
        cells = self._select([key[0] for key in keys], CSV_FIELDS, "cell")
        return [(key[0], key[1], *row) for key, row in zip(keys, cells, strict=True)]

    def _select(self, ids, fields, form, *, when=None, shape=None):
        """Return each event's JSON text (form "json") or CSV cells ("cell"), in ids' order."""
        if not ids:
            return []
        postgresql = self.dialect.vendor == "postgresql"
        # On PostgreSQL each kind of row is read once for the whole page: one index scan over
        # the page's ids, where a subquery per event pays the executor's start-up cost each
        # time. SQLite, in process, runs a subquery per event as fast.
        shape = shape or ("grouped" if postgresql else "per_event")
        sql = page_statement(self.dialect.vendor, form, when, shape, fields is JSON_FIELDS)
        ids_param = list(ids) if postgresql else json.dumps(list(ids))
        rows = run(self.connection, sql, [ids_param, *_constant_params(self.bases)])
        return [row[0] for row in rows] if form == "json" else [tuple(row) for row in rows]

    # A whole export by COPY (PostgreSQL) -------------------------------------------------

    def copy_sql(self, queryset, sort, form, *, most=False):
        """Return (SQL, params) of COPY writing every selected event as CSV or NDJSON.

        Each kind of related row is read once, along its (event, order) index, aggregated per
        event and merged with the events by id; the result is sorted in the export's order.
        For a few events, only their rows are read (a semi-join with the selection); for
        most of the table (most=True) every row is, which spares that semi-join its hashing
        and sorting of the selected ids for each kind of row.
        """
        inner, params = queryset.order_by().values("pk").query.sql_with_params()
        b = self.builder
        fields = CSV_FIELDS if form == "cell" else JSON_FIELDS
        ctes, joins, related = b.grouped(
            fields, form, None if most else "IN (SELECT pk FROM selected)"
        )
        if form == "cell":
            quote = self.connection.ops.quote_name
            columns = [f"{sql} AS {quote(name)}" for name, sql in b.cells(related)]
            options = "FORMAT csv, HEADER true"
        else:
            columns = [b.document(related)]
            # One JSON text per line: with these quote and delimiter characters, which JSON
            # text never holds unescaped, COPY writes each document as it is.
            options = "FORMAT csv, QUOTE E'\\x01', DELIMITER E'\\x02'"
        direction = "DESC" if sort.descending else "ASC"
        select = events_statement(
            self.dialect,
            [f"selected AS MATERIALIZED ({inner})", *ctes],
            columns,
            f"{EVENTS} e JOIN selected s ON s.pk = e.id",
            joins,
            f"e.{sort.field} {direction}, e.id {direction}",
        )
        sql = f"COPY ({select}) TO STDOUT WITH ({options})"
        return sql, [*params, *_constant_params(self.bases)]


# Prepared statements (PostgreSQL) ---------------------------------------------------------

PLACEHOLDER = re.compile(r"%(s|%)")
UNDEFINED_STATEMENT = "26000"  # invalid_sql_statement_name: no such prepared statement
PREPARED_PER_CONNECTION = 64
_prepared = weakref.WeakKeyDictionary()  # DB-API connection -> _Prepared


def run(connection, sql, params):
    """Run a read and return its rows; on PostgreSQL as a prepared statement, planned once.

    A page's statement is long (every field of the registry), and PostgreSQL took about as
    long to plan it as to run it. Each connection prepares each distinct statement once (at
    most PREPARED_PER_CONNECTION of them, least recently used first out), in the same round
    trip as its first execution, and afterwards only executes it.
    PUBLIC_PREPARED_STATEMENTS=false turns this off, for poolers that share server sessions.
    """
    with connection.cursor() as cursor:
        if connection.vendor != "postgresql" or not settings.PUBLIC_PREPARED_STATEMENTS:
            cursor.execute(sql, params)
            return cursor.fetchall()
        state = _prepared.setdefault(connection.connection, _Prepared())
        statement = state.statement(sql, params)
        try:
            cursor.execute(*statement)
        except DatabaseError as error:
            # Which statements the server still holds is no longer known (it may have failed
            # before or after preparing, or a pooler may have discarded them): start again.
            state.forget()
            forgotten = getattr(error.__cause__, "pgcode", None) == UNDEFINED_STATEMENT
            if not forgotten or connection.in_atomic_block:
                raise
            cursor.execute(*state.statement(sql, params))
        return cursor.fetchall()


class _Prepared:
    """The statements one database session holds, least recently used first."""

    def __init__(self):
        self.names = OrderedDict()
        self.unknown = False  # after an error: deallocate everything before the next PREPARE

    def forget(self):
        self.names.clear()
        self.unknown = True

    def statement(self, sql, params):
        """Return (SQL, params) executing a statement, preparing it first if need be."""
        key = hashlib.sha256(sql.encode()).hexdigest()[:24]
        name = f"public_{key}"
        placeholders = ", ".join(["%s"] * len(params))
        execute = f"EXECUTE {name}({placeholders})" if params else f"EXECUTE {name}"
        if key in self.names:
            self.names.move_to_end(key)
            return execute, params
        numbered = iter(range(1, 10_000))
        body = PLACEHOLDER.sub(lambda m: "%%" if m[1] == "%" else f"${next(numbered)}", sql)
        prelude = "DEALLOCATE ALL; " if self.unknown else ""
        self.unknown = False
        self.names[key] = name
        if len(self.names) > PREPARED_PER_CONNECTION:
            _old_key, old_name = self.names.popitem(last=False)
            prelude += f"DEALLOCATE {old_name}; "
        return f"{prelude}PREPARE {name} AS {body}; {execute}", params
