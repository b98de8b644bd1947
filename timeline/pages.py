"""Pages for readers. They read published events through the same FilterSet and QuerySets
as the API, so a page, its CSV link and its API link always hold the same events."""

import datetime
import difflib
import hashlib
import html
from itertools import groupby
from urllib.parse import urlencode

from django import forms
from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Exists, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import dateformat, timezone, translation
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import gettext, pgettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.gzip import gzip_page
from django_countries import countries

from events.choices import EventStatus
from events.formats import PUBLIC_ID
from events.models import (
    Actor,
    Citation,
    Event,
    EventActor,
    EventCategory,
    EventType,
    NameUse,
    Platform,
)

from . import caching, citing, exports, pagination, stats, worldmap
from .caching import cache_public_page, dated_page
from .filters import EventFilterSet
from .pagination import SORT_KEYS

PAGE_SIZE = 50
# The orders a reader chooses from (the API's ordering parameter), with what the links to the
# page before and after say. The timeline opens on the newest: events are placed, headed and
# charted by their earliest possible day, one key.
PAGE_ORDERINGS = [
    ("-date", _("Newest first")),
    ("date", _("Oldest first")),
    ("-updated", _("Recently updated")),
]
PAGE_LINKS = {
    "-date": (_("Newer events"), _("Older events")),
    "date": (_("Earlier events"), _("Later events")),
    "-updated": (_("Updated more recently"), _("Updated longer ago")),
    "updated": (_("Updated longer ago"), _("Updated more recently")),
}
LAST_ID = 2**63 - 1
DEFAULT_PAGE_ORDERING = "-date"
CHART_MONTHS_UP_TO_YEARS = 3  # a shorter span is drawn month by month
CHART_WIDTH, CHART_HEIGHT, CHART_LABELS = 640, 120, 12


class QuickSelect(forms.Select):
    """A select drawn in one pass: Django renders each option through a template, which takes
    seconds for the thousands of actors a large timeline has."""

    def render(self, name, value, attrs=None, renderer=None):
        attrs = {"name": name} | self.build_attrs(self.attrs, attrs)
        chosen = "" if value is None else str(value)
        options = "".join(
            f'<option value="{html.escape(str(key))}"'
            f"{' selected' if str(key) == chosen else ''}>{html.escape(str(label))}</option>"
            for key, label in self.choices
        )
        return format_html("<select{}>{}</select>", _attributes(attrs), mark_safe(options))


class QuickTextInput(forms.TextInput):
    """A text input drawn in one pass, as Django's template draws it: the form's templates
    were a third of the time the timeline page took to render once its list was not."""

    def render(self, name, value, attrs=None, renderer=None):
        value = self.format_value(value)
        drawn = {"type": self.input_type, "name": name}
        if value is not None:
            drawn["value"] = value
        return format_html("<input{}>", _attributes(drawn | self.build_attrs(self.attrs, attrs)))


def _attributes(attrs):
    """Return an element's attributes in their order, as Django's widget templates write
    them: a true value as the name alone, a false one left out."""
    return format_html_join(
        "",
        "{}",
        (
            (format_html(" {}", name) if value is True else format_html(' {}="{}"', name, value),)
            for name, value in attrs.items()
            if value is not False and value is not None
        ),
    )


def _placed_filters():
    """The events filters a reader sees on the page, as their declarations place them."""
    placed = [(name, f.place) for name, f in EventFilterSet.base_filters.items() if f.place]
    return sorted(placed, key=lambda item: item[1].position)


PLACED_FILTERS = _placed_filters()
PLACES = dict(PLACED_FILTERS)
FILTER_FIELDS = tuple(name for name, _place in PLACED_FILTERS)


