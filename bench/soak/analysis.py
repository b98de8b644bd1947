"""Figures from what the readers, the prober, the workers and gunicorn's log recorded."""

import json
import re
from collections import Counter

from bench.server import ROOT
from bench.soak.readers import leaked

_ROOT = str(ROOT)

PHASES = ("before", "during", "after")
BUCKET = 0.1  # seconds: readers.lua counts answers by tenth of a second
# gunicorn's arbiter and workers, in its error log: how a worker came and went.
WORKER_LINES = {
    "booted": re.compile(r"Booting worker with pid: (\d+)"),
    "timed_out": re.compile(r"WORKER TIMEOUT \(pid:(\d+)\)"),
    "exited": re.compile(r"Worker \(pid:(\d+)\) exited with code"),
    "killed": re.compile(r"Worker \(pid:(\d+)\) was sent"),
    "recycled": re.compile(r"Autorestarting worker after current request"),
}


def status_class(status):
    if status == 503:
        return "503"
    if 200 <= status < 600:
        return f"{status // 100}xx" if status < 500 else "5xx other"
    return "other"


def phase_bounds(timeline):
    """Return each phase's (start, end): before the stop, down until ready, after it."""
    return {
        "before": (timeline["load_started"], timeline["db_stop_issued"]),
        "during": (timeline["db_stop_issued"], timeline["db_ready"]),
        "after": (timeline["db_ready"], timeline["load_ended"]),
    }


def phase_of(moment, bounds):
    for name in PHASES:
        start, end = bounds[name]
        if start <= moment < end:
            return name
    return None


def wrk_figures(result, timeline):
    """Requests by status class, overall and per phase, from readers.lua's counts per 0.1 s."""
    bounds = phase_bounds(timeline)
    totals = Counter()
    phases = {name: Counter() for name in PHASES}
    errors_after_ready, ok_after_ready = [], []
    for start, statuses in result["buckets"].items():
        phase = phase_of(start + BUCKET / 2, bounds)
        for status, count in statuses.items():
            totals[status_class(status)] += count
            if phase:
                phases[phase][status_class(status)] += count
            if status >= 400 and start + BUCKET > timeline["db_ready"]:
                errors_after_ready.append(start + BUCKET)
            if 200 <= status < 300 and start >= timeline["db_ready"]:
                ok_after_ready.append(start)
    per_phase = {}
    for name, counts in phases.items():
        start, end = bounds[name]
        served = sum(counts.values())
        per_phase[name] = {
            "seconds": round(end - start, 1),
            "responses": served,
            "rps": round(served / (end - start), 1) if end > start else None,
            "ok_rps": round(counts["2xx"] / (end - start), 1) if end > start else None,
            "by_class": dict(counts),
        }
    return {
        "per_second": _per_second(result["buckets"], timeline["load_started"]),
        "responses": sum(totals.values()),
        "requests_reported_by_wrk": result["requests"],
        "by_class": dict(totals),
        "by_status": _by_status(result["buckets"]),
        "socket_errors": result["socket_errors"],
        "latency_ms": result["latency_ms"],
        "phases": per_phase,
        # The end of the last tenth of a second that had an error, from the database being ready.
        "last_error_after_ready_s": (
            round(max(errors_after_ready) - timeline["db_ready"], 1) if errors_after_ready else None
        ),
        # The start of the first tenth of a second with a 2xx once the database was ready.
        "first_ok_after_ready_s": (
            round(min(ok_after_ready) - timeline["db_ready"], 1) if ok_after_ready else None
        ),
        "error_samples": result["error_samples"],
        "leaks": result["leaks"],
        "command": result["command"],
    }


def _per_second(buckets, start):
    """Return [second since the load started, 2xx answers, other answers] for each second."""
    seconds = {}
    for moment, statuses in buckets.items():
        row = seconds.setdefault(int(moment - start), [int(moment - start), 0, 0])
        for status, count in statuses.items():
            row[1 if 200 <= status < 300 else 2] += count
    return [seconds[second] for second in sorted(seconds)]


