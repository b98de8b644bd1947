"""The measurements: each returns Figures, ours beside the baseline they are judged against."""

import csv
import json
import re
import resource
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from bench import wrk
from bench.client import Client, repeat, summary
from bench.databases import PG_SERVER
from bench.figures import (
    Figure,
    at_least,
    at_most,
    megabytes,
    ms,
    p50_p95,
    ratio,
    seconds,
    under,
)
from bench.server import MemorySampler

EXPORT_PATH = "/api/v1/events/?format=csv"
EXPORT_PATHS = {"csv": EXPORT_PATH, "ndjson": "/api/v1/events/?format=ndjson"}
ROW_COUNT_HEADER = "X-Row-Count"  # timeline.exports.ROW_COUNT_HEADER
ADMIN_USER = {"username": "bench-admin", "password": "bench-admin-password-not-secret-42"}
PSQL_COPY_ROWS = re.compile(r"^COPY (\d+)$", re.M)
MIN_REPS = 10
LIST_TARGET_MS = 12  # a page of 100, no filter (issue 12)
FILTERED_TARGET_MS = 20  # a page of 100 with one filter, first or deep


@dataclass
class Context:
    """What every measurement needs: the run's options, the server, the database, the probe."""

    options: object
    server: object
    database: object
    probe: dict
    tmp_dir: Path
    prefix: str  # "pg" or "sqlite": the start of every figure's key
    log: object = print

    def client(self):
        return Client(self.server.port)

    def label(self, text):
        """Return a table label, naming the database when it is not the main one."""
        return text if self.prefix == "pg" else f"SQLite: {text}"


def slug(text):
    """Return a key for a name or a query: lowercase letters and digits of any script, dashes."""
    return re.sub(r"[\W_]+", "-", text.lower()).strip("-")


# 1. CSV export ------------------------------------------------------------------------------


def export_figures(ctx, *, with_baseline=True):
    r"""Time the whole CSV and NDJSON downloads, verify their rows, watch the workers' memory,
    beside psql: \copy of the export's own SQL, and \copy of the events table alone."""
    expected = ctx.database.scalar("SELECT count(*) FROM events_event WHERE status = 'published'")
    runs = {"csv": [], "ndjson": [], "same_sql": [], "flat": []}
    for run in range(ctx.options.export_reps):
        if with_baseline:
            runs["flat"].append(psql_copy(ctx, ctx.probe["flat"]))
            runs["same_sql"].append(psql_copy(ctx, ctx.probe["copy"]))
            ctx.log(
                f"    psql \\copy run {run + 1}: flat {runs['flat'][-1]['seconds']:.2f} s, "
                f"same SQL {runs['same_sql'][-1]['seconds']:.2f} s"
            )
        for fmt in ("csv", "ndjson"):
            runs[fmt].append(api_export(ctx, expected, fmt))
            ctx.log(
                f"    API {fmt} run {run + 1}: {runs[fmt][-1]['seconds']:.2f} s, "
                f"{runs[fmt][-1]['rows']:,} rows, worker grew {megabytes(runs[fmt][-1]['growth'])}"
            )
    best = {fmt: min(runs[fmt], key=lambda run: run["seconds"]) for fmt in ("csv", "ndjson")}
    data = {"expected_rows": expected, "runs": runs}
    figures = _export_times(ctx, best, runs, expected, data)
    figures.append(_rows_arrived(ctx, runs["csv"] + runs["ndjson"]))
    every = runs["csv"] + runs["ndjson"]
    growth = max(run["growth"] for run in every)
    peak = max(run["memory"]["peak_bytes"] for run in every)
    main = ctx.prefix == "pg"  # the target is for the million on PostgreSQL
    figures.append(
        Figure(
            key=f"{ctx.prefix}.export.memory_growth",
            label=ctx.label("Exports: server worker memory growth (peak - before)"),
            ours=f"{megabytes(growth)} (peak RSS {megabytes(peak)})",
            target="< 100 MB" if main else "",
            met=under(growth, 100e6) if main else None,
            data={"growth_bytes": growth, "memory": [run["memory"] for run in every]},
        )
    )
    return figures


