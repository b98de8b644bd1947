"""The published events' words keep each event's last day too (PostgreSQL), so that a search
narrowed to a range of days, overlapping it (the default) or within it, or to a country, is
counted from the words' index like a search alone: the date and country filters narrow its
rows as they narrow the events (models.PublishedWord, which Django reads but does not
manage). The table is built again, which takes about a minute at a million events.
"""

from django.db import migrations, models

from ._published_words import rebuilt

KEPT = ("date_earliest", "country", "is_global", "date_latest")
BEFORE = ("date_earliest", "country", "is_global")  # 0026's


class Migration(migrations.Migration):
    dependencies = [
        ("events", "0026_published_words"),
    ]

    operations = [
        rebuilt(KEPT, before=BEFORE),
        migrations.CreateModel(
            name="PublishedWord",
            fields=[
                (
                    "pk",
                    models.CompositePrimaryKey(
                        "word",
                        "event_id",
                        blank=True,
                        editable=False,
                        primary_key=True,
                        serialize=False,
                    ),
                ),
                ("word", models.TextField(db_collation="C")),
                ("event_id", models.BigIntegerField()),
                ("date_earliest", models.DateField()),
                ("date_latest", models.DateField(null=True)),
                ("country", models.CharField(max_length=2)),
                ("is_global", models.BooleanField()),
            ],
            options={"managed": False},
        ),
    ]
