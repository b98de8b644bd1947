"""The admin's event import: a 1,000-row CSV previewed, then confirmed, timed over HTTP.

    .venv/bin/python -m bench.import_speed                 # SQLite and PostgreSQL, seed and 100k
    .venv/bin/python -m bench.import_speed --only sqlite-seed,pg-100k --rows 1000

Four databases of its own, each a pristine template made once (migrate, load_seed, and for the
100k ones generate_events) and copied before every run, so a run always imports into the same
state: SQLite files in bench/data/ (import_*.sqlite3) and PostgreSQL databases import_bench_*
(never timeline_bench). The import runs in a process of its own under the production settings
(DEBUG off), through the admin's two views as an editor does: upload (the preview, a dry run)
and confirm. The file is made up: events built from the database's own types, actors and
platforms, a few new actor names the editor ticks, and some rows that look like duplicates.
Nothing is asserted: the figures go in docs and the closing notes.
"""

import argparse
import os
import shutil
import subprocess
import sys
import time
from contextlib import closing

import psycopg2

from bench.databases import PG_SERVER, Database, ensure_pg_database, manage
from bench.server import ROOT, production_env

DATA = ROOT / "bench" / "data"
GENERATED = 100_000
TARGETS = {
    "sqlite-seed": ("sqlite", "import_seed", 0),
    "sqlite-100k": ("sqlite", "import_100k", GENERATED),
    "pg-seed": ("postgresql", "import_bench_seed", 0),
    "pg-100k": ("postgresql", "import_bench", GENERATED),
}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default=",".join(TARGETS), help="comma-separated targets")
    parser.add_argument("--rows", type=int, default=1000)
    parser.add_argument("--measure", action="store_true", help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.measure:
        from bench.import_measure import measure

        measure(options.rows)
        return
    # The production settings serve hashed static files: the pages need their manifest.
    manage("sqlite://:memory:", "collectstatic", "--no-input", "--verbosity", "0")
    for target in options.only.split(","):
        vendor, name, events = TARGETS[target]
        print(f"{target}: {events:,} generated events on top of the seed")
        url = working_copy(vendor, name, events)
        run = subprocess.run(
            [sys.executable, "-m", "bench.import_speed", "--measure", "--rows", str(options.rows)],
            cwd=ROOT,
            env=production_env(url, 0, 1),
            check=False,
        )
        if run.returncode:
            raise SystemExit(f"{target}: the measuring process failed ({run.returncode})")


def working_copy(vendor, name, events):
    """Return the URL of a fresh copy of the target's pristine template, making it if need be."""
    if vendor == "sqlite":
        DATA.mkdir(exist_ok=True)  # a fresh checkout has none
        template = DATA / f"{name}_template.sqlite3"
        if not template.exists() and events == GENERATED and (DATA / "bench.sqlite3").exists():
            shutil.copy(DATA / "bench.sqlite3", template)  # bin/bench's 100k; prepare reuses it
        prepare(Database.sqlite(template), events)
        copy = DATA / f"{name}.sqlite3"
        shutil.copy(template, copy)
        return Database.sqlite(copy).url
    template = f"{name}_template"
    prepare(Database.postgresql(template), events)
    with closing(psycopg2.connect(dbname="postgres", **PG_SERVER)) as connection:
        connection.autocommit = True
        with connection.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}"')
            cursor.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    return Database.postgresql(name).url


def prepare(database, events):
    started = time.monotonic()
    if events:
        database.prepare(events=events, seed=1, log=lambda line: print(f"  {line}"))
    else:
        if database.vendor == "postgresql":
            ensure_pg_database(database.name)
        env = production_env(database.url, 0, 1)
        for command in (["migrate", "--no-input"], ["load_seed"]):
            subprocess.run(
                [sys.executable, "manage.py", *command],
                cwd=ROOT,
                env=env,
                check=True,
                capture_output=True,
            )
    database.close()
    print(f"  template ready in {time.monotonic() - started:.0f} s")


if __name__ == "__main__":
    os.chdir(ROOT)
    main()
