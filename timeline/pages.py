"""Pages for readers. They read published events through the same FilterSet and QuerySets
as the API, so a page, its CSV link and its API link always hold the same events."""

import datetime
from itertools import groupby
from urllib.parse import urlencode

from django import forms
from django.conf import settings
from django.core.cache import cache
from django.db.models import Count, Exists, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.forms.utils import flatatt
from django.http import Http404
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.views.decorators.gzip import gzip_page
from django_countries import countries

from events.choices import EventStatus
from events.formats import PUBLIC_ID
from events.models import Actor, Citation, Event, EventCategory, EventType, Platform

from . import caching, citing, exports, pagination, stats, worldmap
from .caching import cache_public_page, dated_page
from .filters import EventFilterSet
from .pagination import SORT_KEYS

PAGE_SIZE = 50
# The orders a reader chooses from (the API's ordering parameter), with what the links to the
# page before and after say. The timeline opens on the newest: events are placed, headed and
# charted by their earliest possible day, one key.
PAGE_ORDERINGS = [
    ("-date", "Newest first"),
    ("date", "Oldest first"),
    ("-updated", "Recently updated"),
]
PAGE_LINKS = {
    "-date": ("Newer events", "Older events"),
    "date": ("Earlier events", "Later events"),
    "-updated": ("Updated more recently", "Updated longer ago"),
    "updated": ("Updated longer ago", "Updated more recently"),
}
LAST_ID = 2**63 - 1
DEFAULT_PAGE_ORDERING = "-date"
CHART_MONTHS_UP_TO_YEARS = 3  # a shorter span is drawn month by month
CHART_WIDTH, CHART_HEIGHT, CHART_LABELS = 640, 120, 12


class QuickSelect(forms.Select):
    """A select drawn in one pass: Django renders each option through a template, which takes
    seconds for the thousands of actors a large timeline has."""

    def render(self, name, value, attrs=None, renderer=None):
        attrs = self.build_attrs(self.attrs, attrs) | {"name": name}
        chosen = "" if value is None else str(value)
        options = format_html_join(
            "",
            '<option value="{}"{}>{}</option>',
            (
                (key, mark_safe(" selected") if str(key) == chosen else "", label)
                for key, label in self.choices
            ),
        )
        return format_html("<select{}>{}</select>", flatatt(attrs), options)


def _placed_filters():
    """The events filters a reader sees on the page, as their declarations place them."""
    placed = [(name, f.place) for name, f in EventFilterSet.base_filters.items() if f.place]
    return sorted(placed, key=lambda item: item[1].position)


PLACED_FILTERS = _placed_filters()
FILTER_FIELDS = tuple(name for name, _place in PLACED_FILTERS)


class TimelineFilterForm(forms.Form):
    """What the reader sees; EventFilterSet does the filtering and the checking.

    Its fields are the filters that declare a place on the page (timeline.filters.Place).
    """

    def __init__(self, *args, version=None, **kwargs):
        super().__init__(*args, **kwargs)
        choices = filter_choices(version) if any(p.choices for _n, p in PLACED_FILTERS) else {}
        for name, place in PLACED_FILTERS:
            if place.choices:
                self.fields[name] = forms.ChoiceField(
                    widget=QuickSelect,
                    label=place.label,
                    required=False,
                    choices=[("", "Any"), *choices[name]],
                )
            else:
                attrs = {"placeholder": place.placeholder} if place.placeholder else {}
                self.fields[name] = forms.CharField(
                    label=place.label, required=False, widget=forms.TextInput(attrs=attrs)
                )
        self.fields["ordering"] = forms.ChoiceField(
            label="Sort", required=False, choices=PAGE_ORDERINGS
        )


def filter_choices(version):
    """Return the choices of the reader's filters: what published events refer to.

    Kept in the cache under the data version: every filtered page shows the same lists, and
    with a million events they cost a second to build.
    """
    return cache.get_or_set(
        f"timeline:filter-choices:{version}",
        _filter_choices,
        caching.seconds(),
    )


