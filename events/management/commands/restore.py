import sys

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from events.services.backup import BackupError, backup_restore, backup_verify


class Command(BaseCommand):
    help = (
        "Load a file written by `manage.py backup` into an EMPTY database, all or nothing. "
        "A database with no tables is migrated first. Refuses a database that holds any data, "
        "and a file that is damaged, cut short, of an unknown format version or made at "
        "another migration state than this code's."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", help="The backup file (.jsonl.gz).")
        parser.add_argument(
            "--check",
            action="store_true",
            help="Only read the file through and check it; touch no database.",
        )
        parser.add_argument("--database", default="default")

    def handle(self, *args, path, database, check, **options):
        if check:
            return self._check(path)
        bar = tqdm(unit="row", unit_scale=True, desc="Restoring", disable=None, file=sys.stderr)
        try:
            with bar:
                counts = backup_restore(
                    path=path,
                    using=database,
                    progress=bar.update,
                    on_header=lambda header: bar.reset(total=sum(header["models"].values())),
                )
        except BackupError as error:
            raise CommandError(str(error)) from None
        for label, rows in counts.items():
            self.stdout.write(f"{label}: {rows} restored")
        self.stdout.write(
            self.style.SUCCESS(f"Restored {counts.total()} rows of {len(counts)} models.")
        )

    def _check(self, path):
        try:
            header = backup_verify(path)
        except BackupError as error:
            raise CommandError(str(error)) from None
        self.stdout.write(
            self.style.SUCCESS(
                f"{path} is whole and this code can restore it: "
                f"{sum(header['models'].values())} rows of {len(header['models'])} models, "
                f"written {header['created_at']} from {header['database_vendor']}."
            )
        )
