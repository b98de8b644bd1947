"""What the in-process benchmarks share (bench.suggestions, bench.words, bench.render): each
runs its measure(repeat) in a child process under the bench's production settings, on the
bench's PostgreSQL database (BENCH_DATABASE, or timeline_bench), and times calls with
timed."""

import argparse
import os
import statistics
import subprocess
import sys
import time

from bench.server import ROOT, production_env


def main(module, doc, measure):
    """The command line of a benchmark module: `python -m module [--repeat N]`."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=9)
    parser.add_argument("--measure", action="store_true", help="(in the child process)")
    options = parser.parse_args()
    if options.measure:
        measure(options.repeat)
        return
    database = os.environ.get("BENCH_DATABASE", "timeline_bench")
    url = f"postgres://postgres@127.0.0.1:5432/{database}"
    command = [sys.executable, "-m", module, "--measure", "--repeat", str(options.repeat)]
    sys.exit(subprocess.run(command, cwd=ROOT, env=production_env(url, 0, 1)).returncode)


def timed(repeat, function, *args):
    """Return the p50 and the fastest of repeat calls, in milliseconds."""
    took = []
    for _ in range(repeat):
        started = time.perf_counter()
        function(*args)
        took.append((time.perf_counter() - started) * 1000)
    return statistics.median(took), min(took)
