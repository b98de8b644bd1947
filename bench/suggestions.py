"""The names the timeline's form suggests: ranked from the counts the triggers keep, against
counting every link, on the bench's PostgreSQL database (a million events).

    .venv/bin/python -m bench.suggestions              # BENCH_DATABASE, or timeline_bench
    .venv/bin/python -m bench.suggestions --repeat 15

For each kind of name (actor, platform, tag): the 60 most used ids counted from the link
table, as the form's ranking was read before migration 0025 (the baseline: PostgreSQL's own
grouped count), and read from events_nameuse, which must give the same ids in the same
order. Then the whole suggestion step as a page runs it (ranking plus which names are
public), and the cost the triggers add to writing links, in transactions rolled back. Run
`bin/bench --prepare` first. Nothing is asserted but the equal rankings: the figures go in
docs and the closing notes.
"""

from bench.inprocess import main, timed

TOP = 60  # pages.SUGGESTED_NAMES * 2: what the ranking reads
LINKS = {
    "actor": ("events_eventactor", "actor_id"),
    "platform": ("events_event_platforms", "platform_id"),
    "tag": ("events_event_tags", "tag_id"),
}
COUNTED = "SELECT {column} FROM {table} GROUP BY {column} ORDER BY COUNT(*) DESC, {column} LIMIT %s"
KEPT = (
    "SELECT named_id FROM events_nameuse WHERE kind = %s AND links > 0 "
    "ORDER BY links DESC, named_id LIMIT %s"
)


def measure(repeat):
    import django

    django.setup()
    from django.db import connection, transaction

    from events.models import Event
    from timeline import pages

    def rows(sql, *params):
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return [row[0] for row in cursor.fetchall()]

    print(f"{Event.objects.count():,} events; p50 and fastest of {repeat} runs, in process")
    for kind, (table, column) in LINKS.items():
        links = rows(f"SELECT COUNT(*) FROM {table}")[0]
        counted = COUNTED.format(table=table, column=column)
        if rows(counted, TOP) != rows(KEPT, kind, TOP):
            raise SystemExit(f"{kind}: the kept counts rank other names than the links do")
        before = timed(repeat, rows, counted, TOP)
        after = timed(repeat, rows, KEPT, kind, TOP)
        print(
            f"  {kind}s' ranking ({links:,} links): counted {before[0]:.1f} ms "
            f"(fastest {before[1]:.1f}), kept {after[0]:.2f} ms (fastest {after[1]:.2f}): "
            f"{before[0] / after[0]:.0f} times faster"
        )
    whole = timed(repeat, lambda: [pages._most_used(n, m) for n, m in pages.NAMED.items()])
    print(f"  the suggestion step, three kinds, public names checked: {whole[0]:.1f} ms p50")

    # What the triggers add to writes: one link, then 10,000 in one statement.
    def explained(sql):
        with connection.cursor() as cursor:
            cursor.execute(f"EXPLAIN (ANALYZE, FORMAT JSON) {sql}")
            plan = cursor.fetchone()[0][0]
        trigger = sum(t["Time"] for t in plan.get("Triggers", []))
        return plan["Execution Time"], trigger

    last = "(SELECT MAX(id) FROM events_event)"
    for label, sql in (
        ("one link", f"SELECT id, %(tag)s FROM events_event WHERE id = {last}"),
        ("another link", f"SELECT id, %(tag)s FROM events_event WHERE id = {last} - 1"),
        ("10,000 links", f"SELECT id, %(tag)s FROM events_event WHERE id > {last} - 10002"),
    ):
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute(
                    "INSERT INTO events_tag (name, slug, created_at, updated_at) "
                    "VALUES ('bench tag', 'bench-tag', now(), now()) RETURNING id"
                )
                tag = cursor.fetchone()[0]
            insert = "INSERT INTO events_event_tags (event_id, tag_id) " + sql % {"tag": tag}
            total, trigger = explained(insert)
            transaction.set_rollback(True)
        print(f"  writing {label}: {total:.2f} ms, of which the trigger {trigger:.2f} ms")


if __name__ == "__main__":
    main("bench.suggestions", __doc__, measure)
