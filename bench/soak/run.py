"""The soak: steady reads and curators' writes, PostgreSQL stopped and started in the middle.

1. The private cluster (bench.soak.cluster) is created or started, its database migrated,
   seeded and filled with 100,000 generated events (once; reused while the count matches).
2. gunicorn serves the app as bin/serve does (bench.server, config.settings), the public
   response cache off so that every read reaches the database.
3. wrk reads a mix of public URLs; a prober asks one API URL and one page every 200 ms; one
   writer goes through events.services in a process of its own, another through the admin.
4. After --steady seconds the cluster is stopped (pg_ctl -m immediate by default), started
   again --down seconds later, and the load goes on for --after seconds once it is ready.
5. The writes are checked against the database, and the report printed and written to
   bench/results/soak-latest.{md,json} (soak-latest-quick.* for --quick, which git ignores).
"""

import contextlib
import json
import os
import signal
import subprocess
import sys
import time

from bench import report as bench_report
from bench.client import Client
from bench.databases import manage
from bench.run import Log
from bench.server import ROOT, Server, production_env
from bench.soak import analysis, report, writes
from bench.soak.admin_writer import AdminWriter
from bench.soak.cluster import Cluster, prepare
from bench.soak.options import parse
from bench.soak.readers import MemoryWatch, Prober, Wrk

ADMIN_USER = {"username": "soak-editor", "password": "soak-editor-password-not-secret-42"}


class SoakServer(Server):
    """bench.server's gunicorn, run with the production settings themselves.

    The soak runs config.settings, exactly as served in production (bench.settings adds the
    bench's own URLs and settings), with the public response cache off (PUBLIC_CACHE_SECONDS=0)
    so that every read reaches the database. Worker recycling is set by --max-requests.
    """

    ready_path = "/api/v1/event-types/"  # config.urls has no bench view

    def __init__(self, *, max_requests, **kwargs):
        super().__init__(**kwargs)
        self.max_requests = max_requests
        self.env.update(DJANGO_SETTINGS_MODULE="config.settings", PUBLIC_CACHE_SECONDS="0")

    def command(self):
        command = super().command()
        if self.max_requests is not None:
            command[-1:-1] = ["--max-requests", str(self.max_requests)]
        return command


def main(argv=None):
    options = parse(argv)
    log = Log()
    options.data_dir.mkdir(parents=True, exist_ok=True)
    cluster = Cluster(port=options.pg_port)
    results = {
        "kind": options.kind,
        "run": time.strftime("%Y%m%dT%H%M%S", time.gmtime()),
        "started_at": bench_report.utc_now(),
        "options": {key: str(value) for key, value in vars(options).items()},
        "machine": bench_report.machine(),
        "load_average": {"start": os.getloadavg()[0]},
    }
    log(f"Soak, {options.kind} run {results['run']}")
    try:
        cluster.ensure(log)
        log(f"Preparing {options.database} with {options.events:,} generated events")
        results["database"] = prepare(
            cluster, name=options.database, events=options.events, seed=options.seed, log=log
        ) | {"version": cluster.version(), "port": options.pg_port}
        soak(options, cluster, results, log)
    finally:
        if not cluster.is_running():
            log("  starting the private PostgreSQL again")
            cluster.start()
        if not options.keep_cluster:
            log("  stopping the private PostgreSQL (--keep-cluster leaves it running)")
            cluster.stop("fast")
    results["finished_at"] = bench_report.utc_now()
    results["load_average"]["end"] = os.getloadavg()[0]
    results["seconds"] = round(time.monotonic() - log.started)
    results["checks"] = report.checks(results, options)
    paths = report.write(results, options.results_dir, options.data_dir)
    print()
    print(report.markdown(results))
    log("Wrote " + ", ".join(str(path.relative_to(ROOT)) for path in paths))
    failed = [check for check in results["checks"] if not check["ok"]]
    if failed:
        log("FAILED: " + "; ".join(check["name"] for check in failed))
        sys.exit(1)


