"""Whole filtered timelines, streamed in constant memory: one table of formats (FORMATS).

Every format takes the QuerySet the API's FilterSet produced, so an export holds exactly the
rows the JSON list pages through, and every format is written from the registry of public
fields (events.public): the database writes the JSON and the CSV cells. On PostgreSQL, CSV and
NDJSON are one COPY statement each; elsewhere they are read in keyset chunks of the same SQL.

Adding a format is one ExportFormat in FORMATS and one stream function: the API view, its
content negotiation, the OpenAPI schema, export_timeline and bin/fuzz read the table.
"""

import contextlib
import csv
import io
import json
import queue
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlencode, urlsplit

from django.core.exceptions import EmptyResultSet
from django.db import connections
from django.utils import timezone
from django.utils.html import escape, format_html
from psycopg2 import DatabaseError

from events.dates import parse_date
from events.public.documents import Bases, EventDocuments
from events.public.fields import CSV_COLUMNS

from .event_html import cited_sources, event_html, is_web_address, source_credit
from .geo import feature_collection_schema, feature_text
from .pagination import SORT_KEYS
from .serializers import EventDocumentSchema, TimelineJSSerializer

CHUNK_ROWS = 1000
STREAM_CHUNK_BYTES = 64 * 1024
READ_START_SECONDS = 60
ROW_COUNT_HEADER = "X-Row-Count"  # events in an export: fewer arrived means it was cut off
SAFE_FILENAME = re.compile(r"[^A-Za-z0-9._-]+")
COLUMN_NAMES = list(CSV_COLUMNS)
# Inside the COPY's own transaction: a whole export is one long statement, whose plan must
# not be compiled (JIT costs more than it saves here) or split across workers (each would
# aggregate every related row again).
COPY_SETTINGS = ("SET LOCAL jit = off", "SET LOCAL max_parallel_workers_per_gather = 0")
# From this share of the events table on, an export reads every related row rather than the
# selected events' rows only (events.public.documents.EventDocuments.copy_sql).
MOST_OF_THE_TABLE = 0.3


@dataclass(frozen=True)
class Export:
    """What an export writes: filtered published events, in an order, with their addresses."""

    queryset: object
    ordering: str
    bases: Bases
    title: str = "Censorship Timeline"

    @property
    def sort(self):
        return SORT_KEYS[self.ordering]

    @property
    def documents(self):
        return EventDocuments(self.queryset.db, self.bases)

    @property
    def on_postgresql(self):
        return connections[self.queryset.db].vendor == "postgresql"


def keyset_chunks(export, fetch, size=CHUNK_ROWS):
    """Yield lists of rows in the export's order: constant memory, no OFFSET, no server cursor.

    fetch(keys) reads the rows of a chunk's (pk, sort value) keys (EventDocuments.page or
    .cell_rows); each row starts with the event's id and its sort key.
    """
    sort = export.sort
    after = None
    while True:
        queryset = export.queryset
        if after is not None:
            queryset = queryset.filter(sort.after(*after))
        ordered = queryset.order_by(*sort.order_by())[:size]
        keys = list(ordered.values_list("pk", sort.field))
        if not keys:
            return
        yield fetch(keys)
        after = (keys[-1][1], keys[-1][0])


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


def csv_stream(export):
    """Yield the CSV of an export, by COPY where the database can."""
    if export.on_postgresql:
        with contextlib.suppress(EmptyResultSet):  # a filter that matches nothing: header only
            return copy_stream(export, "cell")
    return python_csv_stream(export)


def python_csv_stream(export):
    """Write the registry's cells (computed by the database) with Python's csv module."""
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
        for rows in keyset_chunks(export, export.documents.cell_rows):
            writer.writerows(row[2:] for row in rows)
            yield written()
        yield written()  # the header alone, when no event matched

    return buffered(chunks())


# NDJSON and TimelineJS --------------------------------------------------------------------


def ndjson_stream(export):
    """Yield one event per line, the same JSON objects the list shows."""
    if export.on_postgresql:
        with contextlib.suppress(EmptyResultSet):
            return copy_stream(export, "json")

    def lines():
        for documents in keyset_chunks(export, export.documents.page):
            yield "".join(f"{document.text}\n" for document in documents)

    return buffered(lines())


