"""Whole filtered timelines as CSV, NDJSON and TimelineJS, streamed in constant memory.

Every format takes the QuerySet the API's FilterSet produced, so an export holds exactly the
rows the JSON list pages through. CSV on PostgreSQL is written by the database itself with
COPY (joins, formatting and formula neutralising in SQL); elsewhere a Python writer produces
the same cells. tests/timeline compares the two.
"""

import contextlib
import csv
import datetime
import decimal
import io
import queue
import re
import threading
from dataclasses import dataclass

from django.core.exceptions import EmptyResultSet
from django.db import connections
from django.db.models import Prefetch
from django.utils import timezone
from psycopg2 import DatabaseError
from rest_framework.utils.encoders import JSONEncoder

from events.dates import parse_date
from events.formats import (
    FORMULA_STARTS,
    LIST_SEPARATOR,
    QUALIFIER_WORDS,
    ROLE_WORDS,
    actor_text,
    count_text,
    neutralise,
    source_text,
)
from events.models import Citation, Event, EventActor, EventCount

from .pagination import SORT_KEYS
from .serializers import EventSerializer

CHUNK_ROWS = 1000
STREAM_CHUNK_BYTES = 64 * 1024
READ_START_SECONDS = 60
ROW_COUNT_HEADER = "X-Row-Count"  # events in an export: fewer arrived means it was cut off
SAFE_FILENAME = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass(frozen=True)
class Column:
    name: str
    description: str
    is_text: bool = True  # text cells are neutralised; numbers, dates and booleans are not


CSV_COLUMNS = [
    Column("id", "Stable public id, such as CN-2014-0003."),
    Column("title", "What happened, in one line."),
    Column("summary", "What happened, in the curators' words."),
    Column("date", "The date as curated, in EDTF: 2014-03, 2014-04~, 2009-07-07/.."),
    Column("date_display", "The date as a reader says it: March 2014, c. April 2014."),
    Column("date_earliest", "Earliest day the event may have touched (YYYY-MM-DD).", False),
    Column("date_latest", "Latest day it may have touched; empty while ongoing.", False),
    Column("date_precision", "day, month, season, year, decade or century."),
    Column("date_is_approximate", "true or false.", False),
    Column("date_is_uncertain", "true or false.", False),
    Column("is_ongoing", "true when the event has no end yet.", False),
    Column("type", "Event type slug, such as account-removal."),
    Column("type_name", "Event type name."),
    Column("category", "Category slug, such as content-control."),
    Column("category_name", "Category name."),
    Column("country", "ISO 3166 code; empty for a global event."),
    Column("is_global", "true when the event spans the world.", False),
    Column("locality", "Province, city or district."),
    Column("latitude", "Decimal degrees, or empty.", False),
    Column("longitude", "Decimal degrees, or empty.", False),
    Column("actors", "Actors with their role, 'name (role)', separated by '; '."),
    Column("platforms", "Platform names, separated by '; '."),
    Column("tags", "Tag names, separated by '; '."),
    Column("counts", "Counts such as 'more than 40 accounts', separated by '; '."),
    Column("verification", "single_source, corroborated, confirmed or disputed."),
    Column("sources", "Sources cited, 'title (publisher, date) <url>', separated by '; '."),
    Column("source_urls", "URLs of the sources cited, separated by '; '."),
    Column("quotes", "Quoted passages that support the event, separated by '; '."),
    Column("first_published_at", "When it was first published (UTC, ISO 8601).", False),
    Column("updated_at", "When it last changed (UTC, ISO 8601).", False),
    Column("url", "The event's public page."),
]
COLUMN_NAMES = [column.name for column in CSV_COLUMNS]


def iterate_in_chunks(queryset, ordering, size=CHUNK_ROWS):
    """Yield lists of rows in keyset order: constant memory, no OFFSET, no server cursor.

    Rows may be model instances or values() dicts that include "id" and the sort field.
    """
    sort = SORT_KEYS[ordering]
    after = None
    while True:
        chunk = queryset
        if after is not None:
            chunk = chunk.filter(sort.after(*after))
        rows = list(chunk.order_by(*sort.order_by())[:size])
        if not rows:
            return
        yield rows
        last = rows[-1]
        after = (
            (last[sort.field], last["id"])
            if isinstance(last, dict)
            else (getattr(last, sort.field), last.pk)
        )


