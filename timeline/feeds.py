"""Atom feeds of the timeline: newly published events, with the timeline's own filters.

`/feeds/events.atom?platform=wechat&country=CN` holds the newest published events the same
filters show on the timeline, newest first, each written from its public JSON (so a feed
holds only what the API shows) as its summary, date, place and sources. A retracted event is
an entry with the same id that carries only the id, when it was retracted and why, never its
old text. Retractions are in every feed, whatever its filters: to say which filters a
retracted event matched would tell what it said. Links are written from SITE_URL.

A feed's words are in the language of its URL: /zh-hans/feeds/events.atom is in Chinese. The
events' own text (titles, summaries, names) is as curators wrote it.
"""

import json
from dataclasses import dataclass

from django.conf import settings
from django.contrib.syndication.views import Feed
from django.http import HttpResponse
from django.urls import reverse
from django.utils import translation
from django.utils.feedgenerator import Atom1Feed
from django.utils.html import format_html
from django.utils.translation import gettext, pgettext
from django.views.decorators.http import condition

from events.choices import EventStatus
from events.dates import describe
from events.models import Event
from events.public.documents import EventDocuments

from . import caching
from .caching import cache_public_page
from .event_html import event_html
from .filters import EventFilterSet
from .serializers import event_bases
from .templatetags.timeline_text import place_name

ENTRIES = 50  # the newest; a reader who polls less often than that reads the changes feed
# The timeline's filters, but not its order: a feed is always newest first.
FEED_FILTERS = frozenset(EventFilterSet.base_filters) - {"ordering"}


@dataclass(frozen=True)
class Entry:
    public_id: str
    link: str  # the event's page
    at: object  # when it was published, or retracted
    updated: object
    event: dict | None = None  # the public JSON of a published event
    retraction_reason: str = ""


class EventFeed(Feed):
    feed_type = Atom1Feed

    def author_name(self):
        return gettext("Censorship Timeline")

    def language(self):
        return translation.get_language()

    def __call__(self, request, *args, **kwargs):
        unknown = sorted(set(request.GET) - FEED_FILTERS)
        filterset = EventFilterSet(data=request.GET, queryset=Event.objects.published())
        if unknown or not filterset.is_valid():
            return _bad_request(unknown, filterset)
        return super().__call__(request, filterset=filterset)

    def get_object(self, request, filterset):
        return Subscription(request, filterset)

    def title(self, subscription):
        return subscription.title

    def subtitle(self, subscription):
        if not subscription.filters:
            return gettext("Newly published censorship events, newest first, and every retraction.")
        return gettext(
            "Newly published censorship events matching %(filters)s, newest first, and every "
            "retraction."
        ) % {"filters": subscription.filters}

    def link(self, subscription):
        return settings.SITE_URL + subscription.timeline_url

    def feed_url(self, subscription):
        return settings.SITE_URL + subscription.request.get_full_path()

    def feed_guid(self, subscription):
        return self.feed_url(subscription)

    def items(self, subscription):
        return subscription.entries()

    def item_title(self, entry):
        if entry.event is None:
            return gettext("Retracted: %(id)s") % {"id": entry.public_id}
        return entry.event["title"]

    def item_description(self, entry):
        if entry.event is None:
            retracted = gettext("Event %(id)s was retracted on %(day)s.") % {
                "id": entry.public_id,
                "day": entry.at.date().isoformat(),
            }
            return format_html("<p>{} {}</p>", retracted, entry.retraction_reason)
        event = entry.event
        return format_html(
            "<p>{} · {}</p>{}",
            describe(event["date"]["text"]),
            place_name(event),
            event_html(event),
        )

    def item_link(self, entry):
        return entry.link

    def item_guid(self, entry):
        # One id for an event's entries, published and retracted: a reader replaces the one
        # with the other.
        return self.item_link(entry)

    def item_pubdate(self, entry):
        return entry.at if entry.event is not None else None

    def item_updateddate(self, entry):
        return entry.updated

    def item_categories(self, entry):
        if entry.event is None:
            return ["retracted"]
        event = entry.event
        names = [event["type"]["name"] if event["type"] else ""]
        names.append(event["category"]["name"] if event["category"] else "")
        return [name for name in names if name]


class Subscription:
    """What one feed URL asks for: the filters, and the entries they select now."""

    def __init__(self, request, filterset):
        self.request = request
        self.filterset = filterset
        self.query = request.GET.urlencode()

    @property
    def filters(self):
        either = pgettext("between names, any of which matches", " or ")
        return pgettext("between names in a list", ", ").join(
            f"{name} {either.join(values)}" for name, values in self.request.GET.lists()
        )

    @property
    def title(self):
        if not self.filters:
            return gettext("Censorship Timeline")
        return gettext("Censorship Timeline: %(filters)s") % {"filters": self.filters}

    @property
    def timeline_url(self):
        return reverse("timeline:home") + (f"?{self.query}" if self.query else "")

    def entries(self):
        published = self.filterset.qs.order_by("-first_published_at", "-id")[:ENTRIES]
        keys = list(published.values_list("pk", "first_published_at", "public_id", "updated_at"))
        documents = EventDocuments(published.db, event_bases({"base_url": settings.SITE_URL}))
        entries = [
            Entry(public_id, self._link(public_id), at, updated, json.loads(document.text))
            for document, (_pk, at, public_id, updated) in zip(
                documents.page([key[:2] for key in keys]), keys, strict=True
            )
        ]
        retracted = Event.objects.filter(status=EventStatus.RETRACTED).order_by(
            "-retracted_at", "-id"
        )
        entries += [
            Entry(public_id, self._link(public_id), at, at, retraction_reason=reason)
            for public_id, at, reason in retracted.values_list(
                "public_id", "retracted_at", "retraction_reason"
            )[:ENTRIES]
        ]
        entries.sort(key=lambda entry: entry.at, reverse=True)
        return entries[:ENTRIES]

    def _link(self, public_id):
        return settings.SITE_URL + reverse("timeline:event-page", args=[public_id])


def _bad_request(unknown, filterset):
    lines = [f"{name[:60]}: unknown parameter." for name in unknown[:10]]
    if unknown:
        lines.append(f"Accepted: {', '.join(sorted(FEED_FILTERS))}.")
    else:
        lines += [f"{name}: {' '.join(errors)}" for name, errors in filterset.errors.items()]
    return HttpResponse(
        "This feed's filters were not understood.\n" + "\n".join(lines) + "\n",
        status=400,
        content_type="text/plain; charset=utf-8",
    )


# ETags like the API's: a feed reader that polls sends If-None-Match and gets a 304 while
# nothing public has changed.
event_feed = condition(etag_func=caching.response_key)(cache_public_page(EventFeed()))