class TimelineFilterForm(forms.Form):
    """What the reader sees; EventFilterSet does the filtering and the checking.

    Its fields are the filters that declare a place on the page (timeline.filters.Place).
    A named filter (actor, platform, tag) is a text input offering the most used names.
    """

    def __init__(self, *args, lists, **kwargs):
        super().__init__(*args, **kwargs)
        self.suggestions = []
        for name, place in PLACED_FILTERS:
            if place.choices or place.options:
                choices = list(lists[name] if place.choices else place.options)
                if name not in DEFAULTS:
                    choices.insert(0, ("", gettext("Any")))
                self.fields[name] = forms.ChoiceField(
                    widget=QuickSelect, label=place.label, required=False, choices=choices
                )
                continue
            attrs = {"placeholder": place.placeholder} if place.placeholder else {}
            if place.named:
                attrs |= {"list": f"{name}-names", "autocomplete": "off"}
                self.suggestions.append((f"{name}-names", lists["popular"][name]))
            self.fields[name] = forms.CharField(
                label=place.label, required=False, widget=QuickTextInput(attrs=attrs)
            )
        self.fields["ordering"] = forms.ChoiceField(
            widget=QuickSelect, label=_("Sort"), required=False, choices=PAGE_ORDERINGS
        )


# Filters whose absence means a value of their own: no "Any" in their list, and no chip.
DEFAULTS = {"date_match": "overlaps", "ordering": DEFAULT_PAGE_ORDERING}
NAMED = {
    name: EventFilterSet.base_filters[name].references[0]
    for name, place in PLACED_FILTERS
    if place.named
}
SUGGESTED_NAMES = 30
DERIVED_SECONDS = 3600  # filter lists and counts: keyed by the data version, never stale
CLOSEST_NAMES = 3


def filter_choices(version):
    """Return the choices of the reader's filters: what published events refer to, the most
    used names of each named filter, and (read when a request first needs them) the names
    and aliases a reader may type.

    Kept in the cache under the data version and the language, so never stale, even where
    the response cache is off: every page shows the same lists; at a million events they
    cost a second.
    """
    language = translation.get_language()  # the lists hold names in it (countries)
    lists = cache.get_or_set(
        f"timeline:filter-choices:{version}:{language}", _filter_choices, DERIVED_SECONDS
    )
    return lists | {"named": PublicNames(version)}


def _filter_choices():
    codes = stats.published_countries()
    return {
        "category": list(EventCategory.objects.public().values_list("slug", "name")),
        "type": [
            (slug, gettext("%(category)s: %(type)s") % {"category": category, "type": name})
            for slug, name, category in EventType.objects.public().values_list(
                "slug", "name", "category__name"
            )
        ],
        "country": [
            *sorted(((code, countries.name(code)) for code in codes), key=lambda c: c[1]),
            ("global", gettext("Global")),
        ],
        "popular": {name: _most_used(name, model) for name, model in NAMED.items()},
    }


class PublicNames:
    """The public names of a named filter's references (actors, platforms, tags): what a
    reader may type, and how each slug is shown.

    Read only by a request that names one (most pages name none), then kept under the data
    version: checking which of 2,000 actors a published event names costs 40 ms at a
    million events, the largest part of the first page after every change.
    """

    def __init__(self, version):
        self.version = version
        self.read = {}

    def typed(self, name):
        """Return {what a reader may type, casefolded: the slugs it names}."""
        return self._lists(name)["typed"]

    def labels(self, name):
        """Return {slug: name}."""
        return self._lists(name)["labels"]

    def _lists(self, name):
        if name not in self.read:
            self.read[name] = cache.get_or_set(
                f"timeline:public-names:{self.version}:{name}",
                lambda: _public_names(NAMED[name]),
                DERIVED_SECONDS,
            )
        return self.read[name]


def _public_names(model):
    public = dict(model.objects.public().values_list("slug", "name"))
    typed = {}
    if hasattr(model, "aliases"):
        aliases = model.aliases.rel.related_model.objects.filter(
            **{f"{model._meta.model_name}__slug__in": public}
        ).values_list(f"{model._meta.model_name}__slug", "name")
        for slug, alias in aliases:
            typed.setdefault(alias.casefold(), set()).add(slug)
    for slug, shown in public.items():
        typed.setdefault(shown.casefold(), set()).add(slug)
        typed.setdefault(slug.casefold(), set()).add(slug)
    return {"typed": typed, "labels": public}


