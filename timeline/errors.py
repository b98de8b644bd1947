"""What a reader sees when something goes wrong: JSON under /api/, a page elsewhere.

Django calls these for errors no view answered itself (an unknown URL, a bad Host header, a
refused permission, an exception). Two failures are not bugs and are told apart from a 500:

- the database cannot be reached (it is restarting, say): 503 with Retry-After, and the next
  request reconnects on its own (CONN_HEALTH_CHECKS);
- a public request ran past PUBLIC_QUERY_SECONDS (config.middleware.QueryTimeLimitMiddleware):
  503 asking for narrower filters.

Nothing about the failure itself (no traceback, no SQL) is ever shown; it goes to the log.
"""

import sqlite3
import sys

from django.conf import settings
from django.db import Error, InterfaceError, OperationalError
from django.http import JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

RETRY_AFTER_SECONDS = 10

# In the page's language; the API's are English (config.languages).
MESSAGES = {
    400: _("Bad request."),
    403: _("Forbidden."),
    404: _("Not found."),
    500: _("Something went wrong on our side. It has been logged; please try again later."),
}
# SQLite's words for a database it cannot reach for now; any other error of its is a bug.
SQLITE_UNAVAILABLE = ("database is locked", "unable to open database file", "disk i/o error")


def query_too_slow_message():
    return gettext(
        "This request took longer than %(seconds)s seconds and was stopped. Narrow the "
        "filters, or use a streamed export (format=csv or ndjson) for large results."
    ) % {"seconds": f"{settings.PUBLIC_QUERY_SECONDS:g}"}


def database_unavailable_message(method):
    message = gettext(
        "The database is unavailable for a moment (it may be restarting). Please try again in "
        "%(seconds)s seconds."
    ) % {"seconds": RETRY_AFTER_SECONDS}
    if method in ("GET", "HEAD", "OPTIONS"):
        return message
    # A write may have been cut off after its commit: the curator should look before redoing it.
    return gettext(
        "%(message)s If you were saving a change, check whether it was kept before saving again."
    ) % {"message": message}


def is_query_cancelled(error):
    """Return whether error is a statement stopped by the time limit, on either database."""
    cause = getattr(error, "__cause__", None)
    if getattr(cause, "pgcode", None) == "57014":  # query_canceled
        return True
    return isinstance(error, OperationalError) and str(error) == "interrupted"  # SQLite


def is_database_unavailable(error):
    if isinstance(error, InterfaceError):  # psycopg2: "connection already closed"
        return True
    if not isinstance(error, OperationalError) or is_query_cancelled(error):
        return False
    cause = getattr(error, "__cause__", None)
    if isinstance(cause, sqlite3.Error):
        return str(error).lower().startswith(SQLITE_UNAVAILABLE)
    code = getattr(cause, "pgcode", None)
    # psycopg2 leaves pgcode empty when the server is gone. A server shutting down or starting
    # up says so (57P01-57P03), as does a broken connection (class 08). Other errors with a
    # code (a deadlock, a serialization failure) remain 500s.
    return code is None or code.startswith("08") or code in {"57P01", "57P02", "57P03"}


def wants_json(request):
    return request.path.startswith("/api/")


def error_response(request, status, message, **headers):
    if wants_json(request):
        response = JsonResponse({"detail": str(message)}, status=status)
    else:
        response = render(
            request,
            "timeline/error.html",
            {"status": status, "message": message},
            status=status,
        )
    for name, value in headers.items():
        response[name.replace("_", "-")] = value
    return response


def bad_request(request, exception):
    return error_response(request, 400, MESSAGES[400])


def permission_denied(request, exception):
    return error_response(request, 403, MESSAGES[403])


def page_not_found(request, exception):
    return error_response(request, 404, MESSAGES[404])


def database_error_response(request, error):
    """Return the 503 for a stopped query or a database outage, or None for other errors."""
    if not isinstance(error, Error):  # Django's InterfaceError is not a DatabaseError
        return None
    if is_query_cancelled(error):
        return error_response(
            request, 503, query_too_slow_message(), Retry_After=str(RETRY_AFTER_SECONDS)
        )
    if is_database_unavailable(error):
        message = database_unavailable_message(request.method)
        return error_response(request, 503, message, Retry_After=str(RETRY_AFTER_SECONDS))
    return None


def server_error(request):
    response = database_error_response(request, sys.exc_info()[1])
    return response or error_response(request, 500, MESSAGES[500])
