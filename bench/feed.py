"""The change feed and a data release, measured on the database DATABASE_URL names.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/timeline_bench .venv/bin/python -m bench.feed

Prints the change feed's p50 for a page of 100 at the start, the middle and the end of the
log (after=) and from a moment (since=), with the queries each page ran, then the time and
peak memory of `manage.py release` (run in a process of its own, into a temporary folder).
Nothing is asserted: the figures go in docs/performance.md and the closing notes.
"""

import base64
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time

REPS = 15
PAGE = 100


def main():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ["PUBLIC_CACHE_SECONDS"] = "0"  # measure the work, not the cache
    import django

    django.setup()
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from events.models import Event, PublicChange, Release

    client = Client(HTTP_HOST="127.0.0.1")
    seqs = list(PublicChange.objects.order_by("seq").values_list("seq", flat=True))
    published = Event.objects.published().count()
    print(f"{connection.vendor}: {published:,} published events, {len(seqs):,} logged changes")
    if not seqs:
        sys.exit("No changes logged: generate events first (manage.py generate_events).")
    middle = seqs[len(seqs) // 2]
    cases = {
        "first page": {},
        "middle (after=)": {"after": token(middle)},
        "last page (after=)": {"after": token(seqs[max(0, len(seqs) - PAGE - 50)])},
        "middle (since=)": {"since": PublicChange.objects.get(seq=middle).at.isoformat()},
    }
    for name, query in cases.items():
        query = {"page_size": PAGE, **query}
        times = []
        for _ in range(REPS):
            started = time.perf_counter()
            response = client.get("/api/v1/changes/", query)
            times.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, response.content[:300]
        with CaptureQueriesContext(connection) as queries:
            client.get("/api/v1/changes/", query)
        print(
            f"  change feed, {name}: p50 {statistics.median(times):.1f} ms, "
            f"{len(queries)} queries, {len(response.json()['results'])} changes"
        )
    made_before = set(Release.objects.values_list("pk", flat=True))
    with tempfile.TemporaryDirectory() as folder:
        started = time.perf_counter()
        subprocess.run(
            [sys.executable, "manage.py", "release"],
            env=os.environ | {"RELEASES_DIR": folder},
            check=True,
            capture_output=True,
        )
        seconds = time.perf_counter() - started
        peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        (made,) = os.listdir(folder)
        size = sum(entry.stat().st_size for entry in os.scandir(f"{folder}/{made}"))
    # Its files were in a temporary folder: the row would list a release with nothing behind it.
    Release.objects.exclude(pk__in=made_before).delete()
    print(f"  manage.py release: {seconds:.1f} s, peak {peak:.0f} MB, {size / 1e6:.1f} MB of files")


def token(seq):
    return base64.urlsafe_b64encode(f"c{seq}".encode()).decode().rstrip("=")


if __name__ == "__main__":
    main()
