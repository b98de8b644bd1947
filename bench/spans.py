"""A year's and a month's counts and lists, read by the width of the events' spans against
the overlap of their spans, on the bench's PostgreSQL database (a million events).

    .venv/bin/python -m bench.spans              # BENCH_DATABASE, or timeline_bench
    .venv/bin/python -m bench.spans --repeat 15

For each year and month the pages bench asks for (bench.pages, first views): the chart's
days and the map's places counted from the overlap of the spans (the GiST index of
migration 0016, which the events' own GROUPING SETS query reads) and from the width index
(migration 0029, events.querysets.PublishedSpans), which must give the same counts. Then
the first page of each year most recently updated first, walked along the update index
(migration 0023) and as EventFilterSet.paged finds it (the same ids both ways). Run
`bin/bench` first (it migrates)."""

import statistics
import urllib.parse

from bench.inprocess import main, timed

YEARS = [{"date_from": str(year), "date_to": str(year)} for year in range(2000, 2020)]
MONTHS = [
    {"date_from": f"{year}-{month:02d}", "date_to": f"{year}-{month:02d}"}
    for year, month in [(2016, m) for m in range(1, 13)] + [(2017, m) for m in range(1, 9)]
]
BY_UPDATE = [{"date_from": str(y), "date_to": str(y)} for y in range(2008, 2014)] + [
    {"date_from": "2016-03", "date_to": "2016-03"},
    {"date_from": "2024", "date_to": "2024"},
]


def measure(repeat):
    import django

    django.setup()
    from django.http import QueryDict

    from events.models import Event
    from timeline import stats
    from timeline.filters import EventFilterSet

    published = Event.objects.published()

    def filters(params):
        filterset = EventFilterSet(
            data=QueryDict(urllib.parse.urlencode(params)), queryset=published
        )
        assert filterset.is_valid(), filterset.errors
        return filterset

    print(f"{Event.objects.count():,} events; p50 of {repeat} runs, in process")
    for kind, ranges in (("a year", YEARS), ("a month", MONTHS)):
        overlap, width = [], []
        for params in ranges:
            filterset = filters(params)
            events, spans = filterset.qs, filterset.spans()
            counted = stats.span_days_and_places(spans)
            if counted != stats.per_day_and_country(events):
                raise SystemExit(f"{params}: the width index counts otherwise than the overlap")
            overlap.append(timed(repeat, stats.per_day_and_country, events)[0])
            width.append(timed(repeat, stats.span_days_and_places, spans)[0])
            print(
                f"  {params['date_from']} ({sum(n for _day, n in counted[0]):,} events): "
                f"overlap {overlap[-1]:.1f} ms, width {width[-1]:.1f} ms"
            )
        print(
            f"{kind}'s counts: from the overlap {min(overlap):.1f}-{max(overlap):.1f} ms "
            f"(median {statistics.median(overlap):.1f}), by width {min(width):.1f}-"
            f"{max(width):.1f} ms (median {statistics.median(width):.1f}): "
            f"{statistics.median(overlap) / statistics.median(width):.1f} times faster"
        )

    print("A range's first page most recently updated first: walked along the update index,")
    print("or sorted from the width index (EventFilterSet.paged, as the page asks for it)")
    latest = ("-updated_at", "-id")
    for params in BY_UPDATE:
        filterset = filters(params | {"ordering": "-updated"})

        def page(events):
            return list(events.order_by(*latest).values_list("pk", flat=True)[:51])

        if page(filterset.paged(None, 50)) != page(filterset.qs):
            raise SystemExit(f"{params}: the width index lists otherwise than the walk")
        walked = timed(repeat, page, filterset.qs)[0]
        sorted_ = timed(repeat, lambda paged=filterset.paged: page(paged(None, 50)))[0]
        print(f"  {params['date_from']}: walked {walked:.1f} ms, by width {sorted_:.1f} ms")


if __name__ == "__main__":
    main("bench.spans", __doc__, measure)
