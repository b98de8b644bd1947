"""Keyset pagination: every page costs what the first page costs, at any depth.

A cursor names the last row a client saw by its sort key (the date bound or the moment of
the last change, plus the id that makes the order unique). The next page is the rows after
that key, found through an index; no OFFSET, so nothing is skipped or shown twice when
events are published between two requests.
"""

import base64
import binascii
import datetime
import json
import re
from dataclasses import dataclass
from functools import partial

from django.db.models import Q
from django.utils.translation import gettext
from rest_framework import exceptions
from rest_framework.pagination import BasePagination
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param

DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000
# Cursors we give out are 60 to 200 characters; a longer one is not ours.
MAX_CURSOR_LENGTH = 400
CURSOR = re.compile(r"[A-Za-z0-9_-]*")  # URL-safe base64 without its padding
MAX_KEY_TEXT = 300  # longer than any slug or source key
BIGINT = range(-(2**63), 2**63)  # what an id (and the database) can hold


@dataclass(frozen=True)
class SortKey:
    """An order over rows: a field plus the primary key, ascending or descending."""

    field: str
    descending: bool = False

    def order_by(self, reverse=False, pk="pk"):
        """Return the order_by() terms; pk names the field that holds the rows' ids (the
        event_id of rows that stand for events)."""
        descending = self.descending != reverse
        prefix = "-" if descending else ""
        return (f"{prefix}{self.field}", f"{prefix}{pk}")

    def after(self, value, id_, reverse=False, pk="pk"):
        """Return the condition for rows strictly after (value, id_) in this order."""
        descending = self.descending != reverse
        beyond = "lt" if descending else "gt"
        # The first term lets the database walk the (field, id) index from the cursor on.
        return Q(**{f"{self.field}__{beyond}e": value}) & (
            Q(**{f"{self.field}__{beyond}": value})
            | Q(**{self.field: value, f"{pk}__{beyond}": id_})
        )


SORT_KEYS = {
    "date": SortKey("date_earliest"),
    "-date": SortKey("date_earliest", descending=True),
    "updated": SortKey("updated_at"),
    "-updated": SortKey("updated_at", descending=True),
    "id": SortKey("id"),
    "slug": SortKey("slug"),
    "key": SortKey("key"),
}


class InvalidCursor(ValueError):
    """A cursor we never gave out, or one for another ordering: its message says which."""


@dataclass(frozen=True)
class Cursor:
    direction: str  # "next" or "prev"
    value: object
    pk: int

    @property
    def backwards(self):
        return self.direction == "prev"


@dataclass(frozen=True)
class KeysetPage:
    """One page of rows in their order, and whether rows lie beyond it either way."""

    rows: list
    has_next: bool
    has_previous: bool


def encode_cursor(ordering, direction, value, pk):
    """Return the opaque cursor for rows after (direction "next") or before ("prev") a key."""
    value = value.isoformat() if hasattr(value, "isoformat") else value
    token = json.dumps({"o": ordering, "d": direction, "v": value, "k": pk}, separators=(",", ":"))
    return base64.urlsafe_b64encode(token.encode()).decode().rstrip("=")


def decode_cursor(raw, ordering):
    """Return the Cursor that raw names in this ordering, or raise InvalidCursor."""
    if len(raw) > MAX_CURSOR_LENGTH or not CURSOR.fullmatch(raw):
        raise InvalidCursor(
            gettext(
                "Not a cursor this site gave out (those are at most %(length)s letters, "
                "digits, - and _); use the next or previous link."
            )
            % {"length": MAX_CURSOR_LENGTH}
        )
    try:
        token = json.loads(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)))
        if token["o"] != ordering:
            raise InvalidCursor(
                gettext("This cursor belongs to another ordering; start again without it.")
            )
        return Cursor(
            direction={"next": "next", "prev": "prev"}[token["d"]],
            value=_sort_value(SORT_KEYS[ordering].field, token["v"]),
            pk=_whole_number(token["k"]),
        )
    except InvalidCursor:
        raise
    except (binascii.Error, ValueError, KeyError, TypeError, OverflowError):
        raise InvalidCursor(
            gettext("Not a cursor this site gave out; use the next or previous link.")
        ) from None


def keyset_page(queryset, ordering, cursor, size, fetch=None):
    """Return the KeysetPage of size rows after (or, for a "prev" cursor, before) the cursor.

    fetch, if given, receives the page (the ordered, sliced QuerySet) and the sort field, and
    returns rows in the page's order with pk and sort_value (events.public Documents).
    """
    sort = SORT_KEYS[ordering]
    backwards = cursor is not None and cursor.backwards
    if cursor is not None:
        queryset = queryset.filter(sort.after(cursor.value, cursor.pk, backwards))
    ordered = queryset.order_by(*sort.order_by(backwards))[: size + 1]
    rows = list(ordered) if fetch is None else fetch(ordered, sort.field)
    more = len(rows) > size
    rows = rows[:size]
    if backwards:
        rows.reverse()
    return KeysetPage(
        rows=rows,
        has_next=more if not backwards else True,
        has_previous=cursor is not None and (more if backwards else True),
    )


def sort_value(row, field):
    """Return a row's sort key: what a Document carries, or the model instance's field."""
    return row.sort_value if hasattr(row, "sort_value") else getattr(row, field)