def buffered(pieces, size=STREAM_CHUNK_BYTES):
    """Join small strings into chunks of about 64 KB: far fewer writes to the socket."""
    buffer, length = [], 0
    for piece in pieces:
        buffer.append(piece)
        length += len(piece)
        if length >= size:
            yield "".join(buffer)
            buffer, length = [], 0
    if buffer:
        yield "".join(buffer)


# CSV ------------------------------------------------------------------------------------


def csv_stream(queryset, *, ordering, page_base):
    """Yield the CSV of a filtered event QuerySet in chunks, by COPY where the database can."""
    queryset = queryset.select_related(None).prefetch_related(None)
    if connections[queryset.db].vendor == "postgresql":
        return copy_csv_stream(queryset, ordering=ordering, page_base=page_base)
    return python_csv_stream(queryset, ordering=ordering, page_base=page_base)


def python_csv_stream(queryset, *, ordering, page_base):
    output = io.StringIO()
    # RFC 4180 line ends: with them the csv module also quotes a cell holding a lone \r.
    writer = csv.writer(output, lineterminator="\r\n")

    def written():
        text = output.getvalue()
        output.seek(0)
        output.truncate()
        return text

    def chunks():
        writer.writerow(COLUMN_NAMES)
        for rows in _csv_rows(queryset, ordering, page_base):
            writer.writerows(rows)
            yield written()
        yield written()  # the header alone, when no event matched

    return buffered(chunks())


def _csv_rows(queryset, ordering, page_base):
    fields = (
        "id",
        "public_id",
        "title",
        "summary",
        "date_text",
        "date_display",
        "date_earliest",
        "date_latest",
        "date_precision",
        "date_is_approximate",
        "date_is_uncertain",
        "event_type__slug",
        "event_type__name",
        "event_type__category__slug",
        "event_type__category__name",
        "country",
        "is_global",
        "locality",
        "latitude",
        "longitude",
        "verification",
        "first_published_at",
        "updated_at",
    )
    for chunk in iterate_in_chunks(queryset.values(*fields), ordering):
        yield _csv_chunk(chunk, page_base)


def _csv_chunk(chunk, page_base):
    ids = [row["id"] for row in chunk]
    related = _related_cells(ids)
    for row in chunk:
        cells = related.get(row["id"], {})
        yield [
            _cell(column, value)
            for column, value in zip(CSV_COLUMNS, _csv_values(row, cells, page_base), strict=True)
        ]


def _csv_values(row, cells, page_base):
    return (
        row["public_id"],
        row["title"],
        row["summary"],
        row["date_text"],
        row["date_display"],
        row["date_earliest"],
        row["date_latest"],
        row["date_precision"],
        row["date_is_approximate"],
        row["date_is_uncertain"],
        row["date_latest"] is None,
        row["event_type__slug"],
        row["event_type__name"],
        row["event_type__category__slug"],
        row["event_type__category__name"],
        str(row["country"] or ""),
        row["is_global"],
        row["locality"],
        row["latitude"],
        row["longitude"],
        cells.get("actors", ""),
        cells.get("platforms", ""),
        cells.get("tags", ""),
        cells.get("counts", ""),
        row["verification"],
        cells.get("sources", ""),
        cells.get("source_urls", ""),
        cells.get("quotes", ""),
        row["first_published_at"],
        row["updated_at"],
        f"{page_base}{row['public_id']}/",
    )


def _cell(column, value):
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime.datetime):
        return value.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return format(value, "f")  # 0.00000, never 0E-5: what PostgreSQL writes
    text = str(value)
    return neutralise(text) if column.is_text else text


