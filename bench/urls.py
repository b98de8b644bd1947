"""The site's URLs plus /bench/bare-events/: the throughput baseline."""

from django.http import JsonResponse
from django.urls import path

from config.urls import (  # noqa: F401  (the site's error pages: JSON under /api/, 503s)
    handler400,
    handler403,
    handler404,
    handler500,
)
from config.urls import urlpatterns as site_urlpatterns
from events.models import Event

BARE_PAGE_SIZE = 50
# The event's own columns: what one page costs without DRF, filters, pagination or nesting.
BARE_FIELDS = (
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
    "event_type_id",
    "country",
    "is_global",
    "locality",
    "latitude",
    "longitude",
    "verification",
    "first_published_at",
    "updated_at",
)


def bare_events(request):
    """Return the API's first page of 50 events (same rows, same order) the plainest way."""
    events = Event.objects.published().order_by("date_earliest", "id").values(*BARE_FIELDS)
    return JsonResponse({"results": list(events[:BARE_PAGE_SIZE])})


urlpatterns = [*site_urlpatterns, path("bench/bare-events/", bare_events)]