def page_size(params):
    """Return the page_size a request asks for (QueryDict params), or the default."""
    raw = params.get("page_size")
    if raw is None:
        return DEFAULT_PAGE_SIZE
    if not re.fullmatch(r"[0-9]{1,4}", raw) or not 1 <= int(raw) <= MAX_PAGE_SIZE:
        raise exceptions.ValidationError(
            {"page_size": [f"A whole number from 1 to {MAX_PAGE_SIZE}."]}
        )
    return int(raw)


def asked_count(count, params):
    """Return count(), the number of rows, when count=true is asked (it costs a count), else
    None."""
    raw = params.get("count")
    if raw is None:
        return None
    if raw not in ("true", "false"):
        raise exceptions.ValidationError({"count": ["true or false."]})
    return count() if raw == "true" else None


class KeysetPagination(BasePagination):
    cursor_query_param = "cursor"
    page_size_query_param = "page_size"
    count_query_param = "count"
    query_parameters = (cursor_query_param, page_size_query_param, count_query_param)

    def paginate_queryset(self, queryset, request, view=None, fetch=None):
        """Return the page's rows: model instances, or what fetch(page, sort field) reads."""
        self.request = request
        self.ordering = getattr(view, "get_ordering", lambda: "id")()
        self.sort = SORT_KEYS[self.ordering]
        size = page_size(request.query_params)
        counted = getattr(view, "counted", lambda queryset: queryset.count())
        self.count = asked_count(partial(counted, queryset), request.query_params)
        raw = request.query_params.get(self.cursor_query_param)
        try:
            cursor = decode_cursor(raw, self.ordering) if raw else None
        except InvalidCursor as error:
            raise exceptions.ValidationError({"cursor": [str(error)]}) from None
        if hasattr(view, "paged"):  # the events to page through from the cursor
            queryset = view.paged(queryset, cursor, size, self.count)
        self.page = keyset_page(queryset, self.ordering, cursor, size, fetch)
        return self.page.rows

    def get_paginated_response(self, data):
        body = {"next": self.get_next_link(), "previous": self.get_previous_link()}
        if self.count is not None:
            body["count"] = self.count
        body["results"] = data
        links = [
            f'<{url}>; rel="{rel}"'
            for rel, url in (("next", body["next"]), ("prev", body["previous"]))
            if url
        ]
        headers = {"Link": ", ".join(links)} if links else None
        return Response(body, headers=headers)

    def get_next_link(self):
        if not (self.page.has_next and self.page.rows):
            return None
        return self._link(self.page.rows[-1], "next")

    def get_previous_link(self):
        if not (self.page.has_previous and self.page.rows):
            return None
        return self._link(self.page.rows[0], "prev")

    def _link(self, row, direction):
        cursor = encode_cursor(self.ordering, direction, sort_value(row, self.sort.field), row.pk)
        url = self.request.build_absolute_uri()
        return replace_query_param(url, self.cursor_query_param, cursor)

    def get_paginated_response_schema(self, schema):
        return {
            "type": "object",
            "required": ["next", "previous", "results"],
            "properties": {
                "next": {
                    "type": "string",
                    "nullable": True,
                    "format": "uri",
                    "description": "The next page; also in the Link header.",
                },
                "previous": {
                    "type": "string",
                    "nullable": True,
                    "format": "uri",
                    "description": "The previous page; also in the Link header.",
                },
                "count": {
                    "type": "integer",
                    "description": "Total matching rows; only when count=true is asked.",
                },
                "results": schema,
            },
        }

    def get_schema_operation_parameters(self, view):
        return [
            {
                "name": self.cursor_query_param,
                "in": "query",
                "required": False,
                "description": "Opaque position from a next or previous link, at most "
                f"{MAX_CURSOR_LENGTH} characters; any other value is answered 400.",
                "schema": {
                    "type": "string",
                    "maxLength": MAX_CURSOR_LENGTH,
                    "pattern": f"^{CURSOR.pattern}$",
                },
            },
            {
                "name": self.page_size_query_param,
                "in": "query",
                "required": False,
                "description": f"Rows per page: 1 to {MAX_PAGE_SIZE}, default {DEFAULT_PAGE_SIZE}.",
                "schema": {
                    "type": "integer",
                    "minimum": 1,
                    "maximum": MAX_PAGE_SIZE,
                    "default": DEFAULT_PAGE_SIZE,
                },
            },
            {
                "name": self.count_query_param,
                "in": "query",
                "required": False,
                "description": "true adds the total number of matching rows (costs a count).",
                "schema": {"type": "string", "enum": ["true", "false"]},
            },
        ]


def _sort_value(field, value):
    """Return the sort key a cursor holds, or raise ValueError or TypeError.

    A forged value must not reach the database as something it refuses (a naive moment, one
    before the year 1 in UTC, an integer past 64 bits, text with NUL, which PostgreSQL
    cannot hold): a 400, not a 500.
    """
    if field == "updated_at":
        moment = datetime.datetime.fromisoformat(value)
        if moment.utcoffset() is None:
            raise ValueError("a moment without a time zone")
        return moment.astimezone(datetime.UTC)  # OverflowError before the year 1
    if field == "date_earliest":
        return datetime.date.fromisoformat(value)
    if field == "id":
        return _whole_number(value)
    if not isinstance(value, str) or "\x00" in value or len(value) > MAX_KEY_TEXT:
        raise TypeError("a slug or key is short text")
    return value


def _whole_number(value):
    """Return an id from a cursor: a JSON integer a 64-bit column can hold (not 1e400, not true)."""
    if type(value) is not int or value not in BIGINT:
        raise ValueError("not an id")
    return value
