import secrets

from django.core.management.base import BaseCommand

from events.services import curator_create

DEMO_USERNAME = "demo-curator"


class Command(BaseCommand):
    help = "Create the demo curator account once and print its user name and random password."

    def add_arguments(self, parser):
        parser.add_argument("--username", default=DEMO_USERNAME)

    def handle(self, *args, username, **options):
        password = secrets.token_urlsafe(12)
        created = curator_create(username=username, password=password)
        if created:
            self.stdout.write(
                self.style.SUCCESS(
                    f"Demo curator created. User name: {username}  Password: {password}"
                )
            )
        else:
            self.stdout.write(
                f"Demo curator '{username}' already exists; its password was printed when it "
                f"was created. To set a new one: python manage.py changepassword {username}"
            )
