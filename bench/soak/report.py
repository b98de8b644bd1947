"""The soak's verdict and report: Markdown on stdout and in soak-latest.md, everything in JSON."""

import json

from bench.figures import megabytes

CLASSES = ("2xx", "3xx", "4xx", "503", "5xx other")


def checks(results, options):
    """Return what `make soak` promises, each with whether it held and the figure behind it."""
    found = []

    def check(name, ok, detail):
        found.append({"name": name, "ok": bool(ok), "detail": detail})

    if "writes" not in results:
        check("the soak ran to the end", False, "it stopped before its figures were taken")
        return found
    writes = results["writes"].values()
    lost = sum(len(w["lost"]) for w in writes)
    acknowledged = sum(w["acknowledged"] for w in writes)
    check("no acknowledged write lost", lost == 0, f"{lost} lost of {acknowledged} acknowledged")
    twice = sum(len(w["stored_twice"]) for w in writes)
    check("no write stored twice", twice == 0, f"{twice} markers found more than once")
    prober = results["readers"]["prober"]
    wrk = results["readers"]["wrk"]
    limit = options.recovery_limit
    recoveries = {kind: url["recovery_s"] for kind, url in prober.items()}
    last_error = wrk["last_error_after_ready_s"]
    check(
        f"reads recover within {limit:g} s of the database, without a restart",
        all(value is not None and value <= limit for value in recoveries.values())
        and (last_error is None or last_error <= limit),
        ", ".join(f"{kind} first 200 after {_s(value)}" for kind, value in recoveries.items())
        + f"; last wrk error {_s(last_error)} after the database was ready",
    )
    answers = [answer for url in prober.values() for answer in url["answers"]]
    check(
        "the outage is answered 503 with a clear message (JSON for /api/, HTML for pages)",
        all("503" in url["statuses_during_outage"] for url in prober.values())
        and all(answer["status"] == 503 and answer["valid"] for answer in answers),
        "; ".join(
            f"{answer['status'] or answer['error']} {answer['content_type'] or ''}"
            f"{'' if answer['valid'] else ' (not a clear message)'}".strip()
            for answer in answers
        )
        or "no error answers seen",
    )
    leaks = results["leaks"]
    check(
        "no traceback or driver error in any answer",
        leaks["count"] == 0,
        f"{leaks['count']} answers",
    )
    other_5xx = wrk["by_class"].get("5xx other", 0) + sum(
        1 for answer in answers if (answer["status"] or 0) >= 500 and answer["status"] != 503
    )
    logged_500 = results["gunicorn_log"]["logged"]["500"]
    check(
        "no 5xx other than 503",
        other_5xx == 0 and logged_500 == 0,
        f"{wrk['by_class'].get('5xx other', 0)} to wrk; {logged_500} 500s in the server's log",
    )
    log = results["gunicorn_log"]
    crashed = log["workers_timed_out"] + log["workers_exited"] + log["workers_killed"]
    memory = results["memory"]
    recycling = options.max_requests != 0
    check(
        "no gunicorn worker restarted",
        not crashed and (memory["unchanged"] or recycling),
        f"pids {memory['pids_before']} before, {memory['pids_after']} after"
        + (f"; crashed or timed out: {crashed}" if crashed else "")
        + (f"; {log['workers_recycled']} recycled by max_requests" if recycling else ""),
    )
    recovered = {
        name: w["first_acknowledged_after_db_ready"] for name, w in results["writes"].items()
    }
    ready = results["timeline"]["db_ready"]
    check(
        "writers recover (a write acknowledged after the database is back)",
        all(value is not None for value in recovered.values()),
        ", ".join(
            f"{name} {_s(None if value is None else value - ready)}"
            for name, value in recovered.items()
        ),
    )
    return found


def _at_or_none(moment, start):
    return "not logged" if moment is None else f"{moment - start:.1f} s"


def _s(value):
    return "never" if value is None else f"{value:.1f} s"


def markdown(results):
    lines = [*_header(results), *_verdict(results), *_timeline(results), *_readers(results)]
    lines += [*_answers(results), *_writes(results), *_workers(results), *_footer(results)]
    return "\n".join(lines) + "\n"


