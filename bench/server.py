"""The app under gunicorn as production runs it, and the memory of its worker processes."""

import contextlib
import os
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path

from bench.client import Client

ROOT = Path(__file__).resolve().parent.parent
GUNICORN = ROOT / ".venv" / "bin" / "gunicorn"
GUNICORN_CONF = ROOT / "config" / "gunicorn.conf.py"
READY_PATH = "/bench/bare-events/"
# Throttling stays on, as in production, with a one-second window: the per-client history
# DRF keeps (and pickles on every request) stays as short as production's 1200/minute keeps it.
BENCH_ANON_RATE = "1000000/second"


def production_env(database_url, port, workers, *, response_cache=False):
    """Return the environment bin/serve gives the app, pointed at a bench database.

    As bin/serve on this machine: plain http on the loopback (HTTPS=false), static files
    collected and hashed (STATIC_MANIFEST, so collectstatic runs first).
    """
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "DATABASE_", "GUNICORN_", "BENCH_"))
    }
    env.update(
        DEBUG="false",
        HTTPS="false",
        STATIC_MANIFEST="true",
        SECRET_KEY="bench-only-secret-key-not-for-any-real-site-0123456789",
        ALLOWED_HOSTS="127.0.0.1,localhost",
        DATABASE_URL=database_url,
        DJANGO_SETTINGS_MODULE="bench.settings",
        API_ANON_RATE=BENCH_ANON_RATE,
        WEB_CONCURRENCY=str(workers),
        BIND=f"127.0.0.1:{port}",
        BENCH_RESPONSE_CACHE="on" if response_cache else "off",
    )
    return env


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Server:
    """gunicorn with the project's config/gunicorn.conf.py, on a free port of the loopback."""

    ready_path = READY_PATH  # answers 200 once the app is up

    def __init__(self, *, name, database_url, workers, log_dir, response_cache=False):
        self.name = name
        self.port = free_port()
        self.workers = workers
        self.env = production_env(database_url, self.port, workers, response_cache=response_cache)
        self.log_path = Path(log_dir) / f"gunicorn-{name}.log"
        self.process = None

    def command(self):
        if not GUNICORN.exists():
            raise SystemExit("gunicorn is not installed in .venv: requirements.txt should pin it.")
        command = [str(GUNICORN)]
        if GUNICORN_CONF.exists():
            command += ["--config", str(GUNICORN_CONF)]
        else:  # until the production config lands: what it is meant to say
            command += ["--worker-class", "gthread", "--threads", "4", "--timeout", "120"]
        # Given again on the command line, which wins over the config file.
        command += ["--workers", str(self.workers), "--bind", f"127.0.0.1:{self.port}"]
        return [*command, "config.wsgi:application"]

    def effective_config(self):
        """Return the settings gunicorn will run with (config file, env and flags merged)."""
        command = self.command()
        result = subprocess.run(
            [command[0], "--print-config", *command[1:]],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            check=False,
        )
        wanted = ("worker_class", "workers", "threads", "timeout", "keepalive", "max_requests")
        settings = {}
        for line in result.stdout.splitlines():
            name, _, value = line.partition("=")
            if name.strip() in wanted:
                settings[name.strip()] = value.strip()
        settings["config_file"] = (
            str(GUNICORN_CONF.relative_to(ROOT)) if GUNICORN_CONF.exists() else None
        )
        return settings

    def start(self, timeout=60):
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "wb") as log:  # gunicorn keeps its own copy of the file
            self.process = subprocess.Popen(
                self.command(), cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT
            )
        self._wait_until_ready(timeout)
        return self

    def stop(self):
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def worker_pids(self):
        return children(self.process.pid)

    def _wait_until_ready(self, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"gunicorn stopped at start; see {self.log_path}")
            with contextlib.suppress(OSError):
                client = Client(self.port, timeout=5)
                status, _headers, _body = client.get(self.ready_path)
                client.close()
                if status == 200 and len(self.worker_pids()) >= self.workers:
                    return
            time.sleep(0.2)
        self.stop()
        raise SystemExit(f"gunicorn did not answer within {timeout} s; see {self.log_path}")


def children(pid):
    """Return the ids of a process's children, from /proc/*/stat (no /proc/*/children here)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            # pid (comm) state ppid ...: comm may hold spaces and parentheses.
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[1]) == pid:
                found.append(int(stat.parent.name))
    return sorted(found)


def rss_bytes(pid):
    """Return a process's resident set size, or None once it has gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


class MemorySampler:
    """Sample the RSS of every gunicorn worker every 50 ms; keep each one's first and peak."""

    def __init__(self, server, interval=0.05):
        self.server = server
        self.interval = interval
        self.before = {}
        self.peak = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self):
        self.before = self._sample()
        self.peak = dict(self.before)
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()

    def _sample(self):
        sizes = {pid: rss_bytes(pid) for pid in self.server.worker_pids()}
        return {pid: size for pid, size in sizes.items() if size is not None}

    def _run(self):
        while not self._stop.wait(self.interval):
            for pid, size in self._sample().items():
                self.peak[pid] = max(self.peak.get(pid, 0), size)

    def result(self):
        """Return the largest growth of one worker over its RSS before, and the sizes."""
        growth = {pid: peak - self.before.get(pid, peak) for pid, peak in self.peak.items()}
        return {
            "growth_bytes": max(growth.values(), default=0),
            "peak_bytes": max(self.peak.values(), default=0),
            "rss_before_bytes": self.before,
            "rss_peak_bytes": self.peak,
            "workers_replaced": sorted(set(self.peak) - set(self.before)),
        }
