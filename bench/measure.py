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
ROW_COUNT_HEADER = "X-Row-Count"  # timeline.exports.ROW_COUNT_HEADER
ADMIN_USER = {"username": "bench-admin", "password": "bench-admin-password-not-secret-42"}
PSQL_COPY_ROWS = re.compile(r"^COPY (\d+)$", re.M)
MIN_REPS = 10


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
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


# 1. CSV export ------------------------------------------------------------------------------


def export_figures(ctx, *, with_baseline=True):
    """Time the whole CSV download, verify its rows, watch the workers' memory, beside psql."""
    expected = ctx.database.scalar("SELECT count(*) FROM events_event WHERE status = 'published'")
    api_runs, psql_runs = [], []
    for run in range(ctx.options.export_reps):
        if with_baseline:
            psql_runs.append(psql_copy(ctx))
            ctx.log(f"    psql \\copy run {run + 1}: {psql_runs[-1]['seconds']:.2f} s")
        api_runs.append(api_export(ctx, expected))
        ctx.log(
            f"    API export run {run + 1}: {api_runs[-1]['seconds']:.2f} s, "
            f"{api_runs[-1]['rows']:,} rows, worker grew {megabytes(api_runs[-1]['growth'])}"
        )
    best = min(api_runs, key=lambda run: run["seconds"])
    data = {"expected_rows": expected, "api_runs": api_runs, "psql_runs": psql_runs}
    figures = [_export_time(ctx, best, psql_runs, expected, data), _rows_arrived(ctx, api_runs)]
    growth = max(run["growth"] for run in api_runs)
    peak = max(run["memory"]["peak_bytes"] for run in api_runs)
    main = ctx.prefix == "pg"  # the target is for the million on PostgreSQL
    figures.append(
        Figure(
            key=f"{ctx.prefix}.export.memory_growth",
            label=ctx.label("CSV export: server worker memory growth (peak - before)"),
            ours=f"{megabytes(growth)} (peak RSS {megabytes(peak)})",
            target="< 100 MB" if main else "",
            met=under(growth, 100e6) if main else None,
            data={"growth_bytes": growth, "memory": [run["memory"] for run in api_runs]},
        )
    )
    return figures


def _export_time(ctx, best, psql_runs, expected, data):
    if not psql_runs:  # SQLite: the rate is the figure
        rate = expected / best["seconds"]
        return Figure(
            key=f"{ctx.prefix}.export.rate",
            label=ctx.label(f"CSV export of {expected:,} published events (Python writer)"),
            ours=f"{seconds(best['seconds'])} ({rate:,.0f} rows/s)",
            data=data | {"rows_per_second": round(rate)},
        )
    baseline = min(run["seconds"] for run in psql_runs)
    value = ratio(best["seconds"], baseline)
    return Figure(
        key=f"{ctx.prefix}.export.time",
        label=f"CSV export of all {expected:,} published events, best of {len(data['api_runs'])}",
        ours=seconds(best["seconds"]),
        baseline=f"{seconds(baseline)} (psql \\copy, same SQL)",
        ratio=value,
        target="≤ 1.5x",
        met=at_most(value, 1.5),
        data=data | {"bytes": best["bytes"], "mb_per_s": best["bytes"] / best["seconds"] / 1e6},
    )


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
        label=ctx.label("CSV export arrived whole (rows parsed = published events), every run"),
        ours=", ".join(f"{run['rows']:,}" for run in runs),
        baseline=f"{expected:,} published{announced}",
        target="all rows",
        met=whole,
    )


def api_export(ctx, expected):
    path = ctx.tmp_dir / f"export-{ctx.prefix}.csv.tmp"
    client = ctx.client()
    cpu_before = resource.getrusage(resource.RUSAGE_SELF)
    with MemorySampler(ctx.server) as memory, open(path, "wb") as file:
        elapsed, status, headers, written = client.download(EXPORT_PATH, file)
    cpu_after = resource.getrusage(resource.RUSAGE_SELF)
    try:
        rows, header, last = count_csv_rows(path)
    finally:
        path.unlink()
    declared = _declared_rows(headers)
    whole = status == 200 and rows == expected and declared in (None, expected)
    return {
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


def psql_copy(ctx):
    """Time psql's \\copy of the export's own SELECT into /dev/null: the physical limit."""
    copy = ctx.probe["copy"]
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
        target="p50 < 25 ms" if ctx.prefix == "pg" else "",
        met=(under(http["p50_ms"], 25) and not measured["errors"] and right)
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