def _by_status(buckets):
    counts = Counter()
    for statuses in buckets.values():
        counts.update(statuses)
    return {str(status): counts[status] for status in sorted(counts)}


def prober_figures(records, timeline, kinds):
    """Per URL: when errors began, what they said, when the first 200 came back."""
    return {kind: _one_url([r for r in records if r["kind"] == kind], timeline) for kind in kinds}


def _one_url(records, timeline):
    stop, ready = timeline["db_stop_issued"], timeline["db_ready"]
    during = [r for r in records if stop <= r["t"] < ready]
    after = [r for r in records if r["t"] >= ready]
    first_error = next((r for r in records if r["t"] >= stop and r["status"] != 200), None)
    first_503 = next((r for r in records if r["t"] >= stop and r["status"] == 503), None)
    first_ok_after = next((r for r in after if r["status"] == 200), None)
    last_error_after = next((r for r in reversed(after) if r["status"] != 200), None)
    bodies = {}
    for record in records:
        if record["status"] != 200:
            key = (record["status"], record.get("content_type"), record.get("error"))
            bodies.setdefault(key, record)
    return {
        "path": records[0]["path"] if records else None,
        "probes": len(records),
        "statuses": dict(Counter(_label(r) for r in records)),
        "statuses_during_outage": dict(Counter(_label(r) for r in during)),
        "first_error_after_stop_s": _since(first_error, stop),
        "first_503_after_stop_s": _since(first_503, stop),
        "recovery_s": _since(first_ok_after, ready),
        "last_error_after_ready_s": _since(last_error_after, ready),
        "slowest_during_outage_s": max((r.get("seconds") or 0 for r in during), default=None),
        "answers": [
            {
                "status": record["status"],
                "content_type": record.get("content_type"),
                "retry_after": record.get("retry_after"),
                "error": record.get("error"),
                "body": record.get("body") or record.get("detail"),
                "valid": valid_error_body(record),
            }
            for record in bodies.values()
        ],
        "leaks": [r for r in records if r.get("leaks")],
    }


def _label(record):
    return str(record["status"]) if record["status"] is not None else record["error"]


def _since(record, moment):
    return round(record["t"] - moment, 2) if record is not None else None


def valid_error_body(record):
    """Return whether an error answer is the clear message the app owes: JSON or HTML, no trace."""
    if record["status"] != 503 or record.get("leaks"):
        return False
    content_type = record.get("content_type") or ""
    body = record.get("body") or ""
    if record["path"].startswith("/api/"):
        try:
            return "application/json" in content_type and bool(json.loads(body).get("detail"))
        except (ValueError, AttributeError):
            return False  # a cut snippet of a long JSON body is not expected here either
    return "text/html" in content_type and len(re.sub(r"<[^>]+>|\s+", "", body)) > 20


def memory_figures(before, after, samples, timeline):
    """RSS per worker before the load, at the stop, once the database was back, after, peak."""
    at_stop = _sample_at(samples, timeline["db_stop_issued"])
    at_ready = _sample_at(samples, timeline["db_ready"])
    workers = []
    for pid in sorted(set(before) | set(after)):
        workers.append(
            {
                "pid": pid,
                "before_bytes": before.get(pid),
                "at_stop_bytes": at_stop.get(pid),
                "at_ready_bytes": at_ready.get(pid),
                "after_bytes": after.get(pid),
                "peak_bytes": max((sizes.get(pid, 0) for _t, sizes in samples), default=None),
            }
        )
    return {
        "workers": workers,
        "pids_before": sorted(before),
        "pids_after": sorted(after),
        "unchanged": sorted(before) == sorted(after),
        "samples": [[round(t - timeline["load_started"], 1), sizes] for t, sizes in samples],
    }


