from django.core.management.base import BaseCommand, CommandError

from events.releases import ReleaseError
from events.services.releases import release_load, release_path_reader


class Command(BaseCommand):
    help = (
        "Load a data release (its folder, or its zip) into a database with no events: every "
        "event comes back published, with its ids, slugs, keys and times, and a release "
        "written from that database has the same tables."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", help="A release's folder (with datapackage.json) or .zip.")

    def handle(self, *args, path, **options):
        try:
            count = release_load(read=release_path_reader(path))
        except (ReleaseError, FileNotFoundError, KeyError) as error:
            raise CommandError(f"Cannot load {path}: {error}") from None
        self.stdout.write(f"Loaded {count} events.")
