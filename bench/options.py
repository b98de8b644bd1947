"""What a run measures and how often, from the environment and the command line."""

import argparse
import os
from dataclasses import dataclass
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
SECTIONS = ("export", "list", "pages", "search", "stats", "throughput", "admin", "cached", "sqlite")


def env_int(name, default):
    raw = os.environ.get(name, "")
    if raw == "":
        return default
    try:
        return int(raw.replace("_", "").replace(",", ""))
    except ValueError:
        raise SystemExit(f"{name} must be a whole number, not {raw!r}.") from None


def env_flag(name):
    raw = os.environ.get(name, "").lower()
    if raw in ("", "0", "false", "no", "off"):
        return False
    if raw in ("1", "true", "yes", "on"):
        return True
    raise SystemExit(f"{name} must be 1 or 0, not {raw!r}.")


@dataclass
class Options:
    quick: bool
    profile: bool
    sections: tuple
    events: int
    sqlite_events: int
    seed: int
    pg_database: str
    sqlite_path: Path
    results_dir: Path
    data_dir: Path
    workers: int = 2
    page_size: int = 100
    deep_offset: int = 500_000
    throughput_page_size: int = 50
    reps: int = 30
    warmup: int = 3
    stats_reps: int = 20
    figure_seconds: int = 30  # past this, a latency figure stops at 10 samples
    admin_reps: int = 10
    admin_warmup: int = 2
    export_reps: int = 2
    wrk_seconds: int = 20
    wrk_warmup_seconds: int = 3
    prepare_only: bool = False

    @property
    def kind(self):
        """quick, partial (some sections only) or full: only a full run writes latest.md."""
        if self.quick:
            return "quick"
        return "full" if set(self.sections) == set(SECTIONS) else "partial"


def parse(argv=None):
    parser = argparse.ArgumentParser(
        prog="bin/bench",
        description="Benchmark the API, exports and admin against generated events. "
        "Environment: BENCH_EVENTS (1000000), BENCH_SQLITE_EVENTS (100000), BENCH_QUICK=1 "
        "(small smoke run), BENCH_PROFILE=1 (py-spy profiles of the workers), BENCH_SEED (1), "
        "BENCH_DATABASE (timeline_bench).",
    )
    parser.add_argument(
        "--only",
        default=",".join(SECTIONS),
        help=f"comma-separated sections to run, of: {', '.join(SECTIONS)} (default: all)",
    )
    parser.add_argument(
        "--prepare",
        action="store_true",
        help="only create, migrate, seed and generate the bench databases, then stop",
    )
    args = parser.parse_args(argv)
    sections = tuple(name.strip() for name in args.only.split(",") if name.strip())
    unknown = set(sections) - set(SECTIONS)
    if unknown:
        parser.error(f"unknown sections: {', '.join(sorted(unknown))}")
    options = from_env(sections)
    options.prepare_only = args.prepare
    return options


def from_env(sections=SECTIONS):
    quick = env_flag("BENCH_QUICK")
    data_dir = BENCH_DIR / "data"
    options = Options(
        quick=quick,
        profile=env_flag("BENCH_PROFILE"),
        sections=sections,
        events=env_int("BENCH_EVENTS", 20_000 if quick else 1_000_000),
        sqlite_events=env_int("BENCH_SQLITE_EVENTS", 5_000 if quick else 100_000),
        seed=env_int("BENCH_SEED", 1),
        # A quick run keeps its own small databases, so it never throws away the million.
        pg_database=os.environ.get("BENCH_DATABASE")
        or ("timeline_bench_quick" if quick else "timeline_bench"),
        sqlite_path=data_dir / ("bench-quick.sqlite3" if quick else "bench.sqlite3"),
        results_dir=BENCH_DIR / "results",
        data_dir=data_dir,
    )
    if quick:
        options.reps, options.warmup, options.stats_reps = 15, 2, 8
        options.admin_reps, options.admin_warmup, options.export_reps = 4, 1, 1
        options.wrk_seconds, options.wrk_warmup_seconds = 5, 1
    return options
