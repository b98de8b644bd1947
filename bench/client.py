"""A keep-alive HTTP client that times whole responses, and the arithmetic of latencies."""

import http.client
import re
import statistics
import time
import urllib.parse

CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


class Client:
    """One persistent connection, as a researcher's script would hold it, plus a cookie jar."""

    def __init__(self, port, host="127.0.0.1", timeout=900):
        self.host, self.port, self.timeout = host, port, timeout
        self.cookies = {}
        self.connection = None

    def get(self, path, headers=None):
        """Return (status, headers, body) of a GET, reconnecting once if the server closed."""
        return self.request("GET", path, headers=headers)

    def request(self, method, path, body=None, headers=None):
        headers = {**self._cookie_header(), **(headers or {})}
        for attempt in (1, 2):
            try:
                connection = self._connection()
                connection.request(method, path, body=body, headers=headers)
                response = connection.getresponse()
                data = response.read()
                self._keep_cookies(response)
                return response.status, response.headers, data
            except (http.client.RemoteDisconnected, ConnectionError, http.client.BadStatusLine):
                self.close()
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def timed_get(self, path):
        """Return (seconds, status, body) of one GET, body read to the end."""
        started = time.perf_counter()
        status, _headers, body = self.get(path)
        return time.perf_counter() - started, status, body

    def download(self, path, file):
        """Stream a GET into a file; return (seconds, status, headers, bytes written)."""
        connection = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
        try:
            started = time.perf_counter()
            connection.request("GET", path, headers=self._cookie_header())
            response = connection.getresponse()
            written = 0
            while chunk := response.read(1 << 20):
                file.write(chunk)
                written += len(chunk)
            return time.perf_counter() - started, response.status, response.headers, written
        finally:
            connection.close()

    def login(self, username, password):
        """Log in to the admin the way a browser does; return True when it took."""
        self.get("/admin/login/")
        _status, _headers, page = self.get("/admin/login/")
        token = CSRF_INPUT.search(page.decode())
        form = urllib.parse.urlencode(
            {
                "username": username,
                "password": password,
                "csrfmiddlewaretoken": token.group(1) if token else "",
                "next": "/admin/",
            }
        )
        status, _headers, _body = self.request(
            "POST",
            "/admin/login/?next=/admin/",
            body=form,
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        return status == 302 and "sessionid" in self.cookies

    def close(self):
        if self.connection is not None:
            self.connection.close()
            self.connection = None

    def _connection(self):
        if self.connection is None:
            self.connection = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
        return self.connection

    def _cookie_header(self):
        if not self.cookies:
            return {}
        return {"Cookie": "; ".join(f"{name}={value}" for name, value in self.cookies.items())}

    def _keep_cookies(self, response):
        for header in response.headers.get_all("Set-Cookie") or ():
            name, _, rest = header.partition("=")
            self.cookies[name.strip()] = rest.split(";", 1)[0]


def repeat(client, path, *, reps, warmup):
    """GET a path warmup + reps times; return (the timed seconds, statuses, the last body)."""
    for _ in range(warmup):
        client.get(path)
    seconds, statuses, body = [], [], b""
    for _ in range(reps):
        elapsed, status, body = client.timed_get(path)
        seconds.append(elapsed)
        statuses.append(status)
    return seconds, statuses, body


def summary(seconds):
    """Return p50, p95, min, max and n of some durations, in milliseconds."""
    ms = sorted(value * 1000 for value in seconds)
    if not ms:
        return {"n": 0}
    p95 = statistics.quantiles(ms, n=20, method="inclusive")[-1] if len(ms) > 1 else ms[0]
    return {
        "p50_ms": round(statistics.median(ms), 2),
        "p95_ms": round(p95, 2),
        "min_ms": round(ms[0], 2),
        "max_ms": round(ms[-1], 2),
        "n": len(ms),
    }