def timelinejs_stream(export):
    """Yield a TimelineJS3 document (https://timeline.knightlab.com/docs/json-format.html)."""

    def pieces():
        title = {"text": {"headline": escape(export.title), "text": ""}}
        yield '{"title":' + json.dumps(title, ensure_ascii=False)
        yield ',"events":['
        first = True
        for documents in keyset_chunks(export, export.documents.page, size=500):
            for document in documents:
                slide = timelinejs_event(json.loads(document.text))
                yield ("" if first else ",") + json.dumps(slide, ensure_ascii=False)
                first = False
        yield "]}"

    return buffered(pieces())


# What TimelineJS shows by itself as a slide's media: pictures, sound and video files, and
# YouTube or Vimeo pages. Its own table of media types ends in a catch-all that draws any
# other link (a news article) as a broken image, so an article is cited in the slide's text.
MEDIA_FILE = re.compile(r"\.(?:jpe?g|png|gif|webp|mp3|m4a|wav|mp4|webm)$", re.IGNORECASE)
MEDIA_HOSTS = frozenset(
    {"youtube.com", "www.youtube.com", "m.youtube.com", "youtu.be", "vimeo.com"}
)


def timelinejs_event(event):
    """Return one TimelineJS slide from an event's JSON.

    TimelineJS writes a slide's headline, text, date, group and credit into the page as HTML,
    on every site that embeds the timeline: each is written here as escaped text, and the
    only markup is ours (paragraphs, and links to http(s) sources and the event's page).
    Dates are only as precise as the event's.
    """
    date = event["date"]
    bounds = parse_date(date["text"])
    sources = cited_sources(event)
    slide = {
        "unique_id": event["id"],
        "start_date": _timelinejs_date(bounds.stated_start, date["precision"]),
        "display_date": escape(date["display"]),
        "text": {
            "headline": escape(event["title"]),
            "text": event_html(event),
        },
        "group": escape(event["category"]["name"]) if event["category"] else "",
    }
    if bounds.stated_end and "/" in date["text"]:
        slide["end_date"] = _timelinejs_date(bounds.stated_end, date["precision"])
    shown = next((source for source in sources if _shown_as_media(source["url"])), None)
    if shown is not None:
        slide["media"] = {"url": shown["url"], "credit": escape(source_credit(shown))}
    return slide


def _shown_as_media(url):
    if not is_web_address(url):
        return False
    parts = urlsplit(url)
    return bool(MEDIA_FILE.search(parts.path)) or (parts.hostname or "") in MEDIA_HOSTS


def geojson_stream(export):
    """Yield an RFC 7946 FeatureCollection: one Feature per event, the event as properties."""

    def pieces():
        yield '{"type":"FeatureCollection","features":['
        first = True
        for documents in keyset_chunks(export, export.documents.page):
            if documents:
                features = ",".join(feature_text(document.text) for document in documents)
                yield ("" if first else ",") + features
                first = False
        yield "]}"

    return buffered(pieces())


# TimelineJS's own embed page, which reads a timeline from the URL in its source parameter.
TIMELINEJS_EMBED = "https://cdn.knightlab.com/libs/timeline3/latest/embed/index.html"


def timelinejs_embed(source_url, *, height=650):
    """Return the HTML a reader pastes into their own site to show a TimelineJS document."""
    query = urlencode({"source": source_url, "font": "Default", "lang": "en", "height": height})
    return format_html(
        '<iframe src="{}?{}" width="100%" height="{}" webkitallowfullscreen '
        'mozallowfullscreen allowfullscreen frameborder="0" title="{}"></iframe>',
        TIMELINEJS_EMBED,
        query,
        height,
        "Censorship Timeline",
    )


def _timelinejs_date(day, precision):
    date = {"year": day.year}
    if precision in ("day", "month", "season"):
        date["month"] = day.month
    if precision == "day":
        date["day"] = day.day
    return date


# Reading an export back (tests, bin/fuzz) ---------------------------------------------------


def csv_records(text):
    return list(csv.DictReader(io.StringIO(text, newline="")))


def ndjson_records(text):
    return [json.loads(line) for line in text.splitlines() if line]


def geojson_records(text):
    return [feature["properties"] for feature in json.loads(text)["features"]]


def timelinejs_records(text):
    return [{"id": slide["unique_id"], **slide} for slide in json.loads(text)["events"]]


# The table of formats -----------------------------------------------------------------------