def _related_cells(ids):
    """Return the joined many-valued cells of some events, in six queries."""
    cells = {}

    def add(event_id, name, value):
        cells.setdefault(event_id, {}).setdefault(name, []).append(value)

    roles = EventActor.objects.filter(event_id__in=ids).order_by("id")
    for event_id, name, role in roles.values_list("event_id", "actor__name", "role"):
        add(event_id, "actors", actor_text(name, role))
    # Platforms and tags in the JSON's order (by id), whenever they were linked.
    through = Event.platforms.through.objects.filter(event_id__in=ids).order_by("platform_id")
    for event_id, name in through.values_list("event_id", "platform__name"):
        add(event_id, "platforms", name)
    tagged = Event.tags.through.objects.filter(event_id__in=ids).order_by("tag_id")
    for event_id, name in tagged.values_list("event_id", "tag__name"):
        add(event_id, "tags", name)
    counts = EventCount.objects.filter(event_id__in=ids).order_by("id")
    for event_id, qualifier, quantity, unit, note in counts.values_list(
        "event_id", "qualifier", "quantity", "unit", "note"
    ):
        add(event_id, "counts", count_text(qualifier, quantity, unit, note))
    _add_citation_cells(ids, add)
    return {
        event_id: {name: LIST_SEPARATOR.join(values) for name, values in named.items()}
        for event_id, named in cells.items()
    }


def _add_citation_cells(ids, add):
    seen = set()
    citations = (
        Citation.objects.filter(event_id__in=ids)
        .order_by("id")
        .values_list(
            "event_id",
            "source_id",
            "quote",
            "source__title",
            "source__publisher",
            "source__published_on",
            "source__url",
        )
    )
    for event_id, source_id, quote, title, publisher, published_on, url in citations:
        if quote:
            add(event_id, "quotes", quote)
        if (event_id, source_id) in seen:
            continue
        seen.add((event_id, source_id))
        add(event_id, "sources", source_text(title, publisher, published_on, url))
        if url:
            add(event_id, "source_urls", url)


# CSV by COPY (PostgreSQL) -----------------------------------------------------------------


def copy_csv_stream(queryset, *, ordering, page_base):
    """Stream COPY (query) TO STDOUT from a thread that shares this request's connection.

    The request thread only reads finished chunks from a bounded queue, so the database
    writes as fast as the client reads and memory stays flat; it never touches the
    connection while the COPY runs.
    """
    try:
        sql, params = copy_sql(queryset, ordering=ordering, page_base=page_base)
    except EmptyResultSet:  # none(), or a filter that can match nothing: just the header
        return python_csv_stream(queryset, ordering=ordering, page_base=page_base)
    connection = connections[queryset.db]
    connection.ensure_connection()
    return _CopyStream(connection, sql, params, count_sql(queryset))


def export_row_count(queryset, stream):
    """Return how many events an export holds, for clients to check that it arrived whole.

    COPY counts in the snapshot it exports from; other writers count just before.
    """
    if isinstance(stream, _CopyStream):
        return stream.row_count()
    return queryset.count()


class _CopyStream:
    """COPY in a thread: count, then write, in one read-only REPEATABLE READ transaction.

    The count is taken when the view asks for it (it goes in a header); the COPY waits until
    the server starts reading the body, so the request thread and the copy thread never use
    the connection at the same time. Django calls close() when the response is done with,
    read or not, which ends the thread and its transaction.
    """

    _DONE = object()

    def __init__(self, connection, sql, params, counting):
        self.connection = connection
        self.sql = sql
        self.params = params
        self.counting = counting
        self.chunks = queue.Queue(maxsize=8)
        self.stopped = threading.Event()
        self.reading = threading.Event()
        self.counted = threading.Event()
        self.count = None
        self.thread = threading.Thread(target=self._copy, daemon=True)

    def row_count(self):
        self._start()
        self.counted.wait()
        if isinstance(self.count, BaseException):
            raise self.count
        return self.count

    def __iter__(self):
        self._start()
        self.reading.set()
        try:
            while True:
                chunk = self.chunks.get()
                if chunk is self._DONE:
                    return
                if isinstance(chunk, BaseException):
                    raise chunk
                yield chunk
        finally:
            self.close()

    def close(self):
        self.stopped.set()
        self.reading.set()
        if self.thread.ident is not None:
            self._drain()
            self.thread.join()

    def _start(self):
        if self.thread.ident is None:
            self.thread.start()

    def _drain(self):
        while self.thread.is_alive() or not self.chunks.empty():
            try:
                self.chunks.get(timeout=0.05)
            except queue.Empty:
                continue

    def _copy(self):
        writer = _QueueWriter(self.chunks, self.stopped)
        # Inside a caller's transaction (a test, a management command) COPY reads in it.
        own_transaction = not self.connection.in_atomic_block
        try:
            with self.connection.connection.cursor() as cursor:
                if own_transaction:
                    cursor.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
                try:
                    self._count(cursor)
                    # A body nobody starts reading must not hold a snapshot open for ever.
                    if not self.reading.wait(timeout=READ_START_SECONDS):
                        self.stopped.set()
                    if not self.stopped.is_set():
                        statement = cursor.mogrify(self.sql, self.params).decode()
                        cursor.copy_expert(statement, writer)
                        writer.flush()
                finally:
                    if own_transaction:
                        _end_read_only(self.connection.connection, cursor)
            self.chunks.put(self._DONE)
        except BaseException as error:  # handed to the request thread, which raises it
            if not self.counted.is_set():
                self.count = error
                self.counted.set()
            if not self.stopped.is_set():
                self.chunks.put(error)

    def _count(self, cursor):
        cursor.execute(*self.counting)
        self.count = cursor.fetchone()[0]
        self.counted.set()


