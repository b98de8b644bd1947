"""How long each phase lasts, how hard the readers read, how the database is stopped."""

import argparse
from dataclasses import dataclass
from pathlib import Path

from bench.options import BENCH_DIR


@dataclass
class Options:
    quick: bool
    steady: int  # seconds of load before the database stops
    down: int  # seconds between the database stopping and being started again
    after: int  # seconds of load once it accepts connections again
    stop_mode: str
    connections: int
    threads: int
    think_ms: int
    events: int
    seed: int
    pg_port: int
    database: str
    workers: int
    max_requests: int | None
    writer_interval: float
    admin_interval: float
    probe_interval: float
    recovery_limit: float
    keep_cluster: bool
    results_dir: Path = BENCH_DIR / "results"
    data_dir: Path = BENCH_DIR / "data"

    @property
    def kind(self):
        return "quick" if self.quick else "full"


def parse(argv=None):
    parser = argparse.ArgumentParser(
        prog="bin/soak",
        description="Readers and curators' writes against the app under gunicorn on a private "
        "PostgreSQL with 100,000 events, which is stopped and started again halfway: requests "
        "served, errors by kind, writes acknowledged versus stored, time to recover.",
    )
    add = parser.add_argument
    add("--quick", action="store_true", help="a short run: 15 s, 5 s down, 15 s")
    add("--steady", type=int, help="seconds of load before the database stops (default 60)")
    add("--down", type=int, help="seconds the database stays down (default 10)")
    add("--after", type=int, help="seconds of load after it is back (default 60)")
    add(
        "--stop-mode",
        choices=("immediate", "fast"),
        default="immediate",
        help="pg_ctl stop mode: immediate is a crash (no checkpoint, recovery at start; the "
        "default), fast ends every session and checkpoints first",
    )
    add("--connections", type=int, default=8, help="wrk connections (default 8)")
    add("--threads", type=int, default=2, help="wrk threads (default 2)")
    add("--think-ms", type=int, default=0, help="pause of each wrk connection between requests")
    add("--events", type=int, default=100_000, help="generated events (default 100,000)")
    add("--seed", type=int, default=1, help="seed of generate_events (default 1)")
    add("--pg-port", type=int, default=5499, help="port of the private cluster (default 5499)")
    add("--database", default="timeline_soak", help="database name (default timeline_soak)")
    add("--workers", type=int, default=2, help="gunicorn workers (default 2)")
    add(
        "--max-requests",
        type=int,
        default=0,
        help="gunicorn's max_requests for the soak: 0 (default) turns the recycling of "
        "config/gunicorn.conf.py off, so a replaced worker means a crash and the workers' "
        "memory is followed from start to end; -1 keeps the config's value",
    )
    add("--writer-interval", type=float, default=0.5, help="seconds per service write")
    add("--admin-interval", type=float, default=1.0, help="seconds per admin write")
    add("--probe-interval", type=float, default=0.2, help="seconds between probes")
    add(
        "--recovery-limit",
        type=float,
        default=30,
        help="seconds after the database is back by which reads must succeed (default 30)",
    )
    add(
        "--keep-cluster",
        action="store_true",
        help="leave the private PostgreSQL running afterwards (it is stopped by default)",
    )
    args = parser.parse_args(argv)
    steady, down, after = (15, 5, 15) if args.quick else (60, 10, 60)
    return Options(
        quick=args.quick,
        steady=args.steady or steady,
        down=args.down or down,
        after=args.after or after,
        stop_mode=args.stop_mode,
        connections=args.connections,
        threads=args.threads,
        think_ms=args.think_ms,
        events=args.events,
        seed=args.seed,
        pg_port=args.pg_port,
        database=args.database,
        workers=args.workers,
        max_requests=None if args.max_requests < 0 else args.max_requests,
        writer_interval=args.writer_interval,
        admin_interval=args.admin_interval,
        probe_interval=args.probe_interval,
        recovery_limit=args.recovery_limit,
        keep_cluster=args.keep_cluster,
    )