def _header(results):
    info, db, server = results["machine"], results["database"], results["server"]["settings"]
    options = results["options"]
    think = f", {options['think_ms']} ms between requests" if options["think_ms"] != "0" else ""
    counts = db.get("counts", {})
    return [
        f"## Soak: reads, writes and a database restart ({results['kind']} run, "
        f"{results['finished_at']})",
        "",
        f"{info['cpu_count']} cores; PostgreSQL {db['version']} (a private cluster on port "
        f"{db['port']}, stopped with `pg_ctl stop -m {options['stop_mode']}`) holding "
        f"{counts.get('events', 0):,} events ({counts.get('published', 0):,} published); "
        f"gunicorn {server.get('workers')} workers x {server.get('threads')} threads "
        f"({server.get('worker_class')}, max_requests {server.get('max_requests')} for the soak); "
        f"wrk with {options['connections']} connections{think} over "
        f"{len(results['readers']['paths'])} public URLs (`bench/soak/readers.lua`); curators "
        "writing through events.services and through the admin. "
        "`make soak` to reproduce.",
        "",
    ]


def _verdict(results):
    lines = ["| check | held | figure |", "|---|---|---|"]
    for check in results["checks"]:
        lines.append(f"| {check['name']} | {'yes' if check['ok'] else '**no**'} | "
                     f"{_cell(check['detail'])} |")  # fmt: skip
    return [*lines, ""]


def _timeline(results):
    timeline = results["timeline"]
    start = timeline["load_started"]
    prober = results["readers"]["prober"]
    stop, ready = timeline["db_stop_issued"], timeline["db_ready"]

    def at(moment):
        return f"{moment - start:.1f} s"

    def probe(kind, key, base):
        value = prober[kind][key]
        return "never" if value is None else f"{base - start + value:.1f} s"

    rows = [
        ("load started", at(start)),
        ("database stop issued", at(stop)),
        ("database shut down (its log)", _at_or_none(timeline.get("db_shut_down_logged"), start)),
        ("pg_ctl stop returned", at(timeline["db_stopped"])),
        *(
            (f"first error answer, {kind} (`{url['path']}`)",
             probe(kind, "first_error_after_stop_s", stop))
            for kind, url in prober.items()
        ),
        *((f"first 503, {kind}", probe(kind, "first_503_after_stop_s", stop)) for kind in prober),
        ("database start issued", at(timeline["db_start_issued"])),
        ("database ready to accept connections (its log)", at(ready)),
        ("first connection of the soak's own", at(timeline["db_connected"])),
        *((f"first 200 after, {kind}", probe(kind, "recovery_s", ready)) for kind in prober),
        *((f"last error after, {kind}", probe(kind, "last_error_after_ready_s", ready))
          for kind in prober),
        ("load ended", at(timeline["load_ended"])),
    ]  # fmt: skip
    recovery = ", ".join(f"{kind} {_s(url['recovery_s'])}" for kind, url in prober.items())
    wrk = results["readers"]["wrk"]
    starting = (
        "starting (crash recovery)"
        if results["options"]["stop_mode"] == "immediate"
        else ("starting")
    )
    return [
        "| moment | since the load started |",
        "|---|---|",
        *(f"| {name} | {value} |" for name, value in rows),
        "",
        f"Outage window (stop issued to accepting connections): {ready - stop:.1f} s, of which "
        f"{timeline['db_start_issued'] - timeline['db_stopped']:.1f} s fully down and "
        f"{ready - timeline['db_start_issued']:.1f} s {starting}. Time to recover after the "
        f"database returned (first 200 to the prober): {recovery}; wrk's first 2xx "
        f"{_s(wrk['first_ok_after_ready_s'])} after it, its last error "
        f"{_s(wrk['last_error_after_ready_s'])} after it. A first 200 waits for one request's "
        "latency under this load, and for a connection to a server whose caches start cold.",
        "",
    ]


