"""Decide, per request, whether its reads may go to a read replica (see config/routers.py).

Installed only when DATABASE_REPLICA_URLS names replicas, early in MIDDLEWARE. Every request
starts on the primary. Just before the view runs (process_view, when AuthenticationMiddleware
has attached the user) a request gets a replica scope unless it must see the latest data:

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

import time

from django.conf import settings
from django.http import FileResponse

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
