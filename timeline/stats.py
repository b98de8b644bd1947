"""Counts of published events by one dimension: the API's stats and the timeline's chart."""

from django.db.models import Count, F
from django_countries import countries

from events.choices import Role, Verification

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


def grouped(events, group_by):
    """Return [{key, label, count}] for a filtered QuerySet of published events."""
    return STATS[group_by](events)


def total(events, group_by, rows):
    """Return how many events the stats cover, without a second pass where one is not needed.

    An event falls in exactly one month, year, type, category, country or verification, so
    there the groups add up to the total; platforms, actors and roles may hold several or none.
    """
    if group_by in ONE_GROUP_PER_EVENT:
        return sum(row["count"] for row in rows)
    return events.count()


def _stats_by_date(events, with_month):
    """Count by the year or month of the earliest possible day.

    Counted per day by the database and folded into months here: grouping on the bare column
    reads the (status, date_earliest) index in order, where EXTRACT per row costs more.
    """
    per_day = events.values("date_earliest").annotate(count=Count("pk")).order_by("date_earliest")
    counts = {}
    for row in per_day:
        day = row["date_earliest"]
        key = (day.year, day.month) if with_month else (day.year,)
        counts[key] = counts.get(key, 0) + row["count"]
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


def _stats_by_country(events):
    values = (
        events.values("country", "is_global")
        # count(*), not count(id): the (status, country, is_global) index then answers alone.
        .annotate(count=Count("*"))
        .order_by("-count", "country")
    )
    return [
        {
            "key": "global" if row["is_global"] else (row["country"] or None),
            "label": "Global"
            if row["is_global"]
            else (countries.name(row["country"]) if row["country"] else "None"),
            "count": row["count"],
        }
        for row in values
    ]


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
    "type": _stats_by("event_type__slug", "event_type__name"),
    "category": _stats_by("event_type__category__slug", "event_type__category__name"),
    "country": _stats_by_country,
    "platform": _stats_by("platforms__slug", "platforms__name"),
    "actor": _stats_by("actor_roles__actor__slug", "actor_roles__actor__name"),
    "role": _stats_by("actor_roles__role", "actor_roles__role", dict(Role.choices)),
    "verification": _stats_by("verification", "verification", dict(Verification.choices)),
}
