from django.conf import settings
from django.core.management.base import BaseCommand

from events.services import seed_load

FIXTURES = ("event_types.json", "seed_actors.json", "seed_timeline.json")


class Command(BaseCommand):
    help = (
        "Load the event-type taxonomy, the seed sources (seeds/) and the seed timeline "
        "(fixtures/). Adds only what is missing: safe to run again, never overwrites edits."
    )

    def handle(self, *args, **options):
        report = seed_load(
            seeds_dir=settings.BASE_DIR / "seeds",
            fixture_paths=[settings.BASE_DIR / "fixtures" / name for name in FIXTURES],
        )
        for line in report.lines():
            self.stdout.write(line)
