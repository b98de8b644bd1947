"""A private PostgreSQL cluster for the soak: ours to stop and start, on a port of its own.

The machine's main cluster (5432) serves everyone else's tests; the soak never touches it. Its
cluster lives in bench/data/soak-pg (git ignores bench/data/), is created once with initdb,
trusts local connections and listens on the loopback only. PostgreSQL refuses to run as root:
run as root, the soak runs initdb and pg_ctl as the postgres user; otherwise as itself.
"""

import contextlib
import datetime
import os
import re
import shutil
import subprocess
import time
from pathlib import Path

import psycopg2

from bench.databases import GENERATED_EVENTS, manage
from bench.server import ROOT

PG_BIN = Path("/usr/lib/postgresql/15/bin")
# The server's own account of going down and coming back, to the millisecond (log_line_prefix
# "%m [%p] " of initdb's postgresql.conf).
LOGGED = re.compile(
    r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}) UTC \[\d+\] LOG:  "
    r"(database system is shut down|database system is ready to accept connections)",
    re.M,
)
OS_USER = "postgres"
DATA_DIR = ROOT / "bench" / "data" / "soak-pg"


class Cluster:
    """initdb, start, stop and ask: pg_ctl run as the postgres user, on one port."""

    def __init__(self, *, port, data_dir=DATA_DIR, pg_bin=PG_BIN):
        self.port = port
        self.data_dir = Path(data_dir)
        self.pg_bin = Path(pg_bin)
        self.log_path = self.data_dir.parent / "soak-pg.log"

    def url(self, database):
        return f"postgres://postgres@127.0.0.1:{self.port}/{database}"

    def connect(self, database="postgres", timeout=3):
        connection = psycopg2.connect(
            host="127.0.0.1", port=self.port, user="postgres", dbname=database,
            connect_timeout=timeout,
        )  # fmt: skip
        connection.autocommit = True
        return connection

    def ensure(self, log=print):
        """Create the cluster if it is not there yet, then start it if it is down."""
        if not (self.data_dir / "PG_VERSION").exists():
            self._initdb(log)
        if not self.is_running():
            log(f"  starting the private PostgreSQL on port {self.port}")
            self.start()

    def _initdb(self, log):
        if not (self.pg_bin / "initdb").exists():
            raise SystemExit(f"PostgreSQL 15 is not installed here: no {self.pg_bin}/initdb.")
        log(f"  initdb {self.data_dir.relative_to(ROOT)} (PostgreSQL 15, trust on the loopback)")
        if self.data_dir.exists():
            shutil.rmtree(self.data_dir)  # a half-made cluster from an interrupted run
        self.data_dir.mkdir(parents=True)
        self._give(self.data_dir)
        self.data_dir.chmod(0o700)
        self._as_postgres(
            "initdb", "--pgdata", str(self.data_dir), "--username", "postgres",
            "--auth", "trust", "--encoding", "UTF8", "--locale", "C.UTF-8",
        )  # fmt: skip

    def start(self, timeout=60):
        """Start the cluster and return once it accepts connections."""
        self.log_path.touch()
        self._give(self.log_path)
        options = f"-p {self.port} -k /tmp -c listen_addresses=127.0.0.1 -c log_timezone=UTC"
        self._as_postgres(
            "pg_ctl", "--pgdata", str(self.data_dir), "--log", str(self.log_path),
            "--options", options, "--wait", "--timeout", str(timeout), "start",
        )  # fmt: skip
        self.wait_ready(timeout)

    def stop(self, mode="fast", timeout=60):
        """Stop the cluster: fast (backends told to quit, a checkpoint) or immediate (a crash)."""
        self._as_postgres(
            "pg_ctl", "--pgdata", str(self.data_dir), "--mode", mode,
            "--wait", "--timeout", str(timeout), "stop",
        )  # fmt: skip

    def is_running(self):
        result = subprocess.run(
            [*self._as_user(), str(self.pg_bin / "pg_ctl"), "--pgdata", str(self.data_dir),
             "status"],
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        return result.returncode == 0

    def accepts_connections(self):
        with contextlib.suppress(psycopg2.Error):
            self.connect(timeout=1).close()
            return True
        return False

    def wait_ready(self, timeout=60):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.accepts_connections():
                return
            time.sleep(0.05)
        raise SystemExit(f"the private PostgreSQL did not start; see {self.log_path}")

    def log_size(self):
        return self.log_path.stat().st_size if self.log_path.exists() else 0

    def logged_moments(self, offset):
        """Return when the server logged it was shut down and ready, after a log offset."""
        with open(self.log_path, "rb") as log:
            log.seek(offset)
            text = log.read().decode("utf-8", "replace")
        moments = {}
        for stamp, what in LOGGED.findall(text):
            moment = datetime.datetime.strptime(stamp, "%Y-%m-%d %H:%M:%S.%f")
            key = "shut_down" if "shut down" in what else "ready"
            moments.setdefault(key, moment.replace(tzinfo=datetime.UTC).timestamp())
        return moments

    def ensure_database(self, name):
        """Create a database unless it exists; return whether it was created."""
        with contextlib.closing(self.connect()) as connection, connection.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
            if cursor.fetchone() is not None:
                return False
            cursor.execute(f'CREATE DATABASE "{name}"')
            return True

    def version(self):
        with contextlib.closing(self.connect()) as connection, connection.cursor() as cursor:
            cursor.execute("SHOW server_version")
            return cursor.fetchone()[0]

    @staticmethod
    def _as_user():
        return ["runuser", "-u", OS_USER, "--"] if os.geteuid() == 0 else []

    @staticmethod
    def _give(path):
        if os.geteuid() == 0:
            shutil.chown(path, OS_USER, OS_USER)

    def _as_postgres(self, program, *args):
        command = [*self._as_user(), str(self.pg_bin / program), *args]
        result = subprocess.run(command, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise SystemExit(
                f"{program} {' '.join(args)} failed:\n{result.stdout}{result.stderr}\n"
                f"(server log: {self.log_path})"
            )
        return result.stdout


def prepare(cluster, *, name, events, seed, log=print):
    """Create, migrate and seed the soak database; generate events unless it has that many.

    As bench.databases prepares the bench's own, but on the private cluster: generating
    100,000 events takes a minute or two, so a database that has them is reused.
    """
    if cluster.ensure_database(name):
        log(f"  created database {name}")
    url = cluster.url(name)
    manage(url, "migrate", "--no-input", log=log)
    manage(url, "load_seed", log=log)
    with contextlib.closing(cluster.connect(name)) as connection, connection.cursor() as cursor:
        cursor.execute(GENERATED_EVENTS)
        generated = cursor.fetchone()[0]
    if generated == events:
        log(f"  reusing {generated:,} generated events")
        return {"generated_now": False, "generation_seconds": None}
    if generated:
        manage(url, "generate_events", "--delete", log=log)
    log(f"  generating {events:,} events (seed {seed})")
    _out, seconds = manage(
        url, "generate_events", "--count", str(events), "--seed", str(seed), log=log, show=True
    )
    log(f"  generated in {seconds:.0f} s")
    return {"generated_now": True, "generation_seconds": round(seconds, 1)}
