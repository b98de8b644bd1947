"""Middleware that decides how a request may use the database.

ReplicaMiddleware decides whether its reads may go to a read replica (see config/routers.py);
QueryTimeLimitMiddleware bounds how long a public request's queries may run.

ReplicaMiddleware is installed only when DATABASE_REPLICA_URLS names replicas, early in
MIDDLEWARE. Every request starts on the primary. Just before the view runs (process_view,
when AuthenticationMiddleware has attached the user) a request gets a replica scope unless it
must see the latest data:

- its method is not GET, HEAD or OPTIONS (it writes);
- its view is the admin's, wherever it is mounted (curators read what they are about to
  change);
- its user is logged in (curators and editors see their own edits at once);
- it carries the pin cookie: the client made a non-safe request less than
  REPLICA_PIN_SECONDS ago (read-your-writes, for instance after logging out).

Reads made before the view (loading the session and the user) therefore go to the primary:
a session written by a login a moment ago is always found. The scope is left when the
response leaves this middleware; a streamed body gets it back while each chunk is produced.

Written for WSGI (gunicorn's threads): the scope lives in a context variable of the thread.
"""

import contextlib
import time

from django.conf import settings
from django.db import connections
from django.http import FileResponse

from timeline import errors

from . import routers

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
PIN_COOKIE = "read_primary_until"


class ReplicaMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = routers.enter_scope(None)
        try:
            response = self.get_response(request)
            scope = routers.current_scope()
        finally:
            routers.exit_scope(token)
        if scope is not None and self.streams_lazily(response):
            response.streaming_content = routers.bound_to_scope(response.streaming_content, scope)
        if request.method not in SAFE_METHODS:
            self.pin(response)
        return response

    def process_view(self, request, view_func, view_args, view_kwargs):
        if not self.needs_primary(request):
            routers.enter_scope(routers.ReplicaScope())  # left by __call__'s token
        return None

    def needs_primary(self, request):
        """Return whether this request must read from the primary (cheapest checks first)."""
        return (
            request.method not in SAFE_METHODS
            or in_admin(request)
            or pinned(request)
            or is_logged_in(request)
        )

    @staticmethod
    def streams_lazily(response):
        # A file is read without the database; rewrapping it would lose the server's sendfile.
        # An async body runs in its own tasks: this project serves WSGI only.
        return (
            response.streaming
            and not isinstance(response, FileResponse)
            and not getattr(response, "is_async", False)
        )

    @staticmethod
    def pin(response):
        """Send this client's reads to the primary for the next REPLICA_PIN_SECONDS."""
        seconds = settings.REPLICA_PIN_SECONDS
        if seconds <= 0:
            return
        response.set_cookie(
            PIN_COOKIE,
            str(int(time.time()) + seconds),
            max_age=seconds,
            secure=settings.SESSION_COOKIE_SECURE,
            httponly=True,
            samesite="Lax",
        )


def pinned(request):
    """Return whether the request carries a pin cookie that has not expired.

    The cookie holds its own expiry time, so a client that ignores Max-Age stops being
    pinned all the same; a time further ahead than we ever set is not ours and is ignored.
    """
    try:
        until = int(request.COOKIES[PIN_COOKIE])
    except (KeyError, ValueError):
        return False
    now = time.time()
    return now < until <= now + settings.REPLICA_PIN_SECONDS


def in_admin(request):
    # Every admin URL is in the admin's application namespace, whatever the site's name.
    match = getattr(request, "resolver_match", None)
    return match is not None and "admin" in match.app_names


def is_logged_in(request):
    user = getattr(request, "user", None)
    return user is not None and user.is_authenticated


