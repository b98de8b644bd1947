from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand

from events.public import docs

GUIDES = ("docs/researchers.md",)


class Command(BaseCommand):
    help = (
        "Rewrite the tables of an event's fields in the guides (docs/researchers.md) from the "
        "registry of public fields (events.public.fields). --check only says whether they "
        "differ."
    )

    def add_arguments(self, parser):
        parser.add_argument("--check", action="store_true", help="Change nothing; exit 1 if stale.")

    def handle(self, *args, check, **options):
        stale = []
        for name in GUIDES:
            path = Path(settings.BASE_DIR) / name
            text = path.read_text(encoding="utf-8")
            written = docs.rewrite(text)
            if written == text:
                continue
            stale.append(name)
            if not check:
                path.write_text(written, encoding="utf-8")
                self.stdout.write(f"Rewrote the field tables of {name}.")
        if check and stale:
            self.stderr.write(f"Stale field tables in {', '.join(stale)}: run document_fields.")
            raise SystemExit(1)