def _most_used(name, model):
    """Return the names of the public references most links use (drafts' too: a suggestion
    only), ranked from their counts, which the database's triggers keep (NameUse)."""
    ranked = (
        NameUse.objects.filter(kind=name, links__gt=0)
        .order_by("-links", "named_id")
        .values_list("named_id", flat=True)
    )
    ids = list(ranked[: SUGGESTED_NAMES * 2])
    names = dict(model.objects.filter(pk__in=ids).public().values_list("pk", "name"))
    shown = [names[pk] for pk in ids if pk in names]
    return sorted(set(shown[:SUGGESTED_NAMES]), key=str.casefold)


def read_names(params, lists):
    """Return the request's parameters with each named filter's names read as slugs, and
    the errors of names that match nothing, with the closest names as links.

    A reader types "WeChat", "微信" or "wechat"; the API, the downloads and the page's own
    links carry the slug. Commas separate several names (any of them matches).
    """
    params = params.copy()
    errors, closest = {}, []
    for name in NAMED:
        typed = [value for value in params.getlist(name) if value.strip()]
        if not typed:
            continue
        known = lists["named"].typed(name)
        slugs, unknown = [], []
        for value in typed:
            whole = known.get(value.strip().casefold())
            pieces = (
                [whole] if whole else [known.get(p.strip().casefold()) for p in value.split(",")]
            )
            if all(pieces):
                slugs += [slug for piece in pieces for slug in sorted(piece)]
            else:
                unknown.append(value.strip())
        if unknown:
            label = str(PLACES[name].label).lower()
            errors[name] = [
                gettext("No published event names a %(kind)s called “%(name)s”.")
                % {"kind": label, "name": value[:60]}
                for value in unknown
            ]
            for value in unknown:
                for match in difflib.get_close_matches(
                    value.casefold(), known, n=CLOSEST_NAMES, cutoff=0.5
                ):
                    for slug in sorted(known[match]):
                        narrowed = params.copy()
                        narrowed.setlist(name, [slug])
                        narrowed.pop("cursor", None)
                        closest.append(
                            {
                                "label": lists["named"].labels(name)[slug],
                                "kind": label,
                                "url": f"?{narrowed.urlencode()}",
                            }
                        )
        params.setlist(name, list(dict.fromkeys(slugs)))
    return params, errors, _unique(closest)


def _unique(links):
    seen, kept = set(), []
    for link in links:
        if link["url"] not in seen:
            seen.add(link["url"])
            kept.append(link)
    return kept


def _active(query, lists):
    """Return the chips of the active filters (each a link that removes it), and the list's
    heading in words: "Events on WeChat in China in 2014"."""
    home = reverse("timeline:home")
    chips = []
    for name, values in query.items():
        if name not in PLACES or DEFAULTS.get(name) in values:
            continue
        for value in values:
            rest = {
                key: [v for v in vals if key != name or v != value] for key, vals in query.items()
            }
            rest = {key: vals for key, vals in rest.items() if vals}
            chips.append(
                {
                    "label": PLACES[name].label,
                    "value": _shown(name, value, lists),
                    "url": f"{home}?{urlencode(rest, doseq=True)}" if rest else home,
                }
            )
    return chips, _heading(query, lists)


def _shown(name, value, lists):
    if name in NAMED:
        return lists["named"].labels(name).get(value, value)
    if name in ("type", "category", "country"):
        return dict(lists[name]).get(value, value)
    options = dict(PLACES[name].options)
    return options.get(value, value)


# The conditions a heading or a link names, in words: "on WeChat", "in 2014".
CONDITIONS = {
    "q": _("matching “%(names)s”"),
    "type": _("of type %(names)s"),
    "category": _("in the category %(names)s"),
    "platform": _("on %(names)s"),
    "actor": _("involving %(names)s"),
    "tag": _("tagged %(names)s"),
    "country": _("in %(names)s"),
    "verification": _("(%(names)s)"),
}
DATE_CONDITIONS = {
    ("overlaps", "in"): _("in %(start)s"),
    ("overlaps", "range"): _("from %(start)s to %(end)s"),
    ("overlaps", "since"): _("since %(start)s"),
    ("overlaps", "until"): _("until %(end)s"),
    ("within", "in"): _("certainly in %(start)s"),
    ("within", "range"): _("certainly between %(start)s and %(end)s"),
    ("within", "since"): _("certainly since %(start)s"),
    ("within", "until"): _("certainly until %(end)s"),
    ("begins", "in"): _("beginning in %(start)s"),
    ("begins", "range"): _("beginning between %(start)s and %(end)s"),
    ("begins", "since"): _("beginning since %(start)s"),
    ("begins", "until"): _("beginning by %(end)s"),
}


