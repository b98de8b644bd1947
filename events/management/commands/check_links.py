from django.core.management.base import BaseCommand

from events.services.link_checks import sources_check_links


class Command(BaseCommand):
    help = (
        "Fetch every source's URL (public addresses only; status and headers, never the body) "
        "and record what answered and when; dead links show in the admin's source list. "
        "Run it nightly: `manage.py rqcron events.cron` with a task queue, or cron."
    )

    def handle(self, *args, **options):
        outcomes = sources_check_links()
        self.stdout.write(
            f"Checked {outcomes.total()} links: {outcomes['alive']} alive, {outcomes['dead']} dead."
        )