def soak(options, cluster, results, log):
    url = cluster.url(options.database)
    manage("sqlite://:memory:", "collectstatic", "--no-input", "--verbosity", "0", log=log)
    log("  writer setup: the editor account, what events cite, earlier soak events removed")
    setup = service_writer_setup(options, url, results["run"])
    results["database"]["counts"] = counts(cluster, options.database)
    paths = reader_paths(cluster, options.database)
    results["readers"] = {"paths": paths["mix"], "probed": paths["probe"]}
    server = SoakServer(
        name="soak",
        database_url=url,
        workers=options.workers,
        log_dir=options.data_dir,
        max_requests=options.max_requests,
    )
    results["server"] = {"settings": server.effective_config(), "command": server.command()}
    log(f"  starting gunicorn on port {server.port}: {results['server']['settings']}")
    with server:
        results["warmup"] = warm_up(server, paths)
        log(f"  warm-up: {results['warmup']}")
        load(options, cluster, server, setup, paths, results, log)
    log_text = server.log_path.read_text(errors="replace")[results.pop("_log_offset") :]
    results["gunicorn_log"] = analysis.gunicorn_log_figures(
        log_text, results["memory"]["pids_before"]
    )
    log("  checking every write against the database")
    stored = writes.stored_counts(cluster, options.database, results["run"])
    ready = results["timeline"]["db_ready"]
    records = results.pop("_write_records")
    results["raw"]["writes"] = records
    results["writes"] = {
        name: writes.summarise(attempts, stored, db_ready_at=ready)
        for name, attempts in records.items()
    }


def load(options, cluster, server, setup, paths, results, log):
    """Run the readers and writers, stop the database and start it again; record it all."""
    admin = AdminWriter(
        port=server.port,
        username=ADMIN_USER["username"],
        password=ADMIN_USER["password"],
        run=results["run"],
        setup=setup,
        interval=options.admin_interval,
    )
    admin.login()
    memory = MemoryWatch(server)
    before = memory.sample()
    results["_log_offset"] = server.log_path.stat().st_size
    stop_file = options.data_dir / f"soak-{results['run']}.stop"
    records_path = options.data_dir / "soak-writes.jsonl"
    records_path.unlink(missing_ok=True)
    prober = Prober(port=server.port, urls=paths["probe"], interval=options.probe_interval)
    total = options.steady + options.down + options.after
    reader = Wrk(
        base_url=f"http://127.0.0.1:{server.port}",
        paths=paths["mix"],
        seconds=total + 300,  # ended with SIGINT once the after phase is over
        connections=options.connections,
        threads=options.threads,
        think_ms=options.think_ms,
        timeout=10,
    )
    writer = start_service_writer(options, server, setup, results["run"], stop_file, records_path)
    log(f"  load: wrk -c{options.connections}, prober, service writer, admin writer")
    timeline = {"load_started": time.time()}
    memory.start()
    prober.start()
    reader.start()
    admin.start()
    try:
        outage(options, cluster, timeline, log)
        log(f"  database ready again; {options.after} s more")
        time.sleep(max(0.0, timeline["db_ready"] + options.after - time.time()))
    finally:
        timeline["load_ended"] = time.time()
        reader.process.send_signal(signal.SIGINT)  # wrk prints its summary and done() output
        stop_file.touch()
        admin.stop()
        prober.stop()
        memory.stop()
    wrk_result = reader.result(timeout=60)
    writer.wait(timeout=120)
    after = memory.sample()
    stop_file.unlink(missing_ok=True)
    results["timeline"] = timeline
    results["readers"]["wrk"] = analysis.wrk_figures(wrk_result, timeline)
    results["readers"]["prober"] = analysis.prober_figures(prober.records, timeline, paths["probe"])
    results["raw"] = {"prober": prober.records}
    results["leaks"] = analysis.leaks_in(results["readers"]["prober"], results["readers"]["wrk"])
    results["memory"] = analysis.memory_figures(before, after, memory.samples, timeline)
    results["_write_records"] = {
        "services": [json.loads(line) for line in records_path.read_text().splitlines()],
        "admin": admin.records,
    }


def outage(options, cluster, timeline, log):
    """Steady load, then the database stopped, kept down, started: the moments, recorded.

    The database counts as back when the server logged "ready to accept connections" (its own
    clock, to the millisecond); the moment a client of ours first connected is kept too.
    """
    time.sleep(max(0.0, timeline["load_started"] + options.steady - time.time()))
    log(f"  stopping PostgreSQL (pg_ctl stop -m {options.stop_mode})")
    offset = cluster.log_size()
    timeline["db_stop_issued"] = time.time()
    cluster.stop(options.stop_mode)
    timeline["db_stopped"] = time.time()
    time.sleep(options.down)
    log("  starting PostgreSQL")
    timeline["db_start_issued"] = time.time()
    cluster.start()
    timeline["db_connected"] = time.time()
    logged = cluster.logged_moments(offset)
    timeline["db_shut_down_logged"] = logged.get("shut_down")
    timeline["db_ready"] = logged.get("ready", timeline["db_connected"])


