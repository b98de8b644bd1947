"""What the benchmark asks of Django, run once per database before the server starts.

`python -m bench.probe SPEC OUT` (with DJANGO_SETTINGS_MODULE=bench.settings and the bench
DATABASE_URL) picks filter values that occur in the data, builds the cursor of a deep page the
way timeline.pagination does, and records the SQL each measured request runs (through the
test client, with the queries captured), so the bare-SQL baselines run exactly that SQL.
It also builds the COPY statement of the CSV export and the bench's admin user.
"""

import base64
import collections
import functools
import json
import re
import sys
import urllib.parse

import django

django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.db import connection  # noqa: E402
from django.db.models import Count  # noqa: E402
from django.http import QueryDict  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from events.models import Event, EventActor  # noqa: E402
from events.public.documents import Bases  # noqa: E402
from events.search import words  # noqa: E402
from timeline import exports  # noqa: E402
from timeline.filters import EventFilterSet  # noqa: E402

EVENTS_PATH = "/api/v1/events/"
STATS_PATH = "/api/v1/stats/"
# In the Chinese originals of generated events: bigram search over folded Han (events.search).
CHINESE_QUERY = "微信"
COPY_STATEMENT = re.compile(r"^COPY \((.*)\) TO STDOUT WITH \((.*)\)$", re.DOTALL)


def main():
    # The server runs its pages as prepared statements; captured here as plain SQL, so that
    # the bare-SQL baselines can replay them on any connection.
    settings.PUBLIC_PREPARED_STATEMENTS = False
    spec_path, out_path = sys.argv[1:3]
    with open(spec_path) as file:
        spec = json.load(file)
    out = {
        "counts": counts(),
        "vendor": connection.vendor,
        "public_cache_seconds": getattr(settings, "PUBLIC_CACHE_SECONDS", None),
    }
    client = Client(HTTP_HOST="127.0.0.1")
    published = Event.objects.published()
    cases = list_cases(published, spec["with_filters"])
    out["list"] = [
        list_case(client, name, params, spec["page_size"], spec["deep_offset"])
        for name, params in cases
    ]
    if spec.get("search"):
        queries = [*search_queries(), CHINESE_QUERY]
        out["search"] = [search_case(client, query) for query in queries]
    if spec.get("stats"):
        out["stats"] = [stats_case(client, group) for group in ("month", "country")]
    if spec.get("throughput"):
        out["throughput"] = throughput_case(client, spec["throughput_page_size"])
    if spec.get("copy") and connection.vendor == "postgresql":
        out["copy"] = copy_statement(spec["page_base"], "cell")
        out["copy_ndjson"] = copy_statement(spec["page_base"], "json")
        out["flat"] = flat_statement()
    if spec.get("admin"):
        out["admin"] = admin_case(**spec["admin"])
    with open(out_path, "w") as file:
        json.dump(out, file, indent=1, default=str)


def counts():
    events = Event.objects.all()
    return {
        "events": events.count(),
        "published": events.published().count(),
        "generated": events.filter(internal_notes__startswith="[generated]").count(),
        "event_actors": EventActor.objects.count(),
        "event_platforms": Event.platforms.through.objects.count(),
    }


# The list: filters that occur in the data, first and deep pages ------------------------------


def list_cases(published, with_filters):
    """Return (name, params): no filter, then the single filters the issue names."""
    cases = [("no filter", {})]
    if not with_filters:
        return cases
    platform = (
        Event.platforms.through.objects.filter(event__status="published")
        .values("platform__slug")
        .annotate(n=Count("id"))
        .order_by("-n", "platform__slug")
        .first()
    )
    role = (
        EventActor.objects.filter(event__status="published")
        .values("actor__slug", "role")
        .annotate(n=Count("id"))
        .order_by("-n", "actor__slug")
        .first()
    )
    category = (
        published.values("event_type__category__slug")
        .annotate(n=Count("id"))
        .order_by("-n", "event_type__category__slug")
        .first()
    )
    year = str(median_event().date_earliest.year)
    if platform:
        cases.append(
            (
                "platform + date range",
                {"platform": platform["platform__slug"], "date_from": year, "date_to": year},
            )
        )
    if role:
        cases.append(("actor + role", {"actor": role["actor__slug"], "role": role["role"]}))
    if category:
        cases.append(("category", {"category": category["event_type__category__slug"]}))
    return cases


