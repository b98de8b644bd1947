"""The bench databases: created, migrated, seeded and generated once, then reused.

PostgreSQL: postgres://postgres@127.0.0.1:5432/timeline_bench. SQLite: bench/data/*.sqlite3.
Events are generated (manage.py generate_events) only when the database does not already hold
the number of generated events asked for (some with Chinese originals), since a million takes
minutes.
"""

import contextlib
import sqlite3
import subprocess
import sys
import time

import psycopg2

from bench.server import ROOT, production_env

PG_SERVER = {"host": "127.0.0.1", "port": 5432, "user": "postgres"}
GENERATED_EVENTS = "SELECT count(*) FROM events_event WHERE internal_notes LIKE '[generated]%'"
# Events generated before generate_events wrote Chinese originals leave q=微信 nothing to find.
GENERATED_IN_CHINESE = GENERATED_EVENTS + " AND original_language LIKE 'zh-%'"


def pg_url(name):
    return f"postgres://{PG_SERVER['user']}@{PG_SERVER['host']}:{PG_SERVER['port']}/{name}"


def sqlite_url(path):
    return f"sqlite:///{path}"


def manage(database_url, *args, log=print, show=False):
    """Run a manage.py command against a bench database; stop the bench if it fails.

    With show, its output (a progress bar) goes straight to the terminal.
    """
    log(f"  manage.py {' '.join(args)}")
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=production_env(database_url, 0, 1),
        stdout=None if show else subprocess.PIPE,
        stderr=None if show else subprocess.STDOUT,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise SystemExit(f"manage.py {' '.join(args)} failed:\n{(result.stdout or '')[-3000:]}")
    return result.stdout, time.monotonic() - started


def ensure_pg_database(name):
    with contextlib.closing(psycopg2.connect(dbname="postgres", **PG_SERVER)) as connection:
        connection.autocommit = True
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
            if cursor.fetchone() is None:
                cursor.execute(f'CREATE DATABASE "{name}"')
                return True
    return False


class Database:
    """One bench database: its URL for Django and a plain connection for bare SQL."""

    def __init__(self, *, vendor, name, url):
        self.vendor, self.name, self.url = vendor, name, url
        self._connection = None

    @classmethod
    def postgresql(cls, name):
        return cls(vendor="postgresql", name=name, url=pg_url(name))

    @classmethod
    def sqlite(cls, path):
        return cls(vendor="sqlite", name=str(path), url=sqlite_url(path))

    def connection(self):
        if self._connection is None:
            if self.vendor == "postgresql":
                self._connection = psycopg2.connect(dbname=self.name, **PG_SERVER)
                self._connection.autocommit = True
            else:
                self._connection = sqlite3.connect(self.name, isolation_level=None)
        return self._connection

    def close(self):
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def scalar(self, sql):
        cursor = self.connection().cursor()
        try:
            cursor.execute(sql)
            return cursor.fetchone()[0]
        finally:
            cursor.close()

    def timed_query(self, sql):
        """Run one statement and fetch every row; return (seconds, rows fetched)."""
        cursor = self.connection().cursor()
        try:
            started = time.perf_counter()
            cursor.execute(sql)
            rows = cursor.fetchall()
            return time.perf_counter() - started, len(rows)
        finally:
            cursor.close()

    def version(self):
        if self.vendor == "postgresql":
            return self.scalar("SHOW server_version")
        return sqlite3.sqlite_version

    def prepare(self, *, events, seed, log=print):
        """Create, migrate and seed the database; generate `events` events unless it has them.

        PostgreSQL gets VACUUM ANALYZE after generating, as autovacuum would give it. SQLite is
        left as `make run` leaves it: never analyzed (no sqlite_stat1), so its planner works
        from defaults, as it does for everyone who runs the embedded default.
        """
        if self.vendor == "postgresql" and ensure_pg_database(self.name):
            log(f"  created database {self.name}")
        manage(self.url, "migrate", "--no-input", log=log)
        manage(self.url, "load_seed", log=log)
        generated = self.scalar(GENERATED_EVENTS)
        prepared = {"generated_now": False, "generation_seconds": None}
        if generated == events and self.scalar(GENERATED_IN_CHINESE):
            log(f"  reusing {generated:,} generated events")
        else:
            prepared = self._generate(events, seed, generated, log)
        if self.vendor == "sqlite":
            self._forget_statistics()
        return prepared

    def _generate(self, events, seed, generated, log):
        self.close()
        if generated:
            manage(self.url, "generate_events", "--delete", log=log)
        log(f"  generating {events:,} events (seed {seed}); a million takes minutes")
        _out, seconds = manage(
            self.url,
            "generate_events",
            "--count",
            str(events),
            "--seed",
            str(seed),
            log=log,
            show=True,
        )
        log(f"  generated in {seconds:.0f} s")
        if self.vendor == "postgresql":
            log("  VACUUM ANALYZE")
            cursor = self.connection().cursor()
            cursor.execute("VACUUM ANALYZE")
            cursor.close()
        return {"generated_now": True, "generation_seconds": round(seconds, 1)}

    def _forget_statistics(self):
        """Drop what ANALYZE recorded, so SQLite plans as it does in a fresh install."""
        connection = self.connection()
        tables = connection.execute(
            "SELECT name FROM sqlite_master WHERE name LIKE 'sqlite_stat%'"
        ).fetchall()
        for (table,) in tables:
            connection.execute(f"DELETE FROM {table}")
        if tables:
            connection.execute("ANALYZE sqlite_schema")  # reload the (now empty) statistics