def start_service_writer(options, server, setup, run, stop_file, records_path, timeout=120):
    """Start the service writer's process; return it once Django is set up and it may write."""
    ready_file = options.data_dir / f"soak-{run}.ready"
    spec = {
        "mode": "write",
        "run": run,
        "interval": options.writer_interval,
        "stop_file": str(stop_file),
        "ready_file": str(ready_file),
        "output": str(records_path),
        **setup,
    }
    spec_path = options.data_dir / "soak-writer-spec.json"
    spec_path.write_text(json.dumps(spec))
    log_path = options.data_dir / "soak-writer.log"
    with open(log_path, "wb") as log_file:  # the child keeps its own copy
        process = subprocess.Popen(
            [sys.executable, "-m", "bench.soak.service_writer", str(spec_path)],
            cwd=ROOT,
            env=server.env,
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
    deadline = time.monotonic() + timeout
    while not ready_file.exists():
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise SystemExit(f"the service writer did not start; see {log_path}")
        time.sleep(0.1)
    ready_file.unlink()
    return process


def service_writer_setup(options, url, run):
    output = options.data_dir / "soak-setup.json"
    spec = {"mode": "setup", "run": run, "output": str(output), **ADMIN_USER}
    spec_path = options.data_dir / "soak-setup-spec.json"
    spec_path.write_text(json.dumps(spec))
    result = subprocess.run(
        [sys.executable, "-m", "bench.soak.service_writer", str(spec_path)],
        cwd=ROOT,
        env=production_env(url, 0, 1),
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise SystemExit(
            f"the writer setup failed:\n{result.stdout[-2000:]}\n{result.stderr[-4000:]}"
        )
    return json.loads(output.read_text())


def counts(cluster, database):
    with contextlib.closing(cluster.connect(database)) as connection, connection.cursor() as cur:
        cur.execute(
            "SELECT count(*), count(*) FILTER (WHERE status = 'published') FROM events_event"
        )
        events, published = cur.fetchone()
    return {"events": events, "published": published}


def reader_paths(cluster, database):
    """Return the wrk mix of public URLs and the two the prober watches, from the data."""
    with contextlib.closing(cluster.connect(database)) as connection, connection.cursor() as cur:
        cur.execute(
            "SELECT public_id FROM events_event WHERE status = 'published' "
            "ORDER BY id LIMIT 6 OFFSET 5000"
        )
        ids = [row[0] for row in cur.fetchall()]
        cur.execute(
            "SELECT country, count(*) FROM events_event WHERE status = 'published' "
            "AND country <> '' GROUP BY country ORDER BY 2 DESC LIMIT 1"
        )
        country = cur.fetchone()[0]
        cur.execute(
            "SELECT t.slug FROM events_event e JOIN events_eventtype t ON t.id = e.event_type_id "
            "WHERE e.status = 'published' GROUP BY t.slug ORDER BY count(*) DESC LIMIT 1"
        )
        event_type = cur.fetchone()[0]
        # A small export: a country and a year holding a few dozen to a few hundred events.
        cur.execute(
            "SELECT country, extract(year FROM date_earliest)::int FROM events_event "
            "WHERE status = 'published' AND country <> '' GROUP BY 1, 2 "
            "HAVING count(*) BETWEEN 30 AND 300 ORDER BY count(*) DESC LIMIT 1"
        )
        small_country, year = cur.fetchone()
    api = "/api/v1/events/"
    mix = [
        f"{api}?page_size=20",
        f"{api}?country={country}&page_size=20",
        f"{api}?type={event_type}&date_from=2015&date_to=2018&page_size=20",
        f"{api}{ids[0]}/",
        f"{api}{ids[1]}/",
        "/api/v1/stats/?group_by=country",
        "/",
        f"/events/{ids[2]}/",
        f"{api}?format=csv&country={small_country}&date_from={year}&date_to={year}"
        "&date_match=within",
        f"{api}{ids[3]}/",
    ]
    probe = {"api": f"{api}{ids[4]}/", "page": f"/events/{ids[5]}/"}
    return {"mix": mix, "probe": probe}


def warm_up(server, paths):
    """GET every URL once; stop here unless all answer 200, since the figures would mean little."""
    client = Client(server.port, timeout=60)
    statuses = {}
    for path in [*paths["mix"], *paths["probe"].values()]:
        started = time.perf_counter()
        status, _headers, _body = client.get(path)
        statuses[path] = {"status": status, "ms": round((time.perf_counter() - started) * 1000)}
    client.close()
    failing = {path: found for path, found in statuses.items() if found["status"] != 200}
    if failing:
        raise SystemExit(f"some reader URLs do not answer 200 before the soak: {failing}")
    return statuses


if __name__ == "__main__":
    main()
