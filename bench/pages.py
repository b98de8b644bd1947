"""The readers' timeline page at scale: every page, at any depth and with any filter, under
150 ms of server time (issue 14).

The pages are found as a reader finds them, by following the page's own links over HTTP:
the jump-to-year links (the newest, the middle and the oldest year), "Older events" from
there (a page deep in the list), the most used names the filter form suggests, and a word
search in English and in Chinese. Each is timed on the bench's gunicorn with the response
cache off (bench.settings): what answering costs, chart, map and counts included. The
filter form's lists are cached under the data version, as in production; the first request
of a new version pays for them, and is not among the timed ones (warm-up).
"""

import html
import itertools
import json
import re
import urllib.parse

from bench.client import summary
from bench.figures import Figure, at_most, p50_p95
from bench.measure import latency

TARGET_MS = 150
YEAR_LINK = re.compile(r'<li><a href="([^"]+)"(?: aria-current="true")?>(\d{4})</a></li>')
OLDER = re.compile(r'<a rel="next" href="([^"]+)">')
SUGGESTED = re.compile(r'<datalist id="(\w+)-names">(.*?)</datalist>', re.S)
OPTION = re.compile(r'<option value="([^"]+)">')
COUNT = re.compile(r'id="result-count">([\d,]+)')  # "900,970 events", "900,970 个事件"


def pages_figures(ctx):
    client = ctx.client()
    figures = []
    for name, path in _reader_paths(client):
        measured = latency(ctx, {"path": path})
        _status, _headers, body = client.get(path)
        found = COUNT.search(body.decode())
        if not found:
            raise SystemExit(f"{path} shows no count of events: not the timeline page")
        events = int(found[1].replace(",", ""))
        ctx.log(f"    page {name}: HTTP {p50_p95(measured['http'])} ({events:,} events)")
        figures.append(
            Figure(
                key=f"{ctx.prefix}.pages.{_key(name)}",
                label=f"Timeline page, {name} ({events:,} events): p50 / p95",
                ours=p50_p95(measured["http"]),
                target=f"p50 < {TARGET_MS} ms",
                met=at_most(measured["http"]["p50_ms"], TARGET_MS) and not measured["errors"],
                data=measured | {"events": events},
            )
        )
    figures += _first_views(ctx, client)
    client.close()
    return figures


def _first_views(ctx, client):
    """Time the first view of filters no one has asked for since the data last changed: the
    page then counts every match per day and per country before it caches the counts. One
    request per filter, each a value never asked for in this run, up to twenty of each kind:
    a year, a month, a country, a type, a category, a verification, a chart's bar, a word
    (the most used values first, so the larger counts are among them), and the whole
    timeline just after an edit; then the kinds together."""
    figures, together = [], []
    for kind, paths in _first_view_paths(client).items():
        took = []
        for path in paths:
            if kind == AFTER_A_CHANGE:
                _touch(ctx.database)
            elapsed, status, _body = client.timed_get(path)
            if status != 200:
                raise SystemExit(f"first view of {path} answered {status}")
            took.append(elapsed)
        together += took
        http = summary(took)
        ctx.log(f"    page first view of {kind} (uncached counts): HTTP {p50_p95(http)}")
        figures.append(
            Figure(
                key=f"{ctx.prefix}.pages.first-view-of-{_key(kind)}",
                label=f"Timeline page, first view of {kind} (counts not yet cached), "
                f"{len(took)} of them: p50 / p95",
                ours=p50_p95(http),
                target=f"p50 < {TARGET_MS} ms",
                met=at_most(http["p50_ms"], TARGET_MS),
                data={"http": http, "paths": paths},
            )
        )
    http = summary(together)
    ctx.log(f"    page first view of a filter, all kinds: HTTP {p50_p95(http)}")
    figures.append(
        Figure(
            key=f"{ctx.prefix}.pages.first-view-of-a-filter",
            label=f"Timeline page, first view of a filter (counts not yet cached), "
            f"{len(together)} filters of {len(figures)} kinds: p50 / p95",
            ours=p50_p95(http),
            target=f"p50 < {TARGET_MS} ms",
            met=at_most(http["p50_ms"], TARGET_MS),
            data={"http": http},
        )
    )
    return figures


AFTER_A_CHANGE = "the whole timeline after a change"
# An edit a reader sees (its updated_at moves): the data version moves with it, and every
# cached count is of the old version.
TOUCH = (
    "UPDATE events_event SET updated_at = CURRENT_TIMESTAMP WHERE id = "
    "(SELECT MIN(id) FROM events_event WHERE status = 'published')"
)


def _touch(database):
    cursor = database.connection().cursor()
    try:
        cursor.execute(TOUCH)
    finally:
        cursor.close()