def condition(name, names):
    """Return one condition in words: "on WeChat or Weibo", "worldwide"."""
    if name == "country" and names == ["global"]:
        return gettext("worldwide")
    joined = pgettext("between names, any of which matches", " or ").join(names)
    return CONDITIONS[name] % {"names": joined}


def described(conditions):
    """Return events described by some conditions: "Events on WeChat in 2014"."""
    joiner = pgettext("between the conditions of a heading", " ")
    return gettext("Events %(conditions)s") % {"conditions": joiner.join(conditions)}


def _heading(query, lists):
    parts = []
    for name in ("q", "type", "category", "platform", "actor", "tag", "country"):
        if query.get(name) and not (name == "category" and query.get("type")):
            values = query[name]
            if name == "country" and values == ["global"]:
                names = values  # worldwide
            else:
                names = [value if name == "q" else _shown(name, value, lists) for value in values]
            parts.append(condition(name, names))
    start, end = (query.get(key, [None])[0] for key in ("date_from", "date_to"))
    match = query.get("date_match", ["overlaps"])[0]
    span = ("in" if start == end else "range") if start and end else "since" if start else "until"
    if start or end:
        parts.append(DATE_CONDITIONS[match, span] % {"start": start, "end": end})
    if query.get("verification"):
        names = [str(_shown("verification", v, lists)).lower() for v in query["verification"]]
        parts.append(condition("verification", names))
    return described(parts)


@gzip_page  # the map's outlines are most of the page, and compress to a quarter
@cache_public_page
def timeline_page(request):
    lists = filter_choices(caching.data_version(request))
    params, name_errors, closest = read_names(request.GET, lists)
    query = {name: params.getlist(name) for name in FILTER_FIELDS if params.get(name)}
    ordering = params.get("ordering") or DEFAULT_PAGE_ORDERING
    params["ordering"] = ordering
    filterset = EventFilterSet(data=params, queryset=_listed_events())
    form = TimelineFilterForm(
        initial={name: values[0] for name, values in query.items()} | {"ordering": ordering},
        lists=lists,
    )
    for name in NAMED:  # the form shows names, not slugs
        if query.get(name):
            form.initial[name] = ", ".join(_shown(name, slug, lists) for slug in query[name])
        elif request.GET.get(name):
            form.initial[name] = request.GET.get(name)
    valid = not name_errors and filterset.is_valid()
    # The count is the chart's: events per year add up to every event, and the page counts
    # them anyway (an exact COUNT of a million rows costs as much again).
    counted = valid and _aggregates(request, filterset, query)
    count = valid and sum(row["count"] for row in counted["years"])
    listing = valid and _listing(
        request, filterset.sort_order, lambda cursor: filterset.paged(cursor, PAGE_SIZE, count)
    )
    if not listing or listing.get("error"):
        errors = name_errors or (
            filterset.errors if not listing else {"cursor": [listing["error"]]}
        )
        context = {"form": form, "errors": errors, "closest": closest, "query": query}
        return render(request, "timeline/timeline.html", context, status=400)
    encoded = urlencode(query, doseq=True)
    # Downloads and the API keep the order chosen here (the API's own default is the oldest
    # first); this page's links name it only when it is not the page's default. The feed is
    # always newest first.
    ordered = urlencode(query | {"ordering": [filterset.sort_order]}, doseq=True)
    if filterset.sort_order != DEFAULT_PAGE_ORDERING:
        query = query | {"ordering": [filterset.sort_order]}
    years = counted["years"]
    timelinejs_url = f"{reverse('api:event-list')}?{ordered}&format=timelinejs"
    chips, heading = _active(query, lists)
    context = {
        "form": form,
        "query": query,
        "chips": chips,
        "heading": heading,
        "count": count,
        "chart": _chart(years, counted["months"], query),
        "places": _places(counted["countries"], query),
        "csv_url": f"{reverse('api:event-list')}?{ordered}&format=csv",
        "timelinejs_url": timelinejs_url,
        "timelinejs_embed": exports.timelinejs_embed(settings.SITE_URL + timelinejs_url),
        "api_url": f"{reverse('api:event-list')}?{ordered}",
        "feed_url": f"{reverse('timeline:events-feed')}{'?' if encoded else ''}{encoded}",
        "feed_title": gettext("New censorship events like these")
        if encoded
        else gettext("New censorship events"),
        "sort_order": filterset.sort_order,
        "years": _year_links(years, filterset.sort_order, query, listing["groups"]),
        **listing,
    }
    return render(request, "timeline/timeline.html", context)


