"""Counts of published events by one dimension: the API's stats and the timeline's chart."""

from collections.abc import Callable
from operator import methodcaller
from typing import NamedTuple

from django.db import connections
from django.db.models import Count, F, Sum
from django.utils.translation import gettext
from django_countries import countries

from events.choices import EventStatus, Role, Verification
from events.models import (
    Actor,
    EventCategory,
    EventType,
    Platform,
    PublishedTypeMonth,
    PublishedTypePlace,
)

GROUPS = (
    "month",
    "year",
    "type",
    "category",
    "country",
    "platform",
    "actor",
    "role",
    "verification",
)

ONE_GROUP_PER_EVENT = {"month", "year", "type", "category", "country", "verification"}


def grouped(filterset, group_by):
    """Return [{key, label, count}] for the published events of a filterset
    (filters.EventFilterSet): from the first source of counts (SOURCES) that keeps the
    grouping and holds the filters' events, or counted from the events themselves."""
    source, rows = _source(filterset, group_by)
    return source.groupings[group_by](rows) if source else STATS[group_by](filterset.qs)


def days_and_places(filterset):
    """Return what per_day_and_country returns (the timeline's chart and map) for the
    published events of a filterset, from the first source of counts that holds the
    filters' events (SOURCES): a few thousand rows of a tally or the words' rows of a
    search, not each match's row; or counted from the events themselves."""
    source, rows = _source(filterset)
    return source.days_and_places(rows) if source else per_day_and_country(filterset.qs)


def total(filterset, group_by, rows):
    """Return how many events the stats cover, without a second pass where one is not needed.

    An event falls in exactly one month, year, type, category, country or verification, so
    there the groups add up to the total; platforms, actors and roles may hold several or none.
    """
    if group_by in ONE_GROUP_PER_EVENT:
        return sum(row["count"] for row in rows)
    return count(filterset)


def count(filterset):
    """Return how many published events a filterset finds: from the first source of counts
    that holds them (SOURCES), as the chart counts them, or by counting the events."""
    source, rows = _source(filterset)
    return source.count(rows) if source else filterset.qs.count()


def _source(filterset, group_by=None):
    """Return the first source of counts (SOURCES) that holds the filterset's events, and
    keeps the grouping if one is given, with the rows the filterset finds in it; or (None,
    None) where the events must be counted themselves."""
    for source in SOURCES:
        if group_by is None or group_by in source.groupings:
            rows = source.rows_of(filterset)
            if rows is not None:
                return source, rows
    return None, None


def _stats_by_date(events, with_month):
    """Count by the year or month of the earliest possible day."""
    return by_period(per_day(events), with_month)


def per_day(events):
    """Return [(day, count)] of the events' earliest possible days, in date order.

    Counted per day by the database and folded into months or years by by_period: grouping
    on the bare column reads the (status, date_earliest) index in order, where EXTRACT per
    row costs more; and one count serves both a yearly and a monthly view.
    """
    counted = events.values("date_earliest").annotate(count=Count("*")).order_by("date_earliest")
    return [(row["date_earliest"], row["count"]) for row in counted]


def by_period(days, with_month):
    """Fold per_day's counts into [{key, label, count}] by month or by year."""
    counts = {}
    for day, count in days:
        key = (day.year, day.month) if with_month else (day.year,)
        counts[key] = counts.get(key, 0) + count
    rows = []
    for key, count in counts.items():  # in date order: the days came in order
        if with_month:
            year, month = key
            rows.append({"key": f"{year:04d}-{month:02d}", "label": f"{MONTHS[month]} {year}"})
        else:
            rows.append({"key": str(key[0]), "label": str(key[0])})
        rows[-1]["count"] = count
    return rows


def _stats_by(key_field, label_field, labels=None):
    def grouped(events):
        values = (
            events.values(key=F(key_field), name=F(label_field))
            .annotate(count=Count("pk", distinct=True))
            .order_by("-count", "key")
        )
        return [
            {
                "key": row["key"] or None,
                "label": (labels or {}).get(row["key"], row["name"]) or "None",
                "count": row["count"],
            }
            for row in values
        ]

    return grouped


def _stats_by_row(lookup, model, distinct=False):
    """Count by a related row: grouped on its id, then labelled with its slug and name.

    Grouping on the id, not on slug and name, spares the database a sort of text over every
    link (675,000 for actors at 300,000 events): 2.2 s down to 1.2 s. distinct where an event
    may reach the same row twice (an actor in two roles); a foreign key or a plain
    many-to-many link reaches it once, and counting without DISTINCT needs no sort at all.
    """

    def grouped(events):
        counted = (
            events.values(row=F(lookup)).annotate(count=Count("pk", distinct=distinct)).order_by()
        )
        counts = {row["row"]: row["count"] for row in counted}
        named = model.objects.filter(pk__in=[pk for pk in counts if pk is not None])
        names = {pk: (slug, name) for pk, slug, name in named.values_list("pk", "slug", "name")}
        # A row deleted between the two queries (a merge, say) is left out, not a KeyError.
        rows = [
            {"key": names[pk][0], "label": names[pk][1], "count": count}
            if pk is not None
            else {"key": None, "label": "None", "count": count}
            for pk, count in counts.items()
            if pk is None or pk in names
        ]
        # Largest first; ties by key, with "None" last on every database.
        return sorted(rows, key=lambda row: (-row["count"], row["key"] is None, row["key"] or ""))

    return grouped