def _filter_choices():
    codes = (
        Event.objects.published()
        .exclude(country="")
        .order_by()  # without it the default ordering's columns join the DISTINCT
        .values_list("country", flat=True)
        .distinct()
    )
    return {
        "category": list(EventCategory.objects.public().values_list("slug", "name")),
        "type": [
            (slug, f"{category}: {name}")
            for slug, name, category in EventType.objects.public().values_list(
                "slug", "name", "category__name"
            )
        ],
        "country": [
            *sorted(((code, countries.name(code)) for code in codes), key=lambda c: c[1]),
            ("global", "Global"),
        ],
        "platform": list(Platform.objects.public().order_by("name").values_list("slug", "name")),
        "actor": list(Actor.objects.public().order_by("name").values_list("slug", "name")),
    }


@gzip_page  # the map's outlines are most of the page, and compress to a quarter
@cache_public_page
def timeline_page(request):
    query = {name: request.GET.getlist(name) for name in FILTER_FIELDS if request.GET.get(name)}
    ordering = request.GET.get("ordering") or DEFAULT_PAGE_ORDERING
    data = request.GET.copy()
    data["ordering"] = ordering
    filterset = EventFilterSet(data=data, queryset=_listed_events())
    form = TimelineFilterForm(
        initial={name: values[0] for name, values in query.items()} | {"ordering": ordering},
        version=caching.data_version(request),
    )
    listing = filterset.is_valid() and _listing(request, filterset.qs, filterset.sort_order)
    if not listing or listing.get("error"):
        errors = filterset.errors if not listing else {"cursor": [listing["error"]]}
        context = {"form": form, "errors": errors, "query": query}
        return render(request, "timeline/timeline.html", context, status=400)
    encoded = urlencode(query, doseq=True)
    # Downloads and the API keep the order chosen here (the API's own default is the oldest
    # first); this page's links name it only when it is not the page's default. The feed is
    # always newest first.
    ordered = urlencode(query | {"ordering": [filterset.sort_order]}, doseq=True)
    if filterset.sort_order != DEFAULT_PAGE_ORDERING:
        query = query | {"ordering": [filterset.sort_order]}
    # The count is the chart's: events per year add up to every event, and the page counts
    # them anyway (an exact COUNT of a million rows costs as much again).
    years = stats.grouped(filterset.qs, "year")
    timelinejs_url = f"{reverse('api:event-list')}?{ordered}&format=timelinejs"
    context = {
        "form": form,
        "query": query,
        "count": sum(row["count"] for row in years),
        "chart": _chart(filterset.qs, years, query),
        "places": _places(filterset, query),
        "csv_url": f"{reverse('api:event-list')}?{ordered}&format=csv",
        "timelinejs_url": timelinejs_url,
        "timelinejs_embed": exports.timelinejs_embed(settings.SITE_URL + timelinejs_url),
        "api_url": f"{reverse('api:event-list')}?{ordered}",
        "feed_url": f"{reverse('timeline:events-feed')}{'?' if encoded else ''}{encoded}",
        "feed_title": "New censorship events" + (" like these" if encoded else ""),
        "sort_order": filterset.sort_order,
        "years": _year_links(years, filterset.sort_order, query, listing["groups"]),
        **listing,
    }
    return render(request, "timeline/timeline.html", context)


def _listing(request, events, ordering):
    """Return one keyset page of events in this order, headed by year, with the links to
    the pages before and after it that keep the rest of the query; or the error of a cursor
    the site never gave out."""
    raw = request.GET.get("cursor")
    try:
        cursor = pagination.decode_cursor(raw, ordering) if raw else None
    except pagination.InvalidCursor as error:
        return {"error": str(error)}
    page = pagination.keyset_page(events, ordering, cursor, PAGE_SIZE)
    field = SORT_KEYS[ordering].field
    before, after = PAGE_LINKS[ordering]
    links = []
    for wanted, row, direction, label, rel in (
        (page.has_previous, page.rows[:1], "prev", before, "prev"),
        (page.has_next, page.rows[-1:], "next", after, "next"),
    ):
        if wanted and row:
            value = pagination.sort_value(row[0], field)
            token = pagination.encode_cursor(ordering, direction, value, row[0].pk)
            links.append({"label": label, "rel": rel, "url": _with_cursor(request, token)})
    return {"groups": _grouped(page.rows, ordering), "page_links": links}


def _with_cursor(request, token):
    params = request.GET.copy()
    params.pop("page", None)  # the numbered pages of old links
    if token is None:
        params.pop("cursor", None)
    else:
        params["cursor"] = token
    return f"?{params.urlencode()}" if params else request.path