@functools.cache
def median_event():
    """Return the published event in the middle of the timeline (by date, then id)."""
    ordered = Event.objects.published().order_by("date_earliest", "id")
    return ordered[ordered.count() // 2]


def list_case(client, name, params, page_size, deep_offset):
    queryset = filtered(params)
    total = queryset.count()
    first_params = {**params, "page_size": str(page_size)}
    case = {"name": name, "params": params, "count": total, "pages": {}}
    case["pages"]["first"] = captured(client, path(EVENTS_PATH, first_params), page_size)
    offset = deepest_offset(total, page_size, deep_offset)
    if offset:
        ordered = queryset.order_by("date_earliest", "id")
        day, pk = ordered.values_list("date_earliest", "id")[offset - 1]
        deep_params = {**first_params, "cursor": cursor("date", day.isoformat(), pk)}
        page = captured(client, path(EVENTS_PATH, deep_params), page_size)
        expected = list(ordered.values_list("public_id", flat=True)[offset : offset + 1])
        page.update(offset=offset, page=offset // page_size + 1, expected_first_id=expected[0])
        case["pages"]["deep"] = page
    return case


def filtered(params):
    """Return the published events the API's FilterSet selects for some query parameters."""
    filterset = EventFilterSet(
        data=QueryDict(urllib.parse.urlencode(params)), queryset=Event.objects.published()
    )
    if not filterset.is_valid():
        raise SystemExit(f"bench filter {params} refused: {filterset.errors}")
    return filterset.qs


def deepest_offset(total, page_size, wanted):
    """Return the offset of the deep page: `wanted`, or the last full page before it."""
    last_full = (total - page_size) // page_size * page_size
    return max(0, min(wanted, last_full))


def cursor(ordering, value, pk):
    """Return a next-page cursor as timeline.pagination writes it (base64url JSON)."""
    token = json.dumps({"o": ordering, "d": "next", "v": value, "k": pk}, separators=(",", ":"))
    return base64.urlsafe_b64encode(token.encode()).decode().rstrip("=")


def path(base, params):
    return f"{base}?{urllib.parse.urlencode(params)}" if params else base


def captured(client, url, page_size=None):
    """GET a URL through Django once; return its path, its SQL, and what it answered."""
    with CaptureQueriesContext(connection) as context:
        response = client.get(url)
    if response.status_code != 200:
        raise SystemExit(f"{url} answered {response.status_code}: {response.content[:500]!r}")
    queries = [query["sql"] for query in context.captured_queries]
    result = {"path": url, "queries": queries, "main": main_query(queries, page_size)}
    body = response.json()
    if page_size:
        result["rows"] = len(body["results"])
        result["first_id"] = body["results"][0]["id"] if body["results"] else None
    return result


def main_query(queries, page_size):
    """Return the index of the query that fetches the answer's rows."""
    for index, sql in enumerate(queries):
        if page_size and 'FROM "events_event"' in sql and f"LIMIT {page_size + 1}" in sql:
            return index
        if page_size is None and "GROUP BY" in sql:
            return index
    return None


# Search, stats, throughput, export, admin ----------------------------------------------------


def search_queries(sample_size=5000):
    """Return queries of known selectivity: a common word, two words together, a rare word.

    Document frequencies come from a sample of published events (by id, which the generator
    assigns without regard to content), so they fit whatever data the database holds.
    """
    texts = Event.objects.published().order_by("id").values_list("search_text", flat=True)
    documents = [
        {word for word in words(text) if word.isalpha() and len(word) >= 4}
        for text in texts[:sample_size]
    ]
    frequency = collections.Counter(word for document in documents for word in document)
    n = len(documents) or 1

    def closest(share, candidates):
        return min(candidates, key=lambda item: (abs(candidates[item] / n - share), item))

    common = closest(0.10, frequency)
    rare = closest(0.001, frequency)
    with_common = collections.Counter(
        word for document in documents if common in document for word in document - {common}
    )
    partner = closest(0.02, with_common) if with_common else None
    queries = [common, f"{common} {partner}" if partner else None, rare]
    return list(dict.fromkeys(query for query in queries if query))


def search_case(client, query):
    case = captured(client, path(EVENTS_PATH, {"q": query, "page_size": "100"}), 100)
    case.update(q=query, count=filtered({"q": query}).count())
    return case


def stats_case(client, group_by):
    case = captured(client, path(STATS_PATH, {"group_by": group_by}))
    case["group_by"] = group_by
    return case


def throughput_case(client, page_size):
    api = path(EVENTS_PATH, {"page_size": str(page_size)})
    bare = "/bench/bare-events/"
    api_ids = [row["id"] for row in client.get(api).json()["results"]]
    bare_ids = [row["public_id"] for row in client.get(bare).json()["results"]]
    return {"api": api, "bare": bare, "same_rows": api_ids == bare_ids, "rows": len(api_ids)}


def copy_statement(page_base, form):
    """Return the COPY the API runs for the whole published timeline (CSV or NDJSON)."""
    bases = Bases(page_base, page_base.replace("/events/", "/api/v1/events/"))
    export = exports.Export(filtered({}), "date", bases)
    # Every published event is most of the table: the shape the API runs for it.
    sql, params = export.documents.copy_sql(export.queryset, export.sort, form, most=True)
    connection.ensure_connection()
    with connection.connection.cursor() as cursor_:
        statement = cursor_.mogrify(sql, params).decode()
    match = COPY_STATEMENT.match(statement.strip())
    if not match:
        raise SystemExit("events.public.documents.copy_sql no longer builds COPY (...) TO STDOUT")
    return {"statement": statement, "select": match.group(1), "options": match.group(2)}


# The physical limit of an export: the events table's own columns for the published events,
# in the export's order, no joins. Frozen here, so the yardstick does not move with the code.
FLAT_COLUMNS = (
    "public_id", "title", "summary", "title_original", "summary_original", "original_language",
    "date_text", "date_display", "date_earliest", "date_latest", "date_precision",
    "date_is_approximate", "date_is_uncertain", "event_type_id", "country", "is_global",
    "locality", "latitude", "longitude", "verification", "first_published_at", "updated_at",
)  # fmt: skip


def flat_statement():
    """Return the SELECT of the flat baseline and COPY's options for it."""
    columns = ", ".join(f"e.{column}" for column in FLAT_COLUMNS)
    select = (
        f"SELECT {columns} FROM events_event e WHERE e.status = 'published' "
        "ORDER BY e.date_earliest, e.id"
    )
    return {"select": select, "options": "FORMAT csv, HEADER true"}


def admin_case(username, password):
    user = get_user_model().objects.filter(username=username).first()
    if user is None:
        user = get_user_model().objects.create_superuser(username, "bench@example.invalid")
    user.set_password(password)
    user.save()
    event = median_event()
    return {"change_pk": event.pk, "public_id": event.public_id}


if __name__ == "__main__":
    main()
