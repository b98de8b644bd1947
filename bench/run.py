"""Run the benchmark suite: PostgreSQL with a million events, then SQLite with 100,000.

Each database is prepared (or reused), probed once through Django for the SQL and cursors the
measurements need, then served by gunicorn as in production while the client here measures.
"""

import json
import os
import subprocess
import sys
import time

from bench import measure, pages, profiling, report
from bench.client import repeat
from bench.databases import Database, manage
from bench.options import parse
from bench.server import ROOT, Server, production_env

PG_SECTIONS = ("export", "list", "pages", "search", "stats", "throughput", "admin")
# Measured by a second server with the public response cache on (bench/settings.py).
CACHED_SECTIONS = ("cached",)


class Log:
    def __init__(self):
        self.started = time.monotonic()

    def __call__(self, text):
        elapsed = time.monotonic() - self.started
        print(f"[{elapsed:6.0f} s] {text}", flush=True)


def main(argv=None):
    options = parse(argv)
    log = Log()
    options.data_dir.mkdir(parents=True, exist_ok=True)
    results = {
        "kind": options.kind,
        "started_at": report.utc_now(),
        "options": {
            key: str(value) if not isinstance(value, int | bool | tuple) else value
            for key, value in vars(options).items()
        },
        "machine": report.machine(),
        "databases": {},
        "figures": [],
        "server": {"workers": options.workers, "config": None},
        "load_average": {"start": os.getloadavg()[0]},
    }
    if options.prepare_only:
        prepare(options, log)
        return
    log(f"Benchmark, {options.kind} run: sections {', '.join(options.sections)}")
    manage("sqlite://:memory:", "collectstatic", "--no-input", "--verbosity", "0", log=log)
    if set(options.sections) & {*PG_SECTIONS, *CACHED_SECTIONS}:
        run_postgresql(options, results, log)
    if "sqlite" in options.sections:
        run_sqlite(options, results, log)
    results["finished_at"] = report.utc_now()
    results["load_average"]["end"] = os.getloadavg()[0]
    results["seconds"] = round(time.monotonic() - log.started)
    paths = report.write(results, options.results_dir)
    print()
    print(report.markdown(results))
    log("Wrote " + ", ".join(str(path.relative_to(ROOT)) for path in paths))


def prepare(options, log):
    """Create, migrate, seed and generate both bench databases; measure nothing."""
    for database, events in (
        (Database.postgresql(options.pg_database), options.events),
        (Database.sqlite(options.sqlite_path), options.sqlite_events),
    ):
        log(f"Preparing {database.name} with {events:,} generated events")
        database.prepare(events=events, seed=options.seed, log=log)
        database.close()


def run_postgresql(options, results, log):
    database = Database.postgresql(options.pg_database)
    log(f"PostgreSQL: preparing {database.name} with {options.events:,} generated events")
    prepared = database.prepare(events=options.events, seed=options.seed, log=log)
    server = Server(
        name="postgresql",
        database_url=database.url,
        workers=options.workers,
        log_dir=options.data_dir,
    )
    log("  probing through Django: filter values, deep cursors, SQL, COPY")
    probe = run_probe(database, server, options, sqlite=False)
    results["databases"]["postgresql"] = {
        "name": database.name,
        "version": database.version(),
        "counts": probe["counts"],
        "prepared": prepared,
        "list_cases": [
            {"name": case["name"], "params": case["params"], "count": case["count"]}
            for case in probe["list"]
        ],
    }
    results["server"] = _server_info(server) | {
        # The bench's own settings turn the response cache off (bench/settings.py): 0 here.
        "public_cache_seconds": probe.get("public_cache_seconds"),
    }
    log(f"  starting gunicorn on port {server.port} ({results['server']['settings']})")
    with server:
        context = _pg_context(options, server, database, probe, log)
        for section in PG_SECTIONS:
            if section in options.sections:
                log(f"  {section}")
                results["figures"] += SECTIONS[section](context)
        if options.profile:
            profile(context, log)
    if "cached" in options.sections:
        run_cached(options, results, database, probe, log)
    database.close()


