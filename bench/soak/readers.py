"""Readers: wrk at steady load over a mix of public URLs, and a prober that watches two of them.

wrk (Debian's package) runs bench/soak/readers.lua, which counts every answer by second and
status and keeps the first body of each error, so the phases before, during and after the
outage can be told apart afterwards. The prober asks one API URL and one page every 200 ms and
keeps what came back: when the 503s began, what they said, when the first 200 came back.
"""

import contextlib
import http.client
import subprocess
import threading
import time
from pathlib import Path

from bench import wrk
from bench.client import Client
from bench.server import rss_bytes

LUA_SCRIPT = Path(__file__).with_name("readers.lua")
LEAK_WORDS = ("Traceback", "OperationalError", "InterfaceError", "psycopg", 'File "/')
SNIPPET = 300


def leaked(body):
    """Return the words of a stack trace or a driver error found in a body, if any."""
    return [word for word in LEAK_WORDS if word in body]


class Wrk:
    """wrk in the background for a fixed time, with the Lua script that counts by second."""

    def __init__(self, *, base_url, paths, seconds, connections, threads, think_ms, timeout):
        self.command = [
            "wrk",
            f"-t{threads}",
            f"-c{connections}",
            f"-d{seconds}s",
            "--timeout",
            f"{timeout}s",
            "--latency",
            "--script",
            str(LUA_SCRIPT),
            base_url,
            "--",
            str(think_ms),
            *paths,
        ]
        self.process = None
        self.started_at = None

    def start(self):
        self.started_at = time.time()
        self.process = subprocess.Popen(
            self.command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        return self

    def result(self, timeout):
        """Wait for wrk to finish; return its summary, socket errors and per-second counts."""
        stdout, stderr = self.process.communicate(timeout=timeout)
        if self.process.returncode != 0:
            raise SystemExit(f"wrk failed: {stderr or stdout}")
        found = wrk.parse(stdout)
        found.update(parse_script_output(stdout))
        found["command"] = " ".join(self.command)
        found["started_at"] = self.started_at
        return found

    def stop(self):
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()


def parse_script_output(output):
    """Read the lines readers.lua prints in done(): answers per 0.1 s, error samples, leaks."""
    buckets, samples, leaks = {}, [], {"count": 0, "sample": ""}
    for line in output.splitlines():
        kind, _, rest = line.partition("\t")
        fields = rest.split("\t")
        if kind == "bucket":  # tenths of a second since the epoch, status, answers
            tenths, status, count = map(int, fields)
            buckets.setdefault(tenths / 10, {})[status] = count
        elif kind == "sample":  # status, content type, Retry-After, answers, first body
            status, content_type, retry_after, count, body = fields
            samples.append(
                {
                    "status": int(status),
                    "content_type": content_type,
                    "retry_after": retry_after or None,
                    "count": int(count),
                    "body": bytes.fromhex(body).decode("utf-8", "replace"),
                }
            )
        elif kind == "leaks":
            leaks = {"count": int(fields[0]), "sample": bytes.fromhex(fields[1]).decode()}
    return {"buckets": buckets, "error_samples": samples, "leaks": leaks}


class Prober(threading.Thread):
    """Ask each URL in turn every `interval` seconds; keep time, status, type and error body."""

    def __init__(self, *, port, urls, interval=0.2, timeout=10):
        super().__init__(daemon=True)
        self.port, self.urls, self.interval, self.timeout = port, urls, interval, timeout
        self.records = []
        self._stop_event = threading.Event()

    def run(self):
        clients = {kind: Client(self.port, timeout=self.timeout) for kind in self.urls}
        while not self._stop_event.is_set():
            started = time.monotonic()
            for kind, path in self.urls.items():
                self.records.append(self._ask(clients[kind], kind, path))
            self._stop_event.wait(max(0.0, self.interval - (time.monotonic() - started)))
        for client in clients.values():
            client.close()

    def stop(self):
        self._stop_event.set()
        self.join()

    def _ask(self, client, kind, path):
        # t: when the answer (or the failure) arrived, which is when a reader learns it.
        started = time.time()
        record = {"kind": kind, "path": path}
        try:
            status, headers, body = client.get(path)
        except (OSError, http.client.HTTPException) as error:
            client.close()
            return record | {
                "t": time.time(),
                "seconds": round(time.time() - started, 3),
                "status": None,
                "error": type(error).__name__,
                "detail": str(error),
            }
        record.update(
            t=time.time(),
            seconds=round(time.time() - started, 3),
            status=status,
            content_type=headers.get("Content-Type", ""),
            retry_after=headers.get("Retry-After"),
        )
        if status != 200:
            text = body.decode("utf-8", "replace")
            record.update(body=text[:SNIPPET], leaks=leaked(text))
        return record


class MemoryWatch(threading.Thread):
    """Read the RSS of every gunicorn worker once a second (bench.server's /proc readers)."""

    def __init__(self, server, interval=1.0):
        super().__init__(daemon=True)
        self.server, self.interval = server, interval
        self.samples = []  # (time, {pid: bytes})
        self._stop_event = threading.Event()

    def sample(self):
        sizes = {pid: rss_bytes(pid) for pid in self.server.worker_pids()}
        return {pid: size for pid, size in sizes.items() if size is not None}

    def run(self):
        while not self._stop_event.wait(self.interval):
            with contextlib.suppress(OSError):
                self.samples.append((time.time(), self.sample()))

    def stop(self):
        self._stop_event.set()
        self.join()