def _readers(results):
    wrk = results["readers"]["wrk"]
    prober = results["readers"]["prober"]
    header = "| phase | seconds | answers | per second | 2xx per second | " + " | ".join(CLASSES)
    lines = [
        f"Requests served: {wrk['responses']:,} to wrk and "
        f"{sum(url['probes'] for url in prober.values()):,} to the prober.",
        "",
        header + " |",
        "|---" * (4 + len(CLASSES)) + "|---|",
    ]
    for name, phase in wrk["phases"].items():
        counts = " | ".join(f"{phase['by_class'].get(cls, 0):,}" for cls in CLASSES)
        lines.append(f"| {name} | {phase['seconds']:.1f} | {phase['responses']:,} | "
                     f"{phase['rps']} | {phase['ok_rps']} | {counts} |")  # fmt: skip
    counts = " | ".join(f"{wrk['by_class'].get(cls, 0):,}" for cls in CLASSES)
    lines.append(f"| whole run | | {wrk['responses']:,} | | | {counts} |")
    socket = wrk["socket_errors"]
    latency = wrk["latency_ms"]
    lines += [
        "",
        f"Socket errors (wrk): connect {socket['connect']}, read {socket['read']}, write "
        f"{socket['write']}, timeout {socket['timeout']}. Status codes: "
        + ", ".join(f"{status}: {count:,}" for status, count in wrk["by_status"].items())
        + ". Latency over the whole run: "
        + ", ".join(f"{name} {value:,.0f} ms" for name, value in latency.items())
        + ".",
        "",
    ]
    for kind, url in prober.items():
        lines.append(
            f"Prober, {kind} `{url['path']}`: {url['probes']} probes, "
            + ", ".join(f"{label}: {count}" for label, count in url["statuses"].items())
            + f"; slowest answer while down {_s(url['slowest_during_outage_s'])}."
        )
    return [*lines, ""]


def _answers(results):
    lines = [
        "What readers were answered instead of a 200 (first of each kind):",
        "",
        "| seen by | status | content type | Retry-After | clear message | body (200 chars) |",
        "|---|---|---|---|---|---|",
    ]
    for kind, url in results["readers"]["prober"].items():
        for answer in url["answers"]:
            lines.append(
                f"| prober, {kind} | {answer['status'] or answer['error']} | "
                f"{answer['content_type'] or ''} | {answer['retry_after'] or ''} | "
                f"{'yes' if answer['valid'] else '**no**'} | {_cell(answer['body'], 200)} |"
            )
    for sample in results["readers"]["wrk"]["error_samples"]:
        lines.append(f"| wrk ({sample['count']:,} answers) | {sample['status']} | "
                     f"{sample['content_type']} | {sample['retry_after'] or ''} | | "
                     f"{_cell(sample['body'], 200)} |")  # fmt: skip
    leaks = results["leaks"]
    lines += ["", f"Answers with a traceback or a driver error in them: {leaks['count']}."]
    if leaks["sample"]:
        lines.append(f"The first: {_cell(leaks['sample'], 400)}")
    return [*lines, ""]


def _writes(results):
    lines = [
        "| writer | attempted | acknowledged | stored | lost | stored, not acknowledged | "
        "stored twice | failures by kind |",
        "|---|---|---|---|---|---|---|---|",
    ]
    totals = [0] * 6
    for name, w in results["writes"].items():
        row = [w["attempted"], w["acknowledged"], w["stored"], len(w["lost"]),
               len(w["stored_unacknowledged"]), len(w["stored_twice"])]  # fmt: skip
        totals = [a + b for a, b in zip(totals, row, strict=True)]
        errors = ", ".join(f"{kind} {count}" for kind, count in w["errors"].items()) or "none"
        lines.append(f"| {name} | " + " | ".join(map(str, row)) + f" | {_cell(errors)} |")
    lines.append("| all | " + " | ".join(map(str, totals)) + " | |")
    lines += [
        "",
        "A write is acknowledged when its transaction committed without an exception (services) "
        "or the admin said so (its redirect after saving; the page saying the event is now "
        "published); stored when its marker is in the database afterwards. Lost = acknowledged "
        "but not stored; stored but not acknowledged is legitimate (the commit happened, the "
        "answer did not reach the curator) and is listed here:",
        "",
    ]
    unacknowledged = [
        f"- {name}: `{item['marker']}` ({item['error']})"
        for name, w in results["writes"].items()
        for item in w["stored_unacknowledged"]
    ]
    lost = [f"- LOST {name}: `{marker}`" for name, w in results["writes"].items()
            for marker in w["lost"]]  # fmt: skip
    return [*lines, *(unacknowledged or ["- none"]), *lost, ""]


