"""Public responses cached until the published data changes, and validated by clients.

The version of the data is how many public changes have committed
(events.querysets.public_version: one row, counted by the database's triggers). It names
every cached body and every ETag, so a publish, an edit or a retraction makes every older
entry unreachable at once:
nothing to invalidate by hand, and no worker can serve what another worker has replaced.
With Redis (REDIS_URL) the workers share one cache; without it each keeps its own.
"""

import functools
import hashlib

from django.conf import settings
from django.core.cache import cache
from django.http import HttpResponse
from django.utils import timezone
from django.utils.cache import patch_vary_headers

from events.querysets import public_version

KEPT_HEADERS = ("Content-Type", "Link", "Content-Language")


def seconds():
    """Return how long a cached response may be kept (PUBLIC_CACHE_SECONDS; 0 turns it off)."""
    return settings.PUBLIC_CACHE_SECONDS


def data_version(request):
    """Return the version of the public data, read once per request."""
    if not hasattr(request, "_timeline_version"):
        request._timeline_version = public_version()
    return request._timeline_version


def response_key(request, *args, **kwargs):
    """Return a key that changes with the data, the URL and what the client accepts."""
    version = data_version(request)
    key = "|".join(
        [
            str(version),
            request.build_absolute_uri(),  # bodies hold absolute links: the host matters
            request.headers.get("Accept", ""),
            getattr(request, "_timeline_day", ""),  # set by dated_page
        ]
    )
    return hashlib.sha256(key.encode()).hexdigest()[:32]


def cached_body(request):
    """Return the cached response for this request and data version, or None."""
    if not seconds():
        return None
    stored = cache.get(f"public:{response_key(request)}")
    if stored is None:
        return None
    body, status, headers = stored
    response = HttpResponse(body, status=status)
    for name, value in headers.items():
        response[name] = value
    return response


def keep_body(request, response):
    """Cache a rendered 200 response that sets no cookie; return the response."""
    if (
        seconds()
        and response.status_code == 200
        and not response.streaming
        and not response.cookies
    ):
        headers = {name: response[name] for name in KEPT_HEADERS if response.has_header(name)}
        cache.set(
            f"public:{response_key(request)}",
            (response.content, response.status_code, headers),
            seconds(),
        )
    return response


def serve_cached(handler):
    """Answer a JSON API request from the cache while the data is unchanged.

    Wraps a DRF handler, so throttling and content negotiation have already run; streamed
    formats are never cached (they are written as they are read).
    """

    @functools.wraps(handler)
    def wrapper(view, request, *args, **kwargs):
        if getattr(request.accepted_renderer, "streamed", False):
            return handler(view, request, *args, **kwargs)
        response = cached_body(request._request)
        if response is not None:
            return response
        response = handler(view, request, *args, **kwargs)
        response.add_post_render_callback(lambda rendered: keep_body(request._request, rendered))
        return response

    return wrapper


def dated_page(view):
    """Key a cached page by the day, too: for a page that shows today's date (a citation's
    access date). Put it above cache_public_page."""

    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        request._timeline_day = timezone.now().date().isoformat()
        return view(request, *args, **kwargs)

    return wrapper


def cache_public_page(view):
    """Serve an anonymous reader's page from the cache while the data is unchanged."""

    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        if request.method not in ("GET", "HEAD") or request.user.is_authenticated:
            return view(request, *args, **kwargs)
        response = cached_body(request)
        if response is None:
            response = view(request, *args, **kwargs)
            if hasattr(response, "render") and not response.is_rendered:
                response.render()
            keep_body(request, response)
        patch_vary_headers(response, ["Cookie"])
        return response

    return wrapper