def _pg_context(options, server, database, probe, log):
    return measure.Context(
        options=options,
        server=server,
        database=database,
        probe=probe,
        tmp_dir=options.results_dir,
        prefix="pg",
        log=log,
    )


def run_cached(options, results, database, probe, log):
    server = Server(
        name="postgresql-cached",
        database_url=database.url,
        workers=options.workers,
        log_dir=options.data_dir,
        response_cache=True,
    )
    log(f"  cached: gunicorn with the response cache on, port {server.port}")
    with server:
        context = _pg_context(options, server, database, probe, log)
        results["figures"] += measure.cached_figures(context)


def run_sqlite(options, results, log):
    database = Database.sqlite(options.sqlite_path)
    log(f"SQLite: preparing {database.name} with {options.sqlite_events:,} generated events")
    prepared = database.prepare(events=options.sqlite_events, seed=options.seed, log=log)
    server = Server(
        name="sqlite", database_url=database.url, workers=options.workers, log_dir=options.data_dir
    )
    log("  probing through Django")
    probe = run_probe(database, server, options, sqlite=True)
    results["databases"]["sqlite"] = {
        "path": str(options.sqlite_path.relative_to(ROOT)),
        "version": database.version(),
        "counts": probe["counts"],
        "prepared": prepared,
    }
    log(f"  starting gunicorn on port {server.port}")
    with server:
        context = measure.Context(
            options=options,
            server=server,
            database=database,
            probe=probe,
            tmp_dir=options.results_dir,
            prefix="sqlite",
            log=log,
        )
        log("  export")
        results["figures"] += measure.export_figures(context, with_baseline=False)
        log("  list")
        results["figures"] += measure.list_figures(context)
    database.close()


SECTIONS = {
    "export": measure.export_figures,
    "list": measure.list_figures,
    "pages": pages.pages_figures,
    "search": measure.search_figures,
    "stats": measure.stats_figures,
    "throughput": measure.throughput_figures,
    "admin": measure.admin_figures,
}


def run_probe(database, server, options, *, sqlite):
    spec = {
        "page_size": options.page_size,
        "deep_offset": options.deep_offset,
        "page_base": f"http://127.0.0.1:{server.port}/events/",
        "with_filters": not sqlite,
        "search": not sqlite and "search" in options.sections,
        "stats": not sqlite and "stats" in options.sections,
        "throughput": not sqlite and bool({"throughput", "cached"} & set(options.sections)),
        "throughput_page_size": options.throughput_page_size,
        "copy": not sqlite and "export" in options.sections,
        "admin": None if sqlite or "admin" not in options.sections else measure.ADMIN_USER,
    }
    name = "sqlite" if sqlite else "postgresql"
    spec_path = options.data_dir / f"probe-{name}-spec.json"
    out_path = options.data_dir / f"probe-{name}.json"
    spec_path.write_text(json.dumps(spec))
    result = subprocess.run(
        [sys.executable, "-m", "bench.probe", str(spec_path), str(out_path)],
        cwd=ROOT,
        env=production_env(database.url, server.port, 1),
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise SystemExit(f"the probe failed:\n{result.stdout[-2000:]}\n{result.stderr[-4000:]}")
    return json.loads(out_path.read_text())


def _server_info(server):
    settings = server.effective_config()
    return {
        "workers": settings.get("workers"),
        "settings": settings,
        "config": settings["config_file"] or "command-line flags (no config/gunicorn.conf.py)",
    }


def profile(context, log):
    """Flame graphs of the workers under the list and the export; figures are not taken here."""
    log("  profiling with py-spy (figures above were taken without it)")
    pages = context.probe["list"][0]["pages"]
    client = context.client()
    with profiling.profiled(context, "list"):
        for page in pages.values():
            repeat(client, page["path"], reps=max(60, context.options.reps), warmup=0)
    client.close()
    with profiling.profiled(context, "export"):
        measure.api_export(context, expected=None)