def per_day_and_country(events):
    """Return per_day(events) and the events per country: the timeline's chart and map.

    PostgreSQL counts both in one pass over the matches (GROUPING SETS): for a filter no
    one has asked for since the data changed, the counts are most of what the page costs,
    and the second pass was half of them (2010 at a million events: 45 ms, not 88 ms).
    """
    if connections[events.db].vendor != "postgresql":
        return per_day(events), _stats_by_country(events)
    return _days_and_places(events, "date_earliest", "COUNT(*)", ())


def tallied(rows):
    """Return what per_day_and_country returns, from rows of the published events' tally
    (models.PublishedTally, narrowed by EventFilterSet.tally): the days are the first of
    each month, which by_period folds alike. A sum over a few thousand rows, where counting
    the events reads every match; in one pass on PostgreSQL, as the events are."""
    if connections[rows.db].vendor != "postgresql":
        return _tallied_months(rows), _tallied_countries(rows)
    return _days_and_places(rows, "month", "SUM(events)", ("events",))


def tallied_by_type(types):
    """Return what per_day_and_country returns, for the published events of some types (a
    QuerySet of EventType), from the tallies by type: two sums of a few hundred rows each."""
    return _type_months(types), _tallied_countries(_type_places(types))


def _type_months(types):
    return _tallied_months(_type_month_rows(types))


def _type_month_rows(types):
    return PublishedTypeMonth.objects.filter(event_type__in=types)


def _type_places(types):
    return PublishedTypePlace.objects.filter(event_type__in=types)


def _days_and_places(rows, day, count, read):
    """Count rows per day and per place in one pass (GROUPING SETS); read names the
    columns the count reads beside the day and the place."""
    fields = (day, "country", "is_global", *read)
    sql, params = rows.order_by().values(*fields).query.sql_with_params()
    return _matched_days_and_places(sql, params, rows.db, day, count)


def _matched_days_and_places(sql, params, using, day, count):
    """Count the rows that a query selects (day, country, is_global and what count reads)
    per day and per place, as _days_and_places."""
    sql = (
        f"SELECT GROUPING({day}), {day}, country, is_global, {count} "
        f"FROM ({sql}) AS matched "
        f"GROUP BY GROUPING SETS (({day}), (country, is_global)) HAVING {count} > 0"
    )
    with connections[using].cursor() as cursor:
        cursor.execute(sql, params)
        return _days_and_places_read(cursor.fetchall())


def _days_and_places_read(counted):
    """Return (days, places) from GROUPING SETS rows: (by place, day, country, is_global, n)."""
    days = sorted((when, n) for by_place, when, _, _, n in counted if not by_place)
    places = sorted(
        ((country, is_global, n) for by_place, _, country, is_global, n in counted if by_place),
        key=lambda place: (-place[2], place[0]),
    )
    return days, [_country_row(*place) for place in places]


def word_days_and_places(searched):
    """Return what per_day_and_country returns for the published events a search finds,
    from the published words' rows each of its words begins (EventFilterSet.published_words,
    which narrows them to the filter's days and countries): the events all of them hold,
    counted once each (filters.PublishedWords.matched). An index-only scan, where counting
    the events reads each match's row (q=bloggers, 31,465 matches at a million events: 190
    ms from the events, 34 ms here; bench.words)."""
    sql, params = searched.matched(("event_id", "date_earliest", "country", "is_global"))
    return _matched_days_and_places(sql, params, searched.db, "date_earliest", "COUNT(*)")


def span_days_and_places(spans):
    """Return what per_day_and_country returns for the published events that may have
    touched a range, read by the width of their spans (events.querysets.PublishedSpans)
    from one B-tree that carries the counted columns."""
    sql, params = spans.selected(("date_earliest", "country", "is_global")).query.sql_with_params()
    return _matched_days_and_places(sql, params, spans.events.db, "date_earliest", "COUNT(*)")


# The countries of published events, found by skipping along the (status, country) index
# from one country to the next: 62 probes of the index, 2 ms at a million events, where
# reading every country (of the events, or of the tally's 79,000 rows) took 20 to 60 ms.
PUBLISHED_COUNTRIES = """
WITH RECURSIVE found(country) AS (
    SELECT MIN(country) FROM events_event WHERE status = %s AND country > ''
    UNION ALL
    SELECT (
        SELECT MIN(later.country) FROM events_event later
        WHERE later.status = %s AND later.country > found.country
    )
    FROM found WHERE found.country IS NOT NULL
)
SELECT country FROM found WHERE country IS NOT NULL
"""


