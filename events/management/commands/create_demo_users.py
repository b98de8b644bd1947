import secrets

from django.core.management.base import BaseCommand

from events.services import CURATOR_GROUP, EDITOR_GROUP, demo_user_create, groups_ensure

DEMO_USERS = (("demo-curator", CURATOR_GROUP), ("demo-editor", EDITOR_GROUP))


class Command(BaseCommand):
    help = (
        "Create or refresh the Curator and Editor groups, and create the demo curator and "
        "demo editor once, printing their random passwords."
    )

    def handle(self, *args, **options):
        groups_ensure()
        for username, group in DEMO_USERS:
            password = secrets.token_urlsafe(12)
            if demo_user_create(username=username, password=password, group=group):
                self.stdout.write(
                    self.style.SUCCESS(
                        f"Demo {group.lower()} created. User name: {username}  Password: {password}"
                    )
                )
            else:
                self.stdout.write(
                    f"Demo {group.lower()} '{username}' already exists; its password was printed "
                    f"when it was created. To set a new one: "
                    f"python manage.py changepassword {username}"
                )