def _export_times(ctx, best, runs, expected, data):
    csv_seconds, ndjson_seconds = best["csv"]["seconds"], best["ndjson"]["seconds"]
    csv_rate, ndjson_rate = expected / csv_seconds, expected / ndjson_seconds
    reps = len(runs["csv"])
    main = ctx.prefix == "pg"
    figures = []
    if runs["flat"]:
        flat = min(run["seconds"] for run in runs["flat"])
        same = min(run["seconds"] for run in runs["same_sql"])
        to_flat, to_same = ratio(csv_seconds, flat), ratio(csv_seconds, same)
        figures += [
            Figure(
                key=f"{ctx.prefix}.export.vs_flat",
                label=f"CSV export of all {expected:,} published events vs the events table "
                f"alone (\\copy, no joins: the physical limit), best of {reps}",
                ours=seconds(csv_seconds),
                baseline=f"{seconds(flat)} (psql \\copy of the events' own columns)",
                ratio=to_flat,
                target="≤ 3x",
                met=at_most(to_flat, 3),
                data=data | {"bytes": best["csv"]["bytes"]},
            ),
            Figure(
                key=f"{ctx.prefix}.export.time",
                label=f"CSV export through the API vs psql \\copy of the same SQL, best of {reps}",
                ours=seconds(csv_seconds),
                baseline=f"{seconds(same)} (psql \\copy, same SQL)",
                ratio=to_same,
                target="≤ 1.5x",
                met=at_most(to_same, 1.5),
            ),
        ]
    else:
        figures.append(
            Figure(
                key=f"{ctx.prefix}.export.rate",
                label=ctx.label(f"CSV export of {expected:,} published events (Python writer)"),
                ours=f"{seconds(csv_seconds)} ({csv_rate:,.0f} rows/s)",
                data=data | {"rows_per_second": round(csv_rate)},
            )
        )
    to_csv = ratio(ndjson_rate, csv_rate)
    figures.append(
        Figure(
            key=f"{ctx.prefix}.export.ndjson",
            label=ctx.label(f"NDJSON export of {expected:,} published events: rows/s"),
            ours=f"{ndjson_rate:,.0f} rows/s ({seconds(ndjson_seconds)})",
            baseline=f"{csv_rate:,.0f} rows/s (the CSV export)",
            ratio=to_csv,
            target="≥ 0.5x" if main else "",
            met=at_least(to_csv, 0.5) if main else None,
            data={"ndjson_rows_per_second": round(ndjson_rate), "bytes": best["ndjson"]["bytes"]},
        )
    )
    return figures


def _rows_arrived(ctx, runs):
    whole = all(run["whole"] for run in runs)
    expected = runs[0]["expected"]
    declared = {run["declared_rows"] for run in runs}
    announced = (
        f", {ROW_COUNT_HEADER}: {', '.join(f'{value:,}' for value in sorted(declared))}"
        if None not in declared
        else f", no {ROW_COUNT_HEADER} header"
    )
    return Figure(
        key=f"{ctx.prefix}.export.whole",
        label=ctx.label("CSV and NDJSON arrived whole (rows parsed = published), every run"),
        ours=", ".join(f"{run['rows']:,}" for run in runs),
        baseline=f"{expected:,} published{announced}",
        target="all rows",
        met=whole,
    )


def api_export(ctx, expected, fmt="csv"):
    path = ctx.tmp_dir / f"export-{ctx.prefix}.{fmt}.tmp"
    client = ctx.client()
    cpu_before = resource.getrusage(resource.RUSAGE_SELF)
    with MemorySampler(ctx.server) as memory, open(path, "wb") as file:
        elapsed, status, headers, written = client.download(EXPORT_PATHS[fmt], file)
    cpu_after = resource.getrusage(resource.RUSAGE_SELF)
    try:
        rows, header, last = COUNTERS[fmt](path)
    finally:
        path.unlink()
    declared = _declared_rows(headers)
    whole = status == 200 and rows == expected and declared in (None, expected)
    return {
        "format": fmt,
        "seconds": round(elapsed, 3),
        "status": status,
        "bytes": written,
        "rows": rows,
        "expected": expected,
        "declared_rows": declared,
        "whole": whole,
        "columns": len(header),
        "last_row_start": last[:3],
        "client_cpu_seconds": round(
            cpu_after.ru_utime + cpu_after.ru_stime - cpu_before.ru_utime - cpu_before.ru_stime, 2
        ),
        "growth": memory.result()["growth_bytes"],
        "memory": memory.result(),
    }


