from django.core.management.base import BaseCommand, CommandError
from django.db import connections
from tqdm import tqdm

from events.services.synthetic import GENERATED_NOTE, events_generate, generated_delete


class Command(BaseCommand):
    help = (
        "Fill the database with realistic synthetic events for benchmarks and load tests: "
        "reproducible from --seed, written in bulk, marked so that --delete removes exactly "
        f"them (events whose internal notes start with {GENERATED_NOTE}; actors, platforms, "
        "tags and sources whose slug or key starts with gen- and that are marked synthetic). "
        "Never run it on real data you publish: generated events are published like curated "
        "ones."
    )

    def add_arguments(self, parser):
        parser.add_argument("--count", type=int, default=0, help="Events to add.")
        parser.add_argument("--seed", type=int, default=0, help="Random seed (default 0).")
        parser.add_argument("--actors", type=int, default=2000)
        parser.add_argument("--platforms", type=int, default=300)
        parser.add_argument("--sources", type=int, default=50000)
        parser.add_argument(
            "--delete", action="store_true", help="Remove every generated row instead."
        )
        parser.add_argument("--database", default="default")

    def handle(self, *args, count, seed, delete, database, **options):
        if delete:
            removed = generated_delete(using=database)
            for table, rows in removed.items():
                self.stdout.write(f"{table}: {rows} removed")
            self._analyze(database)
            return
        if count < 1:
            raise CommandError("Give --count, the number of events to add (or --delete).")
        for name in ("actors", "platforms", "sources"):
            if options[name] < 1:
                raise CommandError(f"--{name} must be at least 1.")
        with tqdm(total=count, unit="event", unit_scale=True, desc="Generating") as bar:
            try:
                counts = events_generate(
                    count=count,
                    seed=seed,
                    actors=options["actors"],
                    platforms=options["platforms"],
                    sources=options["sources"],
                    progress=bar.update,
                    using=database,
                )
            except ValueError as error:
                raise CommandError(str(error)) from None
        for label, rows in counts.rows.items():
            self.stdout.write(f"{label}: {rows} added")
        self._analyze(database)

    def _analyze(self, database):
        """Give PostgreSQL's planner fresh statistics and a visibility map.

        A million new rows change its plans, and until a VACUUM marks the new pages all-visible
        an index-only scan (stats, counts) still reads every row from the table.
        """
        connection = connections[database]
        if connection.vendor == "postgresql":
            # VACUUM cannot run in a transaction (a caller's atomic block, a test).
            statement = "ANALYZE" if connection.in_atomic_block else "VACUUM ANALYZE"
            with connection.cursor() as cursor:
                cursor.execute(statement)