def published_countries(using="default"):
    """Return the codes of the countries published events are in, in code order."""
    with connections[using].cursor() as cursor:
        cursor.execute(PUBLISHED_COUNTRIES, [EventStatus.PUBLISHED] * 2)
        return [country for (country,) in cursor.fetchall()]


def _tallied_months(rows):
    months = rows.values("month").annotate(count=Sum("events")).filter(count__gt=0)
    return [(row["month"], row["count"]) for row in months.order_by("month")]


def _tallied_countries(rows):
    places = (
        rows.values("country", "is_global")
        .annotate(count=Sum("events"))
        .filter(count__gt=0)
        .order_by("-count", "country")
    )
    return [_country_row(row["country"], row["is_global"], row["count"]) for row in places]


def _tallied_verification(rows):
    labels = dict(Verification.choices)
    counted = (
        rows.values("verification")
        .annotate(count=Sum("events"))
        .filter(count__gt=0)
        .order_by("-count", "verification")
    )
    return [
        {"key": row["verification"], "label": labels[row["verification"]], "count": row["count"]}
        for row in counted
    ]


def _stats_by_country(events):
    values = (
        events.values("country", "is_global")
        # count(*), not count(id): the (status, country, is_global) index then answers alone.
        .annotate(count=Count("*"))
        .order_by("-count", "country")
    )
    return [_country_row(row["country"], row["is_global"], row["count"]) for row in values]


def _country_row(country, is_global, count):
    return {
        "key": "global" if is_global else (country or None),
        "label": gettext("Global")  # the API is English; a page says it in its language
        if is_global
        else (countries.name(country) if country else "None"),
        "count": count,
    }


MONTHS = [
    "",
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]
STATS = {
    "month": lambda events: _stats_by_date(events, with_month=True),
    "year": lambda events: _stats_by_date(events, with_month=False),
    "type": _stats_by_row("event_type", EventType),
    "category": _stats_by_row("event_type__category", EventCategory),
    "country": _stats_by_country,
    "platform": _stats_by_row("platforms", Platform),
    "actor": _stats_by_row("actor_roles__actor", Actor, distinct=True),
    "role": _stats_by("actor_roles__role", "actor_roles__role", dict(Role.choices)),
    "verification": _stats_by("verification", "verification", dict(Verification.choices)),
}
# The groupings the tally keeps, read from it (see grouped).
TALLIED = {
    "month": lambda rows: by_period(_tallied_months(rows), with_month=True),
    "year": lambda rows: by_period(_tallied_months(rows), with_month=False),
    "country": _tallied_countries,
    "verification": _tallied_verification,
}
# The groupings the tallies by type keep, for the events of some types (see grouped).
TALLIED_BY_TYPE = {
    "month": lambda types: by_period(_type_months(types), with_month=True),
    "year": lambda types: by_period(_type_months(types), with_month=False),
    "country": lambda types: _tallied_countries(_type_places(types)),
}
# The groupings the published events' words keep, read from them (see grouped).
BY_WORD = {
    "month": lambda words: by_period(word_days_and_places(words)[0], with_month=True),
    "year": lambda words: by_period(word_days_and_places(words)[0], with_month=False),
    "country": lambda words: word_days_and_places(words)[1],
}
# The groupings read from the published events that may have touched a range (see grouped).
BY_SPAN = {
    "month": lambda spans: by_period(span_days_and_places(spans)[0], with_month=True),
    "year": lambda spans: by_period(span_days_and_places(spans)[0], with_month=False),
    "country": lambda spans: span_days_and_places(spans)[1],
}


class Source(NamedTuple):
    """A source of counts: the rows a filterset finds in it (None where one of its filters
    is not of what the source keeps), and what is read from them: the groupings it keeps,
    the chart's days and places, and how many events they hold."""

    rows_of: Callable
    groupings: dict
    days_and_places: Callable
    count: Callable


def _summed(rows):
    return rows.aggregate(events=Sum("events"))["events"] or 0


# Where counts come from, in the order tried.
SOURCES = (
    Source(methodcaller("tally"), TALLIED, tallied, _summed),
    Source(
        methodcaller("tallied_types"),
        TALLIED_BY_TYPE,
        tallied_by_type,
        lambda types: _summed(_type_month_rows(types)),
    ),
    Source(
        methodcaller("published_words"),
        BY_WORD,
        word_days_and_places,
        methodcaller("count"),
    ),
    Source(methodcaller("spans"), BY_SPAN, span_days_and_places, methodcaller("count")),
)