class QueryTimeLimitMiddleware:
    """Stop a public request's database work after PUBLIC_QUERY_SECONDS (0: no limit).

    Public means not the admin and not a logged-in user. A streamed export is exempt once its
    response has started: it may run for minutes.

    On PostgreSQL each statement gets statement_timeout; it is set on a connection only when
    it changes, so a connection serving public requests pays for it once, and other requests
    get the server's own default back. On SQLite a progress handler stops the request's
    statements once the request as a whole is past its deadline.
    Either way the database raises, and timeline.errors answers 503 with what to do instead.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not settings.PUBLIC_QUERY_SECONDS:
            request.statement_limit = None
            return self.get_response(request)
        limit = StatementLimit(settings.PUBLIC_QUERY_SECONDS)
        request.statement_limit = limit
        with contextlib.ExitStack() as stack:
            for alias in connections:
                stack.enter_context(connections[alias].execute_wrapper(limit))
            try:
                response = self.get_response(request)
            finally:
                limit.active = False
                limit.release_sqlite()
        if limit.used_postgresql and response.streaming:
            response.streaming_content = limit.lifted(response.streaming_content)
        return response

    def process_view(self, request, view_func, view_args, view_kwargs):
        limit = request.statement_limit
        if limit is not None:
            limit.active = not (in_admin(request) or is_logged_in(request))
        return None

    def process_exception(self, request, exception):
        """Answer a stopped query or a database outage from a view with its 503.

        Answered here, it is logged as one line (Django logs the 503). handler500 answers the
        same for what fails outside a view (a session read in another middleware), but Django
        logs those with their traceback.
        """
        return errors.database_error_response(request, exception)


class StatementLimit:
    """An execute wrapper that applies the time limit to the queries of one request."""

    # The statement_timeout last set on a connection, with the DB-API connection it was set
    # on: a reconnect starts again from the server's default.
    STATE = "_timeline_statement_timeout"

    def __init__(self, seconds):
        self.seconds = seconds
        self.deadline = time.monotonic() + seconds
        self.active = False
        self.used_postgresql = False
        self.sqlite_connections = []

    def __call__(self, execute, sql, params, many, context):
        connection = context["connection"]
        if connection.vendor == "postgresql":
            self.used_postgresql = True
            milliseconds = max(1, int(self.seconds * 1000)) if self.active else None
            set_statement_timeout(connection, milliseconds)
        elif connection.vendor == "sqlite" and self.active:
            raw = connection.connection
            if raw not in self.sqlite_connections:
                raw.set_progress_handler(self.past_deadline, 10_000)
                self.sqlite_connections.append(raw)
        return execute(sql, params, many, context)

    def past_deadline(self):
        return time.monotonic() > self.deadline

    def release_sqlite(self):
        for raw in self.sqlite_connections:
            raw.set_progress_handler(None, 0)
        self.sqlite_connections.clear()

    def lifted(self, chunks):
        """Yield a streamed body's chunks with no statement_timeout on this thread's
        connections (the body is written after the view returned, in the same thread)."""
        lifted = [
            connections[alias]
            for alias in connections
            if connections[alias].vendor == "postgresql"
            and connections[alias].connection is not None
        ]
        for connection in lifted:
            set_statement_timeout(connection, None)
        try:
            yield from chunks
        finally:
            # A COPY export sets it inside its own transaction, which ends with the body:
            # what the server holds now is not known, so the next request sets it again.
            for connection in lifted:
                connection.__dict__.pop(StatementLimit.STATE, None)


def set_statement_timeout(connection, milliseconds):
    """Set statement_timeout on a connection, or None: back to the server's default (the
    role's or the database's, if its administrator set one)."""
    raw = connection.connection
    if raw is None:
        connection.ensure_connection()
        raw = connection.connection
    state = connection.__dict__.get(StatementLimit.STATE)
    if state is not None and state[0] is raw and state[1] == milliseconds:
        return
    # On the DB-API cursor (a Django cursor would run this wrapper again), its errors turned
    # into Django's as a Django cursor would: a server gone meanwhile is an outage (503).
    with connection.wrap_database_errors, raw.cursor() as cursor:
        if milliseconds is None:
            cursor.execute("SET statement_timeout TO DEFAULT")
        else:
            cursor.execute("SET statement_timeout = %s", [milliseconds])
    if connection.in_atomic_block:
        # A rollback would undo the SET: don't remember it.
        connection.__dict__.pop(StatementLimit.STATE, None)
    else:
        connection.__dict__[StatementLimit.STATE] = (raw, milliseconds)