def _end_read_only(raw_connection, cursor):
    """Roll back the COPY's read-only transaction: nothing to keep.

    If the ROLLBACK fails (the server went away meanwhile), its error would hide the one that
    matters, the COPY's. The connection is closed instead, so that no request goes on inside
    that transaction: the next one reconnects (CONN_HEALTH_CHECKS).
    """
    try:
        cursor.execute("ROLLBACK")
    except DatabaseError:
        with contextlib.suppress(DatabaseError):
            raw_connection.close()


class _QueueWriter(io.RawIOBase):
    """The file COPY writes to: it hands ~64 KB chunks to the request thread."""

    def __init__(self, chunks, stopped):
        self.chunks = chunks
        self.stopped = stopped
        self.buffer = bytearray()

    def writable(self):
        return True

    def write(self, data):
        if self.stopped.is_set():
            raise OSError("the client went away")
        self.buffer += data.encode() if isinstance(data, str) else data
        if len(self.buffer) >= STREAM_CHUNK_BYTES:
            self.flush()
        return len(data)

    def flush(self):
        if self.buffer:
            self.chunks.put(bytes(self.buffer))
            self.buffer = bytearray()


def count_sql(queryset):
    """Return SQL and parameters that count the events a COPY of this QuerySet writes."""
    selected_sql, selected_params = queryset.order_by().values("pk").query.sql_with_params()
    return f"SELECT count(*) FROM ({selected_sql}) AS selected", selected_params


def copy_sql(queryset, *, ordering, page_base):
    """Build COPY (...) TO STDOUT for the same cells as the Python writer, from a QuerySet."""
    selected_sql, selected_params = queryset.order_by().values("pk").query.sql_with_params()
    sort = SORT_KEYS[ordering]
    direction = "DESC" if sort.descending else "ASC"
    q = _quote
    select = ",\n  ".join(
        f"{expression} AS {q(column.name)}"
        for column, expression in zip(CSV_COLUMNS, _copy_expressions(), strict=True)
    )
    sql = f"""COPY (
WITH selected AS ({selected_sql}),
page AS (SELECT %s::text AS base),
{_copy_aggregates()}
SELECT
  {select}
FROM events_event e
JOIN selected s ON s.pk = e.id
CROSS JOIN page
LEFT JOIN events_eventtype et ON et.id = e.event_type_id
LEFT JOIN events_eventcategory ec ON ec.id = et.category_id
LEFT JOIN actor_cells a ON a.event_id = e.id
LEFT JOIN platform_cells p ON p.event_id = e.id
LEFT JOIN tag_cells t ON t.event_id = e.id
LEFT JOIN count_cells c ON c.event_id = e.id
LEFT JOIN source_cells sc ON sc.event_id = e.id
LEFT JOIN quote_cells qc ON qc.event_id = e.id
ORDER BY e.{q(sort.field)} {direction}, e.id {direction}
) TO STDOUT WITH (FORMAT csv, HEADER true)"""
    return sql, (*selected_params, page_base)