def _declared_rows(headers):
    """Return the row count the server announced (timeline.exports), if it announced one."""
    value = headers.get(ROW_COUNT_HEADER)
    return int(value) if value and value.isdigit() else None


COUNTERS = {}  # filled below: format -> (rows, header, last row) of a downloaded file


def count_csv_rows(path):
    """Return (data rows, header, last row) of a CSV file, parsed as a researcher's tools would."""
    with open(path, newline="", encoding="utf-8") as file:
        reader = csv.reader(file)
        header = next(reader, [])
        rows, last = 0, []
        for row in reader:
            rows += 1
            last = row
    return rows, header, last


def count_ndjson_rows(path):
    """Return (lines, the first object's keys, the last object's id) of an NDJSON file."""
    rows, keys, last = 0, [], []
    with open(path, encoding="utf-8") as file:
        for line in file:
            record = json.loads(line)
            keys = keys or list(record)
            last = [record["id"]]
            rows += 1
    return rows, keys, last


def psql_copy(ctx, copy):
    """Time psql's \\copy of a SELECT into /dev/null (the export's own, or the flat one)."""
    select = " ".join(copy["select"].split("\n"))
    command = f"\\copy ({select}) TO '/dev/null' WITH ({copy['options']})"
    started = time.perf_counter()
    result = subprocess.run(
        ["psql", "-X", "-v", "ON_ERROR_STOP=1", "-h", PG_SERVER["host"], "-p",
         str(PG_SERVER["port"]), "-U", PG_SERVER["user"], "-d", ctx.database.name, "-c", command],
        capture_output=True,
        text=True,
        check=False,
    )  # fmt: skip
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        raise SystemExit(f"psql \\copy failed: {result.stderr[-2000:]}")
    rows = PSQL_COPY_ROWS.search(result.stdout)
    return {"seconds": round(elapsed, 3), "rows": int(rows.group(1)) if rows else None}


COUNTERS.update(csv=count_csv_rows, ndjson=count_ndjson_rows)


# 2-4. Event list, search, stats: latency beside the bare SQL ------------------------------


def latency(ctx, page, *, reps=None, expect_rows=None):
    """Time a probed request over HTTP and, in turn with it, its SQL on a plain connection.

    Each HTTP request is followed by its main query (and every fourth by all its queries),
    so both see the same load when other work shares the machine.
    """
    reps = reps or ctx.options.reps
    client = ctx.client()
    queries = page.get("queries", [])
    main = [queries[page["main"]]] if page.get("main") is not None else []
    for _ in range(ctx.options.warmup):
        client.get(page["path"])
        sql_time(ctx, main)
    took, statuses, main_took, all_took, body = [], [], [], [], b""
    # A very slow request gets fewer samples rather than minutes of them.
    deadline = time.monotonic() + ctx.options.figure_seconds
    for rep in range(reps):
        if rep >= MIN_REPS and time.monotonic() > deadline:
            break
        elapsed, status, body = client.timed_get(page["path"])
        took.append(elapsed)
        statuses.append(status)
        if main:
            main_took.append(sql_time(ctx, main))
            if rep % 4 == 0:
                all_took.append(sql_time(ctx, queries))
    client.close()
    errors = sum(status != 200 for status in statuses)
    result = {"path": page["path"], "http": summary(took), "errors": errors}
    if main:
        result.update(sql=summary(main_took), all_sql=summary(all_took), queries=len(queries))
    if expect_rows is not None:
        rows = json.loads(body)["results"] if errors == 0 else []
        result["rows"] = len(rows)
        result["first_id"] = rows[0]["id"] if rows else None
    return result


def sql_time(ctx, queries):
    """Return the seconds some queries take one after another, each fetched whole."""
    return sum(ctx.database.timed_query(sql)[0] for sql in queries)


