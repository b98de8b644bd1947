import sys

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from tqdm import tqdm

from events.services.backup import BackupError, backup_to_file, backup_write


class Command(BaseCommand):
    help = (
        "Write the whole database (events with their history, users, groups, the admin log) "
        "to one consistent, checksummed, gzipped file that `manage.py restore` loads into an "
        "empty database. The file holds password hashes and curators' private notes: keep it "
        "private."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "-o",
            "--output",
            help="File to write (default: timeline-backup-<UTC time>.jsonl.gz here); - for stdout.",
        )
        parser.add_argument("--database", default="default")

    def handle(self, *args, output, database, **options):
        output = output or f"timeline-backup-{timezone.now():%Y%m%d-%H%M%S}.jsonl.gz"
        to_stdout = output == "-"
        bar = tqdm(unit="row", unit_scale=True, desc="Backing up", disable=None, file=sys.stderr)
        write = dict(using=database, progress=bar.update, on_header=lambda h: _total(bar, h))
        try:
            with bar:
                if to_stdout:
                    summary = backup_write(stream=sys.stdout.buffer, **write)
                else:
                    summary = backup_to_file(path=output, **write)
        except BackupError as error:
            raise CommandError(str(error)) from None
        # With -o - stdout carries the backup itself: the report goes to stderr.
        report = self.stderr if to_stdout else self.stdout
        report.write(
            f"Backed up {summary.objects} rows of {len(summary.header['models'])} models "
            f"to {'stdout' if to_stdout else output} (sha256 {summary.sha256})."
        )


def _total(bar, header):
    bar.reset(total=sum(header["models"].values()))