def _copy_aggregates():
    role_case = _case("ea.role", ROLE_WORDS)
    qualifier_case = _case("ct.qualifier", QUALIFIER_WORDS)
    return f"""actor_cells AS (
  SELECT ea.event_id, string_agg(ac.name || ' (' || {role_case} || ')', '; ' ORDER BY ea.id) AS v
  FROM events_eventactor ea JOIN events_actor ac ON ac.id = ea.actor_id
  WHERE ea.event_id IN (SELECT pk FROM selected) GROUP BY ea.event_id),
platform_cells AS (
  SELECT ep.event_id, string_agg(pl.name, '; ' ORDER BY ep.platform_id) AS v
  FROM events_event_platforms ep JOIN events_platform pl ON pl.id = ep.platform_id
  WHERE ep.event_id IN (SELECT pk FROM selected) GROUP BY ep.event_id),
tag_cells AS (
  SELECT et.event_id, string_agg(tg.name, '; ' ORDER BY et.tag_id) AS v
  FROM events_event_tags et JOIN events_tag tg ON tg.id = et.tag_id
  WHERE et.event_id IN (SELECT pk FROM selected) GROUP BY et.event_id),
count_cells AS (
  SELECT ct.event_id, string_agg({qualifier_case} || ' ' || ct.quantity::text || ' ' || ct.unit
    || CASE WHEN ct.note <> '' THEN ' (' || ct.note || ')' ELSE '' END, '; ' ORDER BY ct.id) AS v
  FROM events_eventcount ct
  WHERE ct.event_id IN (SELECT pk FROM selected) GROUP BY ct.event_id),
first_citations AS (
  SELECT ci.event_id, ci.source_id, min(ci.id) AS first_id
  FROM events_citation ci
  WHERE ci.event_id IN (SELECT pk FROM selected) GROUP BY ci.event_id, ci.source_id),
source_cells AS (
  SELECT fc.event_id,
    string_agg(so.title || CASE
      WHEN so.publisher <> '' AND so.published_on IS NOT NULL
        THEN ' (' || so.publisher || ', ' || to_char(so.published_on, 'YYYY-MM-DD') || ')'
      WHEN so.publisher <> '' THEN ' (' || so.publisher || ')'
      WHEN so.published_on IS NOT NULL THEN ' (' || to_char(so.published_on, 'YYYY-MM-DD') || ')'
      ELSE '' END
      || CASE WHEN so.url <> '' THEN ' <' || so.url || '>' ELSE '' END,
      '; ' ORDER BY fc.first_id) AS v,
    string_agg(NULLIF(so.url, ''), '; ' ORDER BY fc.first_id) AS urls
  FROM first_citations fc JOIN events_source so ON so.id = fc.source_id
  GROUP BY fc.event_id),
quote_cells AS (
  SELECT ci.event_id, string_agg(NULLIF(ci.quote, ''), '; ' ORDER BY ci.id) AS v
  FROM events_citation ci
  WHERE ci.event_id IN (SELECT pk FROM selected) GROUP BY ci.event_id)"""


def _copy_expressions():
    """SQL for each CSV column, in CSV_COLUMNS order."""
    return [
        _neutral("e.public_id"),
        _neutral("e.title"),
        _neutral("e.summary"),
        _neutral("e.date_text"),
        _neutral("e.date_display"),
        _day("e.date_earliest"),
        _day("e.date_latest"),
        _neutral("e.date_precision"),
        _bool("e.date_is_approximate"),
        _bool("e.date_is_uncertain"),
        _bool("e.date_latest IS NULL"),
        _neutral("et.slug"),
        _neutral("et.name"),
        _neutral("ec.slug"),
        _neutral("ec.name"),
        _neutral("e.country"),
        _bool("e.is_global"),
        _neutral("e.locality"),
        "e.latitude::text",
        "e.longitude::text",
        _neutral("a.v"),
        _neutral("p.v"),
        _neutral("t.v"),
        _neutral("c.v"),
        _neutral("e.verification"),
        _neutral("sc.v"),
        _neutral("sc.urls"),
        _neutral("qc.v"),
        _moment("e.first_published_at"),
        _moment("e.updated_at"),
        _neutral("page.base || e.public_id || '/'"),
    ]