def list_figures(ctx):
    figures = []
    page_size = ctx.options.page_size
    for case in ctx.probe["list"]:
        measured = {}
        for which, page in case["pages"].items():
            measured[which] = latency(ctx, page, expect_rows=page_size)
            ctx.log(
                f"    list {case['name']}, {which}: HTTP {p50_p95(measured[which]['http'])}, "
                f"SQL {p50_p95(measured[which]['sql'])}"
            )
            figures.append(_list_page_figure(ctx, case, which, page, measured[which]))
        if "deep" in measured:
            figures.append(_depth_figure(ctx, case, measured))
    return figures


def _describe(case):
    return f"{case['name']} ({case['count']:,} events)" if case["params"] else case["name"]


def _list_page_figure(ctx, case, which, page, measured):
    http, sql = measured["http"], measured["sql"]
    where = "first page" if which == "first" else f"page {page['page']:,}"
    value = ratio(http["p50_ms"], sql["p50_ms"])
    limit = LIST_TARGET_MS if not case["params"] else FILTERED_TARGET_MS
    # The right rows: a full page (or all there are), the deep one starting where SQL says.
    right = measured["rows"] == min(ctx.options.page_size, case["count"]) and (
        measured["first_id"] == page.get("expected_first_id", measured["first_id"])
    )
    return Figure(
        key=f"{ctx.prefix}.list.{slug(case['name'])}.{which}",
        label=ctx.label(f"Event list, {_describe(case)}, {where}: p50 / p95"),
        ours=p50_p95(http),
        baseline=f"{p50_p95(sql)} (SQL)",
        ratio=value,
        target=f"p50 ≤ {limit} ms" if ctx.prefix == "pg" else "",
        met=(at_most(http["p50_ms"], limit) and not measured["errors"] and right)
        if ctx.prefix == "pg"
        else None,
        data=measured | {"page": page.get("page", 1), "params": case["params"], "right": right},
    )


def _depth_figure(ctx, case, measured):
    first, deep = measured["first"]["http"]["p50_ms"], measured["deep"]["http"]["p50_ms"]
    value = ratio(deep, first)
    return Figure(
        key=f"{ctx.prefix}.list.{slug(case['name'])}.depth",
        label=ctx.label(f"Event list, {case['name']}: deep page p50 vs first page p50"),
        ours=ms(deep),
        baseline=f"{ms(first)} (first page)",
        ratio=value,
        target="≤ 1.3x" if ctx.prefix == "pg" else "",
        met=at_most(value, 1.3) if ctx.prefix == "pg" else None,
    )


def search_figures(ctx):
    figures = []
    for case in ctx.probe["search"]:
        measured = latency(ctx, case, expect_rows=100)
        ctx.log(f"    search q={case['q']!r}: HTTP {p50_p95(measured['http'])}")
        value = ratio(measured["http"]["p50_ms"], measured["sql"]["p50_ms"])
        figures.append(
            Figure(
                key=f"{ctx.prefix}.search.{slug(case['q'])}",
                label=f"Full-text search q={case['q']} ({case['count']:,} matches), "
                "first 100: p50 / p95",
                ours=p50_p95(measured["http"]),
                baseline=f"{p50_p95(measured['sql'])} (SQL)",
                ratio=value,
                target="p50 < 50 ms",
                met=under(measured["http"]["p50_ms"], 50) and measured["errors"] == 0,
                data=measured | {"matches": case["count"]},
            )
        )
    return figures


def stats_figures(ctx):
    figures = []
    for case in ctx.probe["stats"]:
        measured = latency(ctx, case, reps=ctx.options.stats_reps)
        ctx.log(f"    stats by {case['group_by']}: HTTP {p50_p95(measured['http'])}")
        value = ratio(measured["http"]["p50_ms"], measured["sql"]["p50_ms"])
        figures.append(
            Figure(
                key=f"{ctx.prefix}.stats.{case['group_by']}",
                label=f"Stats by {case['group_by']}, all published events: p50 / p95",
                ours=p50_p95(measured["http"]),
                baseline=f"{p50_p95(measured['sql'])} (SQL, GROUP BY)",
                ratio=value,
                target="p50 < 200 ms",
                met=under(measured["http"]["p50_ms"], 200) and measured["errors"] == 0,
                data=measured,
            )
        )
    return figures