def _listing(request, ordering, events):
    """Return one keyset page of events in this order (events(cursor) gives those to page
    through), headed by year, with the links to the pages before and after it that keep the
    rest of the query; or the error of a cursor the site never gave out."""
    raw = request.GET.get("cursor")
    try:
        cursor = pagination.decode_cursor(raw, ordering) if raw else None
    except pagination.InvalidCursor as error:
        return {"error": str(error)}
    page = pagination.keyset_page(events(cursor), ordering, cursor, PAGE_SIZE, fetch=_page_events)
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
        .annotate(source_count=Coalesce(Subquery(sources), 0))
    )


def _page_events(page, _sort_field):
    """Return the page's events in its order, its ids read first: alone, they come from an
    index in the list's order (migration 0022), where the whole rows made the planner sort
    every match (a year oldest first: 0.2 ms against 446 ms at a million events)."""
    ids = list(page.values_list("pk", flat=True))
    found = _listed_events().in_bulk(ids)
    events = [found[pk] for pk in ids if pk in found]
    _name_platforms_and_actors(events)
    return events


def _name_platforms_and_actors(events):
    """Give each listed event the platforms (slug, name) and actors (slug, name, role) the
    list names, in the order it names them.

    Read as plain values: prefetching made a model instance of each platform, role and
    actor (some 450 a page) and a related manager for each event, 9 ms of a page's Python.
    """
    listed = {event.pk: event for event in events}
    for event in events:
        event.platform_names, event.actor_names = [], []
    ids = list(listed)
    platforms = Event.platforms.through.objects.filter(event__in=ids)
    for event, slug, name in platforms.order_by("platform__name").values_list(
        "event", "platform__slug", "platform__name"
    ):
        listed[event].platform_names.append((slug, name))
    roles = EventActor.objects.filter(event__in=ids).order_by("event", "role", "actor__name")
    for event, role, slug, name in roles.values_list("event", "role", "actor__slug", "actor__name"):
        listed[event].actor_names.append((slug, name, role))


def _grouped(events, sort_order):
    """Head the page's events by the year of their earliest possible day, the key that orders
    them and counts the chart, so a heading never repeats; by recency, under one heading."""
    if sort_order in ("updated", "-updated"):
        title = (
            gettext("Most recently updated first")
            if sort_order == "-updated"
            else gettext("Updated longest ago first")
        )
        return [(title, list(events))] if events else []
    return [
        (str(year), list(items))
        for year, items in groupby(events, key=lambda e: e.date_earliest.year)
    ]


def _chart(years, months, query):
    """Bars of events per year, or per month over a few years, with empty periods shown."""
    if not years:
        return None
    first, last = int(years[0]["key"]), int(years[-1]["key"])
    if last - first < CHART_MONTHS_UP_TO_YEARS:
        short = pgettext("a month on the chart, as a date format", "M Y")
        counts = {row["key"]: row["count"] for row in months}
        periods = [
            (f"{year:04d}-{month:02d}", dateformat.format(datetime.date(year, month, 1), short))
            for year in range(first, last + 1)
            for month in range(1, 13)
        ]
        unit = "month"
    else:
        counts = {row["key"]: row["count"] for row in years}
        periods = [(str(year), str(year)) for year in range(first, last + 1)]
        unit = "year"
    return _bars(periods, counts, unit, query)