def _neutral(expression):
    starts = ", ".join(
        f"'{start}'" if start not in "\t\r\n" else f"chr({ord(start)})" for start in FORMULA_STARTS
    )
    return (
        f"CASE WHEN left({expression}, 1) IN ({starts}) "
        f"THEN '''' || {expression} ELSE {expression} END"
    )


def _bool(expression):
    return f"CASE WHEN {expression} THEN 'true' ELSE 'false' END"


def _day(expression):
    return f"to_char({expression}, 'YYYY-MM-DD')"


def _moment(expression):
    return f"""to_char({expression} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')"""


def _case(expression, labels):
    whens = " ".join(
        f"WHEN '{code}' THEN '{label.replace(chr(39), chr(39) * 2)}'"
        for code, label in labels.items()
    )
    return f"CASE {expression} {whens} END"


def _quote(name):
    return '"' + name.replace('"', '""') + '"'


# NDJSON and TimelineJS --------------------------------------------------------------------


def ndjson_stream(queryset, *, ordering, context):
    """Yield one JSON event per line, the same objects the JSON list shows.

    The QuerySet is the API's (EventQuerySet.for_json); the serializer loads related rows.
    """
    encoder = JSONEncoder(ensure_ascii=False)

    def lines():
        for rows in iterate_in_chunks(queryset, ordering, size=500):
            for item in EventSerializer(rows, many=True, context=context).data:
                yield encoder.encode(item) + "\n"

    return buffered(lines())


def timelinejs_stream(queryset, *, ordering, title):
    """Yield a TimelineJS3 document (https://timeline.knightlab.com/docs/json-format.html)."""
    encoder = JSONEncoder(ensure_ascii=False)

    # A slide credits the first cited source: fetched with each chunk, not once per event.
    queryset = queryset.prefetch_related(
        Prefetch("citations", queryset=Citation.objects.select_related("source").order_by("id"))
    )

    def pieces():
        yield '{"title":' + encoder.encode({"text": {"headline": title, "text": ""}})
        yield ',"events":['
        first = True
        for rows in iterate_in_chunks(queryset, ordering, size=500):
            for event in rows:
                yield ("" if first else ",") + encoder.encode(timelinejs_event(event))
                first = False
        yield "]}"

    return buffered(pieces())


def timelinejs_event(event):
    """Return one TimelineJS slide: dates only as precise as the event's date."""
    bounds = parse_date(event.date_text)
    slide = {
        "unique_id": event.public_id,
        "start_date": _timelinejs_date(bounds.stated_start, event.date_precision),
        "display_date": event.date_display,
        "text": {"headline": event.title, "text": event.summary},
        "group": event.event_type.category.name if event.event_type else "",
    }
    if bounds.stated_end and "/" in event.date_text:
        slide["end_date"] = _timelinejs_date(bounds.stated_end, event.date_precision)
    source = next((c.source for c in event.citations.all() if c.source.url), None)
    if source is not None:
        slide["media"] = {
            "url": source.url,
            "credit": source_text(source.title, source.publisher, source.published_on, ""),
            "link": source.url,
        }
    return slide


def _timelinejs_date(day, precision):
    date = {"year": day.year}
    if precision in ("day", "month", "season"):
        date["month"] = day.month
    if precision == "day":
        date["day"] = day.day
    return date


def export_filename(params, extension, *, now=None):
    """Return a file name that says what was filtered and when: timeline_platform-wechat_..."""
    now = now or timezone.now()
    parts = ["censorship-timeline"]
    for name in sorted(params):
        if name in ("format", "cursor", "page_size", "count"):
            continue
        values = params.getlist(name) if hasattr(params, "getlist") else [params[name]]
        parts.append(f"{name}-{'+'.join(values)}")
    stem = SAFE_FILENAME.sub("-", "_".join(parts))[:150].strip("-_")
    return f"{stem}_{now:%Y-%m-%dT%H%M}Z.{extension}"