# 5. Throughput -------------------------------------------------------------------------------


def throughput_figures(ctx):
    case = ctx.probe["throughput"]
    duration = ctx.options.wrk_seconds
    measured = {}
    for name in ("bare", "api"):
        url = f"http://127.0.0.1:{ctx.server.port}{case[name]}"
        wrk.run(url, duration=ctx.options.wrk_warmup_seconds)
        measured[name] = wrk.run(url, duration=duration)
        ctx.log(
            f"    wrk {name}: {measured[name]['rps']:.1f} requests/s, "
            f"{measured[name]['errors']} errors"
        )
    api, bare = measured["api"], measured["bare"]
    value = ratio(api["rps"], bare["rps"])
    label = f"{case['rows']} events a page, wrk 16 connections x {duration} s"
    return [
        Figure(
            key=f"{ctx.prefix}.throughput.rps",
            label=f"Throughput, {label}: requests/s",
            ours=f"{api['rps']:,.1f}",
            baseline=f"{bare['rps']:,.1f} (bare Django view, same rows)",
            ratio=value,
            target="≥ 0.6x",
            # Only a baseline that answers the same rows is a fair one.
            met=at_least(value, 0.6) and case["same_rows"],
            data={"api": api, "bare": bare, "same_rows": case["same_rows"]},
        ),
        Figure(
            key=f"{ctx.prefix}.throughput.errors",
            label="Throughput: errors (non-2xx/3xx, socket errors, timeouts)",
            ours=f"{api['errors']} of {api['requests']:,}",
            baseline=f"{bare['errors']} of {bare['requests']:,}",
            target="0",
            met=api["errors"] == 0,
        ),
    ]


def cached_figures(ctx):
    """With the public response cache on (production's default): repeated requests."""
    page = ctx.probe["list"][0]["pages"]["first"]
    measured = latency(ctx, {"path": page["path"]})
    ctx.log(f"    list first page, cached: HTTP {p50_p95(measured['http'])}")
    url = f"http://127.0.0.1:{ctx.server.port}{ctx.probe['throughput']['api']}"
    wrk.run(url, duration=ctx.options.wrk_warmup_seconds)
    api = wrk.run(url, duration=ctx.options.wrk_seconds)
    ctx.log(f"    wrk api, cached: {api['rps']:.1f} requests/s, {api['errors']} errors")
    return [
        Figure(
            key=f"{ctx.prefix}.cached.list.first",
            label="Event list, first page, response cache on (a repeated request): p50 / p95",
            ours=p50_p95(measured["http"]),
            data=measured,
        ),
        Figure(
            key=f"{ctx.prefix}.cached.throughput.rps",
            label="Throughput with the response cache on (one URL, repeated): requests/s",
            ours=f"{api['rps']:,.1f} ({api['errors']} errors)",
            data={"api": api},
        ),
    ]


# 6. Admin -------------------------------------------------------------------------------------


def admin_figures(ctx):
    client = ctx.client()
    if not client.login(**ADMIN_USER):
        raise SystemExit("could not log in to the admin as the bench's superuser")
    pk = ctx.probe["admin"]["change_pk"]
    pages = (
        ("changelist", "/admin/events/event/", "Admin: events changelist", "< 500 ms", 500),
        ("change", f"/admin/events/event/{pk}/change/", "Admin: change page of one event", "", 0),
    )
    figures = []
    for key, path, label, target, limit in pages:
        took, statuses, _body = repeat(
            client, path, reps=ctx.options.admin_reps, warmup=ctx.options.admin_warmup
        )
        stats = summary(took)
        errors = sum(status != 200 for status in statuses)
        ctx.log(f"    {label}: {p50_p95(stats)}, statuses {sorted(set(statuses))}")
        figures.append(
            Figure(
                key=f"{ctx.prefix}.admin.{key}",
                label=f"{label}: p50 / p95",
                ours=p50_p95(stats),
                target=f"p50 {target}" if target else "",
                met=(under(stats["p50_ms"], limit) and not errors) if limit else None,
                data={"path": path, "http": stats, "errors": errors},
            )
        )
    client.close()
    return figures
