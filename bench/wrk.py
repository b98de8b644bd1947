"""Throughput with wrk (Debian's package): requests per second and every kind of error."""

import re
import subprocess

UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}
PATTERNS = {
    "requests": re.compile(r"(\d+) requests in"),
    "rps": re.compile(r"Requests/sec:\s+([\d.]+)"),
    "non_2xx_3xx": re.compile(r"Non-2xx or 3xx responses:\s+(\d+)"),
    "socket_errors": re.compile(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)"
    ),
    "latency_percentiles": re.compile(r"^\s+(50|75|90|99)%\s+([\d.]+)(us|ms|s|m)\s*$", re.M),
}


def run(url, *, duration, connections=16, threads=2, timeout="10s"):
    """Run wrk against a URL; return requests/s, errors and latency percentiles."""
    command = [
        "wrk",
        f"-t{threads}",
        f"-c{connections}",
        f"-d{duration}s",
        "--timeout",
        timeout,
        "--latency",
        url,
    ]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise SystemExit(f"wrk failed: {result.stderr or result.stdout}")
    return parse(result.stdout) | {"command": " ".join(command)}


def parse(output):
    found = {"output": output}
    found["requests"] = int(_first(PATTERNS["requests"], output, 0))
    found["rps"] = float(_first(PATTERNS["rps"], output, 0))
    found["non_2xx_3xx"] = int(_first(PATTERNS["non_2xx_3xx"], output, 0))
    socket = PATTERNS["socket_errors"].search(output)
    found["socket_errors"] = (
        dict(zip(("connect", "read", "write", "timeout"), map(int, socket.groups()), strict=True))
        if socket
        else {"connect": 0, "read": 0, "write": 0, "timeout": 0}
    )
    found["errors"] = found["non_2xx_3xx"] + sum(found["socket_errors"].values())
    found["latency_ms"] = {
        f"p{percent}": round(float(value) * UNITS[unit], 2)
        for percent, value, unit in PATTERNS["latency_percentiles"].findall(output)
    }
    return found


def _first(pattern, text, default):
    match = pattern.search(text)
    return match.group(1) if match else default
