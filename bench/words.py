"""A search's counts by day and place, and its first page: from the published events' words
against the events, on the bench's PostgreSQL database (a million events).

    .venv/bin/python -m bench.words              # BENCH_DATABASE, or timeline_bench
    .venv/bin/python -m bench.words --repeat 15

For each search the pages bench makes (bench.pages.WORDS: each word, each two words in turn,
and each word with a country or a year): the chart's days and the map's places counted from
the events (the baseline: the events' own GROUPING SETS query, which reads each match's row)
and from events_publishedword (migrations 0026 and 0027), which must give the same counts.
Then each search's first page, newest first, walked along the list's index and as
EventFilterSet.paged finds it (the same ids both ways). Then what the triggers add to
writes, in transactions rolled back: an edit of one event's text, an edit that moves no
word, and 1,000 events retracted, published again and moved to another country in one
statement each. Run `bin/bench` first (it migrates); where autovacuum is off, `VACUUM
ANALYZE events_publishedword` after the migration."""

import itertools
import urllib.parse

from bench.inprocess import main, timed
from bench.pages import WORDS

SEARCHES = (
    [{"q": word} for word in WORDS]
    + [{"q": f"{a} {b}"} for a, b in itertools.pairwise(WORDS)]
    + [{"q": word, "country": "CN"} for word in WORDS[:4]]
    + [{"q": word, "date_from": "2014", "date_to": "2014"} for word in WORDS[4:]]
)
# A word over many years (bench.pages): many matches in a range the planner guesses small.
WIDE = [{"q": word, "date_from": "2005", "date_to": "2020"} for word in WORDS[:4]] + [
    {"q": word, "date_from": "2010"} for word in WORDS[4:]
]

MOVES = {
    "one event's text edited": "UPDATE events_event SET search_text = search_text || ' edited' "
    "WHERE id = (SELECT MAX(id) FROM events_event WHERE status = 'published')",
    "one event's update time only": "UPDATE events_event SET updated_at = now() "
    "WHERE id = (SELECT MAX(id) FROM events_event WHERE status = 'published')",
    "1,000 events retracted": "UPDATE events_event SET status = 'draft', "
    "first_published_at = NULL WHERE id IN (SELECT id FROM events_event "
    "WHERE status = 'published' ORDER BY id DESC LIMIT 1000)",
    "1,000 events published": "UPDATE events_event SET status = 'published', "
    "first_published_at = now() WHERE id IN (SELECT id FROM events_event "
    "WHERE status = 'draft' ORDER BY id DESC LIMIT 1000)",
    "1,000 events moved to Hong Kong": "UPDATE events_event SET country = 'HK' "
    "WHERE id IN (SELECT id FROM events_event WHERE status = 'published' "
    "AND country <> 'HK' AND NOT is_global ORDER BY id LIMIT 1000)",
}


def measure(repeat):
    import django

    django.setup()
    from django.db import connection, transaction
    from django.http import QueryDict

    from events.models import Event
    from timeline import stats
    from timeline.filters import EventFilterSet

    published = Event.objects.published()
    print(f"{Event.objects.count():,} events; p50 and fastest of {repeat} runs, in process")
    for search in SEARCHES:
        query = urllib.parse.urlencode(search)
        filterset = EventFilterSet(data=QueryDict(query), queryset=published)
        assert filterset.is_valid(), filterset.errors
        events, words = filterset.qs, filterset.published_words()
        if stats.word_days_and_places(words) != stats.per_day_and_country(events):
            raise SystemExit(f"{query}: the words count otherwise than the events")
        before = timed(repeat, stats.per_day_and_country, events)
        after = timed(repeat, stats.word_days_and_places, words)
        print(
            f"  {urllib.parse.unquote_plus(query)} ({events.count():,} events): counted from "
            f"the events {before[0]:.1f} ms (fastest {before[1]:.1f}), from the words "
            f"{after[0]:.1f} ms (fastest {after[1]:.1f}): {before[0] / after[0]:.1f} times "
            "faster"
        )

    print("A search's first page, newest first: walked along the list's index, or found in")
    print("the words (EventFilterSet.paged, as the API pages it, knowing no count)")
    newest = ("-date_earliest", "-id")
    for search in SEARCHES + WIDE:
        query = urllib.parse.urlencode(search | {"ordering": "-date"})
        filterset = EventFilterSet(data=QueryDict(query), queryset=published)
        assert filterset.is_valid(), filterset.errors

        def page(events):
            return list(events.order_by(*newest).values_list("pk", flat=True)[:51])

        if page(filterset.paged(None, 50)) != page(filterset.qs):
            raise SystemExit(f"{query}: the words list otherwise than the events")
        walked = timed(3, page, filterset.qs)
        found = timed(repeat, lambda paged=filterset.paged: page(paged(None, 50)))
        print(
            f"  {urllib.parse.unquote_plus(query)}: walked {walked[0]:.1f} ms, "
            f"as paged {found[0]:.1f} ms"
        )

    def explained(sql):
        with connection.cursor() as cursor:
            cursor.execute(f"EXPLAIN (ANALYZE, FORMAT JSON) {sql}")
            plan = cursor.fetchone()[0][0]
        return plan["Execution Time"], sum(
            trigger["Time"]
            for trigger in plan.get("Triggers", [])
            if trigger["Trigger Name"].startswith("events_event_words")
        )

    for label, sql in MOVES.items():
        took = []
        for _ in range(3):
            with transaction.atomic():
                took.append(explained(sql))
                transaction.set_rollback(True)
        total, words = sorted(took)[1]
        print(f"  {label}: {total:.1f} ms, the words' trigger {words:.1f} ms (median of 3)")


if __name__ == "__main__":
    main("bench.words", __doc__, measure)