def _aggregates(request, filterset, query):
    """Return the events per day and per country that the chart, the count and the map
    show: kept in the cache under the data version, the language and the filters.

    They do not depend on the page of the list or its order, so every page of a filtered
    list after the first, and every order, reuses them; over a million events they are most
    of what a page costs (two passes over every match).
    """
    filters = urlencode(sorted((k, v) for k, v in query.items() if k != "ordering"), doseq=True)
    key = hashlib.sha256(filters.encode()).hexdigest()[:32]
    version = caching.data_version(request)
    return cache.get_or_set(
        f"timeline:aggregates:{version}:{translation.get_language()}:{key}",
        lambda: _counted(filterset),
        DERIVED_SECONDS,
    )


def _counted(filterset):
    days, countries = stats.days_and_places(filterset)
    return {
        "years": stats.by_period(days, with_month=False),
        "months": stats.by_period(days, with_month=True),
        "countries": countries,
    }


def _places(rows, query):
    """Events per country: the map, and the same counts as a list of links (each country's
    link keeps the other filters)."""
    if not rows:
        return None

    home = reverse("timeline:home")

    def link(code):
        return f"{home}?{urlencode({**query, 'country': [code]}, doseq=True)}"

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
                "alternate": (index // every) % 2 == 1,  # folded away on a narrow screen
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
        raise Http404(gettext("No event has this id."))
    queryset = Event.objects.filter(
        status__in=[EventStatus.PUBLISHED, EventStatus.RETRACTED]
    ).for_api()
    event = get_object_or_404(queryset, public_id=public_id)
    if event.status == EventStatus.RETRACTED:
        return render(request, "timeline/event_retracted.html", {"event": event}, status=410)
    return render(request, "timeline/event_detail.html", _event_context(event))


@never_cache
def event_preview(request, public_id):
    """The public page of an event not yet published (a draft, or one in review), as it will
    read once published: for signed-in staff who may see events, never cached or indexed.
    A published event's preview is its page."""
    if not (request.user.is_active and request.user.is_staff):
        return redirect_to_login(request.get_full_path(), reverse("admin:login"))
    if not request.user.has_perm("events.view_event"):
        raise PermissionDenied
    event = get_object_or_404(Event.objects.for_api(), public_id=public_id)
    if event.status in (EventStatus.PUBLISHED, EventStatus.RETRACTED):
        return redirect("timeline:event-page", public_id=event.public_id)
    # Cited as it will be if published today: the copy in memory only, never saved.
    event.first_published_at = event.first_published_at or timezone.now()
    context = _event_context(event) | {"preview": True}
    response = render(request, "timeline/event_detail.html", context)
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


def _event_context(event):
    roles = groupby(
        sorted(event.actor_roles.all(), key=lambda role: (role.role, role.id)),
        key=lambda role: role.get_role_display(),
    )
    return {
        "event": event,
        "roles": [(label, list(items)) for label, items in roles],
        "sources": _sources_with_quotes(event),
        "alike": _events_alike(event),
        "citation": citing.event_citation(
            event, accessed=timezone.now().date(), release=citing.release_holding(event)
        ),
    }


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
        slugs = ",".join(platform.slug for platform in platforms)
        facets.append(("platform", slugs, [platform.name for platform in platforms]))
    if event.is_global:
        facets.append(("country", "global", ["global"]))
    elif event.country:
        facets.append(("country", event.country.code, [event.country.name]))
    if event.event_type_id:
        facets.append(("type", event.event_type.slug, [event.event_type.name]))
    home = reverse("timeline:home")
    links = [
        {"url": f"{home}?{urlencode({name: value})}", "label": described([condition(name, names)])}
        for name, value, names in facets
    ]
    if len(facets) > 1:
        query = urlencode({name: value for name, value, _names in facets})
        label = described(
            [
                pgettext("between conditions in a list", ", ").join(
                    condition(name, names) for name, _value, names in facets
                )
            ]
        )
        links.insert(0, {"url": f"{home}?{query}", "label": label})
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
    listing = _listing(request, DEFAULT_PAGE_ORDERING, lambda cursor: events)
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
        "feed_title": gettext("New censorship events: %(name)s") % {"name": subject.name},
    }
    return render(request, "timeline/subject.html", context)


def about_page(request):
    return render(request, "timeline/about.html")
