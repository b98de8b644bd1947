"""Counts of published events by one dimension: the API's stats and the timeline's chart."""

from django.db.models import Count, F
from django.db.models.functions import ExtractMonth, ExtractYear
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


def grouped(events, group_by):
    """Return [{key, label, count}] for a filtered QuerySet of published events."""
    return STATS[group_by](events)


def _stats_by_date(events, with_month):
    parts = {"year": ExtractYear("date_earliest")}
    if with_month:
        parts["month"] = ExtractMonth("date_earliest")
    grouped = events.annotate(**parts).values(*parts).annotate(count=Count("pk")).order_by(*parts)
    rows = []
    for row in grouped:
        if with_month:
            key = f"{row['year']:04d}-{row['month']:02d}"
            label = f"{MONTHS[row['month']]} {row['year']}"
        else:
            key = label = str(row["year"])
        rows.append({"key": key, "label": label, "count": row["count"]})
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
        .annotate(count=Count("pk"))
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
