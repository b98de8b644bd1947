from django.core.management.base import BaseCommand, CommandError

from events.releases import ReleaseError
from events.services.releases import release_make


class Command(BaseCommand):
    help = (
        "Write the next numbered, dated data release of the public timeline: a Frictionless "
        "Data Package (datapackage.json and one CSV per table), CITATION.cff, a README, the "
        "events retracted since the previous release, and a zip of them all, into the releases "
        "storage (RELEASES_DIR, or RELEASES_STORAGE). Readers are never blocked; a release is "
        "never written over."
    )

    def handle(self, *args, **options):
        try:
            release = release_make(progress=self.stdout.write)
        except ReleaseError as error:
            raise CommandError(str(error)) from None
        self.stdout.write(f"{release.archive} ({release.size:,} bytes, sha256 {release.sha256})")