def _first_view_paths(client, each=20):
    """Return {kind: [path]}: filters the run has not asked for, ordered oldest first (the
    list's cheapest order to page, so the counts are what is measured)."""

    def most_used(group_by):
        status, _headers, body = client.get(f"/api/v1/stats/?group_by={group_by}")
        if status != 200:
            raise SystemExit(f"/api/v1/stats/?group_by={group_by} answered {status}")
        keys = [row["key"] for row in json.loads(body)["results"]]
        return [key for key in keys if key and key not in ("CN", "global")][:each]

    def paths(values):
        return [f"/?{urllib.parse.urlencode(value | {'ordering': 'date'})}" for value in values]

    return {
        "a year": paths([{"date_from": y, "date_to": y} for y in range(2000, 2000 + each)]),
        "a month": paths(
            [{"date_from": f"2016-{m:02d}", "date_to": f"2016-{m:02d}"} for m in range(1, 13)]
            + [{"date_from": f"2017-{m:02d}", "date_to": f"2017-{m:02d}"} for m in range(1, 9)]
        ),
        "a country": paths([{"country": code} for code in most_used("country")]),
        "a type": paths([{"type": slug} for slug in most_used("type")]),
        "a category": paths([{"category": slug} for slug in most_used("category")]),
        "a verification": paths([{"verification": key} for key in most_used("verification")]),
        "a chart's bar (events begun in a month)": paths(
            [
                {"date_from": f"2015-{m:02d}", "date_to": f"2015-{m:02d}", "date_match": "begins"}
                for m in range(1, 13)
            ]
        ),
        "a word": paths([{"q": word} for word in WORDS]),
        # Two words that match nothing are listed without a query (pages._listed).
        "two words": paths([{"q": f"{a} {b}"} for a, b in itertools.pairwise(WORDS)]),
        "a word and a country or a year": paths(
            [{"q": word, "country": "CN"} for word in WORDS[:4]]
            + [{"q": word, "date_from": "2014", "date_to": "2014"} for word in WORDS[4:]]
        ),
        # Many matches in a range the planner guesses small: paged from the words.
        "a word over many years": paths(
            [{"q": word, "date_from": "2005", "date_to": "2020"} for word in WORDS[:4]]
            + [{"q": word, "date_from": "2010"} for word in WORDS[4:]]
        ),
        # The list's worst order (docs/performance.md): most recently updated first, walking
        # the update index past every later year's events to reach the range's.
        "a year, most recently updated first": [
            f"/?{urllib.parse.urlencode({'date_from': y, 'date_to': y, 'ordering': '-updated'})}"
            for y in range(2008, 2014)
        ],
        AFTER_A_CHANGE: paths([{}] * 5),
    }


# Words of the generated summaries and titles (events.services.synthetic), common and rare.
WORDS = [
    "prosecutor",
    "blocks",
    "accounts",
    "journalists",
    "bloggers",
    "disputed",
    "worldwide",
    "vpn",
]


def _reader_paths(client):
    """Return (name, path) of the pages a reader reaches from the timeline's first page."""
    first = _page(client, "/")
    years = [(year, html.unescape(url)) for url, year in YEAR_LINK.findall(first)]
    suggested = {kind: OPTION.findall(options) for kind, options in SUGGESTED.findall(first)}
    paths = [("first page", "/")]
    if years:
        middle_year, middle = years[len(years) // 2]
        oldest_year, oldest = years[-1]
        paths.append((f"jump to {middle_year}", middle))
        older = OLDER.search(_page(client, middle))
        if older:
            paths.append((f"past {middle_year}, one page older", _absolute(older[1])))
        paths.append((f"jump to {oldest_year} (the last pages)", oldest))
    middle_year = years[len(years) // 2][0] if years else "2014"
    for kind in ("platform", "actor", "tag"):
        if suggested.get(kind):
            name = html.unescape(suggested[kind][0])
            query = {kind: name}
            if kind == "platform":
                query |= {"date_from": middle_year, "date_to": middle_year}
            paths.append(
                (
                    f"{kind} {name}" + (f" in {middle_year}" if kind == "platform" else ""),
                    "/?" + urllib.parse.urlencode(query),
                )
            )
    paths.append(("country CN, oldest first", "/?country=CN&ordering=date"))
    for words in ("prosecutor", "微信"):
        paths.append((f"q={words}", "/?" + urllib.parse.urlencode({"q": words})))
    filtered = paths[-1][1]
    older = OLDER.search(_page(client, filtered))
    if older:
        paths.append(("q=微信, one page older", _absolute(older[1])))
    paths.append(("the same in Chinese, first page", "/zh-hans/"))
    return paths


def _absolute(link):
    """Return a link of the page (such as ?cursor=...) as a path from the root."""
    return urllib.parse.urljoin("/", html.unescape(link))


def _page(client, path):
    status, _headers, body = client.get(path)
    if status != 200:
        raise SystemExit(f"{path} answered {status}: {body[:300]!r}")
    return body.decode()


def _key(name):
    return re.sub(r"[\W_]+", "-", name.lower()).strip("-")