def _year_links(years, ordering, query, groups):
    """Links that open the list at each year's first event, in the list's order: a cursor
    just beyond the year's edge, so the page starts at its first (or last) day."""
    if ordering not in ("date", "-date") or len(years) < 2:
        return []
    shown = {heading for heading, _events in groups}
    here = urlencode(query, doseq=True)
    home = reverse("timeline:home")
    links = []
    in_order = [int(row["key"]) for row in years]
    if ordering == "-date":
        in_order.reverse()
    for index, year in enumerate(in_order):
        if index == 0:  # the list's own first page
            token = None
        elif ordering == "-date":
            token = pagination.encode_cursor(ordering, "next", datetime.date(year, 12, 31), LAST_ID)
        else:
            token = pagination.encode_cursor(ordering, "next", datetime.date(year, 1, 1), 0)
        params = [here] if here else []
        if token:
            params.append(urlencode({"cursor": token}))
        links.append(
            {
                "year": year,
                "url": f"{home}?{'&'.join(params)}" if params else home,
                "current": str(year) in shown,
            }
        )
    return links


def _listed_events():
    # Counted per listed event, after the page's LIMIT: not grouped over every match.
    sources = (
        Citation.objects.filter(event=OuterRef("pk"))
        .order_by()
        .values("event")
        .annotate(n=Count("source", distinct=True))
        .values("n")
    )
    return (
        Event.objects.published()
        .select_related("event_type__category")
        .prefetch_related("platforms", "actor_roles__actor")
        .annotate(source_count=Coalesce(Subquery(sources), 0))
    )


def _grouped(events, sort_order):
    """Head the page's events by the year of their earliest possible day, the key that orders
    them and counts the chart, so a heading never repeats; by recency, under one heading."""
    if sort_order in ("updated", "-updated"):
        title = (
            "Most recently updated first"
            if sort_order == "-updated"
            else "Updated longest ago first"
        )
        return [(title, list(events))] if events else []
    return [
        (str(year), list(items))
        for year, items in groupby(events, key=lambda e: e.date_earliest.year)
    ]


def _chart(events, years, query):
    """Bars of events per year, or per month over a few years, with empty periods shown."""
    if not years:
        return None
    first, last = int(years[0]["key"]), int(years[-1]["key"])
    if last - first < CHART_MONTHS_UP_TO_YEARS:
        counts = {row["key"]: row["count"] for row in stats.grouped(events, "month")}
        periods = [
            (f"{year:04d}-{month:02d}", f"{stats.MONTHS[month][:3]} {year}")
            for year in range(first, last + 1)
            for month in range(1, 13)
        ]
        unit = "month"
    else:
        counts = {row["key"]: row["count"] for row in years}
        periods = [(str(year), str(year)) for year in range(first, last + 1)]
        unit = "year"
    return _bars(periods, counts, unit, query)


def _places(filterset, query):
    """Events per country: the map, and the same counts as a list of links (each country's
    link keeps the other filters)."""
    rows = stats.grouped(filterset.qs, "country")
    if not rows:
        return None

    def link(code):
        narrowed = {**query, "country": [code]}
        return f"{reverse('timeline:home')}?{urlencode(narrowed, doseq=True)}"

    listed = [
        {"name": row["label"], "count": row["count"], "url": link(row["key"])}
        for row in rows
        if row["key"]  # events with no country and not global: none, by the model's rules
    ]
    counts = {row["key"]: row["count"] for row in rows if row["key"] not in (None, "global")}
    names = {row["key"]: row["label"] for row in rows}
    return {"map": worldmap.draw(counts, names, link), "countries": listed}


def _bars(periods, counts, unit, query):
    highest = max(counts.values())
    step = CHART_WIDTH / len(periods)
    every = max(1, round(len(periods) / CHART_LABELS))
    bars = []
    for index, (key, label) in enumerate(periods):
        count = counts.get(key, 0)
        height = round(CHART_HEIGHT * count / highest, 1)
        bars.append(
            {
                "label": label,
                "count": count,
                "x": round(index * step, 1),
                "width": round(max(step - 1, 1), 1),
                "height": height,
                "y": round(CHART_HEIGHT - height, 1),
                "show_label": index % every == 0,
                "middle": round(index * step + step / 2, 1),
                # The bar's events: those whose earliest possible day falls in its period.
                "url": "?"
                + urlencode(
                    query | {"date_from": [key], "date_to": [key], "date_match": ["begins"]},
                    doseq=True,
                ),
            }
        )
    return {
        "bars": bars,
        "unit": unit,
        "total": sum(counts.values()),
        "highest": highest,
        "width": CHART_WIDTH,
        "height": CHART_HEIGHT,
    }


