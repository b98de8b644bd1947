"""The results: a Markdown table on stdout and in latest.md, everything in JSON."""

import datetime
import json
import os
import platform
import subprocess
import sys

from bench.server import ROOT

HEADER = "| figure | ours | baseline | ratio | target | met |\n|---|---|---|---|---|---|"


def machine():
    """Return what the figures depend on besides the code: cores, memory, versions."""
    memory = None
    try:
        with open("/proc/meminfo") as file:
            memory = int(file.readline().split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return {
        "cpu_count": os.cpu_count(),
        "cpu_model": _cpu_model(),
        "memory_bytes": memory,
        "platform": platform.platform(),
        "python": sys.version.split()[0],
        "packages": _versions("django", "djangorestframework", "gunicorn", "psycopg2-binary"),
        "git_commit": _git("rev-parse", "HEAD"),
        "git_dirty": bool(_git("status", "--porcelain", "--untracked-files=no")),
    }


def _cpu_model():
    try:
        with open("/proc/cpuinfo") as file:
            for line in file:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


def _versions(*names):
    from importlib.metadata import PackageNotFoundError, version

    found = {}
    for name in names:
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            found[name] = None
    return found


def _git(*args):
    result = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=False)
    return result.stdout.strip() if result.returncode == 0 else None


def markdown(results):
    """Return the run as Markdown: one line of context, then the table."""
    info = results["machine"]
    databases = results["databases"]
    lines = [
        f"Benchmark ({results['kind']} run, {results['finished_at']}): "
        f"{info['cpu_count']} cores, PostgreSQL {databases.get('postgresql', {}).get('version')}, "
        f"{_events_line(databases)}; gunicorn {results['server']['workers']} workers "
        f"({results['server']['config']}). `make bench` to reproduce.",
        "",
        HEADER,
        *(figure.row() for figure in results["figures"]),
    ]
    met = [figure.met for figure in results["figures"] if figure.met is not None]
    lines += ["", f"Targets met: {sum(met)} of {len(met)}."]
    lines += [*_filters(databases), *_sql_share(results["figures"]), *_load(results)]
    return "\n".join(lines) + "\n"


def _filters(databases):
    cases = databases.get("postgresql", {}).get("list_cases", [])
    notes = [
        f"- {case['name']}: `{'&'.join(f'{k}={v}' for k, v in case['params'].items())}` "
        f"({case['count']:,} published events match)"
        for case in cases
        if case["params"]
    ]
    if not notes:
        return []
    return ["", "Filters (the most used values in the data; deep page: 5,000 pages in, or the "
            "last full page of a smaller set):", "", *notes]  # fmt: skip


def _load(results):
    load = results.get("load_average", {})
    if not load:
        return []
    return [
        "",
        f"Load average (1 min) at start {load['start']:.1f}, at end {load['end']:.1f}, on "
        f"{results['machine']['cpu_count']} cores: other work on the machine shows in the figures.",
    ]


def _sql_share(figures):
    """Return notes on how much of each request's time its SQL took, all queries together."""
    notes = [
        f"- {figure.label.rsplit(':', 1)[0]}: {figure.data['queries']} queries, "
        f"{figure.data['all_sql']['p50_ms']:,.1f} ms of SQL in {figure.data['http']['p50_ms']:,.1f}"
        " ms (p50)"
        for figure in figures
        if "all_sql" in figure.data
    ]
    if not notes:
        return []
    return ["", "Where the time goes: every query a request ran, replayed in bare SQL:", "", *notes]


def _events_line(databases):
    parts = []
    for name, info in databases.items():
        counts = info.get("counts", {})
        if counts:
            parts.append(f"{name}: {counts['events']:,} events ({counts['published']:,} published)")
    return "; ".join(parts)


def write(results, results_dir):
    """Write <UTC timestamp>.json, latest.json and latest.md.

    Quick and partial runs write *-quick.* and *-partial.* instead (git ignores them), so
    only a full run replaces the figures the README quotes.
    """
    results_dir.mkdir(parents=True, exist_ok=True)
    suffix = "" if results["kind"] == "full" else f"-{results['kind']}"
    stamp = results["started_at"].replace(":", "").replace("-", "")
    document = {**results, "figures": [figure.as_dict() for figure in results["figures"]]}
    text = json.dumps(document, indent=1, default=str)
    paths = [results_dir / f"{stamp}{suffix}.json", results_dir / f"latest{suffix}.json"]
    for path in paths:
        path.write_text(text)
    markdown_path = results_dir / f"latest{suffix}.md"
    markdown_path.write_text(markdown(results))
    return [*paths, markdown_path]


def utc_now():
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