def _workers(results):
    memory = results["memory"]
    log = results["gunicorn_log"]
    lines = [
        "| worker pid | RSS before the load | at the stop | database back | after | peak |",
        "|---|---|---|---|---|---|",
    ]
    keys = ("before_bytes", "at_stop_bytes", "at_ready_bytes", "after_bytes", "peak_bytes")
    for worker in memory["workers"]:
        cells = [megabytes(worker[key]) if worker[key] else "gone" for key in keys]
        lines.append(f"| {worker['pid']} | " + " | ".join(cells) + " |")
    lines += [
        "",
        f"Worker pids before {memory['pids_before']}, after {memory['pids_after']} "
        f"({'unchanged' if memory['unchanged'] else 'CHANGED'}). gunicorn's log during the load: "
        f"{len(log['workers_booted'])} workers booted, {len(log['workers_timed_out'])} timed out, "
        f"{len(log['workers_exited'])} exited, {log['workers_recycled']} recycled by "
        f"max_requests. Logged: {log['logged']['503']:,} requests answered 503 and "
        f"{log['logged']['500']:,} answered 500 ({log['logged']['500_from_gunicorn']} of them "
        f"by gunicorn itself, the exception having left the app); {log['tracebacks_logged']:,} "
        "tracebacks, in the log only. Streamed answers cut short after their 200 had started "
        "(gunicorn closed the connection; wrk counts a read error): "
        f"{log['logged']['streams_cut']}.",
        "",
    ]
    for error in log["logged"]["cut_exceptions"]:
        lines.append(
            "- cut short: "
            + " then ".join(f"`{exception}`" for exception in error["exceptions"])
            + f", last in our code at `{error['where']}`"
        )
    for error in log["logged"]["500_exceptions"]:
        lines.append(
            f"- 500 ({error['by']}) on `{error['path']}`: "
            + " then ".join(f"`{exception}`" for exception in error["exceptions"])
            + f", last in our code at `{error['where']}`"
        )
    listed = log["logged"]["500_exceptions"] or log["logged"]["cut_exceptions"]
    return [*lines, ""] if listed else lines


def _footer(results):
    load = results["load_average"]
    return [
        f"Load average (1 min) at start {load['start']:.1f}, at end {load['end']:.1f}, on "
        f"{results['machine']['cpu_count']} cores: other work on the machine shows in the figures.",
    ]


def _cell(text, length=None):
    text = " ".join(str(text or "").split())
    if length and len(text) > length:
        text = text[: length - 1] + "…"
    return text.replace("|", "\\|")


def write(results, results_dir, raw_dir):
    """Write soak-latest.json and .md (a quick run: soak-latest-quick.*, which git ignores).

    Every probe and every write attempt, the evidence behind the figures, go to
    soak-latest-raw.json beside the logs in bench/data/ (git ignores it too).
    """
    results_dir.mkdir(parents=True, exist_ok=True)
    suffix = "" if results["kind"] == "full" else f"-{results['kind']}"
    raw = results.get("raw", {})
    summary = {key: value for key, value in results.items() if key != "raw"}
    paths = {
        results_dir / f"soak-latest{suffix}.json": json.dumps(summary, indent=1, default=str),
        results_dir / f"soak-latest{suffix}.md": markdown(results),
        raw_dir / f"soak-latest{suffix}-raw.json": json.dumps(raw, default=str),
    }
    for path, text in paths.items():
        path.write_text(text)
    return list(paths)