@dated_page  # its citation says when it was read
@cache_public_page
def event_page(request, public_id):
    if not PUBLIC_ID.match(public_id):  # never a public id: no need to ask the database
        raise Http404("No event has this id.")
    queryset = Event.objects.filter(
        status__in=[EventStatus.PUBLISHED, EventStatus.RETRACTED]
    ).for_api()
    event = get_object_or_404(queryset, public_id=public_id)
    if event.status == EventStatus.RETRACTED:
        return render(request, "timeline/event_retracted.html", {"event": event}, status=410)
    roles = groupby(
        sorted(event.actor_roles.all(), key=lambda role: (role.role, role.id)),
        key=lambda role: role.get_role_display(),
    )
    context = {
        "event": event,
        "roles": [(label, list(items)) for label, items in roles],
        "sources": _sources_with_quotes(event),
        "alike": _events_alike(event),
        "citation": citing.event_citation(
            event, accessed=timezone.now().date(), release=citing.release_holding(event)
        ),
    }
    return render(request, "timeline/event_detail.html", context)


def _sources_with_quotes(event):
    """Each source the event cites, once, in the order first cited, with its citations."""
    sources = {}
    for citation in event.citations.all():
        sources.setdefault(citation.source_id, (citation.source, []))[1].append(citation)
    return list(sources.values())


def _events_alike(event):
    """Links back to the timeline: events on its platforms, in its country, of its type, and
    all three at once; each with a label that says what it narrows to."""
    facets = []
    platforms = list(event.platforms.all())
    if platforms:
        names = " or ".join(platform.name for platform in platforms)
        slugs = ",".join(platform.slug for platform in platforms)
        facets.append(("platform", slugs, f"on {names}"))
    if event.is_global:
        facets.append(("country", "global", "worldwide"))
    elif event.country:
        facets.append(("country", event.country.code, f"in {event.country.name}"))
    if event.event_type_id:
        facets.append(("type", event.event_type.slug, f"of type {event.event_type.name}"))
    home = reverse("timeline:home")
    links = [
        {"url": f"{home}?{urlencode({name: value})}", "label": f"Events {label}"}
        for name, value, label in facets
    ]
    if len(facets) > 1:
        query = urlencode({name: value for name, value, _label in facets})
        label = ", ".join(label for _name, _value, label in facets)
        links.insert(0, {"url": f"{home}?{query}", "label": f"Events {label}"})
    return links


@cache_public_page
def actor_page(request, slug):
    actor = get_object_or_404(Actor.objects.public().prefetch_related("aliases"), slug=slug)
    events = _listed_events().with_actor_role([actor.slug])
    return _subject_page(request, actor, "actor", events)


@cache_public_page
def platform_page(request, slug):
    public_actors = Actor.objects.public()
    platform = get_object_or_404(
        Platform.objects.public()
        .select_related("operator")
        .prefetch_related("aliases")
        .annotate(operator_is_public=Exists(public_actors.filter(pk=OuterRef("operator")))),
        slug=slug,
    )
    events = _listed_events().filter(platforms=platform)
    return _subject_page(request, platform, "platform", events)


def _subject_page(request, subject, kind, events):
    listing = _listing(request, events, DEFAULT_PAGE_ORDERING)
    if listing.get("error"):
        context = {"status": 400, "message": listing["error"]}
        return render(request, "timeline/error.html", context, status=400)
    context = {
        "subject": subject,
        "kind": kind,
        "count": events.count(),
        **listing,
        "filter_url": f"{reverse('timeline:home')}?{urlencode({kind: subject.slug})}",
        "feed_url": f"{reverse('timeline:events-feed')}?{urlencode({kind: subject.slug})}",
        "feed_title": f"New censorship events: {subject.name}",
    }
    return render(request, "timeline/subject.html", context)


def about_page(request):
    return render(request, "timeline/about.html")
