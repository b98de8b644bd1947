"""One import timed inside Django (bench.import_speed runs it in a process of its own)."""

import csv
import io
import itertools
import random
import time

ROWS_LIKE_DUPLICATES = 20  # rows that repeat an existing event's title
NEW_ACTORS = ("Ministry of Digital Affairs", "Northwind Telecom", "Provincial Network Office")


def measure(rows):
    import django

    django.setup()
    from django.test.utils import setup_test_environment

    setup_test_environment()  # the responses' context: the preview's result and confirm form
    from django.contrib.auth import get_user_model
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.db import connection
    from django.test import Client

    from events import services
    from events.models import Event

    groups = services.groups_ensure()
    editor = get_user_model().objects.create_user(f"bench-importer-{time.time_ns()}", is_staff=True)
    editor.groups.add(groups[services.EDITOR_GROUP])
    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(editor)
    content = made_up_csv(rows)
    before = Event.objects.count()
    print(f"  {connection.vendor}: {before:,} events before, a file of {rows:,} new events")

    queries = QueryCounter()
    with connection.execute_wrapper(queries):
        started = time.perf_counter()
        preview = client.post(
            "/admin/events/event/import/",
            {
                "resource": "0",
                "format": "0",
                "status": "draft",
                "import_file": SimpleUploadedFile("bench.csv", content),
            },
        )
        preview_seconds = time.perf_counter() - started
    result = preview.context["result"]
    assert preview.status_code == 200 and "confirm_form" in preview.context, result.invalid_rows
    warned = sum(1 for row in result.valid_rows() if getattr(row, "notes", None))
    print(
        f"  preview: {preview_seconds:.2f} s, {queries.count:,} queries, "
        f"{warned} rows with warnings, {len(result.new_names)} new names"
    )

    data = dict(preview.context["confirm_form"].initial)
    data["new_names"] = [key for key, _described, _rows in result.new_names]
    queries.count = 0
    with connection.execute_wrapper(queries):
        started = time.perf_counter()
        confirmed = client.post("/admin/events/event/process_import/", data)
        confirm_seconds = time.perf_counter() - started
    added = Event.objects.count() - before
    assert confirmed.status_code == 302 and added == rows, (confirmed.status_code, added)
    print(f"  confirm: {confirm_seconds:.2f} s, {queries.count:,} queries, {added:,} events added")
    print(f"  total: {preview_seconds + confirm_seconds:.2f} s")


class QueryCounter:
    def __init__(self):
        self.count = 0

    def __call__(self, execute, sql, params, many, context):
        self.count += 1
        return execute(sql, params, many, context)


def made_up_csv(rows):
    """Return a CSV of made-up events in the database's own vocabulary (types, names)."""
    from events.models import Actor, Event, EventType, Platform
    from events.public.fields import IMPORTED_FIELDS

    rng = random.Random(1)
    types = list(EventType.objects.select_related("category").order_by("pk"))
    actors = list(Actor.objects.order_by("pk").values_list("name", flat=True)[:300])
    platforms = list(Platform.objects.order_by("pk").values_list("name", flat=True)[:100])
    titles = list(Event.objects.order_by("pk").values_list("title", flat=True)[:500])
    roles = ("ordered or decided", "implemented or enforced", "targeted")
    countries = ("CN", "HK", "RU", "IR", "TR", "IN", "VN", "EG")
    new_actors = itertools.cycle(NEW_ACTORS)
    output = io.StringIO()
    writer = csv.DictWriter(output, [f.name for f in IMPORTED_FIELDS], lineterminator="\r\n")
    writer.writeheader()
    for number in range(rows):
        kind = rng.choice(types)
        year, month = rng.randint(2005, 2025), rng.randint(1, 12)
        named = rng.sample(actors, 2) + ([next(new_actors)] if number % 50 == 0 else [])
        title = (
            titles[number % len(titles)]
            if number < ROWS_LIKE_DUPLICATES and titles
            else f"{kind.name} reported in bulletin {number + 1} ({year}-{month:02d})"
        )
        writer.writerow(
            {
                "title": title,
                "summary": f"A made-up event for the import benchmark, number {number + 1}.",
                "date": f"{year}-{month:02d}",
                "type": kind.slug if number % 2 else kind.name.upper(),
                "country": rng.choice(countries),
                "verification": rng.choice(("single_source", "Corroborated", "DISPUTED")),
                "actors": "; ".join(f"{name} ({rng.choice(roles)})" for name in named),
                "platforms": "; ".join(rng.sample(platforms, min(2, len(platforms)))),
                "tags": "bench import",
                "counts": f"about {rng.randint(2, 900)} accounts",
                "sources": f"Bulletin {number + 1} (Example Monitor, {year}-{month:02d}-15) "
                f"<https://monitor.example.org/bulletins/{number + 1}>",
                "quotes": f"bulletin {number + 1} records it",
            }
        )
    return output.getvalue().encode()