def _sample_at(samples, moment):
    """Return the last sample taken before a moment (the first one if none was)."""
    earlier = [sizes for t, sizes in samples if t <= moment]
    return earlier[-1] if earlier else (samples[0][1] if samples else {})


def gunicorn_log_figures(text, worker_pids_before):
    """Workers booted, timed out, killed or recycled during the soak, and errors logged."""
    found = {name: pattern.findall(text) for name, pattern in WORKER_LINES.items()}
    return {
        "logged": logged_errors(text),
        "workers_booted": [int(pid) for pid in found["booted"]],
        "workers_timed_out": [int(pid) for pid in found["timed_out"]],
        "workers_exited": [int(pid) for pid in found["exited"]],
        "workers_killed": [int(pid) for pid in found["killed"]],
        "workers_recycled": len(found["recycled"]),
        "tracebacks_logged": text.count("Traceback (most recent call last)"),
        "worker_pids_before": worker_pids_before,
    }


# Django's log of a request that ended in a 5xx: "Internal Server Error: /path" (500) or
# "Service Unavailable: /path" (503), then the traceback. gunicorn's, of an exception that left
# the app (in a streamed body, say): "[time] [pid] [ERROR] Error handling request GET /path"
# when no header had gone out yet (gunicorn answers a bare 500 page itself), plain "Error
# handling request" when they had (gunicorn closes the connection: a 200 cut short).
LOGGED_REQUEST = re.compile(r"^(Internal Server Error|Service Unavailable): (\S+)$")
GUNICORN_ERROR = re.compile(r"^\[[^\]]+\] \[\d+\] \[ERROR\] Error handling request ?(.*)$")
EXCEPTION_LINE = re.compile(r"^[A-Za-z_][\w.]*(Error|Exception)\b.*$")
ACCESS_LINE = re.compile(r"^\d+\.\d+\.\d+\.\d+ - ")
END = "Service Unavailable: (end)"


def logged_errors(text):
    """Count the 500s and 503s logged, and keep the exceptions behind each 500."""
    counts = Counter()
    errors_500 = []
    current = None
    for line in [*text.splitlines(), END]:
        request = LOGGED_REQUEST.match(line)
        escaped = GUNICORN_ERROR.match(line)
        if request or escaped or ACCESS_LINE.match(line):
            if current is not None:
                errors_500.append(current)
                current = None
            if request and line != END:
                counts[request.group(1)] += 1
            if escaped and escaped.group(1):
                counts["gunicorn"] += 1
                current = {"by": "gunicorn", "path": escaped.group(1).split()[-1]}
            elif escaped:
                counts["cut"] += 1
                current = {"by": "gunicorn, after a 200 had started", "path": None}
            elif request and request.group(1) == "Internal Server Error":
                current = {"by": "django", "path": request.group(2)}
            if current is not None:
                current.update(exceptions=[], where=None)
        elif current is not None:
            if line.startswith(f'  File "{_ROOT}/') and "/.venv/" not in line:
                current["where"] = line.strip()
            if EXCEPTION_LINE.match(line) and line.strip() not in current["exceptions"]:
                current["exceptions"].append(line.strip())
    return {
        "500": counts["Internal Server Error"] + counts["gunicorn"],
        "500_from_gunicorn": counts["gunicorn"],
        "503": counts["Service Unavailable"],
        "streams_cut": counts["cut"],
        "500_exceptions": [error for error in errors_500 if error["path"]][:20],
        "cut_exceptions": [error for error in errors_500 if not error["path"]][:20],
    }


def leaks_in(prober, wrk):
    """Return how many answers carried a stack trace or a driver error, and one of them."""
    count = wrk["leaks"]["count"]
    sample = wrk["leaks"]["sample"]
    for url in prober.values():
        count += len(url["leaks"])
        if url["leaks"] and not sample:
            sample = url["leaks"][0].get("body", "")
    for item in wrk["error_samples"]:
        if leaked(item["body"]) and not sample:
            sample = item["body"]
    return {"count": count, "sample": sample[:600]}