@dataclass(frozen=True)
class ExportFormat:
    """A streamed format: how it is asked for, sent, described and read back."""

    name: str  # format=<name>
    media_type: str  # what Accept names
    extension: str
    stream: Callable[[Export], object]
    records: Callable[[str], list]  # the events a body holds, each with its "id"
    description: str  # the body, for the OpenAPI schema
    content_type: str = ""  # what is sent, when not the media type
    rows: str = ""  # how bin/fuzz counts rows: csv, lines or json:<key>
    # A structured body's OpenAPI schema, built from a function that returns a serializer's
    # $ref; None: the body is text, described by description.
    schema: Callable[[Callable], dict] | None = None

    @property
    def sent_as(self):
        return f"{self.content_type or self.media_type}; charset=utf-8"


FORMATS = {
    export_format.name: export_format
    for export_format in (
        ExportFormat(
            "csv",
            "text/csv",
            "csv",
            csv_stream,
            csv_records,
            "RFC 4180 CSV in UTF-8, one row per event after a header row: "
            + ", ".join(CSV_COLUMNS)
            + ". Text cells that begin with =, +, -, @, a tab or a line break start with '.",
            rows="csv",
        ),
        ExportFormat(
            "ndjson",
            "application/x-ndjson",
            "ndjson",
            ndjson_stream,
            ndjson_records,
            "One Event (the JSON list's objects) per line, in the list's order.",
            rows="lines",
        ),
        # Sent as plain JSON (what TimelineJS and browsers expect from format=), unless the
        # client's Accept asked for this media type by name.
        ExportFormat(
            "timelinejs",
            "application/vnd.timelinejs+json",
            "json",
            timelinejs_stream,
            timelinejs_records,
            "A TimelineJS3 document: https://timeline.knightlab.com/docs/json-format.html",
            content_type="application/json",
            rows="json:events",
            schema=lambda ref: ref(TimelineJSSerializer),
        ),
        ExportFormat(
            "geojson",
            "application/geo+json",
            "geojson",
            geojson_stream,
            geojson_records,
            "An RFC 7946 FeatureCollection: one Feature per event, whose properties are the "
            "Event (the JSON list's object) and its location_precision: point (the event's "
            "own coordinates), country (its country's representative point), global or none "
            "(no geometry).",
            rows="json:features",
            schema=lambda ref: feature_collection_schema(ref(EventDocumentSchema)),
        ),
    )
}


# CSV and NDJSON by COPY (PostgreSQL) --------------------------------------------------------


def copy_stream(export, form):
    """Stream COPY (query) TO STDOUT from a thread that shares this request's connection.

    The request thread only reads finished chunks from a bounded queue, so the database
    writes as fast as the client reads and memory stays flat; it never touches the
    connection while the COPY runs. Raises EmptyResultSet for a filter that matches nothing.
    """
    documents = export.documents
    statements = {
        most: documents.copy_sql(export.queryset, export.sort, form, most=most)
        for most in (False, True)
    }
    connection = connections[export.queryset.db]
    connection.ensure_connection()
    return _CopyStream(connection, statements, count_sql(export.queryset))


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

    def __init__(self, connection, statements, counting):
        self.connection = connection
        self.statements = statements  # {most of the table?: (sql, params)}
        self.counting = counting
        self.prelude = COPY_SETTINGS
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
                    for statement in self.prelude if own_transaction else ():
                        cursor.execute(statement)
                    self._count(cursor)
                    # A body nobody starts reading must not hold a snapshot open for ever.
                    if not self.reading.wait(timeout=READ_START_SECONDS):
                        self.stopped.set()
                    if not self.stopped.is_set():
                        sql, params = self.statements[self.share >= MOST_OF_THE_TABLE]
                        statement = cursor.mogrify(sql, params).decode()
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
        self.count, table_rows = cursor.fetchone()
        self.share = self.count / max(table_rows or 0, 1)  # reltuples: -1 before any ANALYZE
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
    """Return SQL and parameters that count the events a COPY of this QuerySet writes, with
    the planner's estimate of the rows in the whole table beside it."""
    selected_sql, selected_params = queryset.order_by().values("pk").query.sql_with_params()
    table = f"'{queryset.model._meta.db_table}'::regclass"
    estimate = f"(SELECT reltuples FROM pg_class WHERE oid = {table})"
    return f"SELECT count(*), {estimate} FROM ({selected_sql}) AS selected", selected_params


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
